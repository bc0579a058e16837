"""SPEC.md §2.2/§2.3 through the pure SLA engine, as exact-instant assertions."""
from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings, strategies as st

from helpdesk.calendars.business_time import Schedule
from tickets.sla import engine
from tickets.sla.engine import MessageRole, Rules, Step, TicketFacts

UTC = dt.timezone.utc
IST = zoneinfo.ZoneInfo("Europe/Istanbul")
BER = zoneinfo.ZoneInfo("Europe/Berlin")
NY = zoneinfo.ZoneInfo("America/New_York")
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)

AGENT = MessageRole.AGENT_REPLY
CUSTOMER = MessageRole.CUSTOMER_MESSAGE


def rules(targets=None, *, schedule=engine.ALWAYS_OPEN, pause=("pending", "on_hold"), warning=15, policy_id=1,
          priority="normal"):
    targets = targets or {"first_reply": 120, "next_reply": 120, "periodic_update": 240, "resolution": 480}
    return Rules(policy_id=policy_id, targets={(m, priority): v for m, v in targets.items()},
                 schedule=schedule, pause_statuses=frozenset(pause), warning_minutes=warning)


class Ticket:
    """Drives the engine like the service does: one step per change, timers carried over."""

    def __init__(self, at, *, rules, status="new", priority="normal"):
        self.rules = rules
        self.status = status
        self.priority = priority
        self.timers: list[engine.Timer] = []
        self.breaches: list[engine.Timer] = []
        self.outcome = self._apply(Step(at=at, status=status, priority=priority, previous_status=None,
                                        facts=TicketFacts(created_at=at)))

    def _apply(self, step):
        outcome = engine.apply_step(self.timers, rules=self.rules, step=step)
        self.timers = outcome.timers
        self.breaches += outcome.breached
        return outcome

    def change(self, at, *, status=None, message=None, priority=None, rules="same", facts=None):
        previous = self.status
        self.status = status or self.status
        priority_changed = priority is not None and priority != self.priority
        self.priority = priority or self.priority
        policy_changed = False
        if rules != "same":
            policy_changed = (rules.policy_id if rules else None) != (self.rules.policy_id if self.rules else None)
            self.rules = rules
        self.outcome = self._apply(Step(at=at, status=self.status, priority=self.priority, previous_status=previous,
                                        message=message, policy_changed=policy_changed,
                                        priority_changed=priority_changed, facts=facts))
        return self

    def timer(self, metric, cycle=None):
        found = [t for t in self.timers if t.metric == metric and (cycle is None or t.cycle == cycle)]
        assert found, f"no {metric} timer"
        return found[-1]

    def cycles(self, metric):
        return [t for t in self.timers if t.metric == metric]


T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday


# --- SPEC §2.2 tests ------------------------------------------------------------------------


def test_open_pending_open_solved_counts_two_hours_of_resolution():
    ticket = Ticket(T0, rules=rules(), status="open")
    ticket.change(T0 + 1 * H, status="pending")
    assert ticket.timer("resolution").status == engine.PAUSED
    assert ticket.timer("resolution").due_at is None
    ticket.change(T0 + 6 * H, status="open")
    assert ticket.timer("resolution").due_at == T0 + 6 * H + 7 * H  # 480 min, 1 h used before the pause
    ticket.change(T0 + 7 * H, status="solved")
    resolution = ticket.timer("resolution")
    assert resolution.elapsed_seconds == 2 * 3600
    assert resolution.status == engine.ACHIEVED
    assert resolution.fulfilled_at == T0 + 7 * H
    assert resolution.paused_spans == [(T0 + 1 * H, T0 + 6 * H)]


