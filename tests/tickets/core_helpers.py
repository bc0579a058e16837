"""Fixtures of tickets-core's tests (imported by tests/tickets/test_services_*.py and test_api_*.py)."""
from __future__ import annotations

import pytest

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, ContactIdentityFactory, agent_in
from tickets.models import Via


@pytest.fixture
def requester(tenant):
    contact = ContactFactory(tenant=tenant, name="Ayşe Yılmaz", locale="tr")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="ayse@example.org", is_primary=True)
    return contact


@pytest.fixture
def light_agent(tenant):
    return agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")


@pytest.fixture
def second_agent(tenant):
    return agent_in(tenant, role=Role.AGENT, email="second@acme.test")


@pytest.fixture
def make_ticket(tenant, requester):
    """A ticket made through the service, by the customer unless told otherwise."""
    from tickets.services import ticket_create

    def make(**kwargs):
        kwargs.setdefault("subject", "My order has not arrived")
        kwargs.setdefault("description", "It has been two weeks since I ordered.")
        kwargs.setdefault("requester", requester)
        kwargs.setdefault("via", Via.CUSTOMER)
        kwargs.setdefault("actor", None)
        with tenant_scope(tenant):
            return ticket_create(tenant=tenant, **kwargs)

    return make


def scoped(tenant):
    return tenant_scope(tenant)
