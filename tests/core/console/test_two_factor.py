"""Second factor: the code step at sign-in, replay and rate limits, enrolment, turning it off."""
from __future__ import annotations

import time
from urllib.parse import unquote

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings

from helpdesk.console import totp
from helpdesk.console.views.auth import PENDING_KEY
from helpdesk.tenancy.roles import Role
from tests.core.console.conftest import enable_totp, login
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- the pure functions -------------------------------------------------------------------

def test_codes_within_one_step_match_and_farther_ones_do_not():
    secret = totp.new_secret()
    clock = pyotp.TOTP(secret)
    now = 1_900_000_000.0
    step = totp.counter_at(now)
    assert totp.matching_counter(secret=secret, code=clock.at(now), at=now) == step
    assert totp.matching_counter(secret=secret, code=clock.at(now - 30), at=now) == step - 1
    assert totp.matching_counter(secret=secret, code=clock.at(now + 30), at=now) == step + 1
    assert totp.matching_counter(secret=secret, code=clock.at(now - 60), at=now) is None
    assert totp.matching_counter(secret=secret, code=clock.at(now + 60), at=now) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x", None])
def test_malformed_codes_never_match(code):
    assert totp.matching_counter(secret=totp.new_secret(), code=code) is None


def test_spaces_in_a_code_are_ignored():
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).now()
    assert totp.matching_counter(secret=secret, code=f"{code[:3]} {code[3:]}") is not None


def test_qr_code_is_an_inline_svg_without_scripts():
    svg = totp.qr_svg("otpauth://totp/x?secret=ABC", title="<script>alert(1)</script>")
    assert svg.startswith("<svg") and "<?xml" not in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg


# --- the code step at sign-in ---------------------------------------------------------------

def test_password_then_code_signs_in(acme_client, totp_agent, password):
    user, clock = totp_agent
    response = login(acme_client, user.email, password)
    assert response.status_code == 302 and response["Location"] == "/console/login/verify/"
    assert SESSION_KEY not in acme_client.session  # not signed in between the two steps
    page = acme_client.get("/console/login/verify/")
    assert page.status_code == 200
    assert "Two-factor code" in page.content.decode()
    response = acme_client.post("/console/login/verify/", {"code": clock.now()})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert acme_client.session[SESSION_KEY] == str(user.pk)
    assert PENDING_KEY not in acme_client.session


def test_next_survives_the_code_step(acme_client, totp_agent, password):
    user, clock = totp_agent
    acme_client.post("/console/login/?next=/console/profile/", {"username": user.email, "password": password})
    response = acme_client.post("/console/login/verify/", {"code": clock.now()})
    assert response["Location"] == "/console/profile/"


def test_console_pages_stay_closed_between_the_two_steps(acme_client, totp_agent, password):
    user, _clock = totp_agent
    login(acme_client, user.email, password)
    response = acme_client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_wrong_code_is_refused(acme_client, totp_agent, password):
    user, clock = totp_agent
    login(acme_client, user.email, password)
    wrong = str((int(clock.now()) + 1) % 1_000_000).zfill(6)
    response = acme_client.post("/console/login/verify/", {"code": wrong})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert SESSION_KEY not in acme_client.session


def test_malformed_code_is_a_400(acme_client, totp_agent, password):
    user, _clock = totp_agent
    login(acme_client, user.email, password)
    response = acme_client.post("/console/login/verify/", {"code": "abc"})
    assert response.status_code == 400
    assert "Enter the 6 digits" in response.content.decode()


def test_a_used_code_cannot_be_replayed(acme_client, totp_agent, password, tenant):
    user, clock = totp_agent
    code = clock.now()
    login(acme_client, user.email, password)
    assert acme_client.post("/console/login/verify/", {"code": code}).status_code == 302
    acme_client.post("/console/logout/")
    login(acme_client, user.email, password)
    response = acme_client.post("/console/login/verify/", {"code": code})
    assert response.status_code == 400
    assert "already used" in response.content.decode()
    assert SESSION_KEY not in acme_client.session
    user.refresh_from_db()
    assert user.totp_last_counter == totp.counter_at(time.time()) or user.totp_last_counter > 0


def test_an_older_code_than_the_last_used_one_is_refused(acme_client, totp_agent, password):
    user, clock = totp_agent
    now = time.time()
    user.totp_last_counter = totp.counter_at(now)
    user.save()
    login(acme_client, user.email, password)
    assert acme_client.post("/console/login/verify/", {"code": clock.at(now - 30)}).status_code == 400


@override_settings(CONSOLE_LOGIN_MAX_FAILURES=3)
def test_repeated_wrong_codes_lock_the_code_step(acme_client, totp_agent, password):
    user, clock = totp_agent
    login(acme_client, user.email, password)
    wrong = str((int(clock.now()) + 7) % 1_000_000).zfill(6)
    assert acme_client.post("/console/login/verify/", {"code": wrong}).status_code == 400
    assert acme_client.post("/console/login/verify/", {"code": wrong}).status_code == 400
    locked = acme_client.post("/console/login/verify/", {"code": wrong})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    refused = acme_client.post("/console/login/verify/", {"code": clock.now()})
    assert refused.status_code == 429
    assert SESSION_KEY not in acme_client.session