def test_next_reply_is_anchored_at_the_oldest_unanswered_customer_message():
    start = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    ticket = Ticket(start, rules=rules())
    ticket.change(start + 30 * M, status="open", message=AGENT)  # the first reply
    assert ticket.cycles("next_reply") == []
    ticket.change(dt.datetime(2025, 3, 3, 10, 0, tzinfo=UTC), message=CUSTOMER)
    ticket.change(dt.datetime(2025, 3, 3, 10, 20, tzinfo=UTC), message=CUSTOMER)
    assert len(ticket.cycles("next_reply")) == 1
    assert ticket.timer("next_reply").due_at == dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    ticket.change(dt.datetime(2025, 3, 3, 11, 0, tzinfo=UTC), message=AGENT)
    cycle = ticket.timer("next_reply", 1)
    assert cycle.started_at == dt.datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    assert cycle.elapsed_seconds == 60 * 60
    assert cycle.status == engine.ACHIEVED
    # A new unanswered run is a new cycle.
    ticket.change(dt.datetime(2025, 3, 3, 13, 0, tzinfo=UTC), message=CUSTOMER)
    assert [(t.cycle, t.started_at, t.running) for t in ticket.cycles("next_reply")] == [
        (1, dt.datetime(2025, 3, 3, 10, 0, tzinfo=UTC), False),
        (2, dt.datetime(2025, 3, 3, 13, 0, tzinfo=UTC), True),
    ]


def test_first_reply_paused_while_pending_is_due_tuesday_1030():
    istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "17:00")
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST)  # Monday
    ticket = Ticket(created, rules=rules({"first_reply": 120}, schedule=istanbul))
    assert ticket.timer("first_reply").due_at == dt.datetime(2025, 3, 3, 11, 0, tzinfo=IST)
    ticket.change(dt.datetime(2025, 3, 3, 9, 30, tzinfo=IST), status="pending")
    paused = ticket.timer("first_reply")
    assert (paused.status, paused.due_at, paused.warn_at) == (engine.PAUSED, None, None)
    assert ticket.outcome.next_due_at is None
    ticket.change(dt.datetime(2025, 3, 4, 9, 0, tzinfo=IST), status="open")
    resumed = ticket.timer("first_reply")
    assert resumed.status == engine.ACTIVE
    assert resumed.due_at == dt.datetime(2025, 3, 4, 10, 30, tzinfo=IST)
    assert resumed.warn_at == dt.datetime(2025, 3, 4, 10, 15, tzinfo=IST)
    assert ticket.outcome.next_due_at == resumed.due_at


# --- SPEC §2.3 through the engine ------------------------------------------------------------


def test_business_hours_across_a_weekend():
    istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "18:00")
    created = dt.datetime(2025, 3, 7, 17, 30, tzinfo=IST)  # Friday
    ticket = Ticket(created, rules=rules({"first_reply": 120}, schedule=istanbul))
    assert ticket.timer("first_reply").due_at == dt.datetime(2025, 3, 10, 10, 30, tzinfo=IST)
    calendar_hours = Ticket(created, rules=rules({"first_reply": 120}))
    assert calendar_hours.timer("first_reply").due_at == dt.datetime(2025, 3, 7, 19, 30, tzinfo=IST)


def test_business_hours_skip_holidays():
    berlin = Schedule.weekdays("Europe/Berlin", "09:00", "18:00",
                               holidays=[dt.date(2025, 12, 25), dt.date(2025, 12, 26)])
    created = dt.datetime(2025, 12, 24, 16, 0, tzinfo=BER)
    ticket = Ticket(created, rules=rules({"resolution": 240}, schedule=berlin))
    assert ticket.timer("resolution").due_at == dt.datetime(2025, 12, 29, 11, 0, tzinfo=BER)


def test_business_hours_across_the_dst_change():
    new_york = Schedule.weekdays("America/New_York", "09:00", "17:00")
    created = dt.datetime(2025, 3, 7, 16, 0, tzinfo=NY)  # EST
    ticket = Ticket(created, rules=rules({"first_reply": 120}, schedule=new_york))
    due = ticket.timer("first_reply").due_at
    assert due == dt.datetime(2025, 3, 10, 14, 0, tzinfo=UTC)
    assert due.astimezone(NY).hour == 10  # EDT
    # Answered Monday 09:30 EDT: 60 business minutes Friday + 30 Monday.
    ticket.change(dt.datetime(2025, 3, 10, 9, 30, tzinfo=NY), status="open", message=AGENT)
    assert ticket.timer("first_reply").elapsed_seconds == 90 * 60


def test_paused_day_in_istanbul():
    istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "18:00")
    ticket = Ticket(dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST), rules=rules({"resolution": 240}, schedule=istanbul))
    ticket.change(dt.datetime(2025, 3, 3, 10, 0, tzinfo=IST), status="pending")
    ticket.change(dt.datetime(2025, 3, 4, 10, 0, tzinfo=IST), status="open")
    assert ticket.timer("resolution").due_at == dt.datetime(2025, 3, 4, 13, 0, tzinfo=IST)


