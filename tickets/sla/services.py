"""SLA writes: apply a ticket change to its timers (the ticket hook), and registration.

The hook runs inside the ticket service's transaction after every change (``tickets.hooks``,
order 50, after routing): it matches the policy (position order, first active match wins,
at most one), turns the change into an ``engine.Step``, lets the pure engine advance the
stored timers, writes back only what changed and keeps the ticket's stored SLA columns
(``sla_policy``, ``sla_next_due_at``, ``sla_breached``) current.

Locking: the ticket row is locked by the ticket service; the timers are read ``FOR UPDATE``
so a sweep flagging one of them finishes first (the sweep never waits for a ticket: it
skips locked ones), and each warning or breach is flagged exactly once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from django.db import transaction
from django.utils import timezone

from helpdesk.events.services import event_emit
from tickets.hooks import TicketChange
from tickets.models import Message, MessageKind, SlaPolicy, SlaTimer, Ticket, Via
from tickets.sla import engine
from tickets.sla.policy_cache import cached_active_policies
from tickets.sla.selectors import policy_rules, ticket_business_hours

HOOK_NAME = "sla"
HOOK_ORDER = 50

# Who wrote a public message decides whether it is an agent's reply (SPEC §2.2): messages
# made by triggers, automations or the system never are.
_AGENT_VIAS = frozenset({Via.CONSOLE, Via.API})
_MACHINE_VIAS = frozenset({Via.TRIGGER, Via.AUTOMATION, Via.SYSTEM})

_TIMER_FIELDS = ("policy_id", "status", "target_minutes", "started_at", "due_at", "warn_at", "paused_at",
                 "paused_spans", "warned_at", "breached_at", "fulfilled_at", "elapsed_seconds")


# --- classification ----------------------------------------------------------------------


def message_role(message: Message | None) -> str | None:
    """``engine.MessageRole`` of a message, or None when it counts for nothing.

    Public entries only (internal notes and system entries never count), and not those of
    side conversations. A customer message has a contact as author or came in through a
    customer channel; an agent reply is written by a person or an API key through the
    console or the API.
    """
    if message is None or message.kind != MessageKind.PUBLIC or message.side_conversation_id is not None:
        return None
    if message.via in _MACHINE_VIAS:
        return None
    if message.author_contact_id is not None or message.via == Via.CUSTOMER:
        return engine.MessageRole.CUSTOMER_MESSAGE
    if message.via in _AGENT_VIAS:
        return engine.MessageRole.AGENT_REPLY
    return None


def ticket_facts(ticket: Ticket) -> engine.TicketFacts:
    """Where metrics naturally start, read from the conversation (one query).

    Used only when timers are seeded after creation (a policy starts to apply, or the
    priority changes), never on every change. The first message is the creating one and
    counts for nothing.
    """
    # ``ticket_version`` 1 is the creating message (``ticket_create`` writes it with the ticket).
    rows = list(Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC, side_conversation__isnull=True,
                                       ticket_version__gt=1)
                .order_by("created_at", "id")
                .only("id", "kind", "via", "author_contact_id", "side_conversation_id", "created_at"))
    first_agent = last_agent = unanswered = None
    for message in rows:
        role = message_role(message)
        if role == engine.MessageRole.AGENT_REPLY:
            first_agent = first_agent or message.created_at
            last_agent = message.created_at
            unanswered = None
        elif role == engine.MessageRole.CUSTOMER_MESSAGE and unanswered is None:
            unanswered = message.created_at
    return engine.TicketFacts(created_at=ticket.created_at, first_agent_reply_at=first_agent,
                              last_agent_reply_at=last_agent, unanswered_since=unanswered)


# --- rows <-> engine -----------------------------------------------------------------------


def _parse(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def timer_from_row(row: SlaTimer) -> engine.Timer:
    return engine.Timer(
        metric=row.metric, cycle=row.cycle, started_at=row.started_at, target_minutes=row.target_minutes,
        policy_id=row.policy_id, status=row.status, due_at=row.due_at, warn_at=row.warn_at,
        paused_at=row.paused_at, paused_spans=[(_parse(a), _parse(b)) for a, b in (row.paused_spans or [])],
        warned_at=row.warned_at, breached_at=row.breached_at, fulfilled_at=row.fulfilled_at,
        elapsed_seconds=row.elapsed_seconds, pk=row.pk,
    )


def _row_values(timer: engine.Timer) -> dict[str, Any]:
    return {
        "policy_id": timer.policy_id, "status": timer.status, "target_minutes": timer.target_minutes,
        "started_at": timer.started_at, "due_at": timer.due_at, "warn_at": timer.warn_at,
        "paused_at": timer.paused_at,
        "paused_spans": [[a.isoformat(), b.isoformat()] for a, b in timer.paused_spans],
        "warned_at": timer.warned_at, "breached_at": timer.breached_at, "fulfilled_at": timer.fulfilled_at,
        "elapsed_seconds": timer.elapsed_seconds,
    }


def _write_timers(*, ticket: Ticket, rows: list[SlaTimer], outcome: engine.Outcome) -> list[SlaTimer]:
    """Store what ``outcome`` changed; return the ticket's timer rows as they now are."""
    by_key = {(r.metric, r.cycle): r for r in rows}
    before = [timer_from_row(r) for r in rows]
    removed = {t.pk for t in outcome.removed}
    if removed:
        SlaTimer.objects.filter(pk__in=removed).delete()
    new_rows = []
    for timer in outcome.changed(before):
        values = _row_values(timer)
        row = by_key.get((timer.metric, timer.cycle))
        if row is None:
            new_rows.append(SlaTimer(tenant_id=ticket.tenant_id, ticket=ticket, metric=timer.metric,
                                     cycle=timer.cycle, **values))
            continue
        changed = [name for name in _TIMER_FIELDS if getattr(row, name) != values[name]]
        for name in changed:
            setattr(row, name, values[name])
        if changed:
            row.save(update_fields=changed)
    if new_rows:
        SlaTimer.objects.bulk_create(new_rows)
    current = [r for r in rows if r.pk not in removed] + new_rows
    return sorted(current, key=lambda r: (r.metric, r.cycle))


