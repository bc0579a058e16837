"""The SLA sweep (beat, every minute): flag breaches and warnings exactly once each.

Crosses tenants by design: one sweep serves the deployment (``dangerously_unscoped``), and
each event is written in its ticket's tenant (``tenant_scope``). Its cost follows what
falls due, not what exists: each batch is a range scan of a partial index
(``slatimer_breach_due`` on ``due_at``, ``slatimer_warn_due`` on ``warn_at``, both over
active, not yet flagged timers), bounded by ``batch_size``.

Exactly once: rows are locked with ``FOR UPDATE SKIP LOCKED``, so concurrent sweeps take
disjoint rows, and the flag (``breached_at``/status, ``warned_at``) leaves the partial
index in the same transaction that writes the event. A breach also flags the ticket
(``sla_breached``); the same query locks the timers' tickets with ``SKIP LOCKED``, so a
timer whose ticket is being changed right now is left alone: the ticket hook settles
overdue timers itself (and emits their breach), or the next sweep takes it. The sweep
never waits for a lock, so it cannot deadlock with a ticket service. ``sla_next_due_at``
is not touched: a breached cycle keeps counting in it until fulfilled (``engine.next_due``).

On PostgreSQL a batch is one statement (``_BREACH_BATCH_SQL``: lock, flag timers and
tickets, insert the events, return their ids; ``_WARN_BATCH_SQL`` likewise); elsewhere the
same steps go through the ORM. ``tests/tickets/sla/test_sweep.py`` holds both to the same rows and payloads.

Breach: the status is active and ``due_at`` is before now (SPEC §2.2: "now > due_at");
``breached_at`` is ``due_at``, the instant the target was missed, whatever the sweep's lag.
Warning: ``warn_at <= now``; ``warned_at`` is when the warning was sent. Breaches run
first, so a timer found past both gets only its breach.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.events.services import events_emit_many, events_queue_dispatch
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.models import SlaTimer, Ticket, TimerStatus
from tickets.sla.services import sla_event_payload

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_BATCHES = 20
# What the events need: the timer, and the ticket's number and assignee (``sla_event_payload``).
TIMER_FIELDS = ("id", "tenant_id", "ticket_id", "metric", "due_at", "ticket__id", "ticket__tenant_id",
                "ticket__number", "ticket__assignee_id")


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
              max_batches: int = MAX_BATCHES) -> SweepResult:
    """Flag what fell due (breaches first, then warnings), in bounded batches."""
    now = now or timezone.now()
    result = SweepResult()
    for _ in range(max_batches):
        flagged = _breach_batch(now=now, batch_size=batch_size)
        result.breached += flagged
        if flagged < batch_size:
            break
    for _ in range(max_batches):
        flagged = _warn_batch(now=now, batch_size=batch_size)
        result.warned += flagged
        if flagged < batch_size:
            break
    return result


def _tenants(ids) -> dict[int, Tenant]:
    return Tenant.objects.in_bulk(set(ids))


# PostgreSQL: a whole batch is one statement, so neither the timers nor their events pass
# through Python (building a thousand model instances and dumping them for the INSERT cost
# as much as the writes). The payload is ``sla_event_payload``'s, built by the database:
# ``due_at`` as Python's ``isoformat()`` of a UTC instant.
_EVENTS_FROM_DUE = """
INSERT INTO events_event (tenant_id, type, subject_type, subject_id, actor_id, payload, created_at,
                          dispatched_at, dispatch_attempts, handled_by, dispatch_error)