# --- reopen ---------------------------------------------------------------------------------


def test_reopen_reactivates_resolution_with_accumulated_time_and_never_first_reply():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 1 * H, status="open", message=AGENT)
    first_reply = ticket.timer("first_reply")
    assert (first_reply.status, first_reply.fulfilled_at) == (engine.ACHIEVED, T0 + 1 * H)
    ticket.change(T0 + 2 * H, status="solved")
    assert ticket.timer("resolution").elapsed_seconds == 2 * 3600
    assert ticket.outcome.next_due_at is None
    # The customer writes back three hours later: solved -> open.
    ticket.change(T0 + 5 * H, status="open", message=CUSTOMER)
    resolution = ticket.timer("resolution")
    assert len(ticket.cycles("resolution")) == 1
    assert (resolution.status, resolution.fulfilled_at, resolution.elapsed_seconds) == (engine.ACTIVE, None, None)
    assert resolution.due_at == T0 + 5 * H + 6 * H  # 8 h target, 2 h already used
    assert ticket.cycles("first_reply") == [first_reply]  # never re-applied
    assert ticket.timer("next_reply").started_at == T0 + 5 * H
    ticket.change(T0 + 5 * H + 30 * M, status="solved", message=AGENT)
    resolution = ticket.timer("resolution")
    assert resolution.elapsed_seconds == 2 * 3600 + 30 * 60
    assert resolution.status == engine.ACHIEVED
    assert resolution.paused_spans == [(T0 + 2 * H, T0 + 5 * H)]


def test_a_breached_resolution_stays_breached_after_reopen():
    ticket = Ticket(T0, rules=rules({"resolution": 60}), status="open")
    ticket.change(T0 + 2 * H, status="solved")
    assert ticket.timer("resolution").status == engine.BREACHED
    assert ticket.timer("resolution").breached_at == T0 + 1 * H
    ticket.change(T0 + 3 * H, status="open")
    assert ticket.timer("resolution").status == engine.BREACHED
    assert ticket.timer("resolution").running
    assert ticket.outcome.breached_now


# --- what counts as a reply -------------------------------------------------------------------


def test_the_creating_message_counts_for_nothing():
    ticket = Ticket(T0, rules=rules())
    step = Step(at=T0, status="open", priority="normal", previous_status=None, message=AGENT,
                facts=TicketFacts(created_at=T0))
    outcome = engine.apply_step([], rules=rules(), step=step)
    assert {t.metric: t.running for t in outcome.timers} == {"first_reply": True, "resolution": True}
    assert ticket.cycles("periodic_update") == []


def test_notes_and_machine_messages_never_fulfil():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 10 * M, message=None)  # an internal note or a trigger's message: classified as None
    assert ticket.timer("first_reply").running


def test_customer_messages_before_the_first_reply_do_not_start_next_reply():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 10 * M, message=CUSTOMER)
    assert ticket.cycles("next_reply") == []
    ticket.change(T0 + 20 * M, status="open", message=AGENT)
    assert ticket.cycles("next_reply") == []
    assert ticket.timer("first_reply").elapsed_seconds == 20 * 60


def test_periodic_update_runs_between_agent_replies_and_pauses():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 1 * H, status="open", message=AGENT)
    assert ticket.timer("periodic_update").started_at == T0 + 1 * H
    assert ticket.timer("periodic_update").due_at == T0 + 5 * H
    # Reply and set pending in one change: the next cycle starts paused.
    ticket.change(T0 + 2 * H, status="pending", message=AGENT)
    assert [(t.cycle, t.status) for t in ticket.cycles("periodic_update")] == [
        (1, engine.ACHIEVED), (2, engine.PAUSED)]
    ticket.change(T0 + 4 * H, status="open")
    assert ticket.timer("periodic_update", 2).due_at == T0 + 8 * H


def test_replying_while_pending_fulfils_without_the_paused_time():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 30 * M, status="pending")
    ticket.change(T0 + 3 * H, message=AGENT)
    first = ticket.timer("first_reply")
    assert (first.status, first.elapsed_seconds, first.fulfilled_at) == (engine.ACHIEVED, 30 * 60, T0 + 3 * H)


