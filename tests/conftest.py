"""Shared fixtures: two tenants with agents and API clients, and a tenant-scope helper."""
from __future__ import annotations

import os

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import pytest  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from helpdesk.tenancy.context import tenant_scope  # noqa: E402
from helpdesk.tenancy.roles import Role  # noqa: E402
from helpdesk.tenancy.services import api_key_create  # noqa: E402
from tests.factories import PASSWORD, TenantFactory, agent_in  # noqa: E402


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
