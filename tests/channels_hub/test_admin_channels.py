"""The channels admin: secrets never shown, passwords write-only, writes through the services;
stored mail read-only with its original as a download and "process again"; the outbox's
"retry now"; all of it inside the admin's tenant."""
from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_hub.models import (
    Channel,
    ChannelKind,
    EmailThreadRef,
    InboundEmail,
    InboundStatus,
    OutboundEmail,
    OutboundStatus,
    hash_channel_secret,
)
from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.channels_hub.factories import EmailThreadRefFactory, InboundEmailFactory, OutboundEmailFactory
from tests.channels_hub.mail import email_channel, raw_mail
from tests.factories import agent_in

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:channels_hub_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(tenant) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent_in(tenant, role=Role.ADMIN, email="admin@acme.test"))
    return client


@pytest.fixture
def b_admin_client(other_tenant) -> Client:
    client = Client(HTTP_HOST="globex.localhost")
    client.force_login(agent_in(other_tenant, role=Role.ADMIN, email="admin@globex.test"))
    return client


def change_data(channel: Channel, **changes) -> dict:
    data = {
        "name": channel.name, "is_active": "on", "address": channel.address, "from_name": channel.from_name,
        "token_prefix": channel.token_prefix, "acknowledge": "on", "smtp_host": channel.smtp_host,
        "smtp_port": channel.smtp_port, "smtp_security": channel.smtp_security, "smtp_username": channel.smtp_username,
        "smtp_password": "", "imap_host": channel.imap_host, "imap_port": channel.imap_port,
        "imap_security": channel.imap_security, "imap_username": channel.imap_username, "imap_password": "",
        "imap_folder": channel.imap_folder, "imap_interval_seconds": channel.imap_interval_seconds,
        "sender_hourly_limit": channel.sender_hourly_limit, "channel_hourly_limit": channel.channel_hourly_limit,
        "blocked_senders": "\n".join(channel.blocked_senders), "allowed_senders": "\n".join(channel.allowed_senders),
        "provider": channel.provider, "webhook_url": channel.webhook_url,
    }
    if channel.is_default:
        data["is_default"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def fresh(channel):
    with tenant_scope(channel.tenant):
        return Channel.objects.get(pk=channel.pk)


def test_the_change_page_never_shows_secrets_and_the_key_is_read_only(admin_client, tenant):
    channel = email_channel(tenant, smtp_password="smtp-s3cret", imap_password="imap-s3cret",
                            blocked_senders=["spam@example.org"])
    page = admin_client.get(admin_url(Channel, "change", channel.pk)).content.decode()
    assert "smtp-s3cret" not in page and "imap-s3cret" not in page and channel.secret_hash not in page
    assert channel.key in page and 'name="key"' not in page
    assert "spam@example.org" in page


def test_a_change_keeps_blank_passwords_and_goes_through_the_service(admin_client, tenant):
    channel = email_channel(tenant, smtp_password="smtp-s3cret", imap_password="imap-s3cret")
    response = admin_client.post(admin_url(Channel, "change", channel.pk), change_data(
        channel, from_name="Acme Help", imap_password="new-imap", blocked_senders="Spam@Example.org\n@junk.example"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    channel = fresh(channel)
    assert channel.from_name == "Acme Help"
    assert channel.smtp_password == "smtp-s3cret" and channel.imap_password == "new-imap"
    assert channel.blocked_senders == ["spam@example.org", "@junk.example"]
    with tenant_scope(tenant):
        entry = AuditEntry.objects.filter(action="channel.updated").latest("id")
    assert entry.after["secrets_changed"] == ["imap_password"]
    assert "new-imap" not in str(entry.after) and "smtp-s3cret" not in str(entry.before)


def test_bad_input_is_a_form_error_and_changes_nothing(admin_client, tenant):
    channel = email_channel(tenant)
    response = admin_client.post(admin_url(Channel, "change", channel.pk),
                                 change_data(channel, name="Renamed", imap_interval_seconds=5,
                                             blocked_senders="not a sender"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "imap_interval_seconds" in errors or "blocked_senders" in errors
    assert fresh(channel).name == "Support"


def test_a_second_mailbox_can_become_the_default(admin_client, tenant):
    first = email_channel(tenant)
    second = email_channel(tenant, name="Sales", address="sales@acme.test")
    assert fresh(first).is_default and not fresh(second).is_default
    response = admin_client.post(admin_url(Channel, "change", second.pk), change_data(second, is_default="on"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert fresh(second).is_default and not fresh(first).is_default


def test_adding_a_channel_shows_its_secret_once(admin_client, tenant):
    response = admin_client.post(admin_url(Channel, "add"), {
        "kind": "email", "name": "Support", "is_active": "on", "address": "support@acme.test", "token_prefix": "#",
        "acknowledge": "on", "smtp_port": 587, "smtp_security": "starttls", "imap_port": 993, "imap_security": "ssl",
        "imap_folder": "INBOX", "imap_interval_seconds": 60, "sender_hourly_limit": 30, "channel_hourly_limit": 2000,
        "smtp_password": "pw",
    }, follow=True)
    assert response.status_code == 200
    with tenant_scope(tenant):
        channel = Channel.objects.get()
    assert channel.tenant_id == tenant.pk and channel.smtp_password == "pw"
    page = response.content.decode()
    secret = re.search(r'<code class="channel-secret">([^<]+)</code>', page).group(1)
    assert hash_channel_secret(secret) == channel.secret_hash
    assert secret not in admin_client.get(admin_url(Channel, "change", channel.pk)).content.decode()


def test_adding_a_connector_takes_only_connector_settings(admin_client, tenant):
    response = admin_client.post(admin_url(Channel, "add"), {
        "kind": "connector", "name": "SMS", "is_active": "on", "provider": "sms",
        "webhook_url": "https://bridge.example.org/out", "token_prefix": "#", "smtp_port": 587,
        "smtp_security": "starttls", "imap_port": 993, "imap_security": "ssl", "imap_interval_seconds": 60,
        "imap_folder": "INBOX", "sender_hourly_limit": 30, "channel_hourly_limit": 2000,
    }, follow=True)
    assert response.status_code == 200
    assert "adminform" not in (response.context or {}), response.context["adminform"].form.errors
    with tenant_scope(tenant):
        channel = Channel.objects.get()
    assert channel.kind == ChannelKind.CONNECTOR and channel.signing_secret
    assert channel.signing_secret in response.content.decode()


def test_deleting_goes_through_the_service(admin_client, tenant):
    channel = email_channel(tenant)
    response = admin_client.post(admin_url(Channel, "delete", channel.pk), {"post": "yes"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert not Channel.objects.exists()
        assert AuditEntry.objects.filter(action="channel.deleted").exists()


def test_inbound_mail_is_read_only_and_its_original_is_a_download(admin_client, b_admin_client, tenant):
    channel = email_channel(tenant)
    raw = raw_mail(subject="Original", body="RAW-BODY-MARKER <script>alert(1)</script>")
    inbound = InboundEmailFactory(tenant=tenant, channel=channel, raw=raw, subject="Original")
    page = admin_client.get(admin_url(InboundEmail, "change", inbound.pk)).content.decode()
    assert "RAW-BODY-MARKER" not in page
    download = admin_url(InboundEmail, "raw", inbound.pk)
    assert download in page
    response = admin_client.get(download)
    assert response.status_code == 200 and response.content == raw
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert admin_client.post(admin_url(InboundEmail, "change", inbound.pk), {}).status_code == 403
    assert admin_client.get(admin_url(InboundEmail, "add")).status_code == 403
    other = b_admin_client.get(download)
    assert other.status_code == 302 and b"RAW-BODY-MARKER" not in other.content


def test_the_process_again_action(admin_client, tenant):
    channel = email_channel(tenant)
    failed = InboundEmailFactory(tenant=tenant, channel=channel, raw=raw_mail(subject="Again"),
                                 status=InboundStatus.FAILED)
    processed = InboundEmailFactory(tenant=tenant, channel=channel, status=InboundStatus.PROCESSED)
    response = admin_client.post(admin_url(InboundEmail, "changelist"), {
        "action": "reprocess", "_selected_action": [failed.pk, processed.pk]}, follow=True)
    assert response.status_code == 200
    with tenant_scope(tenant):
        failed = InboundEmail.objects.select_related("ticket").get(pk=failed.pk)
        assert InboundEmail.objects.get(pk=processed.pk).attempts == 0
    assert failed.status == InboundStatus.PROCESSED and failed.ticket.subject == "Again"
    page = response.content.decode()
    assert "1 mail processed again." in page and "1 mail was skipped" in page


def test_the_retry_now_action(admin_client, tenant):
    failed = OutboundEmailFactory(tenant=tenant, status=OutboundStatus.FAILED, attempts=5, last_error="550")
    sent = OutboundEmailFactory(tenant=tenant, status=OutboundStatus.SENT)
    before = timezone.now()
    response = admin_client.post(admin_url(OutboundEmail, "changelist"), {
        "action": "retry_now", "_selected_action": [failed.pk, sent.pk]}, follow=True)
    assert response.status_code == 200
    with tenant_scope(tenant):
        failed = OutboundEmail.objects.get(pk=failed.pk)
        assert OutboundEmail.objects.get(pk=sent.pk).status == OutboundStatus.SENT
    assert failed.status == OutboundStatus.QUEUED and before <= failed.next_attempt_at <= timezone.now()
    assert admin_client.get(admin_url(OutboundEmail, "change", failed.pk)).status_code == 200


def test_thread_references_are_read_only(admin_client, tenant):
    ref = EmailThreadRefFactory(tenant=tenant)
    assert admin_client.get(admin_url(EmailThreadRef, "change", ref.pk)).status_code == 200
    assert admin_client.get(admin_url(EmailThreadRef, "add")).status_code == 403
    assert admin_client.post(admin_url(EmailThreadRef, "delete", ref.pk), {"post": "yes"}).status_code == 403


def test_agents_cannot_enter(agent, tenant):
    channel = email_channel(tenant)
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent)
    assert client.get(admin_url(Channel, "change", channel.pk)).status_code in (302, 403)
    assert client.get(admin_url(Channel, "changelist")).status_code in (302, 403)
