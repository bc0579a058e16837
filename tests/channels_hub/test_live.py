"""Delivery states pushed live to the ticket's pages (``channels_hub.services.live``): over the
real Redis channel layer and the ticket page's real websocket consumer, after commit and
never on a rollback, without content, only to the ticket's own tenant, and never at the
cost of a delivery when the layer is down."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, transaction

from channels_hub.models import ConnectorDelivery, InboundSource, OutboundEmail, OutboundStatus
from channels_hub.services.inbound import inbound_store
from channels_hub.services.live import CONNECTOR_DELIVERY_CHANGED, EMAIL_DELIVERY_CHANGED
from channels_hub.services.outbox import outbound_send
from helpdesk.events.realtime import ticket_group
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.factories import ConnectorConversationFactory, OutboundEmailFactory
from tests.channels_hub.mail import dsn_mail, email_channel, raw_mail
from tests.conftest import free_port
from tests.tickets.console.test_consumers import communicator, cookie_for, receive
from tests.tickets.factories import TicketFactory
from tickets.models import Ticket, Via
from tickets.services.messages import message_add

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_KEYS = {"type", "subject_type", "subject_id", "data"}
DATA_KEYS = {"ticket", "delivery_id", "status"}


class Rollback(Exception):
    pass


@pytest.fixture
def channel(tenant, smtp_inbox):
    return email_channel(tenant)


def mailed_ticket(channel) -> Ticket:
    """A ticket from a customer's mail (its acknowledgement sent on the way)."""
    inbound = inbound_store(channel=channel, raw=raw_mail(sender="Jane Doe <jane@example.org>"),
                            source=InboundSource.HOOK)
    with tenant_scope(channel.tenant):
        inbound.refresh_from_db()
        return Ticket.objects.get(pk=inbound.ticket_id)


def frames(receive, *, until_status: str, timeout: float = 5) -> list[dict]:
    """The delivery frames the ticket's group hears (beside the ticket's own events) up to
    the first whose delivery reached ``until_status``."""
    seen = []
    while True:
        message = receive(timeout)
        assert message["type"] == "ticket.event"
        if message["event"]["type"] not in (EMAIL_DELIVERY_CHANGED, CONNECTOR_DELIVERY_CHANGED):
            continue
        seen.append(message["event"])
        if message["event"]["data"]["status"] == until_status:
            return seen


def assert_bare(frame: dict, *, kind: str, ticket: Ticket, delivery_id: int, status: str) -> None:
    """Ids and the state, nothing else: no subject, body, address or error text."""
    assert set(frame) == FRAME_KEYS and set(frame["data"]) == DATA_KEYS
    assert frame == {"type": kind, "subject_type": "tickets.ticket", "subject_id": str(ticket.pk),
                     "data": {"ticket": {"id": ticket.pk, "number": ticket.number}, "delivery_id": delivery_id,
                              "status": status}}


def reply(ticket, agent, body="We refunded the order."):
    with tenant_scope(ticket.tenant):
        return message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body=body, public=True)


@pytest.mark.parametrize("server_says, status", [
    ("", OutboundStatus.SENT),
    ("451 4.3.0 try again later", OutboundStatus.QUEUED),  # an attempt to be retried
    ("550 5.1.1 mailbox unavailable", OutboundStatus.FAILED),
])
def test_each_attempt_of_a_reply_by_mail_reaches_the_tickets_group(channel, tenant, agent, smtp_inbox, listen,
                                                                   server_says, status):
    ticket = mailed_ticket(channel)
    receive = listen(ticket_group(tenant.pk, ticket.pk))
    smtp_inbox.reply = server_says
    message = reply(ticket, agent, body="Your refund of order 1001 is on its way.")
    with tenant_scope(tenant):
        outbound = OutboundEmail.objects.get(ticket_message=message)
    assert outbound.status == status
    [frame] = frames(receive, until_status=status)
    assert_bare(frame, kind=EMAIL_DELIVERY_CHANGED, ticket=ticket, delivery_id=outbound.pk, status=status)
    text = json.dumps(frame)
    for content in ("refund", "jane@example.org", "550", "451", "mailbox", outbound.subject):
        assert content not in text


def test_the_push_comes_after_commit_and_never_for_a_rollback(tenant, smtp_inbox, listen):
    ticket = TicketFactory(tenant=tenant)
    kept, undone = OutboundEmailFactory.create_batch(2, tenant=tenant, ticket=ticket)
    # Two listeners: a receive that timed out leaves its channel's buffer on a closed loop.
    early, receive = listen(ticket_group(tenant.pk, ticket.pk)), listen(ticket_group(tenant.pk, ticket.pk))
    with tenant_scope(tenant):
        with transaction.atomic():
            assert outbound_send(outbound_id=kept.pk) == OutboundStatus.SENT
            with pytest.raises(asyncio.TimeoutError):
                early(0.5)  # sent, but not committed: nobody is told yet
        assert receive()["event"]["data"] == {"ticket": {"id": ticket.pk, "number": ticket.number},
                                              "delivery_id": kept.pk, "status": "sent"}
        with pytest.raises(Rollback), transaction.atomic():
            assert outbound_send(outbound_id=undone.pk) == OutboundStatus.SENT
            raise Rollback
        undone.refresh_from_db()
        assert undone.status == OutboundStatus.QUEUED
    with pytest.raises(asyncio.TimeoutError):
        receive(0.5)