# --- events ------------------------------------------------------------------------------


def sla_event_payload(*, ticket: Ticket, metric: str, due_at: dt.datetime | None) -> dict:
    return {"ticket_id": ticket.pk, "number": ticket.number, "metric": metric,
            "due_at": due_at.isoformat() if due_at else None, "assignee_id": ticket.assignee_id}


def _emit_breaches(ticket: Ticket, timers: Iterable[engine.Timer]) -> None:
    for timer in timers:
        event_emit(tenant=ticket.tenant, type="sla.breach", subject=ticket,
                   payload=sla_event_payload(ticket=ticket, metric=timer.metric, due_at=timer.due_at))


# --- the hook ------------------------------------------------------------------------------


def policy_for_ticket(*, ticket: Ticket, policies: Iterable[SlaPolicy], now: dt.datetime) -> SlaPolicy | None:
    """The first active policy, in position order, whose conditions the ticket meets."""
    from tickets.conditions import conditions_match

    for policy in policies:
        if policy.is_active and conditions_match(ticket, policy.conditions or {}, now=now):
            return policy
    return None


def sla_apply_change(change: TicketChange) -> engine.Outcome | None:
    """The SLA ticket hook. Precondition: inside the transaction of the change, with the
    ticket row locked and saved by the caller."""
    ticket = change.ticket
    at = change.at
    created = change.created
    if ticket.status == "closed" and not change.changed("status"):
        return None  # closed tickets are read-only; nothing runs any more
    policy = policy_for_ticket(ticket=ticket, policies=cached_active_policies(tenant_id=ticket.tenant_id), now=at)
    if policy is None and ticket.sla_policy_id is None and not ticket.sla_breached:
        if created:
            ticket.sla_timer_list = []  # known without a query: a new ticket has no timers
        return None  # nothing runs (running timers go when the policy goes) and nothing can start

    # A ticket created in this transaction has no timers yet: nothing to read.
    rows = [] if created else list(SlaTimer.objects.select_for_update().filter(ticket=ticket)
                                   .order_by("metric", "cycle"))
    previous_status = None if created else (change.changes["status"][0] if change.changed("status")
                                            else ticket.status)
    policy_changed = (policy.pk if policy else None) != ticket.sla_policy_id
    priority_changed = change.changed("priority")
    needs_facts = policy is not None and (created or policy_changed or priority_changed)
    facts = None
    if needs_facts:
        facts = (engine.TicketFacts(created_at=ticket.created_at) if created else ticket_facts(ticket))
    step = engine.Step(
        at=at, status=ticket.status, priority=ticket.priority, previous_status=previous_status,
        message=message_role(change.message), policy_changed=policy_changed and not created,
        priority_changed=priority_changed, facts=facts,
    )
    rules = policy_rules(policy, business_hours=ticket_business_hours(ticket)) if policy is not None else None
    outcome = engine.apply_step([timer_from_row(r) for r in rows], rules=rules, step=step)
    current = _write_timers(ticket=ticket, rows=rows, outcome=outcome)

    values = {"sla_policy_id": policy.pk if policy else None, "sla_next_due_at": outcome.next_due_at,
              "sla_breached": outcome.breached_now}
    changed = {k: v for k, v in values.items() if getattr(ticket, k) != v}
    if changed:
        Ticket.objects.filter(pk=ticket.pk).update(**changed)
        for name, value in changed.items():
            setattr(ticket, name, value)
        if "sla_policy_id" in changed:
            ticket.sla_policy = policy
    # The prefetched timers (if any) are stale now; ``selectors.ticket_timers`` reads the
    # current ones without a query (the acknowledgement of a new ticket shows its due).
    getattr(ticket, "_prefetched_objects_cache", {}).pop("sla_timers", None)
    ticket.sla_timer_list = current
    _emit_breaches(ticket, outcome.breached)
    return outcome


