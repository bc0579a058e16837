"""Console pages of contacts, organizations and imports."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from helpdesk.people.models import Contact, ContactIdentity, ImportJob, Organization
from helpdesk.tenancy.context import tenant_scope
from tests.core.people.conftest import console_client
from tests.factories import ContactFactory, ContactIdentityFactory, OrganizationFactory
from tests.queries import QueryCounter, assert_num_queries
from tests.tickets.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_list_searches_and_keeps_its_query_count(tenant, agent_client):
    org = OrganizationFactory(tenant=tenant, name="Yıldız")
    for n in range(3):
        ContactIdentityFactory(tenant=tenant, contact=ContactFactory(tenant=tenant, name=f"Kişi {n}", organization=org))
    agent_client.get("/console/contacts/")
    with QueryCounter(connection) as small:
        response = agent_client.get("/console/contacts/")
    assert response.status_code == 200 and "Kişi 2" in response.content.decode()
    for n in range(3, 15):
        ContactIdentityFactory(tenant=tenant, contact=ContactFactory(tenant=tenant, name=f"Kişi {n}", organization=org))
    with assert_num_queries(len(small)):
        response = agent_client.get("/console/contacts/")
    assert "Kişi 14" in response.content.decode()
    found = agent_client.get("/console/contacts/", {"q": "kişi 1"}).content.decode()
    assert "Kişi 12" in found and "Kişi 2<" not in found


def test_the_contact_page_shows_identities_attributes_and_the_timeline(tenant, agent_client):
    contact = ContactFactory(tenant=tenant, name="Ayşe", attributes={"plan": "Premium"})
    ContactIdentityFactory(tenant=tenant, contact=contact, value="ayse@example.org")
    tickets = [TicketFactory(tenant=tenant, requester=contact, subject=f"Order {n} is late") for n in range(25)]
    page = agent_client.get(f"/console/contacts/{contact.pk}/").content.decode()
    assert "ayse@example.org" in page and "plan: Premium" in page
    assert "Order 24 is late" in page and "Order 0 is late" not in page  # 20 newest entries
    assert 'data-timeline-more' in page
    more = page.split('data-fragment-url="')[1].split('"')[0].replace("&amp;", "&")
    fragment = agent_client.get(more)
    assert fragment.status_code == 200 and "Order 0 is late" in fragment.content.decode()
    assert "data-timeline-more" not in fragment.content.decode()
    # Without JavaScript the same cursor pages the full page.
    cursor = more.split("cursor=")[1]
    assert "Order 0 is late" in agent_client.get(f"/console/contacts/{contact.pk}/?cursor={cursor}").content.decode()
    assert agent_client.get(f"/console/contacts/{contact.pk}/timeline/?cursor=bad").status_code == 400
    assert agent_client.get(f"/console/contacts/{contact.pk}/?cursor=bad").status_code == 400
    assert len(tickets) == 25


def test_editing_details_and_identities(tenant, agent_client):
    org = OrganizationFactory(tenant=tenant, name="Yıldız")
    contact = ContactFactory(tenant=tenant, name="Ayşe")
    url = f"/console/contacts/{contact.pk}/"
    response = agent_client.post(url, {"name": "Ayşe Yılmaz", "organization": "yıldız", "locale": "tr",
                                       "timezone": "Europe/Istanbul", "notes": "", "attributes": "plan: Premium\n"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        contact.refresh_from_db()
        assert contact.organization == org and contact.attributes == {"plan": "Premium"}
    bad = agent_client.post(url, {"name": "x", "organization": "Nowhere", "attributes": "no colon"})
    assert bad.status_code == 400 and "Nowhere" in bad.content.decode()
    add = agent_client.post(url + "identities/", {"action": "add", "kind": "email", "value": "AYSE@example.org"})
    assert add.status_code == 302
    with tenant_scope(tenant):
        identity = ContactIdentity.objects.get(contact=contact)
    assert identity.value == "ayse@example.org"
    other = ContactFactory(tenant=tenant, name="Mehmet")
    taken = agent_client.post(f"/console/contacts/{other.pk}/identities/",
                              {"action": "add", "kind": "email", "value": "ayse@example.org"})
    assert taken.status_code == 400 and "Ayşe Yılmaz" in taken.content.decode()
    gone = agent_client.post(url + "identities/", {"action": "remove", "identity": identity.pk})
    assert gone.status_code == 302
    with tenant_scope(tenant):
        assert not ContactIdentity.objects.filter(contact=contact).exists()


def test_merge_asks_for_confirmation_first(tenant, agent_client):
    target = ContactFactory(tenant=tenant, name="Ayşe")
    source = ContactFactory(tenant=tenant, name="A. Yılmaz")
    ContactIdentityFactory(tenant=tenant, contact=source, value="a.yilmaz@example.org")
    ticket = TicketFactory(tenant=tenant, requester=source)
    url = f"/console/contacts/{target.pk}/merge/"
    review = agent_client.post(url, {"source": "A.Yilmaz@example.org"})
    assert review.status_code == 200 and "merge-confirm-form" in review.content.decode()
    with tenant_scope(tenant):
        assert Contact.objects.filter(pk=source.pk).exists()
    assert agent_client.post(url, {"source": "nobody@example.org"}).status_code == 400
    assert agent_client.post(url, {"source": f"#{target.pk}"}).status_code == 400
    done = agent_client.post(url, {"source": f"#{source.pk}", "confirm": "1"})
    assert done.status_code == 302
    with tenant_scope(tenant):
        assert not Contact.objects.filter(pk=source.pk).exists()
        assert Ticket.objects.get(pk=ticket.pk).requester_id == target.pk


def test_delete_is_refused_for_contacts_with_tickets(tenant, agent_client):
    ticket = TicketFactory(tenant=tenant)
    response = agent_client.post(f"/console/contacts/{ticket.requester_id}/delete/", follow=True)
    assert "cannot be deleted" in response.content.decode()
    lonely = ContactFactory(tenant=tenant)
    assert agent_client.post(f"/console/contacts/{lonely.pk}/delete/").status_code == 302
    with tenant_scope(tenant):
        assert not Contact.objects.filter(pk=lonely.pk).exists()


def test_new_contact_page(tenant, agent_client):
    assert agent_client.get("/console/contacts/new/").status_code == 200
    response = agent_client.post("/console/contacts/new/", {"name": "Ayşe", "email": "ayse@example.org",
                                                            "phone": "+90 532 123 45 67"})
    assert response.status_code == 302
    bad = agent_client.post("/console/contacts/new/", {"name": "X", "email": "nope"})
    assert bad.status_code == 400 and "valid email" in bad.content.decode()


def test_organizations_pages(tenant, agent_client):
    response = agent_client.post("/console/organizations/", {"name": "Yıldız", "domains": "yildiz.com.tr, @Yildiz.net",
                                                             "auto_assign": "on"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        org = Organization.objects.get()
    assert org.domains == ["yildiz.com.tr", "yildiz.net"] and org.auto_assign
    assert "yildiz.net" in agent_client.get("/console/organizations/", {"q": "yildiz.n"}).content.decode()
    clash = agent_client.post("/console/organizations/", {"name": "Other", "domains": "yildiz.net"})
    assert clash.status_code == 400 and "Yıldız" in clash.content.decode()
    ContactFactory(tenant=tenant, name="Member One", organization=org)
    page = agent_client.get(f"/console/organizations/{org.pk}/").content.decode()
    assert "Member One" in page
    assert agent_client.post(f"/console/organizations/{org.pk}/", {"name": "Yıldız A.Ş.", "domains": ""}).status_code \
        == 302
    assert agent_client.post(f"/console/organizations/{org.pk}/delete/").status_code == 302


def test_import_page_upload_progress_and_errors(tenant, agent_client, django_capture_on_commit_callbacks):
    assert agent_client.get("/console/contacts/imports/").status_code == 200
    upload = SimpleUploadedFile("c.csv", b"name,email\nAyse,ayse@example.org\nBad,nope\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/console/contacts/imports/", {"kind": "contacts", "file": upload})
    assert response.status_code == 302
    with tenant_scope(tenant):
        job = ImportJob.objects.get()
    status = agent_client.get(f"/console/contacts/imports/{job.pk}/status/").json()
    assert status["finished"] and status["created"] == 1 and status["failed"] == 1
    page = agent_client.get(response["Location"]).content.decode()
    assert "import-bar" in page and "nope" in page
    refused = agent_client.post("/console/contacts/imports/",
                                {"kind": "contacts", "file": SimpleUploadedFile("x.csv", b"fax\n1\n")})
    assert refused.status_code == 400 and "Unknown columns" in refused.content.decode()


def test_a_queued_import_page_offers_a_refresh_without_javascript(tenant, agent_client):
    upload = SimpleUploadedFile("c.csv", b"name,email\nAyse,ayse@example.org\n", "text/csv")
    response = agent_client.post("/console/contacts/imports/", {"kind": "contacts", "file": upload})
    page = agent_client.get(response["Location"]).content.decode()
    assert 'id="import-refresh"' in page and 'data-finished="0"' in page


def test_light_agents_read_but_do_not_change(tenant, light_agent):
    client = console_client(light_agent)
    contact = ContactFactory(tenant=tenant)
    page = client.get(f"/console/contacts/{contact.pk}/")
    assert page.status_code == 200 and "merge-heading" not in page.content.decode()
    assert client.post(f"/console/contacts/{contact.pk}/", {"name": "x"}).status_code == 403
    assert client.post(f"/console/contacts/{contact.pk}/identities/",
                       {"action": "add", "kind": "email", "value": "x@example.org"}).status_code == 403
    assert client.get("/console/contacts/imports/").status_code == 403
    assert client.post("/console/organizations/", {"name": "X"}).status_code == 403


def test_another_tenants_contact_is_a_404(tenant, other_tenant, other_agent):
    contact = ContactFactory(tenant=tenant)
    client = console_client(other_agent, host="globex.localhost")
    for url in (f"/console/contacts/{contact.pk}/", f"/console/contacts/{contact.pk}/timeline/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/console/contacts/{contact.pk}/delete/").status_code == 404
    with tenant_scope(tenant):
        assert Contact.objects.filter(pk=contact.pk).exists()


def test_customers_is_in_the_side_navigation(agent_client):
    assert 'href="/console/contacts/"' in agent_client.get("/console/").content.decode()
