"""The inbound pipeline on PostgreSQL: store first, then parse, thread, and make or add to
tickets (SPEC §6), with loops and noise kept out."""
from __future__ import annotations

import pytest
from django.core import mail

from channels_hub.models import EmailThreadRef, InboundEmail, InboundSource, InboundStatus, OutboundEmail
from channels_hub.services.inbound import inbound_process, inbound_store
from helpdesk.people.models import ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import dsn_mail, email_channel, raw_mail
from tickets.models import Message, Status, Ticket, TicketCC

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(tenant):
    return email_channel(tenant)


def receive(channel, raw: bytes) -> InboundEmail:
    stored = inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)
    with tenant_scope(channel.tenant):
        return InboundEmail.objects.get(pk=stored.pk)


def test_a_new_mail_makes_a_ticket_with_the_requester_and_an_acknowledgement(channel, tenant):
    inbound = receive(channel, raw_mail(subject="Cannot log in", body="Hi,\n\nThe page says invalid token.\n"))
    assert inbound.status == InboundStatus.PROCESSED and inbound.reason == "new-ticket"
    with tenant_scope(tenant):
        ticket = Ticket.objects.get(pk=inbound.ticket_id)
        assert ticket.subject == "Cannot log in" and ticket.channel == "email"
        assert ticket.requester.identities.get().value == "jane@example.org"
        first = ticket.messages.get(kind="public")
        assert "invalid token" in first.body_text and first.external_id == inbound.message_id
        ack = OutboundEmail.objects.get(ticket=ticket, kind="acknowledgement")
        assert ack.status == "sent" and ack.to == ["jane@example.org"]
        assert ack.in_reply_to == inbound.message_id and ack.auto_submitted == "auto-replied"
        assert f"[#{ticket.number}]" in ack.subject
    sent = mail.outbox[-1]
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"
    assert f"#{ticket.number}" in sent.body


def test_the_raw_message_is_kept_byte_for_byte(channel, tenant):
    raw = raw_mail(subject="Fatura İADE", body="Merhaba, ürün iadesi hakkında.")
    inbound = receive(channel, raw)
    with tenant_scope(tenant):
        assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == raw


def test_the_same_message_id_twice_is_a_duplicate(channel, tenant):
    raw = raw_mail(message_id="<dup-1@example.org>")
    first = receive(channel, raw)
    second = receive(channel, raw)
    assert first.status == InboundStatus.PROCESSED and second.status == InboundStatus.DUPLICATE
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1 and Message.objects.filter(kind="public").count() == 1


def test_a_reply_to_our_mail_threads_into_the_ticket_by_in_reply_to(channel, tenant):
    first = receive(channel, raw_mail(message_id="<root@example.org>"))
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket_id=first.ticket_id)
    reply = receive(channel, raw_mail(subject="Re: something else entirely", body="More details.",
                                      in_reply_to=f"<{ack.message_id}>",
                                      references=f"<root@example.org> <{ack.message_id}>"))
    assert reply.status == InboundStatus.PROCESSED and reply.ticket_id == first.ticket_id
    assert reply.reason == "reply"


def test_references_newest_first_find_the_ticket_when_in_reply_to_is_unknown(channel, tenant):
    first = receive(channel, raw_mail(message_id="<a1@example.org>"))
    reply = receive(channel, raw_mail(subject="Re: Help", in_reply_to="<unknown@elsewhere>",
                                      references="<zzz@elsewhere> <a1@example.org> <unknown@elsewhere>"))
    assert reply.ticket_id == first.ticket_id


def test_the_subject_token_threads_only_for_participants(channel, tenant):
    first = receive(channel, raw_mail())
    with tenant_scope(tenant):
        number = Ticket.objects.get(pk=first.ticket_id).number
    by_requester = receive(channel, raw_mail(subject=f"Re: Help [#{number}]", body="Still broken."))
    assert by_requester.ticket_id == first.ticket_id
    stranger = receive(channel, raw_mail(sender="mallory@evil.test", subject=f"Re: Help [#{number}]",
                                         body="Let me in."))
    assert stranger.ticket_id != first.ticket_id and stranger.reason == "new-ticket"


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(channel, tenant):
    first = receive(channel, raw_mail(message_id="<closed-root@example.org>"))
    with tenant_scope(tenant):
        Ticket.objects.filter(pk=first.ticket_id).update(status=Status.CLOSED)
    reply = receive(channel, raw_mail(subject="Re: Help", in_reply_to="<closed-root@example.org>"))
    assert reply.reason == "follow-up" and reply.ticket_id != first.ticket_id
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=reply.ticket_id).follow_up_of_id == first.ticket_id


