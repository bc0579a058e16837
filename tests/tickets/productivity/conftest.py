import pytest
from rest_framework.test import APIClient

from helpdesk.tenancy.services import api_key_create

HOST = "acme.localhost"


def session_client(user) -> APIClient:
    """The console's session on the tenant's host, as the API sees it."""
    client = APIClient(HTTP_HOST=HOST)
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent):
    return session_client(agent)


@pytest.fixture
def owner_client(owner):
    return session_client(owner)


@pytest.fixture
def read_only_client(tenant):
    _key, raw = api_key_create(tenant=tenant, name="read only", scopes=["tickets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client