def test_code_step_without_a_password_step_goes_back_to_login(acme_client, tenant):
    assert acme_client.get("/console/login/verify/")["Location"] == "/console/login/"
    assert acme_client.post("/console/login/verify/", {"code": "123456"})["Location"] == "/console/login/"


def test_the_password_step_expires(acme_client, totp_agent, password):
    user, clock = totp_agent
    login(acme_client, user.email, password)
    session = acme_client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "at": time.time() - 3600}
    session.save()
    response = acme_client.post("/console/login/verify/", {"code": clock.now()})
    assert response["Location"] == "/console/login/"
    assert SESSION_KEY not in acme_client.session


# --- enrolment ------------------------------------------------------------------------------

def test_tenant_requiring_two_factor_sends_members_to_enrol_first(acme_client, tenant, agent, password):
    tenant.require_two_factor = True
    tenant.save()
    response = login(acme_client, agent.email, password)
    assert response["Location"] == "/console/"
    for path in ("/console/", "/console/profile/"):
        page = acme_client.get(path)
        assert page.status_code == 302
        assert page["Location"].startswith("/console/profile/two-factor/")
        assert unquote(page["Location"]).endswith(f"next={path}")
    setup = acme_client.get("/console/profile/two-factor/")
    assert setup.status_code == 200
    html = setup.content.decode()
    assert "requires two-factor sign-in" in html
    assert "<svg" in html and 'class="qr-code"' in html
    agent.refresh_from_db()
    assert agent.totp_secret and not agent.totp_enabled
    assert totp.format_secret(agent.totp_secret) in html
    assert "otpauth://totp/" in html
    # The same secret on a reload, so a scanned code keeps working.
    assert totp.format_secret(agent.totp_secret) in acme_client.get("/console/profile/two-factor/").content.decode()
    wrong = acme_client.post("/console/profile/two-factor/", {"code": "000000"})
    assert wrong.status_code == 400
    ok = acme_client.post("/console/profile/two-factor/?next=/console/profile/",
                          {"code": pyotp.TOTP(agent.totp_secret).now(), "next": "/console/profile/"})
    assert ok.status_code == 302 and ok["Location"] == "/console/profile/"
    agent.refresh_from_db()
    assert agent.totp_enabled and agent.totp_last_counter > 0
    assert acme_client.get("/console/").status_code == 200


def test_enrolment_from_the_profile_and_sign_in_with_it(acme_client, agent, password):
    acme_client.force_login(agent)
    profile = acme_client.get("/console/profile/").content.decode()
    assert "Set up two-factor sign-in" in profile
    acme_client.get("/console/profile/two-factor/")
    agent.refresh_from_db()
    response = acme_client.post("/console/profile/two-factor/", {"code": pyotp.TOTP(agent.totp_secret).now()})
    assert response.status_code == 302
    acme_client.post("/console/logout/")
    assert login(acme_client, agent.email, password)["Location"] == "/console/login/verify/"


def test_disabling_needs_a_current_code(acme_client, totp_agent):
    user, clock = totp_agent
    acme_client.force_login(user)
    assert "Turn off two-factor sign-in" in acme_client.get("/console/profile/").content.decode()
    bad = acme_client.post("/console/profile/two-factor/disable/", {"code": "000000"})
    assert bad.status_code == 400
    user.refresh_from_db()
    assert user.totp_enabled
    ok = acme_client.post("/console/profile/two-factor/disable/", {"code": clock.now()})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert not user.totp_enabled and user.totp_secret == ""


def test_disabling_is_refused_where_a_tenant_requires_it(acme_client, tenant, totp_agent):
    user, clock = totp_agent
    tenant.require_two_factor = True
    tenant.save()
    acme_client.force_login(user)
    page = acme_client.get("/console/profile/").content.decode()
    assert "cannot be turned off" in page
    response = acme_client.post("/console/profile/two-factor/disable/", {"code": clock.now()})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.totp_enabled


def test_disabling_is_refused_when_another_of_the_persons_tenants_requires_it(acme_client, tenant, other_tenant):
    other_tenant.require_two_factor = True
    other_tenant.save()
    user = UserFactory(email="two@example.com")
    MembershipFactory(tenant=tenant, user=user, role=Role.AGENT)
    MembershipFactory(tenant=other_tenant, user=user, role=Role.AGENT)
    clock = enable_totp(user)
    acme_client.force_login(user)
    assert acme_client.post("/console/profile/two-factor/disable/", {"code": clock.now()}).status_code == 400
    user.refresh_from_db()
    assert user.totp_enabled


def test_setup_page_when_already_enabled_goes_to_the_profile(acme_client, totp_agent):
    user, _clock = totp_agent
    acme_client.force_login(user)
    assert acme_client.get("/console/profile/two-factor/")["Location"] == "/console/profile/"
