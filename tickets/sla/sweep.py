"""The SLA sweep (beat, every minute): flag breaches and warnings exactly once each.

Crosses tenants by design: one sweep serves the deployment (``dangerously_unscoped``), and
each event is written in its ticket's tenant (``tenant_scope``). Its cost follows what
falls due, not what exists: each batch is a range scan of a partial index
(``slatimer_breach_due`` on ``due_at``, ``slatimer_warn_due`` on ``warn_at``, both over
active, not yet flagged timers), bounded by ``batch_size``.

Exactly once: rows are locked with ``FOR UPDATE SKIP LOCKED``, so concurrent sweeps take
disjoint rows, and the flag (``breached_at``/status, ``warned_at``) leaves the partial
index in the same transaction that writes the event. A breach also touches the ticket
(``sla_breached``, ``sla_next_due_at``); tickets are locked with ``SKIP LOCKED`` too and a
timer whose ticket is being changed right now is left alone: the ticket hook settles
overdue timers itself (and emits their breach), or the next sweep takes it. The sweep
never waits for a ticket lock, so it cannot deadlock with a ticket service.

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
from django.db.models import F, Min, OuterRef, Subquery
from django.utils import timezone

from helpdesk.events.services import events_emit_many
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.models import SlaTimer, Ticket, TimerStatus
from tickets.sla.services import sla_event_payload

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BATCHES = 20


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0
    skipped: int = 0


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
              max_batches: int = MAX_BATCHES) -> SweepResult:
    """Flag what fell due (breaches first, then warnings), in bounded batches."""
    now = now or timezone.now()
    result = SweepResult()
    busy: set[int] = set()  # timers whose ticket is being changed: left for the hook or the next sweep
    for _ in range(max_batches):
        flagged, skipped = _breach_batch(now=now, batch_size=batch_size, busy=busy)
        result.breached += flagged
        result.skipped += len(skipped)
        busy |= skipped
        if flagged + len(skipped) < batch_size:
            break
    for _ in range(max_batches):
        flagged = _warn_batch(now=now, batch_size=batch_size)
        result.warned += flagged
        if flagged < batch_size:
            break
    return result


def _tenants(ids) -> dict[int, Tenant]:
    return Tenant.objects.in_bulk(set(ids))


def _breach_batch(*, now: dt.datetime, batch_size: int, busy: set[int]) -> tuple[int, set[int]]:
    with dangerously_unscoped(), transaction.atomic():
        queryset = (SlaTimer.unscoped.select_for_update(skip_locked=True, of=("self",))
                    .filter(status=TimerStatus.ACTIVE, breached_at__isnull=True, due_at__lt=now))
        if busy:
            queryset = queryset.exclude(pk__in=busy)
        timers = list(
            queryset.select_related("ticket")
            .order_by("due_at")[:batch_size]
        )
        if not timers:
            return 0, set()
        ticket_ids = {t.ticket_id for t in timers}
        locked = set(Ticket.unscoped.select_for_update(skip_locked=True).filter(pk__in=ticket_ids)
                     .values_list("pk", flat=True))
        due = [t for t in timers if t.ticket_id in locked]
        skipped = {t.pk for t in timers if t.ticket_id not in locked}
        if not due:
            return 0, skipped
        SlaTimer.unscoped.filter(pk__in=[t.pk for t in due]).update(status=TimerStatus.BREACHED,
                                                                    breached_at=F("due_at"))
        next_due = (SlaTimer.unscoped.filter(ticket_id=OuterRef("pk"), status=TimerStatus.ACTIVE,
                                             fulfilled_at__isnull=True)
                    .values("ticket_id").annotate(first=Min("due_at")).values("first")[:1])
        Ticket.unscoped.filter(pk__in=locked).update(sla_breached=True, sla_next_due_at=Subquery(next_due))
        _emit(due, "sla.breach")
        return len(due), skipped


def _warn_batch(*, now: dt.datetime, batch_size: int) -> int:
    with dangerously_unscoped(), transaction.atomic():
        timers = list(
            SlaTimer.unscoped.select_for_update(skip_locked=True, of=("self",))
            .filter(status=TimerStatus.ACTIVE, warned_at__isnull=True, warn_at__lte=now)
            .select_related("ticket")
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
