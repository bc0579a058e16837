"""The ticket list's live rows (``/console/tickets/rows/``): the rows of given tickets that are
still in the list the page shows, rendered with the list's own row template, so the page can
swap them in place when the websocket says they changed."""
from __future__ import annotations

import re

import pytest
from django.db import connection

from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, TeamFactory, agent_in
from tests.tickets.console.conftest import OTHER_HOST, client_for, make_ticket
from tests.tickets.factories import SavedViewFactory, TagFactory, TicketTagFactory
from tests.queries import QueryCounter
from tickets.models import Priority, Status, Via
from tickets.services import ticket_update
from tickets.views.list import MAX_LIVE_ROWS

pytestmark = pytest.mark.django_db
LIST = "/console/tickets/"
ROWS = "/console/tickets/rows/"


@pytest.fixture
def agent_client(agent):
    return client_for(agent)


def row_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="ticket-row" data-ticket-id="(\d+)"', response.content.decode())]


def row_html(html: str, ticket_id: int) -> str:
    match = re.search(rf'<tr class="ticket-row" data-ticket-id="{ticket_id}".*?</tr>', html, re.S)
    assert match, f"no row for ticket {ticket_id}"
    return re.sub(r"\s+", " ", match.group(0))


def ids(*tickets) -> str:
    return ",".join(str(t.pk) for t in tickets)


def test_rows_are_the_lists_own_rows(agent_client, tenant, agent):
    team = TeamFactory(tenant=tenant, name="Returns")
    ticket = make_ticket(tenant, subject="Parcel <b>never</b> arrived", assignee=agent, team=team,
                         priority=Priority.HIGH)
    page = agent_client.get(LIST)
    response = agent_client.get(ROWS, {"ids": ids(ticket)})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert row_ids(response) == [ticket.pk]
    assert row_html(response.content.decode(), ticket.pk) == row_html(page.content.decode(), ticket.pk)
    assert "Parcel &lt;b&gt;never&lt;/b&gt; arrived" in response.content.decode()


def test_a_changed_ticket_comes_back_with_its_new_values(agent_client, tenant, agent):
    ticket = make_ticket(tenant, subject="Refund please", priority=Priority.LOW, status=Status.OPEN)
    before = agent_client.get(ROWS, {"ids": ids(ticket)}).content.decode()
    assert "priority-low" in before and "Unassigned" in before
    ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.URGENT, assignee=agent,
                  subject="Refund please, urgently")
    after = agent_client.get(ROWS, {"ids": ids(ticket)}).content.decode()
    assert "priority-urgent" in after and "Refund please, urgently" in after
    assert agent.email in after or (agent.get_full_name() and agent.get_full_name() in after)


def test_only_tickets_still_in_the_view_and_filters_come_back(agent_client, tenant):
    open_one = make_ticket(tenant, status=Status.OPEN, priority=Priority.HIGH)
    open_low = make_ticket(tenant, status=Status.OPEN, priority=Priority.LOW)
    pending = make_ticket(tenant, status=Status.PENDING, priority=Priority.HIGH)
    view = SavedViewFactory(tenant=tenant, conditions={"all": [{"field": "status", "operator": "is",
                                                                "value": "open"}]})
    everything = ids(open_one, open_low, pending)
    assert set(row_ids(agent_client.get(ROWS, {"ids": everything}))) == {open_one.pk, open_low.pk, pending.pk}
    assert set(row_ids(agent_client.get(ROWS, {"view": view.pk, "ids": everything}))) == {open_one.pk,
                                                                                         open_low.pk}
    narrowed = agent_client.get(ROWS, {"view": view.pk, "priority": "high", "ids": everything})
    assert row_ids(narrowed) == [open_one.pk]
    assert row_ids(agent_client.get(ROWS, {"status": "pending", "ids": everything})) == [pending.pk]
    # The list's page cursor does not narrow the rows: they are looked up by id.
    assert row_ids(agent_client.get(ROWS, {"status": "pending", "after": "", "ids": everything})) == [pending.pk]


def test_a_ticket_that_left_the_view_is_not_returned(agent_client, tenant, agent):
    ticket = make_ticket(tenant, status=Status.OPEN)
    view = SavedViewFactory(tenant=tenant, conditions={"all": [{"field": "status", "operator": "is",
                                                                "value": "open"}]})
    assert row_ids(agent_client.get(ROWS, {"view": view.pk, "ids": ids(ticket)})) == [ticket.pk]
    ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.PENDING)
    response = agent_client.get(ROWS, {"view": view.pk, "ids": ids(ticket)})
    assert response.status_code == 200
    assert row_ids(response) == []


def test_the_views_columns_are_rendered(agent_client, tenant):
    ticket = make_ticket(tenant, status=Status.OPEN)
    view = SavedViewFactory(tenant=tenant, conditions={}, columns=["status", "created_at"])
    html = agent_client.get(ROWS, {"view": view.pk, "ids": ids(ticket)}).content.decode()
    assert 'class="col-status"' in html and 'class="col-created_at"' in html
    assert 'class="col-priority"' not in html and 'class="col-number"' in html


def test_another_tenants_ids_are_not_rendered(agent_client, tenant, other_tenant):
    mine = make_ticket(tenant, subject="Ours")
    theirs = make_ticket(other_tenant, subject="Globex secret subject")
    response = agent_client.get(ROWS, {"ids": ids(mine, theirs)})
    assert response.status_code == 200
    assert row_ids(response) == [mine.pk]
    assert b"Globex secret subject" not in response.content
    only_theirs = agent_client.get(ROWS, {"ids": ids(theirs)})
    assert only_theirs.status_code == 200 and row_ids(only_theirs) == []
    assert b"Globex" not in only_theirs.content