def test_solving_fulfils_every_running_metric():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 1 * H, status="solved")
    assert all(not t.running for t in ticket.timers)
    assert ticket.outcome.next_due_at is None


# --- breach, achievement, warning ------------------------------------------------------------------


def test_fulfilled_exactly_at_due_is_achieved_and_a_minute_late_is_breached():
    on_time = Ticket(T0, rules=rules()).change(T0 + 120 * M, status="open", message=AGENT)
    assert on_time.timer("first_reply").status == engine.ACHIEVED
    assert on_time.breaches == []
    late = Ticket(T0, rules=rules()).change(T0 + 121 * M, status="open", message=AGENT)
    first = late.timer("first_reply")
    assert (first.status, first.breached_at, first.fulfilled_at) == (engine.BREACHED, T0 + 120 * M, T0 + 121 * M)
    assert [t.metric for t in late.breaches] == ["first_reply"]


def test_a_breach_is_flagged_once_and_is_final():
    ticket = Ticket(T0, rules=rules())
    ticket.change(T0 + 3 * H, status="open")
    assert [t.metric for t in ticket.breaches] == ["first_reply"]
    ticket.change(T0 + 4 * H, status="pending")
    ticket.change(T0 + 5 * H, status="open")
    assert [t.metric for t in ticket.breaches] == ["first_reply"]
    ticket.change(T0 + 6 * H, message=AGENT)
    first = ticket.timer("first_reply")
    assert (first.status, first.fulfilled_at) == (engine.BREACHED, T0 + 6 * H)
    assert first.elapsed_seconds == 5 * 3600  # one hour paused


def test_warning_instant_is_the_lead_time_before_due():
    ticket = Ticket(T0, rules=rules(warning=30))
    assert ticket.timer("first_reply").warn_at == T0 + 90 * M


# --- re-targeting ---------------------------------------------------------------------------


def test_priority_change_retargets_from_the_original_start_keeping_paused_time():
    targets = {("first_reply", "normal"): 480, ("first_reply", "urgent"): 60}
    policy = Rules(policy_id=1, targets=targets, schedule=engine.ALWAYS_OPEN,
                   pause_statuses=frozenset({"pending"}))
    ticket = Ticket(T0, rules=policy)
    ticket.change(T0 + 10 * M, status="pending")
    ticket.change(T0 + 40 * M, status="open")
    ticket.change(T0 + 45 * M, priority="urgent")
    first = ticket.timer("first_reply")
    assert (first.target_minutes, first.started_at) == (60, T0)
    assert first.due_at == T0 + 90 * M  # 60 min + the 30 paused
    assert ticket.breaches == []
    # Shortened so far that it is already late: breached at the new due instant.
    policy2 = Rules(policy_id=2, targets={("first_reply", "urgent"): 15}, schedule=engine.ALWAYS_OPEN)
    ticket.change(T0 + 50 * M, rules=policy2)
    first = ticket.timer("first_reply")
    assert (first.status, first.breached_at, first.policy_id) == (engine.BREACHED, T0 + 45 * M, 2)


def test_policy_change_to_a_business_calendar_keeps_start_and_pauses():
    istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "18:00")
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST)
    ticket = Ticket(created, rules=rules({"resolution": 600}))
    ticket.change(created + 1 * H, status="pending")
    ticket.change(created + 2 * H, status="open")
    ticket.change(created + 3 * H, rules=rules({"resolution": 600}, schedule=istanbul, policy_id=7))
    # Mon 09-10 counted, 10-11 paused, 11-18 counted (7 h), Tue 09:00 + 2 h.
    assert ticket.timer("resolution").due_at == dt.datetime(2025, 3, 4, 11, 0, tzinfo=IST)
    assert ticket.timer("resolution").policy_id == 7


def test_no_policy_removes_running_timers_but_keeps_breaches():
    ticket = Ticket(T0, rules=rules({"first_reply": 10, "resolution": 480}))
    ticket.change(T0 + 1 * H, status="open")  # first_reply breached
    stored = [engine.Timer(**{**t.__dict__, "pk": i + 1}) for i, t in enumerate(ticket.timers)]
    outcome = engine.apply_step(stored, rules=None, step=Step(at=T0 + 2 * H, status="open", priority="normal",
                                                              previous_status="open", policy_changed=True))
    assert [t.metric for t in outcome.removed] == ["resolution"]
    assert [(t.metric, t.status) for t in outcome.timers] == [("first_reply", engine.BREACHED)]
    assert outcome.breached_now


