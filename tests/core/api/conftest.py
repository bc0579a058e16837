import pytest
from rest_framework.test import APIClient

from helpdesk.tenancy.services import api_key_create
from tests.core.api.probe import Calls


@pytest.fixture(autouse=True)
def reset_probe_calls():
    """The probe views count their calls (idempotency tests); the cache is emptied by the
    shared conftest."""
    Calls.reset()
    yield


@pytest.fixture
def client_for():
    """An API client for a raw key."""
    def make(raw: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client
    return make


@pytest.fixture
def read_only_key(tenant):
    _key, raw = api_key_create(tenant=tenant, name="read only", scopes=["tickets:read"])
    return raw
