"""What every ticket service shares: who is acting, the errors, and recording a change.

A *change* to a ticket is recorded the same way whatever made it: the row's ``version``
goes up by one, a system entry (a ``Message`` of kind system) says who changed what from
what to what, a ``ticket.updated`` event and an audit entry are written, and the ticket
hooks (routing, SLA) run, all in the caller's transaction.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.audit.services import audit_record
from helpdesk.events.services import event_emit
from helpdesk.people.models import Team
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership, Tenant
from helpdesk.tenancy.roles import Cap, Role, Scope, role_has, scope_granted
from tickets.hooks import TicketChange, run_ticket_hooks
from tickets.models import Message, MessageKind, Ticket, Via

# Roles whose members can be assignees (light agents, reviewers and analysts cannot).
ASSIGNABLE_ROLES = (Role.OWNER, Role.ADMIN, Role.AGENT)
# Who counts as an agent writing: messages made through these count as agent replies.
AGENT_VIAS = (Via.CONSOLE, Via.API, Via.EMAIL)
# Machine-made changes: they never count as an agent's reply or first action.
MACHINE_VIAS = (Via.TRIGGER, Via.AUTOMATION, Via.SYSTEM)


class TicketClosed(ValidationError):
    """The ticket is closed: it is read-only (a customer message starts a follow-up instead)."""

    code = "ticket_closed"

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        super().__init__(_("Ticket #%(number)s is closed and cannot be changed.") % {"number": ticket.number},
                         code=self.code)


class StaleTicket(Exception):
    """The ticket changed since the client loaded it (``expected_version`` differs).

    Carries the current ticket and the messages that made it newer, so the client can show
    them before the agent sends again.
    """

    code = "stale_ticket"

    def __init__(self, *, ticket: Ticket, expected_version: int):
        self.ticket = ticket
        self.expected_version = expected_version
        super().__init__(f"ticket {ticket.pk} is at version {ticket.version}, not {expected_version}")

    @property
    def newer_messages(self):
        return (Message.objects.filter(ticket=self.ticket, ticket_version__gt=self.expected_version,
                                       side_conversation__isnull=True)
                .select_related("author_user", "author_contact").prefetch_related("attachments")
                .order_by("created_at", "id"))

    @property
    def message(self) -> str:
        return _("Ticket #%(number)s changed while you were working on it (version %(current)s, you had "
                 "%(expected)s). Review the changes and send again.") % {
            "number": self.ticket.number, "current": self.ticket.version, "expected": self.expected_version}


# --- actors ------------------------------------------------------------------------------

def is_user(actor: Any) -> bool:
    """A person (not an API key, not the system)."""
    return isinstance(actor, get_user_model()) and actor.pk is not None


def actor_role(*, tenant: Tenant, actor: Any) -> str | None:
    """The role of ``actor`` in ``tenant`` (one query, remembered on the actor object)."""
    if not is_user(actor):
        return None
    cache = actor.__dict__.setdefault("_helpdesk_roles", {})
    if tenant.pk not in cache:
        with tenant_scope(tenant):  # callers may check before entering the tenant's scope
            membership = Membership.objects.filter(tenant=tenant, user=actor, is_active=True).only("role").first()
        cache[tenant.pk] = membership.role if membership is not None else None
    return cache[tenant.pk]


def require_capability(*, tenant: Tenant, actor: Any, capability: str, via: str,
                       scope: str = Scope.TICKETS_WRITE) -> None:
    """People need the capability; API keys the scope; the system (no actor) may always act.

    Precondition: the API layer already checked the key's scope; this is the second wall
    for callers that are not the API (console, consumers, tasks).
    """
    if actor is None:
        if via in AGENT_VIAS:
            raise PermissionDenied(_("An agent or an API key must make this change."))
        return
    if isinstance(actor, ApiKeyUser):
        if actor.api_key.tenant_id != tenant.pk or not scope_granted(actor.api_key.scopes, scope):
            raise PermissionDenied(_("This API key may not make this change."))
        return
    if not role_has(actor_role(tenant=tenant, actor=actor), capability):
        raise PermissionDenied(_("You are not allowed to do this."))


def require_settings_manage(*, tenant: Tenant, actor: Any) -> None:
    """Tenant-wide settings: people need ``Cap.SETTINGS_MANAGE`` (owners, administrators),
    API keys the ``settings:write`` scope; the system (no actor, e.g. a new tenant's
    defaults) may always."""
    require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via=Via.SYSTEM,
                       scope=Scope.SETTINGS_WRITE)


def actor_label(actor: Any) -> str:
    if actor is None:
        return _("System")
    return str(actor)


def validate_assignee(*, tenant: Tenant, user: Any) -> Any:
    """``user`` if it is an active member of ``tenant`` in a role that can be assigned."""
    if user is None:
        return None
    ok = Membership.objects.filter(tenant=tenant, user=user, is_active=True, role__in=ASSIGNABLE_ROLES,
                                   user__is_active=True).exists()
    if not ok:
        raise ValidationError({"assignee": [_("The assignee must be an active agent, administrator or owner "
                                              "of this helpdesk.")]})
    return user


def validate_team(*, tenant: Tenant, team: Team | None) -> Team | None:
    if team is None:
        return None
    if team.tenant_id != tenant.pk or not Team.objects.filter(pk=team.pk).exists():
        raise ValidationError({"team": [_("Unknown team.")]})
    return team


# --- recording a change ------------------------------------------------------------------

def readable(value: Any) -> Any:
    """A JSON-friendly, human-readable value for a system entry."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [readable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): readable(v) for k, v in value.items()}
    if isinstance(value, Ticket):
        return f"#{value.number}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def system_message(*, ticket: Ticket, actor: Any, via: str, changes: Mapping[str, tuple[Any, Any]],
                   text: str = "") -> Message:
    """The system entry recording ``changes`` as ``{field: [before, after]}`` (readable values)."""
    return Message.objects.create(
        tenant_id=ticket.tenant_id, ticket=ticket, kind=MessageKind.SYSTEM,
        author_user=actor if is_user(actor) else None, via=via, channel=_system_channel(via),
        body_text=text, changes={name: [readable(b), readable(a)] for name, (b, a) in changes.items()},
        ticket_version=ticket.version,
    )


