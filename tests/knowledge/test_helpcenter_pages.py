"""The public help center's pages on PostgreSQL: home, category, section, article; languages
(negotiation, switcher, fallback with a notice), clean URLs (slug redirects), visibility (404
for whoever may not read), isolation, constant query counts."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.links import article_path, category_path, section_path
from knowledge.models import HelpCenterSettings, Visibility
from knowledge.services.content import NameInput, TranslationInput, article_create, category_create, section_create
from tests.factories import agent_in
from tests.knowledge.helpcenter_setup import OTHER_HOST, agent_client, customer, help_center, visitor
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def tr(msgid: str) -> str:
    """The Turkish of an interface string (its English until the catalogue is compiled)."""
    with translation.override("tr"):
        return gettext(msgid)


def text(response) -> str:
    return response.content.decode()


def url(article, locale="en", title=""):
    return article_path(locale=locale, article_id=article.pk, title=title)


def get_article(client, article, locale="en", **extra):
    """The article page, following the slug redirect (the page's current slug is not known here)."""
    response = client.get(url(article, locale), **extra)
    if response.status_code == 301:
        response = client.get(response["Location"], **extra)
    return response


# --- the root and language negotiation ---------------------------------------------------

def test_root_follows_the_browser_language(tenant, hc):
    response = visitor().get("/hc/", HTTP_ACCEPT_LANGUAGE="tr-TR,tr;q=0.9,en;q=0.5")
    assert response.status_code == 302 and response["Location"] == "/hc/tr/"
    response = visitor().get("/hc/", HTTP_ACCEPT_LANGUAGE="de-DE,en;q=0.3")
    assert response["Location"] == "/hc/en/"


def test_root_prefers_the_remembered_choice_then_falls_back_to_the_tenant_default(tenant, hc, settings):
    client = visitor()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    assert client.get("/hc/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/hc/tr/"
    assert visitor().get("/hc/", HTTP_ACCEPT_LANGUAGE="fr")["Location"] == "/hc/en/"
    tenant.default_locale = "tr"
    tenant.save()
    assert visitor().get("/hc/")["Location"] == "/hc/tr/"


def test_a_page_remembers_its_language_for_the_next_visit(tenant, hc, settings):
    client = visitor()
    response = client.get("/hc/tr/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "tr"
    assert client.get("/hc/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/hc/tr/"


def test_a_language_the_tenant_does_not_offer_redirects_to_one_it_does(tenant, hc):
    response = visitor().get("/hc/de/", HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 302 and response["Location"] == "/hc/tr/"
    response = visitor().get(url(hc.where, "de"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith(f"/hc/en/articles/{hc.where.pk}")


def test_the_tenant_host_root_opens_the_help_center(tenant, hc):
    response = visitor().get("/")
    assert response["Location"] == "/hc/"


def test_a_disabled_help_center_sends_customers_to_the_form_and_agents_to_the_console(tenant, hc, agent):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.filter(tenant=tenant).update(is_enabled=False)
    assert visitor().get("/hc/")["Location"] == "/hc/requests/new/"
    assert agent_client(agent).get("/hc/")["Location"] == "/console/"
    assert visitor().get("/hc/en/").status_code == 404
    assert visitor().get(url(hc.where)).status_code == 404


def test_the_platform_host_has_no_help_center(tenant, hc):
    assert visitor(host="localhost").get("/hc/en/").status_code == 404


# --- home --------------------------------------------------------------------------------

def test_home_shows_search_categories_sections_and_promoted_articles(tenant, hc):
    response = visitor().get("/hc/en/")
    assert response.status_code == 200
    body = text(response)
    assert 'name="q"' in body and 'role="search"' in body
    assert "Orders" in body and "Shipping" in body
    assert category_path(locale="en", category_id=hc.orders.pk, name="Orders") in body
    assert "Popular articles" in body and "Where is my order?" in body
    assert response["Content-Language"] == "en"


def test_home_in_turkish_speaks_turkish_and_names_things_in_turkish(tenant, hc):
    body = text(visitor().get("/hc/tr/"))
    assert '<html lang="tr">' in body
    assert "Siparişler" in body and "Kargo" in body and "Siparişim nerede?" in body
    assert "Ana içeriğe geç" in body and "Talep gönderin" in body  # the interface follows the page's language
    assert tr("Contact us") in body


def test_home_hides_what_the_visitor_may_not_read(tenant, hc):
    body = text(visitor().get("/hc/en/"))
    assert "Escalations desk" not in body  # a section with only an internal article
    for title in ("Secret carrier hotline", "Escalation matrix", "Member shipping perks", "Partner pickup depot",
                  "Unreleased shipping plans"):
        assert title not in body


def test_every_page_has_a_skip_link_a_contact_button_and_a_language_switcher(tenant, hc):
    for path in ("/hc/en/", url(hc.where), section_path(locale="en", section_id=hc.shipping.pk, name="Shipping"),
                 category_path(locale="en", category_id=hc.orders.pk, name="Orders"), "/hc/en/search/"):
        response = visitor().get(path, follow=True)
        body = text(response)
        assert response.status_code == 200, path
        assert 'class="skip-link" href="#main"' in body, path
        assert re.search(r'<a class="button button-primary" href="/hc/requests/new/\?[^"]*">Contact us</a>', body), path
        assert '<main id="main"' in body and "<h1" in body, path
        assert 'hreflang="tr"' in body and ">Türkçe<" in body, path
        assert "Chat" not in body  # no chat button until live chat exists


def test_the_contact_link_carries_the_visitors_session(tenant, hc):
    client = visitor()
    client.get("/hc/en/")
    key = client.cookies["hc_session"].value
    body = text(client.get("/hc/en/"))
    assert f"/hc/requests/new/?hc_session={key}" in body


def test_a_signed_in_customer_sees_my_requests_and_an_agent_the_console_link(tenant, hc, agent):
    client, _contact = customer(tenant)
    body = text(client.get("/hc/en/"))
    assert "My requests" in body and "Sign out" in body
    body = text(agent_client(agent).get("/hc/en/"))
    assert "Agent console" in body
    body = text(visitor().get("/hc/en/"))
    assert "My requests" not in body and "Sign in" in body and "Agent console" not in body


# --- categories and sections -------------------------------------------------------------

def test_category_page_lists_sections_with_their_articles(tenant, hc):
    response = visitor().get(category_path(locale="en", category_id=hc.orders.pk, name="Orders"))
    body = text(response)
    assert response.status_code == 200
    assert "<h1>Orders</h1>" in body and "Everything about your orders." in body
    assert "Shipping" in body and "Where is my order?" in body and "Changing your delivery address" in body
    assert "Escalations desk" not in body and "Secret carrier hotline" not in body


def test_section_page_shows_breadcrumbs_subsections_and_articles(tenant, hc):
    body = text(visitor().get(section_path(locale="en", section_id=hc.shipping.pk, name="Shipping")))
    assert 'aria-label="Breadcrumbs"' in body and ">Orders</a>" in body
    assert "Returns" in body and "Where is my order?" in body
    nested = text(visitor().get(section_path(locale="en", section_id=hc.returns.pk, name="Returns")))
    assert ">Shipping</a>" in nested and "How do I return an item?" in nested


def test_a_section_only_agents_can_read_is_a_404_for_customers_and_shown_to_agents(tenant, hc, agent):
    path = section_path(locale="en", section_id=hc.agents_only.pk, name="Escalations desk")
    assert visitor().get(path).status_code == 404
    client, _contact = customer(tenant)
    assert client.get(path).status_code == 404
    response = agent_client(agent).get(path)
    assert response.status_code == 200 and "Escalation matrix" in text(response) and "Internal" in text(response)


def test_wrong_slugs_redirect_permanently_to_the_current_one(tenant, hc):
    response = visitor().get(f"/hc/en/sections/{hc.shipping.pk}-old-name/?page=1")
    assert response.status_code == 301
    assert response["Location"] == f"/hc/en/sections/{hc.shipping.pk}-shipping/?page=1"
    response = visitor().get(f"/hc/en/categories/{hc.orders.pk}/")
    assert response.status_code == 301 and response["Location"] == f"/hc/en/categories/{hc.orders.pk}-orders/"
    response = visitor().get(f"/hc/tr/articles/{hc.where.pk}-where-is-my-order/")
    assert response.status_code == 301 and response["Location"] == f"/hc/tr/articles/{hc.where.pk}-siparisim-nerede/"


def test_section_pages_are_paginated(tenant, hc, settings):
    with tenant_scope(tenant):
        for n in range(31):
            article_create(tenant=tenant, actor=None, section=hc.returns,
                           translations=[TranslationInput("en", f"Return case {n:02d}", "<p>x</p>", "published")])
    path = section_path(locale="en", section_id=hc.returns.pk, name="Returns")
    first = text(visitor().get(path))
    assert "Next page" in first and "Return case 28" in first and "Return case 29" not in first
    second = text(visitor().get(path + "?page=2"))
    assert "Return case 29" in second and "Previous page" in second
    assert visitor().get(path + "?page=9").status_code == 404


# --- articles ----------------------------------------------------------------------------

def test_article_page_shows_breadcrumbs_body_labels_update_and_related(tenant, hc):
    response = get_article(visitor(), hc.where)
    body = text(response)
    assert response.status_code == 200
    assert "<h1 id=\"hc-article-title\">Where is my order?" in body
    assert "Open the tracking link in your shipping email." in body
    assert ">Orders</a>" in body and ">Shipping</a>" in body
    assert 'class="hc-label">orders<' in body
    assert "Updated " in body
    assert "Related articles" in body and "Changing your delivery address" in body
    assert "Was this article helpful?" in body
    assert f'<link rel="alternate" hreflang="tr" href="http://acme.localhost/hc/tr/articles/{hc.where.pk}-' in body
    assert 'rel="canonical"' in body


def test_related_articles_never_show_what_the_visitor_may_not_read(tenant, hc, agent):
    body = text(get_article(visitor(), hc.where))
    for title in ("Secret carrier hotline", "Member shipping perks", "Partner pickup depot",
                  "Unreleased shipping plans"):
        assert title not in body
    body = text(get_article(agent_client(agent), hc.where))
    assert "Secret carrier hotline" in body


def test_an_article_missing_in_the_language_falls_back_to_the_default_with_a_notice(tenant, hc):
    response = get_article(visitor(), hc.address, "tr")
    body = text(response)
    assert response.status_code == 200
    assert "Changing your delivery address" in body
    assert tr("This article is not available in %(language)s yet. It is shown in %(shown)s.") % {
        "language": "Türkçe", "shown": "English"} in body
    assert '<article class="hc-article" aria-labelledby="hc-article-title" lang="en">' in body
    assert '<html lang="tr">' in body  # the interface stays in the visitor's language
    assert f'rel="canonical" href="http://acme.localhost/hc/en/articles/{hc.address.pk}-' in body
    assert '<meta name="robots" content="noindex">' in body
    # A translated article has no notice.
    assert "henüz" not in text(get_article(visitor(), hc.where, "tr"))


def test_lists_show_untranslated_articles_in_the_default_language_marked_as_such(tenant, hc):
    body = text(visitor().get(section_path(locale="tr", section_id=hc.shipping.pk, name="Kargo")))
    assert "Siparişim nerede?" in body
    assert 'lang="en">Changing your delivery address</a>' in body


@pytest.mark.parametrize("name", ["internal", "escalation", "members", "partners", "draft"])
def test_hidden_and_unpublished_articles_are_a_404_for_anonymous_visitors(tenant, hc, name):
    response = get_article(visitor(), getattr(hc, name))
    assert response.status_code == 404
    assert "We could not find this page" in text(response)


def test_signed_in_customers_read_signed_in_articles_and_their_organizations_only(tenant, hc):
    client, _contact = customer(tenant)
    assert get_article(client, hc.members).status_code == 200
    assert get_article(client, hc.partners).status_code == 404
    assert get_article(client, hc.internal).status_code == 404
    partner, _contact = customer(tenant, organization=hc.organization, email="pat@partner.example")
    assert get_article(partner, hc.partners).status_code == 200
    assert get_article(partner, hc.internal).status_code == 404


def test_agents_see_internal_articles_marked_internal(tenant, hc, agent):
    response = get_article(agent_client(agent), hc.internal)
    assert response.status_code == 200
    assert '<span class="hc-badge" lang="en">Internal</span>' in text(response)
    assert "Unreleased shipping plans" not in text(get_article(agent_client(agent), hc.where))
    assert get_article(agent_client(agent), hc.draft).status_code == 404  # a draft is not a page


def test_an_agent_of_another_tenant_is_an_anonymous_visitor_here(tenant, hc, other_tenant):
    stranger = agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test")
    assert get_article(agent_client(stranger), hc.internal).status_code == 404


def test_another_tenants_pages_are_404_on_this_host(tenant, hc, other_tenant):
    with tenant_scope(other_tenant):
        HelpCenterSettings.objects.update_or_create(tenant=other_tenant, defaults={"locales": ["en"]})
    client = visitor(host=OTHER_HOST)
    for path in (url(hc.where), section_path(locale="en", section_id=hc.shipping.pk, name="Shipping"),
                 category_path(locale="en", category_id=hc.orders.pk, name="Orders")):
        response = client.get(path, follow=True)
        assert response.status_code == 404, path
        assert "Where is my order" not in text(response)
    assert "Orders" not in text(client.get("/hc/en/"))


def test_titles_are_escaped_and_article_html_is_sanitised(tenant, hc):
    with tenant_scope(tenant):
        article = article_create(tenant=tenant, actor=None, section=hc.shipping, translations=[TranslationInput(
            "en", "<script>alert(1)</script> tips", '<p onclick="x()">Hi<script>alert(2)</script></p>',
            "published")])
    body = text(get_article(visitor(), article))
    assert "<script>alert" not in body and "onclick" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; tips" in body


def test_the_signed_in_customer_resolver_is_registered(tenant, hc):
    from knowledge.audience import _RESOLVERS

    assert any(getattr(fn, "__name__", "") == "help_center_customer" for fn in _RESOLVERS)


# --- query counts ------------------------------------------------------------------------

def _count(client, path) -> int:
    with QueryCounter(connection) as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(counter)


def _grow(tenant, *, categories: int, articles: int):
    with tenant_scope(tenant):
        for c in range(categories):
            category = category_create(tenant=tenant, actor=None, translations=[NameInput("en", f"Cat {c}")])
            for s in range(2):
                section = section_create(tenant=tenant, actor=None, category=category,
                                         translations=[NameInput("en", f"Sec {c}.{s}")])
                for a in range(articles):
                    article_create(tenant=tenant, actor=None, section=section, is_promoted=a == 0,
                                   labels=[f"l{a % 3}"],
                                   translations=[TranslationInput("en", f"Art {c}.{s}.{a}", "<p>x</p>", "published"),
                                                 TranslationInput("tr", f"Mak {c}.{s}.{a}", "<p>x</p>", "published")])


def test_home_keeps_a_constant_query_count(tenant, hc):
    client = visitor()
    client.get("/hc/tr/")
    small = _count(client, "/hc/tr/")
    _grow(tenant, categories=8, articles=2)
    assert _count(client, "/hc/tr/") == small


def test_category_section_and_article_pages_keep_a_constant_query_count(tenant, hc):
    client = visitor()
    client.get("/hc/en/")
    category_page = category_path(locale="en", category_id=hc.orders.pk, name="Orders")
    section_page = section_path(locale="en", section_id=hc.shipping.pk, name="Shipping")
    article_page = get_article(client, hc.where).request["PATH_INFO"]
    before = [_count(client, p) for p in (category_page, section_page, article_page)]
    with tenant_scope(tenant):
        for n in range(12):
            article_create(tenant=tenant, actor=None, section=hc.shipping, labels=["orders"],
                           translations=[TranslationInput("en", f"More shipping {n}", "<p>x</p>", "published")])
            section_create(tenant=tenant, actor=None, category=hc.orders, parent=hc.shipping,
                           translations=[NameInput("en", f"Sub {n}")])
    after = [_count(client, p) for p in (category_page, section_page, article_page)]
    assert after == before


def test_a_signed_in_customers_article_page_keeps_a_constant_query_count(tenant, hc):
    client, _contact = customer(tenant, organization=hc.organization)
    path = get_article(client, hc.partners).request["PATH_INFO"]
    before = _count(client, path)
    with tenant_scope(tenant):
        for n in range(6):
            article_create(tenant=tenant, actor=None, section=hc.shipping, visibility=Visibility.ORGANIZATIONS,
                           organization_ids=[hc.organization.pk],
                           translations=[TranslationInput("en", f"Partner note {n}", "<p>x</p>", "published")])
    assert _count(client, path) == before
