"""API: /views/, /views/{id}/tickets/, /views/counts/, /macros/, apply-macro and bulk."""
import datetime as dt

import pytest
from django.db import connection
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, agent_in
from tests.tickets.factories import MacroFactory, SavedViewFactory, TagFactory, TicketFactory, TicketTagFactory
from tests.tickets.productivity.conftest import session_client
from tests.queries import QueryCounter
from tickets.models import Macro, Message, MessageKind, SavedView, Ticket

pytestmark = pytest.mark.django_db


def error_fields(response) -> dict:
    return response.json()["error"]["fields"]


# --- saved views ------------------------------------------------------------------------


def test_people_create_personal_views_and_keys_shared_ones(agent_client, owner_client, api_client, agent, tenant):
    response = agent_client.post("/api/v1/views/", {
        "name": "My urgent ones",
        "conditions": {"all": [{"field": "assignee_id", "operator": "is", "value": "me"},
                               {"field": "priority", "operator": "is", "value": "urgent"}]},
        "columns": ["number", "subject", "sla_next_due_at"],
        "sort": [{"field": "sla_next_due_at", "direction": "asc"}],
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["personal"], body["owner_id"], body["columns"]) == (True, agent.pk,
                                                                    ["number", "subject", "sla_next_due_at"])
    assert body["sort"] == [{"field": "sla_next_due_at", "direction": "asc"}]
    shared = agent_client.post("/api/v1/views/", {"name": "Team", "personal": False}, format="json")
    assert shared.status_code == 403
    assert owner_client.post("/api/v1/views/", {"name": "Team", "personal": False},
                             format="json").json()["personal"] is False
    robot = api_client.post("/api/v1/views/", {"name": "Robot"}, format="json")
    assert (robot.status_code, robot.json()["personal"]) == (201, False)
    refused = api_client.post("/api/v1/views/", {"name": "Robot", "personal": True}, format="json")
    assert refused.status_code == 400 and "personal" in error_fields(refused)
    names = [v["name"] for v in agent_client.get("/api/v1/views/").json()["results"]]
    assert sorted(names) == ["My urgent ones", "Robot", "Team"]
    assert sorted(v["name"] for v in api_client.get("/api/v1/views/").json()["results"]) == ["Robot", "Team"]


@pytest.mark.parametrize("payload, field", [
    ({"name": "x", "conditions": {"all": [{"field": "status", "operator": "~", "value": "open"}]}}, "conditions"),
    ({"name": "x", "conditions": "1=1"}, "conditions"),
    ({"name": "x", "columns": ["password"]}, "columns.0"),
    ({"name": "x", "columns": "number"}, "columns"),
    ({"name": "x", "sort": [{"field": "requester__name"}]}, "sort.0.field"),
    ({"name": "x", "sort": [{"field": "number", "direction": "sideways"}]}, "sort.0.direction"),
    ({"name": "x", "sort": [{"field": "number"}, {"field": "number"}]}, "sort"),
    ({"name": "x", "owner_id": 1}, "owner_id"),
    ({"name": "x", "position": -3}, "position"),
    ({"name": ""}, "name"),
    ({}, "name"),
])
def test_bad_view_input_is_a_400_naming_the_field(agent_client, tenant, payload, field):
    response = agent_client.post("/api/v1/views/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_fields(response)
    with tenant_scope(tenant):
        assert not SavedView.objects.exists()


def test_views_change_by_their_rules(agent_client, owner_client, agent, owner, tenant):
    colleague_client = session_client(agent_in(tenant, role=Role.AGENT))
    mine = SavedViewFactory(tenant=tenant, owner=agent, name="Mine")
    shared = SavedViewFactory(tenant=tenant, name="Shared")
    assert colleague_client.get(f"/api/v1/views/{mine.pk}/").status_code == 404
    assert colleague_client.patch(f"/api/v1/views/{mine.pk}/", {"name": "x"}, format="json").status_code == 404
    assert agent_client.patch(f"/api/v1/views/{shared.pk}/", {"name": "x"}, format="json").status_code == 403
    assert agent_client.delete(f"/api/v1/views/{shared.pk}/").status_code == 403
    response = agent_client.patch(f"/api/v1/views/{mine.pk}/", {"name": "Renamed", "columns": ["number"]},
                                  format="json")
    assert (response.status_code, response.json()["name"], response.json()["columns"]) == (200, "Renamed",
                                                                                            ["number"])
    assert agent_client.patch(f"/api/v1/views/{mine.pk}/", {"personal": False}, format="json").status_code == 400
    assert owner_client.patch(f"/api/v1/views/{shared.pk}/", {"is_active": False}, format="json").status_code == 200
    assert agent_client.delete(f"/api/v1/views/{mine.pk}/").status_code == 204
    with tenant_scope(tenant):
        assert list(SavedView.objects.values_list("name", "is_active")) == [("Shared", False)]


def test_views_of_another_tenant_are_404(other_api_client, api_client, tenant):
    view = SavedViewFactory(tenant=tenant)
    for method, url in (("get", f"/api/v1/views/{view.pk}/"), ("patch", f"/api/v1/views/{view.pk}/"),
                        ("delete", f"/api/v1/views/{view.pk}/"), ("get", f"/api/v1/views/{view.pk}/tickets/")):
        response = getattr(other_api_client, method)(url, {}, format="json")
        assert response.status_code == 404, (method, url)
        assert view.name not in response.content.decode()
    assert other_api_client.get("/api/v1/views/").json()["results"] == []
    assert api_client.get(f"/api/v1/views/{view.pk}/").status_code == 200


def test_scopes(read_only_client, tenant):
    view = SavedViewFactory(tenant=tenant)
    assert read_only_client.get("/api/v1/views/").status_code == 200
    assert read_only_client.get(f"/api/v1/views/{view.pk}/tickets/").status_code == 200
    assert read_only_client.get("/api/v1/views/counts/").status_code == 200
    assert read_only_client.post("/api/v1/views/", {"name": "x"}, format="json").status_code == 403
    assert read_only_client.patch(f"/api/v1/views/{view.pk}/", {"name": "x"}, format="json").status_code == 403
    assert read_only_client.post("/api/v1/macros/", {"name": "x"}, format="json").status_code == 403
    assert read_only_client.post("/api/v1/tickets/bulk/", {"ids": [1], "changes": {"status": "open"}},
                                 format="json").status_code == 403
    assert APIClient().get("/api/v1/views/").status_code == 401


def _tickets(tenant, n, **fields):
    made = []
    for i in range(n):
        ticket = TicketFactory(tenant=tenant, **fields)
        with tenant_scope(tenant):
            TicketTagFactory(tenant=tenant, ticket=ticket, tag=TagFactory(tenant=tenant))
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
                                                       + dt.timedelta(minutes=i // 2))
        made.append(ticket)
    return made


def test_a_views_tickets_page_by_cursor_with_me(agent_client, agent, tenant):
    colleague = agent_in(tenant)
    mine = _tickets(tenant, 5, assignee=agent, status="open")
    _tickets(tenant, 2, assignee=colleague, status="open")
    view = SavedViewFactory(tenant=tenant, conditions={"all": [
        {"field": "assignee_id", "operator": "is", "value": "me"}]})
    seen, url = [], f"/api/v1/views/{view.pk}/tickets/?page_size=2"
    while url:
        response = agent_client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert len(body["results"]) <= 2
        seen.extend(row["id"] for row in body["results"])
        url = body["next"]
    assert sorted(seen) == sorted(t.pk for t in mine) and len(seen) == 5
    row = agent_client.get(f"/api/v1/views/{view.pk}/tickets/").json()["results"][0]
    assert {"id", "number", "subject", "status", "priority", "tags"} <= set(row)


@pytest.mark.parametrize("query", ["cursor=nonsense", "cursor=eyJzIjoxfQ", "page_size=0", "page_size=1000",
                                   "page_size=abc"])
def test_bad_page_parameters_are_400(agent_client, tenant, query):
    view = SavedViewFactory(tenant=tenant, conditions={})
    response = agent_client.get(f"/api/v1/views/{view.pk}/tickets/?{query}")
    assert response.status_code == 400
    assert set(error_fields(response)) & {"after", "page_size"}


def test_view_ticket_list_queries_are_constant(api_client, tenant):
    view = SavedViewFactory(tenant=tenant, conditions={})
    _tickets(tenant, 2)
    api_client.get("/api/v1/views/")  # the key's first use of the minute records last_used_at
    with QueryCounter(connection) as few:
        assert len(api_client.get(f"/api/v1/views/{view.pk}/tickets/").json()["results"]) == 2
    _tickets(tenant, 15, requester=ContactFactory(tenant=tenant))
    with QueryCounter(connection) as many:
        assert len(api_client.get(f"/api/v1/views/{view.pk}/tickets/").json()["results"]) == 17
    assert len(many) == len(few)


def test_counts_for_the_side_panel(agent_client, agent, tenant):
    _tickets(tenant, 3, assignee=agent, status="open")
    mine = SavedViewFactory(tenant=tenant, position=0, conditions={"all": [
        {"field": "assignee_id", "operator": "is", "value": "me"}]})
    empty = SavedViewFactory(tenant=tenant, position=1, conditions={"all": [
        {"field": "status", "operator": "is", "value": "pending"}]})
    body = agent_client.get("/api/v1/views/counts/").json()
    assert body == [{"id": mine.pk, "count": 3, "capped": False, "display": "3"},
                    {"id": empty.pk, "count": 0, "capped": False, "display": "0"}]


def test_list_queries_are_constant(api_client, tenant):
    SavedViewFactory(tenant=tenant)
    MacroFactory(tenant=tenant)
    api_client.get("/api/v1/views/")  # the key's first use of the minute records last_used_at
    with QueryCounter(connection) as few:
        api_client.get("/api/v1/views/")
        api_client.get("/api/v1/macros/")
    for _ in range(8):
        SavedViewFactory(tenant=tenant)
        MacroFactory(tenant=tenant)
    with QueryCounter(connection) as many:
        assert len(api_client.get("/api/v1/views/").json()["results"]) == 9
        assert len(api_client.get("/api/v1/macros/").json()["results"]) == 9
    assert len(many) == len(few)


# --- macros -----------------------------------------------------------------------------


def test_macro_crud(owner_client, agent_client, api_client, tenant):
    response = owner_client.post("/api/v1/macros/", {
        "name": "Ask for the order number", "personal": False,
        "actions": [{"field": "status", "value": "pending"}, {"field": "add_tags", "value": ["order"]}],
        "reply": {"en": "Hi {{ requester.first_name }}, your order number please?",
                  "tr": "Merhaba {{ requester.first_name }}, sipariş numaranız?"},
    }, format="json")
    assert response.status_code == 201, response.json()
    macro_id = response.json()["id"]
    assert response.json()["actions"][1] == {"field": "add_tags", "value": ["order"]}
    assert agent_client.patch(f"/api/v1/macros/{macro_id}/", {"name": "x"}, format="json").status_code == 403
    mine = agent_client.post("/api/v1/macros/", {"name": "Mine", "reply": {"en": "Thanks!"}}, format="json")
    assert (mine.status_code, mine.json()["personal"]) == (201, True)
    assert api_client.get(f"/api/v1/macros/{mine.json()['id']}/").status_code == 404  # personal: not the key's
    patched = owner_client.patch(f"/api/v1/macros/{macro_id}/", {"reply_public": False, "description": "d"},
                                 format="json")
    assert (patched.status_code, patched.json()["reply_public"]) == (200, False)
    assert owner_client.delete(f"/api/v1/macros/{macro_id}/").status_code == 204
    assert [m["name"] for m in agent_client.get("/api/v1/macros/").json()["results"]] == ["Mine"]


@pytest.mark.parametrize("payload, field", [
    ({"name": "x", "actions": [{"field": "subject", "value": "hi"}]}, "actions.0.field"),
    ({"name": "x", "actions": [{"field": "status", "value": "closed"}]}, "actions"),
    ({"name": "x", "actions": [{"field": "status"}]}, "actions.0.value"),
    ({"name": "x", "actions": [{"field": "team", "value": 10 ** 6}]}, "actions"),
    ({"name": "x", "reply": {"en": "{{ request.user }}"}}, "reply"),
    ({"name": "x", "reply": {"xx": "hi"}}, "reply"),
    ({"name": "x", "reply": "hi"}, "reply"),
    ({"name": "x", "usage_count": 5}, "usage_count"),
    ({"name": "x", "reply_public": "sometimes"}, "reply_public"),
])
def test_bad_macro_input_is_a_400(owner_client, tenant, payload, field):
    response = owner_client.post("/api/v1/macros/", {"personal": False, **payload}, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_fields(response)
    with tenant_scope(tenant):
        assert not Macro.objects.exists()


def test_apply_macro_returns_the_reply_or_sends_it(agent_client, agent, tenant):
    requester = ContactFactory(tenant=tenant, name="Jane Doe")
    ticket = TicketFactory(tenant=tenant, requester=requester, status="open", language="en")
    macro = MacroFactory(tenant=tenant, actions=[{"field": "status", "value": "pending"},
                                                 {"field": "assignee", "value": "me"}],
                         reply={"en": "Hi {{ requester.first_name }}, about #{{ ticket.number }}"})
    url = f"/api/v1/tickets/{ticket.pk}/apply-macro/"
    response = agent_client.post(url, {"macro_id": macro.pk}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reply"] == {"text": f"Hi Jane, about #{ticket.number}", "language": "en", "public": True}
    assert body["message_id"] is None
    assert (body["ticket"]["status"], body["ticket"]["id"]) == ("pending", ticket.pk)
    with tenant_scope(tenant):
        current = Ticket.objects.get(pk=ticket.pk)
        assert current.assignee == agent
        version = current.version
    sent = agent_client.post(url, {"macro_id": macro.pk, "send": True, "expected_version": version}, format="json")
    assert sent.status_code == 200, sent.json()
    with tenant_scope(tenant):
        message = Message.objects.get(pk=sent.json()["message_id"])
        assert (message.kind, message.body_text) == (MessageKind.PUBLIC, f"Hi Jane, about #{ticket.number}")
        assert Macro.objects.get(pk=macro.pk).usage_count == 2


def test_apply_macro_refusals(agent_client, other_api_client, agent, tenant, other_tenant):
    ticket = TicketFactory(tenant=tenant, status="open")
    url = f"/api/v1/tickets/{ticket.pk}/apply-macro/"
    foreign_macro = MacroFactory(tenant=other_tenant)
    someone_elses = MacroFactory(tenant=tenant, owner=agent_in(tenant))
    inactive = MacroFactory(tenant=tenant, is_active=False)
    for macro in (foreign_macro, someone_elses, inactive):
        response = agent_client.post(url, {"macro_id": macro.pk}, format="json")
        assert response.status_code == 400 and "macro_id" in error_fields(response)
    macro = MacroFactory(tenant=tenant, actions=[{"field": "priority", "value": "urgent"}])
    stale = agent_client.post(url, {"macro_id": macro.pk, "expected_version": 99}, format="json")
    assert stale.status_code == 409
    assert (stale.json()["error"]["code"], stale.json()["ticket"]["id"]) == ("stale_ticket", ticket.pk)
    closed = TicketFactory(tenant=tenant, status="closed")
    refused = agent_client.post(f"/api/v1/tickets/{closed.pk}/apply-macro/", {"macro_id": macro.pk}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "ticket_closed")
    assert agent_client.post(url, {"macro_id": macro.pk, "sned": True}, format="json").status_code == 400
    assert agent_client.post(url, {"macro_id": "one"}, format="json").status_code == 400
    assert other_api_client.post(url, {"macro_id": foreign_macro.pk}, format="json").status_code == 404
    assert agent_client.post("/api/v1/tickets/999999999/apply-macro/", {"macro_id": macro.pk},
                             format="json").status_code == 404
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


# --- bulk -------------------------------------------------------------------------------


def test_bulk_update(agent_client, agent, tenant, other_tenant):
    ours = [TicketFactory(tenant=tenant, status="open") for _ in range(3)]
    closed = TicketFactory(tenant=tenant, status="closed")
    foreign = TicketFactory(tenant=other_tenant, status="open")
    response = agent_client.post("/api/v1/tickets/bulk/", {
        "ids": [t.pk for t in ours] + [closed.pk, foreign.pk],
        "changes": {"priority": "high", "assignee_id": "me", "add_tags": ["bulk"]},
    }, format="json")
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(r["id"], r["result"]) for r in results] == [(t.pk, "updated") for t in ours] + [
        (closed.pk, "invalid"), (foreign.pk, "not_found")]
    assert results[0]["version"] == 2 and results[3]["errors"] and results[4]["version"] is None
    with tenant_scope(tenant):
        assert set(Ticket.objects.filter(pk__in=[t.pk for t in ours]).values_list("priority", "assignee")) == {
            ("high", agent.pk)}


@pytest.mark.parametrize("payload, field", [
    ({"ids": list(range(1, 102)), "changes": {"status": "open"}}, "ids"),
    ({"ids": [], "changes": {"status": "open"}}, "ids"),
    ({"ids": [1], "changes": {}}, "changes"),
    ({"ids": [1], "changes": {"status": "closed"}}, "changes"),
    ({"ids": [1], "changes": {"owner": 1}}, "changes"),
    ({"ids": "1,2", "changes": {"status": "open"}}, "ids"),
    ({"ids": [1]}, "changes"),
])
def test_bad_bulk_input_is_a_400(agent_client, payload, field):
    response = agent_client.post("/api/v1/tickets/bulk/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_fields(response)
