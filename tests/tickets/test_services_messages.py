"""message_add: replies, notes, mentions, reopen, follow-ups, idempotency, sanitising, counters."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import api_key_create
from tests.factories import ContactFactory, UserFactory, MembershipFactory
from tests.tickets.core_helpers import light_agent, make_ticket, requester, second_agent  # noqa: F401
from tickets.models import Channel, MessageKind, Status, Ticket, TicketCC, Via
from tickets.services import message_add, ticket_cc_add, ticket_update
from tickets.services.content import Mentionable, find_mentions, prepare_body
from tickets.services.tickets import lock_ticket, ticket_close

pytestmark = pytest.mark.django_db


def _close(tenant, ticket):
    with tenant_scope(tenant), transaction.atomic():
        ticket_close(ticket=lock_ticket(ticket))


def test_public_agent_reply_opens_a_new_ticket_and_sets_the_reply_counters(tenant, agent, make_ticket):
    ticket = make_ticket()
    message = message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Looking into it.", public=True)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert message.kind == MessageKind.PUBLIC and message.author_user == agent
        assert ticket.status == Status.OPEN
        assert ticket.first_reply_at == ticket.last_agent_reply_at is not None
        assert ticket.public_agent_reply_count == 1
        assert ticket.message_count == 2
        assert ticket.version == 2
        assert message.ticket_version == 2
        entry = ticket.messages.get(kind=MessageKind.SYSTEM)
        assert entry.changes == {"status": ["new", "open"]}
        assert entry.ticket_version == 2
        event = Event.objects.filter(type="ticket.message_added").latest("id")
    assert event.payload["message_id"] == message.pk and event.payload["agent_reply"] is True


def test_internal_note_is_not_a_reply(tenant, agent, make_ticket):
    ticket = make_ticket()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Check the courier", public=False)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.first_reply_at is None and ticket.public_agent_reply_count == 0
    assert ticket.message_count == 2


def test_trigger_messages_do_not_count_as_agent_replies(tenant, make_ticket):
    ticket = make_ticket()
    message_add(ticket=ticket, actor=None, via=Via.TRIGGER, body="We got your request.", public=True)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.first_reply_at is None and ticket.public_agent_reply_count == 0
    assert ticket.status == Status.NEW


def test_light_agents_write_notes_only(tenant, light_agent, make_ticket):
    ticket = make_ticket()
    message_add(ticket=ticket, actor=light_agent, via=Via.CONSOLE, body="FYI", public=False)
    with pytest.raises(PermissionDenied):
        message_add(ticket=ticket, actor=light_agent, via=Via.CONSOLE, body="Hello customer", public=True)


def test_api_keys_with_tickets_write_may_reply(tenant, make_ticket):
    writer, _raw = api_key_create(tenant=tenant, name="crm", scopes=["tickets:write"])
    reader, _raw = api_key_create(tenant=tenant, name="bi", scopes=["tickets:read"])
    ticket = make_ticket()
    message = message_add(ticket=ticket, actor=ApiKeyUser(writer), via=Via.API, body="From the CRM", public=True)
    assert message.channel == Channel.API and message.author_user is None
    with pytest.raises(PermissionDenied):
        message_add(ticket=ticket, actor=ApiKeyUser(reader), via=Via.API, body="Nope", public=True)


def test_mentions_in_notes_are_stored(tenant, agent, second_agent, make_ticket):
    ticket = make_ticket()
    second_agent.full_name = "Zeynep Kaya"
    second_agent.save()
    message = message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, public=False,
                          body=f"@[Zeynep Kaya] and @{agent.email.upper()} please check; @stranger@x.org no")
    assert message.mentions == [second_agent.pk, agent.pk]
    with tenant_scope(tenant):
        event = Event.objects.filter(type="ticket.message_added").latest("id")
    assert event.payload["mentions"] == [second_agent.pk, agent.pk]
    public = message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, public=True, body="@[Zeynep Kaya] hi")
    assert public.mentions == []


def test_members_of_another_tenant_cannot_be_mentioned(tenant, other_tenant, agent, other_agent, make_ticket):
    message = message_add(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, public=False,
                          body=f"@{other_agent.email} look")
    assert message.mentions == []


@pytest.mark.parametrize("status", [Status.PENDING, Status.ON_HOLD, Status.SOLVED])
def test_requester_message_reopens(tenant, agent, make_ticket, requester, status):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, status=status, assignee=agent)
    message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester, body="Still broken",
                public=True)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == (1 if status == Status.SOLVED else 0)
    assert ticket.last_customer_message_at is not None


def test_cc_message_reopens_but_a_strangers_does_not(tenant, agent, make_ticket):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, status=Status.PENDING,
                           assignee=agent)
    cc, stranger = ContactFactory(tenant=tenant), ContactFactory(tenant=tenant)
    message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=stranger, body="Me too", public=True)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    ticket_cc_add(ticket=ticket, contact=cc, actor=agent, via=Via.CONSOLE)
    message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=cc, body="Any news?", public=True)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert TicketCC.objects.filter(ticket=ticket).count() == 1
    assert ticket.status == Status.OPEN


def test_customer_message_on_a_closed_ticket_starts_a_follow_up(tenant, make_ticket, requester):
    ticket = make_ticket()
    _close(tenant, ticket)
    message = message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester,
                          body="It broke again", public=True, channel=Channel.EMAIL, external_id="<m2@example.org>")
    with tenant_scope(tenant):
        follow_up = Ticket.objects.get(pk=message.ticket_id)
        ticket.refresh_from_db()
    assert follow_up.pk != ticket.pk
    assert follow_up.follow_up_of_id == ticket.pk
    assert follow_up.number == ticket.number + 1
    assert follow_up.subject == ticket.subject
    assert message.body_text == "It broke again" and message.author_contact_id == requester.pk
    assert ticket.status == Status.CLOSED and ticket.message_count == 1
    # The same email again is the same message.
    again = message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester,
                        body="It broke again", public=True, channel=Channel.EMAIL, external_id="<m2@example.org>")
    assert again.pk == message.pk


def test_external_id_makes_it_idempotent(tenant, make_ticket, requester):
    ticket = make_ticket()
    kwargs = dict(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester, body="Hello",
                  public=True, channel=Channel.CHAT, external_id="client-1")
    first = message_add(**kwargs)
    second = message_add(**kwargs)
    assert first.pk == second.pk
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.message_count == 2


def test_customers_cannot_write_notes(tenant, make_ticket, requester):
    with pytest.raises(ValidationError):
        message_add(ticket=make_ticket(), actor=None, via=Via.CUSTOMER, author_contact=requester, body="x",
                    public=False)


def test_empty_messages_are_refused(tenant, agent, make_ticket):
    with pytest.raises(ValidationError) as exc:
        message_add(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, body="  <p> </p> ", public=True)
    assert "body" in exc.value.message_dict


def test_html_is_sanitised_and_text_kept(tenant, agent, make_ticket):
    body = ('<p onclick="steal()">Hi <b>there</b><script>alert(1)</script>'
            '<a href="javascript:alert(1)">x</a> <a href="https://example.org">site</a>'
            '<img src="https://tracker.example/p.gif"><style>p{}</style></p>')
    message = message_add(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, body=body, public=True)
    assert "script" not in message.body_html and "onclick" not in message.body_html
    assert "javascript:" not in message.body_html and "<img" not in message.body_html
    assert '<a href="https://example.org"' in message.body_html and "<b>there</b>" in message.body_html
    assert message.body_text == "Hi therex site"


def test_an_image_naming_no_file_of_the_message_is_stored_as_its_alt_text(tenant, agent, make_ticket):
    # An agent (or an API client) cannot send a cid: image: no file of the message carries
    # that Content-ID, so the reply would go out pointing at nothing.
    body = '<p>See <img src="cid:logo@acme" alt="our logo"> here</p>'
    message = message_add(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, body=body, public=True)
    assert message.body_html == "<p>See our logo here</p>"
    kept = prepare_body(body, content_ids=["LOGO@acme"]).html  # Content-IDs compare without case
    assert kept == '<p>See <img src="cid:logo@acme" alt="our logo"> here</p>'
    assert prepare_body(body, content_ids=["other@acme", ""]).html == "<p>See our logo here</p>"


def test_plain_text_is_escaped_with_paragraphs():
    body = prepare_body("a < b & c\nnext line\n\nsecond <paragraph")
    assert body.html == "<p>a &lt; b &amp; c<br>next line</p><p>second &lt;paragraph</p>"
    assert body.text == "a < b & c\nnext line\n\nsecond <paragraph"


def test_find_mentions_is_pure_and_skips_ambiguous_names():
    people = [Mentionable(1, "ali@acme.test", "Ali Veli"), Mentionable(2, "ali2@acme.test", "Ali Veli"),
              Mentionable(3, "zeynep@acme.test", "Zeynep  Kaya")]
    assert find_mentions("@[ali veli] @[Zeynep Kaya] @ali2@acme.test.", people) == [3, 2]
    assert find_mentions("mail me at x@ali@acme.test", people) == []


def test_stale_reply_guard_on_messages(tenant, agent, second_agent, make_ticket):
    from tickets.services import StaleTicket

    ticket = make_ticket()
    seen = ticket.version
    message_add(ticket=ticket, actor=second_agent, via=Via.CONSOLE, body="Done already", public=True)
    with pytest.raises(StaleTicket) as exc:
        message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Let me check", public=True,
                    expected_version=seen)
    with tenant_scope(tenant):
        assert [m.body_text for m in exc.value.newer_messages if m.kind == MessageKind.PUBLIC] == ["Done already"]
        assert ticket.messages.filter(body_text="Let me check").count() == 0


def test_attachments_are_stored_with_the_message(tenant, agent, make_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 data", content_type="application/pdf")
    message = message_add(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, body="", public=True,
                          attachments=[upload])
    with tenant_scope(tenant):
        (attachment,) = message.attachments.all()
    assert attachment.filename == "invoice.pdf" and attachment.size == 13
    assert attachment.content_type == "application/pdf"
    assert attachment.ticket_id == message.ticket_id and attachment.uploaded_by == agent
    assert len(attachment.token) >= 24 and attachment.token in attachment.file.name


def test_a_refused_attachment_stops_the_message(tenant, agent, make_ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = make_ticket()
    with pytest.raises(ValidationError):
        message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="see attached", public=True,
                    attachments=[SimpleUploadedFile("setup.exe", b"MZ....", content_type="application/pdf")])
    with tenant_scope(tenant):
        assert ticket.messages.count() == 1


def test_a_removed_member_cannot_reply(tenant, make_ticket):
    user = UserFactory(email="gone@acme.test")
    MembershipFactory(tenant=tenant, user=user, is_active=False)
    with pytest.raises(PermissionDenied):
        message_add(ticket=make_ticket(), actor=user, via=Via.CONSOLE, body="hi", public=True)