def test_a_reply_to_a_merged_ticket_goes_to_the_ticket_it_was_merged_into(channel, tenant, agent):
    from tickets.services import ticket_merge

    survivor = receive(channel, raw_mail(sender="ann@example.org", message_id="<survivor@example.org>"))
    merged = receive(channel, raw_mail(sender="bob@example.org", message_id="<merged@example.org>"))
    with tenant_scope(tenant):
        target = Ticket.objects.get(pk=survivor.ticket_id)
        source = Ticket.objects.get(pk=merged.ticket_id)
    ticket_merge(target=target, sources=[source], actor=agent, via="console")
    reply = receive(channel, raw_mail(sender="bob@example.org", subject="Re: Help", cc="dan@example.org",
                                      in_reply_to="<merged@example.org>", message_id="<bob-2@example.org>"))
    assert reply.status == InboundStatus.PROCESSED and reply.reason == "merged"
    assert reply.ticket_id == target.pk
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 2
        ccs = set(TicketCC.objects.filter(ticket=target).values_list("contact__identities__value", flat=True))
        assert ccs == {"bob@example.org", "dan@example.org"}
        # The next answer threads by this mail's own id straight into the survivor.
        assert EmailThreadRef.objects.get(message_id="bob-2@example.org").ticket_id == target.pk


def test_other_recipients_become_ccs_but_not_our_own_address(channel, tenant):
    inbound = receive(channel, raw_mail(to="support@acme.test, Bob <bob@example.org>", cc="carol@example.org"))
    with tenant_scope(tenant):
        ccs = set(TicketCC.objects.filter(ticket_id=inbound.ticket_id)
                  .values_list("contact__identities__value", flat=True))
    assert ccs == {"bob@example.org", "carol@example.org"}


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"X-Autoreply": "yes"},
    {"List-Id": "<news.example.org>"},
])
def test_automatic_mail_makes_a_ticket_but_gets_no_acknowledgement(channel, tenant, headers):
    inbound = receive(channel, raw_mail(headers=headers))
    assert inbound.status == InboundStatus.PROCESSED
    with tenant_scope(tenant):
        assert not OutboundEmail.objects.filter(kind="acknowledgement").exists()


def test_mail_from_our_own_address_is_a_loop(channel, tenant):
    inbound = receive(channel, raw_mail(sender="support@acme.test"))
    assert inbound.status == InboundStatus.IGNORED and inbound.reason == "loop"


def test_our_own_mail_coming_back_is_recognised(channel, tenant):
    first = receive(channel, raw_mail())
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket_id=first.ticket_id)
    echo = receive(channel, raw_mail(sender="someone@example.org", message_id=f"<{ack.message_id}>"))
    assert echo.status == InboundStatus.DUPLICATE and echo.reason == "own-mail"


def test_blocked_and_allowed_senders(tenant):
    channel = email_channel(tenant, blocked_senders=["@spam.test"], name="Blocked")
    assert receive(channel, raw_mail(sender="x@spam.test")).reason == "blocked"
    allow = email_channel(tenant, name="Allow", address="vip@acme.test", allowed_senders=["boss@example.org"])
    assert receive(allow, raw_mail(sender="other@example.org", to="vip@acme.test")).reason == "not-allowed"
    assert receive(allow, raw_mail(sender="boss@example.org", to="vip@acme.test")).status == "processed"


