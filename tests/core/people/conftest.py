"""Fixtures of the people tests: the tenant's scope, a light agent, console clients."""
from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.tenancy.roles import Role
from tests.factories import agent_in


@pytest.fixture
def light_agent(tenant):
    return agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")


def console_client(user, host: str = "acme.localhost") -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent) -> Client:
    return console_client(agent)
