"""Macros: services (create/update/delete/apply) and selectors.

A macro is a list of field changes (``tickets.productivity.actions``) plus a reply text
per language (``{"en": ..., "tr": ...}``) with ``{{ placeholders }}``
(``tickets.productivity.placeholders``). Applying one makes every field change in a
single ``ticket_update`` and renders the reply in the ticket's language; the console puts
the text into the reply box, the API returns it or (``send=True``) posts it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.models import Tenant
from tickets.models import Macro, Message, Ticket
from tickets.productivity import access
from tickets.productivity.actions import actions_to_fields, clean_actions
from tickets.productivity.placeholders import (
    MAX_REPLY_LENGTH,
    PLACEHOLDERS,
    choose_language,
    language_codes,
    placeholder_context,
    render_placeholders,
    unknown_placeholders,
)
from tickets.productivity.views import check_storable, clean_is_active, clean_position


# --- validation -------------------------------------------------------------------------


def clean_reply(value: Any) -> dict[str, str]:
    """``{"en": text, "tr": text}``: known languages, strings, allowlisted placeholders only.
    Empty texts are dropped."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"reply": [_('The reply is an object of texts by language, e.g. {"en": "…"}.')]})
    codes = language_codes()
    result: dict[str, str] = {}
    for code, text in value.items():
        if code not in codes:
            raise ValidationError({"reply": [_("Unknown language \"%(code)s\". Allowed: %(allowed)s.")
                                             % {"code": code, "allowed": ", ".join(codes)}]})
        if text is None:
            continue
        if not isinstance(text, str) or len(text) > MAX_REPLY_LENGTH:
            raise ValidationError({"reply": [_("%(code)s: a text of at most %(n)d characters.")
                                             % {"code": code, "n": MAX_REPLY_LENGTH}]})
        check_storable(text, field="reply")
        unknown = unknown_placeholders(text)
        if unknown:
            raise ValidationError({"reply": [
                _("%(code)s: unknown placeholders %(unknown)s. Allowed: %(allowed)s.") % {
                    "code": code,
                    "unknown": ", ".join("{{ %s }}" % name for name in unknown),
                    "allowed": ", ".join("{{ %s }}" % name for name in PLACEHOLDERS),
                }]})
        if text.strip():
            result[code] = text
    return result


def clean_macro_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    check_storable(name, field="name")
    if not name:
        raise ValidationError({"name": [_("Give the macro a name.")]})
    if len(name) > 120:
        raise ValidationError({"name": [_("At most 120 characters.")]})
    return name


def clean_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 250:
        raise ValidationError({"description": [_("At most 250 characters.")]})
    check_storable(value, field="description")
    return value.strip()


def clean_reply_public(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"reply_public": [_("Must be true or false.")]})
    return value


# --- services ---------------------------------------------------------------------------


def _snapshot(macro: Macro) -> dict:
    return {"name": macro.name, "owner_id": macro.owner_id, "actions": macro.actions, "reply": macro.reply,
            "reply_public": macro.reply_public, "position": macro.position, "is_active": macro.is_active}


@transaction.atomic
def macro_create(
    *,
    tenant: Tenant,
    actor: Any,
    name: str,
    description: str = "",
    actions: Any = None,
    reply: Any = None,
    reply_public: bool = True,
    personal: bool = True,
    position: int = 0,
    is_active: bool = True,
) -> Macro:
    """Create a personal macro of ``actor`` or (``personal=False``) a shared one.

    Raises ValidationError (field -> messages) or PermissionDenied (shared, not an admin).
    """
    owner = access.person(actor) if personal else None
    if personal and owner is None:
        raise ValidationError({"personal": [_("Only a person can own a personal macro; create a shared one.")]})
    access.check_can_change(tenant=tenant, actor=actor, owner_id=owner.pk if owner else None)
    macro = Macro(
        tenant=tenant, owner=owner, name=clean_macro_name(name), description=clean_description(description),
        actions=clean_actions(actions, tenant=tenant), reply=clean_reply(reply),
        reply_public=clean_reply_public(reply_public), position=clean_position(position),
        is_active=clean_is_active(is_active),
    )
    macro.save()
    audit_record(tenant=tenant, action="macro.created", actor=actor, obj=macro, after=_snapshot(macro))
    return macro


