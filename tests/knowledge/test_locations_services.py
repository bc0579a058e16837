"""Writes of service locations: validation (nothing written on bad input), who may write,
slugs, translations, hours exceptions, search text, audit and events; routing."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.locations import routing, services
from knowledge.models import Location, LocationException, LocationTranslation
from tests.factories import BusinessCalendarFactory, TeamFactory, agent_in
from tests.knowledge.factories import LocationFactory

pytestmark = pytest.mark.django_db

VALUES = {"name": "Kadıköy Mağazası", "city": "İstanbul", "postcode": "34710", "country": "TR",
          "latitude": 40.9903, "longitude": 29.0290, "address": "Moda Cad. 1", "phone": "0216 555 01 02",
          "opening_hours": {"mon": [["09:00", "18:00"]], "sat": [["10:00", "14:00"]]},
          "services": ["Tamir", " Tamir ", "İade"]}


def test_create_with_everything(tenant, owner):
    team = TeamFactory(tenant=tenant, name="Kadıköy")
    calendar = BusinessCalendarFactory(tenant=tenant)
    location = services.location_create(
        tenant=tenant, actor=owner, values={**VALUES, "team": team, "calendar": calendar},
        translations=[{"locale": "en", "name": "Kadikoy Store", "services": ["Repairs"]}],
        exceptions=[{"date": "2030-10-29", "closed": True, "note": "Cumhuriyet Bayramı",
                     "note_translations": {"en": "Republic Day"}},
                    {"date": "2030-12-31", "hours": [["10:00", "14:00"]]}])
    with tenant_scope(tenant):
        location.refresh_from_db()
        assert location.slug == "kadikoy-magazasi"
        assert location.phone == "+902165550102"
        assert location.services == ["Tamir", "İade"]
        assert location.timezone == tenant.timezone
        assert (location.geo_x ** 2 + location.geo_y ** 2 + location.geo_z ** 2) == pytest.approx(1)
        assert "kadikoy store" in location.search_text and "repairs" in location.search_text
        assert [t.locale for t in location.translations.all()] == ["en"]
        special = location.exceptions.get(date=dt.date(2030, 12, 31))
        assert not special.closed and special.hours == [["10:00", "14:00"]]
        assert AuditEntry.objects.filter(action="location.created", object_id=str(location.pk)).exists()
        assert Event.objects.filter(type="location.created", subject_id=str(location.pk)).exists()
        assert routing.location_routing(location=location) == (team, calendar)
        route = routing.location_route(location)
        assert route.tags == ("location-kadikoy-magazasi",) and route.team == team
        assert route.calendar == calendar and route.business_hours == calendar


def test_routing_falls_back_to_the_default_calendar(tenant):
    with tenant_scope(tenant):
        from helpdesk.calendars.models import BusinessCalendar

        default = BusinessCalendar.objects.filter(is_default=True).first() or BusinessCalendarFactory(
            tenant=tenant, is_default=True)
        location = LocationFactory(tenant=tenant)
        assert routing.location_routing(location=location) == (None, default)
        route = routing.location_route(location)
        assert route.calendar == default and route.business_hours is None  # tickets keep the policy's


def test_slugs_are_unique_per_tenant(tenant, other_tenant, owner):
    first = services.location_create(tenant=tenant, actor=owner, values=VALUES)
    second = services.location_create(tenant=tenant, actor=owner, values=VALUES)
    theirs = services.location_create(tenant=other_tenant, actor=None, values=VALUES)
    assert (first.slug, second.slug, theirs.slug) == ("kadikoy-magazasi", "kadikoy-magazasi-2", "kadikoy-magazasi")
    with pytest.raises(ValidationError) as caught:
        services.location_create(tenant=tenant, actor=owner, values={**VALUES, "slug": "kadikoy-magazasi"})
    assert "slug" in caught.value.message_dict


@pytest.mark.parametrize("values,field", [
    ({"name": ""}, "name"), ({"latitude": 91}, "latitude"), ({"longitude": "east"}, "longitude"),
    ({"latitude": None}, "latitude"), ({"kind": "warehouse"}, "kind"), ({"phone": "call us"}, "phone"),
    ({"email": "not-an-address"}, "email"), ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"country": "Turkey"}, "country"), ({"slug": "Not A Slug"}, "slug"),
    ({"opening_hours": {"mon": [["18:00", "09:00"]]}}, "opening_hours.mon"),
    ({"opening_hours": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "opening_hours.mon"),
    ({"opening_hours": {"monday": []}}, "opening_hours"), ({"services": "x" * 101}, "services"),
    ({"team": "Team 1"}, "team"), ({"is_active": "yes"}, "is_active"), ({"colour": "red"}, "colour"),
])
def test_bad_values_are_refused_naming_the_field_and_nothing_is_written(tenant, owner, values, field):
    with pytest.raises(ValidationError) as caught:
        services.location_create(tenant=tenant, actor=owner, values={**VALUES, **values})
    assert field in caught.value.message_dict
    with tenant_scope(tenant):
        assert not Location.objects.exists()


@pytest.mark.parametrize("exceptions,field", [
    ([{"date": "2030-02-30"}], "exceptions.0.date"),
    ([{"date": "2030-01-01"}, {"date": "2030-01-01"}], "exceptions.1.date"),
    ([{"date": "2030-01-01", "closed": False}], "exceptions.0.hours"),
    ([{"date": "2030-01-01", "hours": [["10:00", "25:00"]]}], "exceptions.0.hours"),
    ([{"date": "2030-01-01", "when": "always"}], "exceptions.0"),
])
def test_bad_exceptions_are_refused(tenant, owner, exceptions, field):
    with pytest.raises(ValidationError) as caught:
        services.location_create(tenant=tenant, actor=owner, values=VALUES, exceptions=exceptions)
    assert field in caught.value.message_dict
    with tenant_scope(tenant):
        assert not Location.objects.exists()


def test_bad_translations_are_refused(tenant, owner):
    with pytest.raises(ValidationError) as caught:
        services.location_create(tenant=tenant, actor=owner, values=VALUES,
                                 translations=[{"locale": "tr", "name": "A"}, {"locale": "TR", "name": "B"},
                                               {"locale": "not a language"}])
    assert {"translations.1.locale", "translations.2.locale"} <= set(caught.value.message_dict)


def test_who_may_write(tenant, owner):
    agent = agent_in(tenant, role=Role.AGENT, email="a@acme.test")
    with pytest.raises(PermissionDenied):
        services.location_create(tenant=tenant, actor=agent, values=VALUES)
    admin = agent_in(tenant, role=Role.ADMIN, email="admin@acme.test")
    location = services.location_create(tenant=tenant, actor=admin, values=VALUES)
    with pytest.raises(PermissionDenied):
        services.location_update(location=location, actor=agent, values={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        services.location_delete(location=location, actor=agent)


def test_update_replaces_translations_and_exceptions_and_keeps_the_rest(tenant, owner):
    location = services.location_create(tenant=tenant, actor=owner, values=VALUES,
                                        translations=[{"locale": "en", "name": "Kadikoy Store"}],
                                        exceptions=[{"date": "2030-01-01", "closed": True}])
    updated = services.location_update(location=location, actor=owner, values={"latitude": 41.0, "city": "Moda"},
                                       translations=[{"locale": "de", "name": "Kadıköy Laden"}])
    with tenant_scope(tenant):
        updated.refresh_from_db()
        assert updated.city == "Moda" and updated.name == VALUES["name"]
        assert updated.geo_z == pytest.approx(0.6560590, abs=1e-6)  # sin(41°)
        assert list(LocationTranslation.objects.filter(location=updated).values_list("locale", flat=True)) == ["de"]
        assert LocationException.objects.filter(location=updated).count() == 1  # not given: kept
        assert "laden" in updated.search_text and "kadikoy store" not in updated.search_text
        services.location_update(location=updated, actor=owner, exceptions=[])
        assert not LocationException.objects.filter(location=updated).exists()
        assert AuditEntry.objects.filter(action="location.updated").count() == 2


def test_a_bad_update_changes_nothing(tenant, owner):
    location = services.location_create(tenant=tenant, actor=owner, values=VALUES)
    with pytest.raises(ValidationError):
        services.location_update(location=location, actor=owner, values={"name": "New name", "latitude": 200},
                                 translations=[{"locale": "en", "name": "X"}])
    with tenant_scope(tenant):
        location.refresh_from_db()
        assert location.name == VALUES["name"] and not location.translations.exists()


def test_delete(tenant, owner):
    location = services.location_create(tenant=tenant, actor=owner, values=VALUES,
                                        exceptions=[{"date": "2030-01-01"}])
    services.location_delete(location=location, actor=owner)
    with tenant_scope(tenant):
        assert not Location.objects.exists() and not LocationException.objects.exists()
        assert Event.objects.filter(type="location.deleted").exists()


def test_another_tenants_team_is_refused(tenant, other_tenant, owner):
    with pytest.raises(ValidationError) as caught:
        services.location_create(tenant=tenant, actor=owner,
                                 values={**VALUES, "team": TeamFactory(tenant=other_tenant)})
    assert "team" in caught.value.message_dict
