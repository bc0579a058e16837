"""SLA timers as pure functions (SPEC.md §2.2): no ORM, no clock, no Django.

The engine is *incremental*: it takes a ticket's stored timers (one ``Timer`` per metric
cycle: ``started_at``, ``paused_spans``, ``paused_at``, target…) and one ``Step`` (what
changed at one instant: status, priority, policy, a message) and returns the timers as
they are after it. It never replays the ticket's history; the stored paused spans are
what makes re-targeting exact ("from the original start, keeping time already paused").

Rules, in the order one step applies them (all at the step's instant ``at``):

1. *Settle*: an active timer whose ``due_at`` is before ``at`` is breached (``breached_at
   = due_at``, the instant the breach happened). The sweep does the same between steps;
   whichever holds the row first flags it (the service locks rows).
2. *Re-target*: running timers take the target of the ticket's current policy and
   priority; a metric the policy no longer targets is removed (breached ones are kept:
   a breach is final). No policy: every running timer that is not breached is removed.
3. *Seed* (on creation, a change of policy or a change of priority): metrics the policy
   targets that should be running and are not start at their natural start
   (``TicketFacts``): first_reply and resolution at creation, next_reply at the oldest
   unanswered customer message, periodic_update at the last agent reply. first_reply is
   seeded only if the ticket never had one and no agent replied.
4. *Status*: unsolved → solved/closed fulfils every running timer (a solved ticket waits
   for nobody). solved → unsolved (reopen) re-activates the resolution cycle, counting
   the solved span as paused so time keeps accumulating; first_reply is never re-applied;
   a new periodic_update cycle starts at the reopen.
5. *Message*: a public agent reply fulfils the running first_reply, next_reply and
   periodic_update cycles and starts the next periodic_update cycle. A public customer
   message starts a next_reply cycle unless one is running (the oldest message of an
   unanswered run anchors it) or first_reply is still running (it covers that wait).
   Internal notes, system entries and trigger/automation messages are not replies
   (the caller classifies messages, ``MessageRole``). The creating message counts for
   nothing.
6. *Pause*: while the status is one of the policy's pause statuses every running timer
   is paused (``paused_at`` set, ``due_at`` null); leaving the status closes the span.
7. *Due*: active timers get ``due_at = add_business(started_at, target, paused_spans)``
   in the policy's calendar and ``warn_at = due_at - warning`` (wall-clock minutes: the
   countdown an agent sees), then step 1 runs again (a shorter target may be overdue).

A fulfilled timer is achieved unless it was breached before; fulfilment never breaches
a timer retroactively because step 1 ran first. ``elapsed_seconds`` of a fulfilled timer
is business (or calendar) seconds from start to fulfilment minus paused time.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from helpdesk.calendars.business_time import Schedule, add_business, business_seconds_between

# Plain strings (tickets.models.Metric / TimerStatus / Status values) so this module
# imports nothing from Django.
FIRST_REPLY = "first_reply"
NEXT_REPLY = "next_reply"
PERIODIC_UPDATE = "periodic_update"
RESOLUTION = "resolution"
METRICS = (FIRST_REPLY, NEXT_REPLY, PERIODIC_UPDATE, RESOLUTION)
REPLY_METRICS = (FIRST_REPLY, NEXT_REPLY, PERIODIC_UPDATE)

ACTIVE = "active"
PAUSED = "paused"
ACHIEVED = "achieved"
BREACHED = "breached"

DONE_STATUSES = frozenset({"solved", "closed"})
NEW = "new"

ALWAYS_OPEN = Schedule.always_open()


class MessageRole:
    """How a message counts for SLA: the caller decides from kind, author and ``via``."""

    AGENT_REPLY = "agent_reply"  # public, by an agent (console or API), not a trigger/automation
    CUSTOMER_MESSAGE = "customer_message"  # public, from the requester or a CC


@dataclass(frozen=True)
class Rules:
    """What a policy says, in pure form. ``schedule`` is ``ALWAYS_OPEN`` for calendar hours."""

    policy_id: int | None
    targets: Mapping[tuple[str, str], int]  # (metric, priority) -> minutes
    schedule: Schedule = ALWAYS_OPEN
    pause_statuses: frozenset[str] = frozenset({"pending", "on_hold"})
    warning_minutes: int = 15

    def target(self, metric: str, priority: str) -> int | None:
        minutes = self.targets.get((metric, priority))
        return int(minutes) if minutes else None


@dataclass
class Timer:
    """One metric cycle (mirrors ``tickets.models.SlaTimer``). ``pk`` is the row's id, if stored."""

    metric: str
    cycle: int
    started_at: dt.datetime
    target_minutes: int
    policy_id: int | None = None
    status: str = ACTIVE
    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None
    paused_at: dt.datetime | None = None
    paused_spans: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    fulfilled_at: dt.datetime | None = None
    elapsed_seconds: int | None = None
    pk: int | None = None

    @property
    def running(self) -> bool:
        return self.fulfilled_at is None


