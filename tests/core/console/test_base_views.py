"""The guarded base of console views: sign-in, membership, capability, tenant-scoped objects."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.console.views.base import ConsoleDetailView, ConsoleTemplateView, ConsoleView
from helpdesk.people.models import Team
from helpdesk.tenancy.roles import Cap, Role
from tests.factories import TeamFactory, agent_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.console.urls_for_tests")]


def test_another_tenants_object_is_a_404(acme_client, tenant, other_tenant, agent):
    mine = TeamFactory(tenant=tenant, name="Billing")
    theirs = TeamFactory(tenant=other_tenant, name="Secret team")
    acme_client.force_login(agent)
    assert acme_client.get(f"/sample/teams/{mine.pk}/").content == b"team:Billing"
    response = acme_client.get(f"/sample/teams/{theirs.pk}/")
    assert response.status_code == 404
    assert b"Secret team" not in response.content
    assert acme_client.get("/sample/teams/999999/").status_code == 404


def test_lists_hold_only_the_tenants_rows(acme_client, tenant, other_tenant, agent):
    TeamFactory(tenant=tenant, name="Billing")
    TeamFactory(tenant=other_tenant, name="Secret team")
    acme_client.force_login(agent)
    assert acme_client.get("/sample/teams/").content == b"Billing"


def test_on_the_platform_host_the_session_tenant_scopes_objects(platform_client, tenant, other_tenant, agent):
    theirs = TeamFactory(tenant=other_tenant, name="Secret team")
    platform_client.force_login(agent)
    platform_client.get("/console/")  # picks the person's tenant
    assert platform_client.get(f"/sample/teams/{theirs.pk}/").status_code == 404


def test_a_missing_capability_is_refused_with_a_clear_page(acme_client, tenant, agent):
    acme_client.force_login(agent)
    response = acme_client.get("/sample/settings/")
    assert response.status_code == 403
    assert "Your role does not include this page" in response.content.decode()
    owner = agent_in(tenant, role=Role.OWNER, email="boss@acme.test")
    acme_client.force_login(owner)
    assert acme_client.get("/sample/settings/").content == b"settings"


def test_analysts_cannot_open_contact_pages(acme_client, tenant):
    analyst = agent_in(tenant, role=Role.ANALYST, email="numbers@acme.test")
    team = TeamFactory(tenant=tenant)
    acme_client.force_login(analyst)
    assert acme_client.get(f"/sample/teams/{team.pk}/").status_code == 403


def test_non_members_and_anonymous_visitors_are_kept_out(acme_client, tenant, other_agent):
    team = TeamFactory(tenant=tenant)
    response = acme_client.get(f"/sample/teams/{team.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/?next=")
    acme_client.force_login(other_agent)
    assert acme_client.get(f"/sample/teams/{team.pk}/").status_code == 403


def test_overriding_get_queryset_or_get_object_is_refused():
    with pytest.raises(TypeError, match="safely_get_queryset"):
        class Leaky(ConsoleDetailView):  # noqa: F841
            capability = Cap.TICKETS_VIEW
            model = Team

            def get_queryset(self):
                return Team.unscoped.all()

    with pytest.raises(TypeError):
        class Leaky2(ConsoleDetailView):  # noqa: F841
            capability = Cap.TICKETS_VIEW
            model = Team

            def get_object(self, queryset=None):
                return Team.unscoped.first()

    with pytest.raises(TypeError):
        class Leaky3(ConsoleDetailView):  # noqa: F841
            queryset = Team.unscoped.all()


def test_a_view_without_a_capability_cannot_be_routed():
    class Undeclared(ConsoleTemplateView):
        template_name = "console/home.html"

    with pytest.raises(ImproperlyConfigured):
        Undeclared.as_view()
    with pytest.raises(ImproperlyConfigured):
        type("Bogus", (ConsoleView,), {"capability": "not.a.capability"}).as_view()


def test_a_non_tenant_model_is_refused(rf, tenant, agent):
    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.models import Tenant

    class Wrong(ConsoleDetailView):
        capability = Cap.CONSOLE_ACCESS
        model = Tenant

    view = Wrong()
    view.setup(rf.get("/"), pk=tenant.pk)
    with tenant_scope(tenant), pytest.raises(ImproperlyConfigured):
        view.get_object()
