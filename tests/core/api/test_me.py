"""``GET /api/v1/me/``: the tenant and scopes behind the credentials; API key authentication."""
from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.api.authentication import lookup_api_key
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import ApiKey, TenantDomain
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY
from helpdesk.tenancy.roles import ALL_SCOPES, ROLE_SCOPES, Role
from helpdesk.tenancy.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


def test_a_key_sees_its_tenant_and_scopes(api_client, tenant):
    response = api_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "tenant": {"slug": "acme", "name": "Acme Ltd"},
        "scopes": sorted(ALL_SCOPES),
        "kind": "api_key",
    }


def test_a_scoped_key_reports_only_its_scopes(tenant, client_for):
    _key, raw = api_key_create(tenant=tenant, name="narrow", scopes=["account:read", "tickets:write"])
    assert client_for(raw).get(ME).json()["scopes"] == ["account:read", "tickets:write"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "acme.localhost", "testserver"])
def test_a_key_works_on_platform_hosts_and_its_own_tenant_host(api_client, host):
    response = api_client.get(ME, HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json()["tenant"]["slug"] == "acme"


def test_a_key_works_on_its_tenants_custom_domain(api_client, tenant):
    TenantDomain.objects.create(tenant=tenant, domain="help.acme.example")
    assert api_client.get(ME, HTTP_HOST="help.acme.example").status_code == 200


def test_a_key_on_another_tenants_host_is_401(api_client, other_tenant):
    response = api_client.get(ME, HTTP_HOST="globex.localhost")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "globex" not in response.content.decode().lower()


def test_a_revoked_key_is_401(tenant, client_for):
    key, raw = api_key_create(tenant=tenant, name="old")
    assert client_for(raw).get(ME).status_code == 200
    api_key_revoke(key=key)
    response = client_for(raw).get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_key_of_an_inactive_tenant_is_401(api_client, tenant):
    tenant.is_active = False
    tenant.save()
    assert api_client.get(ME, HTTP_HOST="127.0.0.1").status_code == 401


def test_session_on_the_tenant_host(client, agent):
    client.force_login(agent)
    response = client.get(ME, HTTP_HOST="acme.localhost")
    assert response.status_code == 200
    assert response.json() == {
        "tenant": {"slug": "acme", "name": "Acme Ltd"},
        "scopes": sorted(ROLE_SCOPES[Role.AGENT]),
        "kind": "session",
    }


def test_session_on_a_platform_host_uses_the_chosen_tenant(client, agent, tenant):
    client.force_login(agent)
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    response = client.get(ME, HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json()["tenant"]["slug"] == "acme"


def test_session_of_a_non_member_is_401(client, other_agent, tenant):
    client.force_login(other_agent)
    response = client.get(ME, HTTP_HOST="acme.localhost")
    assert response.status_code == 401
    assert "acme" not in response.json()["error"]["message"].lower()


def test_session_without_a_chosen_tenant_on_a_platform_host_is_401(client, agent):
    client.force_login(agent)
    assert client.get(ME, HTTP_HOST="localhost").status_code == 401


def test_anonymous_is_401(db):
    response = Client().get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_host_is_404(api_client):
    response = api_client.get(ME, HTTP_HOST="nobody.example")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_host"


def test_keys_whose_secret_contains_underscores_authenticate(tenant, monkeypatch, client_for):
    """The secret is URL-safe base64 and may contain "_" (about half of all keys do)."""
    import helpdesk.tenancy.models as models

    monkeypatch.setattr(models.secrets, "token_urlsafe", lambda n: "abc_def_ghi-jkl")
    key, raw = api_key_create(tenant=tenant, name="underscored")
    assert raw.count("_") == 4
    assert lookup_api_key(raw) == key
    assert client_for(raw).get(ME).status_code == 200


def test_last_used_is_recorded_at_most_once_a_minute(api_client, tenant):
    api_client.get(ME)
    with tenant_scope(tenant):
        first = ApiKey.objects.get().last_used_at
    assert first is not None
    api_client.get(ME)
    with tenant_scope(tenant):
        assert ApiKey.objects.get().last_used_at == first


def test_query_count_is_constant(api_client, tenant, django_assert_num_queries):
    api_client.get(ME)  # records last_used_at
    # One query: the key (with its tenant).
    with django_assert_num_queries(1):
        assert api_client.get(ME).status_code == 200
    for number in range(5):
        api_key_create(tenant=tenant, name=f"more {number}")
    with django_assert_num_queries(1):
        assert api_client.get(ME).status_code == 200


def test_session_query_count_is_constant(client, agent, django_assert_num_queries):
    client.force_login(agent)
    client.get(ME, HTTP_HOST="acme.localhost")
    with django_assert_num_queries(4):  # session, user, tenant by host, membership
        assert client.get(ME, HTTP_HOST="acme.localhost").status_code == 200


def test_a_session_is_refused_while_the_tenant_requires_two_factor_and_the_member_has_none(tenant, agent):
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent)
    assert client.get(ME).status_code == 200
    tenant.require_two_factor = True
    tenant.save(update_fields=["require_two_factor"])
    response = client.get(ME)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")
