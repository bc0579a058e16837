"""SLA reads: policies in matching order, their pure ``Rules``, and a ticket's SLA state
for serializers and the console badge (from prefetched timers: no queries per row)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from helpdesk.calendars.models import BusinessCalendar, Holiday
from tickets.models import SlaPolicy, SlaTarget, SlaTimer, Ticket
from tickets.sla import engine

_METRIC_ORDER = {m: i for i, m in enumerate(engine.METRICS)}


def active_policies() -> QuerySet[SlaPolicy]:
    """The tenant's active policies in matching order, ready for ``policy_rules`` (3 queries
    at most: policies with their calendars, targets, holidays)."""
    return (SlaPolicy.objects.filter(is_active=True).select_related("calendar")
            .prefetch_related("targets", "calendar__holidays").order_by("position", "id"))


def policy_list(*, queryset: QuerySet[SlaPolicy] | None = None) -> QuerySet[SlaPolicy]:
    """The tenant's policies (API lists) with their targets prefetched."""
    queryset = SlaPolicy.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(Prefetch("targets", queryset=SlaTarget.objects.order_by("metric", "priority")))


def business_hours_list(*, queryset: QuerySet[BusinessCalendar] | None = None) -> QuerySet[BusinessCalendar]:
    """The tenant's calendars with their holidays prefetched."""
    queryset = BusinessCalendar.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(Prefetch("holidays", queryset=Holiday.objects.order_by("date")))


def policy_rules(policy: SlaPolicy, *, business_hours: BusinessCalendar | None = None) -> engine.Rules:
    """The pure form of ``policy`` (reads prefetched targets and holidays when present), in
    ``business_hours`` instead of the policy's calendar when given (a ticket's own hours)."""
    calendar = business_hours if business_hours is not None else (policy.calendar if policy.calendar_id else None)
    schedule = calendar.schedule() if calendar is not None else engine.ALWAYS_OPEN
    return engine.Rules(
        policy_id=policy.pk,
        targets={(t.metric, t.priority): t.minutes for t in policy.targets.all()},
        schedule=schedule,
        pause_statuses=frozenset(policy.pause_statuses or ()),
        warning_minutes=policy.warning_minutes,
    )


def ticket_business_hours(ticket: Ticket) -> BusinessCalendar | None:
    """The ticket's own business hours with their holidays (two queries), or None (most
    tickets: no query) when the policy's apply."""
    if not ticket.business_hours_id:
        return None
    return business_hours_list().filter(pk=ticket.business_hours_id).first()


def sla_timers_prefetch() -> Prefetch:
    """What ``sla_summary`` and ``sla_badge`` read, into a list (one query for the page)."""
    return Prefetch("sla_timers", queryset=SlaTimer.objects.order_by("metric", "cycle"), to_attr="sla_timer_list")


def with_sla(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return queryset.prefetch_related(sla_timers_prefetch())


def ticket_timers(ticket: Ticket) -> list[SlaTimer]:
    """The ticket's timers: prefetched (``with_sla``, ``with_row_data``), else one query."""
    prefetched = getattr(ticket, "sla_timer_list", None)
    return prefetched if prefetched is not None else list(ticket.sla_timers.order_by("metric", "cycle"))


def _latest_cycles(ticket: Ticket) -> list[SlaTimer]:
    latest: dict[str, SlaTimer] = {}
    for timer in ticket_timers(ticket):
        current = latest.get(timer.metric)
        if current is None or timer.cycle > current.cycle:
            latest[timer.metric] = timer
    return sorted(latest.values(), key=lambda t: _METRIC_ORDER.get(t.metric, 99))


def sla_summary(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's ``sla`` list: the latest cycle of each metric, in metric order.

    Reads ``ticket_timers``: prefetch them (``with_sla``) so lists stay at a
    constant number of queries.
    """
    return [
        {
            "metric": t.metric,
            "status": t.status,
            "due_at": t.due_at,
            "breached_at": t.breached_at,
            "fulfilled_at": t.fulfilled_at,
            "policy_id": t.policy_id,
        }
        for t in _latest_cycles(ticket)
    ]


def sla_badge(ticket: Ticket, *, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """What the console badge shows: the most urgent running metric, or None.

    Breached (still unanswered) first, then the nearest due, then a paused one.
    ``urgency`` is ``breached``, ``warning`` (past the warning instant) or ``normal``;
    paused metrics have ``urgency`` ``paused`` and no due instant.
    """
    now = now or timezone.now()
    running = [t for t in ticket_timers(ticket) if t.fulfilled_at is None]
    if not running:
        return None
    breached = [t for t in running if t.status == engine.BREACHED]
    active = [t for t in running if t.status == engine.ACTIVE and t.due_at is not None]
    paused = [t for t in running if t.status == engine.PAUSED]
    if breached:
        timer = min(breached, key=lambda t: t.due_at or now)
        urgency = "breached"
    elif active:
        timer = min(active, key=lambda t: t.due_at)
        if timer.due_at < now:
            urgency = "breached"  # the sweep has not flagged it yet
        elif timer.warn_at is not None and timer.warn_at <= now:
            urgency = "warning"
        else:
            urgency = "normal"
    elif paused:
        timer = min(paused, key=lambda t: _METRIC_ORDER.get(t.metric, 99))
        urgency = "paused"
    else:
        return None  # only rows without a due instant (not expected from the engine)
    return {
        "metric": timer.metric,
        "label": timer.get_metric_display(),
        "status": timer.status,
        "urgency": urgency,
        "due_at": timer.due_at if urgency != "paused" else None,
        "warn_at": timer.warn_at if urgency not in ("paused", "breached") else None,
        "seconds_left": int((timer.due_at - now).total_seconds()) if timer.due_at and urgency != "paused" else None,
    }
