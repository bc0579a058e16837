"""The ticket page's split, unlink and side-conversation actions (tickets/views/relations.py).

Messages, links and side conversations are looked up within the ticket of the URL: an id of
another ticket or another tenant is refused with a notice and nothing changes.
"""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import agent_in
from tests.tickets.console.conftest import OTHER_HOST, client_for
from tests.tickets.core_helpers import light_agent, make_ticket, requester  # noqa: F401
from tests.tickets.factories import SideConversationFactory, TicketFactory, TicketLinkFactory
from tickets.models import (
    Message,
    MessageKind,
    SideConversation,
    SideConversationKind,
    Status,
    Ticket,
    TicketLink,
    Via,
)
from tickets.services import message_add, side_conversation_create, ticket_link

pytestmark = pytest.mark.django_db


def url(ticket, action=""):
    return f"/console/tickets/{ticket.number}/" + (f"{action}/" if action else "")


def side_url(ticket, side, action):
    return f"/console/tickets/{ticket.number}/side-conversations/{side.pk}/{action}/"


def fresh(tenant, ticket) -> Ticket:
    with tenant_scope(tenant):
        return Ticket.objects.get(pk=ticket.pk)


def close(tenant, ticket) -> None:
    with tenant_scope(tenant):
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)


@pytest.fixture
def agent_client(agent):
    return client_for(agent)


@pytest.fixture
def light_client(light_agent):  # noqa: F811
    return client_for(light_agent)


@pytest.fixture
def analyst_client(tenant):
    return client_for(agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test"))


@pytest.fixture
def ticket(tenant, make_ticket):  # noqa: F811
    """A ticket with two messages: the customer's first one and a second about another matter."""
    created = make_ticket(subject="Parcel never arrived")
    with tenant_scope(tenant):
        message_add(ticket=created, actor=None, via=Via.CUSTOMER, author_contact=created.requester,
                    body="Also, my invoice shows the wrong address", public=True)
    return fresh(tenant, created)


@pytest.fixture
def second(tenant, ticket) -> Message:
    with tenant_scope(tenant):
        return Message.objects.get(ticket=ticket, body_text__startswith="Also, my invoice")


# --- split ------------------------------------------------------------------------------------


def test_replies_and_notes_offer_a_split_action(agent_client, ticket, second):
    body = agent_client.get(url(ticket)).content.decode()
    assert body.count('class="split-form"') == 2
    assert f'name="message" value="{second.pk}"' in body
    assert f'<label for="split-subject-{second.pk}">' in body


def test_the_split_action_is_hidden_without_edit_rights_on_closed_tickets_and_for_a_single_message(
        tenant, light_client, agent_client, ticket, make_ticket):  # noqa: F811
    assert 'class="split-form"' not in light_client.get(url(ticket)).content.decode()
    single = make_ticket()
    assert 'class="split-form"' not in agent_client.get(url(single)).content.decode()
    close(tenant, ticket)
    assert 'class="split-form"' not in agent_client.get(url(ticket)).content.decode()


def test_splitting_a_message_into_a_new_ticket(agent_client, tenant, ticket, second):
    response = agent_client.post(url(ticket, "split"), {"message": second.pk, "subject": "  Invoice is wrong "})
    with tenant_scope(tenant):
        new = Ticket.objects.exclude(pk=ticket.pk).get()
        assert response.status_code == 302 and response["Location"] == url(new)
        assert new.subject == "Invoice is wrong" and new.requester_id == ticket.requester_id
        assert Message.objects.get(pk=second.pk).ticket_id == new.pk
        assert TicketLink.objects.filter(source=ticket, target=new).exists()
        assert Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM,
                                      body_text__contains=f"#{new.number}").exists()
        assert Message.objects.filter(ticket=new, kind=MessageKind.SYSTEM,
                                      body_text__contains=f"#{ticket.number}").exists()
        assert AuditEntry.objects.filter(action="ticket.split", object_id=str(ticket.pk)).exists()
    assert fresh(tenant, ticket).message_count == 1
    page = agent_client.get(response["Location"]).content.decode()
    assert "Also, my invoice shows the wrong address" in page


def test_a_split_without_a_subject_keeps_the_tickets_subject(agent_client, tenant, ticket, second):
    assert agent_client.post(url(ticket, "split"), {"message": second.pk, "subject": ""}).status_code == 302
    with tenant_scope(tenant):
        assert Ticket.objects.exclude(pk=ticket.pk).get().subject == "Parcel never arrived"


