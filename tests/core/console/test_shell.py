"""The frame (header, nav, toasts), home and profile pages, language and time zone, the
tenant switcher, and query counts that do not grow."""
from __future__ import annotations

import re

import pytest
from django.db import connection

from helpdesk.tenancy.resolution import SESSION_TENANT_KEY
from helpdesk.tenancy.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory, agent_in
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_frame_has_landmarks_skip_link_brand_and_live_regions(acme_client, tenant, agent):
    tenant.brand_name = "Acme Care"
    tenant.brand_color = "#c0392b"
    tenant.save()
    acme_client.force_login(agent)
    html = html_of(acme_client.get("/console/"))
    assert '<a class="skip-link" href="#main">' in html
    assert 'role="banner"' in html
    assert '<nav class="sidenav" aria-label="Main">' in html
    assert '<main id="main"' in html
    assert 'aria-live="polite"' in html
    assert "Acme Care" in html and "--brand: #c0392b" in html
    assert 'id="live-indicator"' in html and 'data-ws-path="/ws/console/"' in html
    assert 'action="/console/logout/"' in html
    assert 'action="/console/language/"' in html
    assert '<html lang="en">' in html
    assert "/static/console/console.js" in html and "/static/console/console.css" in html


def test_home_greets_and_says_tenant_role_and_capabilities(acme_client, tenant):
    user = agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")
    user.full_name = "Ada Lovelace"
    user.save()
    acme_client.force_login(user)
    html = html_of(acme_client.get("/console/"))
    assert re.search(r"Good (morning|afternoon|evening), Ada", html)
    assert "Light agent" in html
    assert "Write internal notes" in html
    assert "Reply publicly to customers" not in html  # light agents cannot


def test_nav_shows_only_entries_the_role_may_use(acme_client, tenant, agent):
    from helpdesk.console import nav
    from helpdesk.tenancy.roles import Cap

    nav.register(key="test-admin-only", label="Only admins", url_name="console:profile",
                 capability=Cap.SETTINGS_MANAGE, icon="settings", order=90)
    try:
        acme_client.force_login(agent)
        html = html_of(acme_client.get("/console/"))
        assert 'href="/console/"' in html and 'aria-current="page"' in html
        assert "Only admins" not in html
        owner = agent_in(tenant, role=Role.OWNER, email="boss@acme.test")
        acme_client.force_login(owner)
        assert "Only admins" in html_of(acme_client.get("/console/"))
    finally:
        nav.unregister("test-admin-only")


def test_every_nav_link_points_at_a_page_that_answers(acme_client, tenant):
    owner = agent_in(tenant, role=Role.OWNER, email="boss@acme.test")
    acme_client.force_login(owner)
    html = html_of(acme_client.get("/console/"))
    nav_html = html.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a href="([^"]+)"', nav_html)
    assert links
    for link in links:
        assert acme_client.get(link).status_code == 200, link


