"""The SLA hook end to end: real ticket services, real PostgreSQL, exact instants."""
from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from tests.tickets.sla.conftest import targets_for
from tickets.models import Message, MessageKind, SlaTimer, Ticket, Via
from tickets.sla import engine
from tickets.sla.selectors import sla_badge, sla_summary, with_sla
from tickets.sla.services import message_role, sla_recompute

UTC = dt.timezone.utc
IST = zoneinfo.ZoneInfo("Europe/Istanbul")
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
MONDAY_9 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

REPLY_AND_RESOLVE = targets_for({"first_reply": 120, "next_reply": 60, "resolution": 480})


@pytest.fixture
def svc():
    from tickets import services

    return services


def timers(ticket):
    with tenant_scope(ticket.tenant):
        return {(t.metric, t.cycle): t for t in SlaTimer.objects.filter(ticket=ticket)}


def fresh(ticket):
    with tenant_scope(ticket.tenant):
        return Ticket.objects.get(pk=ticket.pk)


def create(svc, tenant, requester, **kwargs):
    kwargs.setdefault("subject", "Where is my order?")
    kwargs.setdefault("description", "Ordered two weeks ago.")
    kwargs.setdefault("via", Via.CUSTOMER)
    kwargs.setdefault("actor", None)
    return svc.ticket_create(tenant=tenant, requester=requester, **kwargs)


def reply(svc, ticket, agent, body="We are on it.", **kwargs):
    return svc.message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body=body, public=True, **kwargs)


def customer_writes(svc, ticket, requester, body="Any news?"):
    return svc.message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, body=body, public=True,
                           author_contact=requester)


def test_creation_starts_first_reply_and_resolution_and_stores_the_next_due(svc, tenant, requester, clock,
                                                                            make_policy):
    policy = make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    found = timers(ticket)
    assert set(found) == {("first_reply", 1), ("resolution", 1)}
    assert found[("first_reply", 1)].due_at == MONDAY_9 + 2 * H
    assert found[("first_reply", 1)].warn_at == MONDAY_9 + 105 * M
    assert found[("resolution", 1)].due_at == MONDAY_9 + 8 * H
    stored = fresh(ticket)
    assert (stored.sla_policy_id, stored.sla_next_due_at, stored.sla_breached) == (policy.pk, MONDAY_9 + 2 * H, False)
    assert (ticket.sla_policy_id, ticket.sla_next_due_at) == (policy.pk, MONDAY_9 + 2 * H)


def test_agent_reply_fulfils_first_reply_and_notes_do_not(svc, tenant, requester, agent, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.advance(minutes=20)
    svc.message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Checking with @warehouse", public=False)
    assert timers(ticket)[("first_reply", 1)].status == "active"
    clock.advance(minutes=25)
    reply(svc, ticket, agent)
    first = timers(ticket)[("first_reply", 1)]
    assert (first.status, first.fulfilled_at, first.elapsed_seconds) == ("achieved", MONDAY_9 + 45 * M, 45 * 60)
    assert fresh(ticket).sla_next_due_at == MONDAY_9 + 8 * H  # only resolution runs now


def test_trigger_and_automation_messages_are_not_agent_replies(svc, tenant, requester, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.advance(minutes=5)
    for via in (Via.TRIGGER, Via.AUTOMATION):
        svc.message_add(ticket=ticket, actor=None, via=via, body="We received your request.", public=True)
    assert timers(ticket)[("first_reply", 1)].status == "active"


def test_next_reply_end_to_end_is_anchored_at_the_first_unanswered_message(svc, tenant, requester, agent, clock,
                                                                           make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.set(MONDAY_9 + 30 * M)
    reply(svc, ticket, agent)
    clock.set(dt.datetime(2025, 3, 3, 10, 0, tzinfo=UTC))
    customer_writes(svc, ticket, requester)
    clock.set(dt.datetime(2025, 3, 3, 10, 20, tzinfo=UTC))
    customer_writes(svc, ticket, requester, "Hello?")
    assert fresh(ticket).sla_next_due_at == dt.datetime(2025, 3, 3, 11, 0, tzinfo=UTC)
    clock.set(dt.datetime(2025, 3, 3, 11, 0, tzinfo=UTC))
    reply(svc, ticket, agent)
    cycle = timers(ticket)[("next_reply", 1)]
    assert (cycle.started_at, cycle.elapsed_seconds, cycle.status) == (
        dt.datetime(2025, 3, 3, 10, 0, tzinfo=UTC), 3600, "achieved")
    assert ("next_reply", 2) not in timers(ticket)


def test_pending_pauses_in_business_hours_and_due_is_tuesday_1030(svc, tenant, requester, agent, clock,
                                                                   make_policy, calendar_9_to_17):
    make_policy(targets=targets_for({"first_reply": 120}), calendar=calendar_9_to_17)
    clock.set(dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST))
    ticket = create(svc, tenant, requester)
    clock.set(dt.datetime(2025, 3, 3, 9, 30, tzinfo=IST))
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="pending")
    paused = timers(ticket)[("first_reply", 1)]
    assert (paused.status, paused.due_at, paused.warn_at, paused.paused_at) == (
        "paused", None, None, dt.datetime(2025, 3, 3, 9, 30, tzinfo=IST))
    assert fresh(ticket).sla_next_due_at is None
    with tenant_scope(tenant):
        assert sla_summary(with_sla(Ticket.objects.filter(pk=ticket.pk)).get()) == [
            {"metric": "first_reply", "status": "paused", "due_at": None, "breached_at": None,
             "fulfilled_at": None, "policy_id": paused.policy_id}]
    clock.set(dt.datetime(2025, 3, 4, 9, 0, tzinfo=IST))
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="open")
    resumed = timers(ticket)[("first_reply", 1)]
    assert (resumed.status, resumed.due_at) == ("active", dt.datetime(2025, 3, 4, 10, 30, tzinfo=IST))
    assert fresh(ticket).sla_next_due_at == dt.datetime(2025, 3, 4, 10, 30, tzinfo=IST)