def test_a_message_of_another_ticket_or_tenant_cannot_be_split(agent_client, tenant, other_tenant, ticket,
                                                                make_ticket):  # noqa: F811
    elsewhere = make_ticket(subject="Another matter")
    with tenant_scope(tenant):
        message_add(ticket=elsewhere, actor=None, via=Via.CUSTOMER, author_contact=elsewhere.requester,
                    body="A second message elsewhere", public=True)
        theirs = Message.objects.filter(ticket=elsewhere).order_by("id").first()
        system = Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).first() or Message.objects.create(
            tenant=tenant, ticket=ticket, kind=MessageKind.SYSTEM, body_text="Status changed")
    foreign_ticket = TicketFactory(tenant=other_tenant)
    with tenant_scope(other_tenant):
        foreign = Message.objects.create(tenant=other_tenant, ticket=foreign_ticket, kind=MessageKind.PUBLIC,
                                         body_text="Globex message")
    for message_id in (theirs.pk, foreign.pk, system.pk, "abc", "", "-1", "99999999999999999999"):
        response = agent_client.post(url(ticket, "split"), {"message": message_id})
        assert response.status_code == 400, message_id
        assert response.context["notice"]
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 2
        assert Message.objects.get(pk=theirs.pk).ticket_id == elsewhere.pk
        assert not TicketLink.objects.exists()
    with tenant_scope(other_tenant):
        assert Message.objects.get(pk=foreign.pk).ticket_id == foreign_ticket.pk


def test_the_only_message_cannot_be_split(agent_client, tenant, make_ticket):  # noqa: F811
    single = make_ticket()
    with tenant_scope(tenant):
        only = Message.objects.get(ticket=single)
    assert agent_client.post(url(single, "split"), {"message": only.pk}).status_code == 400
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1


def test_light_agents_cannot_split_and_closed_tickets_refuse(light_client, agent_client, tenant, ticket, second):
    assert light_client.post(url(ticket, "split"), {"message": second.pk}).status_code == 403
    close(tenant, ticket)
    response = agent_client.post(url(ticket, "split"), {"message": second.pk})
    assert response.status_code == 409
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1
        assert Message.objects.get(pk=second.pk).ticket_id == ticket.pk


def test_another_tenants_agent_cannot_split(other_agent, ticket, second):
    client = client_for(other_agent, host=OTHER_HOST)
    assert client.post(url(ticket, "split"), {"message": second.pk}).status_code == 404


# --- unlink -----------------------------------------------------------------------------------


@pytest.fixture
def related(tenant, agent, make_ticket):  # noqa: F811
    return make_ticket(subject="Courier lost a second parcel")


def test_each_link_has_a_remove_button(agent_client, light_client, agent, ticket, related):
    link = ticket_link(source=ticket, target=related, actor=agent, via=Via.CONSOLE)
    body = agent_client.get(url(ticket)).content.decode()
    assert 'class="inline-form unlink-form"' in body and f'name="link" value="{link.pk}"' in body
    assert f'<span class="visually-hidden"> #{related.number}</span>' in body
    assert "unlink-form" not in light_client.get(url(ticket)).content.decode()


def test_removing_a_link_made_from_the_other_side(agent_client, agent, tenant, ticket, related):
    link = ticket_link(source=related, target=ticket, actor=agent, via=Via.CONSOLE)
    version = fresh(tenant, ticket).version
    response = agent_client.post(url(ticket, "unlink"), {"link": link.pk})
    assert response.status_code == 302 and response["Location"] == url(ticket) + "#related"
    with tenant_scope(tenant):
        assert not TicketLink.objects.exists()
        assert AuditEntry.objects.filter(action="ticket.unlinked", object_id=str(ticket.pk)).exists()
        assert AuditEntry.objects.filter(action="ticket.unlinked", object_id=str(related.pk)).exists()
        entry = Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).order_by("-id").first()
        assert "linked" in entry.changes
    assert fresh(tenant, ticket).version == version + 1
    assert "unlink-form" not in agent_client.get(url(ticket)).content.decode()


def test_a_link_of_another_ticket_or_tenant_cannot_be_removed(agent_client, agent, tenant, other_tenant, ticket,
                                                              related, make_ticket):  # noqa: F811
    theirs = ticket_link(source=related, target=make_ticket(subject="Third"), actor=agent, via=Via.CONSOLE)
    foreign = TicketLinkFactory(tenant=other_tenant)
    for link_id in (theirs.pk, foreign.pk, "x", "", "0"):
        response = agent_client.post(url(ticket, "unlink"), {"link": link_id})
        assert response.status_code == 400, link_id
        assert response.context["notice"]
    with tenant_scope(tenant):
        assert TicketLink.objects.filter(pk=theirs.pk).exists()
    with tenant_scope(other_tenant):
        assert TicketLink.objects.filter(pk=foreign.pk).exists()


