"""Signing in with email and password, signing out, the tenant checks at the door."""
from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings

from helpdesk.console.tenants import LAST_TENANT_COOKIE
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY
from helpdesk.tenancy.roles import Role
from tests.core.console.conftest import login
from tests.factories import MembershipFactory, TenantFactory, UserFactory, agent_in

pytestmark = pytest.mark.django_db


def test_login_page_has_labelled_email_and_password_fields(acme_client, tenant):
    response = acme_client.get("/console/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'type="email"' in html
    assert 'name="password"' in html and 'type="password"' in html
    assert '<label for="id_username">Email</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "Acme Ltd" in html  # the tenant's brand on its own host
    assert 'name="csrfmiddlewaretoken"' in html


def test_correct_password_signs_in_and_goes_to_the_console(acme_client, agent, password):
    response = login(acme_client, agent.email, password)
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert acme_client.session[SESSION_KEY] == str(agent.pk)
    home = acme_client.get("/console/")
    assert home.status_code == 200
    assert "Acme Ltd" in home.content.decode()


def test_email_is_case_insensitive(acme_client, agent, password):
    response = login(acme_client, agent.email.upper(), password)
    assert response.status_code == 302


def test_wrong_password_is_a_clear_400_and_no_session(acme_client, agent):
    response = login(acme_client, agent.email, "not the password")
    assert response.status_code == 400
    assert "The email or password is not right" in response.content.decode()
    assert SESSION_KEY not in acme_client.session


@pytest.mark.parametrize("data", [{}, {"username": "", "password": ""}, {"username": "x" * 5000, "password": "y"},
                                  {"username": "no-at-sign", "password": "p"}])
def test_malformed_login_input_is_a_4xx(acme_client, tenant, data):
    response = acme_client.post("/console/login/", data)
    assert 400 <= response.status_code < 500


def test_next_is_followed_on_the_same_host_only(acme_client, agent, password):
    ok = acme_client.post("/console/login/?next=/console/profile/", {"username": agent.email, "password": password})
    assert ok["Location"] == "/console/profile/"
    acme_client.post("/console/logout/")
    evil = acme_client.post("/console/login/", {"username": agent.email, "password": password,
                                                 "next": "https://evil.example/steal"})
    assert evil["Location"] == "/console/"


@override_settings(CONSOLE_LOGIN_MAX_FAILURES=3)
def test_repeated_wrong_passwords_lock_the_account_for_this_address(acme_client, agent, password):
    for _ in range(2):
        assert login(acme_client, agent.email, "wrong").status_code == 400
    locked = login(acme_client, agent.email, "wrong")
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    # Even the right password is refused while locked.
    refused = login(acme_client, agent.email, password)
    assert refused.status_code == 429
    assert SESSION_KEY not in acme_client.session
    # Another address is not locked out by this one's failures.
    elsewhere = login(acme_client, agent.email, password, REMOTE_ADDR="10.9.8.7")
    assert elsewhere.status_code == 302


@override_settings(CONSOLE_LOGIN_MAX_FAILURES=3)
def test_a_successful_login_resets_the_failure_count(acme_client, agent, password):
    for _ in range(2):
        login(acme_client, agent.email, "wrong")
    assert login(acme_client, agent.email, password).status_code == 302
    acme_client.post("/console/logout/")
    for _ in range(2):
        assert login(acme_client, agent.email, "wrong").status_code == 400


def test_non_member_cannot_enter_another_tenants_console(acme_client, tenant, other_agent, password):
    response = login(acme_client, other_agent.email, password)
    assert response.status_code == 403
    assert "no access to Acme Ltd" in response.content.decode()
    assert SESSION_KEY not in acme_client.session


def test_signed_in_non_member_gets_a_clear_page_not_an_error(acme_client, tenant, other_agent):
    acme_client.force_login(other_agent)
    response = acme_client.get("/console/")
    assert response.status_code == 403
    assert "not a member of Acme Ltd" in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(acme_client, tenant):
    response = acme_client.get("/console/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login/?next=/console/profile/"


def test_logout_is_post_only_and_ends_the_session(acme_client, agent):
    acme_client.force_login(agent)
    assert acme_client.get("/console/logout/").status_code == 405
    assert SESSION_KEY in acme_client.session
    response = acme_client.post("/console/logout/")
    assert response.status_code == 302 and response["Location"] == "/console/login/"
    assert SESSION_KEY not in acme_client.session


def test_logout_requires_the_csrf_token(tenant, agent):
    from django.test import Client

    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post("/console/logout/").status_code == 403
    assert SESSION_KEY in client.session


def test_platform_host_login_picks_the_first_tenant(platform_client, tenant, other_tenant, password):
    user = UserFactory(email="both@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Role.AGENT)
    MembershipFactory(tenant=other_tenant, user=user, role=Role.ADMIN)
    response = login(platform_client, user.email, password)
    assert response.status_code == 302
    assert platform_client.session[SESSION_TENANT_KEY] == tenant.pk  # "Acme Ltd" sorts first
    assert "Acme Ltd" in platform_client.get("/console/").content.decode()


def test_platform_host_login_returns_to_the_last_used_tenant(platform_client, tenant, other_tenant, password):
    user = UserFactory(email="both@example.com")
    MembershipFactory(tenant=tenant, user=user)
    MembershipFactory(tenant=other_tenant, user=user)
    login(platform_client, user.email, password)
    platform_client.post("/console/tenant/", {"tenant": other_tenant.pk})
    platform_client.post("/console/logout/")
    assert platform_client.cookies.get(LAST_TENANT_COOKIE)
    login(platform_client, user.email, password)
    assert platform_client.session[SESSION_TENANT_KEY] == other_tenant.pk


def test_platform_host_login_without_any_membership_is_refused(platform_client, db, password):
    user = UserFactory(email="nobody@example.com")
    response = login(platform_client, user.email, password)
    assert response.status_code == 403
    assert "not a member of any helpdesk" in response.content.decode()


def test_inactive_membership_does_not_open_the_door(acme_client, tenant, password):
    user = agent_in(tenant, email="gone@acme.test")
    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.models import Membership

    with tenant_scope(tenant):
        Membership.objects.filter(user=user).update(is_active=False)
    assert login(acme_client, user.email, password).status_code == 403


def test_unknown_host_is_404_not_500(db):
    from django.test import Client

    response = Client(HTTP_HOST="nope.localhost").get("/console/login/")
    assert response.status_code == 404


def test_login_page_of_a_second_tenant_uses_its_brand(db):
    TenantFactory(slug="initech", name="Initech", brand_name="Initech Support", brand_color="#aa3300")
    from django.test import Client

    html = Client(HTTP_HOST="initech.localhost").get("/console/login/").content.decode()
    assert "Initech Support" in html and "--brand: #aa3300" in html