def sla_ticket_hook(change: TicketChange) -> None:
    sla_apply_change(change)


@transaction.atomic
def sla_recompute(*, ticket: Ticket, at: dt.datetime | None = None) -> engine.Outcome | None:
    """Re-match the policy and refresh the dues of ``ticket`` (after a policy or calendar
    edit, or by an operator). Nothing is replayed: running timers are re-targeted from
    their start keeping their paused spans. Call in the ticket's tenant scope."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    return sla_apply_change(TicketChange(ticket=ticket, actor=None, via=Via.SYSTEM, at=at or timezone.now()))


# --- registration ------------------------------------------------------------------------

_registered = False


def register() -> None:
    """Called once from ``TicketsConfig.ready()``: the hook, the event types, the new-tenant
    default policy and the sweep task (idempotent)."""
    global _registered
    if _registered:
        return
    from django.utils.translation import gettext_lazy as _

    from helpdesk.events.types import get_event_type, register_event_type
    from helpdesk.tenancy.services import register_tenant_defaults
    from tickets import tasks_sla  # noqa: F401 - registers the Celery task
    from tickets.hooks import register_ticket_hook
    from tickets.sla.defaults import sla_defaults_create

    register_ticket_hook(HOOK_NAME, sla_ticket_hook, order=HOOK_ORDER)
    for name, description, push in (
        ("sla.warning", _("An SLA target of a ticket falls due soon."), True),
        ("sla.breach", _("An SLA target of a ticket was missed."), True),
        ("sla_policy.created", _("An SLA policy was created."), False),
        ("sla_policy.updated", _("An SLA policy was changed."), False),
        ("sla_policy.deleted", _("An SLA policy was deleted."), False),
        ("business_hours.created", _("A business-hours calendar was created."), False),
        ("business_hours.updated", _("A business-hours calendar was changed."), False),
        ("business_hours.deleted", _("A business-hours calendar was deleted."), False),
    ):
        if get_event_type(name) is None:
            register_event_type(name, description, push_to_agents=push)
    register_tenant_defaults(sla_defaults_create)
    _registered = True
