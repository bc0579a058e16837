"""``/api/v1/locations/``: nearest first, search, open now, CRUD, validation 4xx, constant query
counts, scopes, isolation, and the CSV import endpoints."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import api_key_create
from knowledge.models import Location
from tests.factories import BusinessCalendarFactory, TeamFactory
from tests.knowledge.factories import LocationExceptionFactory, LocationFactory, LocationTranslationFactory
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

URL = "/api/v1/locations/"
ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def client_with(tenant, scopes) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, name="locations", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def reader(tenant):
    return client_with(tenant, ["kb:read"])


@pytest.fixture
def writer(tenant):
    return client_with(tenant, ["kb:write"])


@pytest.fixture
def stores(tenant):
    return [LocationFactory(tenant=tenant, name="Taksim", slug="taksim", latitude=41.0369, longitude=28.9850,
                            opening_hours={}),
            LocationFactory(tenant=tenant, name="Ankara", slug="ankara", latitude=39.9208, longitude=32.8541,
                            opening_hours=ALL_DAY),
            LocationFactory(tenant=tenant, name="Kadıköy", slug="kadikoy", latitude=40.9903, longitude=29.0290,
                            kind="service_centre", opening_hours={})]


def test_nearest_first_with_distances(reader, stores):
    body = reader.get(URL, {"near": "41.0082,28.9784"}).json()
    assert [row["slug"] for row in body["results"]] == ["taksim", "kadikoy", "ankara"]
    assert body["results"][0]["distance_km"] == pytest.approx(3.14, abs=0.1)
    assert body["next"] is None
    first = body["results"][0]
    assert first["directions_url"].startswith("https://www.openstreetmap.org/directions?to=41.036900%2C28.985000")
    assert first["url"] == "/hc/locations/taksim/"
    assert first["opening_hours"] == [] and first["open_now"] == {"is_open": False, "closes_at": None,
                                                                  "opens_at": None}


def test_near_with_text_kind_limit_and_open_now(reader, stores):
    assert [r["slug"] for r in reader.get(URL, {"near": "41,29", "q": "ankara"}).json()["results"]] == ["ankara"]
    assert [r["slug"] for r in reader.get(URL, {"near": "41,29", "kind": "service_centre"}).json()["results"]] == \
        ["kadikoy"]
    assert len(reader.get(URL, {"near": "41,29", "limit": 2}).json()["results"]) == 2
    open_now = reader.get(URL, {"near": "41,29", "open_now": "true"}).json()["results"]
    assert [r["slug"] for r in open_now] == ["ankara"] and open_now[0]["open_now"]["is_open"]
    assert open_now[0]["open_now"]["closes_at"] is None  # around the clock


def test_place_finds_a_typed_city(reader, stores):
    body = reader.get(URL, {"place": "ANKARA"}).json()
    assert body["results"][0]["slug"] == "ankara" and body["results"][0]["distance_km"] < 5
    missing = reader.get(URL, {"place": "Atlantis"})
    assert missing.status_code == 400 and "place" in missing.json()["error"]["fields"]


def test_list_by_name_with_cursor_pagination(reader, stores):
    first = reader.get(URL, {"page_size": 2}).json()
    assert [r["name"] for r in first["results"]] == ["Ankara", "Kadıköy"]
    second = reader.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["Taksim"]
    assert [r["slug"] for r in reader.get(URL, {"q": "KADIKOY"}).json()["results"]] == ["kadikoy"]


def test_inactive_only_when_asked(reader, tenant):
    LocationFactory(tenant=tenant, slug="hidden", is_active=False)
    assert reader.get(URL).json()["results"] == []
    assert [r["slug"] for r in reader.get(URL, {"include_inactive": "true"}).json()["results"]] == ["hidden"]


@pytest.mark.parametrize("params", [
    {"near": "91,0"}, {"near": "north"}, {"near": "41"}, {"limit": 0}, {"limit": 101}, {"kind": "warehouse"},
    {"open_now": "maybe"}, {"cursor": "!!!"}, {"q": "x" * 101},
])
def test_bad_parameters_are_400(reader, stores, params):
    response = reader.get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def _count(client, params) -> int:
    from django.db import connection

    client.get(URL, params)  # the key's "last used" stamp is written at most once a minute: not counted
    with QueryCounter(connection) as counter:
        assert client.get(URL, params).status_code == 200
    return len(counter)


@pytest.mark.parametrize("params", [{}, {"near": "41,29"}, {"near": "41,29", "open_now": "1"}])
def test_query_count_does_not_grow_with_rows(reader, tenant, params):
    def grow(n):
        for _ in range(n):
            location = LocationFactory(tenant=tenant)
            LocationTranslationFactory(tenant=tenant, location=location)
            LocationExceptionFactory(tenant=tenant, location=location)
    grow(2)
    few = _count(reader, params)
    grow(10)
    assert _count(reader, params) == few <= 4  # key, rows (with team and calendar), exceptions, translations


def test_create_retrieve_update_delete(writer, tenant):
    team = TeamFactory(tenant=tenant)
    calendar = BusinessCalendarFactory(tenant=tenant)
    created = writer.post(URL, {
        "name": "Kadıköy Mağazası", "latitude": 40.99, "longitude": 29.03, "city": "İstanbul", "team_id": team.pk,
        "calendar_id": calendar.pk, "opening_hours": [{"weekday": 0, "start": "09:00", "end": "18:00"}],
        "services": ["Tamir"], "translations": [{"locale": "en", "name": "Kadikoy Store"}],
        "exceptions": [{"date": "2030-10-29", "closed": True, "note": "Cumhuriyet Bayramı"},
                       {"date": "2030-12-31", "hours": [{"start": "10:00", "end": "14:00"}]}],
    }, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["slug"] == "kadikoy-magazasi" and body["team_id"] == team.pk and body["calendar_id"] == calendar.pk
    assert body["opening_hours"] == [{"weekday": 0, "start": "09:00", "end": "18:00"}]
    assert body["translations"] == [{"locale": "en", "name": "Kadikoy Store", "description": "", "services": [],
                                     "directions_note": ""}]
    assert body["exceptions"][1] == {"date": "2030-12-31", "closed": False,
                                     "hours": [{"start": "10:00", "end": "14:00"}], "note": "",
                                     "note_translations": {}}
    detail = f"{URL}{body['id']}/"
    assert writer.get(detail).json()["name"] == "Kadıköy Mağazası"
    changed = writer.patch(detail, {"name": "Moda", "team_id": None, "is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["team_id"] is None and not changed.json()["is_active"]
    assert writer.delete(detail).status_code == 204
    assert writer.get(detail).status_code == 404


@pytest.mark.parametrize("payload,field", [
    ({"latitude": 1, "longitude": 2}, "name"), ({"name": "A", "latitude": 100, "longitude": 2}, "latitude"),
    ({"name": "A", "latitude": 1, "longitude": 2, "team_id": 999999}, "team_id"),
    ({"name": "A", "latitude": 1, "longitude": 2, "opening_hours": [{"weekday": 9, "start": "09:00",
                                                                    "end": "10:00"}]}, "opening_hours.0"),
    ({"name": "A", "latitude": 1, "longitude": 2, "exceptions": [{"date": "soon"}]}, "exceptions.0.date"),
    ({"name": "A", "latitude": 1, "longitude": 2, "colour": "red"}, "colour"),
    ({"name": "A", "latitude": 1, "longitude": 2, "timezone": "Nowhere/Here"}, "timezone"),
])
def test_bad_input_is_400_naming_the_field_and_writes_nothing(writer, tenant, payload, field):
    response = writer.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    with tenant_scope(tenant):
        assert not Location.objects.exists()


def test_another_tenants_team_is_a_field_error(writer, other_tenant):
    response = writer.post(URL, {"name": "A", "latitude": 1, "longitude": 2,
                                 "team_id": TeamFactory(tenant=other_tenant).pk}, format="json")
    assert response.status_code == 400 and "team_id" in response.json()["error"]["fields"]


def test_scopes(reader, tenant, stores):
    assert reader.post(URL, {"name": "A", "latitude": 1, "longitude": 2}, format="json").status_code == 403
    assert reader.patch(f"{URL}{stores[0].pk}/", {"name": "B"}, format="json").status_code == 403
    assert reader.delete(f"{URL}{stores[0].pk}/").status_code == 403
    tickets_only = client_with(tenant, ["tickets:read"])
    assert tickets_only.get(URL).status_code == 403


def test_isolation(other_tenant, stores):
    theirs = client_with(other_tenant, ["kb:write"])
    assert theirs.get(URL, {"near": "41,29"}).json()["results"] == []
    assert theirs.get(URL).json()["results"] == []
    for method in ("get", "patch", "delete"):
        assert getattr(theirs, method)(f"{URL}{stores[0].pk}/", {}, format="json").status_code == 404
    with tenant_scope(stores[0].tenant):
        assert Location.objects.filter(pk=stores[0].pk).exists()


def test_csv_import_through_the_api(writer, tenant, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("l.csv", "name,latitude,longitude\nA,1,2\nB,,\n".encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        created = writer.post(f"{URL}imports/", {"file": upload}, format="multipart")
    assert created.status_code == 201, created.content
    job = writer.get(f"{URL}imports/{created.json()['id']}/").json()
    assert job["finished"] and job["created"] == 1 and job["failed"] == 1 and job["errors"][0]["row"] == 3
    assert [j["id"] for j in writer.get(f"{URL}imports/").json()["results"]] == [job["id"]]
    # Not among the contacts' imports.
    assert client_with(tenant, ["contacts:write"]).get("/api/v1/contacts/imports/").json()["results"] == []
    bad = writer.post(f"{URL}imports/", {"file": SimpleUploadedFile("x.csv", b"colour\nred\n")}, format="multipart")
    assert bad.status_code == 400