SELECT due.tenant_id, %(type)s, %(subject_type)s, due.ticket_id::text, NULL,
       jsonb_build_object(
           'ticket_id', due.ticket_id, 'number', due.number, 'metric', due.metric,
           'due_at', to_char(due.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                     || CASE WHEN to_char(due.due_at AT TIME ZONE 'UTC', 'US') = '000000' THEN ''
                             ELSE '.' || to_char(due.due_at AT TIME ZONE 'UTC', 'US') END
                     || '+00:00',
           'assignee_id', due.assignee_id),
       %(created_at)s, NULL, 0, '[]'::jsonb, ''
FROM due ORDER BY due.due_at, due.id
RETURNING id, tenant_id
"""

_BREACH_BATCH_SQL = """
WITH due AS (
    SELECT s.id, s.tenant_id, s.ticket_id, s.metric, s.due_at, t.number, t.assignee_id
    FROM tickets_slatimer s JOIN tickets_ticket t ON t.id = s.ticket_id
    WHERE s.status = 'active' AND s.breached_at IS NULL AND s.due_at < %(now)s
    ORDER BY s.due_at
    LIMIT %(limit)s
    FOR UPDATE OF s, t SKIP LOCKED
), flagged AS (
    UPDATE tickets_slatimer s SET status = 'breached', breached_at = s.due_at
    FROM due WHERE s.id = due.id
    RETURNING s.id
), flagged_tickets AS (
    UPDATE tickets_ticket t SET sla_breached = true
    FROM (SELECT DISTINCT ticket_id FROM due) d
    WHERE t.id = d.ticket_id AND NOT t.sla_breached
    RETURNING t.id
)""" + _EVENTS_FROM_DUE

# Warnings lock their timers only: the ticket row is not written.
_WARN_BATCH_SQL = """
WITH due AS (
    SELECT s.id, s.tenant_id, s.ticket_id, s.metric, s.due_at, t.number, t.assignee_id
    FROM tickets_slatimer s JOIN tickets_ticket t ON t.id = s.ticket_id
    WHERE s.status = 'active' AND s.warned_at IS NULL AND s.warn_at <= %(now)s
    ORDER BY s.warn_at
    LIMIT %(limit)s
    FOR UPDATE OF s SKIP LOCKED
), flagged AS (
    UPDATE tickets_slatimer s SET warned_at = %(now)s
    FROM due WHERE s.id = due.id
    RETURNING s.id
)""" + _EVENTS_FROM_DUE


def _breach_batch(*, now: dt.datetime, batch_size: int) -> int:
    if connection.vendor == "postgresql":
        return _batch_postgresql(_BREACH_BATCH_SQL, "sla.breach", now=now, batch_size=batch_size)
    return _breach_batch_orm(now=now, batch_size=batch_size)


def _warn_batch(*, now: dt.datetime, batch_size: int) -> int:
    if connection.vendor == "postgresql":
        return _batch_postgresql(_WARN_BATCH_SQL, "sla.warning", now=now, batch_size=batch_size)
    return _warn_batch_orm(now=now, batch_size=batch_size)


def _batch_postgresql(sql: str, type: str, *, now: dt.datetime, batch_size: int) -> int:
    with dangerously_unscoped(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": batch_size, "type": type,
                             "subject_type": Ticket._meta.label_lower, "created_at": timezone.now()})
        rows = cursor.fetchall()
        by_tenant: dict[int, list[int]] = {}
        for event_id, tenant_id in rows:
            by_tenant.setdefault(tenant_id, []).append(event_id)
        for tenant_id, event_ids in by_tenant.items():
            events_queue_dispatch(tenant_id=tenant_id, event_ids=event_ids)
        return len(rows)


def _breach_batch_orm(*, now: dt.datetime, batch_size: int) -> int:
    """The same batch through the ORM (SQLite, the embedded mode: one process, no row locks)."""
    with dangerously_unscoped(), transaction.atomic():
        # One query takes the due timers and their tickets' row locks, skipping both kinds of
        # locked rows: a ticket being changed right now is settled by its hook, or next sweep.
        timers = list(
            SlaTimer.unscoped.select_for_update(skip_locked=True, of=("self", "ticket"))
            .filter(status=TimerStatus.ACTIVE, breached_at__isnull=True, due_at__lt=now)
            .select_related("ticket").only(*TIMER_FIELDS)
            .order_by("due_at")[:batch_size]
        )
        if not timers:
            return 0
        SlaTimer.unscoped.filter(pk__in=[t.pk for t in timers]).update(status=TimerStatus.BREACHED,
                                                                      breached_at=F("due_at"))
        # ``sla_next_due_at`` stays: a breached cycle still counts until it is fulfilled
        # (``engine.next_due``). Tickets already flagged are not written again.
        Ticket.unscoped.filter(pk__in={t.ticket_id for t in timers}, sla_breached=False).update(sla_breached=True)
        _emit(timers, "sla.breach")
        return len(timers)


def _warn_batch_orm(*, now: dt.datetime, batch_size: int) -> int:
    with dangerously_unscoped(), transaction.atomic():
        timers = list(
            SlaTimer.unscoped.select_for_update(skip_locked=True, of=("self",))
            .filter(status=TimerStatus.ACTIVE, warned_at__isnull=True, warn_at__lte=now)
            .select_related("ticket").only(*TIMER_FIELDS)
            .order_by("warn_at")[:batch_size]
        )
        if not timers:
            return 0
        SlaTimer.unscoped.filter(pk__in=[t.pk for t in timers]).update(warned_at=now)
        _emit(timers, "sla.warning")
        return len(timers)


def _emit(timers: list[SlaTimer], type: str) -> None:
    """One batched insert and one dispatch task per tenant, in that tenant's scope."""
    tenants = _tenants(t.tenant_id for t in timers)
    by_tenant: dict[int, list[SlaTimer]] = {}
    for timer in timers:
        by_tenant.setdefault(timer.tenant_id, []).append(timer)
    for tenant_id, group in by_tenant.items():
        with tenant_scope(tenants[tenant_id]):
            events_emit_many(tenant=tenants[tenant_id], type=type, items=[
                (timer.ticket, sla_event_payload(ticket=timer.ticket, metric=timer.metric, due_at=timer.due_at))
                for timer in group])
