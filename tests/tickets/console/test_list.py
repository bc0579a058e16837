"""The console's ticket list: views, filters, search, sort, keyset pages, bulk changes."""
from __future__ import annotations

import re

import pytest
from django.db import connection

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, ContactIdentityFactory, TeamFactory, agent_in
from tests.tickets.console.conftest import OTHER_HOST, client_for, make_ticket
from tests.tickets.factories import SavedViewFactory, TagFactory, TicketTagFactory
from tests.queries import QueryCounter
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db
LIST = "/console/tickets/"


def numbers(response) -> list[int]:
    return [int(n) for n in re.findall(r'class="ticket-number">#(\d+)<', response.content.decode())]


def test_the_list_shows_the_tenants_tickets_only(agent_client, tenant, other_tenant):
    mine = make_ticket(tenant, subject="Broken zipper")
    theirs = make_ticket(other_tenant, subject="Globex secret subject")
    response = agent_client.get(LIST)
    assert response.status_code == 200
    assert numbers(response) == [mine.number]
    assert b"Broken zipper" in response.content
    assert b"Globex secret subject" not in response.content
    assert theirs.number not in numbers(response)


def test_anonymous_visitors_are_sent_to_sign_in(client, tenant):
    response = client.get(LIST, HTTP_HOST="acme.localhost")
    assert response.status_code == 302
    assert "/console/login/" in response["Location"]


def test_roles_without_tickets_view_are_refused(tenant):
    analyst = agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test")
    assert client_for(analyst).get(LIST).status_code == 403


def test_filters_status_priority_assignee_team_and_tag(agent_client, tenant, agent):
    team = TeamFactory(tenant=tenant, name="Returns")
    other = agent_in(tenant, role=Role.AGENT, email="other@acme.test")
    pending_mine = make_ticket(tenant, status=Status.PENDING, assignee=agent, priority="high", team=team)
    open_other = make_ticket(tenant, status=Status.OPEN, assignee=other, priority="low")
    unassigned = make_ticket(tenant, status=Status.NEW)
    tag = TagFactory(tenant=tenant, name="refund")
    TicketTagFactory(tenant=tenant, ticket=open_other, tag=tag)

    assert numbers(agent_client.get(LIST, {"status": "pending"})) == [pending_mine.number]
    assert numbers(agent_client.get(LIST, {"priority": "low"})) == [open_other.number]
    assert numbers(agent_client.get(LIST, {"assignee": "me"})) == [pending_mine.number]
    assert numbers(agent_client.get(LIST, {"assignee": "none"})) == [unassigned.number]
    assert numbers(agent_client.get(LIST, {"assignee": str(other.pk)})) == [open_other.number]
    assert numbers(agent_client.get(LIST, {"team": str(team.pk)})) == [pending_mine.number]
    assert set(numbers(agent_client.get(LIST, {"team": "none"}))) == {open_other.number, unassigned.number}
    assert numbers(agent_client.get(LIST, {"tag": "Refund"})) == [open_other.number]
    both = agent_client.get(LIST + "?status=pending&status=new")
    assert set(numbers(both)) == {pending_mine.number, unassigned.number}


def test_search_by_number_subject_and_requester(agent_client, tenant):
    contact = ContactFactory(tenant=tenant, name="Zeynep Kaya")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="zeynep@shop.example")
    by_contact = make_ticket(tenant, requester=contact, subject="Invoice copy")
    by_subject = make_ticket(tenant, subject="Wrong colour delivered")
    assert numbers(agent_client.get(LIST, {"q": f"#{by_subject.number}"})) == [by_subject.number]
    assert numbers(agent_client.get(LIST, {"q": str(by_contact.number)})) == [by_contact.number]
    assert numbers(agent_client.get(LIST, {"q": "colour"})) == [by_subject.number]
    assert numbers(agent_client.get(LIST, {"q": "zeynep@shop"})) == [by_contact.number]
    assert numbers(agent_client.get(LIST, {"q": "Kaya"})) == [by_contact.number]
    empty = agent_client.get(LIST, {"q": "nothing like this"})
    assert numbers(empty) == [] and b"No tickets match these filters." in empty.content


@pytest.mark.parametrize("query", [
    {"status": "bogus"}, {"priority": "extreme"}, {"assignee": "999999"}, {"team": "abc"},
    {"sort": "subject; drop table tickets_ticket"}, {"after": "not-a-cursor"}, {"view": "999999"},
    {"q": "x" * 201},
])
def test_bad_filters_are_a_400_not_a_500(agent_client, tenant, query):
    make_ticket(tenant)
    response = agent_client.get(LIST, query)
    assert response.status_code == 400
    assert b"form-errors" in response.content


