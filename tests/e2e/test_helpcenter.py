"""The help center in a real browser, as a Turkish customer: the tenant's address opens the help
center in Turkish, she searches with a suffixed form ("siparişlerim"), picks the result, reads
the article, says it helped (in place, by script), and then contacts support from the same
page: the request form opens with her search, and the request she sends is a ticket with her
text, counted as the end of her self-service visit.

Run on their own: ``RUN_E2E=1 python -m pytest -m e2e tests/e2e/test_helpcenter.py -p no:xdist``.
"""
from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from helpdesk.tenancy.context import tenant_scope
from tests.e2e.test_portal import in_thread, tenant_url
from tests.factories import TenantFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tr(msgid: str) -> str:
    """The Turkish of an interface string (its English until the catalogue is compiled)."""
    with translation.override("tr"):
        return gettext(msgid)


@pytest.fixture
def acme(db):
    tenant = TenantFactory(slug="acme", name="Acme Ltd", brand_name="Acme Destek", brand_color="#0a7d5a",
                           default_locale="en")
    made = {}

    def write_help_center():
        from knowledge.models import HelpCenterSettings
        from knowledge.services.content import (
            NameInput,
            TranslationInput,
            article_create,
            category_create,
            section_create,
        )

        with tenant_scope(tenant):
            HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
            category = category_create(tenant=tenant, actor=None, translations=[
                NameInput("en", "Orders"), NameInput("tr", "Siparişler")])
            section = section_create(tenant=tenant, actor=None, category=category, translations=[
                NameInput("en", "Shipping"), NameInput("tr", "Kargo")])
            made["article"] = article_create(tenant=tenant, actor=None, section=section, is_promoted=True,
                                             translations=[
                TranslationInput("en", "Where is my order?", "<p>Open the tracking link in your shipping email.</p>",
                                 "published"),
                TranslationInput("tr", "Siparişim nerede?",
                                 "<p>Sipariş durumunu kargo e-postanızdaki takip bağlantısından görebilirsiniz.</p>",
                                 "published")])
            article_create(tenant=tenant, actor=None, section=section, translations=[
                TranslationInput("en", "Changing your delivery address", "<p>Write to us before it ships.</p>",
                                 "published"),
                TranslationInput("tr", "Teslimat adresini değiştirmek",
                                 "<p>Kargoya verilmeden önce bize yazın.</p>", "published")])

    in_thread(write_help_center)
    return {"tenant": tenant, "article": made["article"]}


def test_a_turkish_customer_searches_reads_votes_and_contacts_support(browser, live_server, settings, acme):
    settings.PORTAL_MIN_SUBMIT_SECONDS = 1
    base = tenant_url(live_server.url, "acme")
    context = browser.new_context(locale="tr-TR", timezone_id="Europe/Istanbul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    tenant, article = acme["tenant"], acme["article"]

    # The tenant's address opens the help center in her language.
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/hc/tr/")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator(".brand-name")).to_have_text("Acme Destek")
    expect(page.get_by_role("link", name="Siparişler")).to_be_visible()

    # As she types, suggestions appear in an accessible list; she searches for the whole phrase.
    search = page.get_by_role("combobox", name=tr("Search the help center"))
    search.press_sequentially("sipariş", delay=30)
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option", name="Siparişim nerede?")).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    search.press("ArrowDown")
    expect(listbox.get_by_role("option", name="Siparişim nerede?")).to_have_attribute("aria-selected", "true")
    search.press_sequentially("lerim", delay=30)
    search.press("Escape")
    expect(search).to_have_attribute("aria-expanded", "false")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/hc/tr/search/\?q=siparişlerim$|/hc/tr/search/\?q=sipari%C5%9Flerim$"))
    result = page.locator(".hc-results").get_by_role("link", name="Siparişim nerede?")
    expect(result).to_be_visible()
    result.click()

    # She reads the article.
    expect(page).to_have_url(re.compile(rf"/hc/tr/articles/{article.pk}-siparisim-nerede/\?search=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Siparişim nerede?")
    expect(page.locator(".hc-body")).to_contain_text("kargo e-postanızdaki takip bağlantısından")
    expect(page.get_by_role("navigation", name=tr("Breadcrumbs"))).to_contain_text("Kargo")

    # She says it helped: answered in place, no page load.
    feedback = page.locator("#feedback")
    feedback.get_by_role("button", name=tr("Yes")).click()
    expect(feedback.locator("[data-hc-vote-status]")).to_contain_text(tr("You said this article helped."))
    expect(feedback.get_by_role("button", name=tr("Yes"))).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(r"\?search=\d+$"))

    # ... and still writes to support from the same page.
    page.get_by_role("link", name=tr("Contact us")).click()
    expect(page).to_have_url(re.compile(r"/hc/requests/new/\?"))
    assert "q=sipari" in page.url and "hc_session=" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("Submit a request"))
    page.get_by_label(tr("Your name")).fill("Ayşe Yılmaz")
    page.get_by_label(tr("Your email address")).fill("ayse@musteri.example")
    subject = page.get_by_label(tr("Subject"))
    if not subject.input_value():
        subject.fill("siparişlerim")
    page.get_by_label(tr("How can we help?")).fill("Siparişim üç gündür aynı depoda bekliyor, ne zaman gelir?")
    page.wait_for_timeout(1100)  # a person takes longer than the form's minimum
    page.get_by_role("button", name=tr("Send request")).click()
    expect(page.locator(".request-number")).to_be_visible()

    from knowledge.models import ArticleView, ArticleVote, SearchEvent, SelfServiceSession

    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        search_event = SearchEvent.objects.get(source="portal")  # (the request form searches too)
        view = ArticleView.objects.get()
        vote = ArticleVote.objects.get()
        session = SelfServiceSession.objects.get()
        first_message = ticket.messages.order_by("id").first()
    assert "aynı depoda bekliyor" in first_message.body_text
    assert search_event.query == "siparişlerim" and search_event.clicked_article_id == article.pk
    assert view.search_id == search_event.pk and view.locale == "tr"
    assert vote.helpful is True
    assert session.outcome == "ticket" and session.ticket_id == ticket.pk
    context.close()