@transaction.atomic
def macro_update(*, macro: Macro, actor: Any, **changes: Any) -> Macro:
    """Change ``name``, ``description``, ``actions``, ``reply``, ``reply_public``,
    ``position`` or ``is_active``."""
    tenant = macro.tenant
    cleaners = {
        "name": clean_macro_name, "description": clean_description,
        "actions": lambda v: clean_actions(v, tenant=tenant), "reply": clean_reply,
        "reply_public": clean_reply_public, "position": clean_position, "is_active": clean_is_active,
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise TypeError(f"macro_update() got unexpected fields: {', '.join(sorted(unknown))}")
    access.check_can_change(tenant=tenant, actor=actor, owner_id=macro.owner_id)
    before = _snapshot(macro)
    for field, value in changes.items():
        setattr(macro, field, cleaners[field](value))
    macro.save()
    audit_record(tenant=tenant, action="macro.updated", actor=actor, obj=macro, before=before,
                 after=_snapshot(macro))
    return macro


@transaction.atomic
def macro_delete(*, macro: Macro, actor: Any) -> None:
    tenant = macro.tenant
    access.check_can_change(tenant=tenant, actor=actor, owner_id=macro.owner_id)
    audit_record(tenant=tenant, action="macro.deleted", actor=actor, obj=macro, before=_snapshot(macro))
    macro.delete()


@dataclass(frozen=True)
class RenderedReply:
    text: str
    language: str
    public: bool


def macro_render_reply(*, macro: Macro, ticket: Ticket, agent: Any = None) -> RenderedReply | None:
    """The macro's reply for ``ticket``: in the ticket's language, else the tenant's
    default, else any language the macro has; placeholders filled. None without a reply."""
    tenant = ticket.tenant
    language = choose_language(macro.reply or {}, [ticket.language, tenant.default_locale])
    if language is None:
        return None
    values = placeholder_context(ticket=ticket, agent=access.person(agent), tenant=tenant)
    return RenderedReply(text=render_placeholders(macro.reply[language], values), language=language,
                         public=macro.reply_public)


@dataclass
class MacroApplied:
    ticket: Ticket
    reply: RenderedReply | None
    message: Message | None = None
    changed: bool = False  # whether the field changes changed the ticket (not the reply)


@transaction.atomic
def macro_apply(
    *,
    ticket: Ticket,
    macro: Macro,
    actor: Any,
    via: str,
    send: bool = False,
    expected_version: int | None = None,
) -> MacroApplied:
    """Apply ``macro`` to ``ticket`` as ``actor``: all its field changes in one
    ``ticket_update`` (one change: one system entry, one event), the reply rendered for
    the ticket, and its usage counted. With ``send`` the reply is also posted
    (``message_add``, public or note as the macro says) in the same transaction.

    Preconditions: ``macro`` and ``ticket`` belong to the tenant in context. Raises
    PermissionDenied for someone else's personal macro, ValidationError for an inactive
    macro or a change the ticket refuses, and ``StaleTicket`` when ``expected_version``
    is given and the ticket changed meanwhile.
    """
    from tickets.services.messages import message_add
    from tickets.services.tickets import check_version, lock_ticket, ticket_update

    if macro.tenant_id != ticket.tenant_id:
        raise ValidationError({"macro_id": [_("No such macro.")]})
    access.check_can_use(actor=actor, owner_id=macro.owner_id)
    if not macro.is_active:
        raise ValidationError({"macro_id": [_("This macro is switched off.")]})
    tenant = ticket.tenant
    fields = actions_to_fields(clean_actions(macro.actions, tenant=tenant), tenant=tenant, actor=actor)
    # The placeholders read nothing a macro can change (requester, number, subject, people).
    reply = macro_render_reply(macro=macro, ticket=ticket, agent=actor)
    sending = send and reply is not None
    version_before = ticket.version
    if fields:
        ticket = ticket_update(ticket=ticket, actor=actor, via=via, expected_version=expected_version, **fields)
        expected_version = None  # checked once, by the update above
    elif expected_version is not None and not sending:
        check_version(lock_ticket(ticket), expected_version)  # nothing else would check it
    changed = ticket.version != version_before
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1)
    message = None
    if sending:
        message = message_add(ticket=ticket, actor=actor, via=via, body=reply.text, public=reply.public,
                              expected_version=expected_version)
    return MacroApplied(ticket=ticket, reply=reply, message=message, changed=changed)


# --- selectors --------------------------------------------------------------------------


def macro_list(*, user: Any, include_inactive: bool = False) -> QuerySet[Macro]:
    """The macros ``user`` may use (shared and their own), in menu order. Tenant from context."""
    queryset = Macro.objects.filter(access.visible_q(user))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("position", "name", "id")
