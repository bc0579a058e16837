"""The ticket page's delivery panels as fragments (``/console/channels/tickets/<number>/…``):
what each state looks like, who may fetch them, no caching, a fixed number of queries, and
the live containers on the ticket page."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from channels_hub.models import OutboundStatus
from helpdesk.tenancy.roles import Role
from tests.channels_hub.factories import (
    ConnectorChannelFactory,
    ConnectorConversationFactory,
    ConnectorDeliveryFactory,
    OutboundEmailFactory,
)
from tests.factories import agent_in
from tests.tickets.console.conftest import OTHER_HOST, client_for
from tests.tickets.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

SIGNING_SECRET = "whsec-never-in-a-panel"


def email_url(ticket) -> str:
    return f"/console/channels/tickets/{ticket.number}/email/"


def connector_url(ticket) -> str:
    return f"/console/channels/tickets/{ticket.number}/connector/"


@pytest.fixture
def ticket(tenant):
    return TicketFactory(tenant=tenant, number=501, subject="Where is my refund?")


@pytest.fixture
def conversation(tenant, ticket):
    channel = ConnectorChannelFactory(tenant=tenant, name="Bridge", provider="whatsapp",
                                      signing_secret=SIGNING_SECRET)
    return ConnectorConversationFactory(tenant=tenant, channel=channel, ticket=ticket, conversation_id="905321234567",
                                        is_public=True, public_url="https://social.example/p/7")


def mail(tenant, ticket, **fields):
    return OutboundEmailFactory(tenant=tenant, ticket=ticket, ticket_message=MessageFactory(tenant=tenant, ticket=ticket),
                                **fields)


def delivery(tenant, conversation, **fields):
    return ConnectorDeliveryFactory(tenant=tenant, conversation=conversation, **fields)


def item(html: str, panel: str, row) -> str:
    """The list item of ``row`` in a panel, its whitespace folded."""
    start = html.index(f'id="{panel}-delivery-{row.pk}"')
    return " ".join(html[start:html.index("</li>", start)].split())


def test_the_email_panel_shows_each_state_with_its_reason(tenant, agent, ticket):
    queued = mail(tenant, ticket, kind="acknowledgement")
    retrying = mail(tenant, ticket, attempts=2, last_error="451 4.3.0 try again later")
    sent = mail(tenant, ticket, status=OutboundStatus.SENT, attempts=1, to=["jane@example.org"],
                cc=["boss@example.org"])
    failed = mail(tenant, ticket, status=OutboundStatus.FAILED, attempts=1,
                  last_error="550 5.1.1 mailbox <jane@example.org> unavailable")
    bounced = mail(tenant, ticket, status=OutboundStatus.BOUNCED, attempts=1, last_error="5.1.1 smtp; 550 no such user")
    response = client_for(agent).get(email_url(ticket))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "<html" not in html and 'id="email-deliveries"' in html  # the panel alone
    for row, label in ((queued, "Queued"), (retrying, "Queued"), (sent, "Sent"), (failed, "Failed"),
                       (bounced, "Bounced")):
        assert f">{label}</span>" in item(html, "email", row)
        assert f'href="#message-{row.ticket_message_id}"' in item(html, "email", row)
    assert "Acknowledgement" in item(html, "email", queued) and "retrying" not in item(html, "email", queued)
    assert "retrying after 2 attempts: 451 4.3.0 try again later" in item(html, "email", retrying)
    assert "to jane@example.org (cc boss@example.org)" in item(html, "email", sent)
    assert "mailbox &lt;jane@example.org&gt; unavailable" in item(html, "email", failed)  # escaped
    assert "550 no such user" in item(html, "email", bounced)


def test_the_connector_panel_shows_where_replies_go_and_each_delivery(tenant, agent, ticket, conversation):
    sent = delivery(tenant, conversation, status=OutboundStatus.SENT, attempts=1)
    failed = delivery(tenant, conversation, status=OutboundStatus.FAILED, attempts=1,
                      last_error="HTTP 403: account <suspended>")
    retrying = delivery(tenant, conversation, attempts=3, last_error="HTTP 503")
    with CaptureQueriesContext(connection) as queries:
        response = client_for(agent).get(connector_url(ticket))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "Replies go to whatsapp (905321234567)" in html
    assert "Public post: your reply will be public." in html and "https://social.example/p/7" in html
    for row, label in ((sent, "Sent"), (failed, "Failed"), (retrying, "Queued")):
        assert f">{label}</span>" in item(html, "connector", row)
        assert f'href="#message-{row.ticket_message_id}"' in item(html, "connector", row)
    assert "HTTP 403: account &lt;suspended&gt;" in item(html, "connector", failed)
    assert "retrying after 3 attempts: HTTP 503" in item(html, "connector", retrying)
    # The bridge's signing secret is neither shown nor read.
    assert SIGNING_SECRET not in html
    assert not [q["sql"] for q in queries.captured_queries if "signing_secret" in q["sql"]]


def test_panels_of_a_ticket_without_deliveries_are_empty(agent, ticket):
    client = client_for(agent)
    for url in (email_url(ticket), connector_url(ticket)):
        response = client.get(url)
        assert response.status_code == 200 and response.content.decode().strip() == ""


def test_another_tenants_ticket_and_an_unknown_number_are_404(tenant, other_tenant, other_agent, agent, ticket,
                                                             conversation):
    mail(tenant, ticket, status=OutboundStatus.FAILED, last_error="secret reason of acme")
    delivery(tenant, conversation, status=OutboundStatus.FAILED, last_error="secret reason of acme")
    outsider = client_for(other_agent, OTHER_HOST)
    for url in (email_url(ticket), connector_url(ticket)):
        response = outsider.get(url)
        assert response.status_code == 404 and b"secret reason" not in response.content
        assert client_for(agent).get(url.replace(str(ticket.number), "999999")).status_code == 404
    # Globex's own ticket with the same number shows Globex's (empty) panels, none of Acme's rows.
    TicketFactory(tenant=other_tenant, number=ticket.number)
    for url in (email_url(ticket), connector_url(ticket)):
        response = outsider.get(url)
        assert response.status_code == 200 and b"secret reason" not in response.content


def test_the_panels_need_what_the_ticket_page_needs(tenant, ticket, conversation):
    mail(tenant, ticket, status=OutboundStatus.FAILED, last_error="secret reason")
    analyst = client_for(agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test"))
    light = client_for(agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test"))
    signed_out = Client(HTTP_HOST="acme.localhost")
    for url in (email_url(ticket), connector_url(ticket)):
        refused = analyst.get(url)
        assert refused.status_code == analyst.get(f"/console/tickets/{ticket.number}/").status_code == 403
        assert b"secret reason" not in refused.content
        assert light.get(url).status_code == 200  # light agents see tickets
        response = signed_out.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


# The tenant (by host), the session, the user, the membership, the ticket; then the panel's
# own: the mails (one), or the conversation with its channel's shown columns and the
# deliveries (two).
PANEL_QUERIES = {"email_url": 6, "connector_url": 7}


@pytest.mark.parametrize("url", [email_url, connector_url], ids=["email", "connector"])
def test_a_panel_costs_the_same_queries_however_many_deliveries(url, tenant, agent, ticket, conversation,
                                                                django_assert_num_queries):
    def add(n):
        for _ in range(n):
            mail(tenant, ticket, status=OutboundStatus.FAILED, attempts=1, last_error="550")
            delivery(tenant, conversation, status=OutboundStatus.SENT, attempts=1)

    client = client_for(agent)
    add(1)
    client.get(url(ticket))  # the session's first use of the tenant is behind us
    with django_assert_num_queries(PANEL_QUERIES[url.__name__]):
        assert client.get(url(ticket)).content.count(b"data-delivery-id=") == 1
    add(7)
    with django_assert_num_queries(PANEL_QUERIES[url.__name__]):
        assert client.get(url(ticket)).content.count(b"data-delivery-id=") == 8


def test_the_ticket_page_always_has_the_live_containers(tenant, agent, ticket):
    html = client_for(agent).get(f"/console/tickets/{ticket.number}/").content.decode()
    for key, url, event in (("email", email_url(ticket), "email.delivery_changed"),
                            ("connector", connector_url(ticket), "connector.delivery_changed")):
        start = html.index(f'id="{key}-panel-live"')
        tag = html[html.rindex("<div", 0, start):html.index(">", start)]
        assert f'data-panel-url="{url}"' in tag and f'data-panel-event="{event}"' in tag
        assert 'aria-live="polite"' in tag and "data-live-panel" in tag


def test_the_panel_speaks_turkish_with_a_noun_for_a_reply(tenant, agent, ticket):
    agent.locale = "tr"
    agent.save()
    mail(tenant, ticket, kind="reply", status=OutboundStatus.SENT, attempts=1, to=["jane@example.org"])
    html = " ".join(client_for(agent).get(email_url(ticket)).content.decode().split())
    assert ">Yanıt</a>" in html and ">Yanıtla<" not in html  # a reply (the mail), not "reply!" (the button)
    assert ">Gönderildi</span>" in html and "alıcı: jane@example.org" in html
    assert "yeni değer" not in html
    page = client_for(agent).get(f"/console/tickets/{ticket.number}/").content.decode()
    assert "Yanıtla" in page  # the reply box's heading keeps its verb
