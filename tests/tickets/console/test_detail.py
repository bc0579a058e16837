"""The ticket page: conversation, properties, requester card, attachments, isolation, queries."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import TeamFactory, agent_in
from tests.tickets.console.conftest import OTHER_HOST, client_for, make_ticket
from tests.tickets.factories import AttachmentFactory, MessageFactory, SlaTimerFactory, TicketFactory
from tests.queries import QueryCounter
from tickets.models import Message, MessageKind, Status

pytestmark = pytest.mark.django_db


def page(client, ticket, **params):
    return client.get(f"/console/tickets/{ticket.number}/", params)


def test_the_whole_conversation_with_notes_and_system_entries(agent_client, tenant, ticket, agent):
    team = TeamFactory(tenant=tenant, name="Returns desk")
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.SYSTEM, author_user=agent,
                   changes={"status": ["open", "pending"], "team": [None, team.name], "assignee": [None, agent.pk]})
    response = page(agent_client, ticket)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Parcel never arrived" in html
    assert html.count('class="entry entry-public') == 1 and html.count('class="entry entry-note') == 1
    assert "Internal note" in html
    system = re.search(r'<p class="entry-system">(.*?)</p>', html, re.S).group(1)
    assert "Status" in system and "<del>Open</del>" in system and "<ins>Pending</ins>" in system
    assert "Returns desk" in system
    assert agent.get_full_name() in system  # the assignee id became a name


def test_customer_html_is_cleaned_and_text_is_escaped(agent_client, tenant, ticket):
    MessageFactory(tenant=tenant, ticket=ticket, body_html='<p>Hi<script>alert(1)</script>'
                   '<img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a></p>')
    MessageFactory(tenant=tenant, ticket=ticket, body_html="", body_text="<b>not bold</b>\nline two")
    html = page(agent_client, ticket).content.decode()
    assert "<script>alert(1)" not in html and "onerror" not in html and "javascript:alert" not in html
    assert "&lt;b&gt;not bold&lt;/b&gt;<br>line two" in html


def test_attachments_are_download_links_served_with_nosniff(agent_client, tenant, ticket):
    with tenant_scope(tenant):
        message = ticket.messages.first()
    attachment = AttachmentFactory(tenant=tenant, ticket=ticket, message=message, filename="page.html",
                                   content_type="text/html",
                                   file__data=b"<script>alert(1)</script>", file__filename="page.html")
    html = page(agent_client, ticket).content.decode()
    link = f"/console/tickets/attachments/{attachment.token}/"
    assert f'href="{link}" download' in html
    response = agent_client.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"  # active content never renders
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_another_tenants_ticket_and_attachment_are_404(tenant, other_tenant, other_agent, ticket):
    attachment = AttachmentFactory(tenant=tenant, ticket=ticket)
    outsider = client_for(other_agent, OTHER_HOST)
    assert outsider.get(f"/console/tickets/{ticket.number}/").status_code == 404
    assert outsider.get(f"/console/tickets/{ticket.number}/messages/?after=0").status_code == 404
    assert outsider.get(f"/console/tickets/attachments/{attachment.token}/").status_code == 404
    for action in ("properties", "reply", "assign-to-me", "macro", "time", "follow"):
        response = outsider.post(f"/console/tickets/{ticket.number}/{action}/", {"body": "x", "kind": "note"})
        assert response.status_code == 404, action
    with tenant_scope(tenant):
        assert not Message.objects.filter(ticket=ticket, body_text="x").exists()


def test_the_same_number_in_two_tenants_opens_each_tenants_own(tenant, other_tenant, agent, other_agent):
    ours = TicketFactory(tenant=tenant, number=7, subject="Acme's seventh")
    TicketFactory(tenant=other_tenant, number=7, subject="Globex's seventh")
    html = page(client_for(agent), ours).content.decode()
    assert "Acme&#x27;s seventh" in html and "Globex" not in html
    html = client_for(other_agent, OTHER_HOST).get("/console/tickets/7/").content.decode()
    assert "Globex&#x27;s seventh" in html and "Acme&#x27;s" not in html


def test_unknown_numbers_are_404(agent_client, tenant):
    assert agent_client.get("/console/tickets/987654/").status_code == 404
    assert agent_client.get("/console/tickets/attachments/nope/").status_code == 404


def test_requester_card_shows_identities_and_other_tickets(agent_client, tenant, ticket, requester):
    older = make_ticket(tenant, requester=requester, subject="Earlier question about sizes")
    html = page(agent_client, ticket).content.decode()
    card = html[html.index('class="panel requester-card"'):]
    assert "Grace Hopper" in card and "grace@customer.example" in card
    assert f"#{older.number} Earlier question about sizes" in card
    assert f"#{ticket.number} Parcel" not in card  # not the ticket itself


def test_the_properties_panel_lists_the_tenants_choices_only(agent_client, tenant, other_tenant, ticket):
    TeamFactory(tenant=tenant, name="Billing")
    TeamFactory(tenant=other_tenant, name="Globex hidden team")
    agent_in(other_tenant, role=Role.AGENT, email="stranger@globex.test")
    html = page(agent_client, ticket).content.decode()
    assert 'id="properties-form"' in html
    assert "Billing" in html and "Globex hidden team" not in html and "stranger@globex.test" not in html


def test_the_page_costs_the_same_number_of_queries_for_5_or_50_entries(agent_client, tenant, agent, ticket):
    def add(count, cycle):
        for index in range(count):
            message = MessageFactory(tenant=tenant, ticket=ticket, author_user=agent,
                                     kind=[MessageKind.PUBLIC, MessageKind.NOTE, MessageKind.SYSTEM][index % 3],
                                     changes={"status": ["open", "pending"], "assignee": [None, agent.pk]}
                                     if index % 3 == 2 else {})
            if index % 4 == 0:
                AttachmentFactory(tenant=tenant, ticket=ticket, message=message)
        SlaTimerFactory(tenant=tenant, ticket=ticket, cycle=cycle, due_at=timezone.now() + dt.timedelta(hours=cycle))

    add(3, 1)
    page(agent_client, ticket)
    with QueryCounter(connection) as small:
        assert page(agent_client, ticket).status_code == 200
    add(45, 2)
    with QueryCounter(connection) as large:
        response = page(agent_client, ticket)
    assert response.content.decode().count('class="entry entry-') == 50
    assert len(large.captured_queries) == len(small.captured_queries)


def test_long_conversations_show_the_latest_entries_with_a_way_to_all(agent_client, tenant, ticket, settings):
    from tickets.views import queries

    original = queries.MAX_MESSAGES
    queries.MAX_MESSAGES = 5
    try:
        for index in range(6):
            MessageFactory(tenant=tenant, ticket=ticket, body_text=f"later entry {index}")
        html = page(agent_client, ticket).content.decode()
        assert html.count('class="entry entry-') == 5
        assert "later entry 5" in html and "Entry 0 about" not in html
        assert 'href="?all=1"' in html
        everything = page(agent_client, ticket, all="1").content.decode()
        assert everything.count('class="entry entry-') == 8
    finally:
        queries.MAX_MESSAGES = original


def test_new_entries_fragment_after_an_id(agent_client, tenant, ticket):
    with tenant_scope(tenant):
        last = ticket.messages.order_by("-id").first()
    newer = MessageFactory(tenant=tenant, ticket=ticket, body_text="A brand new reply")
    response = agent_client.get(f"/console/tickets/{ticket.number}/messages/", {"after": last.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "A brand new reply" in body and f'id="message-{newer.pk}"' in body and "entry-new" in body
    assert "Entry 0 about" not in body
    assert response["X-Last-Message-Id"] == str(newer.pk)
    assert response["X-Ticket-Version"] == str(ticket.version)
    for bad in ("", "abc", "-1", "9" * 30):
        assert agent_client.get(f"/console/tickets/{ticket.number}/messages/", {"after": bad}).status_code == 400


def test_light_agents_get_a_note_box_and_a_read_only_panel(light_client, ticket):
    html = page(light_client, ticket).content.decode()
    assert 'name="kind" value="note"' in html
    assert 'name="kind" value="public"' not in html
    assert 'id="properties-form"' not in html and 'id="macro-form"' not in html
    assert 'id="assign-form"' not in html


def test_agents_get_the_reply_choice_macros_and_shortcuts(agent_client, tenant, ticket):
    from tests.tickets.factories import MacroFactory

    MacroFactory(tenant=tenant, name="Ask for the order number")
    html = page(agent_client, ticket).content.decode()
    assert 'name="kind" value="public"' in html and 'name="kind" value="note"' in html
    assert "Ask for the order number" in html
    assert f'value="{ticket.version}"' in html and 'name="expected_version"' in html
    assert 'id="shortcuts-dialog"' in html and f'data-ws-path="/ws/tickets/{ticket.pk}/"' in html


def test_closed_tickets_are_read_only(agent_client, tenant):
    closed = make_ticket(tenant, status=Status.CLOSED)
    html = page(agent_client, closed).content.decode()
    assert "closed and read-only" in html
    assert 'id="reply-form"' not in html and 'id="properties-form"' not in html


def test_merged_tickets_point_to_the_survivor(agent_client, tenant):
    survivor = make_ticket(tenant, subject="Survivor")
    merged = make_ticket(tenant, merged_into=survivor)
    html = page(agent_client, merged).content.decode()
    assert f'href="/console/tickets/{survivor.number}/">#{survivor.number}</a>' in html


def test_absurd_numbers_are_404_not_500(agent_client, tenant):
    for number in ("99999999999999999999999", "9223372036854775808"):
        assert agent_client.get(f"/console/tickets/{number}/").status_code == 404
        assert agent_client.post(f"/console/tickets/{number}/reply/", {"body": "x"}).status_code == 404


def test_side_conversations_links_and_ccs_are_shown(agent_client, tenant, ticket):
    from tests.factories import ContactFactory
    from tests.tickets.factories import SideConversationFactory, TicketCCFactory, TicketLinkFactory

    side = SideConversationFactory(tenant=tenant, ticket=ticket, subject="Ask the warehouse")
    MessageFactory(tenant=tenant, ticket=ticket, side_conversation=side, kind=MessageKind.NOTE,
                   body_text="Is parcel 77 still on the shelf?")
    related = make_ticket(tenant, subject="Same courier, same week")
    TicketLinkFactory(tenant=tenant, source=ticket, target=related)
    TicketCCFactory(tenant=tenant, ticket=ticket, contact=ContactFactory(tenant=tenant, name="Copied Colleague"))
    html = page(agent_client, ticket).content.decode()
    main = html[html.index('id="entries"'):html.index('class="panel side-conversations"')]
    assert "Is parcel 77" not in main  # side threads are kept apart from the conversation
    assert "Ask the warehouse" in html and "Is parcel 77 still on the shelf?" in html
    assert f"#{related.number} Same courier, same week" in html
    assert "Copied Colleague" in html


def test_the_pages_speak_turkish(tenant, agent, ticket):
    agent.locale = "tr"
    agent.save()
    client = client_for(agent)
    html = page(client, ticket).content.decode()
    assert 'lang="tr"' in html
    assert "Herkese açık yanıt" in html and "İç not" in html and "Talep sahibi" in html
    listing = client.get("/console/tickets/").content.decode()
    assert "Tüm talepler" in listing and "Görünümler" in listing
