"""The actions of triggers and automations: one format, one validator, one executor.

An action is ``{"field": <name>, "value": <value>}`` (the shape macros use):

- ticket fields: ``status`` (open, pending, on_hold, solved), ``priority``, ``type``,
  ``assignee_id`` (a member's user id, or null to unassign), ``team_id`` (or null),
  ``contact_reason_id`` (or null), ``custom_fields.<key>``;
- tags: ``add_tags`` / ``remove_tags`` with a list of tag names;
- ``notify``: ``{"to": "assignee" | "team" | "user", "user_id": <id, for "user">, "text": "..."}``,
  an in-console (and, by preference, email) notification to agents;
- ``email_requester``: ``{"subject": ..., "body": ...}``, each a string or
  ``{"en": ..., "tr": ...}`` (chosen by the ticket's language), with the macro
  placeholders (``{{ requester.first_name }}``, ``{{ ticket.number }}``...);
- ``webhook``: ``{"webhook_id": <id>}`` or ``{}``: emits a ``ticket.rule_webhook`` event that
  the tenant's webhooks subscribed to it receive, and, with ``webhook_id``, that webhook
  receives it whatever it subscribes to (signed, retried and logged like every delivery).

Field changes of one rule are applied in one ``ticket_update`` call with ``via`` trigger
or automation and no actor, so they leave one system entry, one event and one audit row.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.people.models import Team, TeamMember
from helpdesk.tenancy.models import Membership, Tenant
from tickets.conditions import CUSTOM_PREFIX
from tickets.models import ContactReason, Priority, Status, Ticket, TicketType, Via
from tickets.productivity.placeholders import (
    choose_language,
    placeholder_context,
    render_placeholders,
    unknown_placeholders,
)

logger = logging.getLogger(__name__)
EMAIL_REQUESTED_EVENT = "ticket.email_requested"

MAX_ACTIONS = 20
MAX_TAGS = 20
MAX_TAG_LENGTH = 80
MAX_NOTIFY_TEXT = 300
MAX_SUBJECT = 200
MAX_BODY = 10_000
# Rules may move a ticket to these; "new" never comes back and "closed" is the system's.
SETTABLE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)
FIELD_ACTIONS = ("status", "priority", "type", "assignee_id", "team_id", "contact_reason_id")
TAG_ACTIONS = ("add_tags", "remove_tags")
SIDE_ACTIONS = ("notify", "email_requester", "webhook")
NOTIFY_TARGETS = ("assignee", "team", "user")
WEBHOOK_EVENT = "ticket.rule_webhook"

ACTION_NAMES = (*FIELD_ACTIONS, *TAG_ACTIONS, *SIDE_ACTIONS)


# --- validation -------------------------------------------------------------------------


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _clean_text_or_translations(value: Any, *, label: str, max_length: int) -> str | dict[str, str]:
    if isinstance(value, str):
        texts = {"": value}
    elif isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in value.items()):
        if len(value) > 10 or any(len(k) > 10 for k in value):
            raise ValidationError(_("%(label)s: give at most 10 languages, by code (en, tr).") % {"label": label})
        texts = value
    else:
        raise ValidationError(_("%(label)s must be a text or an object of texts per language.") % {"label": label})
    for text in texts.values():
        if not text.strip():
            raise ValidationError(_("%(label)s may not be empty.") % {"label": label})
        if len(text) > max_length:
            raise ValidationError(_("%(label)s is longer than %(count)d characters.")
                                  % {"label": label, "count": max_length})
        unknown = unknown_placeholders(text)
        if unknown:
            raise ValidationError(_("%(label)s uses unknown placeholders: %(names)s.")
                                  % {"label": label, "names": ", ".join(unknown)})
    return value.strip() if isinstance(value, str) else {k: v.strip() for k, v in value.items()}


def _validate_one(item: Any) -> dict:
    if not isinstance(item, dict) or set(item) != {"field", "value"}:
        raise ValidationError(_('Each action is {"field": ..., "value": ...}.'))
    field, value = item["field"], item["value"]
    if not isinstance(field, str):
        raise ValidationError(_("The action field must be a name."))
    if field == "status":
        if value not in SETTABLE_STATUSES:
            raise ValidationError(_("status can be set to one of: %(values)s.")
                                  % {"values": ", ".join(SETTABLE_STATUSES)})
    elif field == "priority":
        if value not in Priority.values:
            raise ValidationError(_("priority must be one of: %(values)s.") % {"values": ", ".join(Priority.values)})
    elif field == "type":
        if value not in TicketType.values:
            raise ValidationError(_("type must be one of: %(values)s.") % {"values": ", ".join(TicketType.values)})
    elif field in ("assignee_id", "team_id", "contact_reason_id"):
        if value is not None and not _is_id(value):
            raise ValidationError(_("%(field)s must be an id or null.") % {"field": field})
    elif field.startswith(CUSTOM_PREFIX):
        key = field[len(CUSTOM_PREFIX):]
        if not key or len(key) > 64 or not all(c.islower() or c.isdigit() or c == "_" for c in key):
            raise ValidationError(_("Unknown field: %(field)s") % {"field": field})
        if isinstance(value, dict) or (isinstance(value, str) and len(value) > 1000) or \
                (isinstance(value, list) and (len(value) > 50 or not all(isinstance(v, str) for v in value))):
            raise ValidationError(_("Not a valid value for %(field)s.") % {"field": field})
    elif field in TAG_ACTIONS:
        if not isinstance(value, list) or not value or len(value) > MAX_TAGS or \
                not all(isinstance(v, str) and v.strip() and len(v.strip()) <= MAX_TAG_LENGTH for v in value):
            raise ValidationError(_("%(field)s needs a list of 1 to %(count)d tag names (up to %(length)d "
                                    "characters each).") % {"field": field, "count": MAX_TAGS,
                                                            "length": MAX_TAG_LENGTH})
        value = sorted({v.strip().lower() for v in value})
    elif field == "notify":
        value = _validate_notify(value)
    elif field == "email_requester":
        if not isinstance(value, dict) or set(value) != {"subject", "body"}:
            raise ValidationError(_('email_requester needs {"subject": ..., "body": ...}.'))
        value = {
            "subject": _clean_text_or_translations(value["subject"], label=_("The email subject"),
                                                   max_length=MAX_SUBJECT),
            "body": _clean_text_or_translations(value["body"], label=_("The email body"), max_length=MAX_BODY),
        }
    elif field == "webhook":
        if value is None:
            value = {}
        if not isinstance(value, dict) or set(value) - {"webhook_id"} or \
                ("webhook_id" in value and not _is_id(value["webhook_id"])):
            raise ValidationError(_('webhook takes {} or {"webhook_id": <id>}.'))
    else:
        raise ValidationError(_("Unknown action: %(field)s (use one of: %(names)s, custom_fields.<key>).")
                              % {"field": field, "names": ", ".join(ACTION_NAMES)})
    return {"field": field, "value": value}


def _validate_notify(value: Any) -> dict:
    if not isinstance(value, dict) or not {"to", "text"} <= set(value) or set(value) - {"to", "text", "user_id"}:
        raise ValidationError(_('notify needs {"to": "assignee" | "team" | "user", "text": ...} '
                                '(and "user_id" for "user").'))
    if value["to"] not in NOTIFY_TARGETS:
        raise ValidationError(_("notify can go to: %(values)s.") % {"values": ", ".join(NOTIFY_TARGETS)})
    if value["to"] == "user":
        if not _is_id(value.get("user_id")):
            raise ValidationError(_('notify to "user" needs a "user_id".'))
    elif "user_id" in value:
        raise ValidationError(_('"user_id" applies only to notify to "user".'))
    text = value["text"]
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTIFY_TEXT:
        raise ValidationError(_("The notification text must be 1 to %(count)d characters.")
                              % {"count": MAX_NOTIFY_TEXT})
    unknown = unknown_placeholders(text)
    if unknown:
        raise ValidationError(_("The notification text uses unknown placeholders: %(names)s.")
                              % {"names": ", ".join(unknown)})
    return {**value, "text": text.strip()}


def validate_actions(data: Any, *, tenant: Tenant | None = None) -> list[dict]:
    """Normalise a list of actions or raise ValidationError listing every problem.

    Shape only without ``tenant``; with it, ids must name the tenant's objects (active
    members for people), in one query per kind of object however many actions name them.
    """
    if not isinstance(data, list) or not data:
        raise ValidationError(_("Give at least one action."))
    if len(data) > MAX_ACTIONS:
        raise ValidationError(_("At most %(count)d actions.") % {"count": MAX_ACTIONS})
    result: list[dict] = []
    errors: list[str] = []
    for index, item in enumerate(data):
        try:
            result.append(_validate_one(item))
        except ValidationError as exc:
            errors.extend(f"actions[{index}]: {m}" for m in exc.messages)
    fields = [a["field"] for a in result if a["field"] not in ("notify", "email_requester", "webhook")]
    duplicates = sorted({f for f in fields if fields.count(f) > 1})
    if duplicates:
        errors.append(_("Set each field once per rule (repeated: %(fields)s).") % {"fields": ", ".join(duplicates)})
    if errors:
        raise ValidationError(errors)
    if tenant is not None:
        _check_references(tenant=tenant, actions=result)
    return result


def _check_references(*, tenant: Tenant, actions: list[dict]) -> None:
    from helpdesk.events.models import WebhookSubscription

    wanted: dict[str, set[int]] = {"user": set(), "team": set(), "reason": set(), "webhook": set()}
    for action in actions:
        field, value = action["field"], action["value"]
        if field == "assignee_id" and value is not None:
            wanted["user"].add(value)
        elif field == "team_id" and value is not None:
            wanted["team"].add(value)
        elif field == "contact_reason_id" and value is not None:
            wanted["reason"].add(value)
        elif field == "notify" and value["to"] == "user":
            wanted["user"].add(value["user_id"])
        elif field == "webhook" and "webhook_id" in value:
            wanted["webhook"].add(value["webhook_id"])
    found = {
        "user": set(Membership.objects.filter(tenant=tenant, is_active=True, user_id__in=wanted["user"])
                    .values_list("user_id", flat=True)) if wanted["user"] else set(),
        "team": set(Team.objects.filter(tenant=tenant, pk__in=wanted["team"]).values_list("pk", flat=True))
        if wanted["team"] else set(),
        "reason": set(ContactReason.objects.filter(tenant=tenant, pk__in=wanted["reason"])
                      .values_list("pk", flat=True)) if wanted["reason"] else set(),
        "webhook": set(WebhookSubscription.objects.filter(tenant=tenant, pk__in=wanted["webhook"])
                       .values_list("pk", flat=True)) if wanted["webhook"] else set(),
    }
    labels = {"user": _("No such person in this helpdesk: %(ids)s."), "team": _("No such team: %(ids)s."),
              "reason": _("No such contact reason: %(ids)s."), "webhook": _("No such webhook: %(ids)s.")}
    errors = [labels[kind] % {"ids": ", ".join(str(i) for i in sorted(wanted[kind] - found[kind]))}
              for kind in wanted if wanted[kind] - found[kind]]
    if errors:
        raise ValidationError(errors)


# --- execution ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRef:
    """Which rule is acting: carried on notifications, webhook payloads and logs."""

    kind: str  # "trigger" | "automation"
    id: int
    name: str
    event_id: int | None = None  # the event that started it (triggers)

    @property
    def via(self) -> str:
        return Via.TRIGGER if self.kind == "trigger" else Via.AUTOMATION


# The ticket fields a rule's change is measured on (for trigger conditions "changed.<field>").
SNAPSHOT_FIELDS = ("status", "priority", "type", "assignee_id", "team_id", "subject", "contact_reason_id")


def ticket_snapshot(ticket: Ticket, *, tags: Iterable[str]) -> dict[str, Any]:
    snapshot = {name: getattr(ticket, name) for name in SNAPSHOT_FIELDS}
    snapshot["tags"] = sorted(tags)
    return snapshot


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


def ticket_tag_names(ticket: Ticket) -> list[str]:
    return sorted(ticket.ticket_tags.values_list("tag__name", flat=True))


def _update_kwargs(*, tenant: Tenant, actions: list[dict], rule: RuleRef) -> dict[str, Any]:
    """``ticket_update`` keyword arguments for the field and tag actions (objects looked up
    in the tenant; one that has gone since the rule was saved is skipped and logged)."""
    from django.contrib.auth import get_user_model

    kwargs: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for action in actions:
        field, value = action["field"], action["value"]
        if field in ("status", "priority", "type"):
            kwargs[field] = value
        elif field == "assignee_id":
            if value is None:
                kwargs["assignee"] = None
            elif Membership.objects.filter(tenant=tenant, user_id=value, is_active=True).exists():
                kwargs["assignee"] = get_user_model().objects.get(pk=value)
            else:
                logger.warning("%s %s: assignee %s is no longer a member; skipped", rule.kind, rule.id, value)
        elif field == "team_id":
            team = None if value is None else Team.objects.filter(tenant=tenant, pk=value).first()
            if value is not None and team is None:
                logger.warning("%s %s: team %s is gone; skipped", rule.kind, rule.id, value)
            else:
                kwargs["team"] = team
        elif field == "contact_reason_id":
            reason = None if value is None else ContactReason.objects.filter(tenant=tenant, pk=value).first()
            if value is not None and reason is None:
                logger.warning("%s %s: contact reason %s is gone; skipped", rule.kind, rule.id, value)
            else:
                kwargs["contact_reason"] = reason
        elif field.startswith(CUSTOM_PREFIX):
            custom[field[len(CUSTOM_PREFIX):]] = value
        elif field in TAG_ACTIONS:
            kwargs[field] = list(value)
    if custom:
        kwargs["custom_fields"] = custom
    return kwargs


def actions_apply(*, ticket: Ticket, actions: list[dict], rule: RuleRef
                  ) -> tuple[Ticket, dict[str, tuple[Any, Any]]]:
    """Apply a rule's actions to ``ticket``; return the ticket as it is now and what changed
    ``{field: (before, after)}``.

    Precondition: in the ticket's tenant scope. Field and tag actions go through
    ``ticket_update`` (one system entry, event and audit row, via trigger/automation, no
    actor); when the tickets services refuse them (a custom-field value the field no longer
    accepts, a transition the lifecycle forbids) the refusal is logged and the side
    actions still run. Side actions (notifications, email, webhook) happen after that,
    on the updated ticket.
    """
    from tickets.services.tickets import ticket_update

    tenant = ticket.tenant
    changes: dict[str, tuple[Any, Any]] = {}
    kwargs = _update_kwargs(tenant=tenant, actions=actions, rule=rule)
    if kwargs:
        before = ticket_snapshot(ticket, tags=ticket_tag_names(ticket))
        try:
            with transaction.atomic():
                ticket = ticket_update(ticket=ticket, actor=None, via=rule.via, **kwargs)
        except ValidationError as exc:
            logger.warning("%s %s (%s) could not change ticket %s: %s", rule.kind, rule.id, rule.name,
                           ticket.pk, "; ".join(exc.messages))
            ticket.refresh_from_db()
        else:
            changes = snapshot_changes(before, ticket_snapshot(ticket, tags=ticket_tag_names(ticket)))
    for action in actions:
        field, value = action["field"], action["value"]
        if field == "notify":
            _notify(ticket=ticket, value=value, rule=rule)
        elif field == "email_requester":
            _email_requester(ticket=ticket, value=value, rule=rule)
        elif field == "webhook":
            _webhook(ticket=ticket, value=value, rule=rule, changes=changes)
    return ticket, changes


def _notify(*, ticket: Ticket, value: dict, rule: RuleRef) -> None:
    from django.contrib.auth import get_user_model

    from tickets.automation.notifications import notify
    from tickets.models import NotificationKind

    if value["to"] == "assignee":
        user_ids = [ticket.assignee_id] if ticket.assignee_id else []
    elif value["to"] == "team":
        user_ids = list(TeamMember.objects.filter(team_id=ticket.team_id).values_list("user_id", flat=True)) \
            if ticket.team_id else []
    else:
        user_ids = [value["user_id"]]
    if not user_ids:
        return
    text = render_placeholders(value["text"], placeholder_context(ticket=ticket, tenant=ticket.tenant))
    for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
        notify(tenant=ticket.tenant, user=user, kind=NotificationKind.RULE, ticket=ticket, text=text)


def _pick(text: str | dict[str, str], language: str, fallback: str) -> str:
    if isinstance(text, str):
        return text
    code = choose_language(text, [language, fallback])
    return text[code] if code else ""


def _email_requester(*, ticket: Ticket, value: dict, rule: RuleRef) -> None:
    """Ask for an email to the requester's primary address: the event
    ``ticket.email_requested`` carries the rendered subject and body, and the email
    channel's consumer queues it in its outbox after commit (threaded into the ticket, so
    the customer's answer lands on it; marked auto-generated)."""
    from helpdesk.events.services import event_emit

    address = _requester_email(ticket)
    if not address:
        logger.info("%s %s: requester of ticket %s has no email address; nothing sent", rule.kind, rule.id,
                    ticket.pk)
        return
    context = placeholder_context(ticket=ticket, tenant=ticket.tenant)
    language = ticket.language or ticket.tenant.default_locale
    subject = render_placeholders(_pick(value["subject"], language, ticket.tenant.default_locale), context)
    body = render_placeholders(_pick(value["body"], language, ticket.tenant.default_locale), context)
    subject = " ".join(subject.split())[:MAX_SUBJECT]  # no header injection through new lines
    event_emit(tenant=ticket.tenant, type=EMAIL_REQUESTED_EVENT, subject=ticket, payload={
        "ticket": {"id": ticket.pk, "number": ticket.number}, "to": address, "subject": subject, "body": body,
        "language": language, "rule": {"kind": rule.kind, "id": rule.id, "name": rule.name}})


