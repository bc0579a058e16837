"""Pages of service locations: the help center's list and detail (no JavaScript needed), the
console's list, form and CSV import, and a request sent from a location's page reaching the
location's team."""
from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import Location
from tests.factories import BusinessCalendarFactory, TeamFactory, agent_in
from tests.knowledge.factories import LocationExceptionFactory, LocationFactory, LocationTranslationFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def visitor(**extra) -> Client:
    return Client(HTTP_HOST=HOST, **extra)


@pytest.fixture
def stores(tenant):
    return [LocationFactory(tenant=tenant, name="Taksim Store", slug="taksim", latitude=41.0369, longitude=28.9850,
                            city="İstanbul", opening_hours=ALL_DAY),
            LocationFactory(tenant=tenant, name="Ankara Store", slug="ankara", latitude=39.9208, longitude=32.8541,
                            city="Ankara", postcode="06690", opening_hours={}),
            LocationFactory(tenant=tenant, name="Secret Store", slug="secret", is_active=False)]


def names(response) -> list[str]:
    return re.findall(r'<h2><a href="/hc/locations/[^/]+/">([^<]+)</a></h2>', response.content.decode())


def test_list_by_name_without_javascript(stores):
    response = visitor().get("/hc/locations/")
    assert response.status_code == 200
    assert names(response) == ["Ankara Store", "Taksim Store"]
    html = response.content.decode()
    assert 'id="use-my-location"' in html and " hidden" in html  # the script unhides it
    assert "https://www.openstreetmap.org/directions?to=41.036900%2C28.985000" in html
    assert "<script src=\"/static/helpcenter/locations.js\" defer></script>" in html
    assert "Secret Store" not in html


def test_nearest_to_the_device_first_with_distance(stores):
    response = visitor().get("/hc/locations/", {"near": "39.93,32.85"})
    assert names(response) == ["Ankara Store", "Taksim Store"]
    html = response.content.decode()
    assert "Nearest to your location first." in html
    assert re.search(r'class="distance">1\.\d km<', html)


def test_typed_city_or_postcode(stores):
    assert names(visitor().get("/hc/locations/", {"place": "ankara"})) == ["Ankara Store", "Taksim Store"]
    assert names(visitor().get("/hc/locations/", {"place": "06690"}))[0] == "Ankara Store"
    missing = visitor().get("/hc/locations/", {"place": "Atlantis"})
    assert missing.status_code == 200 and "We could not find “Atlantis”" in missing.content.decode()


def test_open_now_filter_and_badges(stores):
    html = visitor().get("/hc/locations/").content.decode()
    assert "Open now</span> · open 24 hours" in html and "Closed</span>" in html
    assert names(visitor().get("/hc/locations/", {"open_now": "1"})) == ["Taksim Store"]


def test_bad_input_is_not_an_error_page(stores):
    for params in ({"near": "999,999"}, {"kind": "rocket"}, {"page": "x"}, {"q": "x" * 500}):
        assert visitor().get("/hc/locations/", params).status_code == 200


def test_turkish_visitor_reads_the_translation(tenant, stores):
    LocationTranslationFactory(tenant=tenant, location=stores[0], locale="tr", name="Taksim Mağazası",
                               services=["Tamir"])
    from tests.knowledge.factories import HelpCenterSettingsFactory

    HelpCenterSettingsFactory(tenant=tenant, locales=["en", "tr"])
    response = visitor().get("/hc/locations/taksim/", HTTP_ACCEPT_LANGUAGE="tr")
    html = response.content.decode()
    assert response.status_code == 200 and "Taksim Mağazası" in html and "Tamir" in html
    from django.utils import translation

    with translation.override("tr"):
        assert translation.gettext("Opening hours") in html  # the interface follows the visitor


def test_detail_page(tenant, stores):
    team = TeamFactory(tenant=tenant, name="Taksim team")
    with tenant_scope(tenant):
        Location.objects.filter(pk=stores[0].pk).update(team=team, phone="+902125550000", description="Near the square")
    LocationExceptionFactory(tenant=tenant, location=stores[0], date=__import__("datetime").date.today()
                             + __import__("datetime").timedelta(days=3), closed=True, note="Bayram")
    html = visitor().get("/hc/locations/taksim/").content.decode()
    assert "Taksim Store" in html and 'href="tel:+902125550000"' in html and "Near the square" in html
    assert "Bayram" in html and "Monday" in html
    assert re.search(r'href="/hc/requests/new/\?[^"]*location=taksim"', html)
    assert "goes straight to the team of Taksim Store" in html


def test_missing_hidden_and_other_tenants_locations_are_404(tenant, other_tenant, stores):
    assert visitor().get("/hc/locations/nowhere/").status_code == 404
    assert visitor().get("/hc/locations/secret/").status_code == 404
    assert Client(HTTP_HOST="globex.localhost").get("/hc/locations/taksim/").status_code == 404
    assert b"Taksim" not in Client(HTTP_HOST="globex.localhost").get("/hc/locations/").content