def test_a_sender_over_the_hourly_limit_is_stored_but_makes_no_more_tickets(tenant):
    channel = email_channel(tenant, sender_hourly_limit=2)
    results = [receive(channel, raw_mail(subject=f"Storm {i}")) for i in range(4)]
    assert [r.reason for r in results] == ["new-ticket", "new-ticket", "rate-limited", "rate-limited"]
    with tenant_scope(tenant):
        assert InboundEmail.objects.count() == 4 and Ticket.objects.count() == 2


def test_acknowledgements_per_sender_are_capped(channel, tenant):
    for i in range(5):
        receive(channel, raw_mail(subject=f"Question {i}"))
    with tenant_scope(tenant):
        assert OutboundEmail.objects.filter(kind="acknowledgement").count() == 3


def test_a_bounce_marks_our_mail_bounced_and_the_address_undeliverable(channel, tenant):
    first = receive(channel, raw_mail(sender="gone@example.org"))
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket_id=first.ticket_id)
    dsn = dsn_mail(original_id=ack.message_id, recipient="gone@example.org")
    bounce = receive(channel, dsn)
    assert bounce.status == InboundStatus.IGNORED and bounce.reason == "bounce"
    with tenant_scope(tenant):
        ack.refresh_from_db()
        assert ack.status == "bounced" and "5.1.1" in ack.last_error
        identity = ContactIdentity.objects.get(value="gone@example.org")
        assert identity.undeliverable_at is not None
        note = Message.objects.filter(ticket_id=first.ticket_id, kind="system").last()
        assert "bounced" in note.body_text


def test_an_address_that_bounced_gets_its_ticket_but_no_acknowledgement(channel, tenant):
    """The sender's identity, read to find the contact, says the address is dead: the outbox
    is not asked again and nothing is queued to it."""
    first = receive(channel, raw_mail(sender="gone@example.org"))
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket_id=first.ticket_id)
    receive(channel, dsn_mail(original_id=ack.message_id, recipient="gone@example.org"))
    again = receive(channel, raw_mail(sender="Gone <GONE@example.org>", subject="Another question"))
    assert again.reason == "new-ticket" and again.ticket_id != first.ticket_id
    with tenant_scope(tenant):
        assert not OutboundEmail.objects.filter(ticket_id=again.ticket_id).exists()


def test_a_new_customer_joins_the_organization_that_assigns_their_domain(channel, tenant):
    """Whether any organization assigns by domain comes with the mail's row; when one does,
    the new contact (and the ticket) get it."""
    from helpdesk.people.services import organization_create

    with tenant_scope(tenant):
        org = organization_create(tenant=tenant, name="Yıldız A.Ş.", domains=["yildiz.com.tr"], auto_assign=True)
    joined = receive(channel, raw_mail(sender="Emre <emre@yildiz.com.tr>"))
    other = receive(channel, raw_mail(sender="someone@example.org", subject="Other"))
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=joined.ticket_id).organization_id == org.pk
        assert Ticket.objects.get(pk=joined.ticket_id).requester.organization_id == org.pk
        assert Ticket.objects.get(pk=other.ticket_id).organization_id is None


def test_attachments_are_stored_and_refused_ones_are_named(channel, tenant, settings):
    settings.TICKET_ATTACHMENT_DENIED_EXTENSIONS = ["exe"]
    inbound = receive(channel, raw_mail(attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
                                                     ("run.exe", "application/octet-stream", b"MZ")]))
    with tenant_scope(tenant):
        message = Message.objects.get(pk=inbound.ticket_message_id)
        assert [a.filename for a in message.attachments.all()] == ["invoice.pdf"]
        assert "run.exe" in message.body_text


def test_an_unparseable_message_is_kept_and_flagged(channel, tenant):
    inbound = receive(channel, b"\x00\xff garbage without headers \x00" * 10)
    assert inbound.status in (InboundStatus.IGNORED, InboundStatus.PROCESSED)
    with tenant_scope(tenant):
        assert InboundEmail.objects.filter(pk=inbound.pk).exists()


def test_processing_again_is_a_no_op(channel, tenant):
    inbound = receive(channel, raw_mail())
    with tenant_scope(tenant):
        again = inbound_process(inbound_id=inbound.pk)
        forced = inbound_process(inbound_id=inbound.pk, force=True)
        assert again.status == InboundStatus.PROCESSED and forced.status == InboundStatus.DUPLICATE
        assert Ticket.objects.count() == 1
        assert EmailThreadRef.objects.filter(message_id=inbound.message_id).count() == 1