def test_the_other_tenants_agent_cannot_read_our_rows(tenant, other_tenant, other_agent):
    ours = make_ticket(tenant, subject="Acme private subject")
    response = client_for(other_agent, OTHER_HOST).get(ROWS, {"ids": ids(ours)})
    assert response.status_code == 200
    assert row_ids(response) == [] and b"Acme private subject" not in response.content


def test_a_view_of_another_person_or_tenant_is_a_400(agent_client, tenant, other_tenant):
    ticket = make_ticket(tenant)
    colleague = agent_in(tenant, role=Role.AGENT, email="colleague@acme.test")
    private = SavedViewFactory(tenant=tenant, owner=colleague)
    foreign = SavedViewFactory(tenant=other_tenant)
    for view in (private, foreign):
        response = agent_client.get(ROWS, {"view": view.pk, "ids": ids(ticket)})
        assert response.status_code == 400
        assert row_ids(response) == []


@pytest.mark.parametrize("value", [
    None, "", ",", "abc", "1,x", "-1", "1.5", "0", "1e3", "0x10", " ", "1;2", "²",
    "99999999999999999999", "9223372036854775808",
])
def test_bad_ids_are_a_400(agent_client, tenant, value):
    make_ticket(tenant)
    response = agent_client.get(ROWS, {} if value is None else {"ids": value})
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert row_ids(response) == []


def test_too_many_ids_are_a_400_and_the_cap_itself_is_fine(agent_client, tenant):
    ticket = make_ticket(tenant)
    at_cap = [str(ticket.pk)] + [str(10_000_000 + n) for n in range(MAX_LIVE_ROWS - 1)]
    response = agent_client.get(ROWS, {"ids": ",".join(at_cap)})
    assert response.status_code == 200 and row_ids(response) == [ticket.pk]
    response = agent_client.get(ROWS, {"ids": ",".join(at_cap + ["20000000"])})
    assert response.status_code == 400
    assert f"At most {MAX_LIVE_ROWS} tickets at a time.".encode() in response.content


def test_repeated_ids_and_repeated_parameters_are_accepted(agent_client, tenant):
    first, second = make_ticket(tenant), make_ticket(tenant)
    response = agent_client.get(f"{ROWS}?ids={first.pk},{first.pk}&ids={second.pk}")
    assert response.status_code == 200
    assert sorted(row_ids(response)) == sorted([first.pk, second.pk])


@pytest.mark.parametrize("query", ["status=bogus", "assignee=999999", "sort=nope", "priority=x"])
def test_bad_filters_are_a_400(agent_client, tenant, query):
    ticket = make_ticket(tenant)
    response = agent_client.get(f"{ROWS}?{query}&ids={ticket.pk}")
    assert response.status_code == 400
    assert row_ids(response) == []


def test_roles_without_tickets_view_are_refused_and_visitors_sent_to_sign_in(client, tenant):
    ticket = make_ticket(tenant)
    analyst = agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test")
    assert client_for(analyst).get(ROWS, {"ids": ids(ticket)}).status_code == 403
    response = client.get(ROWS, {"ids": ids(ticket)}, HTTP_HOST="acme.localhost")
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_light_agents_get_rows_without_the_bulk_checkbox(tenant):
    ticket = make_ticket(tenant)
    light = agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")
    html = client_for(light).get(ROWS, {"ids": ids(ticket)}).content.decode()
    assert f'data-ticket-id="{ticket.pk}"' in html and 'name="tickets"' not in html


def test_the_query_count_does_not_grow_with_the_number_of_ids(agent_client, tenant, agent):
    team = TeamFactory(tenant=tenant)
    tag = TagFactory(tenant=tenant, name="vip")
    made = []
    for _ in range(20):
        ticket = make_ticket(tenant, assignee=agent, team=team, requester=ContactFactory(tenant=tenant))
        TicketTagFactory(tenant=tenant, ticket=ticket, tag=tag)
        made.append(ticket)
    view = SavedViewFactory(tenant=tenant, conditions={}, columns=[
        "number", "subject", "requester", "organization", "tags", "assignee", "team", "sla_next_due_at"])
    agent_client.get(ROWS, {"ids": ids(made[0])})  # warm the session and caches

    with QueryCounter(connection) as one:
        response = agent_client.get(ROWS, {"view": view.pk, "ids": ids(made[0])})
    assert len(row_ids(response)) == 1
    with QueryCounter(connection) as twenty:
        response = agent_client.get(ROWS, {"view": view.pk, "ids": ids(*made)})
    assert len(row_ids(response)) == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


def test_the_list_page_tells_the_script_where_its_rows_are(agent_client, tenant):
    make_ticket(tenant, status=Status.OPEN)
    view = SavedViewFactory(tenant=tenant, conditions={})
    html = agent_client.get(LIST, {"view": view.pk, "status": "open", "after": ""}).content.decode()
    rows_url = re.search(r'data-rows-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert rows_url.startswith(ROWS + "?")
    assert f"view={view.pk}" in rows_url and "status=open" in rows_url and "after" not in rows_url
    assert 'data-label-gone="' in html
    assert f'data-rows-url="{ROWS}"' in agent_client.get(LIST).content.decode()


def test_the_table_scrolls_in_its_own_focusable_region(agent_client, tenant):
    make_ticket(tenant)
    html = agent_client.get(LIST).content.decode()
    region = re.search(r'<div class="table-scroll"[^>]*>', html).group(0)
    assert 'role="region"' in region and 'tabindex="0"' in region and 'aria-label="Ticket list"' in region
    assert html.index('class="table-scroll"') < html.index('id="ticket-table"')