def test_profile_updates_name_language_and_time_zone(acme_client, agent):
    acme_client.force_login(agent)
    html = html_of(acme_client.get("/console/profile/"))
    assert '<option value="Europe/Istanbul"' in html and '<option value="America/New_York"' in html
    assert '<label for="id_timezone">Time zone</label>' in html
    response = acme_client.post("/console/profile/", {"full_name": "Ayşe Yılmaz", "locale": "tr",
                                                      "timezone": "America/New_York"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.full_name, agent.locale, agent.timezone) == ("Ayşe Yılmaz", "tr", "America/New_York")
    assert response.cookies["helpdesk_language"].value == "tr"
    page = html_of(acme_client.get("/console/profile/"))
    assert '<html lang="tr">' in page
    assert "Profil" in page


@pytest.mark.parametrize("data", [
    {"full_name": "X", "locale": "tr", "timezone": "Mars/Olympus"},
    {"full_name": "X", "locale": "xx", "timezone": "UTC"},
    {"full_name": "X" * 500, "locale": "en", "timezone": "UTC"},
    {},
])
def test_profile_refuses_bad_input_and_changes_nothing(acme_client, agent, data):
    acme_client.force_login(agent)
    before = (agent.full_name, agent.locale, agent.timezone)
    response = acme_client.post("/console/profile/", data)
    assert response.status_code == 400
    agent.refresh_from_db()
    assert (agent.full_name, agent.locale, agent.timezone) == before


def test_times_are_shown_in_the_persons_time_zone(acme_client, agent):
    agent.timezone = "Asia/Tokyo"
    agent.save()
    acme_client.force_login(agent)
    html = html_of(acme_client.get("/console/"))
    assert re.search(r'<time datetime="[^"]+\+09:00">', html)
    agent.timezone = "America/New_York"
    agent.save()
    html = html_of(acme_client.get("/console/"))
    assert re.search(r'<time datetime="[^"]+-0[45]:00">', html)


def test_anonymous_language_choice_is_a_cookie_and_turns_the_login_page_turkish(acme_client, tenant):
    response = acme_client.post("/console/language/", {"language": "tr", "next": "/console/login/"})
    assert response.status_code == 302 and response["Location"] == "/console/login/"
    assert response.cookies["helpdesk_language"].value == "tr"
    html = html_of(acme_client.get("/console/login/"))
    assert '<html lang="tr">' in html
    assert "Giriş yap" in html and "Parola" in html


def test_language_chosen_before_sign_in_is_kept_on_the_account(acme_client, agent, password):
    agent.locale = "en"
    agent.save()
    acme_client.post("/console/language/", {"language": "tr", "next": "/console/login/"})
    acme_client.post("/console/login/", {"username": agent.email, "password": password})
    agent.refresh_from_db()
    assert agent.locale == "tr"
    assert '<html lang="tr">' in html_of(acme_client.get("/console/"))


def test_signed_in_language_switch_is_stored_on_the_user(acme_client, agent):
    acme_client.force_login(agent)
    acme_client.post("/console/language/", {"language": "tr", "next": "/console/"})
    agent.refresh_from_db()
    assert agent.locale == "tr"
    acme_client.cookies.pop("helpdesk_language")
    assert '<html lang="tr">' in html_of(acme_client.get("/console/"))


@pytest.mark.parametrize("data", [{"language": "xx"}, {}, {"language": "tr", "next": "https://evil.example/"}])
def test_language_switch_refuses_bad_input_or_unsafe_next(acme_client, tenant, data):
    response = acme_client.post("/console/language/", data)
    if data.get("language") == "tr":
        assert response.status_code == 302 and response["Location"] == "/console/"
    else:
        assert response.status_code == 400


def test_tenant_switch_on_platform_host_uses_the_session(platform_client, tenant, other_tenant):
    user = UserFactory(email="both@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Role.AGENT)
    MembershipFactory(tenant=other_tenant, user=user, role=Role.ANALYST)
    platform_client.force_login(user)
    first = platform_client.get("/console/")
    assert first.status_code == 302  # the first tenant is picked, then the page again
    html = html_of(platform_client.get("/console/"))
    assert 'id="tenant-select"' in html and "Globex Corp" in html
    response = platform_client.post("/console/tenant/", {"tenant": other_tenant.pk})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert platform_client.session[SESSION_TENANT_KEY] == other_tenant.pk
    html = html_of(platform_client.get("/console/"))
    assert "Analyst" in html


def test_tenant_switch_on_a_tenant_host_goes_to_the_other_tenants_host(acme_client, tenant, other_tenant):
    user = UserFactory(email="both@example.com")
    MembershipFactory(tenant=tenant, user=user)
    MembershipFactory(tenant=other_tenant, user=user)
    acme_client.force_login(user)
    response = acme_client.post("/console/tenant/", {"tenant": other_tenant.pk})
    assert response.status_code == 302
    assert response["Location"] == other_tenant.absolute_url("/console/") == "http://globex.localhost/console/"


def test_switching_to_a_tenant_one_does_not_belong_to_is_a_404(acme_client, agent, other_tenant):
    acme_client.force_login(agent)
    assert acme_client.post("/console/tenant/", {"tenant": other_tenant.pk}).status_code == 404
    assert acme_client.post("/console/tenant/", {"tenant": "abc"}).status_code == 400
    assert acme_client.get("/console/tenant/").status_code == 405


def test_switcher_is_hidden_for_people_in_one_tenant(acme_client, agent):
    acme_client.force_login(agent)
    assert 'id="tenant-select"' not in html_of(acme_client.get("/console/"))


def _count(client, path) -> int:
    with QueryCounter(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["/console/", "/console/profile/"])
def test_page_query_counts_do_not_grow_with_tenants_or_members(acme_client, tenant, path):
    user = UserFactory(email="many@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Role.ADMIN)
    extra = TenantFactory(slug="extra0", name="Extra 0")
    MembershipFactory(tenant=extra, user=user)
    acme_client.force_login(user)
    baseline = _count(acme_client, path)
    for n in range(1, 6):
        more = TenantFactory(slug=f"extra{n}", name=f"Extra {n}")
        MembershipFactory(tenant=more, user=user)
        agent_in(tenant, email=f"colleague{n}@acme.test")
    assert _count(acme_client, path) == baseline
    assert baseline <= 8


@pytest.mark.parametrize("path", ["/console/login/", "/console/password-reset/"])
def test_anonymous_pages_are_cheap(acme_client, tenant, path):
    assert _count(acme_client, path) <= 2
