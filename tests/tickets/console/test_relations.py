"""The ticket page's merge (with a confirm step), link and CC actions: tickets named by their
number in the tenant; another tenant's number is an error, never a merge or a link."""
from __future__ import annotations

import pytest

from helpdesk.people.models import Contact
from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory, ContactIdentityFactory
from tests.tickets.console.conftest import client_for, make_ticket
from tests.tickets.factories import TicketCCFactory, TicketFactory
from tickets.models import Message, Status, Ticket, TicketCC, TicketLink

pytestmark = pytest.mark.django_db


def url(ticket, action=""):
    return f"/console/tickets/{ticket.number}/" + (f"{action}/" if action else "")


def fresh(tenant, ticket) -> Ticket:
    with tenant_scope(tenant):
        return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def survivor(tenant):
    return make_ticket(tenant, subject="Parcel lost (duplicate report)", messages=1)


# --- merge ------------------------------------------------------------------------------------


def test_the_page_offers_merge_link_and_cc_forms(agent_client, ticket):
    body = agent_client.get(url(ticket)).content.decode()
    for form_id in ('id="merge-form"', 'id="link-form"', 'id="cc-add-form"'):
        assert form_id in body


def test_merge_asks_for_confirmation_first(agent_client, tenant, ticket, survivor):
    response = agent_client.post(url(ticket, "merge"), {"target": f"#{survivor.number}"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="merge-confirm-form"' in body and survivor.subject in body
    assert fresh(tenant, ticket).merged_into_id is None
    assert fresh(tenant, ticket).status != Status.CLOSED


def test_a_confirmed_merge_moves_the_conversation_and_closes_the_ticket(agent_client, tenant, ticket, survivor):
    response = agent_client.post(url(ticket, "merge"), {"target": survivor.number, "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == url(survivor)
    merged = fresh(tenant, ticket)
    assert merged.merged_into_id == survivor.pk and merged.status == Status.CLOSED
    with tenant_scope(tenant):
        assert Message.objects.filter(ticket=survivor, body_text__startswith="Entry").count() == 3
        assert TicketCC.objects.filter(ticket=survivor, contact=ticket.requester).exists()


def test_another_tenants_ticket_number_is_an_error_not_a_merge(agent_client, tenant, other_tenant, ticket):
    foreign = TicketFactory(tenant=other_tenant, number=777, subject="Globex case")
    for data in ({"target": "777"}, {"target": "777", "confirm": "1"}):
        response = agent_client.post(url(ticket, "merge"), data)
        assert response.status_code == 400
        assert "#777" in response.context["notice"]
    assert fresh(tenant, ticket).merged_into_id is None
    with tenant_scope(other_tenant):
        assert Ticket.objects.get(pk=foreign.pk).status == foreign.status
        assert Message.objects.filter(ticket=foreign).count() == 0


@pytest.mark.parametrize("target", ["", "abc", "0", "-3", "99999999999"])
def test_a_malformed_number_is_refused(agent_client, tenant, ticket, target):
    response = agent_client.post(url(ticket, "merge"), {"target": target, "confirm": "1"})
    assert response.status_code == 400
    assert fresh(tenant, ticket).merged_into_id is None


def test_a_ticket_cannot_be_merged_into_itself_or_a_closed_one(agent_client, tenant, ticket):
    itself = agent_client.post(url(ticket, "merge"), {"target": ticket.number, "confirm": "1"})
    assert itself.status_code == 400
    closed = make_ticket(tenant, status=Status.CLOSED)
    refused = agent_client.post(url(ticket, "merge"), {"target": closed.number, "confirm": "1"})
    assert refused.status_code == 409
    assert fresh(tenant, ticket).merged_into_id is None


def test_light_agents_cannot_merge_link_or_cc(light_agent, tenant, ticket, survivor):
    client = client_for(light_agent)
    assert 'id="merge-form"' not in client.get(url(ticket)).content.decode()
    assert client.post(url(ticket, "merge"), {"target": survivor.number, "confirm": "1"}).status_code == 403
    assert client.post(url(ticket, "link"), {"target": survivor.number}).status_code == 403
    assert client.post(url(ticket, "ccs"), {"action": "add", "email": "x@example.com"}).status_code == 403
    assert fresh(tenant, ticket).merged_into_id is None
    with tenant_scope(tenant):
        assert not TicketLink.objects.exists() and not TicketCC.objects.exists()


def test_another_tenants_agent_cannot_reach_the_actions(other_agent, ticket, survivor):
    client = client_for(other_agent, host="globex.localhost")
    assert client.post(url(ticket, "merge"), {"target": survivor.number, "confirm": "1"}).status_code == 404


# --- link -------------------------------------------------------------------------------------


def test_linking_a_related_ticket(agent_client, tenant, ticket, survivor):
    response = agent_client.post(url(ticket, "link"), {"target": str(survivor.number)})
    assert response.status_code == 302
    with tenant_scope(tenant):
        link = TicketLink.objects.get()
        assert {link.source_id, link.target_id} == {ticket.pk, survivor.pk}
    page = agent_client.get(url(ticket)).content.decode()
    assert f'href="/console/tickets/{survivor.number}/"' in page
    again = agent_client.post(url(ticket, "link"), {"target": str(survivor.number)})
    assert again.status_code == 302
    with tenant_scope(tenant):
        assert TicketLink.objects.count() == 1


def test_linking_another_tenants_number_or_itself_is_refused(agent_client, tenant, other_tenant, ticket):
    TicketFactory(tenant=other_tenant, number=778)
    assert agent_client.post(url(ticket, "link"), {"target": "778"}).status_code == 400
    assert agent_client.post(url(ticket, "link"), {"target": ticket.number}).status_code == 400
    with tenant_scope(tenant):
        assert not TicketLink.objects.exists()
    with tenant_scope(other_tenant):
        assert not TicketLink.objects.exists()


# --- CCs --------------------------------------------------------------------------------------


def test_adding_a_cc_by_email_finds_or_creates_the_contact(agent_client, tenant, ticket):
    known = ContactFactory(tenant=tenant, name="Linus")
    ContactIdentityFactory(tenant=tenant, contact=known, value="linus@customer.example")
    ok = agent_client.post(url(ticket, "ccs"), {"action": "add", "email": "Linus@customer.example"})
    assert ok.status_code == 302
    new = agent_client.post(url(ticket, "ccs"), {"action": "add", "email": "margaret@customer.example"})
    assert new.status_code == 302
    with tenant_scope(tenant):
        names = sorted(cc.contact.name for cc in TicketCC.objects.filter(ticket=ticket).select_related("contact"))
        assert names == ["Linus", "margaret"]
    page = agent_client.get(url(ticket)).content.decode()
    assert "margaret@customer.example" in page and "cc-remove-form" in page


def test_bad_cc_input_is_refused(agent_client, tenant, ticket):
    assert agent_client.post(url(ticket, "ccs"), {"action": "add", "email": "nope"}).status_code == 400
    assert agent_client.post(url(ticket, "ccs"), {"action": "add"}).status_code == 400
    assert agent_client.post(url(ticket, "ccs"), {"action": "shout", "email": "a@b.example"}).status_code == 400
    requester_email = "grace@customer.example"  # the requester is on the ticket already
    assert agent_client.post(url(ticket, "ccs"), {"action": "add", "email": requester_email}).status_code == 400
    with tenant_scope(tenant):
        assert not TicketCC.objects.exists()
        assert Contact.objects.count() == 1


def test_removing_a_cc(agent_client, tenant, ticket):
    contact = ContactFactory(tenant=tenant, name="Margaret")
    TicketCCFactory(tenant=tenant, ticket=ticket, contact=contact)
    response = agent_client.post(url(ticket, "ccs"), {"action": "remove", "contact": contact.pk})
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert not TicketCC.objects.filter(ticket=ticket).exists()
    missing = agent_client.post(url(ticket, "ccs"), {"action": "remove", "contact": contact.pk})
    assert missing.status_code == 400


def test_another_tenants_cc_cannot_be_removed(agent_client, tenant, other_tenant):
    foreign = make_ticket(other_tenant)
    contact = ContactFactory(tenant=other_tenant)
    TicketCCFactory(tenant=other_tenant, ticket=foreign, contact=contact)
    mine = make_ticket(tenant)
    response = agent_client.post(url(mine, "ccs"), {"action": "remove", "contact": contact.pk})
    assert response.status_code == 400
    with tenant_scope(other_tenant):
        assert TicketCC.objects.filter(ticket=foreign).count() == 1
