"""The request portal on PostgreSQL and Redis: submitting (and the spam guards), signing in by
emailed link or password, the lists and the request page, replying and solving, isolation."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from channels_hub.models import OutboundEmail, PortalAccount, PortalLink, PortalSettings
from channels_hub.portal import auth, selectors
from channels_hub.portal.services import request_solve_by_requester
from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.people.models import Contact, ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create
from tests.channels_hub.factories import PortalAccountFactory, PortalLinkFactory, PortalSettingsFactory
from tests.factories import ContactFactory, ContactIdentityFactory, OrganizationFactory, TenantFactory
from tests.queries import QueryCounter
from tests.tickets.factories import (
    AttachmentFactory,
    CustomFieldFactory,
    MessageFactory,
    SideConversationFactory,
    TicketCCFactory,
    TicketFactory,
)
from tickets.models import CustomFieldKind, Message, MessageKind, Status, Ticket, Via
from tickets.services.messages import message_add
from tickets.services.tickets import ticket_create

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"


# --- helpers -----------------------------------------------------------------------------

def stamp(tenant, *, age: float = 10.0) -> str:
    """A form stamp as the page renders it, ``age`` seconds ago."""
    return signing.dumps({"t": time.time() - age, "k": tenant.pk, "n": f"{time.time_ns():x}"},
                         salt="channels_hub.portal.form", compress=False)


def submission(tenant, **overrides) -> dict:
    data = {"name": "Jane Doe", "email": "jane@example.org", "subject": "My parcel never arrived",
            "description": "I ordered two weeks ago.", "website": "", "stamp": stamp(tenant)}
    data.update(overrides)
    return data


def portal(host: str = HOST, **extra) -> Client:
    return Client(HTTP_HOST=host, **extra)


def sign_in(client: Client, account: PortalAccount) -> Client:
    session = client.session
    session[f"portal:{account.tenant_id}"] = {"account": account.pk, "hash": auth.session_hash(account)}
    session.save()
    return client


def counts(tenant) -> tuple[int, int, int, int]:
    with tenant_scope(tenant):
        return (Ticket.objects.count(), Contact.objects.count(), OutboundEmail.objects.count(),
                PortalLink.objects.count())


def set_portal(tenant, **fields) -> None:
    PortalSettingsFactory(tenant=tenant)
    with tenant_scope(tenant):
        PortalSettings.objects.filter(tenant=tenant).update(**fields)


@pytest.fixture
def jane(tenant):
    contact = ContactFactory(tenant=tenant, name="Jane Doe")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="jane@example.org")
    return contact


@pytest.fixture
def jane_account(tenant, jane):
    return PortalAccountFactory(tenant=tenant, contact=jane, email="jane@example.org")


@pytest.fixture
def signed_in(jane_account):
    return sign_in(portal(), jane_account)


def link_token(tenant) -> str:
    with tenant_scope(tenant):
        mail = OutboundEmail.objects.filter(kind="portal").latest("id")
    found = re.search(r"/hc/signin/([A-Za-z0-9_-]+)/", mail.body_text)
    assert found, mail.body_text
    return found.group(1)


# --- settings ----------------------------------------------------------------------------

def test_a_new_tenant_gets_portal_settings_with_defaults():
    tenant = tenant_create(slug="initech", name="Initech", owner_email="owner@initech.test", owner_password="x" * 12)
    with tenant_scope(tenant):
        row = PortalSettings.objects.get(tenant=tenant)
    assert row.enabled and row.passwords and not row.organization_requests


def test_an_older_tenant_gets_its_row_on_first_visit(tenant):
    assert portal().get("/hc/signin/").status_code == 200
    with tenant_scope(tenant):
        assert PortalSettings.objects.filter(tenant=tenant).count() == 1


def test_a_disabled_portal_and_the_platform_host_are_404(tenant):
    PortalSettingsFactory(tenant=tenant, enabled=False)
    assert portal().get("/hc/requests/new/").status_code == 404
    assert portal("localhost").get("/hc/requests/new/").status_code == 404


# --- submitting --------------------------------------------------------------------------

def test_the_form_shows_customer_visible_fields_only(tenant):
    CustomFieldFactory(tenant=tenant, key="order_number", label="Order number", customer_visible=True)
    CustomFieldFactory(tenant=tenant, key="internal_score", label="Internal score", customer_visible=False)
    page = portal().get("/hc/requests/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Order number" in html and "Internal score" not in html
    assert 'name="website"' in html and 'name="stamp"' in html


def test_a_signed_out_visitor_submits_a_request(tenant):
    response = portal().post("/hc/requests/new/", submission(tenant))
    assert response.status_code == 200, response.content.decode()
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert ticket.channel == "web" and ticket.created_via == Via.CUSTOMER and ticket.status == Status.NEW
        assert ticket.requester.identities.get().value == "jane@example.org"
        assert ticket.requester.name == "Jane Doe"
        assert ticket.messages.get().body_text == "I ordered two weeks ago."
        ack = OutboundEmail.objects.get(kind="acknowledgement")
        assert ack.ticket_id == ticket.pk and ack.to == ["jane@example.org"]
        signin = OutboundEmail.objects.get(kind="portal")
        assert signin.to == ["jane@example.org"] and "/hc/signin/" in signin.body_text
        link = PortalLink.objects.get()
        assert link.next_url == f"/hc/requests/{ticket.number}/"
        assert link.account.contact_id == ticket.requester_id
    assert f"#{ticket.number}" in response.content.decode()


def test_a_sent_request_mails_the_acknowledgement_and_the_link(tenant, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert portal().post("/hc/requests/new/", submission(tenant)).status_code == 200
    subjects = sorted(m.subject for m in mailoutbox)
    assert len(subjects) == 2
    assert any("We received your request" in s for s in subjects)
    assert any("sign-in link" in s for s in subjects)


def test_a_signed_in_customer_submits_as_themselves(tenant, jane, signed_in):
    response = signed_in.post("/hc/requests/new/", submission(tenant, email="mallory@example.org", name="Mallory"))
    assert response.status_code == 200
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert ticket.requester_id == jane.pk
        assert OutboundEmail.objects.get(kind="acknowledgement").to == ["jane@example.org"]
        assert not OutboundEmail.objects.filter(kind="portal").exists()  # already signed in
        assert not ContactIdentity.objects.filter(value="mallory@example.org").exists()


def test_the_honeypot_refuses_with_a_clear_error_and_creates_nothing(tenant):
    before = counts(tenant)
    response = portal().post("/hc/requests/new/", submission(tenant, website="http://spam.example"))
    assert response.status_code == 400
    assert "filled in by a program" in response.content.decode()
    assert counts(tenant) == before


def test_a_form_sent_too_fast_is_refused(tenant):
    page = portal().get("/hc/requests/new/").content.decode()
    fresh = re.search(r'name="stamp" value="([^"]+)"', page).group(1)
    response = portal().post("/hc/requests/new/", submission(tenant, stamp=fresh))
    assert response.status_code == 400
    assert "faster than a person" in response.content.decode()
    assert counts(tenant) == (0, 0, 0, 0)


@pytest.mark.parametrize("value, words", [
    ("expired", "more than a day"),
    ("forged", "could not be checked"),
    ("", "could not be checked"),
])
def test_an_old_or_forged_stamp_is_refused(tenant, value, words):
    stamps = {"expired": stamp(tenant, age=2 * 24 * 3600), "forged": stamp(tenant)[:-3] + "abc", "": ""}
    response = portal().post("/hc/requests/new/", submission(tenant, stamp=stamps[value]))
    assert response.status_code == 400 and words in response.content.decode()
    assert counts(tenant) == (0, 0, 0, 0)


def test_a_stamp_of_another_tenant_is_refused(tenant, other_tenant):
    response = portal().post("/hc/requests/new/", submission(tenant, stamp=stamp(other_tenant)))
    assert response.status_code == 400 and counts(tenant)[0] == 0


def test_the_same_form_sent_twice_makes_one_request(tenant):
    data = submission(tenant)
    assert portal().post("/hc/requests/new/", data).status_code == 200
    again = portal().post("/hc/requests/new/", data)
    assert again.status_code == 400 and "sent already" in again.content.decode()
    assert counts(tenant)[0] == 1


def test_requests_are_rate_limited_per_address(tenant, settings):
    settings.PORTAL_REQUESTS_PER_EMAIL_PER_HOUR = 2
    for n in range(2):
        assert portal(REMOTE_ADDR=f"10.0.0.{n}").post("/hc/requests/new/", submission(tenant)).status_code == 200
    before = counts(tenant)
    refused = portal(REMOTE_ADDR="10.0.0.9").post("/hc/requests/new/", submission(tenant))
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    assert counts(tenant) == before


def test_requests_are_rate_limited_per_ip(tenant, settings):
    settings.PORTAL_REQUESTS_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert portal().post("/hc/requests/new/", submission(tenant, email=f"p{n}@example.org")).status_code == 200
    before = counts(tenant)
    refused = portal().post("/hc/requests/new/", submission(tenant, email="p9@example.org"))
    assert refused.status_code == 429 and counts(tenant) == before


def test_missing_fields_are_a_400_naming_them(tenant):
    response = portal().post("/hc/requests/new/", submission(tenant, subject="", email="not-an-address"))
    assert response.status_code == 400
    assert counts(tenant) == (0, 0, 0, 0)
    html = response.content.decode()
    assert 'id="id_subject_error"' in html and 'id="id_email_error"' in html


@pytest.fixture
def fields(tenant):
    return {
        "reason": CustomFieldFactory(tenant=tenant, key="reason", label="Reason", kind=CustomFieldKind.DROPDOWN,
                                     required=True, customer_visible=True,
                                     options=[{"value": "refund", "label": "Refund", "labels": {"tr": "İade"}},
                                              {"value": "late", "label": "Late delivery"}]),
        "amount": CustomFieldFactory(tenant=tenant, key="amount", label="Amount", kind=CustomFieldKind.NUMBER,
                                     customer_visible=True),
        "ordered": CustomFieldFactory(tenant=tenant, key="ordered", label="Order date", kind=CustomFieldKind.DATE,
                                      customer_visible=True),
        "gift": CustomFieldFactory(tenant=tenant, key="gift", label="Gift", kind=CustomFieldKind.CHECKBOX,
                                   customer_visible=True),
        "items": CustomFieldFactory(tenant=tenant, key="items", label="Items", kind=CustomFieldKind.MULTI_SELECT,
                                    customer_visible=True, options=[{"value": "a", "label": "A"},
                                                                    {"value": "b", "label": "B"}]),
        "secret": CustomFieldFactory(tenant=tenant, key="secret", label="Secret", customer_visible=False),
    }


def test_custom_fields_are_typed_and_stored(tenant, fields):
    response = portal().post("/hc/requests/new/", submission(
        tenant, cf_reason="refund", cf_amount="12.50", cf_ordered="2025-03-01", cf_gift="on", cf_items=["b", "a"],
        cf_secret="sneaky"))
    assert response.status_code == 200, response.content.decode()
    with tenant_scope(tenant):
        values = Ticket.objects.get().custom_fields
    assert values == {"reason": "refund", "amount": 12.5, "ordered": "2025-03-01", "gift": True, "items": ["a", "b"]}


def test_the_request_page_shows_customer_visible_values_in_the_visitors_language(tenant, fields, jane,
                                                                                 signed_in):
    response = signed_in.post("/hc/requests/new/", submission(tenant, cf_reason="refund", cf_gift="on",
                                                              cf_items=["a", "b"], cf_secret="hidden-value"))
    assert response.status_code == 200
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        ticket.custom_fields = {**ticket.custom_fields, "secret": "hidden-value"}  # set by an agent
        ticket.save(update_fields=["custom_fields"])
    html = signed_in.get(f"/hc/requests/{ticket.number}/?lang=tr").content.decode()
    assert "İade" in html and "A, B" in html and "hidden-value" not in html


@pytest.mark.parametrize("overrides, field", [
    ({"cf_reason": ""}, "cf_reason"),
    ({"cf_reason": "bogus"}, "cf_reason"),
    ({"cf_amount": "twelve"}, "cf_amount"),
    ({"cf_ordered": "01/03/2025"}, "cf_ordered"),
    ({"cf_items": ["z"]}, "cf_items"),
])
def test_bad_custom_field_values_are_refused(tenant, fields, overrides, field):
    data = submission(tenant, cf_reason="refund")
    data.update(overrides)
    response = portal().post("/hc/requests/new/", data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert counts(tenant) == (0, 0, 0, 0)


def test_field_labels_follow_the_language(tenant, fields):
    html = portal().get("/hc/requests/new/?lang=tr").content.decode()
    assert "İade" in html and 'lang="tr"' in html


def test_attachments_are_checked_and_stored(tenant):
    bad = SimpleUploadedFile("setup.exe", b"MZ...", content_type="application/octet-stream")
    response = portal().post("/hc/requests/new/", {**submission(tenant), "attachments": [bad]})
    assert response.status_code == 400 and "setup.exe" in response.content.decode()
    assert counts(tenant) == (0, 0, 0, 0)
    good = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    assert portal().post("/hc/requests/new/", {**submission(tenant), "attachments": [good]}).status_code == 200
    with tenant_scope(tenant):
        message = Ticket.objects.get().messages.get()
        assert [a.filename for a in message.attachments.all()] == ["receipt.pdf"]


# --- signing in --------------------------------------------------------------------------

def test_a_magic_link_signs_in_once(tenant, jane):
    client = portal()
    sent = client.post("/hc/signin/", {"method": "link", "email": "Jane@Example.org", "next": "/hc/requests/"})
    assert sent.status_code == 200 and "Check your email" in sent.content.decode()
    token = link_token(tenant)
    with tenant_scope(tenant):
        link = PortalLink.objects.get()
        account = PortalAccount.objects.get()
    assert account.contact_id == jane.pk and account.email == "jane@example.org"
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash
    assert dt.timedelta(minutes=29) < link.expires_at - timezone.now() <= dt.timedelta(minutes=30)

    # Opening the link (a mail scanner, or the person) does not spend it.
    page = client.get(f"/hc/signin/{token}/")
    assert page.status_code == 200 and "jane@example.org" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    assert client.get("/hc/requests/").status_code == 302

    signed = client.post(f"/hc/signin/{token}/")
    assert signed.status_code == 302 and signed["Location"] == "/hc/requests/"
    assert client.get("/hc/requests/").status_code == 200
    with tenant_scope(tenant):
        assert PortalLink.objects.get().used_at is not None
        assert ContactIdentity.objects.get(contact=jane).verified_at is not None
        assert AuditEntry.objects.filter(action="portal.signed_in").exists()

    again = portal().post(f"/hc/signin/{token}/")
    assert again.status_code == 404 and "does not work" in again.content.decode()
    assert portal().get(f"/hc/signin/{token}/").status_code == 404


def test_an_expired_link_does_not_sign_in(tenant, jane_account):
    token = "expired-token-value"
    PortalLinkFactory(tenant=tenant, account=jane_account, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                      expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = portal()
    assert client.post(f"/hc/signin/{token}/").status_code == 404
    assert client.get("/hc/requests/").status_code == 302


def test_a_link_of_one_tenant_does_nothing_on_another(tenant, other_tenant, jane_account):
    token = "acme-token-value"
    PortalLinkFactory(tenant=tenant, account=jane_account, token_hash=hashlib.sha256(token.encode()).hexdigest())
    assert portal(OTHER_HOST).post(f"/hc/signin/{token}/").status_code == 404
    with tenant_scope(tenant):
        assert PortalLink.objects.get().used_at is None


def test_the_answer_is_the_same_for_unknown_addresses(tenant, jane):
    known = portal().post("/hc/signin/", {"method": "link", "email": "jane@example.org"})
    unknown = portal().post("/hc/signin/", {"method": "link", "email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200

    def strip(response, email):
        html = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip(known, "jane@example.org") == strip(unknown, "nobody@example.org")
    with tenant_scope(tenant):
        assert PortalLink.objects.count() == 1 and PortalAccount.objects.count() == 1
        assert OutboundEmail.objects.filter(kind="portal").count() == 1
        assert not Contact.objects.filter(identities__value="nobody@example.org").exists()


def test_sign_in_links_are_rate_limited(tenant, jane, settings):
    settings.PORTAL_SIGNIN_LINKS_PER_EMAIL_PER_HOUR = 2
    for _ in range(2):
        assert portal().post("/hc/signin/", {"method": "link", "email": "jane@example.org"}).status_code == 200
    refused = portal().post("/hc/signin/", {"method": "link", "email": "jane@example.org"})
    assert refused.status_code == 429 and "Too many sign-in links" in refused.content.decode()
    with tenant_scope(tenant):
        assert PortalLink.objects.count() == 2


def test_a_portal_session_is_nothing_on_another_tenants_host(tenant, other_tenant, signed_in):
    assert signed_in.get("/hc/requests/").status_code == 200
    assert signed_in.get("/hc/requests/", HTTP_HOST=OTHER_HOST).status_code == 302
    assert signed_in.get("/hc/account/", HTTP_HOST=OTHER_HOST)["Location"].startswith("/hc/signin/")


def test_an_agents_login_is_not_a_customer_session(tenant, agent):
    client = portal()
    client.force_login(agent)
    assert client.get("/hc/requests/").status_code == 302


def test_signing_out_ends_the_portal_session_only(tenant, agent, jane_account):
    client = portal()
    client.force_login(agent)
    sign_in(client, jane_account)
    assert client.get("/hc/requests/").status_code == 200
    assert client.get("/hc/signout/").status_code == 405
    assert client.post("/hc/signout/").status_code == 302
    assert client.get("/hc/requests/").status_code == 302
    assert client.get("/console/").status_code == 200


def test_a_password_is_set_on_the_account_page_and_signs_in(tenant, signed_in, jane_account):
    page = signed_in.get("/hc/account/")
    assert page.status_code == 200 and "Set a password" in page.content.decode()
    weak = signed_in.post("/hc/account/", {"password": "short", "password_again": "short"})
    assert weak.status_code == 400
    mismatch = signed_in.post("/hc/account/", {"password": "purple-otter-42", "password_again": "purple-otter-43"})
    assert mismatch.status_code == 400
    saved = signed_in.post("/hc/account/", {"password": "purple-otter-42", "password_again": "purple-otter-42"})
    assert saved.status_code == 302
    assert signed_in.get("/hc/requests/").status_code == 200  # this session stays signed in
    with tenant_scope(tenant):
        account = PortalAccount.objects.get(pk=jane_account.pk)
    assert account.password.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt"))

    # A change needs the current password.
    wrong = signed_in.post("/hc/account/", {"current_password": "nope", "password": "green-heron-77",
                                            "password_again": "green-heron-77"})
    assert wrong.status_code == 400

    client = portal()
    bad = client.post("/hc/signin/", {"method": "password", "email": "jane@example.org", "password": "wrong"})
    unknown = client.post("/hc/signin/", {"method": "password", "email": "who@example.org", "password": "wrong"})
    assert bad.status_code == unknown.status_code == 400
    assert "not correct" in bad.content.decode() and "not correct" in unknown.content.decode()
    good = client.post("/hc/signin/", {"method": "password", "email": "jane@example.org",
                                       "password": "purple-otter-42", "next": "/hc/account/"})
    assert good.status_code == 302 and good["Location"] == "/hc/account/"
    assert client.get("/hc/requests/").status_code == 200


def test_password_guessing_is_locked_out(tenant, jane_account, settings):
    settings.CONSOLE_LOGIN_MAX_FAILURES = 3
    client = portal()
    for _ in range(3):
        client.post("/hc/signin/", {"method": "password", "email": "jane@example.org", "password": "guess"})
    locked = client.post("/hc/signin/", {"method": "password", "email": "jane@example.org", "password": "guess"})
    assert locked.status_code == 429


def test_passwords_can_be_turned_off(tenant, signed_in):
    set_portal(tenant, passwords=False)
    assert "Set a password" not in signed_in.get("/hc/account/").content.decode()
    assert signed_in.post("/hc/account/", {"password": "purple-otter-42",
                                           "password_again": "purple-otter-42"}).status_code == 403
    assert portal().post("/hc/signin/", {"method": "password", "email": "jane@example.org",
                                         "password": "x"}).status_code == 400


def test_next_only_goes_to_portal_pages(tenant, jane):
    portal().post("/hc/signin/", {"method": "link", "email": "jane@example.org", "next": "https://evil.example/"})
    with tenant_scope(tenant):
        assert PortalLink.objects.get().next_url == ""


# --- lists -------------------------------------------------------------------------------

@pytest.fixture
def org_setup(tenant, jane):
    org = OrganizationFactory(tenant=tenant, name="Jane's Company")
    with tenant_scope(tenant):
        Contact.objects.filter(pk=jane.pk).update(organization=org)
    colleague = ContactFactory(tenant=tenant, name="Colin Colleague", organization=org)
    stranger = ContactFactory(tenant=tenant, name="Stan Stranger")
    return {"org": org, "colleague": colleague, "stranger": stranger}


def test_lists_show_mine_cc_and_organization_in_customer_words(tenant, jane, signed_in, org_setup):
    TicketFactory(tenant=tenant, number=1, requester=jane, subject="Mine new", status=Status.NEW)
    TicketFactory(tenant=tenant, number=2, requester=jane, subject="Mine pending", status=Status.PENDING)
    TicketFactory(tenant=tenant, number=3, requester=jane, subject="Mine on hold", status=Status.ON_HOLD)
    cc = TicketFactory(tenant=tenant, number=4, requester=org_setup["stranger"], subject="Copied")
    TicketCCFactory(tenant=tenant, ticket=cc, contact=jane)
    TicketFactory(tenant=tenant, number=5, requester=org_setup["colleague"], subject="Colleague's",
                  organization=org_setup["org"], status=Status.SOLVED)
    TicketFactory(tenant=tenant, number=6, requester=org_setup["stranger"], subject="Not mine")

    mine = signed_in.get("/hc/requests/").content.decode()
    assert "Mine new" in mine and "Mine pending" in mine and "Copied" not in mine and "Not mine" not in mine
    assert "Awaiting your reply" in mine and "On hold" not in mine
    assert "scope=organization" not in mine

    copied = signed_in.get("/hc/requests/?scope=cc").content.decode()
    assert "Copied" in copied and "Mine new" not in copied

    # Organization requests only when the tenant allows them.
    assert "Colleague" not in signed_in.get("/hc/requests/?scope=organization").content.decode()
    set_portal(tenant, organization_requests=True)
    org = signed_in.get("/hc/requests/?scope=organization").content.decode()
    assert "Colleague&#x27;s" in org and "Solved" in org and "Not mine" not in org
    assert "scope=organization" in org


def test_lists_are_paginated(tenant, jane, signed_in, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for n in range(5):
        TicketFactory(tenant=tenant, number=n + 1, requester=jane, subject=f"Request {n + 1}")
    first = signed_in.get("/hc/requests/").content.decode()
    assert "Request 5" in first and "Request 4" in first and "Request 3" not in first and 'rel="next"' in first
    last = signed_in.get("/hc/requests/?page=3").content.decode()
    assert "Request 1" in last and 'rel="next"' not in last and 'rel="prev"' in last
    assert signed_in.get("/hc/requests/?page=abc").status_code == 200


def test_the_list_keeps_a_constant_query_count(tenant, jane, signed_in, org_setup):
    set_portal(tenant, organization_requests=True)

    def measure(scope):
        with QueryCounter(connection) as counter:
            assert signed_in.get(f"/hc/requests/?scope={scope}").status_code == 200
        return len(counter)

    signed_in.get("/hc/requests/")  # the first visit makes the settings row
    for n in range(2):
        TicketFactory(tenant=tenant, requester=jane, organization=org_setup["org"])
        TicketCCFactory(tenant=tenant, contact=jane, ticket=TicketFactory(tenant=tenant))
    few = {scope: measure(scope) for scope in ("mine", "cc", "organization")}
    for n in range(6):
        TicketFactory(tenant=tenant, requester=org_setup["colleague"], organization=org_setup["org"])
        TicketFactory(tenant=tenant, requester=jane, organization=org_setup["org"])
        TicketCCFactory(tenant=tenant, contact=jane, ticket=TicketFactory(tenant=tenant))
    many = {scope: measure(scope) for scope in ("mine", "cc", "organization")}
    assert few == many
    assert max(many.values()) <= 6


# --- the request page --------------------------------------------------------------------

@pytest.fixture
def conversation(tenant, jane, agent):
    agent.full_name = "Ada Lovelace"
    agent.save()
    ticket = TicketFactory(tenant=tenant, number=7, requester=jane, subject="Broken kettle", status=Status.OPEN)
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=jane,
                   body_text="The kettle leaks.")
    reply = MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_user=agent,
                           body_text="Sorry to hear that: a new one is on its way.")
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.NOTE, author_user=agent,
                   body_text="Internal: customer is a VIP, refund quietly.")
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.SYSTEM, body_text="Routing rule secret-rule",
                   changes={"status": ["new", "open"]})
    side = SideConversationFactory(tenant=tenant, ticket=ticket)
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, side_conversation=side,
                   body_text="Warehouse: side conversation text")
    public_file = AttachmentFactory(tenant=tenant, ticket=ticket, message=reply, filename="label.pdf")
    with tenant_scope(tenant):
        note = Message.objects.get(ticket=ticket, kind=MessageKind.NOTE)
    note_file = AttachmentFactory(tenant=tenant, ticket=ticket, message=note, filename="internal.pdf")
    return {"ticket": ticket, "public_file": public_file, "note_file": note_file}


def test_the_request_page_shows_the_public_conversation_only(tenant, signed_in, conversation):
    response = signed_in.get("/hc/requests/7/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The kettle leaks." in html and "a new one is on its way" in html
    assert "Ada" in html and "Lovelace" not in html and "agent@acme.test" not in html
    for hidden in ("VIP", "secret-rule", "side conversation text", "internal.pdf"):
        assert hidden not in html
    assert "label.pdf" in html and "Mark as solved" in html


def test_the_request_page_keeps_a_constant_query_count(tenant, jane, signed_in, conversation, agent):
    ticket = conversation["ticket"]

    def measure():
        with QueryCounter(connection) as counter:
            assert signed_in.get("/hc/requests/7/").status_code == 200
        return len(counter)

    signed_in.get("/hc/requests/7/")  # the first visit makes the settings row
    few = measure()
    for n in range(5):
        message = MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_user=agent)
        AttachmentFactory(tenant=tenant, ticket=ticket, message=message)
        MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=jane)
    assert measure() == few


def test_other_peoples_and_other_tenants_requests_are_404(tenant, other_tenant, jane, signed_in, org_setup):
    TicketFactory(tenant=tenant, number=8, requester=org_setup["stranger"], subject="Stranger's secret")
    TicketFactory(tenant=tenant, number=9, requester=org_setup["colleague"], organization=org_setup["org"],
                  subject="Colleague's secret")
    TicketFactory(tenant=other_tenant, number=10, subject="Globex secret")
    for number in (8, 9, 10, 999):
        for path in (f"/hc/requests/{number}/", f"/hc/requests/{number}/reply/", f"/hc/requests/{number}/solve/"):
            response = signed_in.post(path, {"body": "hi"}) if not path.endswith(f"{number}/") else signed_in.get(path)
            assert response.status_code == 404, path
            assert b"secret" not in response.content
    # The colleague's request opens when organization requests are on.
    set_portal(tenant, organization_requests=True)
    assert signed_in.get("/hc/requests/9/").status_code == 200


def test_signed_out_visitors_get_a_404_that_offers_sign_in(tenant, conversation):
    response = portal().get("/hc/requests/7/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Broken kettle" not in html and "/hc/signin/?next=/hc/requests/7/" in html


def test_attachments_download_only_from_public_messages(tenant, signed_in, conversation):
    public, note = conversation["public_file"], conversation["note_file"]
    response = signed_in.get(f"/hc/requests/7/attachments/{public.token}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert signed_in.get(f"/hc/requests/7/attachments/{note.token}/").status_code == 404
    assert portal().get(f"/hc/requests/7/attachments/{public.token}/").status_code == 404


def test_an_attachment_of_another_customers_request_is_404(tenant, signed_in, org_setup):
    theirs = TicketFactory(tenant=tenant, number=11, requester=org_setup["stranger"])
    message = MessageFactory(tenant=tenant, ticket=theirs, kind=MessageKind.PUBLIC)
    file = AttachmentFactory(tenant=tenant, ticket=theirs, message=message)
    assert signed_in.get(f"/hc/requests/11/attachments/{file.token}/").status_code == 404


# --- replying and solving ----------------------------------------------------------------

def _ticket(tenant, requester, status=Status.OPEN, agent=None):
    ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject="Where is my refund?",
                           description="Still waiting.", requester=requester)
    if status != Status.NEW:
        with tenant_scope(tenant):
            Ticket.objects.filter(pk=ticket.pk).update(status=status)
            ticket.refresh_from_db()
    return ticket


def test_a_reply_reopens_a_pending_request(tenant, jane, signed_in):
    ticket = _ticket(tenant, jane, Status.PENDING)
    response = signed_in.post(f"/hc/requests/{ticket.number}/reply/", {"body": "Here is the order number: 42."})
    assert response.status_code == 302 and response["Location"].startswith(f"/hc/requests/{ticket.number}/")
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        last = ticket.messages.filter(kind=MessageKind.PUBLIC).latest("id")
    assert ticket.status == Status.OPEN
    assert last.author_contact_id == jane.pk and last.via == Via.CUSTOMER and last.channel == "web"
    page = signed_in.get(f"/hc/requests/{ticket.number}/").content.decode()
    assert "Your reply was sent." in page and "order number: 42" in page


def test_an_empty_reply_is_a_400(tenant, jane, signed_in):
    ticket = _ticket(tenant, jane)
    response = signed_in.post(f"/hc/requests/{ticket.number}/reply/", {"body": "   "})
    assert response.status_code == 400 and "Write a message" in response.content.decode()


def test_writing_on_a_closed_request_opens_a_follow_up(tenant, jane, signed_in):
    ticket = _ticket(tenant, jane, Status.CLOSED)
    page = signed_in.get(f"/hc/requests/{ticket.number}/").content.decode()
    assert "opens a new follow-up request" in page and "Mark as solved" not in page
    response = signed_in.post(f"/hc/requests/{ticket.number}/reply/", {"body": "It broke again."})
    with tenant_scope(tenant):
        follow_up = Ticket.objects.get(follow_up_of=ticket)
        ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert response["Location"].startswith(f"/hc/requests/{follow_up.number}/")


def test_writing_on_a_merged_request_goes_to_the_request_it_was_merged_into(tenant, jane, signed_in, agent):
    from tickets.services import ticket_merge

    survivor = _ticket(tenant, ContactFactory(tenant=tenant))
    merged = _ticket(tenant, jane)
    ticket_merge(target=survivor, sources=[merged], actor=agent, via=Via.CONSOLE)
    page = signed_in.get(f"/hc/requests/{merged.number}/").content.decode()
    assert f"This request was merged into request #{survivor.number}" in page
    assert f'href="/hc/requests/{survivor.number}/"' in page and "follow-up" not in page
    response = signed_in.post(f"/hc/requests/{merged.number}/reply/", {"body": "Any news?"})
    assert response["Location"].startswith(f"/hc/requests/{survivor.number}/")
    with tenant_scope(tenant):
        assert not Ticket.objects.filter(follow_up_of=merged).exists()
        last = survivor.messages.filter(kind=MessageKind.PUBLIC).latest("id")
    assert last.author_contact_id == jane.pk and last.body_text == "Any news?"
    page = signed_in.get(response["Location"]).content.decode()
    assert f"was merged into request #{survivor.number}, so your message was added there" in page


def test_the_requester_marks_the_request_solved(tenant, jane, signed_in):
    ticket = _ticket(tenant, jane, Status.OPEN)  # nobody assigned: the customer may still solve it
    response = signed_in.post(f"/hc/requests/{ticket.number}/solve/")
    assert response.status_code == 302
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        entry = ticket.messages.filter(kind=MessageKind.SYSTEM).latest("id")
        audit = AuditEntry.objects.get(action="ticket.solved_by_requester")
        event = Event.objects.filter(type="ticket.updated").latest("id")
    assert ticket.status == Status.SOLVED and ticket.solved_at is not None and ticket.assignee_id is None
    assert entry.changes == {"status": ["open", "solved"]} and "customer" in entry.body_text
    assert entry.via == Via.CUSTOMER
    assert "Jane Doe" in audit.actor_label and audit.after == {"status": "solved"}
    assert event.payload["solved_by_contact_id"] == jane.pk
    page = signed_in.get(f"/hc/requests/{ticket.number}/").content.decode()
    assert "Solved" in page and "Mark as solved" not in page

    # Replying reopens it (SPEC §1).
    signed_in.post(f"/hc/requests/{ticket.number}/reply/", {"body": "Actually, one more thing."})
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.reopen_count == 1


def test_only_the_requester_may_solve(tenant, jane, org_setup):
    ticket = _ticket(tenant, org_setup["stranger"])
    TicketCCFactory(tenant=tenant, ticket=ticket, contact=jane)
    account = PortalAccountFactory(tenant=tenant, contact=jane, email="jane@example.org")
    client = sign_in(portal(), account)
    assert "Mark as solved" not in client.get(f"/hc/requests/{ticket.number}/").content.decode()
    assert client.post(f"/hc/requests/{ticket.number}/solve/").status_code == 403
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_closed_request_cannot_be_solved(tenant, jane):
    ticket = _ticket(tenant, jane, Status.CLOSED)
    from tickets.services.common import TicketClosed

    with pytest.raises(TicketClosed):
        request_solve_by_requester(ticket=ticket, contact=jane)


def test_the_customer_sees_an_agents_reply(tenant, jane, signed_in, agent):
    ticket = _ticket(tenant, jane, Status.NEW)
    agent.full_name = "Ada Lovelace"
    agent.save()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="We refunded it today.", public=True)
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Note: refund via bank 7781", public=False)
    html = signed_in.get(f"/hc/requests/{ticket.number}/").content.decode()
    assert "We refunded it today." in html and "Ada" in html and "7781" not in html
    assert "Open" in html  # new/open are both "Open" to customers


# --- language ----------------------------------------------------------------------------

def test_the_language_follows_the_visitor_then_the_tenant():
    tenant = TenantFactory(slug="acme", default_locale="tr")
    assert portal().get("/hc/signin/")["Content-Language"] == "tr"
    assert portal().get("/hc/signin/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")["Content-Language"] == "en"
    assert portal().get("/hc/signin/", HTTP_ACCEPT_LANGUAGE="de-DE")["Content-Language"] == "tr"
    client = portal()
    response = client.get("/hc/signin/?lang=en")
    assert response["Content-Language"] == "en" and 'lang="en"' in response.content.decode()
    assert client.get("/hc/signin/")["Content-Language"] == "en"  # remembered
    assert tenant.default_locale == "tr"


def test_another_tenants_customer_never_reaches_this_tenants_requests(tenant, other_tenant, jane):
    TicketFactory(tenant=tenant, number=12, requester=jane, subject="Acme secret")
    globex_customer = ContactFactory(tenant=other_tenant, name="Gus Globex")
    account = PortalAccountFactory(tenant=other_tenant, contact=globex_customer, email="gus@example.org")
    client = sign_in(portal(OTHER_HOST), account)
    assert client.get("/hc/requests/").status_code == 200
    response = client.get("/hc/requests/12/")
    assert response.status_code == 404 and b"Acme secret" not in response.content
    # The same session on Acme's host is signed out there.
    assert client.get("/hc/requests/12/", HTTP_HOST=HOST).status_code == 404
