"""Connector channels end to end on PostgreSQL: a bridge POSTs messages in (strict,
idempotent, stored first), agents' replies go out as signed webhooks to a real local HTTP
server, with retries, failures and delivery state the agent sees."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from channels_hub.models import (
    ConnectorConversation,
    ConnectorDelivery,
    ConnectorInbound,
    ConnectorStatus,
    OutboundStatus,
)
from channels_hub.services.channels import channel_create
from channels_hub.services.connector import connector_inbound_store
from channels_hub.tasks import connector_process_stuck, connector_send_due
from helpdesk.people.models import ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from tests.queries import QueryCounter
from tickets.models import Attachment, Message, Status, Ticket, Via
from tickets.services.messages import message_add

pytestmark = pytest.mark.django_db(transaction=True)


def bridge_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def payload(**overrides) -> dict:
    data = {
        "external_id": "wamid.1",
        "conversation_id": "905321234567",
        "sender": {"kind": "phone", "value": "+90 532 123 45 67", "name": "Ayşe Yılmaz"},
        "text": "Siparişim gelmedi\nSipariş no 1001, iki haftadır bekliyorum.",
        "sent_at": "2025-03-01T10:00:00Z",
    }
    data.update(overrides)
    return data


def send(channel, secret, **overrides):
    return bridge_client(secret).post(f"/api/v1/channels/{channel.key}/messages/", payload(**overrides),
                                      format="json")


def agent_reply(ticket, agent, body="Kargonuz yarın teslim edilecek.", **kwargs):
    return message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body=body, public=True, **kwargs)


def verify(secret: str, body: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- channel creation ------------------------------------------------------------------------

def test_creating_a_connector_shows_its_secret_and_signing_secret_once(api_client, bridge):
    created = api_client.post("/api/v1/channels/", {"kind": "connector", "name": "SMS", "provider": "sms",
                                                    "webhook_url": bridge.url}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("chs_") and body["signing_secret"].startswith("chsig_")
    assert body["messages_url"] == f"/api/v1/channels/{body['key']}/messages/"
    shown = api_client.get(f"/api/v1/channels/{body['id']}/").json()
    assert "signing_secret" not in shown and "secret" not in shown

    rotated = api_client.post(f"/api/v1/channels/{body['id']}/rotate-signing-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["signing_secret"] not in ("", body["signing_secret"])

    mailbox = api_client.post("/api/v1/channels/", {"kind": "email", "name": "Support",
                                                    "address": "help@acme.test"}, format="json").json()
    assert "signing_secret" not in mailbox
    assert api_client.post(f"/api/v1/channels/{mailbox['id']}/rotate-signing-secret/").status_code == 400


# --- inbound ----------------------------------------------------------------------------------

def test_a_message_is_stored_answered_202_and_becomes_a_social_ticket(connector, tenant):
    channel, secret = connector
    response = send(channel, secret)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "received" and response.json()["external_id"] == "wamid.1"
    with tenant_scope(tenant):
        inbound = ConnectorInbound.objects.get()
        assert inbound.status == ConnectorStatus.PROCESSED and inbound.payload["sent_at"] == "2025-03-01T10:00:00Z"
        ticket = Ticket.objects.get(pk=inbound.ticket_id)
        assert ticket.subject == "Siparişim gelmedi" and ticket.channel == "social"
        identity = ContactIdentity.objects.get(contact=ticket.requester)
        assert (identity.kind, identity.value) == ("phone", "+905321234567")
        assert ticket.requester.name == "Ayşe Yılmaz"
        message = Message.objects.get(pk=inbound.ticket_message_id)
        assert "iki haftadır" in message.body_text and message.author_contact_id == ticket.requester_id
        conversation = ConnectorConversation.objects.get()
        assert conversation.ticket_id == ticket.pk and not conversation.is_public

    # The conversation goes on in the same ticket.
    assert send(channel, secret, external_id="wamid.2", text="Any news?").status_code == 202
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1
        assert list(Message.objects.filter(ticket=ticket, kind="public").values_list("body_text", flat=True))[-1] \
            == "Any news?"


def test_the_same_external_id_again_is_answered_with_the_first_record(connector, tenant):
    channel, secret = connector
    first = send(channel, secret)
    again = send(channel, secret, text="a different text, same id")
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "processed"
    with tenant_scope(tenant):
        assert ConnectorInbound.objects.count() == 1 and Message.objects.filter(kind="public").count() == 1


def test_the_same_message_sent_at_once_from_many_threads_is_stored_once(connector, tenant):
    channel, secret = connector
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def deliver():
        try:
            barrier.wait()
            statuses.append(send(channel, secret, external_id="wamid.race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [202]
    with tenant_scope(tenant):
        assert ConnectorInbound.objects.count() == 1
        assert Ticket.objects.count() == 1 and Message.objects.filter(kind="public").count() == 1


def test_first_messages_of_a_new_conversation_processed_at_once_make_one_ticket(connector, tenant):
    channel, _secret = connector
    rows = []
    for n in range(4):
        with tenant_scope(tenant):
            # Stored without processing: the broker is "down" (processing queued on commit is skipped).
            inbound = ConnectorInbound.objects.create(
                tenant=tenant, channel=channel, external_id=f"wamid.c{n}", conversation_id="group-1",
                payload={**payload(external_id=f"wamid.c{n}", conversation_id="group-1", text=f"Line {n}")})
        rows.append(inbound.pk)
    from channels_hub.services.connector import connector_inbound_process

    def process(pk):
        try:
            with tenant_scope(tenant):
                connector_inbound_process(inbound_id=pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=process, args=(pk,)) for pk in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1 and ConnectorConversation.objects.count() == 1
        assert Message.objects.filter(kind="public").count() == 4


BAD_PAYLOADS = [
    ({"external_id": ""}, "external_id"),
    ({"external_id": "x" * 201}, "external_id"),
    ({"conversation_id": None}, "conversation_id"),
    ({"sender": {"kind": "fax", "value": "1"}}, "sender.kind"),
    ({"sender": {"kind": "phone", "value": "not a number"}}, "sender.value"),
    ({"sender": {"kind": "email", "value": "nobody"}}, "sender.value"),
    ({"sender": {"kind": "social", "value": "x", "colour": "red"}}, "sender.colour"),
    ({"text": "", "attachments": []}, "text"),
    ({"text": 42}, "text"),
    ({"surprise": True}, "surprise"),
    ({"sent_at": "yesterday"}, "sent_at"),
    ({"public": "maybe"}, "public"),
    ({"public_url": "javascript:alert(1)"}, "public_url"),
    ({"attachments": [{"filename": "a.txt"}]}, "attachments.0.content_base64"),
    ({"attachments": [{"filename": "a.txt", "url": "https://x.example/a", "content_base64": "YQ=="}]},
     "attachments.0.content_base64"),
    ({"attachments": [{"filename": "a.txt", "content_base64": "not base64!"}]}, "attachments.0.content_base64"),
    ({"attachments": [{"filename": "run.exe", "content_base64": "TVo="}]}, "attachments.0.content_base64"),
    ({"attachments": [{"filename": "empty.txt", "content_base64": ""}]}, "attachments.0.content_base64"),
    ({"attachments": "file"}, "attachments"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_PAYLOADS)
def test_invalid_messages_are_refused_with_the_field_and_nothing_is_stored(connector, tenant, overrides, field):
    channel, secret = connector
    response = send(channel, secret, **overrides)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    with tenant_scope(tenant):
        assert not ConnectorInbound.objects.exists() and not Ticket.objects.exists()


def test_attachment_limits_are_the_ticket_attachment_limits(connector, tenant, settings):
    channel, secret = connector
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    settings.TICKET_ATTACHMENT_MAX_PER_MESSAGE = 2
    small = {"filename": "a.txt", "content_base64": base64.b64encode(b"hello").decode()}
    big = {"filename": "b.txt", "content_base64": base64.b64encode(b"x" * 11).decode()}
    assert "attachments.0.content_base64" in send(channel, secret, attachments=[big]).json()["error"]["fields"]
    assert "attachments" in send(channel, secret, attachments=[small] * 3).json()["error"]["fields"]
    assert send(channel, secret, attachments=[small, small]).status_code == 202


def test_a_body_above_the_limit_is_413(connector, tenant, settings):
    channel, secret = connector
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024  # the request may then be about 1 MB + 1.3 KB
    text = "x" * (1024 * 1024 + 4096)
    response = send(channel, secret, text=text)
    assert response.status_code == 413
    with tenant_scope(tenant):
        assert not ConnectorInbound.objects.exists()


def test_secrets_and_keys(connector, tenant, other_tenant, owner):
    channel, secret = connector
    url = f"/api/v1/channels/{channel.key}/messages/"
    assert APIClient().post(url, payload(), format="json").status_code == 401
    assert bridge_client("chs_wrong").post(url, payload(), format="json").status_code == 401
    assert bridge_client(secret).post("/api/v1/channels/ch_unknown/messages/", payload(),
                                      format="json").status_code == 404
    # Another tenant's bridge, with its own valid secret, on our channel's key: refused.
    other_owner_channel, other_secret = channel_create(
        tenant=other_tenant, actor=_owner_of(other_tenant), kind="connector", values={"name": "SMS"})
    assert bridge_client(other_secret).post(url, payload(), format="json").status_code == 401
    # ...and our secret does not open its channel.
    assert bridge_client(secret).post(f"/api/v1/channels/{other_owner_channel.key}/messages/", payload(),
                                      format="json").status_code == 401
    # An email channel's key is not a connector.
    mailbox, mail_secret = channel_create(tenant=tenant, actor=owner, kind="email",
                                          values={"name": "Support", "address": "help@acme.test"})
    assert bridge_client(mail_secret).post(f"/api/v1/channels/{mailbox.key}/messages/", payload(),
                                           format="json").status_code == 404
    with tenant_scope(tenant):
        type(channel).objects.filter(pk=channel.pk).update(is_active=False)
    assert bridge_client(secret).post(url, payload(), format="json").status_code == 404
    with tenant_scope(tenant):
        assert not ConnectorInbound.objects.exists()


def _owner_of(tenant):
    from helpdesk.tenancy.roles import Role
    from tests.factories import agent_in

    return agent_in(tenant, role=Role.OWNER, email=f"owner-{tenant.slug}@bridges.test")


def test_a_message_on_a_closed_ticket_continues_in_a_follow_up(connector, tenant):
    channel, secret = connector
    send(channel, secret)
    with tenant_scope(tenant):
        first = Ticket.objects.get()
        Ticket.objects.filter(pk=first.pk).update(status=Status.CLOSED)
    assert send(channel, secret, external_id="wamid.2", text="It came broken").status_code == 202
    with tenant_scope(tenant):
        follow_up = Ticket.objects.exclude(pk=first.pk).get()
        assert follow_up.follow_up_of_id == first.pk and follow_up.channel == "social"
        assert ConnectorConversation.objects.get().ticket_id == follow_up.pk
        assert ConnectorInbound.objects.get(external_id="wamid.2").ticket_id == follow_up.pk
    assert send(channel, secret, external_id="wamid.3", text="Photos attached").status_code == 202
    with tenant_scope(tenant):
        assert Message.objects.filter(ticket=follow_up, kind="public").count() == 2


def test_a_conversation_whose_ticket_was_merged_continues_in_the_survivor(connector, tenant):
    from tickets.services import ticket_merge
    from tests.tickets.factories import TicketFactory

    channel, secret = connector
    send(channel, secret)
    owner = _owner_of(tenant)
    with tenant_scope(tenant):
        bridged = Ticket.objects.get()
        survivor = TicketFactory(tenant=tenant)
    ticket_merge(target=survivor, sources=[bridged], actor=owner, via=Via.CONSOLE)
    assert send(channel, secret, external_id="wamid.2", text="Any news?").status_code == 202
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 2  # no follow-up of the merged ticket
        assert ConnectorConversation.objects.get().ticket_id == survivor.pk
        assert ConnectorInbound.objects.get(external_id="wamid.2").ticket_id == survivor.pk
        assert Message.objects.filter(ticket=survivor, kind="public", body_text="Any news?").exists()


def test_a_public_post_is_marked_and_a_social_handle_carries_the_platform(connector, tenant):
    channel, secret = connector
    send(channel, secret, sender={"kind": "social", "value": "@AyseY"}, public=True,
         public_url="https://social.example/p/1")
    with tenant_scope(tenant):
        conversation = ConnectorConversation.objects.get()
        assert conversation.is_public and conversation.public_url == "https://social.example/p/1"
        identity = ContactIdentity.objects.get()
        assert (identity.kind, identity.value, identity.provider) == ("social", "aysey", "whatsapp")


def test_base64_attachments_are_stored_and_links_are_listed_not_fetched(connector, tenant):
    channel, secret = connector
    photo = bytes(range(256)) * 40
    response = send(channel, secret, text="", attachments=[
        {"filename": "../../etc/photo.jpg", "content_type": "image/jpeg",
         "content_base64": base64.encodebytes(photo).decode()},  # with line breaks, as MIME writes it
        {"filename": "video.mp4", "url": "https://media.example/v/1"},
    ])
    assert response.status_code == 202, response.content
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        attachment = Attachment.objects.get(ticket=ticket)
        assert attachment.filename == "photo.jpg" and attachment.content_type == "image/jpeg"
        with attachment.file.open("rb") as handle:
            assert handle.read() == photo
        message = Message.objects.get(ticket=ticket, kind="public")
        assert "https://media.example/v/1" in message.body_text and "not downloaded" in message.body_text
        assert ticket.subject == "Message from Ayşe Yılmaz"


def test_rows_whose_task_was_lost_are_processed_by_the_sweep(connector, tenant, monkeypatch):
    channel, _secret = connector
    from channels_hub.services import connector as service

    monkeypatch.setattr(service, "queue_process", lambda tenant_id, inbound_id: None)  # the broker lost it
    with tenant_scope(tenant):
        inbound, created = connector_inbound_store(channel=channel, data=payload())
    assert created
    assert connector_process_stuck.delay().get() == 0  # too fresh: its task may still come
    with tenant_scope(tenant):
        ConnectorInbound.objects.filter(pk=inbound.pk).update(received_at=timezone.now() - timezone.timedelta(hours=1))
    assert connector_process_stuck.delay().get() == 1
    with tenant_scope(tenant):
        assert ConnectorInbound.objects.get(pk=inbound.pk).status == ConnectorStatus.PROCESSED


def test_a_sender_that_no_longer_validates_fails_the_row_with_the_reason(connector, tenant):
    channel, _secret = connector
    with tenant_scope(tenant):
        inbound = ConnectorInbound.objects.create(
            tenant=tenant, channel=channel, external_id="bad", conversation_id="c",
            payload=payload(sender={"kind": "phone", "value": "nonsense"}))
    from channels_hub.services.connector import connector_inbound_process

    with tenant_scope(tenant):
        row = connector_inbound_process(inbound_id=inbound.pk)
        assert row.status == ConnectorStatus.FAILED and "value" in row.error
        assert not Ticket.objects.exists()


def test_the_inbound_endpoint_makes_the_same_number_of_queries_whatever_the_message(connector, tenant, monkeypatch):
    channel, secret = connector
    from channels_hub.services import connector as service

    monkeypatch.setattr(service, "queue_process", lambda tenant_id, inbound_id: None)
    counts = []
    files = [{"filename": f"{n}.txt", "content_base64": base64.b64encode(b"data").decode()} for n in range(5)]
    for n, extra in enumerate([{}, {"attachments": files[:1]}, {"attachments": files, "public": True}]):
        with QueryCounter(connection) as queries:
            assert send(channel, secret, external_id=f"q{n}", conversation_id=f"c{n % 2}", **extra).status_code == 202
        counts.append(len(queries))
    with QueryCounter(connection) as queries:
        assert send(channel, secret, external_id="q0").status_code == 200
    assert counts == [counts[0]] * 3 and len(queries) <= counts[0], counts
    assert counts[0] <= 6


# --- replies out ------------------------------------------------------------------------------

def conversation_ticket(channel, secret, tenant, **overrides) -> Ticket:
    assert send(channel, secret, **overrides).status_code == 202
    with tenant_scope(tenant):
        return Ticket.objects.get(pk=ConnectorInbound.objects.get(external_id=overrides.get("external_id",
                                                                                            "wamid.1")).ticket_id)


def test_an_agent_reply_is_posted_signed_to_the_bridge(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    reply = agent_reply(ticket, agent)
    assert len(bridge.requests) == 1
    request = bridge.requests[0]
    with tenant_scope(tenant):
        channel.refresh_from_db()
        delivery = ConnectorDelivery.objects.get()
    assert verify(channel.signing_secret, request["body"], request["headers"]["X-Signature"])
    assert request["headers"]["X-Delivery-Id"] == str(delivery.pk)
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert body["type"] == "message" and body["channel"] == channel.key
    assert body["conversation_id"] == "905321234567" and body["public"] is False
    assert body["ticket"] == {"id": ticket.pk, "number": ticket.number}
    assert body["message"]["id"] == reply.pk and body["message"]["text"] == "Kargonuz yarın teslim edilecek."
    assert "<p>" in body["message"]["html"] and body["message"]["attachments"] == []
    assert delivery.status == OutboundStatus.SENT and delivery.external_id == "out-1"
    assert delivery.response_status == 200 and delivery.attempts == 1 and delivery.sent_at is not None
    assert not mail.outbox  # a bridged conversation is answered where it is, never by email


def test_notes_and_customer_messages_are_not_sent_to_the_bridge(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="internal", public=False)
    send(channel, secret, external_id="wamid.2", text="hello again")
    assert bridge.requests == []
    with tenant_scope(tenant):
        assert not ConnectorDelivery.objects.exists()


def test_a_5xx_is_retried_by_the_sweep_with_backoff_until_it_is_sent(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    bridge.script = [(503, "busy", 0), (200, json.dumps({"external_id": "wamid.out.9"}), 0)]
    agent_reply(ticket, agent)
    with tenant_scope(tenant):
        delivery = ConnectorDelivery.objects.get()
    assert delivery.status == OutboundStatus.QUEUED and delivery.attempts == 1
    assert delivery.response_status == 503 and "HTTP 503" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timezone.timedelta(seconds=20)
    assert connector_send_due.delay().get() == 0  # not due yet
    with tenant_scope(tenant):
        ConnectorDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timezone.timedelta(minutes=1))
    assert connector_send_due.delay().get() == 1
    with tenant_scope(tenant):
        delivery.refresh_from_db()
    assert delivery.status == OutboundStatus.SENT and delivery.attempts == 2
    assert delivery.external_id == "wamid.out.9" and delivery.last_error == ""
    assert [r["headers"]["X-Delivery-Attempt"] for r in bridge.requests] == ["1", "2"]
    assert bridge.requests[0]["body"] == bridge.requests[1]["body"]  # same message, same links (same second)


def test_a_4xx_fails_at_once_with_the_reason(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    bridge.script = [(422, json.dumps({"error": "conversation window closed (24 h)"}), 0)]
    agent_reply(ticket, agent)
    with tenant_scope(tenant):
        delivery = ConnectorDelivery.objects.get()
        ConnectorDelivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now())
    assert delivery.status == OutboundStatus.FAILED and delivery.attempts == 1
    assert "HTTP 422" in delivery.last_error and "window closed" in delivery.last_error
    assert delivery.next_attempt_at is None
    assert connector_send_due.delay().get() == 0 and len(bridge.requests) == 1


def test_after_the_last_attempt_the_delivery_fails(connector, tenant, agent, bridge, settings):
    settings.CONNECTOR_MAX_ATTEMPTS = 2
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    bridge.script = [(500, "", 0), (502, "", 0)]
    agent_reply(ticket, agent)
    with tenant_scope(tenant):
        ConnectorDelivery.objects.update(next_attempt_at=timezone.now() - timezone.timedelta(minutes=1))
    connector_send_due.delay()
    with tenant_scope(tenant):
        delivery = ConnectorDelivery.objects.get()
    assert delivery.status == OutboundStatus.FAILED and delivery.attempts == 2
    assert "Gave up after 2 attempts" in delivery.last_error and "HTTP 502" in delivery.last_error


def test_a_timeout_and_a_dead_bridge_are_retried(connector, tenant, agent, bridge, settings):
    settings.CONNECTOR_TIMEOUT_SECONDS = 0.3
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    bridge.script = [(200, "{}", 1.0)]
    agent_reply(ticket, agent)
    with tenant_scope(tenant):
        delivery = ConnectorDelivery.objects.get()
    assert delivery.status == OutboundStatus.QUEUED and "Timed out" in delivery.last_error

    bridge.close()  # nothing listens any more
    with tenant_scope(tenant):
        ConnectorDelivery.objects.update(next_attempt_at=timezone.now() - timezone.timedelta(minutes=1))
    connector_send_due.delay()
    with tenant_scope(tenant):
        delivery.refresh_from_db()
    assert delivery.status == OutboundStatus.QUEUED and delivery.attempts == 2
    assert "ConnectionRefusedError" in delivery.last_error
    bridge.server = type("Closed", (), {"shutdown": lambda self: None, "server_close": lambda self: None})()


def test_a_channel_without_a_webhook_url_fails_the_delivery_visibly(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    with tenant_scope(tenant):
        type(channel).objects.filter(pk=channel.pk).update(webhook_url="")
    agent_reply(ticket, agent)
    with tenant_scope(tenant):
        delivery = ConnectorDelivery.objects.get()
    assert delivery.status == OutboundStatus.FAILED and "no reply webhook URL" in delivery.last_error


def test_reply_attachments_travel_as_signed_expiring_links(connector, tenant, agent, bridge, settings):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    content = b"%PDF-1.4 invoice " + bytes(range(200))
    agent_reply(ticket, agent, body="Faturanız ekte.",
                attachments=[SimpleUploadedFile("fatura.pdf", content, content_type="application/pdf")])
    item = json.loads(bridge.requests[0]["body"])["message"]["attachments"][0]
    assert item["filename"] == "fatura.pdf" and item["content_type"] == "application/pdf"
    assert item["size"] == len(content)
    path = urlsplit(item["url"]).path
    response = Client().get(path)  # the bridge: no session, no API key
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]

    key, token = path.rstrip("/").split("/")[-3], path.rstrip("/").split("/")[-1]
    assert Client().get(path.replace(token, token[:-2] + "xx")).status_code == 404
    other_channel, _ = channel_create(tenant=tenant, actor=_owner_of(tenant), kind="connector",
                                      values={"name": "Other bridge"})
    assert Client().get(path.replace(key, other_channel.key)).status_code == 404
    settings.CONNECTOR_ATTACHMENT_LINK_SECONDS = -1  # every link has expired
    assert Client().get(path).status_code == 404


# --- what agents see ----------------------------------------------------------------------------

def test_the_ticket_page_says_where_replies_go_and_how_they_went(connector, tenant, agent, bridge):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant, public=True, public_url="https://social.example/p/7")
    bridge.script = [(403, json.dumps({"error": "account suspended"}), 0)]
    agent_reply(ticket, agent)
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent)
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "Replies go to whatsapp (905321234567)" in page
    assert "Public post: your reply will be public." in page and "https://social.example/p/7" in page
    assert "Failed" in page and "account suspended" in page

    plain = Client(HTTP_HOST="acme.localhost")
    plain.force_login(agent)
    with tenant_scope(tenant):
        from tests.tickets.factories import TicketFactory

        other = TicketFactory(tenant=tenant)
    assert "Replies go to" not in plain.get(f"/console/tickets/{other.number}/").content.decode()


def test_the_api_lists_a_tickets_deliveries_and_hides_other_tenants(connector, tenant, agent, bridge,
                                                                     api_client, other_api_client):
    channel, secret = connector
    ticket = conversation_ticket(channel, secret, tenant)
    bridge.script = [(200, "{}", 0), (503, "", 0)]
    agent_reply(ticket, agent, body="one")
    agent_reply(ticket, agent, body="two")
    api_client.get(f"/api/v1/tickets/{ticket.pk}/deliveries/")  # the key's last use is recorded once a minute
    with QueryCounter(connection) as queries:
        rows = api_client.get(f"/api/v1/tickets/{ticket.pk}/deliveries/").json()["results"]
    assert [(r["status"], r["attempts"]) for r in rows] == [("queued", 1), ("sent", 1)]
    assert rows[0]["provider"] == "whatsapp" and rows[0]["conversation_id"] == "905321234567"
    assert rows[0]["last_error"].startswith("HTTP 503") and rows[1]["external_id"] == ""
    assert rows[0]["channel_key"] == channel.key and rows[0]["public"] is False and rows[1]["sent_at"]
    # The channel's row is read by the columns shown: its signing secret is never loaded.
    assert not [q["sql"] for q in queries.captured_queries if "signing_secret" in q["sql"]]
    agent_reply(ticket, agent, body="three")
    with QueryCounter(connection) as more:
        assert len(api_client.get(f"/api/v1/tickets/{ticket.pk}/deliveries/").json()["results"]) == 3
    assert len(more) == len(queries)
    assert other_api_client.get(f"/api/v1/tickets/{ticket.pk}/deliveries/").status_code == 404
