"""Tenant resolution by host, by session on platform hosts, and the scoping it sets up."""
import pytest
from django.test import Client

from helpdesk.people.models import Contact
from helpdesk.tenancy.context import NoTenant, current_tenant, tenant_scope
from helpdesk.tenancy.models import TenantDomain
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY, is_platform_host, strip_port, tenant_for_host
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_subdomain_of_base_domain_resolves(tenant):
    assert tenant_for_host("acme.localhost:8000") == tenant
    assert tenant_for_host("ACME.localhost") == tenant
    assert tenant_for_host("nope.localhost") is None
    assert tenant_for_host("x.acme.localhost") is None


def test_custom_domain_resolves(tenant):
    TenantDomain.objects.create(tenant=tenant, domain="Support.Acme.COM.", is_primary=True)
    assert tenant_for_host("support.acme.com") == tenant
    assert tenant.primary_host == "support.acme.com"


def test_inactive_tenant_is_not_served(tenant):
    tenant.is_active = False
    tenant.save()
    assert tenant_for_host("acme.localhost") is None


def test_platform_hosts():
    assert is_platform_host("localhost:8000") and is_platform_host("127.0.0.1")
    assert not is_platform_host("acme.localhost")
    assert strip_port("[::1]:8000") == "[::1]"


def test_unknown_host_is_a_404_but_probes_answer(db):
    client = Client(HTTP_HOST="unknown.example.org")
    response = client.get("/console/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_host"
    assert client.get("/healthz").status_code == 200


def test_session_chooses_the_tenant_on_platform_hosts_only_for_members(tenant, other_tenant, agent):
    from helpdesk.tenancy.middleware import TenantMiddleware

    seen = {}

    def view(request):
        seen["tenant"] = request.tenant
        seen["context"] = current_tenant()
        from django.http import HttpResponse

        return HttpResponse("ok")

    middleware = TenantMiddleware(view)
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/console/", HTTP_HOST="localhost")
    request.user = agent
    request.session = SessionStore()
    request.session[SESSION_TENANT_KEY] = tenant.pk
    middleware(request)
    assert seen == {"tenant": tenant, "context": tenant}
    assert current_tenant() is None  # reset after the request

    request.session[SESSION_TENANT_KEY] = other_tenant.pk  # not a member there
    middleware(request)
    assert seen["tenant"] is None


def test_default_manager_is_empty_without_a_tenant_and_scoped_with_one(tenant, other_tenant):
    ContactFactory(tenant=tenant)
    ContactFactory(tenant=other_tenant)
    assert Contact.objects.count() == 0
    with tenant_scope(tenant):
        assert Contact.objects.count() == 1
        assert Contact.objects.get().tenant_id == tenant.pk


def test_saving_a_row_of_another_tenant_or_without_tenant_is_refused(tenant, other_tenant):
    contact = ContactFactory(tenant=tenant)
    with tenant_scope(other_tenant), pytest.raises(NoTenant):
        contact.name = "hijack"
        contact.save()
    with pytest.raises(NoTenant):
        Contact(name="orphan").save()
    with tenant_scope(tenant):
        created = Contact.objects.create(name="scoped")
    assert created.tenant_id == tenant.pk
