"""Console ticket pages: clients signed in on the tenant's host, tickets with conversations."""
from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, ContactIdentityFactory, agent_in
from tests.tickets.factories import MessageFactory, TicketFactory
from tickets.models import MessageKind

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"


def client_for(user, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent) -> Client:
    return client_for(agent)


@pytest.fixture
def light_agent(tenant):
    return agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")


@pytest.fixture
def light_client(light_agent) -> Client:
    return client_for(light_agent)


@pytest.fixture
def requester(tenant):
    contact = ContactFactory(tenant=tenant, name="Grace Hopper")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="grace@customer.example")
    return contact


def make_ticket(tenant, *, messages: int = 0, **fields):
    ticket = TicketFactory(tenant=tenant, **fields)
    for index in range(messages):
        MessageFactory(tenant=tenant, ticket=ticket, author_contact=ticket.requester,
                       kind=MessageKind.PUBLIC if index % 2 == 0 else MessageKind.NOTE,
                       body_text=f"Entry {index} about the parcel")
    if messages:
        with tenant_scope(tenant):
            type(ticket).objects.filter(pk=ticket.pk).update(message_count=messages)
            ticket.refresh_from_db()
    return ticket


@pytest.fixture
def ticket(tenant, requester):
    return make_ticket(tenant, requester=requester, subject="Parcel never arrived", messages=2)
