"""``/api/v1/triggers/``, ``automations/``, ``notifications/``, ``notification-preferences/``."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import agent_in
from tests.queries import QueryCounter
from tests.tickets.factories import (
    AutomationFactory,
    NotificationFactory,
    TicketFactory,
    TriggerFactory,
)
from tickets.models import Automation, Notification, NotificationPreference, Trigger

pytestmark = pytest.mark.django_db


TRIGGERS = "/api/v1/triggers/"
AUTOMATIONS = "/api/v1/automations/"
NOTIFICATIONS = "/api/v1/notifications/"
PREFERENCES = "/api/v1/notification-preferences/"
HOST = {"HTTP_HOST": "acme.localhost"}

A_TRIGGER = {
    "name": "Tag refunds",
    "events": ["ticket.created"],
    "conditions": {"all": [{"field": "subject", "operator": "contains", "value": "refund"}]},
    "actions": [{"field": "add_tags", "value": ["refund"]}, {"field": "priority", "value": "high"}],
}
AN_AUTOMATION = {
    "name": "Solve after a week",
    "conditions": {"all": [{"field": "status", "operator": "is", "value": "pending"},
                           {"field": "hours_since_status_changed", "operator": "gte", "value": 168}]},
    "actions": [{"field": "status", "value": "solved"}],
}


@pytest.fixture
def session(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def fields_of(response):
    return response.json()["error"]["fields"]


# --- triggers ---------------------------------------------------------------------------------


def test_create_list_change_and_delete_a_trigger(api_client, tenant):
    response = api_client.post(TRIGGERS, A_TRIGGER, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Tag refunds" and body["position"] == 1 and body["is_active"] is True
    assert body["actions"] == [{"field": "add_tags", "value": ["refund"]}, {"field": "priority", "value": "high"}]
    assert body["conditions"]["any"] == []
    trigger_id = body["id"]

    listed = api_client.get(TRIGGERS).json()
    assert [t["id"] for t in listed["results"]] == [trigger_id]

    response = api_client.patch(f"{TRIGGERS}{trigger_id}/", {"is_active": False, "once_per_ticket": True},
                                format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["once_per_ticket"] is True

    assert api_client.delete(f"{TRIGGERS}{trigger_id}/").status_code == 204
    with tenant_scope(tenant):
        assert not Trigger.objects.exists()
        assert list(AuditEntry.objects.filter(action__startswith="trigger.").order_by("id")
                    .values_list("action", flat=True)) == ["trigger.created", "trigger.updated", "trigger.deleted"]


@pytest.mark.parametrize("change, field, fragment", [
    ({"events": ["ticket.deleted"]}, "events.0", "not a valid choice"),
    ({"events": []}, "events", ""),
    ({"actions": []}, "actions", ""),
    ({"actions": [{"field": "status", "value": "closed"}]}, "actions", "actions[0]: status can be set"),
    ({"actions": [{"field": "add_tags", "value": ["a"]}, {"field": "assignee_id", "value": 987654}]}, "actions",
     "No such person"),
    ({"actions": "status"}, "actions", ""),
    ({"conditions": {"all": [{"field": "sql", "operator": "is", "value": "1;drop"}]}}, "conditions",
     "all[0]: Unknown field: sql"),
    ({"conditions": []}, "conditions", "must be an object"),
    ({"asignee": 1}, "asignee", "Unknown field"),
    ({"name": ""}, "name", ""),
])
def test_bad_triggers_are_clear_400s(api_client, tenant, change, field, fragment):
    response = api_client.post(TRIGGERS, {**A_TRIGGER, **change}, format="json")
    assert response.status_code == 400, response.json()
    fields = fields_of(response)
    assert field in fields
    assert fragment in " ".join(fields[field])
    with tenant_scope(tenant):
        assert not Trigger.objects.exists()


def test_agents_read_triggers_and_administrators_change_them(session, tenant, agent, owner):
    client = session(agent)
    assert client.get(TRIGGERS, **HOST).status_code == 200
    response = client.post(TRIGGERS, A_TRIGGER, content_type="application/json", **HOST)
    assert response.status_code == 403
    client = session(owner)
    assert client.post(TRIGGERS, A_TRIGGER, content_type="application/json", **HOST).status_code == 201


def test_a_read_only_key_cannot_write(tenant, client):
    from helpdesk.tenancy.services import api_key_create

    _key, raw = api_key_create(tenant=tenant, name="read only", scopes=["tickets:read"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(TRIGGERS, **headers).status_code == 200
    assert client.post(TRIGGERS, A_TRIGGER, content_type="application/json", **headers).status_code == 403


def test_another_tenants_rules_are_404(api_client, other_tenant):
    trigger = TriggerFactory(tenant=other_tenant)
    automation = AutomationFactory(tenant=other_tenant)
    for url in (f"{TRIGGERS}{trigger.pk}/", f"{AUTOMATIONS}{automation.pk}/"):
        assert api_client.get(url).status_code == 404
        assert api_client.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert api_client.delete(url).status_code == 404
    assert api_client.get(TRIGGERS).json()["results"] == []
    with tenant_scope(other_tenant):
        assert Trigger.objects.get().name == trigger.name


def test_listing_costs_the_same_for_3_or_30_rules(api_client, tenant):
    def count(url):
        with QueryCounter(connection) as queries:
            assert api_client.get(url).status_code == 200
        return len(queries)

    for _ in range(3):
        TriggerFactory(tenant=tenant)
        AutomationFactory(tenant=tenant)
    api_client.get(TRIGGERS)  # the key's first use records last_used_at
    few = (count(TRIGGERS), count(AUTOMATIONS))
    for _ in range(27):
        TriggerFactory(tenant=tenant)
        AutomationFactory(tenant=tenant)
    assert (count(TRIGGERS), count(AUTOMATIONS)) == few


# --- automations ------------------------------------------------------------------------------


def test_create_and_change_an_automation(api_client, tenant):
    response = api_client.post(AUTOMATIONS, AN_AUTOMATION, format="json")
    assert response.status_code == 201, response.json()
    automation_id = response.json()["id"]
    response = api_client.patch(f"{AUTOMATIONS}{automation_id}/", {"conditions": {"all": [
        {"field": "status", "operator": "is", "value": "pending"}]}}, format="json")
    assert response.status_code == 400
    assert "time condition" in fields_of(response)["conditions"][0]
    response = api_client.patch(f"{AUTOMATIONS}{automation_id}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    with tenant_scope(tenant):
        assert Automation.objects.get().is_active is False


def test_an_automation_with_a_bad_action_is_refused(api_client):
    response = api_client.post(AUTOMATIONS, {**AN_AUTOMATION, "actions": [{"field": "notify", "value": {}}]},
                               format="json")
    assert response.status_code == 400
    assert fields_of(response)["actions"][0].startswith("actions[0]: notify needs")


# --- notifications ----------------------------------------------------------------------------


def test_people_list_and_mark_their_own_notifications(session, tenant, agent, owner):
    ticket = TicketFactory(tenant=tenant)
    mine = [NotificationFactory(tenant=tenant, user=agent, ticket=ticket) for _ in range(3)]
    NotificationFactory(tenant=tenant, user=owner)
    client = session(agent)
    body = client.get(NOTIFICATIONS, **HOST).json()
    assert [n["id"] for n in body["results"]] == [n.pk for n in reversed(mine)]
    assert body["results"][0]["ticket_number"] == ticket.number

    response = client.post(f"{NOTIFICATIONS}{mine[0].pk}/read/", **HOST)
    assert response.status_code == 200 and response.json()["read_at"] is not None
    unread = client.get(NOTIFICATIONS + "?unread=true", **HOST).json()["results"]
    assert {n["id"] for n in unread} == {mine[1].pk, mine[2].pk}
    with tenant_scope(tenant):
        others = Notification.objects.get(user=owner)
    assert client.post(f"{NOTIFICATIONS}{others.pk}/read/", **HOST).status_code == 404

    response = client.post(f"{NOTIFICATIONS}read-all/", {}, content_type="application/json", **HOST)
    assert response.json() == {"marked": 2}
    with tenant_scope(tenant):
        assert Notification.objects.get(user=owner).read_at is None


def test_notification_list_queries_do_not_grow(session, tenant, agent):
    client = session(agent)

    def count():
        with QueryCounter(connection) as queries:
            assert client.get(NOTIFICATIONS, **HOST).status_code == 200
        return len(queries)

    NotificationFactory(tenant=tenant, user=agent, ticket=TicketFactory(tenant=tenant))
    few = count()
    for _ in range(20):
        NotificationFactory(tenant=tenant, user=agent, ticket=TicketFactory(tenant=tenant))
    assert count() == few


def test_an_api_key_has_no_notifications_or_preferences(api_client, tenant, agent):
    NotificationFactory(tenant=tenant, user=agent)
    assert api_client.get(NOTIFICATIONS).json()["results"] == []
    assert api_client.post(f"{NOTIFICATIONS}read-all/", {}, format="json").json() == {"marked": 0}
    assert api_client.get(PREFERENCES).status_code == 403


def test_preferences_get_and_put(session, tenant, agent):
    client = session(agent)
    rows = client.get(PREFERENCES, **HOST).json()["preferences"]
    assert {r["kind"] for r in rows} >= {"assigned", "mentioned", "followed_reply", "sla_warning", "sla_breach"}
    assert all(r["in_console"] and r["by_email"] for r in rows)
    response = client.put(PREFERENCES, {"preferences": [{"kind": "sla_warning", "in_console": True,
                                                          "by_email": False}]},
                          content_type="application/json", **HOST)
    assert response.status_code == 200
    assert {r["kind"]: r["by_email"] for r in response.json()["preferences"]}["sla_warning"] is False
    with tenant_scope(tenant):
        assert NotificationPreference.objects.get(user=agent).kind == "sla_warning"


@pytest.mark.parametrize("body, field", [
    ({"preferences": [{"kind": "everything", "in_console": True, "by_email": True}]}, "preferences.0.kind"),
    ({"preferences": [{"kind": "assigned", "in_console": True}]}, "preferences.0.by_email"),
    ({"preferences": [{"kind": "assigned", "in_console": True, "by_email": True}] * 2}, "preferences"),
    ({"preferences": []}, "preferences"),
    ([], "non_field_errors"),
])
def test_bad_preferences_are_400(session, agent, body, field):
    response = session(agent).put(PREFERENCES, body, content_type="application/json", **HOST)
    assert response.status_code == 400
    assert field in fields_of(response)


def test_light_agents_manage_their_own_preferences_too(session, tenant):
    light = agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")
    client = session(light)
    assert client.get(PREFERENCES, **HOST).status_code == 200
    response = client.put(PREFERENCES, {"preferences": [{"kind": "assigned", "in_console": False,
                                                          "by_email": False}]},
                          content_type="application/json", **HOST)
    assert response.status_code == 200
