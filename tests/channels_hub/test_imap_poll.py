"""Polling a channel's mailbox on a real dovecot: stored before marked read, failures lose
nothing, and the poll schedule follows the channel's interval."""
from __future__ import annotations

import pytest
from django.utils import timezone

from channels_hub.models import Channel, InboundEmail
from channels_hub.services.imap_poll import channel_poll, channels_due_for_poll
from channels_hub.tasks import poll_due
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import email_channel, raw_mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox_channel(tenant, imap_server):
    return email_channel(tenant, imap_host=imap_server.host, imap_port=imap_server.port, imap_security="none",
                         imap_username=imap_server.username, imap_password=imap_server.password,
                         imap_interval_seconds=60)


def test_waiting_mail_becomes_tickets_and_is_marked_read(tenant, mailbox_channel, imap_server):
    imap_server.deliver(raw_mail(subject="From the mailbox 1"))
    imap_server.deliver(raw_mail(subject="From the mailbox 2", sender="bob@example.org"))
    result = channel_poll(channel=mailbox_channel)
    assert result["stored"] == 2 and not result["error"]
    assert all(m.seen for m in imap_server.messages())
    with tenant_scope(tenant):
        assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["From the mailbox 1", "From the mailbox 2"]
        channel = Channel.objects.get(pk=mailbox_channel.pk)
        assert channel.imap_last_error == "" and channel.imap_next_poll_at > timezone.now()


def test_a_dead_server_loses_nothing_and_the_next_poll_takes_the_mail(tenant, mailbox_channel, imap_server):
    imap_server.deliver(raw_mail(subject="Waiting while down"))
    with imap_server.down():
        result = channel_poll(channel=mailbox_channel)
    assert result["error"] == "connection refused"
    with tenant_scope(tenant):
        assert Channel.objects.get(pk=mailbox_channel.pk).imap_last_error == "connection refused"
        assert not InboundEmail.objects.exists()
    assert channel_poll(channel=mailbox_channel)["stored"] == 1
    with tenant_scope(tenant):
        assert Ticket.objects.get().subject == "Waiting while down"


def test_a_message_fetched_twice_is_one_ticket(tenant, mailbox_channel, imap_server):
    raw = raw_mail(subject="Twice", message_id="<twice@example.org>")
    imap_server.deliver(raw)
    channel_poll(channel=mailbox_channel)
    imap_server.deliver(raw)  # e.g. the flag was lost when the connection dropped
    channel_poll(channel=mailbox_channel)
    with tenant_scope(tenant):
        assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 1


def test_wrong_password_is_reported_on_the_channel(tenant, imap_server):
    channel = email_channel(tenant, imap_host=imap_server.host, imap_port=imap_server.port, imap_security="none",
                            imap_username=imap_server.username, imap_password="wrong")
    imap_server.deliver(raw_mail())
    assert channel_poll(channel=channel)["error"] == "authentication failed"
    assert not imap_server.messages()[0].seen


def test_the_beat_polls_only_mailboxes_that_are_due(tenant, mailbox_channel, imap_server):
    assert (tenant.pk, mailbox_channel.pk) in channels_due_for_poll()
    imap_server.deliver(raw_mail(subject="Via beat"))
    assert poll_due() >= 1
    assert (tenant.pk, mailbox_channel.pk) not in channels_due_for_poll()
    with tenant_scope(tenant):
        assert Ticket.objects.filter(subject="Via beat").exists()
