"""The "New ticket" page: requester by email, first message public or internal, choices from
the tenant's own agents and teams; bad input re-renders the form (400) and creates nothing."""
from __future__ import annotations

import pytest

from helpdesk.people.models import Contact, ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from tests.factories import TeamFactory
from tests.tickets.console.conftest import client_for
from tickets.models import Message, MessageKind, Status, Ticket

pytestmark = pytest.mark.django_db

URL = "/console/tickets/new/"


def form(**changes) -> dict:
    data = {"requester_email": "ada@customer.example", "requester_name": "Ada Lovelace",
            "subject": "Cannot sign in", "description": "The page says my password is wrong.",
            "kind": "public", "priority": "high", "type": "incident", "assignee": "", "team": "",
            "tags": "login, vip"}
    data.update(changes)
    return data


def counts(tenant) -> tuple[int, int, int]:
    with tenant_scope(tenant):
        return Ticket.objects.count(), Contact.objects.count(), Message.objects.count()


def test_the_list_links_to_the_form_and_the_form_renders(agent_client):
    listing = agent_client.get("/console/tickets/")
    assert 'href="/console/tickets/new/"' in listing.content.decode()
    page = agent_client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="requester_email"' in body and 'name="subject"' in body and 'name="kind"' in body


def test_creating_a_ticket_for_a_new_requester(agent_client, tenant, agent):
    team = TeamFactory(tenant=tenant, name="Accounts")
    response = agent_client.post(URL, form(assignee=agent.pk, team=team.pk))
    assert response.status_code == 302
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert response["Location"] == f"/console/tickets/{ticket.number}/"
        assert (ticket.subject, ticket.priority, ticket.type) == ("Cannot sign in", "high", "incident")
        assert (ticket.assignee_id, ticket.team_id, ticket.status) == (agent.pk, team.pk, Status.OPEN)
        assert sorted(t.name for t in ticket.tags.all()) == ["login", "vip"]
        assert ticket.requester.name == "Ada Lovelace"
        assert ContactIdentity.objects.get(contact=ticket.requester).value == "ada@customer.example"
        first = Message.objects.get(ticket=ticket)
        assert first.kind == MessageKind.PUBLIC and first.author_user_id == agent.pk
        assert "password is wrong" in first.body_text
    page = agent_client.get(response["Location"])
    assert "Cannot sign in" in page.content.decode()


def test_an_existing_contact_is_found_by_email_and_a_note_stays_internal(agent_client, tenant, requester):
    response = agent_client.post(URL, form(requester_email="Grace@Customer.example", requester_name="Other name",
                                           kind="note"))
    assert response.status_code == 302
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        assert ticket.requester_id == requester.pk
        assert Contact.objects.count() == 1
        assert Contact.objects.get().name == "Grace Hopper"
        assert Message.objects.get(ticket=ticket).kind == MessageKind.NOTE
        assert ticket.status == Status.NEW


@pytest.mark.parametrize("changes, field", [
    ({"requester_email": "not-an-email"}, "requester_email"),
    ({"requester_email": ""}, "requester_email"),
    ({"subject": ""}, "subject"),
    ({"subject": "   "}, "subject"),
    ({"priority": "whenever"}, "priority"),
    ({"kind": "shout"}, "kind"),
])
def test_bad_input_shows_the_form_with_errors_and_creates_nothing(agent_client, tenant, changes, field):
    before = counts(tenant)
    response = agent_client.post(URL, form(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'id="new-ticket-form"' in response.content.decode()
    assert counts(tenant) == before


def test_another_tenants_team_or_assignee_is_refused(agent_client, tenant, other_tenant, other_agent):
    foreign_team = TeamFactory(tenant=other_tenant, name="Globex support")
    before = counts(tenant)
    for changes, field in (({"team": foreign_team.pk}, "team"), ({"assignee": other_agent.pk}, "assignee")):
        response = agent_client.post(URL, form(**changes))
        assert response.status_code == 400
        assert field in response.context["form"].errors
    assert counts(tenant) == before
    with tenant_scope(other_tenant):
        assert Ticket.objects.count() == 0


def test_too_many_or_too_long_values_are_refused(agent_client, tenant):
    before = counts(tenant)
    for changes in ({"tags": "x" * 81}, {"description": "y" * 60_000}, {"subject": "z" * 300}):
        assert agent_client.post(URL, form(**changes)).status_code == 400
    assert counts(tenant) == before


def test_a_service_refusal_rolls_back_the_new_contact(agent_client, tenant, monkeypatch):
    from django.core.exceptions import ValidationError

    from tickets.views import create

    def refuse(**kwargs):
        raise ValidationError({"subject": ["Refused by the service."], "requester": ["Unknown requester."]})

    monkeypatch.setattr(create, "ticket_create", refuse)
    before = counts(tenant)
    response = agent_client.post(URL, form(requester_email="new@customer.example"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["subject"] == ["Refused by the service."]
    assert errors["requester_email"] == ["Unknown requester."]
    assert counts(tenant) == before


def test_a_light_agent_gets_no_access(light_agent, tenant):
    client = client_for(light_agent)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form()).status_code == 403
    assert counts(tenant) == (0, 0, 0)
    assert 'href="/console/tickets/new/"' not in client.get("/console/tickets/").content.decode()


def test_signed_out_goes_to_the_login_page(tenant):
    from django.test import Client

    response = Client(HTTP_HOST="acme.localhost").get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
