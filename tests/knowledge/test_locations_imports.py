"""CSV import of service locations through the shared import machinery: progress, per-row
errors, updates by slug or by name in a city, translations and hours columns, who may import."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from helpdesk.people import imports
from helpdesk.people.models import ImportJob, ImportKind, ImportStatus
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.locations.imports import parse_day
from knowledge.models import Location
from tests.factories import BusinessCalendarFactory, TeamFactory, agent_in
from tests.knowledge.factories import LocationFactory

pytestmark = pytest.mark.django_db

CSV = """name,city,postcode,latitude,longitude,kind,team,calendar,services,mon,sat,sun,name:en,services:en,active
Kadıköy Mağazası,İstanbul,34710,40.9903,29.0290,mağaza,Kadıköy,Store hours,Tamir;İade,09:00-18:00,10:00-14:00,kapalı,Kadikoy Store,Repairs;Returns,evet
Çankaya Servis,Ankara,06690,39.9,32.86,servis merkezi,,,Tamir,"09:00-12:00, 13:00-18:00",,,Cankaya Service,,yes
No coordinates,İzmir,35000,,,store,,,,,,,,,
Bad hours,İzmir,35000,38.4,27.1,store,,,,9 to 5,,,,,
Unknown team,İzmir,35000,38.4,27.1,store,Nobody,,,,,,,,
Bad kind,İzmir,35000,38.4,27.1,warehouse,,,,,,,,,
Far north,Svalbard,9170,91,15,store,,,,,,,,,
"""


@pytest.fixture
def team(tenant):
    return TeamFactory(tenant=tenant, name="Kadıköy")


@pytest.fixture
def calendar(tenant):
    return BusinessCalendarFactory(tenant=tenant, name="Store hours")


@pytest.fixture(autouse=True)
def on_commit_runs(django_capture_on_commit_callbacks):
    """Tests run in a transaction: run the after-commit task queueing as a commit would."""
    return django_capture_on_commit_callbacks


def _import(tenant, actor, data, capture) -> ImportJob:
    with capture(execute=True), tenant_scope(tenant):
        raw = data.encode() if isinstance(data, str) else data
        job = imports.import_job_create(tenant=tenant, kind=ImportKind.LOCATIONS, data=raw, filename="l.csv",
                                        actor=actor)
    with tenant_scope(tenant):
        job.refresh_from_db()
    return job


def test_import_with_progress_and_per_row_errors(tenant, owner, team, calendar, on_commit_runs):
    job = _import(tenant, owner, CSV, on_commit_runs)
    assert job.status == ImportStatus.COMPLETED and job.percent == 100
    counts = (job.total_rows, job.processed_rows, job.created_count, job.updated_count, job.failed_count)
    assert counts == (7, 7, 2, 0, 5)
    errors = {e["row"]: e["message"] for e in job.errors}
    assert set(errors) == {4, 5, 6, 7, 8}  # the header is row 1
    assert "latitude" in errors[4] and "required" in errors[4]
    assert "9 to 5" in errors[5]
    assert "Nobody" in errors[6]
    assert "warehouse" in errors[7]
    assert "latitude" in errors[8]
    status = imports.import_job_status(job)
    assert status["finished"] and status["failed"] == 5
    with tenant_scope(tenant):
        kadikoy = Location.objects.get(slug="kadikoy-magazasi")
        assert kadikoy.kind == "store" and kadikoy.team == team and kadikoy.calendar == calendar
        assert kadikoy.opening_hours == {"mon": [["09:00", "18:00"]], "sat": [["10:00", "14:00"]]}
        assert kadikoy.services == ["Tamir", "İade"]
        english = kadikoy.translations.get(locale="en")
        assert (english.name, english.services) == ("Kadikoy Store", ["Repairs", "Returns"])
        cankaya = Location.objects.get(slug="cankaya-servis")
        assert cankaya.kind == "service_centre"
        assert cankaya.opening_hours == {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}


def test_a_second_file_updates_by_slug_or_by_name_in_the_city(tenant, owner, on_commit_runs):
    LocationFactory(tenant=tenant, name="Moda", city="İstanbul", slug="moda", latitude=40.98, longitude=29.02)
    data = ("name,city,phone,tue\n"
            "Moda,istanbul,+90 216 555 0000,08:00-20:00\n"
            "Yeni,İstanbul,,\n")
    job = _import(tenant, owner, data, on_commit_runs)
    assert (job.created_count, job.updated_count, job.failed_count) == (0, 1, 1)  # "Yeni" has no coordinates
    with tenant_scope(tenant):
        moda = Location.objects.get(slug="moda")
        assert moda.phone == "+902165550000"
        assert moda.opening_hours["tue"] == [["08:00", "20:00"]] and "mon" in moda.opening_hours  # other days kept
    by_slug = _import(tenant, owner, "slug,name,latitude,longitude\nmoda,Moda Çarşı,,\n", on_commit_runs)
    assert by_slug.updated_count == 1
    with tenant_scope(tenant):
        assert Location.objects.get(slug="moda").name == "Moda Çarşı"


def test_turkish_excel_semicolons_and_cp1254(tenant, owner, on_commit_runs):
    data = "name;city;latitude;longitude\nŞişli Mağaza;İstanbul;41,06;28,99\n".encode("cp1254")
    job = _import(tenant, owner, data, on_commit_runs)
    assert job.created_count == 1, job.errors
    with tenant_scope(tenant):
        assert Location.objects.get().latitude == pytest.approx(41.06)


@pytest.mark.parametrize("data,needle", [
    ("city,latitude\nAnkara,1\n", "name"), ("name,colour\nA,red\n", "colour"), ("name,name\nA,B\n", "twice"),
    ("name\n", "no rows"),
])
def test_a_file_that_cannot_be_imported_is_refused_at_once(tenant, owner, data, needle):
    with pytest.raises(imports.ImportRefused) as caught, tenant_scope(tenant):
        imports.import_job_create(tenant=tenant, kind=ImportKind.LOCATIONS, data=data.encode(), actor=owner)
    assert needle in str(caught.value)
    with tenant_scope(tenant):
        assert not ImportJob.objects.exists()


def test_only_people_who_may_edit_locations_import_them(tenant):
    agent = agent_in(tenant, role=Role.AGENT, email="agent2@acme.test")
    with pytest.raises(PermissionDenied), tenant_scope(tenant):
        imports.import_job_create(tenant=tenant, kind=ImportKind.LOCATIONS, data=b"name\nA\n", actor=agent)


def test_contacts_imports_do_not_offer_or_list_locations(tenant, owner, on_commit_runs, client):
    _import(tenant, owner, "name,latitude,longitude\nA,1,2\n", on_commit_runs)
    from helpdesk.people import selectors

    with tenant_scope(tenant):
        assert not selectors.import_jobs(tenant=tenant).exists()
    client.force_login(owner)
    page = client.get("/console/contacts/imports/", HTTP_HOST="acme.localhost")
    assert page.status_code == 200 and b'value="locations"' not in page.content


@pytest.mark.parametrize("text,expected", [
    ("09:00-18:00", [["09:00", "18:00"]]), ("9.00 – 12.30, 13:30-18:00", [["09:00", "12:30"], ["13:30", "18:00"]]),
    ("", []), ("Closed", []), ("kapalı", []), ("00:00-24:00", [["00:00", "24:00"]]),
])
def test_parse_day(text, expected):
    assert parse_day(text, column="mon") == expected


@pytest.mark.parametrize("text", ["9 to 5", "18:00-09:00", "09:00-18:00 and more", "09:00-12:00 11:00-13:00"])
def test_parse_day_refuses(text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        parse_day(text, column="mon")
