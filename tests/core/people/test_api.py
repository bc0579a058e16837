"""``/api/v1/contacts/``, ``/api/v1/organizations/`` and ``/api/v1/contacts/imports/``."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from helpdesk.people.models import Contact, ContactIdentity, ImportJob, Organization
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import api_key_create
from tests.factories import (
    ContactFactory,
    ContactIdentityFactory,
    ImportJobFactory,
    OrganizationFactory,
)
from tests.queries import QueryCounter, assert_num_queries
from tests.tickets.factories import TicketFactory

pytestmark = pytest.mark.django_db


def make_contacts(tenant, count: int, org=None) -> list[Contact]:
    made = []
    for n in range(count):
        contact = ContactFactory(tenant=tenant, name=f"Customer {n}", organization=org)
        ContactIdentityFactory(tenant=tenant, contact=contact, value=f"c{n}-{contact.pk}@example.org")
        ContactIdentityFactory(tenant=tenant, contact=contact, kind="phone", value=f"+9053200{contact.pk:05d}")
        made.append(contact)
    return made


def client_with(tenant, scopes) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, name="scoped", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_list_and_search_with_a_constant_query_count(tenant, api_client):
    org = OrganizationFactory(tenant=tenant)
    make_contacts(tenant, 3, org)
    api_client.get("/api/v1/me/")  # the key's first use of the minute records it: not part of the list
    with QueryCounter(connection) as small:
        response = api_client.get("/api/v1/contacts/")
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    make_contacts(tenant, 12, org)
    with assert_num_queries(len(small)):
        response = api_client.get("/api/v1/contacts/")
    rows = response.json()["results"]
    assert len(rows) == 15
    assert rows[0]["organization"]["id"] == org.pk and len(rows[0]["identities"]) == 2
    with assert_num_queries(len(small)):
        response = api_client.get("/api/v1/contacts/", {"q": "customer 1"})
    assert {r["name"] for r in response.json()["results"]} == {"Customer 1", "Customer 10", "Customer 11"}


def test_search_matches_identities_by_part(tenant, api_client):
    contact = ContactFactory(tenant=tenant, name="Ayşe")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="ayse.yilmaz@example.org")
    ContactIdentityFactory(tenant=tenant, contact=contact, kind="phone", value="+905321234567")
    ContactFactory(tenant=tenant, name="Someone else")
    for q in ("AYSE.Y", "example.org", "+90 532 123", "532-123-45"):
        names = [r["name"] for r in api_client.get("/api/v1/contacts/", {"q": q}).json()["results"]]
        assert names == ["Ayşe"], q
    assert api_client.get("/api/v1/contacts/", {"q": "x" * 201}).status_code == 400


def test_create_get_patch_delete(tenant, api_client):
    org = OrganizationFactory(tenant=tenant)
    response = api_client.post("/api/v1/contacts/", {
        "name": "Ayşe", "organization_id": org.pk, "locale": "tr", "timezone": "Europe/Istanbul",
        "attributes": {"plan": "Premium", "seats": 5},
        "identities": [{"kind": "email", "value": "Ayse@Example.org"}, {"kind": "phone", "value": "+90 532 123 4567"}],
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"] == {"id": org.pk, "name": org.name}
    assert {i["value"] for i in body["identities"]} == {"ayse@example.org", "+905321234567"}
    url = f"/api/v1/contacts/{body['id']}/"
    assert api_client.get(url).json()["attributes"] == {"plan": "Premium", "seats": 5}
    response = api_client.patch(url, {"attributes": {"seats": None, "vip": True}, "organization_id": None},
                                format="json")
    assert response.status_code == 200
    assert response.json()["attributes"] == {"plan": "Premium", "vip": True}
    assert response.json()["organization"] is None
    assert api_client.delete(url).status_code == 204
    assert not Contact.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize("payload,field", [
    ({"identities": [{"kind": "email", "value": "nope"}]}, "identities.0.value"),
    ({"identities": [{"kind": "fax", "value": "1"}]}, "identities.0.kind"),
    ({"locale": "Türkçe"}, "locale"),
    ({"timezone": "Nowhere/City"}, "timezone"),
    ({"attributes": {"nested": {"a": 1}}}, "attributes"),
    ({"organization_id": 999999}, "organization_id"),
    ({"nmae": "typo"}, "nmae"),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(tenant, api_client, payload, field):
    response = api_client.post("/api/v1/contacts/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    with tenant_scope(tenant):
        assert not Contact.objects.exists()


def test_identities_are_added_and_removed_and_conflicts_are_named(tenant, api_client):
    ayse, mehmet = ContactFactory(tenant=tenant, name="Ayşe"), ContactFactory(tenant=tenant, name="Mehmet")
    ContactIdentityFactory(tenant=tenant, contact=mehmet, value="mehmet@example.org")
    response = api_client.post(f"/api/v1/contacts/{ayse.pk}/identities/",
                               {"kind": "social", "value": "@Ayse", "provider": "WhatsApp"}, format="json")
    assert response.status_code == 201 and response.json()["value"] == "ayse"
    conflict = api_client.post(f"/api/v1/contacts/{ayse.pk}/identities/",
                               {"kind": "email", "value": "MEHMET@example.org"}, format="json")
    assert conflict.status_code == 400 and "Mehmet" in conflict.json()["error"]["fields"]["value"][0]
    identity_id = response.json()["id"]
    mehmets = ContactIdentity.objects.filter(contact=mehmet).values_list("pk", flat=True).first()
    assert api_client.delete(f"/api/v1/contacts/{ayse.pk}/identities/{mehmets}/").status_code == 404
    assert api_client.delete(f"/api/v1/contacts/{ayse.pk}/identities/{identity_id}/").status_code == 204


def test_a_contact_with_tickets_is_a_409_on_delete(tenant, api_client):
    ticket = TicketFactory(tenant=tenant)
    response = api_client.delete(f"/api/v1/contacts/{ticket.requester_id}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "contact_in_use"


def test_merge_through_the_api(tenant, other_tenant, api_client):
    source, target = ContactFactory(tenant=tenant), ContactFactory(tenant=tenant)
    ContactIdentityFactory(tenant=tenant, contact=source, value="old@example.org")
    ticket = TicketFactory(tenant=tenant, requester=source)
    response = api_client.post(f"/api/v1/contacts/{target.pk}/merge/", {"source_id": source.pk}, format="json")
    assert response.status_code == 200
    assert [i["value"] for i in response.json()["identities"]] == ["old@example.org"]
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.requester_id == target.pk
    foreign = ContactFactory(tenant=other_tenant)
    for source_id in (foreign.pk, target.pk, 0):
        bad = api_client.post(f"/api/v1/contacts/{target.pk}/merge/", {"source_id": source_id}, format="json")
        assert bad.status_code == 400, source_id


def test_timeline_endpoint_pages_with_cursors(tenant, api_client):
    contact = ContactFactory(tenant=tenant)
    for _ in range(5):
        TicketFactory(tenant=tenant, requester=contact)
    first = api_client.get(f"/api/v1/contacts/{contact.pk}/timeline/", {"limit": 3}).json()
    assert len(first["results"]) == 3 and first["next"]
    assert {"kind", "at", "title", "url", "summary", "id"} <= set(first["results"][0])
    second = api_client.get(f"/api/v1/contacts/{contact.pk}/timeline/", {"limit": 3, "cursor": first["next"]}).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    for params in ({"cursor": "garbage"}, {"limit": 0}, {"limit": 1000}):
        assert api_client.get(f"/api/v1/contacts/{contact.pk}/timeline/", params).status_code == 400


def test_another_tenants_contacts_are_404_everywhere(tenant, other_api_client):
    contact = ContactFactory(tenant=tenant)
    identity = ContactIdentityFactory(tenant=tenant, contact=contact)
    org = OrganizationFactory(tenant=tenant)
    job = ImportJobFactory(tenant=tenant)
    base = f"/api/v1/contacts/{contact.pk}/"
    for method, url, data in [("get", base, None), ("patch", base, {"name": "x"}), ("delete", base, None),
                              ("post", base + "identities/", {"kind": "email", "value": "x@example.org"}),
                              ("delete", f"{base}identities/{identity.pk}/", None),
                              ("post", base + "merge/", {"source_id": contact.pk}),
                              ("get", base + "timeline/", None),
                              ("get", f"/api/v1/organizations/{org.pk}/", None),
                              ("patch", f"/api/v1/organizations/{org.pk}/", {"name": "x"}),
                              ("delete", f"/api/v1/organizations/{org.pk}/", None),
                              ("get", f"/api/v1/contacts/imports/{job.pk}/", None)]:
        response = getattr(other_api_client, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
    with tenant_scope(tenant):
        assert Contact.objects.filter(pk=contact.pk, name=contact.name).exists()
        assert Organization.objects.filter(pk=org.pk).exists()


def test_scopes_are_enforced(tenant):
    reader = client_with(tenant, ["contacts:read"])
    assert reader.get("/api/v1/contacts/").status_code == 200
    assert reader.post("/api/v1/contacts/", {"name": "x"}, format="json").status_code == 403
    assert reader.post("/api/v1/organizations/", {"name": "x"}, format="json").status_code == 403
    outsider = client_with(tenant, ["tickets:read"])
    assert outsider.get("/api/v1/contacts/").status_code == 403
    assert outsider.get("/api/v1/organizations/").status_code == 403


def test_organizations_crud_and_search_with_a_constant_query_count(tenant, api_client):
    response = api_client.post("/api/v1/organizations/", {"name": "Yıldız", "domains": ["YILDIZ.com.tr"],
                                                          "auto_assign": True}, format="json")
    assert response.status_code == 201 and response.json()["domains"] == ["yildiz.com.tr"]
    org_id = response.json()["id"]
    duplicate = api_client.post("/api/v1/organizations/", {"name": "Other", "domains": ["yildiz.com.tr"]},
                                format="json")
    assert duplicate.status_code == 400 and "domains" in duplicate.json()["error"]["fields"]
    assert api_client.post("/api/v1/organizations/", {"name": "X", "domains": ["bad domain"]},
                           format="json").status_code == 400
    with QueryCounter(connection) as small:
        api_client.get("/api/v1/organizations/")
    for n in range(10):
        OrganizationFactory(tenant=tenant, name=f"Org {n}", domains=[f"org{n}.example"])
    with assert_num_queries(len(small)):
        rows = api_client.get("/api/v1/organizations/").json()["results"]
    assert len(rows) == 11
    assert [r["name"] for r in api_client.get("/api/v1/organizations/", {"q": "yildiz.com"}).json()["results"]] == [
        "Yıldız"]
    assert api_client.patch(f"/api/v1/organizations/{org_id}/", {"notes": "Key account"},
                            format="json").json()["notes"] == "Key account"
    assert api_client.delete(f"/api/v1/organizations/{org_id}/").status_code == 204
    # A contact created through the API joins by domain while the organization auto-assigns.
    api_client.post("/api/v1/organizations/", {"name": "Acme", "domains": ["acme.example"], "auto_assign": True},
                    format="json")
    made = api_client.post("/api/v1/contacts/", {"identities": [{"kind": "email", "value": "a@acme.example"}]},
                           format="json").json()
    assert made["organization"]["name"] == "Acme"


def test_csv_import_upload_and_status(tenant, api_client, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("customers.csv", b"name,email\nAyse,ayse@example.org\nBad,nope\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/contacts/imports/", {"file": upload, "kind": "contacts"},
                                   format="multipart")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    status = api_client.get(f"/api/v1/contacts/imports/{job_id}/").json()
    assert status["status"] == "completed" and status["percent"] == 100
    assert (status["total_rows"], status["created"], status["failed"]) == (2, 1, 1)
    assert status["errors"][0]["row"] == 3
    assert [j["id"] for j in api_client.get("/api/v1/contacts/imports/").json()["results"]] == [job_id]
    bad = api_client.post("/api/v1/contacts/imports/",
                          {"file": SimpleUploadedFile("x.csv", b"fax\n1\n", "text/csv")}, format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()["error"]["fields"]
    assert api_client.post("/api/v1/contacts/imports/", {}, format="multipart").status_code == 400
    with tenant_scope(tenant):
        assert ImportJob.objects.count() == 1
