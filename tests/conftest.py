"""Shared fixtures: two tenants with agents and API clients, and a tenant-scope helper."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from helpdesk.celery import app as celery_app
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import PASSWORD, TenantFactory, agent_in

# Settings are loaded before this file (pytest-django), so an environment variable set
# here is too late: switch the Celery app itself. Tasks run in the test's thread; tests
# that need a real worker start one.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme Ltd")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(slug="globex", name="Globex Corp")


@pytest.fixture
def owner(tenant):
    return agent_in(tenant, role=Role.OWNER, email="owner@acme.test")


@pytest.fixture
def agent(tenant):
    return agent_in(tenant, role=Role.AGENT, email="agent@acme.test")


@pytest.fixture
def other_agent(other_tenant):
    return agent_in(other_tenant, role=Role.AGENT, email="agent@globex.test")


@pytest.fixture
def api_key(tenant):
    key, raw = api_key_create(tenant=tenant, name="tests")
    return raw


@pytest.fixture
def other_api_key(other_tenant):
    key, raw = api_key_create(tenant=other_tenant, name="tests")
    return raw


@pytest.fixture
def api_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api_client(other_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def in_tenant(tenant):
    """Run the test body as ``tenant`` (querysets and RLS scoped to it)."""
    with tenant_scope(tenant):
        yield tenant