@dataclass(frozen=True)
class TicketFacts:
    """Where metrics naturally start, for seeding (creation, policy or priority change)."""

    created_at: dt.datetime
    first_agent_reply_at: dt.datetime | None = None
    last_agent_reply_at: dt.datetime | None = None
    # The oldest public customer message not answered by a later agent reply (the creating
    # message excluded), or None.
    unanswered_since: dt.datetime | None = None


@dataclass(frozen=True)
class Step:
    """One change of a ticket at instant ``at``.

    ``previous_status`` is None when the ticket was just created (it counts as coming
    from ``new``). ``message`` is a ``MessageRole`` or None. ``facts`` is needed only
    when the step seeds (creation, ``policy_changed``, ``priority_changed``).
    """

    at: dt.datetime
    status: str
    priority: str
    previous_status: str | None = None
    message: str | None = None
    policy_changed: bool = False
    priority_changed: bool = False
    facts: TicketFacts | None = None

    @property
    def created(self) -> bool:
        return self.previous_status is None


@dataclass
class Outcome:
    timers: list[Timer]  # every timer of the ticket after the step, stored and new
    removed: list[Timer]  # stored timers to delete
    breached: list[Timer]  # newly breached in this step: emit sla.breach for each
    next_due_at: dt.datetime | None  # earliest due of active timers
    breached_now: bool  # a running timer is breached

    def changed(self, before: Iterable[Timer]) -> list[Timer]:
        """Timers that are new or differ from ``before`` (matched by metric and cycle)."""
        old = {(t.metric, t.cycle): t for t in before}
        return [t for t in self.timers if old.get((t.metric, t.cycle)) != t]


# --- the step ------------------------------------------------------------------------