def test_another_tenants_team_or_agent_is_not_a_valid_filter(agent_client, tenant, other_tenant, other_agent):
    team = TeamFactory(tenant=other_tenant)
    assert agent_client.get(LIST, {"team": str(team.pk)}).status_code == 400
    assert agent_client.get(LIST, {"assignee": str(other_agent.pk)}).status_code == 400


def test_sorting_comes_from_the_allowlist(agent_client, tenant):
    low = make_ticket(tenant, priority="low")
    urgent = make_ticket(tenant, priority="urgent")
    normal = make_ticket(tenant, priority="normal")
    assert numbers(agent_client.get(LIST, {"sort": "-priority"})) == [urgent.number, normal.number, low.number]
    assert numbers(agent_client.get(LIST, {"sort": "-number"})) == [normal.number, urgent.number, low.number]
    assert numbers(agent_client.get(LIST, {"sort": "created_at"})) == [low.number, urgent.number, normal.number]


def test_pages_follow_a_cursor_without_counting_the_table(agent_client, tenant):
    made = [make_ticket(tenant) for _ in range(53)]
    with QueryCounter(connection) as queries:
        first = agent_client.get(LIST, {"sort": "-number"})
    assert first.status_code == 200
    page = numbers(first)
    assert page == sorted((t.number for t in made), reverse=True)[:50]
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        if "COUNT(" in sql and "TICKETS_TICKET" in sql:
            assert "LIMIT" in sql, f"an unbounded count on every page: {query['sql']}"
    next_url = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    second = agent_client.get(next_url)
    assert numbers(second) == sorted((t.number for t in made), reverse=True)[50:]
    assert 'rel="next"' not in second.content.decode()
    assert "First page" in second.content.decode()


def test_the_page_costs_the_same_number_of_queries_for_3_or_40_rows(agent_client, tenant, agent):
    team = TeamFactory(tenant=tenant)
    tag = TagFactory(tenant=tenant, name="vip")

    def add(count):
        for _ in range(count):
            ticket = make_ticket(tenant, assignee=agent, team=team, requester=ContactFactory(tenant=tenant))
            TicketTagFactory(tenant=tenant, ticket=ticket, tag=tag)

    view = SavedViewFactory(tenant=tenant, conditions={}, columns=["number", "subject", "requester", "tags",
                                                                    "assignee", "team", "sla_next_due_at"])
    add(3)
    agent_client.get(LIST)  # warm the session and caches
    with QueryCounter(connection) as small:
        response = agent_client.get(LIST, {"view": view.pk})
    assert len(numbers(response)) == 3
    add(37)
    with QueryCounter(connection) as large:
        response = agent_client.get(LIST, {"view": view.pk})
    assert len(numbers(response)) == 40
    assert len(large.captured_queries) == len(small.captured_queries)


def test_saved_views_list_their_tickets_and_personal_views_stay_personal(agent_client, tenant, agent):
    pending = make_ticket(tenant, status=Status.PENDING)
    make_ticket(tenant, status=Status.OPEN)
    shared = SavedViewFactory(tenant=tenant, name="Waiting on customers",
                              conditions={"all": [{"field": "status", "operator": "is", "value": "pending"}]})
    colleague = agent_in(tenant, role=Role.AGENT, email="colleague@acme.test")
    private = SavedViewFactory(tenant=tenant, name="Colleague's private list", owner=colleague)
    own = SavedViewFactory(tenant=tenant, name="My own list", owner=agent)

    page = agent_client.get(LIST)
    assert b"Waiting on customers" in page.content and b"My own list" in page.content
    assert b"Colleague&#x27;s private list" not in page.content and b"Colleague's private list" not in page.content
    listed = agent_client.get(LIST, {"view": shared.pk})
    assert numbers(listed) == [pending.number]
    assert 'aria-current="page"' in listed.content.decode()
    assert agent_client.get(LIST, {"view": own.pk}).status_code == 200
    assert agent_client.get(LIST, {"view": private.pk}).status_code == 400