def _requester_email(ticket: Ticket) -> str:
    from helpdesk.people.models import ContactIdentity, IdentityKind

    identity = (ContactIdentity.objects.filter(contact_id=ticket.requester_id, kind=IdentityKind.EMAIL)
                .order_by("-is_primary", "pk").first())
    return identity.value if identity else ""


def _webhook(*, ticket: Ticket, value: dict, rule: RuleRef, changes: dict) -> None:
    from helpdesk.events.models import WebhookSubscription
    from helpdesk.events.services import event_emit, webhook_deliver_event

    payload = {
        "rule": {"kind": rule.kind, "id": rule.id, "name": rule.name},
        "ticket": {"id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
                   "priority": ticket.priority, "assignee_id": ticket.assignee_id, "team_id": ticket.team_id},
        "changes": {name: list(pair) for name, pair in changes.items()},
        "cause_event_id": rule.event_id,
    }
    event = event_emit(tenant=ticket.tenant, type=WEBHOOK_EVENT, subject=ticket, payload=payload)
    webhook_id = value.get("webhook_id")
    if webhook_id:
        subscription = WebhookSubscription.objects.filter(pk=webhook_id, is_active=True).first()
        if subscription is None:
            logger.warning("%s %s: webhook %s is gone or inactive; only subscribers get the event", rule.kind,
                           rule.id, webhook_id)
            return
        # Targeted like a ping: the unique (subscription, event) delivery row makes this and
        # the fan-out consumer one delivery when the webhook also subscribes to the type.
        webhook_deliver_event(subscription=subscription, event=event)
