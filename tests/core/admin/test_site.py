"""Who may enter the admin: superusers, and members whose role has Cap.ADMIN_SITE in the tenant."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from helpdesk.people.models import Contact, ContactIdentity
from helpdesk.tenancy.admin_base import HelpdeskAdminSite, TenantScopedAdmin
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY
from helpdesk.tenancy.roles import CAPABILITIES, Cap, Role
from tests.factories import agent_in

pytestmark = pytest.mark.django_db


def test_the_default_admin_site_is_the_tenant_scoped_one():
    assert isinstance(admin.site, HelpdeskAdminSite)


def test_anonymous_visitors_are_sent_to_the_console_sign_in(db):
    response = Client().get("/admin/")
    assert response.status_code == 302
    login = Client().get(response["Location"])
    assert login.status_code == 302
    assert login["Location"] == "/console/login/?next=%2Fadmin%2F"


def test_the_admin_login_never_redirects_off_site(db):
    response = Client().get("/admin/login/", {"next": "https://evil.example/"})
    assert response["Location"] == "/console/login/?next=%2Fadmin%2F"


@pytest.mark.parametrize("role", [r for r in Role.values if Cap.ADMIN_SITE not in CAPABILITIES[r]])
def test_members_without_the_admin_capability_cannot_enter(tenant, role):
    user = agent_in(tenant, role=role, email=f"{role}@acme.test")
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert response.templates[0].name == "admin/not_permitted.html"
    assert client.get("/admin/people/contact/").status_code == 302
    assert client.get("/admin/people/contact/").url.startswith("/admin/login/")


def test_an_admin_of_another_tenant_cannot_enter_this_tenants_admin(other_tenant, tenant):
    user = agent_in(other_tenant, role=Role.ADMIN, email="admin@globex.test")
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "Acme" in response.content.decode()
    assert "Globex" not in response.content.decode()


def test_an_inactive_membership_cannot_enter(tenant, tenant_admin):
    from helpdesk.tenancy.context import tenant_scope

    with tenant_scope(tenant):
        tenant_admin.memberships.update(is_active=False)
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(tenant_admin)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_enter_on_the_tenant_host(tenant, role):
    user = agent_in(tenant, role=role, email=f"{role}@acme.test")
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Acme Ltd administration" in response.content.decode()


def test_a_tenant_admin_on_a_platform_host_uses_the_tenant_chosen_in_the_console(tenant, tenant_admin):
    client = Client(HTTP_HOST="localhost")
    client.force_login(tenant_admin)
    assert client.get("/admin/").status_code == 302  # no tenant chosen yet
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    assert client.get("/admin/").status_code == 200


def test_superusers_enter_anywhere(super_client, superuser, tenant):
    assert super_client.get("/admin/").status_code == 200
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "All tenants" in response.content.decode()


def test_staff_without_superuser_or_membership_cannot_enter(db):
    staff = get_user_model().objects.create_user(email="staff@platform.test", password="x", is_staff=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


def test_a_tenant_admin_sees_tenant_models_but_not_platform_ones(admin_client):
    content = admin_client.get("/admin/").content.decode()
    for url in ("/admin/people/contact/", "/admin/tenancy/apikey/", "/admin/audit/auditentry/",
                "/admin/events/webhookdelivery/"):
        assert url in content
    for url in ("/admin/people/user/", "/admin/auth/group/"):
        assert url not in content
    assert admin_client.get("/admin/people/user/").status_code == 403
    assert admin_client.get("/admin/auth/group/").status_code == 403


def test_tenant_owned_models_must_use_the_scoped_base():
    site = HelpdeskAdminSite(name="check")
    with pytest.raises(ImproperlyConfigured):
        site.register(Contact, admin.ModelAdmin)
    with pytest.raises(ImproperlyConfigured):
        site.register(Contact)

    class PlainInline(admin.TabularInline):
        model = ContactIdentity

    class ContactAdmin(TenantScopedAdmin):
        inlines = [PlainInline]

    with pytest.raises(ImproperlyConfigured):
        site.register(Contact, ContactAdmin)
    site.register(Contact, TenantScopedAdmin)
