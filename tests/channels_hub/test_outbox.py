"""Email out through a real SMTP server (aiosmtpd): replies, threading headers that round-trip,
side conversations with suppliers, retries and failures."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_hub.models import InboundSource, OutboundEmail
from channels_hub.services.inbound import inbound_store
from channels_hub.services.outbox import outbound_due, outbound_send
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import email_channel, raw_mail
from tests.conftest import free_port
from tickets.models import Message, SideConversation, Ticket, Via
from tickets.services.messages import message_add
from tickets.services.side_conversations import side_conversation_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(tenant, smtp_inbox):
    return email_channel(tenant, from_name="Acme Support")


def receive(channel, raw: bytes):
    inbound = inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)
    with tenant_scope(channel.tenant):
        inbound.refresh_from_db()
    return inbound


def _ticket(tenant, inbound) -> Ticket:
    with tenant_scope(tenant):
        return Ticket.objects.get(pk=inbound.ticket_id)


def test_an_agent_reply_is_mailed_with_threading_headers_and_the_token(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail(message_id="<first@example.org>", subject="Broken invoice"))
    ticket = _ticket(tenant, inbound)
    smtp_inbox.messages.clear()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="<p>We <b>fixed</b> it.</p>", public=True)
    assert len(smtp_inbox.messages) == 1
    sent = smtp_inbox.messages[0]
    mail = sent["message"]
    assert sent["to"] == ["jane@example.org"]
    assert mail["In-Reply-To"] == "<first@example.org>"
    assert "<first@example.org>" in mail["References"]
    assert f"[#{ticket.number}]" in mail["Subject"] and mail["Subject"].startswith("Re: ")
    assert "Acme Support" in mail["From"] and "support@acme.test" in mail["From"]
    assert mail.get("Auto-Submitted") is None
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "<b>fixed</b>" in html and "fixed" in text
    with tenant_scope(tenant):
        outbound = OutboundEmail.objects.get(kind="reply")
        assert outbound.status == "sent" and mail["Message-ID"] == f"<{outbound.message_id}>"


def test_the_customers_answer_to_our_reply_threads_back_into_the_same_ticket(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail(message_id="<start@example.org>"))
    ticket = _ticket(tenant, inbound)
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Does it work now?", public=True)
    ours = smtp_inbox.messages[-1]["message"]
    answer = raw_mail(subject=f"Re: {ours['Subject']}", body="Yes, thanks!\n\nOn Monday Acme wrote:\n> Does it work now?",
                      in_reply_to=ours["Message-ID"], references=f"{ours['References']} {ours['Message-ID']}")
    again = receive(channel, answer)
    assert again.ticket_id == ticket.pk and again.reason == "reply"
    with tenant_scope(tenant):
        last = Message.objects.filter(ticket=ticket, kind="public").last()
        assert last.author_contact_id == ticket.requester_id and last.body_text.startswith("Yes, thanks!")
        assert "Does it work now?" not in last.body_text  # the quoted history is folded away


def test_acknowledgements_go_with_an_empty_envelope_sender_through_the_channels_own_server(tenant, smtp_inbox):
    channel = email_channel(tenant, smtp_host="127.0.0.1", smtp_port=_smtp_port(), smtp_security="none")
    receive(channel, raw_mail())
    sent = smtp_inbox.messages[-1]
    assert sent["from"] in ("", "<>") and sent["message"]["Auto-Submitted"] == "auto-replied"


def test_cc_recipients_get_public_replies(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail(cc="carol@example.org"))
    ticket = _ticket(tenant, inbound)
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Copying Carol.", public=True)
    assert sorted(smtp_inbox.messages[-1]["to"]) == ["carol@example.org", "jane@example.org"]


def test_internal_notes_are_never_mailed(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    smtp_inbox.messages.clear()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Internal only", public=False)
    assert smtp_inbox.messages == []


def test_side_conversation_mail_goes_to_the_supplier_and_their_answer_lands_in_it(channel, tenant, agent,
                                                                                   smtp_inbox):
    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    smtp_inbox.messages.clear()
    side = side_conversation_create(ticket=ticket, actor=agent, via=Via.CONSOLE, kind="email",
                                    subject="Replacement part", body="Do you have part 42 in stock?",
                                    participants=["orders@supplier.test"])
    sent = smtp_inbox.messages[-1]
    assert sent["to"] == ["orders@supplier.test"]
    assert f"#{ticket.number}" not in sent["message"]["Subject"]
    answer = receive(channel, raw_mail(sender="Orders <orders@supplier.test>", subject="Re: Replacement part",
                                       body="Yes, 3 in stock.", in_reply_to=sent["message"]["Message-ID"]))
    assert answer.reason == "side-conversation" and answer.ticket_id == ticket.pk
    with tenant_scope(tenant):
        side = SideConversation.objects.get(pk=side.pk)
        texts = list(side.messages.values_list("body_text", flat=True))
        assert texts == ["Do you have part 42 in stock?", "Yes, 3 in stock."]
        # The ticket's own conversation is untouched.
        assert not Message.objects.filter(ticket=ticket, side_conversation=None, body_text__contains="3 in stock")


def test_a_temporary_smtp_failure_is_retried_later_and_a_permanent_one_fails(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    smtp_inbox.reply = "451 4.3.0 try again later"
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="First try", public=True)
    with tenant_scope(tenant):
        outbound = OutboundEmail.objects.get(kind="reply")
        assert outbound.status == "queued" and outbound.attempts == 1 and "451" in outbound.last_error
        assert outbound.next_attempt_at > timezone.now()
    later = timezone.now() + timedelta(hours=1)
    assert (tenant.pk, outbound.pk) in outbound_due(now=later)
    smtp_inbox.reply = ""
    with tenant_scope(tenant):
        assert outbound_send(outbound_id=outbound.pk, now=later) == "sent"
    smtp_inbox.reply = "550 5.1.1 no such user"
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Second", public=True)
    with tenant_scope(tenant):
        failed = OutboundEmail.objects.filter(kind="reply").order_by("-id").first()
        assert failed.status == "failed" and "550" in failed.last_error


def test_an_unreachable_server_keeps_the_mail_queued(tenant, agent, smtp_inbox):
    channel = email_channel(tenant, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none",
                            acknowledge=False)
    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Hello?", public=True)
    with tenant_scope(tenant):
        outbound = OutboundEmail.objects.get(kind="reply")
        assert outbound.status == "queued" and outbound.attempts == 1 and outbound.last_error


def test_undeliverable_addresses_get_no_mail(channel, tenant, agent, smtp_inbox):
    from helpdesk.people.models import ContactIdentity

    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    with tenant_scope(tenant):
        ContactIdentity.objects.filter(value="jane@example.org").update(undeliverable_at=timezone.now())
    smtp_inbox.messages.clear()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Anyone?", public=True)
    assert smtp_inbox.messages == []


def _smtp_port() -> int:
    from django.conf import settings

    return settings.EMAIL_PORT


def test_the_ticket_page_shows_what_became_of_each_mail(channel, tenant, agent, smtp_inbox):
    from tests.tickets.console.conftest import client_for

    inbound = receive(channel, raw_mail())
    ticket = _ticket(tenant, inbound)
    smtp_inbox.reply = "550 5.1.1 mailbox <jane@example.org> unknown"
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Try this.", public=True)
    page = client_for(agent).get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'id="email-deliveries"' in page
    assert "mailbox &lt;jane@example.org&gt; unknown" in page  # the server's reason, escaped
    assert "Acknowledgement" in page and "Failed" in page


def test_an_agent_answering_by_email_replies_as_the_agent(channel, tenant, agent, smtp_inbox):
    inbound = receive(channel, raw_mail(message_id="<customer-1@example.org>"))
    ticket = _ticket(tenant, inbound)
    smtp_inbox.messages.clear()
    answer = receive(channel, raw_mail(sender=f"Agent <{agent.email}>", subject=f"Re: Help [#{ticket.number}]",
                                       body="Restart the router, please.\n\n> I cannot log in.",
                                       in_reply_to="<customer-1@example.org>"))
    assert answer.status == "processed" and answer.reason == "agent-reply"
    with tenant_scope(tenant):
        message = Message.objects.get(pk=answer.ticket_message_id)
        assert message.author_user_id == agent.pk and message.author_contact_id is None
        assert message.kind == "public" and message.via == "email"
        assert not Ticket.objects.get(pk=ticket.pk).ccs.exists()  # the agent is not made a customer CC
        ticket.refresh_from_db()
        assert ticket.first_reply_at is not None
    mailed = smtp_inbox.messages[-1]
    assert mailed["to"] == ["jane@example.org"] and "Restart the router" in mailed["message"].get_body(
        ("plain",)).get_content()


def test_an_address_no_mail_can_carry_is_never_queued_and_a_stored_one_fails_at_once(channel, tenant):
    """What a broken From header leaves (found by the inbound fuzz test): no acknowledgement
    is queued to it, and a row that holds one anyway fails with the reason, never raising."""
    from channels_hub.services.outbox import deliverable, outbound_queue

    broken = "frank@example.\udc8c\udcd3layedonfri".encode("utf-8", "surrogateescape").decode("latin-1")
    with tenant_scope(tenant):
        assert deliverable(tenant=tenant, addresses=[broken, "ann@example.org", "not an address"]) == [
            "ann@example.org"]
        assert outbound_queue(tenant=tenant, kind="notification", to=[broken], subject="Hi", text="Hi") is None
        stored = OutboundEmail.objects.create(tenant=tenant, kind="notification", channel=channel,
                                              from_email="support@acme.test", to=[broken], subject="Hi",
                                              body_text="Hi", message_id="x-1@acme.test")
        assert outbound_send(outbound_id=stored.pk) == "failed"
        stored.refresh_from_db()
        assert stored.attempts == 1 and stored.last_error and stored.next_attempt_at is None
