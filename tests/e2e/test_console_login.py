"""The console in a real browser: sign-in with password and authenticator code, in
English and in Turkish, and the live connection."""
from __future__ import annotations

import asyncio
import re
import threading

import pyotp
import pytest
from playwright.sync_api import expect

from helpdesk.console import totp
from helpdesk.tenancy.roles import Role
from tests.factories import PASSWORD, TenantFactory, agent_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tenant_url(live_server_url: str, slug: str) -> str:
    # *.localhost resolves to the loopback address in Chromium.
    return re.sub(r"//(localhost|127\.0\.0\.1)", f"//{slug}.localhost", live_server_url)


@pytest.fixture
def acme(db):
    return TenantFactory(slug="acme", name="Acme Ltd", brand_color="#0a7d5a")


def person_with_totp(tenant, email: str, role=Role.AGENT, **fields):
    user = agent_in(tenant, role=role, email=email)
    user.totp_secret = totp.new_secret()
    user.totp_enabled = True
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()
    return user, pyotp.TOTP(user.totp_secret)


def sign_in(page, base: str, email: str, clock: pyotp.TOTP, *, email_label: str, password_label: str,
            submit: str, code_label: str, verify: str) -> None:
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label, exact=True).fill(PASSWORD)
    page.get_by_role("button", name=submit).click()
    expect(page).to_have_url(f"{base}/console/login/verify/")
    page.get_by_role("textbox", name=code_label).fill(clock.now())
    page.get_by_role("button", name=verify).click()
    expect(page).to_have_url(f"{base}/console/")


def test_sign_in_with_password_and_code_in_english(page, live_server, acme):
    user, clock = person_with_totp(acme, "ada@acme.test", full_name="Ada Lovelace")
    base = tenant_url(live_server.url, "acme")
    page.goto(f"{base}/console/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".brand-name")).to_have_text("Acme Ltd")

    # A wrong password first: a clear message, still on the page.
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The email or password is not right")

    sign_in(page, base, user.email, clock, email_label="Email", password_label="Password", submit="Sign in",
            code_label="Two-factor code", verify="Verify")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Good (morning|afternoon|evening), Ada"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")).to_be_visible()
    expect(page.get_by_text("Reply publicly to customers")).to_be_visible()

    # Keyboard: the first Tab reaches the skip link, which moves focus to the main area.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    # Sign out through the user menu (a POST form), back to the login page.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/console/login/")


def test_sign_in_with_password_and_code_in_turkish(page, live_server, acme):
    user, clock = person_with_totp(acme, "ayse@acme.test", full_name="Ayşe Yılmaz")
    base = tenant_url(live_server.url, "acme")
    page.goto(f"{base}/console/login/")
    page.get_by_label("Language").select_option("tr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.get_by_role("heading", name="Giriş yap")).to_be_visible()
    expect(page.get_by_label("E-posta")).to_be_visible()
    expect(page.get_by_label("Parola", exact=True)).to_be_visible()

    page.get_by_label("E-posta").fill(user.email)
    page.get_by_label("Parola", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Giriş yap").click()
    expect(page.get_by_role("heading", name="İki adımlı doğrulama kodu")).to_be_visible()
    page.get_by_role("textbox", name="İki adımlı doğrulama kodu").fill("000000" if clock.now() != "000000" else "111111")
    page.get_by_role("button", name="Doğrula").click()
    expect(page.get_by_text("Bu kod geçerli değil")).to_be_visible()
    page.get_by_role("textbox", name="İki adımlı doğrulama kodu").fill(clock.now())
    page.get_by_role("button", name="Doğrula").click()
    expect(page).to_have_url(f"{base}/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"(Günaydın|İyi günler|İyi akşamlar), Ayşe"))
    expect(page.get_by_text("Yapabilecekleriniz")).to_be_visible()
    expect(page.get_by_text("Temsilci", exact=True)).to_be_visible()
    user.refresh_from_db()
    assert user.locale == "tr"  # the choice made before signing in is kept


def test_enrolment_required_by_the_tenant_in_the_browser(page, live_server, acme):
    acme.require_two_factor = True
    acme.save()
    user = agent_in(acme, email="new@acme.test")
    base = tenant_url(live_server.url, "acme")
    page.goto(f"{base}/console/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator("svg.qr-code")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_role("textbox", name="Two-factor code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page).to_have_url(f"{base}/console/")
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()


def _push(group: str, event: dict) -> None:
    """group_send from a worker thread with its own loop (this thread has Playwright's)."""
    from channels.layers import get_channel_layer

    errors = []

    def target():
        try:
            asyncio.run(get_channel_layer().group_send(group, {"type": "event.push", "event": event}))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    assert not errors, errors


def test_live_indicator_connects_and_pushed_events_become_toasts(page, asgi_server, acme):
    from helpdesk.events.realtime import agents_group

    user, clock = person_with_totp(acme, "live@acme.test")
    base = f"http://acme.localhost:{asgi_server}"
    page.goto(f"{base}/console/login/")
    sign_in(page, base, user.email, clock, email_label="Email", password_label="Password", submit="Sign in",
            code_label="Two-factor code", verify="Verify")
    indicator = page.locator("#live-indicator")
    expect(indicator).to_have_attribute("data-state", "connected")
    expect(indicator).to_contain_text("Live")
    _push(agents_group(acme.pk), {"type": "ticket.created", "message": "<b>New ticket</b> #42"})
    toast = page.locator("#toasts .toast").last
    expect(toast).to_contain_text("<b>New ticket</b> #42")  # shown as text, never as markup
    assert page.locator("#toasts b").count() == 0
