"""The request portal in a real browser: a customer submits a request, the acknowledgement and
a sign-in link arrive at a real SMTP server, the link signs her in, an agent replies, and she
reads the reply and answers.

Run on their own: ``RUN_E2E=1 python -m pytest -m e2e tests/e2e/test_portal.py -p no:xdist``.
"""
from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import TenantFactory, agent_in
from tickets.models import Status, Ticket, Via

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tenant_url(live_server_url: str, slug: str) -> str:
    # *.localhost resolves to the loopback address in Chromium.
    return re.sub(r"//(localhost|127\.0\.0\.1)", f"//{slug}.localhost", live_server_url)


def wait_for_mail(inbox, count: int, seconds: float = 15) -> list:
    deadline = time.monotonic() + seconds
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(inbox.messages) >= count, [m["message"]["Subject"] for m in inbox.messages]
    return inbox.messages


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def in_thread(fn) -> None:
    """Run ``fn`` on a thread of its own: services push events with ``async_to_sync``, which
    cannot run on this thread while Playwright's loop occupies it."""
    errors = []

    def run():
        from django.db import connection

        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - re-raised on the test thread below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


@pytest.fixture
def acme(db):
    tenant = TenantFactory(slug="acme", name="Acme Ltd", brand_name="Acme Support", brand_color="#0a7d5a")
    ada = agent_in(tenant, role=Role.AGENT, email="ada@acme.test")
    ada.full_name = "Ada Lovelace"
    ada.save()
    return {"tenant": tenant, "ada": ada}


def test_a_customer_submits_signs_in_by_link_and_reads_the_agents_reply(page, live_server, smtp_inbox, settings,
                                                                         acme):
    port = live_server.url.rsplit(":", 1)[1]
    settings.PUBLIC_PORT = port  # links in the mail point at the test server
    settings.PORTAL_MIN_SUBMIT_SECONDS = 1
    base = tenant_url(live_server.url, "acme")

    # Submit a request, signed out.
    page.goto(f"{base}/hc/requests/new/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".brand-name")).to_have_text("Acme Support")
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a request")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your email address").fill("grace@customer.example")
    page.get_by_label("Subject").fill("My parcel never arrived")
    page.get_by_label("How can we help?").fill("I ordered two weeks ago and nothing came.")
    page.wait_for_timeout(1100)  # a person takes longer than the form's minimum
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: we have received your request")
    with tenant_scope(acme["tenant"]):
        ticket = Ticket.objects.get()
    expect(page.locator(".request-number")).to_contain_text(f"#{ticket.number}")
    assert ticket.channel == "web" and ticket.status == Status.NEW

    # The acknowledgement and the sign-in link arrive at the SMTP server.
    mails = {m["message"]["Subject"]: m for m in wait_for_mail(smtp_inbox, 2)}
    ack = next(m for s, m in mails.items() if "We received your request" in s)
    assert ack["to"] == ["grace@customer.example"] and "My parcel never arrived" in ack["message"]["Subject"]
    assert f"#{ticket.number}" in text_of(ack["message"])
    signin = next(m for s, m in mails.items() if "sign-in link" in s)
    link = re.search(r"http://\S+/hc/signin/\S+/", text_of(signin["message"])).group(0)
    assert link.startswith(f"{base}/hc/signin/")

    # The link signs her in and brings her to the request.
    page.goto(link)
    expect(page.get_by_text("You are signing in as grace@customer.example.")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/hc/requests/{ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My parcel never arrived")
    expect(page.locator(".status")).to_have_text("Open")

    # An agent answers (and leaves a note the customer must not see).
    def agent_replies():
        from tickets.services.messages import message_add

        with tenant_scope(acme["tenant"]):
            fresh = Ticket.objects.get(pk=ticket.pk)
            message_add(ticket=fresh, actor=acme["ada"], via=Via.CONSOLE, public=False,
                        body="Courier says it is lost; refund approved.")
            message_add(ticket=fresh, actor=acme["ada"], via=Via.CONSOLE, public=True,
                        body="Sorry about that! A new parcel leaves today.")

    in_thread(agent_replies)
    page.reload()
    conversation = page.locator(".conversation")
    expect(conversation).to_contain_text("Sorry about that! A new parcel leaves today.")
    expect(conversation.locator(".entry-agent .author")).to_have_text("Ada")
    expect(conversation).not_to_contain_text("refund approved")

    # She answers in the portal; the list shows her request.
    page.get_by_label("Your reply").fill("Thank you, that is great.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".notices")).to_contain_text("Your reply was sent.")
    expect(conversation.locator(".entry-customer").last).to_contain_text("Thank you, that is great.")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My requests").click()
    expect(page.get_by_role("link", name="My parcel never arrived")).to_be_visible()
