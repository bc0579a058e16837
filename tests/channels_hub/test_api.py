"""The channel API: create (secret once), change, rotate; the inbound hook authenticated by
the channel's secret; the MTA pipe command."""
from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command

from channels_hub.models import Channel, InboundEmail
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import raw_mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def created(api_client):
    response = api_client.post("/api/v1/channels/", {"kind": "email", "name": "Support",
                                                           "address": "Support@Acme.test",
                                                           "smtp_password": "s3cret"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_key_and_secret_once_and_never_the_passwords(created, api_client):
    assert created["key"].startswith("ch_") and created["secret"].startswith("chs_")
    assert created["address"] == "support@acme.test" and created["is_default"] is True
    assert created["smtp_password_set"] is True and "smtp_password" not in created
    assert created["inbound_url"] == f"/api/v1/channels/email/{created['key']}/inbound/"
    again = api_client.get(f"/api/v1/channels/{created['id']}/").json()
    assert "secret" not in again and "s3cret" not in str(again)


def test_bad_input_is_a_400_that_changes_nothing(api_client, tenant):
    for body in ({"kind": "email", "name": "X"}, {"kind": "fax", "name": "X"},
                 {"kind": "email", "name": "X", "address": "no-at-sign"},
                 {"kind": "email", "name": "X", "address": "a@b.test", "imap_interval_seconds": 5},
                 {"kind": "email", "name": "X", "address": "a@b.test", "blocked_senders": ["not an address"]},
                 {"kind": "email", "name": "X", "address": "a@b.test", "unknown": 1},
                 {"kind": "connector", "name": "X", "address": "a@b.test"}):
        response = api_client.post("/api/v1/channels/", body, format="json")
        assert response.status_code == 400, (body, response.content)
    with tenant_scope(tenant):
        assert not Channel.objects.exists()


def test_a_key_without_the_channels_scope_cannot_create_channels(tenant):
    from rest_framework.test import APIClient

    from helpdesk.tenancy.services import api_key_create

    _key, raw = api_key_create(tenant=tenant, name="narrow", scopes=["tickets:write", "channels:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/v1/channels/", {"kind": "email", "name": "X", "address": "a@b.test"},
                               format="json")
    assert response.status_code == 403


def test_inbound_hook_stores_and_processes_a_raw_message(created, client, tenant):
    url = created["inbound_url"]
    raw = raw_mail(subject="Via the hook")
    response = client.post(url, data=raw, content_type="message/rfc822",
                           HTTP_AUTHORIZATION=f"Bearer {created['secret']}")
    assert response.status_code == 202, response.content
    with tenant_scope(tenant):
        inbound = InboundEmail.objects.get(pk=response.json()["id"])
        assert bytes(inbound.raw) == raw and inbound.status == "processed"
        assert Ticket.objects.get().subject == "Via the hook"


def test_inbound_hook_refuses_wrong_secrets_empty_bodies_and_other_types(created, client, tenant):
    url = created["inbound_url"]
    raw = raw_mail()
    assert client.post(url, data=raw, content_type="message/rfc822").status_code == 401
    assert client.post(url, data=raw, content_type="message/rfc822",
                       HTTP_AUTHORIZATION="Bearer chs_wrong").status_code == 401
    assert client.post(url, data=b"", content_type="message/rfc822",
                       HTTP_AUTHORIZATION=f"Bearer {created['secret']}").status_code == 400
    assert client.post(url, data=b'{"a": 1}', content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {created['secret']}").status_code == 415
    assert client.post("/api/v1/channels/email/ch_unknown/inbound/", data=raw, content_type="message/rfc822",
                       HTTP_AUTHORIZATION=f"Bearer {created['secret']}").status_code == 404
    with tenant_scope(tenant):
        assert not InboundEmail.objects.exists()


def test_inbound_hook_refuses_a_message_over_the_limit(created, client, settings, tenant):
    settings.EMAIL_INBOUND_MAX_BYTES = 1000
    response = client.post(created["inbound_url"], data=raw_mail(body="x" * 5000), content_type="message/rfc822",
                           HTTP_AUTHORIZATION=f"Bearer {created['secret']}")
    assert response.status_code == 413
    with tenant_scope(tenant):
        assert not InboundEmail.objects.exists()


def test_another_tenants_secret_does_not_open_this_channel(created, client, other_tenant):
    from channels_hub.services.channels import channel_create

    _other, other_secret = channel_create(tenant=other_tenant, actor=None, kind="email",
                                          values={"name": "Globex", "address": "help@globex.test"})
    response = client.post(created["inbound_url"], data=raw_mail(), content_type="message/rfc822",
                           HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    assert response.status_code == 401


def test_rotating_the_secret_retires_the_old_one(created, api_client, client):
    response = api_client.post(f"/api/v1/channels/{created['id']}/rotate-secret/")
    new_secret = response.json()["secret"]
    assert new_secret != created["secret"]
    assert client.post(created["inbound_url"], data=raw_mail(), content_type="message/rfc822",
                       HTTP_AUTHORIZATION=f"Bearer {created['secret']}").status_code == 401
    assert client.post(created["inbound_url"], data=raw_mail(), content_type="message/rfc822",
                       HTTP_AUTHORIZATION=f"Bearer {new_secret}").status_code == 202


def test_update_keeps_a_password_left_blank(created, api_client, tenant):
    response = api_client.patch(f"/api/v1/channels/{created['id']}/",
                                      {"smtp_password": "", "from_name": "Acme"}, format="json")
    assert response.status_code == 200 and response.json()["from_name"] == "Acme"
    with tenant_scope(tenant):
        assert Channel.objects.get().smtp_password == "s3cret"


def test_receive_email_command_stores_a_piped_message(created, tenant, monkeypatch):
    raw = raw_mail(subject="Piped")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive_email", "--channel", created["key"], stdout=out)
    assert "stored inbound email" in out.getvalue()
    with tenant_scope(tenant):
        assert InboundEmail.objects.get().source == "pipe"
        assert Ticket.objects.get().subject == "Piped"


def test_receive_email_command_exits_67_for_an_unknown_channel(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw_mail())))
    with pytest.raises(SystemExit) as exited:
        call_command("receive_email", "--channel", "ch_nope")
    assert exited.value.code == 67