def test_the_view_panel_shows_capped_counts(agent_client, tenant):
    SavedViewFactory(tenant=tenant, name="Everything open",
                     conditions={"all": [{"field": "status", "operator": "is", "value": "open"}]})
    for _ in range(3):
        make_ticket(tenant, status=Status.OPEN)
    assert re.search(r'class="view-count"><span aria-hidden="true">3<', agent_client.get(LIST).content.decode())


def test_me_in_a_view_is_the_viewer(tenant, agent):
    colleague = agent_in(tenant, role=Role.AGENT, email="colleague@acme.test")
    mine = make_ticket(tenant, assignee=agent)
    theirs = make_ticket(tenant, assignee=colleague)
    view = SavedViewFactory(tenant=tenant, conditions={"all": [{"field": "assignee_id", "operator": "is",
                                                                "value": "me"}]})
    assert numbers(client_for(agent).get(LIST, {"view": view.pk})) == [mine.number]
    assert numbers(client_for(colleague).get(LIST, {"view": view.pk})) == [theirs.number]


def test_live_updates_and_shortcuts_are_wired(agent_client, tenant):
    ticket = make_ticket(tenant)
    html = agent_client.get(LIST).content.decode()
    assert f'data-ticket-id="{ticket.pk}"' in html
    assert 'id="live-bar"' in html and "console/tickets.js" in html
    assert 'id="shortcuts-dialog"' in html


# --- bulk changes ---------------------------------------------------------------------------


def test_bulk_change_updates_every_selected_ticket_through_the_service(agent_client, tenant, agent):
    first, second, untouched = (make_ticket(tenant, status=Status.OPEN, assignee=agent) for _ in range(3))
    response = agent_client.post("/console/tickets/bulk/", {
        "tickets": [first.pk, second.pk], "status": "pending", "add_tags": "waiting, vip", "next": "/console/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/console/tickets/"
    with tenant_scope(tenant):
        for ticket in (first, second):
            ticket.refresh_from_db()
            assert ticket.status == Status.PENDING
            assert sorted(t.name for t in ticket.tags.all()) == ["vip", "waiting"]
            assert ticket.messages.filter(kind="system").exists()  # the service recorded the change
        untouched.refresh_from_db()
        assert untouched.status == Status.OPEN


def test_bulk_change_cannot_reach_another_tenants_tickets(tenant, other_tenant, other_agent):
    victim = make_ticket(tenant, status=Status.OPEN)
    response = client_for(other_agent, OTHER_HOST).post("/console/tickets/bulk/", {
        "tickets": [victim.pk], "status": "pending"})
    assert response.status_code == 404
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=victim.pk).status == Status.OPEN


@pytest.mark.parametrize("data", [
    {"status": "pending"},  # nothing selected
    {"tickets": ["abc"], "status": "pending"},
    {"tickets": ["1"]},  # no change chosen
    {"tickets": ["1"], "status": "closed"},
    {"tickets": [str(n) for n in range(1, 102)], "status": "pending"},
])
def test_bad_bulk_requests_are_a_400(agent_client, tenant, data):
    response = agent_client.post("/console/tickets/bulk/", data)
    assert response.status_code == 400
    assert b"Nothing was changed" in response.content


def test_light_agents_cannot_bulk_change(light_client, tenant):
    ticket = make_ticket(tenant, status=Status.OPEN)
    response = light_client.post("/console/tickets/bulk/", {"tickets": [ticket.pk], "status": "pending"})
    assert response.status_code == 403
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN


def test_bulk_redirects_only_back_to_the_ticket_list(agent_client, tenant, agent):
    ticket = make_ticket(tenant, status=Status.OPEN, assignee=agent)
    response = agent_client.post("/console/tickets/bulk/", {
        "tickets": [ticket.pk], "priority": "high", "next": "https://evil.example/console/tickets/"})
    assert response["Location"] == "/console/tickets/"


def test_the_sla_column_shows_the_next_target(agent_client, tenant):
    import datetime as dt

    from django.utils import timezone

    from tests.tickets.factories import SlaTimerFactory

    due = timezone.now() + dt.timedelta(hours=2)
    ticket = make_ticket(tenant, sla_next_due_at=due)
    SlaTimerFactory(tenant=tenant, ticket=ticket, due_at=due)
    calm = make_ticket(tenant)
    html = agent_client.get(LIST).content.decode()

    def row(t):
        return re.search(rf'data-ticket-id="{t.pk}".*?</tr>', html, re.S).group(0)

    assert 'data-sla-badge data-metric="first_reply"' in row(ticket)
    assert "data-sla-badge" not in row(calm)
