"""Answering first in a real browser. On the agent's side: a ticket whose subject matches an
article shows it beside the conversation, one click (or the keyboard) puts its public link or
its text into the reply at the cursor, and the sent reply carries the link. On the customer's
side: articles appear while a request is written, open in a new tab, and the visit's outcome
is recorded.

Run on their own: ``RUN_E2E=1 python -m pytest -m e2e tests/e2e/test_kb_agent.py -p no:xdist``.
"""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import SearchEvent, SelfServiceSession
from tests.e2e.helpers import acme_desk, signed_in
from tests.knowledge.answering_helpers import help_center
from tests.tickets.factories import MessageFactory, TicketFactory
from tickets.models import Message, MessageKind, Status, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tenant_url(live_server_url: str) -> str:
    return re.sub(r"//(localhost|127\.0\.0\.1)", "//acme.localhost", live_server_url)


def in_thread(fn):
    """Run ``fn`` on a thread of its own (the content services emit events with
    ``async_to_sync``, which cannot run on this thread while Playwright's loop occupies it)."""
    out, errors = [], []

    def run():
        from django.db import connection

        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - re-raised on the test thread below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    return out[0]


def test_an_agent_inserts_a_suggested_article_into_a_reply(browser, live_server, settings):
    desk = acme_desk()
    acme, grace = desk["tenant"], desk["grace"]
    hc = in_thread(lambda: help_center(acme))
    ticket = TicketFactory(tenant=acme, number=42, subject="How can I track my parcel?", requester=grace,
                           status=Status.OPEN)
    MessageFactory(tenant=acme, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=grace,
                   body_text="My parcel never arrived. Where is it?")
    settings.PUBLIC_PORT = live_server.url.rsplit(":", 1)[1]  # public links point at the test server
    base = tenant_url(live_server.url)
    article_url = re.compile(re.escape(f"{base}/hc/en/articles/{hc.tracking.pk}-") + r"[a-z0-9-]+/")

    context = signed_in(browser, desk["ada"], base)
    page = context.new_page()
    try:
        page.goto(f"{base}/console/tickets/42/")
        panel = page.get_by_role("region", name="Help center articles")
        suggestion = panel.locator(".kb-item").filter(has_text="How do I track my parcel?")
        expect(suggestion).to_be_visible()
        expect(panel.locator("[data-kb-status]")).to_have_text(re.compile(r"\d+ articles? found\."))
        # Internal articles would be marked; none of them matches this ticket's words as well.
        expect(suggestion.locator(".badge")).to_have_count(0)

        # The agent starts writing, then inserts the article's link where the cursor is.
        box = page.get_by_role("textbox", name="Message")
        box.fill("Hi Grace, this shows where your parcel is:")
        suggestion.get_by_role("button", name="Insert link: How do I track my parcel?").click()
        expect(box).to_have_value(re.compile(r"^Hi Grace, this shows where your parcel is: How do I track my "
                                             r"parcel\? " + article_url.pattern + "$"))
        expect(box).to_be_focused()
        expect(panel.locator("[data-kb-status]")).to_have_text("Link inserted into the reply.")
        inserted = box.input_value()

        # The keyboard does the same: the text of the article, on lines of its own.
        box.press("End")
        insert_text = suggestion.get_by_role("button", name="Insert text: How do I track my parcel?")
        insert_text.focus()
        page.keyboard.press("Enter")
        expect(box).to_have_value(re.compile(r"\n\nOpen the tracking link in your shipping email"))
        expect(panel.locator("[data-kb-status]")).to_have_text("Article text inserted into the reply.")
        assert box.input_value().startswith(inserted)

        # Sent: the reply in the conversation, and in the database, carries the link.
        page.get_by_role("button", name="Send", exact=True).click()
        last = page.locator(".entry-public").last
        expect(last).to_contain_text("How do I track my parcel?")
        expect(last).to_contain_text(f"{base}/hc/en/articles/{hc.tracking.pk}-")
        with tenant_scope(acme):
            reply = Message.objects.filter(ticket=ticket, author_user=desk["ada"], kind=MessageKind.PUBLIC).get()
        assert article_url.search(reply.body_text)
        assert "Open the tracking link in your shipping email" in reply.body_text
    finally:
        # Leaving the ticket page posts the measured time: let that request end first.
        page.goto("about:blank")
        page.wait_for_timeout(500)
        context.close()


def test_a_customer_sees_articles_while_writing_a_request(browser, live_server, settings):
    desk = acme_desk()
    acme = desk["tenant"]
    hc = in_thread(lambda: help_center(acme))
    settings.PORTAL_MIN_SUBMIT_SECONDS = 1
    base = tenant_url(live_server.url)
    context = browser.new_context(locale="en-US", timezone_id="Europe/Istanbul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{base}/hc/requests/new/")
        suggestions = page.get_by_role("region", name="These articles may answer your question")
        expect(suggestions).to_be_hidden()
        page.get_by_label("Subject").fill("Where is my parcel? I want to track it")
        link = suggestions.get_by_role("link", name="How do I track my parcel?")
        expect(link).to_be_visible()
        expect(page.locator("#request-suggestions-status")).to_have_text(re.compile(r"may answer your question"))
        for hidden in ("Parcel escalation checklist for agents", "Parcel insurance for members"):
            expect(suggestions.get_by_text(hidden)).to_have_count(0)

        # The article opens in a new tab; what was written stays.
        with context.expect_page() as opened:
            link.click()
        article = opened.value
        article.wait_for_load_state()
        assert re.search(rf"/hc/en/articles/{hc.tracking.pk}-", article.url), article.url
        article.close()
        expect(page.get_by_label("Subject")).to_have_value("Where is my parcel? I want to track it")

        # She writes to us anyway: the visit ends in a ticket (not deflected).
        page.get_by_label("Your name").fill("Grace Hopper")
        page.get_by_label("Your email address").fill("grace@customer.example")
        page.get_by_label("How can we help?").fill("The tracking link shows nothing since Monday.")
        page.wait_for_timeout(1100)  # the form's minimum time to fill in
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("we have received your request")
        with tenant_scope(acme):
            # The search she clicked in; typing on after reading is a search of its own.
            searches = list(SearchEvent.objects.filter(source="request_form").order_by("id"))
            visit = SelfServiceSession.objects.get()
            ticket = Ticket.objects.get()
        assert searches[0].clicked_article_id == hc.tracking.pk
        assert all(s.session_id == visit.pk for s in searches) and len(searches) <= 2
        assert visit.outcome == "ticket" and visit.ticket_id == ticket.pk
    finally:
        context.close()
