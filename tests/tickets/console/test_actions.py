"""What agents do on the ticket page: properties, replies and notes, the stale-reply guard,
assignment, macros, time, following. Every write goes through the tickets services."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import TeamFactory, agent_in
from tests.tickets.console.conftest import make_ticket
from tests.tickets.factories import CustomFieldFactory, MacroFactory
from tickets.models import CustomFieldKind, Message, MessageKind, Status, Ticket, TicketFollower, TimeEntry, Via
from tickets.services import message_add, ticket_update

pytestmark = pytest.mark.django_db


def url(ticket, action=""):
    return f"/console/tickets/{ticket.number}/" + (f"{action}/" if action else "")


def fresh(tenant, ticket) -> Ticket:
    with tenant_scope(tenant):
        return Ticket.objects.get(pk=ticket.pk)


def messages_of(tenant, ticket, kind=None) -> list[Message]:
    with tenant_scope(tenant):
        qs = Message.objects.filter(ticket_id=ticket.pk).order_by("id")
        return list(qs.filter(kind=kind) if kind else qs)


def properties(ticket, **changes) -> dict:
    data = {"expected_version": ticket.version, "status": ticket.status if ticket.status != "new" else "new",
            "priority": ticket.priority, "type": ticket.type, "assignee": ticket.assignee_id or "",
            "team": ticket.team_id or "", "tags": "", "contact_reason": ""}
    data.update(changes)
    return data


# --- properties -------------------------------------------------------------------------------


def test_saving_properties_changes_only_what_differs(agent_client, tenant, agent, ticket):
    team = TeamFactory(tenant=tenant, name="Returns")
    response = agent_client.post(url(ticket, "properties"), properties(
        ticket, status="pending", priority="high", assignee=agent.pk, team=team.pk, tags="refund, VIP"))
    assert response.status_code == 302 and response["Location"] == url(ticket)
    after = fresh(tenant, ticket)
    assert (after.status, after.priority, after.assignee_id, after.team_id) == ("pending", "high", agent.pk, team.pk)
    with tenant_scope(tenant):
        assert sorted(t.name for t in after.tags.all()) == ["refund", "vip"]
    entry = messages_of(tenant, ticket, MessageKind.SYSTEM)[-1]
    assert entry.author_user_id == agent.pk
    assert set(entry.changes) >= {"status", "priority", "assignee", "team", "tags"}
    assert "type" not in entry.changes


def test_unchanged_properties_write_nothing(agent_client, tenant, ticket):
    response = agent_client.post(url(ticket, "properties"), properties(ticket))
    assert response.status_code == 302
    assert fresh(tenant, ticket).version == ticket.version
    assert messages_of(tenant, ticket, MessageKind.SYSTEM) == []


def test_custom_fields_are_typed_and_validated_by_the_service(agent_client, tenant, ticket):
    CustomFieldFactory(tenant=tenant, key="order_no", label="Order number", kind=CustomFieldKind.NUMBER)
    CustomFieldFactory(tenant=tenant, key="reason", label="Reason", kind=CustomFieldKind.DROPDOWN,
                       options=[{"value": "late", "label": "Late"}, {"value": "broken", "label": "Broken"}])
    ok = agent_client.post(url(ticket, "properties"), properties(ticket, cf_order_no="1042", cf_reason="late"))
    assert ok.status_code == 302
    assert fresh(tenant, ticket).custom_fields == {"order_no": 1042, "reason": "late"}
    bad = agent_client.post(url(ticket, "properties"), properties(fresh(tenant, ticket), cf_reason="lost"))
    assert bad.status_code == 400
    assert fresh(tenant, ticket).custom_fields == {"order_no": 1042, "reason": "late"}


@pytest.mark.parametrize("changes", [
    {"status": "closed"}, {"priority": "extreme"}, {"assignee": "999999"}, {"team": "x"},
    {"expected_version": "abc"}, {"tags": "x" * 81},
])
def test_bad_properties_are_a_400(agent_client, tenant, ticket, changes):
    response = agent_client.post(url(ticket, "properties"), properties(ticket, **changes))
    assert response.status_code == 400
    assert fresh(tenant, ticket).version == ticket.version


def test_a_new_ticket_cannot_be_set_back_to_new_once_opened(agent_client, tenant):
    opened = make_ticket(tenant, status=Status.OPEN)
    assert agent_client.post(url(opened, "properties"), properties(opened, status="new")).status_code == 400


def test_properties_saved_against_an_old_version_are_stopped(agent_client, tenant, agent, ticket):
    stale_version = ticket.version
    with tenant_scope(tenant):
        ticket_update(ticket=fresh(tenant, ticket), actor=agent, via=Via.CONSOLE, priority="urgent")
    response = agent_client.post(url(ticket, "properties"), properties(ticket, status="pending",
                                                                       expected_version=stale_version))
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed while you were working on it" in html
    assert f'name="expected_version" value="{fresh(tenant, ticket).version}"' in html
    assert fresh(tenant, ticket).status == ticket.status


def test_light_agents_cannot_change_properties(light_client, tenant, ticket):
    response = light_client.post(url(ticket, "properties"), properties(ticket, status="pending"))
    assert response.status_code == 403
    assert fresh(tenant, ticket).status == ticket.status


def test_closed_tickets_refuse_changes(agent_client, tenant):
    closed = make_ticket(tenant, status=Status.CLOSED)
    response = agent_client.post(url(closed, "properties"), properties(closed, status="open"))
    assert response.status_code == 409
    assert fresh(tenant, closed).status == Status.CLOSED
    reply = agent_client.post(url(closed, "reply"), {"body": "Hello", "kind": "public",
                                                     "expected_version": closed.version})
    assert reply.status_code == 409
    assert messages_of(tenant, closed) == []


# --- replies and notes ---------------------------------------------------------------------------


def test_a_public_reply_is_added_and_can_set_the_status(agent_client, tenant, agent, ticket):
    response = agent_client.post(url(ticket, "reply"), {
        "body": "We sent a new parcel.", "kind": "public", "status": "pending",
        "expected_version": ticket.version, "attachments": [SimpleUploadedFile("label.pdf", b"%PDF-1.4 label",
                                                                               content_type="application/pdf")]})
    assert response.status_code == 302
    reply = messages_of(tenant, ticket, MessageKind.PUBLIC)[-1]
    assert reply.body_text == "We sent a new parcel." and reply.author_user_id == agent.pk
    assert response["Location"] == url(ticket) + f"#message-{reply.pk}"
    with tenant_scope(tenant):
        assert [a.filename for a in reply.attachments.all()] == ["label.pdf"]
    after = fresh(tenant, ticket)
    assert after.status == Status.PENDING and after.public_agent_reply_count == 1


def test_an_internal_note(agent_client, tenant, ticket):
    response = agent_client.post(url(ticket, "reply"), {"body": "Check the courier", "kind": "note",
                                                        "expected_version": ticket.version})
    assert response.status_code == 302
    assert messages_of(tenant, ticket, MessageKind.NOTE)[-1].body_text == "Check the courier"
    assert fresh(tenant, ticket).public_agent_reply_count == 0


def test_light_agents_cannot_send_public_replies(light_client, tenant, ticket):
    before = len(messages_of(tenant, ticket))
    response = light_client.post(url(ticket, "reply"), {"body": "Hello customer", "kind": "public",
                                                        "expected_version": ticket.version})
    assert response.status_code == 403
    assert len(messages_of(tenant, ticket)) == before
    note = light_client.post(url(ticket, "reply"), {"body": "FYI", "kind": "note",
                                                    "expected_version": ticket.version})
    assert note.status_code == 302
    assert messages_of(tenant, ticket, MessageKind.NOTE)[-1].body_text == "FYI"


@pytest.mark.parametrize("data", [
    {"body": "   ", "kind": "public"}, {"body": "Hi", "kind": "shout"}, {"body": "Hi", "kind": "public",
                                                                           "expected_version": "x"},
    {"body": "Hi", "kind": "public", "status": "closed"}, {"body": "x" * 50_001, "kind": "note"},
])
def test_bad_replies_are_a_400(agent_client, tenant, ticket, data):
    data.setdefault("expected_version", ticket.version)
    before = len(messages_of(tenant, ticket))
    response = agent_client.post(url(ticket, "reply"), data)
    assert response.status_code == 400
    assert len(messages_of(tenant, ticket)) == before


def test_the_stale_reply_guard_keeps_the_draft_and_shows_what_is_new(agent_client, tenant, agent, ticket):
    seen_version = ticket.version
    with tenant_scope(tenant):
        customer = message_add(ticket=fresh(tenant, ticket), actor=None, via=Via.CUSTOMER,
                               body="Actually, it arrived damaged.", public=True, author_contact=ticket.requester)
    response = agent_client.post(url(ticket, "reply"), {"body": "Glad it arrived!", "kind": "public",
                                                        "expected_version": seen_version})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Glad it arrived!" in html  # the draft is still in the box
    assert "Actually, it arrived damaged." in html
    assert f'id="message-{customer.pk}"' in html and "entry-new" in html
    current = fresh(tenant, ticket).version
    assert f'name="expected_version" value="{current}"' in html
    assert not any(m.body_text == "Glad it arrived!" for m in messages_of(tenant, ticket))
    again = agent_client.post(url(ticket, "reply"), {"body": "Sorry about that!", "kind": "public",
                                                     "expected_version": current})
    assert again.status_code == 302


# --- assignment, macros ---------------------------------------------------------------------------


def test_assign_to_me(agent_client, tenant, agent, ticket):
    response = agent_client.post(url(ticket, "assign-to-me"))
    assert response.status_code == 302
    assert fresh(tenant, ticket).assignee_id == agent.pk
    assert agent_client.post(url(ticket, "assign-to-me")).status_code == 302  # already: nothing to do
    assert fresh(tenant, ticket).version == ticket.version + 1


def test_light_agents_cannot_assign(light_client, tenant, ticket):
    assert light_client.post(url(ticket, "assign-to-me")).status_code == 403
    assert fresh(tenant, ticket).assignee_id is None


@pytest.fixture
def macro(tenant):
    return MacroFactory(tenant=tenant, name="Ask for the order number",
                        actions=[{"field": "status", "value": "pending"}, {"field": "add_tags", "value": ["asked"]}],
                        reply={"en": "Hi {{ requester.first_name }}, what is the order number of #{{ ticket.number }}?"})


def test_a_macro_applied_from_the_page_script_answers_json(agent_client, tenant, agent, ticket, macro):
    response = agent_client.post(url(ticket, "macro"), {"macro": macro.pk, "expected_version": ticket.version},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["reply"] == f"Hi Grace, what is the order number of #{ticket.number}?"
    assert data["public"] is True and data["changed"] is True
    after = fresh(tenant, ticket)
    assert data["version"] == after.version and after.status == Status.PENDING
    assert 'id="properties"' in data["properties_html"] and 'value="pending" selected' in data["properties_html"]
    with tenant_scope(tenant):
        assert [t.name for t in after.tags.all()] == ["asked"]
    # The reply is not sent: the agent reviews it in the box.
    assert not messages_of(tenant, ticket, MessageKind.PUBLIC)[-1].body_text.startswith("Hi Grace")


def test_a_macro_without_the_script_leaves_its_reply_as_a_draft(agent_client, tenant, ticket, macro):
    response = agent_client.post(url(ticket, "macro"), {"macro": macro.pk})
    assert response.status_code == 302 and response["Location"].endswith("#reply")
    html = agent_client.get(url(ticket)).content.decode()
    assert f"Hi Grace, what is the order number of #{ticket.number}?</textarea>" in html
    html = agent_client.get(url(ticket)).content.decode()
    assert "Hi Grace, what is the order number" not in html  # used once


def test_macros_of_someone_else_or_another_tenant_are_404(agent_client, tenant, other_tenant, ticket):
    colleague = agent_in(tenant, role=Role.AGENT, email="colleague@acme.test")
    private = MacroFactory(tenant=tenant, owner=colleague)
    foreign = MacroFactory(tenant=other_tenant)
    for macro in (private, foreign):
        response = agent_client.post(url(ticket, "macro"), {"macro": macro.pk}, HTTP_ACCEPT="application/json")
        assert response.status_code == 404
    assert agent_client.post(url(ticket, "macro"), {"macro": "x"}).status_code == 400
    assert fresh(tenant, ticket).version == ticket.version


def test_a_macro_on_a_changed_ticket_is_stopped(agent_client, tenant, agent, ticket, macro):
    with tenant_scope(tenant):
        ticket_update(ticket=fresh(tenant, ticket), actor=agent, via=Via.CONSOLE, priority="urgent")
    response = agent_client.post(url(ticket, "macro"), {"macro": macro.pk, "expected_version": ticket.version},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert fresh(tenant, ticket).status == ticket.status


# --- time and following ---------------------------------------------------------------------------


def test_measured_time_is_logged(agent_client, tenant, agent, ticket):
    response = agent_client.post(url(ticket, "time"), {"source": "auto", "seconds": "61"})
    assert response.status_code == 204
    with tenant_scope(tenant):
        entry = TimeEntry.objects.get(ticket_id=ticket.pk)
    assert (entry.seconds, entry.source, entry.user_id) == (61, "auto", agent.pk)
    assert fresh(tenant, ticket).handle_seconds == 61


def test_manual_time_is_logged(agent_client, tenant, ticket):
    response = agent_client.post(url(ticket, "time"), {"source": "manual", "minutes": "15", "note": "Called them"})
    assert response.status_code == 302
    assert fresh(tenant, ticket).handle_seconds == 900
    assert "Called them" in agent_client.get(url(ticket)).content.decode()


@pytest.mark.parametrize("data", [
    {"source": "auto", "seconds": "0"}, {"source": "auto", "seconds": "3601"}, {"source": "auto"},
    {"source": "manual", "minutes": "-5"}, {"source": "robot", "seconds": "5"}, {"source": "manual"},
])
def test_bad_time_entries_are_a_400(agent_client, tenant, ticket, data):
    assert agent_client.post(url(ticket, "time"), data).status_code == 400
    assert fresh(tenant, ticket).handle_seconds == 0


def test_follow_and_unfollow(agent_client, tenant, agent, ticket):
    assert agent_client.post(url(ticket, "follow"), {"action": "follow"}).status_code == 302
    with tenant_scope(tenant):
        assert TicketFollower.objects.filter(ticket_id=ticket.pk, user=agent).exists()
    assert "Stop following" in agent_client.get(url(ticket)).content.decode()
    assert agent_client.post(url(ticket, "follow"), {"action": "unfollow"}).status_code == 302
    with tenant_scope(tenant):
        assert not TicketFollower.objects.filter(ticket_id=ticket.pk).exists()
    assert agent_client.post(url(ticket, "follow"), {"action": "jump"}).status_code == 400


def test_actions_need_post(agent_client, ticket):
    for action in ("properties", "reply", "assign-to-me", "macro", "time", "follow"):
        assert agent_client.get(url(ticket, action)).status_code == 405