def test_help_center_pages_are_not_on_the_platform_host(stores):
    assert Client(HTTP_HOST="localhost").get("/hc/locations/").status_code == 404


# --- a request from a location's page ---------------------------------------------------------------


def stamp(tenant) -> str:
    return signing.dumps({"t": time.time() - 10, "k": tenant.pk, "n": f"{time.time_ns():x}"},
                         salt="channels_hub.portal.form", compress=False)


def test_a_request_from_a_locations_page_goes_to_its_team_in_its_hours(tenant, stores):
    team = TeamFactory(tenant=tenant, name="Taksim team")
    hours = BusinessCalendarFactory(tenant=tenant, name="Taksim hours")
    with tenant_scope(tenant):
        Location.objects.filter(pk=stores[0].pk).update(team=team, calendar=hours)
    form = visitor().get("/hc/requests/new/", {"location": "taksim"})
    html = form.content.decode()
    assert 'name="location" value="taksim"' in html and "goes to the team of Taksim Store" in html
    sent = visitor().post("/hc/requests/new/", {
        "name": "Ayşe", "email": "ayse@example.org", "subject": "Repair", "description": "My phone",
        "website": "", "stamp": stamp(tenant), "location": "taksim"})
    assert sent.status_code == 200, sent.content.decode()[:2000]
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert ticket.team == team and ticket.business_hours == hours
        assert list(ticket.tags.values_list("name", flat=True)) == ["location-taksim"]


def test_an_unknown_location_makes_a_general_request(tenant, stores):
    sent = visitor().post("/hc/requests/new/", {
        "name": "Ayşe", "email": "ayse@example.org", "subject": "Hello", "description": "Hi",
        "website": "", "stamp": stamp(tenant), "location": "nowhere"})
    assert sent.status_code == 200
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert ticket.team is None and ticket.business_hours is None and not ticket.tags.exists()


# --- console -----------------------------------------------------------------------------------------


def console(user) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def test_console_list_for_agents_without_edit_links(tenant, stores):
    agent = agent_in(tenant, role=Role.AGENT, email="reader@acme.test")
    page = console(agent).get("/console/kb/locations/")
    assert page.status_code == 200 and b"Taksim Store" in page.content and b"Secret Store" in page.content
    assert b"/console/kb/locations/new/" not in page.content
    assert console(agent).get("/console/kb/locations/new/").status_code == 403


def test_console_create_edit_delete(tenant, owner):
    client = console(owner)
    assert client.get("/console/kb/locations/new/").status_code == 200
    data = {"kind": "store", "name": "Moda", "latitude": "40.98", "longitude": "29.02", "timezone": "Europe/Istanbul",
            "hours_mon": "09:00-12:00, 13:00-18:00", "hours_sat": "10:00-14:00", "services": "Tamir\nİade",
            "is_active": "on", "exceptions": "2030-10-29 closed Cumhuriyet Bayramı\n2030-12-31 10:00-14:00 Yılbaşı"}
    created = client.post("/console/kb/locations/new/", data)
    assert created.status_code == 302, created.content.decode()[:3000]
    with tenant_scope(tenant):
        location = Location.objects.get()
        assert location.opening_hours == {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "sat": [["10:00", "14:00"]]}
        assert location.services == ["Tamir", "İade"]
        assert [(e.date.isoformat(), e.closed, e.note) for e in location.exceptions.all()] == [
            ("2030-10-29", True, "Cumhuriyet Bayramı"), ("2030-12-31", False, "Yılbaşı")]
    edit = client.get(f"/console/kb/locations/{location.pk}/")
    assert "2030-12-31 10:00-14:00 Yılbaşı" in edit.content.decode()
    bad = client.post(f"/console/kb/locations/{location.pk}/", {**data, "hours_mon": "nine to five",
                                                                 "latitude": "95"})
    assert bad.status_code == 400 and b"nine to five" in bad.content
    assert client.post(f"/console/kb/locations/{location.pk}/delete/").status_code == 302
    with tenant_scope(tenant):
        assert not Location.objects.exists()


def test_console_csv_import_with_progress_page(tenant, owner, django_capture_on_commit_callbacks):
    client = console(owner)
    assert client.get("/console/kb/locations/imports/").status_code == 200
    upload = SimpleUploadedFile("stores.csv", "name,latitude,longitude\nA,1,2\nB,x,2\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/console/kb/locations/imports/", {"file": upload})
    assert response.status_code == 302
    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert 'id="import-progress"' in html and "/status/" in html and "console/contacts.js" in html
    assert "Rows that were not imported" in html and "latitude" in html
    status = client.get(response["Location"] + "status/").json()
    assert status["finished"] and status["created"] == 1 and status["failed"] == 1
    refused = client.post("/console/kb/locations/imports/",
                          {"file": SimpleUploadedFile("x.csv", b"colour\nred\n")})
    assert refused.status_code == 400 and b"colour" in refused.content
