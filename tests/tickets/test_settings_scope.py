"""Tenant-wide settings (SLA policies, business hours, triggers, automations, custom fields,
contact reasons, teams, tag renames, ticket settings, shared views and macros) are
administrators' work: people need ``Cap.SETTINGS_MANAGE``, API keys ``settings:write``."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from helpdesk.tenancy.roles import Role, Scope
from helpdesk.tenancy.services import api_key_create
from tests.factories import agent_in
from tickets.models import CustomField, SlaPolicy, Trigger
from tickets.sla.calendars import business_hours_create
from tickets.sla.policies import sla_policy_create

pytestmark = pytest.mark.django_db

POLICY = {"name": "Gold", "targets": [{"metric": "first_reply", "priority": "urgent", "minutes": 30}]}
HOURS = {"name": "Office", "timezone": "Europe/Istanbul",
         "intervals": [{"weekday": 0, "start": "09:00", "end": "18:00"}]}
TRIGGER = {"name": "Tag VIPs", "events": ["ticket.created"],
           "conditions": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
           "actions": [{"field": "add_tags", "value": ["vip"]}]}
FIELD = {"key": "order_id", "label": "Order", "kind": "text"}
WRITES = [("/api/v1/sla-policies/", POLICY), ("/api/v1/business-hours/", HOURS), ("/api/v1/triggers/", TRIGGER),
          ("/api/v1/custom-fields/", FIELD)]


def _session(tenant, user) -> APIClient:
    client = APIClient(HTTP_HOST=f"{tenant.slug}.localhost")
    client.force_login(user)
    return client


def _key(tenant, scopes) -> APIClient:
    _row, raw = api_key_create(tenant=tenant, name="scoped", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize("url,body", WRITES)
def test_agents_read_settings_but_only_administrators_change_them(tenant, agent, owner, url, body):
    admin = agent_in(tenant, role=Role.ADMIN, email="admin@acme.test")
    agent_client = _session(tenant, agent)
    assert agent_client.get(url).status_code == 200
    assert agent_client.post(url, body, format="json").status_code == 403
    assert _session(tenant, admin).post(url, body, format="json").status_code == 201
    assert _session(tenant, owner).post(url, body, format="json").status_code in (201, 400)  # 400: name taken


@pytest.mark.parametrize("url,body", WRITES)
def test_api_keys_need_the_settings_scope_to_change_settings(tenant, url, body):
    tickets_only = _key(tenant, [Scope.TICKETS_WRITE])
    assert tickets_only.get(url).status_code == 200
    assert tickets_only.post(url, body, format="json").status_code == 403
    assert _key(tenant, [Scope.TICKETS_READ, Scope.SETTINGS_WRITE]).post(url, body, format="json").status_code == 201


def test_refused_writes_change_nothing(tenant, agent):
    client = _session(tenant, agent)
    for url, body in WRITES:
        client.post(url, body, format="json")
    from helpdesk.tenancy.context import tenant_scope
    with tenant_scope(tenant):
        assert not SlaPolicy.objects.filter(name="Gold").exists()
        assert not Trigger.objects.filter(name="Tag VIPs").exists()
        assert not CustomField.objects.filter(key="order_id").exists()


def test_the_services_refuse_agents_whatever_calls_them(tenant, agent, owner):
    with pytest.raises(PermissionDenied):
        sla_policy_create(tenant=tenant, actor=agent, name="Gold", targets=POLICY["targets"])
    with pytest.raises(PermissionDenied):
        business_hours_create(tenant=tenant, actor=agent, name="Office", timezone="UTC",
                              intervals=HOURS["intervals"])
    assert sla_policy_create(tenant=tenant, actor=owner, name="Gold", targets=POLICY["targets"]).pk
    assert sla_policy_create(tenant=tenant, actor=None, name="System", targets=POLICY["targets"]).pk


def test_agents_still_create_tags_and_keys_still_tag(tenant, agent):
    assert _session(tenant, agent).post("/api/v1/tags/", {"name": "vip"}, format="json").status_code == 201
    assert _key(tenant, [Scope.TICKETS_WRITE]).post("/api/v1/tags/", {"name": "gold"}, format="json").status_code == 201


def test_shared_macros_through_the_api_need_the_settings_scope(tenant):
    body = {"name": "Ask for the order number", "actions": [{"field": "status", "value": "pending"}],
            "reply": {"en": "Could you send the order number?"}}
    assert _key(tenant, [Scope.TICKETS_WRITE]).post("/api/v1/macros/", body, format="json").status_code == 403
    assert _key(tenant, [Scope.TICKETS_WRITE, Scope.SETTINGS_WRITE]).post(
        "/api/v1/macros/", body, format="json").status_code == 201
