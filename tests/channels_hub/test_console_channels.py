"""The channel settings pages and the mail log in the console (``/console/channels/``)."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from channels_hub.models import (
    Channel,
    ChannelKind,
    InboundEmail,
    InboundStatus,
    OutboundEmail,
    OutboundKind,
    hash_channel_secret,
)
from channels_hub.views import queries
from channels_hub.views.forms import EmailChannelForm
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.channels_hub.factories import ChannelFactory, InboundEmailFactory, OutboundEmailFactory
from tests.channels_hub.mail import email_channel, raw_mail
from tests.factories import agent_in
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


@pytest.fixture
def admin_client(owner) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(owner)
    return client


@pytest.fixture
def b_client(other_tenant) -> Client:
    client = Client(HTTP_HOST="globex.localhost")
    client.force_login(agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test"))
    return client


def form_data(channel: Channel, **changes) -> dict:
    """The edit form as the page would post it (checkboxes only when on; passwords blank)."""
    data = {}
    for name, value in {**EmailChannelForm.initial_for(channel), "smtp_password": "", "imap_password": "",
                        **changes}.items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return data


def fresh(channel: Channel) -> Channel:
    with tenant_scope(channel.tenant):
        return Channel.objects.get(pk=channel.pk)


# --- create ------------------------------------------------------------------------------------


def test_creating_an_email_channel_shows_the_secret_once(admin_client, tenant):
    form = admin_client.get(reverse("channels:new_email")).content.decode()
    assert re.search(r'name="is_default"[^>]*checked', form)  # the first mailbox is the default
    response = admin_client.post(reverse("channels:new_email"), {
        "name": "Support", "address": "Support@Acme.test", "from_name": "Acme Support", "is_active": "on",
        "is_default": "on", "smtp_port": "587", "smtp_security": "starttls", "imap_port": "993", "imap_security": "ssl",
        "imap_folder": "INBOX", "imap_interval_seconds": "60", "sender_hourly_limit": "30",
        "channel_hourly_limit": "2000", "token_prefix": "#", "acknowledge": "on",
        "blocked_senders": "spam@example.org\n@junk.example", "allowed_senders": "",
    })
    assert response.status_code == 201, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    with tenant_scope(tenant):
        channel = Channel.objects.get()
    page = response.content.decode()
    secret = re.search(r'id="channel-secret"[^>]*>([^<]+)<', page).group(1)
    assert hash_channel_secret(secret) == channel.secret_hash
    assert "won't see this again" in page.replace("&#x27;", "'")
    assert f"http://{HOST}/api/v1/channels/email/{channel.key}/inbound/" in page
    assert f"manage.py receive_email --channel {channel.key}" in page
    assert channel.address == "support@acme.test" and channel.is_default  # the first mailbox
    assert channel.blocked_senders == ["spam@example.org", "@junk.example"]
    # Never again: the settings page shows the key and the hook, not the secret.
    edit = admin_client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert channel.key in edit and secret not in edit
    assert secret not in admin_client.get(reverse("channels:list")).content.decode()


def test_creating_a_connector_shows_its_secret_and_signing_secret(admin_client, tenant):
    response = admin_client.post(reverse("channels:new_connector"), {
        "name": "WhatsApp", "provider": "whatsapp", "webhook_url": "https://bridge.example.org/out", "is_active": "on",
    })
    assert response.status_code == 201
    with tenant_scope(tenant):
        channel = Channel.objects.get()
    page = response.content.decode()
    assert channel.kind == ChannelKind.CONNECTOR
    assert channel.signing_secret and channel.signing_secret in page
    assert f"/api/v1/channels/{channel.key}/messages/" in page


def test_bad_input_on_create_shows_errors_and_creates_nothing(admin_client, tenant):
    response = admin_client.post(reverse("channels:new_email"), {
        "name": "Support", "address": "not an address", "smtp_port": "587", "smtp_security": "starttls",
        "imap_port": "993", "imap_security": "ssl", "imap_interval_seconds": "60", "sender_hourly_limit": "30",
        "channel_hourly_limit": "2000", "token_prefix": "#",
    })
    assert response.status_code == 400
    assert "Enter the support address" in response.content.decode()
    with tenant_scope(tenant):
        assert not Channel.objects.exists()


# --- edit --------------------------------------------------------------------------------------


def test_a_blank_password_keeps_the_stored_one_and_passwords_are_never_shown(admin_client, tenant):
    channel = email_channel(tenant, smtp_host="smtp.acme.test", smtp_password="smtp-s3cret",
                            imap_password="imap-s3cret")
    page = admin_client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert "smtp-s3cret" not in page and "imap-s3cret" not in page
    assert "Leave blank to keep it" in page
    response = admin_client.post(reverse("channels:edit", args=[channel.pk]),
                                 form_data(channel, from_name="Acme Help", imap_password="new-imap"))
    assert response.status_code == 302
    channel = fresh(channel)
    assert channel.from_name == "Acme Help"
    assert channel.smtp_password == "smtp-s3cret"  # blank: kept
    assert channel.imap_password == "new-imap"


def test_bad_input_on_edit_shows_errors_and_changes_nothing(admin_client, tenant):
    channel = email_channel(tenant, smtp_password="smtp-s3cret")
    before = {f.attname: getattr(channel, f.attname) for f in Channel._meta.concrete_fields if f.name != "updated_at"}
    url = reverse("channels:edit", args=[channel.pk])
    cases = [
        ({"name": "Renamed", "smtp_port": "70000"}, "smtp_port"),  # the form refuses
        ({"name": "Renamed", "imap_interval_seconds": "5"}, "Poll at most every"),  # the service refuses
        ({"name": "Renamed", "blocked_senders": "spam@example.org\nnot a sender"}, "not a sender"),
        ({"name": "Renamed", "token_prefix": "[x]"}, "without brackets"),
        ({"name": "", "smtp_password": "changed"}, "name"),
    ]
    for changes, expected in cases:
        response = admin_client.post(url, form_data(channel, **changes))
        assert response.status_code == 400, changes
        page = response.content.decode()
        assert expected in page and "Nothing was saved" in page, changes
        assert "changed" not in re.findall(r'name="smtp_password"[^>]*', page)[0]
    after = fresh(channel)
    assert {name: getattr(after, name) for name in before} == before


def test_a_name_taken_by_another_channel_is_a_form_error(admin_client, tenant):
    email_channel(tenant, name="Sales", address="sales@acme.test")
    channel = email_channel(tenant)
    response = admin_client.post(reverse("channels:edit", args=[channel.pk]), form_data(channel, name="Sales"))
    assert response.status_code == 400
    assert "Another channel has this name" in response.content.decode()
    assert fresh(channel).name == "Support"


# --- who may ------------------------------------------------------------------------------------


def test_agents_are_refused_and_do_not_see_the_entry(agent, owner, tenant):
    channel = email_channel(tenant)
    inbound = InboundEmailFactory(tenant=tenant, channel=channel)
    client = Client(HTTP_HOST=HOST)
    client.force_login(agent)
    home = client.get(reverse("console:home")).content.decode()
    assert reverse("channels:list") not in home
    for url in (reverse("channels:list"), reverse("channels:new_email"), reverse("channels:edit", args=[channel.pk]),
                reverse("channels:mail_log", args=[channel.pk]), reverse("channels:inbound_raw", args=[inbound.pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("channels:new_email"), {"name": "X", "address": "x@acme.test"}).status_code == 403
    assert client.post(reverse("channels:delete", args=[channel.pk])).status_code == 403
    assert client.post(reverse("channels:rotate_secret", args=[channel.pk])).status_code == 403
    with tenant_scope(tenant):
        assert Channel.objects.count() == 1
        assert Channel.objects.get().secret_hash == channel.secret_hash
    owner_client = Client(HTTP_HOST=HOST)
    owner_client.force_login(owner)
    assert reverse("channels:list") in owner_client.get(reverse("console:home")).content.decode()


def test_another_tenants_channels_and_mail_are_404(b_client, tenant):
    channel = email_channel(tenant)
    inbound = InboundEmailFactory(tenant=tenant, channel=channel, status=InboundStatus.FAILED)
    for name in ("edit", "mail_log", "rotate_secret", "delete", "test_imap", "send_test"):
        url = reverse(f"channels:{name}", args=[channel.pk])
        assert b_client.get(url).status_code in (404, 405), url
        assert b_client.post(url, {"name": "Hijacked"}).status_code in (404, 405), url
    for name in ("inbound_process", "inbound_raw"):
        url = reverse(f"channels:{name}", args=[inbound.pk])
        assert b_client.get(url).status_code == 404
        assert b_client.post(url).status_code in (404, 405)
    assert fresh(channel).name == "Support"
    with tenant_scope(tenant):
        assert InboundEmail.objects.get().status == InboundStatus.FAILED
    assert "Support" not in b_client.get(reverse("channels:list")).content.decode()


# --- rotate, delete, send a test mail ------------------------------------------------------------


def test_rotating_the_secret_asks_first_then_shows_the_new_one_once(admin_client, tenant):
    channel = email_channel(tenant)
    old_hash = channel.secret_hash
    confirm = admin_client.get(reverse("channels:rotate_secret", args=[channel.pk]))
    assert confirm.status_code == 200 and fresh(channel).secret_hash == old_hash
    response = admin_client.post(reverse("channels:rotate_secret", args=[channel.pk]), {"which": "secret"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = re.search(r'id="channel-secret"[^>]*>([^<]+)<', response.content.decode()).group(1)
    assert hash_channel_secret(secret) == fresh(channel).secret_hash != old_hash


def test_rotating_a_connectors_signing_secret(admin_client, tenant):
    channel = ChannelFactory(tenant=tenant, kind=ChannelKind.CONNECTOR, address="", signing_secret="chsig_old")
    response = admin_client.post(reverse("channels:rotate_secret", args=[channel.pk]), {"which": "signing"})
    new = fresh(channel).signing_secret
    assert new != "chsig_old" and new in response.content.decode()


def test_deleting_asks_first(admin_client, tenant):
    channel = email_channel(tenant)
    assert admin_client.get(reverse("channels:delete", args=[channel.pk])).status_code == 200
    response = admin_client.post(reverse("channels:delete", args=[channel.pk]))
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert not Channel.objects.exists()


def test_a_test_mail_is_queued_to_the_administrator(admin_client, tenant, owner):
    channel = email_channel(tenant)
    response = admin_client.post(reverse("channels:send_test", args=[channel.pk]))
    assert response.status_code == 302 and "show=sent" in response["Location"]
    with tenant_scope(tenant):
        outbound = OutboundEmail.objects.get()
    assert outbound.to == [owner.email] and outbound.kind == OutboundKind.NOTIFICATION
    assert outbound.channel_id == channel.pk
    page = admin_client.get(response["Location"]).content.decode()
    assert outbound.subject in page


# --- test connection (a real dovecot) ------------------------------------------------------------


def test_test_connection_logs_in_with_the_stored_password_and_saves_nothing(admin_client, tenant, imap_server):
    channel = email_channel(tenant, imap_host=imap_server.host, imap_port=imap_server.port, imap_security="none",
                            imap_username=imap_server.username, imap_password=imap_server.password)
    imap_server.deliver(raw_mail(subject="Waiting"))
    url = reverse("channels:test_imap", args=[channel.pk])
    response = admin_client.post(url, form_data(channel, name="Not saved"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Connected." in page and "1 message" in page
    assert fresh(channel).name == "Support"
    # A wrong password as typed: the translated reason, and the stored settings stay.
    response = admin_client.post(url, form_data(channel, imap_password="wrong"))
    assert "The connection failed:" in response.content.decode()
    assert "authentication failed" in response.content.decode()
    assert fresh(channel).imap_password == imap_server.password


def test_test_connection_reports_a_refused_connection(admin_client, tenant, imap_server):
    channel = email_channel(tenant, imap_host=imap_server.host, imap_port=imap_server.port, imap_security="none",
                            imap_username=imap_server.username, imap_password=imap_server.password)
    with imap_server.down():
        response = admin_client.post(reverse("channels:test_imap", args=[channel.pk]), form_data(channel))
    assert "connection refused" in response.content.decode()


def test_test_connection_without_a_host_says_so(admin_client, tenant):
    channel = email_channel(tenant)
    response = admin_client.post(reverse("channels:test_imap", args=[channel.pk]), form_data(channel))
    assert response.status_code == 400 and "Enter the IMAP host" in response.content.decode()


# --- the list and the mail log -------------------------------------------------------------------


def test_the_list_shows_each_channel_with_todays_mail_in_constant_queries(admin_client, tenant):
    first = email_channel(tenant)
    InboundEmailFactory(tenant=tenant, channel=first)
    url = reverse("channels:list")
    admin_client.get(url)
    with QueryCounter(connection) as few:
        assert admin_client.get(url).status_code == 200
    for number in range(4):
        channel = email_channel(tenant, name=f"Box {number}", address=f"box{number}@acme.test",
                                imap_host="imap.acme.test")
        with tenant_scope(tenant):
            Channel.objects.filter(pk=channel.pk).update(imap_last_error="connection refused")
        InboundEmailFactory.create_batch(2, tenant=tenant, channel=channel)
    ChannelFactory(tenant=tenant, kind=ChannelKind.CONNECTOR, name="SMS", address="", provider="sms")
    with QueryCounter(connection) as many:
        response = admin_client.get(url)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    page = response.content.decode()
    assert "Box 3" in page and "box3@acme.test" in page and "Last error: connection refused" in page
    assert "sms" in page


def test_the_mail_log_pages_by_cursor_in_constant_queries(admin_client, tenant, monkeypatch):
    channel = email_channel(tenant)
    other = email_channel(tenant, name="Other", address="other@acme.test")
    InboundEmailFactory(tenant=tenant, channel=other, subject="Elsewhere")
    monkeypatch.setattr(queries, "PAGE_SIZE", 3)
    url = reverse("channels:mail_log", args=[channel.pk])
    InboundEmailFactory(tenant=tenant, channel=channel, subject="Mail 0")
    admin_client.get(url)
    with QueryCounter(connection) as few:
        admin_client.get(url)
    for number in range(1, 5):
        InboundEmailFactory(tenant=tenant, channel=channel, subject=f"Mail {number}", status=InboundStatus.IGNORED,
                            reason="blocked", malformed=number == 2)
    with QueryCounter(connection) as many:
        response = admin_client.get(url)
    assert len(many) == len(few)
    page = response.content.decode()
    assert "Mail 4" in page and "Mail 2" in page and "Mail 1" not in page and "Elsewhere" not in page
    assert "Malformed" in page and "blocked" in page
    older = re.search(r'href="(\?show=received&amp;cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    page2 = admin_client.get(url + older).content.decode()
    assert "Mail 1" in page2 and "Mail 0" in page2 and "Mail 2" not in page2
    assert admin_client.get(url + "?cursor=garbage").status_code == 400


def test_the_sent_tab_lists_outgoing_mail(admin_client, tenant):
    channel = email_channel(tenant)
    OutboundEmailFactory(tenant=tenant, channel=channel, subject="Re: help", status="failed", attempts=3,
                         last_error="550 mailbox unavailable")
    page = admin_client.get(reverse("channels:mail_log", args=[channel.pk]) + "?show=sent").content.decode()
    assert "Re: help" in page and "550 mailbox unavailable" in page and "jane@example.org" in page


def test_processing_a_failed_mail_again_makes_its_ticket(admin_client, tenant):
    channel = email_channel(tenant)
    inbound = InboundEmailFactory(tenant=tenant, channel=channel, raw=raw_mail(subject="Stuck printer"),
                                  status=InboundStatus.FAILED, error="OperationalError: boom", attempts=5)
    page = admin_client.get(reverse("channels:mail_log", args=[channel.pk])).content.decode()
    assert reverse("channels:inbound_process", args=[inbound.pk]) in page
    response = admin_client.post(reverse("channels:inbound_process", args=[inbound.pk]))
    assert response.status_code == 302
    with tenant_scope(tenant):
        inbound = InboundEmail.objects.select_related("ticket").get(pk=inbound.pk)
    assert inbound.status == InboundStatus.PROCESSED and inbound.ticket.subject == "Stuck printer"
    page = admin_client.get(response["Location"]).content.decode()
    assert f"#{inbound.ticket.number}" in page
    # Processed mail is not processed twice from here.
    admin_client.post(reverse("channels:inbound_process", args=[inbound.pk]))
    with tenant_scope(tenant):
        assert InboundEmail.objects.get(pk=inbound.pk).attempts == inbound.attempts


def test_the_original_downloads_as_an_attachment_never_rendered(admin_client, tenant):
    channel = email_channel(tenant)
    raw = raw_mail(subject="Hi", html="<script>alert(1)</script>")
    inbound = InboundEmailFactory(tenant=tenant, channel=channel, raw=raw)
    response = admin_client.get(reverse("channels:inbound_raw", args=[inbound.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="mail-{inbound.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == raw


def test_admins_switch_the_request_portal_on_the_channels_page(admin_client, tenant, agent):
    from channels_hub.portal.services import portal_settings_get
    from tests.tickets.console.conftest import client_for

    page = admin_client.get("/console/channels/").content.decode()
    assert 'id="portal"' in page and "/hc/requests/" in page
    response = admin_client.post("/console/channels/portal/", {"enabled": "on", "organization_requests": "on"})
    assert response.status_code == 302
    row = portal_settings_get(tenant=tenant)
    assert row.enabled and row.organization_requests and not row.passwords
    # Agents cannot change it; the setting stays.
    assert client_for(agent).post("/console/channels/portal/", {}).status_code == 403
    assert portal_settings_get(tenant=tenant).enabled