def test_light_agents_cannot_remove_links(light_client, agent, tenant, ticket, related):
    link = ticket_link(source=ticket, target=related, actor=agent, via=Via.CONSOLE)
    assert light_client.post(url(ticket, "unlink"), {"link": link.pk}).status_code == 403
    with tenant_scope(tenant):
        assert TicketLink.objects.filter(pk=link.pk).exists()


# --- side conversations -----------------------------------------------------------------------


def test_the_page_offers_a_new_side_conversation_form(agent_client, light_client, tenant, ticket):
    for client in (agent_client, light_client):
        body = client.get(url(ticket)).content.decode()
        assert 'id="side-new-form"' in body
        for field in ("side-new-participants", "side-new-subject", "side-new-body", "side-new-attachments"):
            assert f'<label for="{field}">' in body and f'id="{field}"' in body
    close(tenant, ticket)
    assert 'id="side-new-form"' not in agent_client.get(url(ticket)).content.decode()


def test_starting_an_agents_only_side_conversation_with_a_file(agent_client, tenant, ticket):
    response = agent_client.post(url(ticket, "side-conversations"), {
        "kind": "internal", "subject": "Ask the warehouse", "body": "Was parcel 1001 shipped?",
        "attachments": [SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", content_type="application/pdf")]})
    with tenant_scope(tenant):
        side = SideConversation.objects.get()
        assert response.status_code == 302 and response["Location"] == url(ticket) + f"#side-{side.pk}"
        assert (side.ticket_id, side.kind, side.subject, side.participants) == (
            ticket.pk, SideConversationKind.INTERNAL, "Ask the warehouse", [])
        message = side.messages.get()
        assert message.kind == MessageKind.NOTE and message.body_text == "Was parcel 1001 shipped?"
        assert [a.filename for a in message.attachments.all()] == ["label.pdf"]
        assert AuditEntry.objects.filter(action="ticket.side_conversation_created", object_id=str(ticket.pk)).exists()
    current = fresh(tenant, ticket)
    assert current.message_count == ticket.message_count and current.version == ticket.version
    page = agent_client.get(url(ticket)).content.decode()
    assert "Ask the warehouse" in page and "label.pdf" in page
    assert f'action="{side_url(ticket, side, "reply")}"' in page
    assert f'action="{side_url(ticket, side, "close")}"' in page


def test_starting_an_email_thread_with_participants(agent_client, tenant, ticket):
    response = agent_client.post(url(ticket, "side-conversations"), {
        "kind": "email", "subject": "Ask the courier", "body": "Where is parcel 1001?",
        "participants": "Ops@Courier.example; claims@courier.example,\nops@courier.example"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        side = SideConversation.objects.get()
        assert side.kind == SideConversationKind.EMAIL
        assert side.participants == ["ops@courier.example", "claims@courier.example"]
        assert side.messages.get().kind == MessageKind.PUBLIC


@pytest.mark.parametrize("data", [
    {"kind": "email", "subject": "Ask the courier", "body": "Hi", "participants": ""},
    {"kind": "email", "subject": "Ask the courier", "body": "Hi", "participants": "not-an-address"},
    {"kind": "internal", "subject": "Ask the courier", "body": "Hi", "participants": "ops@courier.example"},
    {"kind": "internal", "subject": "   ", "body": "Hi"},
    {"kind": "internal", "subject": "Ask the courier", "body": ""},
    {"kind": "fax", "subject": "Ask the courier", "body": "Hi"},
    {"subject": "Ask the courier", "body": "Hi"},
])
def test_bad_side_conversation_input_is_refused_and_the_draft_kept(agent_client, tenant, ticket, data):
    response = agent_client.post(url(ticket, "side-conversations"), data)
    assert response.status_code == 400
    assert response.context["notice"]
    body = response.content.decode()
    assert '<details class="side-conversation side-conversation-new" open>' in body
    if data.get("body"):
        assert f'id="side-new-body" rows="4" maxlength="50000">{data["body"]}</textarea>' in body
    with tenant_scope(tenant):
        assert not SideConversation.objects.exists()


def test_side_conversations_need_note_rights_and_an_open_ticket(light_client, analyst_client, agent_client, tenant,
                                                                ticket):
    data = {"kind": "internal", "subject": "Ask the warehouse", "body": "Shipped?"}
    assert analyst_client.post(url(ticket, "side-conversations"), data).status_code == 403
    assert light_client.post(url(ticket, "side-conversations"), data).status_code == 302  # notes are theirs
    close(tenant, ticket)
    assert agent_client.post(url(ticket, "side-conversations"), data).status_code == 409
    with tenant_scope(tenant):
        assert SideConversation.objects.count() == 1


@pytest.fixture
def side(tenant, agent, ticket) -> SideConversation:
    with tenant_scope(tenant):
        return side_conversation_create(ticket=ticket, actor=agent, via=Via.CONSOLE, kind=SideConversationKind.INTERNAL,
                                        subject="Ask the warehouse", body="Was parcel 1001 shipped?")


def test_replying_in_a_side_conversation(agent_client, light_client, tenant, ticket, side):
    response = agent_client.post(side_url(ticket, side, "reply"), {"body": "Any news?"})
    assert response.status_code == 302 and response["Location"] == url(ticket) + f"#side-{side.pk}"
    assert light_client.post(side_url(ticket, side, "reply"), {"body": "Warehouse says yes"}).status_code == 302
    with tenant_scope(tenant):
        assert list(side.messages.order_by("id").values_list("body_text", flat=True)) == [
            "Was parcel 1001 shipped?", "Any news?", "Warehouse says yes"]
    assert fresh(tenant, ticket).message_count == ticket.message_count


def test_an_empty_side_reply_is_refused(agent_client, tenant, ticket, side):
    response = agent_client.post(side_url(ticket, side, "reply"), {"body": "   "})
    assert response.status_code == 400 and response.context["notice"]
    assert f'<details class="side-conversation" id="side-{side.pk}" open>' in response.content.decode()
    with tenant_scope(tenant):
        assert side.messages.count() == 1


def test_closing_a_side_conversation(agent_client, tenant, ticket, side):
    response = agent_client.post(side_url(ticket, side, "close"))
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert not SideConversation.objects.get(pk=side.pk).is_open
        assert AuditEntry.objects.filter(action="ticket.side_conversation_closed", object_id=str(ticket.pk)).exists()
    page = agent_client.get(url(ticket)).content.decode()
    assert side_url(ticket, side, "reply") not in page and side_url(ticket, side, "close") not in page
    refused = agent_client.post(side_url(ticket, side, "reply"), {"body": "One more thing"})
    assert refused.status_code == 400
    with tenant_scope(tenant):
        assert side.messages.count() == 1


def test_a_side_conversation_of_another_ticket_or_tenant_is_not_found(agent_client, tenant, other_tenant, ticket,
                                                                       make_ticket):  # noqa: F811
    theirs = SideConversationFactory(tenant=tenant, ticket=make_ticket(subject="Other"))
    foreign = SideConversationFactory(tenant=other_tenant)
    for other in (theirs, foreign):
        for action, data in (("reply", {"body": "Hello"}), ("close", {})):
            response = agent_client.post(side_url(ticket, other, action), data)
            assert response.status_code == 404, (other, action)
            assert response.context["notice"]
    huge = f"/console/tickets/{ticket.number}/side-conversations/99999999999999999999/close/"
    assert agent_client.post(huge).status_code == 404
    with tenant_scope(tenant):
        assert SideConversation.objects.get(pk=theirs.pk).is_open
        assert not Message.objects.filter(side_conversation=theirs).exists()
    with tenant_scope(other_tenant):
        assert SideConversation.objects.get(pk=foreign.pk).is_open
        assert not Message.objects.filter(side_conversation=foreign).exists()


def test_side_conversation_actions_are_refused_by_role_and_on_closed_tickets(analyst_client, agent_client, tenant,
                                                                            ticket, side):
    assert analyst_client.post(side_url(ticket, side, "reply"), {"body": "Hi"}).status_code == 403
    assert analyst_client.post(side_url(ticket, side, "close")).status_code == 403
    close(tenant, ticket)
    assert agent_client.post(side_url(ticket, side, "reply"), {"body": "Hi"}).status_code == 409
    page = agent_client.get(url(ticket)).content.decode()
    assert side_url(ticket, side, "reply") not in page and side_url(ticket, side, "close") not in page
    with tenant_scope(tenant):
        assert side.messages.count() == 1 and SideConversation.objects.get(pk=side.pk).is_open


def test_another_tenants_agent_cannot_reach_side_conversations(other_agent, tenant, ticket, side):
    client = client_for(other_agent, host=OTHER_HOST)
    data = {"kind": "internal", "subject": "x", "body": "y"}
    assert client.post(url(ticket, "side-conversations"), data).status_code == 404
    assert client.post(side_url(ticket, side, "reply"), {"body": "Hi"}).status_code == 404
    assert client.post(side_url(ticket, side, "close")).status_code == 404
    with tenant_scope(tenant):
        assert SideConversation.objects.count() == 1 and side.messages.count() == 1
