"""The requester card in a real browser: the ticket page shows at once, the panel of the
tenant's own systems arrives afterwards, and nothing the shop sends runs in the page."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.core.people.shop import SECRET, shop  # noqa: F401 - the fixture
from tests.e2e.helpers import acme_desk, signed_in
from tests.factories import CustomerDataIntegrationFactory
from tests.tickets.factories import TicketFactory
from tickets.models import Channel, Status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def tenant_url(live_server_url: str) -> str:
    return re.sub(r"//(localhost|127\.0\.0\.1)", "//acme.localhost", live_server_url)


def test_the_panel_loads_after_the_page_and_stays_inert(browser, live_server, shop):  # noqa: F811
    desk = acme_desk()
    acme, grace = desk["tenant"], desk["grace"]
    ticket = TicketFactory(tenant=acme, requester=grace, number=42, subject="Where is my parcel?")
    TicketFactory(tenant=acme, requester=grace, number=41, subject="Chat about sizes", channel=Channel.CHAT,
                  status=Status.OPEN)
    CustomerDataIntegrationFactory(tenant=acme, url=shop.url, secret=SECRET, name="Shop", timeout_ms=6000)
    shop.answer_json({"title": HOSTILE, "sections": [
        {"title": "Plan", "fields": [{"label": "Plan", "value": "Gold"},
                                     {"label": "Bad link", "value": HOSTILE, "url": "javascript:window.__xss=3"}]},
    ]}, delay=3)
    base = tenant_url(live_server.url)
    context = signed_in(browser, desk["ada"], base)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        started = time.monotonic()
        page.goto(f"{base}/console/tickets/{ticket.number}/")
        card = page.locator(".requester-card")
        expect(card.get_by_role("link", name="#41 Chat about sizes")).to_be_visible()
        panel = page.locator("#integration-panel")
        # The slow shop did not hold the page back: it is shown while the panel still waits.
        assert time.monotonic() - started < 3
        expect(panel).to_have_attribute("aria-busy", "true")
        expect(panel.get_by_text("Gold")).to_be_visible(timeout=10_000)
        expect(panel).to_have_attribute("aria-busy", "false")
        assert panel.locator("img, script").count() == 0
        assert panel.locator("a[href^='javascript']").count() == 0
        expect(panel.get_by_role("heading", level=4)).to_contain_text("<img src=x")
        assert page.evaluate("window.__xss") is None and not dialogs
        assert shop.requests[0].signature_ok
    finally:
        # Leaving the ticket page posts the measured time: let that request end before the
        # test database is flushed.
        page.goto("about:blank")
        page.wait_for_timeout(500)
        context.close()