def test_solve_and_customer_reopen(svc, tenant, requester, agent, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.advance(hours=1)
    reply(svc, ticket, agent)
    clock.advance(hours=1)
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="solved")
    resolution = timers(ticket)[("resolution", 1)]
    assert (resolution.status, resolution.elapsed_seconds) == ("achieved", 2 * 3600)
    assert fresh(ticket).sla_next_due_at is None
    clock.advance(hours=3)  # 14:00
    customer_writes(svc, ticket, requester, "It is broken again.")
    assert fresh(ticket).status == "open"
    found = timers(ticket)
    assert (found[("resolution", 1)].status, found[("resolution", 1)].fulfilled_at) == ("active", None)
    assert found[("resolution", 1)].due_at == MONDAY_9 + 5 * H + 6 * H
    assert [k for k in found if k[0] == "first_reply"] == [("first_reply", 1)]
    assert found[("next_reply", 1)].started_at == MONDAY_9 + 5 * H


def test_late_reply_is_breached_once_with_an_event(svc, tenant, requester, agent, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.advance(hours=3)
    reply(svc, ticket, agent)
    first = timers(ticket)[("first_reply", 1)]
    assert (first.status, first.breached_at, first.fulfilled_at) == ("breached", MONDAY_9 + 2 * H, MONDAY_9 + 3 * H)
    with tenant_scope(tenant):
        events = list(Event.objects.filter(type="sla.breach"))
    assert [e.payload for e in events] == [{"ticket_id": ticket.pk, "number": ticket.number, "metric": "first_reply",
                                            "due_at": (MONDAY_9 + 2 * H).isoformat(), "assignee_id": None}]
    assert fresh(ticket).sla_breached is False  # fulfilled: not in breach any more


def test_policies_match_in_position_order_and_priority_change_retargets(svc, tenant, requester, agent, clock,
                                                                        make_policy):
    urgent = make_policy(name="Urgent", position=0, targets=targets_for({"first_reply": 30}),
                         conditions={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]})
    standard = make_policy(name="Standard", position=1, targets=REPLY_AND_RESOLVE)
    make_policy(name="Never reached", position=2, targets=targets_for({"first_reply": 1}))
    ticket = create(svc, tenant, requester)
    assert fresh(ticket).sla_policy_id == standard.pk
    clock.advance(minutes=10)
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="pending")
    clock.advance(minutes=20)
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="open", priority="urgent")
    found = timers(ticket)
    assert fresh(ticket).sla_policy_id == urgent.pk
    assert (found[("first_reply", 1)].target_minutes, found[("first_reply", 1)].started_at) == (30, MONDAY_9)
    assert found[("first_reply", 1)].due_at == MONDAY_9 + 50 * M  # 30 min + 20 paused
    assert ("resolution", 1) not in found  # the urgent policy sets no resolution target
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority="normal")
    found = timers(ticket)
    assert fresh(ticket).sla_policy_id == standard.pk
    assert found[("first_reply", 1)].due_at == MONDAY_9 + 140 * M
    assert found[("resolution", 1)].started_at == MONDAY_9  # seeded from creation again


def test_no_matching_policy_means_no_timers(svc, tenant, requester, agent, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE,
                conditions={"all": [{"field": "tags", "operator": "contains", "value": "vip"}]})
    ticket = create(svc, tenant, requester)
    assert timers(ticket) == {}
    assert fresh(ticket).sla_policy_id is None
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, add_tags=["vip"])
    assert set(timers(ticket)) == {("first_reply", 1), ("resolution", 1)}
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, remove_tags=["vip"])
    assert timers(ticket) == {}
    assert (fresh(ticket).sla_policy_id, fresh(ticket).sla_next_due_at) == (None, None)


def test_policy_edits_reach_a_ticket_at_its_next_change_or_a_recompute(svc, tenant, requester, clock, make_policy):
    policy = make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    from tickets.sla.policies import sla_policy_update

    sla_policy_update(policy=policy, actor=None, targets=[{"metric": "first_reply", "priority": "normal",
                                                           "minutes": 15}])
    with tenant_scope(tenant):
        sla_recompute(ticket=ticket)
    found = timers(ticket)
    assert found[("first_reply", 1)].due_at == MONDAY_9 + 15 * M
    assert ("resolution", 1) not in found