def _system_channel(via: str) -> str:
    from tickets.models import Channel

    return Channel.API if via == Via.API else Channel.CONSOLE


def raw_changes(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for event payloads (ids, codes; JSON-friendly)."""
    out: dict[str, list[Any]] = {}
    for name, (before, after) in changes.items():
        out[name] = [readable(before), readable(after)]
    return out


def ticket_payload(ticket: Ticket) -> dict:
    """What ``ticket.*`` events carry about the ticket (for webhooks, triggers and pushes)."""
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "channel": ticket.channel,
        "requester_id": ticket.requester_id,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "version": ticket.version,
    }


def emit_ticket_event(*, ticket: Ticket, type: str, actor: Any, via: str, payload: dict | None = None) -> None:
    event_emit(tenant=ticket.tenant, type=type, subject=ticket, actor=actor if is_user(actor) else None,
               payload={"ticket": ticket_payload(ticket), "via": via, **(payload or {})})


def record_change(*, ticket: Ticket, actor: Any, via: str, at: dt.datetime,
                  changes: Mapping[str, tuple[Any, Any]], readable_changes: Mapping[str, tuple[Any, Any]],
                  message: Message | None = None, text: str = "", audit_action: str = "ticket.updated",
                  audit_meta: Mapping[str, Any] | None = None, emit: bool = True) -> Message | None:
    """Write the system entry, the ``ticket.updated`` event and the audit entry, then run
    the hooks. Precondition: ``ticket`` is locked, saved, and its ``version`` already bumped.

    ``changes`` are raw (``assignee_id``: ids) for hooks and events; ``readable_changes``
    what people read in the conversation (names).
    """
    entry = None
    if readable_changes:
        entry = system_message(ticket=ticket, actor=actor, via=via, changes=readable_changes, text=text)
    if changes and emit:
        emit_ticket_event(ticket=ticket, type="ticket.updated", actor=actor, via=via,
                          payload={"changes": raw_changes(changes),
                                   "message_id": message.pk if message is not None else None})
        audit_record(tenant=ticket.tenant, action=audit_action, actor=actor, actor_label=actor_label(actor),
                     obj=ticket, before={k: readable(v[0]) for k, v in changes.items()},
                     after={k: readable(v[1]) for k, v in changes.items()}, **(audit_meta or {}))
    run_ticket_hooks(TicketChange(ticket=ticket, actor=actor, via=via, at=at, changes=dict(changes),
                                  message=message))
    return entry


def unique_list(values: Iterable[Any]) -> list[Any]:
    seen: set = set()
    out = []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
