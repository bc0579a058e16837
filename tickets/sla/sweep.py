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

Breach: the status is active and ``due_at`` is before now (SPEC §2.2: "now > due_at");
``breached_at`` is ``due_at``, the instant the target was missed, whatever the sweep's lag.
Warning: ``warn_at <= now``; ``warned_at`` is when the warning was sent. Breaches run
first, so a timer found past both gets only its breach.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.events.services import events_emit_many
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


def _breach_batch(*, now: dt.datetime, batch_size: int) -> int:
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


def _warn_batch(*, now: dt.datetime, batch_size: int) -> int:
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