def test_summary_and_badge_read_prefetched_timers_without_queries(svc, tenant, requester, agent, clock,
                                                                  make_policy, django_assert_num_queries):
    make_policy(targets=REPLY_AND_RESOLVE)
    for _ in range(3):
        create(svc, tenant, requester)
    with tenant_scope(tenant):
        rows = list(with_sla(Ticket.objects.all()))
        with django_assert_num_queries(0):
            summaries = [sla_summary(t) for t in rows]
            badges = [sla_badge(t, now=MONDAY_9 + 110 * M) for t in rows]
    assert [s["metric"] for s in summaries[0]] == ["first_reply", "resolution"]
    assert badges[0]["metric"] == "first_reply"
    assert badges[0]["urgency"] == "warning"
    assert badges[0]["seconds_left"] == 600


def test_solving_without_a_reply_fulfils_every_timer(svc, tenant, requester, agent, clock, make_policy):
    make_policy(targets=REPLY_AND_RESOLVE)
    ticket = create(svc, tenant, requester)
    clock.advance(minutes=30)
    svc.ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="solved")
    found = timers(ticket)
    assert {k: (t.status, t.fulfilled_at) for k, t in found.items()} == {
        ("first_reply", 1): ("achieved", MONDAY_9 + 30 * M), ("resolution", 1): ("achieved", MONDAY_9 + 30 * M)}
    assert (fresh(ticket).sla_next_due_at, fresh(ticket).sla_breached) == (None, False)


def test_message_roles():
    public = dict(kind=MessageKind.PUBLIC, side_conversation_id=None)
    assert message_role(Message(**public, via=Via.CONSOLE, author_user_id=1)) == engine.MessageRole.AGENT_REPLY
    assert message_role(Message(**public, via=Via.API)) == engine.MessageRole.AGENT_REPLY
    assert message_role(Message(**public, via=Via.CUSTOMER, author_contact_id=3)) == \
        engine.MessageRole.CUSTOMER_MESSAGE
    assert message_role(Message(**public, via=Via.API, author_contact_id=3)) == engine.MessageRole.CUSTOMER_MESSAGE
    assert message_role(Message(**public, via=Via.TRIGGER)) is None
    assert message_role(Message(**public, via=Via.AUTOMATION)) is None
    assert message_role(Message(kind=MessageKind.NOTE, via=Via.CONSOLE, author_user_id=1)) is None
    assert message_role(Message(kind=MessageKind.SYSTEM, via=Via.CONSOLE)) is None
    assert message_role(Message(**{**public, "side_conversation_id": 5}, via=Via.CONSOLE)) is None
    assert message_role(None) is None


def test_a_tickets_own_business_hours_replace_its_policys(svc, tenant, other_tenant, requester, agent, clock,
                                                          make_policy, calendar_9_to_17):
    """A ticket from a service location's page runs in the location's hours: the matched
    policy's targets, counted in the ticket's calendar, not the policy's (here: always open)."""
    make_policy(targets=targets_for({"first_reply": 120}))
    with tenant_scope(tenant):
        weekend_shop = BusinessCalendar.objects.create(
            tenant=tenant, name="Weekend shop", timezone="Europe/Istanbul",
            weekly_hours={"sat": [["10:00", "14:00"]], "sun": [["10:00", "14:00"]]})
    clock.set(dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST))  # Monday
    plain = create(svc, tenant, requester)
    assert timers(plain)[("first_reply", 1)].due_at == dt.datetime(2025, 3, 3, 11, 0, tzinfo=IST)
    local = create(svc, tenant, requester, business_hours=weekend_shop)
    assert fresh(local).business_hours_id == weekend_shop.pk
    assert timers(local)[("first_reply", 1)].due_at == dt.datetime(2025, 3, 8, 12, 0, tzinfo=IST)  # Saturday
    # Later changes keep counting in the ticket's hours (pause on a Saturday, resume Sunday).
    clock.set(dt.datetime(2025, 3, 8, 11, 0, tzinfo=IST))
    svc.ticket_update(ticket=local, actor=agent, via=Via.CONSOLE, status="pending")
    clock.set(dt.datetime(2025, 3, 9, 10, 0, tzinfo=IST))
    svc.ticket_update(ticket=local, actor=agent, via=Via.CONSOLE, status="open")
    assert timers(local)[("first_reply", 1)].due_at == dt.datetime(2025, 3, 9, 11, 0, tzinfo=IST)
    # Another tenant's calendar is refused and nothing is written.
    with tenant_scope(other_tenant):
        foreign = BusinessCalendar.objects.create(tenant=other_tenant, name="Theirs", timezone="UTC",
                                                  weekly_hours={})
    with pytest.raises(ValidationError) as refused:
        create(svc, tenant, requester, business_hours=foreign)
    assert "business_hours" in refused.value.message_dict
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 2