def test_a_bounce_processed_by_inbound_reaches_the_tickets_group(channel, tenant, listen):
    ticket = mailed_ticket(channel)
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket=ticket, kind="acknowledgement")
    assert ack.status == OutboundStatus.SENT
    receive = listen(ticket_group(tenant.pk, ticket.pk))
    bounce = inbound_store(channel=channel, raw=dsn_mail(original_id=ack.message_id, recipient="jane@example.org"),
                           source=InboundSource.HOOK)
    with tenant_scope(tenant):
        bounce.refresh_from_db()
        ack.refresh_from_db()
    assert bounce.reason == "bounce" and ack.status == OutboundStatus.BOUNCED
    [frame] = [f for f in frames(receive, until_status="bounced") if f["data"]["delivery_id"] == ack.pk]
    assert_bare(frame, kind=EMAIL_DELIVERY_CHANGED, ticket=ticket, delivery_id=ack.pk, status="bounced")
    assert "5.1.1" not in json.dumps(frame) and "no such user" not in json.dumps(frame)


def test_replies_to_a_bridge_reach_the_tickets_group_sent_and_failed(connector, tenant, agent, bridge, listen):
    channel, _secret = connector
    ticket = TicketFactory(tenant=tenant)
    ConnectorConversationFactory(tenant=tenant, channel=channel, ticket=ticket, conversation_id="905321234567")
    receive = listen(ticket_group(tenant.pk, ticket.pk))
    bridge.script = [(200, json.dumps({"external_id": "wamid.out-1"}), 0),
                     (403, json.dumps({"error": "account suspended"}), 0)]
    first = reply(ticket, agent, body="Kargonuz yarın teslim edilecek.")
    second = reply(ticket, agent, body="Hesabınızı kontrol ediyoruz.")
    with tenant_scope(tenant):
        sent = ConnectorDelivery.objects.get(ticket_message=first)
        failed = ConnectorDelivery.objects.get(ticket_message=second)
    assert (sent.status, failed.status) == (OutboundStatus.SENT, OutboundStatus.FAILED)
    got = frames(receive, until_status="sent") + frames(receive, until_status="failed")
    assert_bare(got[0], kind=CONNECTOR_DELIVERY_CHANGED, ticket=ticket, delivery_id=sent.pk, status="sent")
    assert_bare(got[-1], kind=CONNECTOR_DELIVERY_CHANGED, ticket=ticket, delivery_id=failed.pk, status="failed")
    for content in ("Kargonuz", "suspended", "403", "905321234567", "wamid"):
        assert content not in json.dumps(got)


def test_a_channel_layer_that_is_down_never_fails_a_delivery(channel, tenant, agent, smtp_inbox, connector, bridge,
                                                             settings, caplog):
    ticket = mailed_ticket(channel)
    ConnectorConversationFactory(tenant=tenant, channel=connector[0], ticket=ticket)
    # Nothing listens on this port: every push is refused.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]}}}
    smtp_inbox.messages.clear()
    with caplog.at_level(logging.WARNING, logger="tickets.consumers"):
        message = reply(ticket, agent)
    with tenant_scope(tenant):
        assert OutboundEmail.objects.get(ticket_message=message).status == OutboundStatus.SENT
        assert ConnectorDelivery.objects.get(ticket_message=message).status == OutboundStatus.SENT
    assert len(smtp_inbox.messages) == 1 and len(bridge.requests) == 1
    pushes = [r for r in caplog.records if "could not push" in r.getMessage()]
    assert {r.args[0] for r in pushes} == {EMAIL_DELIVERY_CHANGED, CONNECTOR_DELIVERY_CHANGED}


def test_the_ticket_page_socket_gets_the_frame_and_another_tenants_does_not(
        tenant, other_tenant, agent, other_agent, smtp_inbox):
    ours = TicketFactory(tenant=tenant)
    theirs = TicketFactory(tenant=other_tenant)
    outbound = OutboundEmailFactory(tenant=tenant, ticket=ours)
    cookie, other_cookie = cookie_for(agent), cookie_for(other_agent, "globex.localhost")

    def send_it():
        try:
            with tenant_scope(tenant):
                return outbound_send(outbound_id=outbound.pk)
        finally:
            connection.close()

    async def scenario():
        page = communicator(ours.pk, cookie=cookie)
        other_page = communicator(theirs.pk, cookie=other_cookie, host="globex.localhost")
        for comm in (page, other_page):
            assert (await comm.connect())[0]
            await receive(comm, "hello")
        assert await asyncio.get_running_loop().run_in_executor(None, send_it) == OutboundStatus.SENT
        frame = await receive(page, "event")
        assert_bare(frame["event"], kind=EMAIL_DELIVERY_CHANGED, ticket=ours, delivery_id=outbound.pk, status="sent")
        assert await other_page.receive_nothing(timeout=0.5)
        for comm in (page, other_page):
            await comm.disconnect()

    async_to_sync(scenario)()
