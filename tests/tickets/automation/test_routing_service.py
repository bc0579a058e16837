"""Automatic assignment through the ticket hook, and reassign-on-away."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import TeamFactory
from tests.tickets.factories import TeamRoutingFactory, TicketFactory
from tests.queries import QueryCounter
from tickets.automation.routing_service import team_candidates, ticket_route, tickets_reroute_for_away_agent
from tickets.models import AgentProfile, AgentStatus, Message, MessageKind, Status, TeamRouting, Via

pytestmark = pytest.mark.django_db


def test_round_robin_assigns_new_tickets_in_turn_and_records_it(tenant, routed_team, make_agent, make_ticket):
    agents = sorted([make_agent(team=routed_team) for _ in range(3)], key=lambda u: u.pk)
    tickets = [make_ticket(team=routed_team) for _ in range(4)]
    assert [t.assignee_id for t in tickets] == [agents[0].pk, agents[1].pk, agents[2].pk, agents[0].pk]
    with tenant_scope(tenant):
        ticket = tickets[0]
        ticket.refresh_from_db()
        assert ticket.assignee_id == agents[0].pk
        assert ticket.version == 2  # created, then routed
        assert ticket.status == Status.OPEN  # assignment, by routing too, is the first action (tickets-core)
        entry = Message.objects.get(ticket=ticket, kind=MessageKind.SYSTEM)
        assert entry.via == Via.SYSTEM and "assignee" in entry.changes and entry.author_user_id is None
        updated = Event.objects.get(type="ticket.updated", subject_id=str(ticket.pk))
        assert updated.payload["changes"]["assignee_id"] == [None, agents[0].pk]
        assert updated.payload["via"] == Via.SYSTEM
        assert TeamRouting.objects.get(team=routed_team).last_assigned_user_id == agents[0].pk


def test_away_offline_full_and_non_assignable_members_are_skipped(tenant, routed_team, make_agent, make_ticket):
    make_agent(team=routed_team, status=AgentStatus.AWAY)
    make_agent(team=routed_team, status=AgentStatus.OFFLINE)
    full = make_agent(team=routed_team, capacity=1)
    make_agent(team=routed_team, role=Role.LIGHT_AGENT)
    TicketFactory(tenant=tenant, assignee=full, status=Status.OPEN)
    available = make_agent(team=routed_team)
    assert make_ticket(team=routed_team).assignee_id == available.pk
    assert make_ticket(team=routed_team).assignee_id == available.pk


def test_nobody_available_leaves_the_ticket_unassigned(routed_team, make_agent, make_ticket):
    make_agent(team=routed_team, status=AgentStatus.AWAY)
    ticket = make_ticket(team=routed_team)
    assert ticket.assignee_id is None


def test_least_loaded_counts_unsolved_tickets_only(tenant, team, make_agent, make_ticket):
    TeamRoutingFactory(tenant=tenant, team=team, mode="least_loaded")
    busy, idle = make_agent(team=team), make_agent(team=team)
    for _ in range(3):
        TicketFactory(tenant=tenant, assignee=busy, status=Status.OPEN)
    for _ in range(5):
        TicketFactory(tenant=tenant, assignee=idle, status=Status.SOLVED)
    TicketFactory(tenant=tenant, assignee=idle, status=Status.PENDING)
    assert make_ticket(team=team).assignee_id == idle.pk
    assert make_ticket(team=team).assignee_id == idle.pk  # 2 open vs 3
    assert make_ticket(team=team).assignee_id in (idle.pk, busy.pk)


def test_skills_and_languages_are_honoured(tenant, team, make_agent, make_ticket):
    TeamRoutingFactory(tenant=tenant, team=team, mode="round_robin", required_skills=["returns"])
    make_agent(team=team, skills=["billing"])
    english = make_agent(team=team, skills=["returns"], languages=["en"])
    turkish = make_agent(team=team, skills=["Returns"], languages=["tr"])
    assert make_ticket(team=team, language="tr").assignee_id == turkish.pk
    assert make_ticket(team=team, language="en").assignee_id == english.pk


def test_manual_teams_and_tickets_with_an_assignee_are_left_alone(tenant, team, make_agent, make_ticket, owner):
    TeamRoutingFactory(tenant=tenant, team=team, mode="manual")
    make_agent(team=team)
    assert make_ticket(team=team).assignee_id is None
    other = TeamFactory(tenant=tenant)
    TeamRoutingFactory(tenant=tenant, team=other, mode="round_robin")
    make_agent(team=other)
    assert make_ticket(team=other, assignee=owner).assignee_id == owner.pk


def test_moving_a_ticket_to_a_routed_team_routes_it(tenant, routed_team, make_agent, make_ticket, owner):
    from tickets.services.tickets import ticket_update

    agent = make_agent(team=routed_team)
    ticket = make_ticket()
    assert ticket.assignee_id is None
    with tenant_scope(tenant):
        ticket = ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, team=routed_team)
        assert ticket.assignee_id == agent.pk
        ticket.refresh_from_db()
        assert ticket.assignee_id == agent.pk and ticket.team_id == routed_team.pk


def test_candidates_are_read_in_one_query_whatever_the_team_size(tenant, routed_team, make_agent):
    for _ in range(6):
        user = make_agent(team=routed_team)
        TicketFactory(tenant=tenant, assignee=user, status=Status.OPEN)
    with tenant_scope(tenant), QueryCounter(connection) as queries:
        candidates = team_candidates(tenant=tenant, team_id=routed_team.pk)
    assert len(candidates) == 6 and all(c.open_count == 1 for c in candidates)
    assert len(queries) == 1


def test_reassign_on_away_moves_the_agents_open_tickets(tenant, routed_team, make_agent, make_ticket):
    with tenant_scope(tenant):
        TeamRouting.objects.filter(team=routed_team).update(reassign_on_away=True)
    leaving = make_agent(team=routed_team)
    staying = make_agent(team=routed_team)
    first, second = make_ticket(team=routed_team), make_ticket(team=routed_team)
    assigned = {first.assignee_id, second.assignee_id}
    assert assigned == {leaving.pk, staying.pk}
    mine = make_ticket(team=routed_team)  # round robin: the third goes to the first again
    solved = TicketFactory(tenant=tenant, team=routed_team, assignee=leaving, status=Status.SOLVED)
    with tenant_scope(tenant):
        AgentProfile.objects.filter(user=leaving).update(status=AgentStatus.AWAY)
        moved = tickets_reroute_for_away_agent(tenant=tenant, user=leaving)
        open_of_leaving = [t for t in (first, second, mine) if t.assignee_id == leaving.pk]
        assert moved == len(open_of_leaving) >= 1
        for ticket in (first, second, mine):
            ticket.refresh_from_db()
            assert ticket.assignee_id == staying.pk
        solved.refresh_from_db()
        assert solved.assignee_id == leaving.pk  # history stays as it was


def test_reassign_on_away_keeps_tickets_when_the_team_does_not_say_so_or_nobody_can_take_them(
        tenant, routed_team, make_agent, make_ticket):
    leaving = make_agent(team=routed_team)
    ticket = make_ticket(team=routed_team)
    assert ticket.assignee_id == leaving.pk
    with tenant_scope(tenant):
        AgentProfile.objects.filter(user=leaving).update(status=AgentStatus.AWAY)
        assert tickets_reroute_for_away_agent(tenant=tenant, user=leaving) == 0  # option off
        TeamRouting.objects.filter(team=routed_team).update(reassign_on_away=True)
        assert tickets_reroute_for_away_agent(tenant=tenant, user=leaving) == 0  # nobody else
        ticket.refresh_from_db()
        assert ticket.assignee_id == leaving.pk


def test_an_agent_going_away_hands_their_tickets_on(tenant, routed_team, make_agent, make_ticket, run_events,
                                                     owner):
    from tickets.services.work import agent_availability_set

    with tenant_scope(tenant):
        TeamRouting.objects.filter(team=routed_team).update(reassign_on_away=True)
    leaving = make_agent(team=routed_team)
    ticket = make_ticket(team=routed_team)
    staying = make_agent(team=routed_team)
    assert ticket.assignee_id == leaving.pk
    with run_events():
        agent_availability_set(tenant=tenant, user=leaving, actor=leaving, capacity=12)  # not a status change
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.assignee_id == leaving.pk
    with run_events():
        agent_availability_set(tenant=tenant, user=leaving, actor=leaving, status=AgentStatus.AWAY)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.assignee_id == staying.pk
        assert Event.objects.filter(type="ticket.updated", subject_id=str(ticket.pk),
                                    payload__changes__assignee_id=[leaving.pk, staying.pk]).exists()


def test_ticket_route_is_a_no_op_without_a_routed_team(tenant, make_ticket, make_agent):
    ticket = make_ticket()
    with tenant_scope(tenant):
        assert ticket_route(ticket=ticket) is None