def apply_step(timers: Sequence[Timer], *, rules: Rules | None, step: Step) -> Outcome:
    """The ticket's timers after ``step`` under ``rules`` (None: no policy applies).

    Pure: ``timers`` are not modified (copies are returned).
    """
    at = step.at
    current = [copy.deepcopy(t) for t in timers]
    removed: list[Timer] = []
    breached: list[Timer] = []
    schedule = rules.schedule if rules is not None else ALWAYS_OPEN

    # 1. Settle what fell due before this instant (under the dues that were in force).
    breached += _settle(current, at)

    # 2. Re-target running timers (or drop them when no policy applies).
    kept: list[Timer] = []
    for timer in current:
        if not timer.running or timer.status == BREACHED:
            kept.append(timer)
            continue
        target = rules.target(timer.metric, step.priority) if rules is not None else None
        if target is None:
            if timer.pk is not None:
                removed.append(timer)
            continue
        timer.target_minutes = target
        timer.policy_id = rules.policy_id
        kept.append(timer)
    current = kept
    _refresh_dues(current, rules)
    breached += _settle(current, at)

    previous = step.previous_status or NEW
    was_done = previous in DONE_STATUSES
    is_done = step.status in DONE_STATUSES

    # 3. Seed metrics that should be running.
    if rules is not None and (step.created or step.policy_changed or step.priority_changed) and not is_done:
        facts = step.facts or TicketFacts(created_at=at)
        current += _seed(current, rules, step.priority, facts)
        _refresh_dues(current, rules)
        breached += _settle(current, at)

    # 4. Status.
    if is_done and not was_done:
        for timer in current:
            if timer.running:
                _fulfil(timer, at, schedule)
    elif was_done and not is_done and not step.created:
        for timer in current:
            if timer.metric == RESOLUTION and not timer.running:
                _reactivate(timer, at)
        if rules is not None:
            _start(current, rules, PERIODIC_UPDATE, step.priority, at)

    # 5. Message (the creating message counts for nothing).
    if step.message and not step.created:
        if step.message == MessageRole.AGENT_REPLY:
            for timer in current:
                if timer.running and timer.metric in REPLY_METRICS:
                    _fulfil(timer, at, schedule)
            if rules is not None and not is_done:
                _start(current, rules, PERIODIC_UPDATE, step.priority, at)
        elif step.message == MessageRole.CUSTOMER_MESSAGE and rules is not None and not is_done:
            waiting = any(t.running and t.metric in (FIRST_REPLY, NEXT_REPLY) for t in current)
            if not waiting:
                _start(current, rules, NEXT_REPLY, step.priority, at)

    # 6. Pause or resume to match the status.
    pausing = rules is not None and step.status in rules.pause_statuses and not is_done
    for timer in current:
        if not timer.running:
            continue
        if pausing and timer.paused_at is None:
            timer.paused_at = at
            if timer.status == ACTIVE:
                timer.status = PAUSED
        elif not pausing and timer.paused_at is not None:
            _close_pause(timer, at)
            if timer.status == PAUSED:
                timer.status = ACTIVE

    # 7. Dues of what runs, then settle again (a re-target may have made one overdue).
    _refresh_dues(current, rules)
    breached += _settle(current, at)

    current.sort(key=lambda t: (METRICS.index(t.metric) if t.metric in METRICS else 99, t.cycle))
    return Outcome(
        timers=current,
        removed=removed,
        breached=breached,
        next_due_at=next_due(current),
        breached_now=any(t.running and t.status == BREACHED for t in current),
    )


def next_due(timers: Iterable[Timer]) -> dt.datetime | None:
    """The earliest due instant of the cycles still counting: active ones, and breached ones
    not yet fulfilled (overdue work stays first in "SLA due soonest" and in "breaching soon",
    as Zendesk shows it, and the sweep's breach leaves this instant as it is). Paused cycles
    (pending, on-hold) have none."""
    dues = [t.due_at for t in timers
            if t.running and t.paused_at is None and t.status in (ACTIVE, BREACHED) and t.due_at is not None]
    return min(dues) if dues else None


def elapsed_seconds(timer: Timer, *, schedule: Schedule, now: dt.datetime) -> int:
    """Business (or calendar) seconds the cycle has run, up to its fulfilment or ``now``."""
    end = timer.fulfilled_at or now
    spans = list(timer.paused_spans)
    if timer.paused_at is not None and timer.paused_at < end:
        spans.append((timer.paused_at, end))
    return int(round(business_seconds_between(schedule, timer.started_at, end, spans)))


def due_instant(timer: Timer, *, schedule: Schedule) -> dt.datetime:
    """When the cycle falls due given its paused spans so far (not counting an open pause)."""
    return add_business(schedule, timer.started_at, timer.target_minutes, timer.paused_spans)


# --- helpers -------------------------------------------------------------------------


