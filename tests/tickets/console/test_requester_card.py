"""The requester card on the ticket page, its lazily loaded integration panel, and the
integration settings pages."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk.audit.models import AuditEntry
from helpdesk.people.models import CustomerDataIntegration, IdentityKind
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.core.people.shop import SECRET, shop  # noqa: F401 - the fixture
from tests.factories import ContactFactory, ContactIdentityFactory, CustomerDataIntegrationFactory, \
    OrganizationFactory, agent_in
from tests.queries import QueryCounter
from tests.tickets.console.conftest import OTHER_HOST, client_for, make_ticket
from tickets.models import Channel, Status

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def page(client, ticket):
    return client.get(f"/console/tickets/{ticket.number}/")


def card_of(response) -> str:
    html = response.content.decode()
    start = html.index('class="panel requester-card"')
    return html[start:html.index("</section>\n", html.index('id="requester-heading"'))]


# --- the card -------------------------------------------------------------------------------


def test_the_card_shows_identities_organization_and_attributes(agent_client, tenant, ticket, requester):
    org = OrganizationFactory(tenant=tenant, name="Analytical Engines")
    with tenant_scope(tenant):
        type(requester).objects.filter(pk=requester.pk).update(
            organization=org, attributes={"plan": "Gold", "vip": True, "seats": 12, "tags": ["a", "b"],
                                          "notes": HOSTILE, "empty": ""})
    ContactIdentityFactory(tenant=tenant, contact=requester, kind=IdentityKind.SOCIAL, provider="whatsapp",
                           value="905551112233")
    ContactIdentityFactory(tenant=tenant, contact=requester, kind=IdentityKind.EMAIL, value="old@customer.example",
                           undeliverable_at=timezone.now(), undeliverable_reason="550 mailbox unknown")
    card = card_of(page(agent_client, ticket))
    assert "grace@customer.example" in card
    assert "Social handle · whatsapp" in card and "905551112233" in card
    undeliverable = re.search(r'<li class="identity identity-email identity-undeliverable">(.*?)</li>', card, re.S)
    assert undeliverable and "old@customer.example" in undeliverable.group(1)
    assert "undeliverable" in undeliverable.group(1) and "550 mailbox unknown" in undeliverable.group(1)
    assert "Analytical Engines" in card
    assert "<dt>plan</dt><dd>Gold</dd>" in card and "<dt>vip</dt><dd>Yes</dd>" in card
    assert "<dt>seats</dt><dd>12</dd>" in card and "<dt>tags</dt><dd>a, b</dd>" in card
    assert "<dt>empty</dt>" not in card
    assert "<script>" not in card and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in card
    assert "<img" not in card


def test_the_card_lists_open_and_recent_tickets_on_every_channel(agent_client, tenant, ticket, requester):
    chat = make_ticket(tenant, requester=requester, subject="Chat about sizes", channel=Channel.CHAT,
                       status=Status.OPEN)
    call = make_ticket(tenant, requester=requester, subject="Phoned about refund", channel=Channel.PHONE,
                       status=Status.PENDING)
    solved = make_ticket(tenant, requester=requester, subject="Old email question", channel=Channel.EMAIL,
                         status=Status.SOLVED)
    someone_else = make_ticket(tenant, subject="Not Grace's")
    card = card_of(page(agent_client, ticket))
    open_list = card[card.index('class="plain-list card-tickets open-tickets"'):card.index("</ul>",
                                                                                        card.index("open-tickets"))]
    assert f'href="/console/tickets/{chat.number}/">#{chat.number} Chat about sizes</a>' in open_list
    assert f"#{call.number} Phoned about refund" in open_list
    assert "channel-chat" in open_list and "channel-phone" in open_list
    assert '<span class="visually-hidden">Chat:</span>' in open_list
    assert '<span class="visually-hidden">Phone:</span>' in open_list
    assert "status-pending" in open_list
    recent = card[card.index("recent-tickets"):]
    assert f"#{solved.number} Old email question" in recent and "Solved" in recent
    assert f"#{solved.number}" not in open_list
    assert f"#{ticket.number} " not in card and f"#{someone_else.number} " not in card


def test_the_card_costs_the_same_queries_however_long_the_history(agent_client, tenant, ticket, requester):
    CustomerDataIntegrationFactory(tenant=tenant)

    def grow(count, offset):
        for index in range(count):
            make_ticket(tenant, requester=requester, subject=f"Earlier {offset + index}",
                        channel=list(Channel)[index % len(Channel)],
                        status=[Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED][index % 4])
            ContactIdentityFactory(tenant=tenant, contact=requester,
                                   kind=IdentityKind.PHONE if index % 2 else IdentityKind.EMAIL,
                                   value=f"+90555000{offset + index:04d}" if index % 2
                                   else f"g{offset + index}@customer.example")
        with tenant_scope(tenant):
            type(requester).objects.filter(pk=requester.pk).update(
                attributes={f"attr{i}": i for i in range(offset + count)})

    grow(2, 0)
    page(agent_client, ticket)
    with QueryCounter(connection) as small:
        assert page(agent_client, ticket).status_code == 200
    grow(40, 100)
    with QueryCounter(connection) as large:
        response = page(agent_client, ticket)
    card = card_of(response)
    assert card.count('class="card-ticket"') == 15  # 10 open + 5 recent at most
    assert card.count('class="identity ') == 43
    assert len(large.captured_queries) == len(small.captured_queries), "\n".join(
        q["sql"] for q in large.captured_queries)


def test_the_panel_placeholder_shows_only_with_an_active_integration(agent_client, tenant, ticket, requester):
    assert 'id="integration-panel"' not in page(agent_client, ticket).content.decode()
    CustomerDataIntegrationFactory(tenant=tenant, is_active=False)
    assert 'id="integration-panel"' not in page(agent_client, ticket).content.decode()
    CustomerDataIntegrationFactory(tenant=tenant)
    html = page(agent_client, ticket).content.decode()
    url = f"/console/contacts/{requester.pk}/integrations/"
    assert f'data-integrations-url="{url}?partial=1"' in html
    assert f'<a href="{url}" data-integrations-link>' in html  # works without JavaScript
    assert "console/integrations.js" in html


def test_the_ticket_page_never_calls_the_integration(agent_client, tenant, ticket, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET)
    shop.answer(200, b"{}", delay=3)
    assert page(agent_client, ticket).status_code == 200
    assert shop.hits == 0


# --- the panel fragment -----------------------------------------------------------------------


def panel(client, contact, partial=True):
    return client.get(f"/console/contacts/{contact.pk}/integrations/", {"partial": "1"} if partial else {})


def test_the_panel_renders_the_answer_escaped(agent_client, tenant, requester, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, name="Shop")
    shop.answer_json({"title": HOSTILE, "sections": [
        {"title": "Orders", "fields": [{"label": "Plan", "value": HOSTILE, "url": "javascript:alert(1)"},
                                       {"label": "Account", "value": "open", "url": "https://shop.example/a?x=1&y=2"},
                                       {"label": "VIP", "value": True}],
         "table": {"columns": ["Order", "<b>Total</b>"], "rows": [["#1001", {"value": "€30", "url": "data:x"}]]}},
    ]})
    response = panel(agent_client, requester)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert "<script" not in html and "<img" not in html and "<b>Total" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Total&lt;/b&gt;" in html
    assert "javascript:" not in html and "data:x" not in html
    assert 'href="https://shop.example/a?x=1&amp;y=2" target="_blank" rel="noopener noreferrer nofollow"' in html
    assert "<dt>VIP</dt><dd>yes</dd>" in html
    assert "<td>#1001</td><td>€30</td>" in html
    assert "<html" not in html  # a fragment
    assert shop.requests[0].signature_ok


def test_without_javascript_the_panel_is_a_page(agent_client, tenant, requester, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, name="Shop")
    shop.answer_json({"title": "Orders", "sections": [{"fields": [{"label": "Plan", "value": "Gold"}]}]})
    html = panel(agent_client, requester, partial=False).content.decode()
    assert "<html" in html and "Grace Hopper" in html and "<dd>Gold</dd>" in html


def test_a_failing_integration_is_a_polite_notice(agent_client, tenant, requester, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, name="Shop", timeout_ms=200)
    CustomerDataIntegrationFactory(tenant=tenant, url="http://127.0.0.1:1/", secret=SECRET, name="Dead CRM")
    shop.answer(200, b"{}", delay=1)
    response = panel(agent_client, requester)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="integration-notice"') == 2
    assert "Shop could not be reached just now" in html and "No answer within 200 ms" in html
    assert "Dead CRM could not be reached just now" in html


def test_the_panel_renders_for_turkish_sessions(tenant, agent, requester, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, name="Shop")
    shop.answer(500, b"")
    client = client_for(agent)
    client.cookies["helpdesk_language"] = "tr"
    response = panel(client, requester)
    assert response.status_code == 200


def test_another_tenants_contact_is_404_and_nothing_is_called(tenant, other_tenant, other_agent, requester,
                                                               shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET)
    CustomerDataIntegrationFactory(tenant=other_tenant, url=shop.url, secret=SECRET)
    outsider = client_for(other_agent, OTHER_HOST)
    assert panel(outsider, requester).status_code == 404
    assert panel(outsider, requester, partial=False).status_code == 404
    assert shop.hits == 0


def test_unknown_contacts_are_404(agent_client):
    assert agent_client.get("/console/contacts/999999/integrations/").status_code == 404


# --- settings pages -------------------------------------------------------------------------------


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


def test_agents_cannot_manage_integrations(agent_client, tenant):
    integration = CustomerDataIntegrationFactory(tenant=tenant)
    assert agent_client.get("/console/settings/integrations/").status_code == 403
    assert agent_client.post("/console/settings/integrations/new/", {}).status_code == 403
    assert agent_client.post(f"/console/settings/integrations/{integration.pk}/delete/").status_code == 403
    with tenant_scope(tenant):
        assert CustomerDataIntegration.objects.filter(pk=integration.pk).exists()


def test_the_nav_links_admins_to_the_settings_page(owner_client, agent_client):
    assert 'href="/console/settings/integrations/"' in owner_client.get("/console/").content.decode()
    assert 'href="/console/settings/integrations/"' not in agent_client.get("/console/").content.decode()


def test_admins_add_change_and_delete_integrations(owner_client, tenant, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = True
    response = owner_client.post("/console/settings/integrations/new/", {
        "name": "Shop", "url": "http://127.0.0.1:9/hook", "secret": "s" * 20, "timeout_ms": "1500",
        "cache_seconds": "60", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()
    with tenant_scope(tenant):
        integration = CustomerDataIntegration.objects.get()
    assert integration.secret == "s" * 20 and integration.timeout_ms == 1500
    listing = owner_client.get("/console/settings/integrations/").content.decode()
    assert "Shop" in listing and "s" * 20 not in listing
    edit = owner_client.get(f"/console/settings/integrations/{integration.pk}/").content.decode()
    assert "s" * 20 not in edit and 'value="http://127.0.0.1:9/hook"' in edit
    response = owner_client.post(f"/console/settings/integrations/{integration.pk}/", {
        "name": "Shop 2", "url": "http://127.0.0.1:9/hook", "secret": "", "timeout_ms": "1500",
        "cache_seconds": "60"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        integration.refresh_from_db()
    assert integration.name == "Shop 2" and integration.secret == "s" * 20 and not integration.is_active
    assert owner_client.get(f"/console/settings/integrations/{integration.pk}/delete/").status_code == 200
    assert owner_client.post(f"/console/settings/integrations/{integration.pk}/delete/").status_code == 302
    with tenant_scope(tenant):
        assert not CustomerDataIntegration.objects.exists()
        assert AuditEntry.objects.filter(action__startswith="integration.").count() == 3


def test_bad_input_is_a_400_and_changes_nothing(owner_client, tenant, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = False
    for data in ({"name": "Shop", "url": "http://127.0.0.1/", "secret": "s" * 20, "timeout_ms": "1500",
                  "cache_seconds": "60"},
                 {"name": "Shop", "url": "https://8.8.8.8/", "secret": "short", "timeout_ms": "1500",
                  "cache_seconds": "60"},
                 {"name": "Shop", "url": "https://8.8.8.8/", "secret": "s" * 20, "timeout_ms": "99999999",
                  "cache_seconds": "60"},
                 {}):
        response = owner_client.post("/console/settings/integrations/new/", data)
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
    html = owner_client.post("/console/settings/integrations/new/", {
        "name": "Shop", "url": "http://127.0.0.1/", "secret": "s" * 20, "timeout_ms": "1500",
        "cache_seconds": "60"}).content.decode()
    assert "loopback" in html
    with tenant_scope(tenant):
        assert not CustomerDataIntegration.objects.exists()


def test_trying_an_integration_shows_the_answer_or_why_not(owner_client, tenant, requester, shop):  # noqa: F811
    integration = CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, name="Shop")
    shop.answer_json({"title": "Orders", "sections": [{"fields": [{"label": "Plan", "value": "Gold"}]}]})
    html = owner_client.post(f"/console/settings/integrations/{integration.pk}/test/", {}).content.decode()
    assert "It answered" in html and "<dd>Gold</dd>" in html and "made-up sample contact" in html
    assert shop.requests[-1].document["contact"]["name"] == "Ada Sample"
    html = owner_client.post(f"/console/settings/integrations/{integration.pk}/test/",
                             {"email": "GRACE@customer.example"}).content.decode()
    assert "For Grace Hopper." in html
    assert shop.requests[-1].document["contact"]["id"] == requester.pk
    response = owner_client.post(f"/console/settings/integrations/{integration.pk}/test/",
                                 {"email": "nobody@customer.example"})
    assert response.status_code == 400 and "No contact has this email address." in response.content.decode()
    shop.answer(500, b"")
    html = owner_client.post(f"/console/settings/integrations/{integration.pk}/test/", {}).content.decode()
    assert "It did not answer usefully" in html and "HTTP 500" in html


def test_another_tenants_integration_pages_are_404(tenant, other_tenant, shop):  # noqa: F811
    integration = CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET)
    outsider = client_for(agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test"), OTHER_HOST)
    for suffix in ("", "delete/", "test/"):
        url = f"/console/settings/integrations/{integration.pk}/{suffix}"
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, {"name": "x", "url": shop.url, "timeout_ms": "100", "cache_seconds": "0"}
                             ).status_code == 404
    assert shop.hits == 0
    with tenant_scope(tenant):
        assert CustomerDataIntegration.objects.filter(pk=integration.pk, name=integration.name).exists()


def test_light_agents_see_the_card_and_panel(light_client, tenant, ticket, requester):
    CustomerDataIntegrationFactory(tenant=tenant)
    html = page(light_client, ticket).content.decode()
    assert 'id="integration-panel"' in html
    other = ContactFactory(tenant=tenant)
    assert panel(light_client, other).status_code == 200
