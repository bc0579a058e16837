"""An agent's ticket work in a real browser: a view, a ticket, a macro, a reply, a colleague's
presence and a live update, over daphne (HTTP and websockets) on the test database.

Run on their own: ``python -m pytest -m e2e tests/e2e/test_tickets.py``.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.factories import OutboundEmailFactory
from tests.e2e.helpers import acme_desk, elsewhere, signed_in
from tests.tickets.factories import MacroFactory, MessageFactory, TicketFactory
from tickets.models import Message, MessageKind, Status, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db):
    """Acme with two agents, a shared view, a macro and a ticket from Grace (made with factories:
    services would push events from this thread, which Playwright's loop occupies)."""
    desk = acme_desk()
    acme, grace = desk["tenant"], desk["grace"]
    MacroFactory(tenant=acme, name="Ask for the order number",
                 actions=[{"field": "status", "value": "pending"}, {"field": "add_tags", "value": ["asked"]}],
                 reply={"en": "Hi {{ requester.first_name }}, could you send the order number for "
                              "#{{ ticket.number }}?"})
    TicketFactory(tenant=acme, number=41, subject="An older solved one", requester=grace, status=Status.SOLVED)
    ticket = TicketFactory(tenant=acme, number=42, subject="My parcel never arrived", requester=grace,
                           status=Status.NEW)
    MessageFactory(tenant=acme, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=grace,
                   body_text="I ordered two weeks ago and nothing came.")
    return {**desk, "ticket": ticket}


def test_an_agent_works_a_ticket_with_a_colleague_nearby(browser, eager_server, desk):
    base = f"http://acme.localhost:{eager_server}"
    ticket = desk["ticket"]
    ada_context = signed_in(browser, desk["ada"], base)
    bob_context = signed_in(browser, desk["bob"], base)
    try:
        ada = ada_context.new_page()
        ada.goto(f"{base}/console/tickets/")
        expect(ada.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets")).to_be_visible()

        # A view, then the ticket, with the keyboard.
        ada.get_by_role("navigation", name="Views").get_by_role("link", name="Unsolved tickets").click()
        expect(ada.get_by_role("heading", level=1)).to_have_text("Unsolved tickets")
        rows = ada.locator(".ticket-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("My parcel never arrived")
        ada.keyboard.press("j")
        expect(rows.first).to_have_class(re.compile("is-focused"))
        ada.keyboard.press("Enter")
        expect(ada).to_have_url(f"{base}/console/tickets/42/")
        expect(ada.get_by_role("heading", level=1)).to_contain_text("My parcel never arrived")
        expect(ada.locator(".requester-card")).to_contain_text("An older solved one")

        # The help dialog.
        ada.keyboard.press("?")
        dialog = ada.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Assign the ticket to me")
        ada.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

        # A macro: its reply lands in the box, its changes in the properties panel.
        ada.get_by_role("button", name="Apply macro").click()
        box = ada.get_by_role("textbox", name="Message")
        expect(box).to_have_value("Hi Grace, could you send the order number for #42?")
        expect(ada.locator("#properties-form select[name=status]")).to_have_value("pending")
        expect(ada.locator("#properties-form input[name=tags]")).to_have_value("asked")
        expect(ada.locator(".ticket-meta .status")).to_have_text("Pending")
        expect(ada.locator("#ticket-live")).to_be_hidden()  # her own change is not "someone else's"

        # A colleague opens the same ticket: Ada sees him, and sees him replying.
        bob = bob_context.new_page()
        bob.goto(f"{base}/console/tickets/42/")
        presence = ada.locator("#presence-list")
        expect(presence).to_contain_text("Bob Marley (viewing)")
        expect(bob.locator("#presence-list")).to_contain_text("Ada Lovelace (viewing)")
        bob.keyboard.press("n")
        expect(bob.get_by_role("radio", name="Internal note")).to_be_checked()
        bob.get_by_role("textbox", name="Message").type("Checking with the courier")
        expect(presence).to_contain_text("Bob Marley (replying…)")
        bob.get_by_role("button", name="Send", exact=True).click()
        expect(bob.locator(".entry-note").last).to_contain_text("Checking with the courier")

        # Live: Bob's note appears on Ada's page without a reload, and Bob is back (viewing).
        expect(ada.locator(".entry-note").last).to_contain_text("Checking with the courier")
        expect(ada.locator("#ticket-live")).to_be_visible()
        expect(presence).to_contain_text("Bob Marley (viewing)")

        # Ada sends her reply: Bob's note came after she loaded the ticket, so the stale-reply
        # guard stops it once, keeps her draft and shows what changed; the second send goes out.
        ada.get_by_role("button", name="Send", exact=True).click()
        notice = ada.get_by_role("alert").filter(has_text="changed while you were working on it")
        expect(notice).to_be_visible()
        expect(box).to_have_value("Hi Grace, could you send the order number for #42?")
        ada.get_by_role("button", name="Send", exact=True).click()
        expect(ada.locator(".entry-public").last).to_contain_text("Hi Grace, could you send the order number")
        # The reply reached Bob's page live too.
        expect(bob.locator(".entry-public").last).to_contain_text("Hi Grace, could you send the order number")

        # The list updates a changed ticket's row in place (tests/e2e/test_ticket_list_live.py).
        bob.goto(f"{base}/console/tickets/")
        expect(bob.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        ada.get_by_role("radio", name="Internal note").check()
        box.fill("Courier confirmed the loss")
        ada.get_by_role("button", name="Send", exact=True).click()
        expect(bob.locator(".ticket-row.is-changed")).to_have_count(1)
        expect(bob.locator(".ticket-row.is-changed")).to_contain_text("My parcel never arrived")
        expect(bob.locator("#live-bar")).to_be_hidden()
    finally:
        ada_context.close()
        bob_context.close()

    with tenant_scope(desk["tenant"]):
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert fresh.status == Status.PENDING
        kinds = list(Message.objects.filter(ticket=fresh).order_by("id").values_list("kind", flat=True))
    assert kinds.count(MessageKind.PUBLIC) == 2 and kinds.count(MessageKind.NOTE) == 2
    assert MessageKind.SYSTEM in kinds


def test_a_mail_that_fails_shows_on_the_open_ticket_page_without_a_reload(browser, asgi_server, desk, smtp_inbox):
    from channels_hub.services.outbox import outbound_send

    ticket = desk["ticket"]
    answer = MessageFactory(tenant=desk["tenant"], ticket=ticket, kind=MessageKind.PUBLIC, author_user=desk["ada"],
                            body_text="Could you send the order number?")
    mail = OutboundEmailFactory(tenant=desk["tenant"], ticket=ticket, ticket_message=answer, kind="reply",
                                to=["grace@customer.example"])
    base = f"http://acme.localhost:{asgi_server}"
    context = signed_in(browser, desk["ada"], base)
    try:
        ada = context.new_page()
        said = []
        ada.on("websocket", lambda ws: ws.on("framereceived", lambda frame: said.append(frame))
               if "/ws/tickets/" in ws.url else None)
        ada.goto(f"{base}/console/tickets/{ticket.number}/")
        for _ in range(100):  # the page's socket has joined the ticket's group
            if any('"hello"' in frame for frame in said):
                break
            ada.wait_for_timeout(100)
        ada.evaluate("window.__sameTicketPage = 'still here'")
        item = ada.locator(f"#email-delivery-{mail.pk}")
        expect(item).to_contain_text("Queued")
        expect(ada.locator("#connector-panel-live")).to_be_attached()  # empty, waiting for a first one
        item.get_by_role("link", name="Reply").focus()

        smtp_inbox.reply = "550 5.1.1 mailbox unavailable"

        def fail():
            with tenant_scope(desk["tenant"]):
                assert outbound_send(outbound_id=mail.pk) == "failed"

        elsewhere(fail)
        expect(item).to_contain_text("Failed")
        expect(item).to_contain_text("550 5.1.1 mailbox unavailable")
        expect(ada.locator("#email-panel-live")).to_have_attribute("aria-live", "polite")
        assert ada.evaluate("window.__sameTicketPage") == "still here"  # no reload
        # The focus stays on the same delivery's link, not lost to the page.
        assert ada.evaluate("document.activeElement.closest('[data-delivery-id]')?.dataset.deliveryId") == str(
            mail.pk)
    finally:
        context.close()