def _settle(timers: list[Timer], at: dt.datetime) -> list[Timer]:
    newly = []
    for timer in timers:
        if (timer.running and timer.status == ACTIVE and timer.due_at is not None
                and timer.due_at < at and timer.breached_at is None):
            timer.status = BREACHED
            timer.breached_at = timer.due_at
            newly.append(timer)
    return newly


def _refresh_dues(timers: list[Timer], rules: Rules | None) -> None:
    """Due and warning instants of active timers; paused ones have neither."""
    if rules is None:
        return
    for timer in timers:
        if not timer.running:
            continue
        if timer.status == ACTIVE and timer.paused_at is None:
            timer.due_at = due_instant(timer, schedule=rules.schedule)
            timer.warn_at = timer.due_at - dt.timedelta(minutes=rules.warning_minutes)
        elif timer.status == PAUSED:
            timer.due_at = None
            timer.warn_at = None


def _close_pause(timer: Timer, at: dt.datetime) -> None:
    if timer.paused_at is not None and at > timer.paused_at:
        timer.paused_spans = [*timer.paused_spans, (timer.paused_at, at)]
    timer.paused_at = None


def _fulfil(timer: Timer, at: dt.datetime, schedule: Schedule) -> None:
    _close_pause(timer, at)
    timer.fulfilled_at = at
    # Keep the due instant for reports (recomputed when the cycle ended paused).
    if timer.due_at is None or timer.status == PAUSED:
        timer.due_at = add_business(schedule, timer.started_at, timer.target_minutes, timer.paused_spans)
    timer.warn_at = None
    timer.status = BREACHED if timer.breached_at is not None else ACHIEVED
    timer.elapsed_seconds = elapsed_seconds(timer, schedule=schedule, now=at)


def _reactivate(timer: Timer, at: dt.datetime) -> None:
    """Reopen: the solved span counts as paused, so the time before the solve is kept."""
    if timer.fulfilled_at is not None and at > timer.fulfilled_at:
        timer.paused_spans = [*timer.paused_spans, (timer.fulfilled_at, at)]
    timer.fulfilled_at = None
    timer.elapsed_seconds = None
    timer.status = BREACHED if timer.breached_at is not None else ACTIVE


def _next_cycle(timers: list[Timer], metric: str) -> int:
    return max((t.cycle for t in timers if t.metric == metric), default=0) + 1


def _start(timers: list[Timer], rules: Rules, metric: str, priority: str, at: dt.datetime) -> Timer | None:
    """A new cycle of ``metric`` at ``at``, unless one is running or the policy has no target."""
    target = rules.target(metric, priority)
    if target is None or any(t.running and t.metric == metric for t in timers):
        return None
    timer = Timer(metric=metric, cycle=_next_cycle(timers, metric), started_at=at, target_minutes=target,
                  policy_id=rules.policy_id)
    timers.append(timer)
    return timer


def _seed(timers: list[Timer], rules: Rules, priority: str, facts: TicketFacts) -> list[Timer]:
    new: list[Timer] = []
    metrics = {t.metric for t in timers}
    running = {t.metric for t in timers if t.running}

    def add(metric: str, start: dt.datetime) -> None:
        target = rules.target(metric, priority)
        if target is None:
            return
        timer = Timer(metric=metric, cycle=_next_cycle([*timers, *new], metric), started_at=start,
                      target_minutes=target, policy_id=rules.policy_id)
        new.append(timer)

    if FIRST_REPLY not in metrics and facts.first_agent_reply_at is None:
        add(FIRST_REPLY, facts.created_at)
    if RESOLUTION not in metrics:
        add(RESOLUTION, facts.created_at)
    first_reply_running = FIRST_REPLY in running or any(t.metric == FIRST_REPLY for t in new)
    if NEXT_REPLY not in running and facts.unanswered_since is not None and not first_reply_running:
        add(NEXT_REPLY, facts.unanswered_since)
    if PERIODIC_UPDATE not in running and facts.last_agent_reply_at is not None:
        add(PERIODIC_UPDATE, facts.last_agent_reply_at)
    return new
