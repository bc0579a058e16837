"""Fixtures of the automation tests: the package registered, tickets made through the services."""
from __future__ import annotations

import pytest

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import ContactFactory, ContactIdentityFactory, TeamFactory, TeamMemberFactory, agent_in
from tests.tickets.factories import AgentProfileFactory, TeamRoutingFactory
from tickets.models import AgentStatus, Via


@pytest.fixture
def requester(tenant):
    contact = ContactFactory(tenant=tenant, name="Ayşe Yılmaz")
    ContactIdentityFactory(tenant=tenant, contact=contact, value="ayse@example.org", is_primary=True)
    return contact


@pytest.fixture
def make_ticket(tenant, requester):
    from tickets.services.tickets import ticket_create

    def make(**kwargs):
        kwargs.setdefault("subject", "My order has not arrived")
        kwargs.setdefault("description", "It has been two weeks.")
        kwargs.setdefault("requester", requester)
        kwargs.setdefault("via", Via.CUSTOMER)
        kwargs.setdefault("actor", None)
        with tenant_scope(tenant):
            return ticket_create(tenant=tenant, **kwargs)

    return make


@pytest.fixture
def make_agent(tenant):
    def make(*, team=None, status=AgentStatus.ONLINE, capacity=10, skills=(), languages=(), email=None,
             role=Role.AGENT):
        user = agent_in(tenant, role=role, email=email)
        AgentProfileFactory(tenant=tenant, user=user, status=status, capacity=capacity, skills=list(skills),
                            languages=list(languages))
        if team is not None:
            TeamMemberFactory(tenant=tenant, team=team, user=user)
        return user

    return make


@pytest.fixture
def team(tenant):
    return TeamFactory(tenant=tenant, name="Returns")


@pytest.fixture
def routed_team(tenant, team):
    TeamRoutingFactory(tenant=tenant, team=team, mode="round_robin")
    return team


@pytest.fixture
def run_events(django_capture_on_commit_callbacks):
    """Run what commits would run (event dispatch, consumers, pushes, emails), cascading."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