# --- what a mail costs (bench/email_ingest.py measures the same pipeline) --------------------

def _stored(channel, raw: bytes) -> InboundEmail:
    """Stored, its processing not run yet (this test's transaction never commits)."""
    return inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)


@pytest.mark.django_db
def test_a_mail_costs_a_fixed_number_of_statements(channel, tenant, django_capture_on_commit_callbacks):
    """Pinned so that a change adding a round trip to every mail shows. Own addresses, the
    help center's acknowledgement option and whether any organization assigns by domain come
    with the mail's row on PostgreSQL; the new ticket's message, SLA due and number need no
    read of their own, nor does the acknowledgement's recipient (the identity just made)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.queries import QueryCounter
    from tickets.sla.defaults import sla_defaults_create

    with tenant_scope(tenant):
        with django_capture_on_commit_callbacks(execute=True):  # as committed: the policies are cached
            sla_defaults_create(tenant)
        inbound_process(inbound_id=_stored(channel, raw_mail(sender="first@example.org")).pk)  # counter row, SLA
        new = _stored(channel, raw_mail(sender="Ann <ann@example.org>", subject="Where is my order?"))
        with CaptureQueriesContext(connection) as everything, QueryCounter(connection) as new_ticket:
            processed = inbound_process(inbound_id=new.pk)
        assert processed.reason == "new-ticket"
        ack = OutboundEmail.objects.get(ticket_id=processed.ticket_id)
        reply = _stored(channel, raw_mail(sender="ann@example.org", subject="Re: Where is my order?",
                                          in_reply_to=f"<{ack.message_id}>"))
        with QueryCounter(connection) as follow_up:
            answered = inbound_process(inbound_id=reply.pk)
        assert answered.reason == "reply" and answered.ticket_id == processed.ticket_id
    own = 0 if connection.vendor == "postgresql" else 1
    # The mail and its thread refs; the new contact (identity, contact, identity without a
    # savepoint, audit, event; elsewhere also the organizations); the ticket (number, ticket,
    # message, event, audit, SLA timers, SLA columns); its thread ref; the acknowledgement
    # (outbound, thread ref; elsewhere also the help-center settings); the mail's status.
    assert len(new_ticket) == 18 + 3 * own, "\n".join(q["sql"] for q in new_ticket.captured_queries)
    # No savepoint inside the mail's own transaction (here itself a savepoint of the test's).
    inner = [q["sql"] for q in everything.captured_queries][1:-1]
    assert not [sql for sql in inner if "SAVEPOINT" in sql], "\n".join(inner)
    # The mail and its thread (with its ticket), agents' addresses, the contact, the duplicate
    # check, the locked ticket, message, ticket, event, SLA timers, thread ref, the mail's status.
    assert len(follow_up) == 12 + own, "\n".join(q["sql"] for q in follow_up.captured_queries)


def test_the_acknowledgement_says_when_to_expect_the_first_reply(channel, tenant):
    from tickets.models import SlaTimer
    from tickets.sla.defaults import sla_defaults_create

    with tenant_scope(tenant):
        sla_defaults_create(tenant)
    inbound = receive(channel, raw_mail(subject="Invoice copy"))
    with tenant_scope(tenant):
        due = SlaTimer.objects.get(ticket_id=inbound.ticket_id, metric="first_reply").due_at
        ack = OutboundEmail.objects.get(ticket_id=inbound.ticket_id, kind="acknowledgement")
    assert due is not None and "You can expect our first reply by" in ack.body_text
    assert str(due.astimezone(__import__("zoneinfo").ZoneInfo(tenant.timezone or "UTC")).year) in ack.body_text


def test_without_an_sla_policy_the_acknowledgement_promises_no_time(channel, tenant):
    inbound = receive(channel, raw_mail(subject="Invoice copy"))
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(ticket_id=inbound.ticket_id, kind="acknowledgement")
    assert "We will reply as soon as we can." in ack.body_text
