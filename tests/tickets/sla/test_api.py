"""``/api/v1/business-hours/`` and ``/api/v1/sla-policies/``: contract, validation,
scopes, tenant isolation and query counts."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.audit.models import AuditEntry
from helpdesk.calendars.models import BusinessCalendar, Holiday
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import api_key_create
from tickets.models import SlaPolicy
from tests.queries import QueryCounter

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.tickets.sla.urls")]

HOURS = "/api/v1/business-hours/"
POLICIES = "/api/v1/sla-policies/"
WEEKDAYS_9_18 = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]


def client_with(tenant, scopes):
    _key, raw = api_key_create(tenant=tenant, name="scoped", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make_hours(client, **body):
    body = {"name": "Istanbul office", "timezone": "Europe/Istanbul", "intervals": WEEKDAYS_9_18, **body}
    return client.post(HOURS, body, format="json")


def make_policy(client, **body):
    body = {"name": "Standard", "targets": [{"metric": "first_reply", "priority": "normal", "minutes": 120}],
            **body}
    return client.post(POLICIES, body, format="json")


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


# --- business hours ---------------------------------------------------------------------------


def test_create_business_hours_with_holidays_and_a_country(api_client, tenant):
    this_year = timezone.now().year
    response = make_hours(api_client, intervals=[*WEEKDAYS_9_18, {"weekday": 5, "start": "10:00", "end": "14:00"}],
                          holidays=[{"date": f"{this_year}-12-31", "name": "Company day"}],
                          country_holidays="TR")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "timezone", "is_default", "intervals", "holidays", "created_at"}
    assert body["intervals"][-1] == {"weekday": 5, "start": "10:00", "end": "14:00"}
    dates = {h["date"]: h["name"] for h in body["holidays"]}
    assert dates[f"{this_year}-12-31"] == "Company day"
    assert f"{this_year}-01-01" in dates and f"{this_year + 1}-01-01" in dates  # New Year, both years
    assert f"{this_year}-10-29" in dates  # Republic Day
    with tenant_scope(tenant):
        calendar = BusinessCalendar.objects.get(pk=body["id"])
        assert calendar.weekly_hours["sat"] == [["10:00", "14:00"]]
        assert Holiday.objects.filter(calendar=calendar).count() == len(dates)
        assert AuditEntry.objects.filter(action="business_hours.created").exists()
        schedule = calendar.schedule()
    assert dt.date(this_year, 10, 29) in schedule.holidays


@pytest.mark.parametrize("body,field", [
    ({"intervals": [{"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "15:00"}]}, "intervals.1"),
    ({"intervals": [{"weekday": 0, "start": "12:00", "end": "09:00"}]}, "intervals.0"),
    ({"intervals": [{"weekday": 0, "start": "25:00", "end": "26:00"}]}, "intervals.0"),
    ({"intervals": [{"weekday": 7, "start": "09:00", "end": "17:00"}]}, "intervals.0.weekday"),
    ({"intervals": [{"weekday": 0, "start": "09:00"}]}, "intervals.0.end"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"country_holidays": "XX"}, "country_holidays"),
    ({"holidays": [{"date": "2025-13-01"}]}, "holidays.0.date"),
    ({"hours": []}, "hours"),
])
def test_business_hours_validation(api_client, tenant, body, field):
    response = make_hours(api_client, **body)
    assert field in fields_of(response)
    with tenant_scope(tenant):
        assert not BusinessCalendar.objects.filter(name="Istanbul office").exists()


def test_business_hours_update_replaces_holidays_and_delete_refuses_while_used(api_client, tenant):
    pk = make_hours(api_client, holidays=[{"date": "2025-12-25", "name": "Christmas"}]).json()["id"]
    response = api_client.patch(f"{HOURS}{pk}/", {"name": "HQ", "holidays": [{"date": "2025-12-26"}],
                                                  "intervals": [{"weekday": 0, "start": "08:00", "end": "12:00"}]},
                                format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["holidays"] == [{"date": "2025-12-26", "name": ""}]
    assert response.json()["intervals"] == [{"weekday": 0, "start": "08:00", "end": "12:00"}]
    assert response.json()["name"] == "HQ"
    assert make_policy(api_client, business_hours_id=pk).status_code == 201
    refused = api_client.delete(f"{HOURS}{pk}/")
    assert refused.status_code == 400
    assert "Standard" in refused.json()["error"]["message"]


def test_business_hours_of_another_tenant_are_not_found(api_client, other_api_client, tenant):
    pk = make_hours(api_client).json()["id"]
    assert other_api_client.get(f"{HOURS}{pk}/").status_code == 404
    assert other_api_client.patch(f"{HOURS}{pk}/", {"name": "x"}, format="json").status_code == 404
    assert other_api_client.delete(f"{HOURS}{pk}/").status_code == 404
    assert other_api_client.get(HOURS).json()["results"] == []
    assert api_client.delete(f"{HOURS}{pk}/").status_code == 204


def test_business_hours_list_query_count_does_not_grow(api_client, tenant, django_assert_num_queries):
    make_hours(api_client, holidays=[{"date": "2025-12-25"}])
    api_client.get(HOURS)
    with QueryCounter(connection) as one:
        assert len(api_client.get(HOURS).json()["results"]) == 1
    baseline = len(one)
    for i in range(5):
        make_hours(api_client, name=f"Office {i}", holidays=[{"date": "2025-12-25"}, {"date": "2025-12-26"}])
    with django_assert_num_queries(baseline):
        assert len(api_client.get(HOURS).json()["results"]) == 6


# --- SLA policies ---------------------------------------------------------------------------


def test_create_policy_contract(api_client, tenant):
    hours = make_hours(api_client).json()["id"]
    response = make_policy(
        api_client, position=3, business_hours_id=hours, pause_statuses=["pending"], warning_minutes=30,
        conditions={"all": [{"field": "priority", "operator": "in", "value": ["high", "urgent"]}],
                    "any": [{"field": "tags", "operator": "contains", "value": "VIP"}]},
        targets=[{"metric": "first_reply", "priority": "high", "minutes": 60},
                 {"metric": "resolution", "priority": "urgent", "minutes": 480}])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "description", "position", "conditions", "business_hours_id",
                         "pause_statuses", "warning_minutes", "is_active", "targets", "created_at", "updated_at"}
    assert (body["position"], body["business_hours_id"], body["pause_statuses"], body["warning_minutes"]) == (
        3, hours, ["pending"], 30)
    assert body["conditions"]["any"] == [{"field": "tags", "operator": "contains", "value": "vip"}]
    assert body["targets"] == [{"metric": "first_reply", "priority": "high", "minutes": 60},
                               {"metric": "resolution", "priority": "urgent", "minutes": 480}]
    calendar_hours = make_policy(api_client, name="24/7", business_hours_id=None).json()
    assert calendar_hours["business_hours_id"] is None
    assert calendar_hours["pause_statuses"] == ["pending", "on_hold"]
    assert calendar_hours["warning_minutes"] == 15


@pytest.mark.parametrize("body,field", [
    ({"targets": [{"metric": "first_response", "priority": "normal", "minutes": 5}]}, "targets.0.metric"),
    ({"targets": [{"metric": "first_reply", "priority": "critical", "minutes": 5}]}, "targets.0.priority"),
    ({"targets": [{"metric": "first_reply", "priority": "normal", "minutes": 0}]}, "targets.0.minutes"),
    ({"targets": [{"metric": "first_reply", "priority": "normal", "minutes": 5},
                  {"metric": "first_reply", "priority": "normal", "minutes": 9}]}, "targets.1"),
    ({"pause_statuses": ["pending", "solved"]}, "pause_statuses.1"),
    ({"conditions": {"all": [{"field": "password", "operator": "is", "value": "x"}]}}, "conditions"),
    ({"conditions": {"all": [{"field": "priority", "operator": "contains", "value": "x"}]}}, "conditions"),
    ({"conditions": "priority = 'urgent'; DROP TABLE tickets_ticket"}, "conditions"),
    ({"business_hours_id": 999999}, "business_hours_id"),
    ({"warning_minutes": -1}, "warning_minutes"),
    ({"name": ""}, "name"),
    ({"priority": "urgent"}, "priority"),
])
def test_policy_validation(api_client, tenant, body, field):
    response = make_policy(api_client, **body)
    errors = fields_of(response)
    assert field in errors, errors
    with tenant_scope(tenant):
        assert not SlaPolicy.objects.exists()


def test_policy_cannot_use_another_tenants_business_hours(api_client, other_api_client):
    theirs = make_hours(other_api_client).json()["id"]
    assert "business_hours_id" in fields_of(make_policy(api_client, business_hours_id=theirs))


def test_policy_update_replaces_targets_and_changes_calendar(api_client, tenant):
    hours = make_hours(api_client).json()["id"]
    pk = make_policy(api_client, business_hours_id=hours).json()["id"]
    response = api_client.patch(f"{POLICIES}{pk}/", {
        "targets": [{"metric": "next_reply", "priority": "low", "minutes": 600}], "business_hours_id": None,
        "is_active": False}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["targets"] == [{"metric": "next_reply", "priority": "low", "minutes": 600}]
    assert (body["business_hours_id"], body["is_active"], body["name"]) == (None, False, "Standard")
    bad = api_client.patch(f"{POLICIES}{pk}/", {"targets": [{"metric": "x", "priority": "low", "minutes": 1}]},
                           format="json")
    assert "targets.0.metric" in fields_of(bad)
    assert api_client.get(f"{POLICIES}{pk}/").json()["targets"] == body["targets"]


def test_policies_list_in_position_order_with_constant_queries(api_client, tenant, django_assert_num_queries):
    make_policy(api_client, name="Last", position=9)
    api_client.get(POLICIES)
    with QueryCounter(connection) as one:
        assert len(api_client.get(POLICIES).json()["results"]) == 1
    baseline = len(one)
    make_policy(api_client, name="First", position=0)
    for i in range(4):
        make_policy(api_client, name=f"Middle {i}", position=5,
                    targets=[{"metric": "resolution", "priority": p, "minutes": 60}
                             for p in ("low", "normal", "high")])
    with django_assert_num_queries(baseline):
        names = [p["name"] for p in api_client.get(POLICIES).json()["results"]]
    assert names[0] == "First" and names[-1] == "Last" and len(names) == 6


def test_policies_of_another_tenant_are_not_found(api_client, other_api_client):
    pk = make_policy(api_client).json()["id"]
    assert other_api_client.get(f"{POLICIES}{pk}/").status_code == 404
    assert other_api_client.patch(f"{POLICIES}{pk}/", {"name": "x"}, format="json").status_code == 404
    assert other_api_client.delete(f"{POLICIES}{pk}/").status_code == 404
    assert api_client.delete(f"{POLICIES}{pk}/").status_code == 204
    assert api_client.get(f"{POLICIES}{pk}/").status_code == 404


def test_reading_needs_tickets_read_and_writing_tickets_write(tenant, api_client):
    pk = make_policy(api_client).json()["id"]
    reader = client_with(tenant, ["tickets:read"])
    assert reader.get(POLICIES).status_code == 200
    assert reader.get(HOURS).status_code == 200
    assert make_policy(reader).status_code == 403
    assert make_hours(reader).status_code == 403
    assert reader.delete(f"{POLICIES}{pk}/").status_code == 403
    stranger = client_with(tenant, ["kb:read"])
    assert stranger.get(POLICIES).status_code == 403
    assert APIClient().get(POLICIES).status_code in (401, 403)
