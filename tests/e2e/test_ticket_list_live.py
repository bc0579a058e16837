"""The ticket list in a real browser: rows change in place when their tickets change (no
reload, nothing reshuffled), tickets that join or leave the list are only announced, and
the table fits a 1280-pixel-wide screen without widening the page.

Run on their own: ``RUN_E2E=1 python -m pytest -p no:xdist -m e2e tests/e2e/test_ticket_list_live.py``.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import acme_desk, elsewhere, signed_in
from tests.factories import ContactFactory, TeamFactory
from tests.tickets.factories import SavedViewFactory, TagFactory, TicketFactory, TicketTagFactory
from tickets.models import Priority, Status, Via

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 1280
NO_PAGE_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def desk(db):
    """Acme with two agents, a view of unsolved tickets and two tickets from Grace (factories:
    nothing is pushed while the browser's loop holds this thread)."""
    desk = acme_desk()
    acme, grace = desk["tenant"], desk["grace"]
    parcel = TicketFactory(tenant=acme, number=42, subject="My parcel never arrived", requester=grace,
                           status=Status.OPEN, priority=Priority.NORMAL)
    invoice = TicketFactory(tenant=acme, number=43, subject="Invoice copy", requester=grace,
                            status=Status.OPEN, priority=Priority.LOW)
    return {**desk, "parcel": parcel, "invoice": invoice}


def open_list(context, base: str, path: str = "/console/tickets/"):
    page = context.new_page()
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(f"{base}{path}")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    page.evaluate("window.__sameListPage = 'still here'")
    return page


def test_a_changed_ticket_updates_its_row_in_place(browser, eager_server, desk):
    from tickets.services import ticket_update

    base = f"http://acme.localhost:{eager_server}"
    context = signed_in(browser, desk["ada"], base)
    try:
        ada = open_list(context, base)
        row = ada.locator('.ticket-row[data-ticket-id="%d"]' % desk["parcel"].pk)
        expect(row).to_contain_text("Normal")
        expect(row).to_contain_text("Unassigned")
        order = ada.locator(".ticket-row").evaluate_all("rows => rows.map(r => r.dataset.ticketId)")
        row.get_by_role("checkbox").check()  # selected for a bulk change: stays selected
        expect(ada.locator("#bulk-count")).to_have_text("1 selected.")

        elsewhere(lambda: ticket_update(ticket=desk["parcel"], actor=desk["bob"], via=Via.CONSOLE,
                                        priority=Priority.URGENT, assignee=desk["bob"],
                                        subject="My parcel never arrived (courier lost it)"))

        expect(row.locator(".priority")).to_have_text("Urgent")
        expect(row).to_contain_text("Bob Marley")
        expect(row.locator(".ticket-subject")).to_have_text("My parcel never arrived (courier lost it)")
        expect(row).to_have_class(re.compile(r"\bis-changed\b"))
        # In place: no reload, the same rows in the same order, and no "refresh" bar.
        assert ada.evaluate("window.__sameListPage") == "still here"
        assert ada.locator(".ticket-row").evaluate_all("rows => rows.map(r => r.dataset.ticketId)") == order
        expect(ada.locator("#live-bar")).to_be_hidden()
        expect(row.get_by_role("checkbox")).to_be_checked()
        expect(ada.locator("#bulk-count")).to_have_text("1 selected.")
        # The swapped-in row works like the others: a click focuses it, Enter opens it.
        row.locator(".col-status").click()
        expect(row).to_have_class(re.compile(r"\bis-focused\b"))
        ada.keyboard.press("Enter")
        expect(ada).to_have_url(f"{base}/console/tickets/42/")
    finally:
        context.close()


def test_tickets_leaving_or_joining_the_view_are_announced_not_moved(browser, eager_server, desk):
    from tickets.services import ticket_create, ticket_update

    base = f"http://acme.localhost:{eager_server}"
    context = signed_in(browser, desk["ada"], base)
    try:
        ada = open_list(context, base, f"/console/tickets/?view={desk['view'].pk}")
        expect(ada.locator(".ticket-row")).to_have_count(2)
        parcel = ada.locator('.ticket-row[data-ticket-id="%d"]' % desk["parcel"].pk)

        # Solved elsewhere: no longer in "Unsolved tickets", but the row stays (dimmed) until
        # Ada refreshes, and the bar says so.
        elsewhere(lambda: ticket_update(ticket=desk["parcel"], actor=desk["bob"], via=Via.CONSOLE,
                                        status=Status.PENDING))
        bar = ada.locator("#live-bar")
        expect(bar).to_be_visible()
        expect(bar).to_contain_text("1 ticket changed.")
        expect(parcel).to_have_class(re.compile(r"\bis-gone\b"))
        expect(ada.locator(".ticket-row")).to_have_count(2)

        # A new ticket that belongs in the view: announced, not inserted.
        elsewhere(lambda: ticket_create(tenant=desk["tenant"], actor=desk["bob"], via=Via.CONSOLE,
                                        subject="Wrong size delivered", requester=desk["grace"]))
        expect(bar).to_contain_text("New tickets arrived.")
        expect(ada.locator(".ticket-row")).to_have_count(2)
        assert ada.evaluate("window.__sameListPage") == "still here"

        # The bar's link shows the list as it is now.
        bar.get_by_role("link", name="Refresh").click()
        expect(ada.locator(".ticket-row")).to_have_count(2)
        expect(ada.locator(".ticket-table")).to_contain_text("Wrong size delivered")
        expect(ada.locator(".ticket-table")).not_to_contain_text("My parcel never arrived")
    finally:
        context.close()


def test_the_list_fits_a_1280_pixel_screen(browser, eager_server, desk):
    from helpdesk.tenancy.context import tenant_scope
    from tickets.services import ticket_create
    from tickets.sla.defaults import sla_defaults_create

    acme = desk["tenant"]
    team = TeamFactory(tenant=acme, name="Returns")

    def everyday_ticket():
        with tenant_scope(acme):
            sla_defaults_create(acme)  # so the SLA column shows a running target
        ticket_create(tenant=acme, actor=desk["bob"], via=Via.CONSOLE, subject="Where is my refund?",
                      requester=desk["grace"], priority=Priority.HIGH, assignee=desk["bob"], team=team)

    elsewhere(everyday_ticket)
    base = f"http://acme.localhost:{eager_server}"
    context = signed_in(browser, desk["ada"], base)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": WIDTH, "height": 800})
        # Everyday tickets in the default columns fit as they are: nothing to scroll at all.
        page.goto(f"{base}/console/tickets/")
        expect(page.locator(".ticket-row")).to_have_count(3)
        expect(page.locator(".ticket-row .col-sla_next_due_at").first).not_to_have_text("—")
        assert page.evaluate(NO_PAGE_OVERFLOW)
        region = page.get_by_role("region", name="Ticket list")
        assert region.evaluate("el => el.scrollWidth <= el.clientWidth"), region.evaluate(
            "el => [el.scrollWidth, el.clientWidth, Array.from(el.querySelectorAll('tr')[1].cells).map(c => c.className + ':' + Math.round(c.getBoundingClientRect().width)).join(' ')]")

        # Long names, long subjects and every column: the subject gives way with an ellipsis
        # (the full text in its title), and what is still too wide scrolls inside its own
        # focusable box; the page itself never gets wider than the screen.
        tag = TagFactory(tenant=acme, name="refund-requested-by-customer")
        long_team = TeamFactory(tenant=acme, name="Returns and exchanges for the northern region")
        long_name = ContactFactory(tenant=acme, name="Maximiliane Alexandra von Hohenzollern-Sigmaringen")
        for number in range(100, 112):
            ticket = TicketFactory(
                tenant=acme, number=number, requester=long_name, assignee=desk["bob"], team=long_team,
                status=Status.OPEN, priority=Priority.HIGH,
                subject="The parcel I ordered for my grandmother's ninetieth birthday party arrived "
                        "crushed, soaked and without the card that was supposed to be inside")
            TicketTagFactory(tenant=acme, ticket=ticket, tag=tag)
        every_column = SavedViewFactory(tenant=acme, name="Everything", position=2, conditions={}, columns=[
            "number", "subject", "requester", "organization", "status", "priority", "type", "channel",
            "assignee", "team", "tags", "sla_next_due_at", "updated_at", "created_at"])
        for path in ("/console/tickets/", f"/console/tickets/?view={desk['view'].pk}",
                     f"/console/tickets/?view={every_column.pk}"):
            page.goto(f"{base}{path}")
            expect(page.locator(".ticket-row").first).to_be_visible()
            assert page.evaluate(NO_PAGE_OVERFLOW), (path, page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"))
            subject = page.locator(".ticket-row .col-subject").filter(has_text="grandmother").first
            assert subject.evaluate("td => td.scrollWidth > td.clientWidth")
            assert subject.evaluate("td => getComputedStyle(td).textOverflow") == "ellipsis"
            expect(subject.locator("a")).to_have_attribute("title", re.compile("without the card"))
        region = page.get_by_role("region", name="Ticket list")
        expect(region).to_have_attribute("tabindex", "0")
        assert region.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        assert region.evaluate("el => el.scrollWidth > el.clientWidth")  # every column: it scrolls
        region.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("document.querySelector('.table-scroll').scrollLeft > 0")
    finally:
        context.close()
