"""Tags, custom fields, contact reasons, teams, agents, ticket settings through the API."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from tests.factories import TeamFactory, TeamMemberFactory
from tests.tickets.core_helpers import light_agent, make_ticket, requester  # noqa: F401
from tests.tickets.factories import AgentProfileFactory
from tickets.models import AgentProfile, TicketSettings

pytestmark = pytest.mark.django_db


def _session(tenant, user) -> APIClient:
    client = APIClient(HTTP_HOST=f"{tenant.slug}.localhost")
    client.force_login(user)
    return client


def test_tags_crud(api_client, tenant):
    created = api_client.post("/api/v1/tags/", {"name": "Late Delivery"}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "late-delivery"
    assert api_client.post("/api/v1/tags/", {"name": "late delivery"}, format="json").status_code == 400
    tag_id = created.json()["id"]
    assert api_client.patch(f"/api/v1/tags/{tag_id}/", {"name": "late"}, format="json").json()["name"] == "late"
    assert [t["name"] for t in api_client.get("/api/v1/tags/").json()["results"]] == ["late"]
    assert api_client.delete(f"/api/v1/tags/{tag_id}/").status_code == 204
    assert api_client.get(f"/api/v1/tags/{tag_id}/").status_code == 404


def test_custom_fields_crud_and_use(api_client, tenant, make_ticket):
    response = api_client.post("/api/v1/custom-fields/", {
        "key": "reason", "label": "Reason", "kind": "dropdown", "required": True,
        "options": [{"value": "refund", "label": "Refund", "labels": {"tr": "İade"}}, "exchange"],
    }, format="json")
    assert response.status_code == 201, response.json()
    field = response.json()
    assert [o["value"] for o in field["options"]] == ["refund", "exchange"]
    bad = api_client.post("/api/v1/custom-fields/", {"key": "x", "label": "X", "kind": "dropdown"}, format="json")
    assert bad.status_code == 400 and "options" in bad.json()["error"]["fields"]
    bad = api_client.patch(f"/api/v1/custom-fields/{field['id']}/", {"kind": "text"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]["fields"]
    ticket = make_ticket()
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"custom_fields": {"reason": "gift"}},
                                format="json")
    assert response.status_code == 400 and "custom_fields.reason" in response.json()["error"]["fields"]
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"custom_fields": {"reason": "refund"}},
                                format="json")
    assert response.json()["custom_fields"] == {"reason": "refund"}
    assert api_client.delete(f"/api/v1/custom-fields/{field['id']}/").status_code == 204


def test_contact_reasons(api_client, tenant, make_ticket):
    parent = api_client.post("/api/v1/contact-reasons/", {"name": "Delivery"}, format="json").json()
    child = api_client.post("/api/v1/contact-reasons/", {"name": "Late", "parent_id": parent["id"]},
                            format="json").json()
    assert child["parent_id"] == parent["id"]
    response = api_client.post("/api/v1/contact-reasons/", {"name": "Very late", "parent_id": child["id"]},
                               format="json")
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]
    response = api_client.post("/api/v1/contact-reasons/", {"name": "x", "parent_id": 999999}, format="json")
    assert response.status_code == 400 and "parent_id" in response.json()["error"]["fields"]
    ticket = make_ticket()
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"contact_reason_id": child["id"]}, format="json")
    assert response.json()["contact_reason_id"] == child["id"]
    assert len(api_client.get("/api/v1/contact-reasons/").json()["results"]) == 2


def test_admin_changes_need_an_administrator(tenant, agent, owner):
    agent_client, owner_client = _session(tenant, agent), _session(tenant, owner)
    payload = {"key": "order", "label": "Order", "kind": "text"}
    assert agent_client.post("/api/v1/custom-fields/", payload, format="json").status_code == 403
    assert owner_client.post("/api/v1/custom-fields/", payload, format="json").status_code == 201
    assert agent_client.post("/api/v1/teams/", {"name": "Ops"}, format="json").status_code == 403
    assert agent_client.patch("/api/v1/ticket-settings/", {"solved_to_closed_days": 5},
                              format="json").status_code == 403


def test_teams(api_client, tenant, agent, owner):
    response = api_client.post("/api/v1/teams/", {"name": "Returns", "member_ids": [agent.pk]}, format="json")
    assert response.status_code == 201, response.json()
    team = response.json()
    assert team["member_ids"] == [agent.pk]
    response = api_client.patch(f"/api/v1/teams/{team['id']}/", {"member_ids": [owner.pk, agent.pk]}, format="json")
    assert sorted(response.json()["member_ids"]) == sorted([owner.pk, agent.pk])
    response = api_client.patch(f"/api/v1/teams/{team['id']}/", {"member_ids": [999999]}, format="json")
    assert response.status_code == 400
    assert api_client.delete(f"/api/v1/teams/{team['id']}/").status_code == 204


def test_agents_and_availability(api_client, tenant, agent, owner, light_agent):
    team = TeamFactory(tenant=tenant)
    TeamMemberFactory(tenant=tenant, team=team, user=agent)
    AgentProfileFactory(tenant=tenant, user=agent, status="online", capacity=7)
    agents = api_client.get("/api/v1/agents/").json()["results"]
    by_id = {a["id"]: a for a in agents}
    assert set(by_id) == {agent.pk, owner.pk}  # light agents take no tickets
    assert (by_id[agent.pk]["status"], by_id[agent.pk]["capacity"], by_id[agent.pk]["team_ids"]) == (
        "online", 7, [team.pk])
    assert by_id[owner.pk]["status"] == "offline"
    response = _session(tenant, agent).patch(f"/api/v1/agents/{agent.pk}/", {"status": "away", "skills": ["Billing"]},
                                             format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["skills"]) == ("away", ["billing"])
    assert _session(tenant, agent).patch(f"/api/v1/agents/{owner.pk}/", {"status": "away"},
                                         format="json").status_code == 403
    assert api_client.patch(f"/api/v1/agents/{owner.pk}/", {"status": "sleep"}, format="json").status_code == 400
    assert api_client.get(f"/api/v1/agents/{light_agent.pk}/").status_code == 404
    with tenant_scope(tenant):
        assert AgentProfile.objects.get(user=agent).status == "away"


def test_agent_list_query_count_is_constant(api_client, tenant, django_assert_num_queries):
    from tests.factories import agent_in

    first = agent_in(tenant, email="first@acme.test")
    AgentProfileFactory(tenant=tenant, user=first)
    api_client.get("/api/v1/agents/")
    with django_assert_num_queries(4) as captured:  # key, members + users, profiles, teams
        api_client.get("/api/v1/agents/")
    for i in range(5):
        user = agent_in(tenant, email=f"more{i}@acme.test")
        AgentProfileFactory(tenant=tenant, user=user)
    with django_assert_num_queries(len(captured.captured_queries)):
        assert len(api_client.get("/api/v1/agents/").json()["results"]) == 6


def test_ticket_settings(api_client, tenant, owner):
    assert api_client.get("/api/v1/ticket-settings/").json() == {"solved_to_closed_days": 4}
    response = api_client.patch("/api/v1/ticket-settings/", {"solved_to_closed_days": 30}, format="json")
    assert response.status_code == 400 and "solved_to_closed_days" in response.json()["error"]["fields"]
    assert api_client.patch("/api/v1/ticket-settings/", {"solved_to_closed_days": 7},
                            format="json").json() == {"solved_to_closed_days": 7}
    with tenant_scope(tenant):
        assert TicketSettings.objects.get().solved_to_closed_days == 7