def test_a_policy_applied_later_seeds_from_the_conversation():
    ticket = Ticket(T0, rules=None)
    assert ticket.timers == []
    facts = TicketFacts(created_at=T0, first_agent_reply_at=T0 + 1 * H, last_agent_reply_at=T0 + 2 * H,
                        unanswered_since=T0 + 3 * H)
    ticket.change(T0 + 4 * H, status="open", rules=rules(), facts=facts)
    assert {t.metric: t.started_at for t in ticket.timers} == {
        "next_reply": T0 + 3 * H, "periodic_update": T0 + 2 * H, "resolution": T0}
    assert ticket.timer("resolution").due_at == T0 + 8 * H


def test_no_target_for_a_priority_means_no_timer():
    ticket = Ticket(T0, rules=rules({"first_reply": 60}, priority="urgent"))
    assert ticket.timers == []


# --- properties -----------------------------------------------------------------------------

_STATUSES = st.sampled_from(["open", "pending", "on_hold", "new"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=1, max_value=600), _STATUSES), min_size=1, max_size=12))
def test_resolution_elapsed_is_the_unpaused_time_in_calendar_hours(segments):
    """Whatever the status sequence, resolution counts exactly the minutes spent outside
    pause statuses, and a no-op step changes nothing."""
    ticket = Ticket(T0, rules=rules({"resolution": 100_000}), status="new")
    at, expected, status = T0, 0, "new"
    for minutes, next_status in segments:
        if status not in ("pending", "on_hold"):
            expected += minutes
        at += minutes * M
        before = [engine.Timer(**t.__dict__) for t in ticket.timers]
        ticket.change(at, status=status)  # nothing changes at this instant
        assert ticket.timers == before
        ticket.change(at, status=next_status)
        status = next_status
    ticket.change(at, status="solved")
    assert ticket.timer("resolution").elapsed_seconds == expected * 60


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=60 * 24 * 10), st.integers(min_value=1, max_value=3000))
def test_due_is_consistent_with_elapsed_in_business_hours(offset, target):
    """A reply at due_at has elapsed exactly the target; a reply a minute later breaches."""
    istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "18:00")
    created = T0 + offset * M
    ticket = Ticket(created, rules=rules({"first_reply": target}, schedule=istanbul))
    due = ticket.timer("first_reply").due_at
    on_time = Ticket(created, rules=rules({"first_reply": target}, schedule=istanbul))
    on_time.change(due, status="open", message=AGENT)
    assert on_time.timer("first_reply").elapsed_seconds == target * 60
    assert on_time.timer("first_reply").status == engine.ACHIEVED
    ticket.change(due + M, status="open", message=AGENT)
    assert ticket.timer("first_reply").status == engine.BREACHED


@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_created_in_a_pause_status_starts_paused(status):
    ticket = Ticket(T0, rules=rules(), status=status)
    assert {t.status for t in ticket.timers} == {engine.PAUSED}
    assert ticket.outcome.next_due_at is None


def test_a_breached_unanswered_cycle_stays_the_next_due_until_answered_and_not_while_paused():
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    ticket = Ticket(created, rules=rules({"first_reply": 60, "resolution": 480}))
    first_due = created + H
    # Two hours later the customer writes again (an update of the ticket): first reply settles breached.
    ticket.change(created + 2 * H, message=CUSTOMER)
    assert ticket.timer("first_reply").status == engine.BREACHED
    assert ticket.outcome.breached_now and ticket.outcome.next_due_at == first_due  # overdue first
    ticket.change(created + 2 * H + M, status="pending")
    assert ticket.outcome.next_due_at is None  # waiting on the customer: nothing counts
    ticket.change(created + 3 * H, status="open")
    assert ticket.outcome.next_due_at == first_due
    ticket.change(created + 3 * H + M, message=AGENT)
    assert ticket.outcome.next_due_at == ticket.timer("resolution").due_at
