"""The help center's search page and as-you-type suggestions, against the real search service:
results, the search recorded with the visitor's session, clicks through to the article (and
the view recorded with its search), visibility, and the contact link carrying the query."""
from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import ArticleView, SearchEvent
from tests.knowledge.helpcenter_setup import agent_client, customer, help_center, visitor

pytestmark = pytest.mark.django_db

HIDDEN = ("Secret carrier hotline", "Escalation matrix", "Member shipping perks", "Partner pickup depot",
          "Unreleased shipping plans")


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def result_links(body: str) -> list[str]:
    return re.findall(r'<h2><a href="([^"]+)">', body)


def test_the_empty_search_page_shows_the_form(tenant, hc):
    response = visitor().get("/hc/en/search/")
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_a_search_lists_results_and_is_recorded_on_the_visitors_session(tenant, hc):
    client = visitor()
    client.get("/hc/tr/")
    response = client.get("/hc/tr/search/", {"q": "siparişlerim"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Siparişim nerede?" in body
    assert '<meta name="robots" content="noindex">' in body
    assert "Simple search" not in body  # PostgreSQL: the full search
    with tenant_scope(tenant):
        event = SearchEvent.objects.select_related("session").get()
    assert event.query == "siparişlerim" and event.locale == "tr" and event.source == "portal"
    assert event.session.key == client.cookies["hc_session"].value and event.result_count >= 1
    links = result_links(body)
    assert links and all(f"search={event.pk}" in link for link in links)


def test_a_click_on_a_result_records_the_click_and_the_view_with_its_search(tenant, hc):
    client = visitor()
    client.get("/hc/en/")
    body = client.get("/hc/en/search/", {"q": "order"}).content.decode()
    link = next(link for link in result_links(body) if f"/articles/{hc.where.pk}-" in link)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    with tenant_scope(tenant):
        event = SearchEvent.objects.get()
        view = ArticleView.objects.get()
    assert event.clicked_article_id == hc.where.pk and view.search_id == event.pk
    # The contact link of the article carries the query that led here.
    page = response.content.decode()
    contact = re.search(r'href="(/hc/requests/new/\?[^"]+)">Contact us', page).group(1).replace("&amp;", "&")
    params = parse_qs(urlsplit(contact).query)
    assert params["q"] == ["order"] and params["article"] == [str(hc.where.pk)]
    assert params["hc_session"] == [client.cookies["hc_session"].value]


def test_another_visitors_search_id_is_not_counted_as_this_visitors_click(tenant, hc):
    searcher = visitor()
    searcher.get("/hc/en/")
    body = searcher.get("/hc/en/search/", {"q": "order"}).content.decode()
    link = result_links(body)[0].replace("&amp;", "&")
    stranger = visitor()
    stranger.get("/hc/en/")
    stranger.get(link)
    with tenant_scope(tenant):
        assert SearchEvent.objects.get().clicked_article_id is None
        assert ArticleView.objects.get().search_id is None


def test_the_results_page_offers_contact_with_the_query(tenant, hc):
    body = visitor().get("/hc/en/search/", {"q": "zzzz nothing like this"}).content.decode()
    assert "We found no articles for “zzzz nothing like this”." in body
    assert "q=zzzz+nothing+like+this" in body


def test_search_never_shows_what_the_visitor_may_not_read(tenant, hc, agent):
    for query in ("shipping", "carrier hotline", "escalation matrix", "member", "partner depot", "unreleased"):
        body = visitor().get("/hc/en/search/", {"q": query}).content.decode()
        for title in HIDDEN:
            assert title not in body, (query, title)
    client, _contact = customer(tenant)
    body = client.get("/hc/en/search/", {"q": "member shipping perks"}).content.decode()
    assert "Member shipping perks" in body and "Partner pickup depot" not in body
    body = agent_client(agent).get("/hc/en/search/", {"q": "carrier hotline"}).content.decode()
    assert "Secret carrier hotline" in body


def test_agents_searches_are_not_recorded(tenant, hc, agent):
    agent_client(agent).get("/hc/en/search/", {"q": "order"})
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_suggestions_answer_as_you_type_without_recording(tenant, hc):
    response = visitor().get("/hc/en/search/suggest.json", {"q": "wher"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    results = response.json()["results"]
    assert any(r["title"] == "Where is my order?" for r in results)
    assert all(r["url"].startswith("/hc/en/search/?q=wher&pick=") for r in results)
    assert visitor().get("/hc/en/search/suggest.json", {"q": "w"}).json()["results"] == []
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_suggestions_never_show_what_the_visitor_may_not_read(tenant, hc):
    for prefix in ("secr", "escal", "memb", "partn", "unrel"):
        results = visitor().get("/hc/en/search/suggest.json", {"q": prefix}).json()["results"]
        assert not any(r["title"] in HIDDEN for r in results), prefix


def test_a_picked_suggestion_records_the_typed_search_and_its_click(tenant, hc):
    client = visitor()
    client.get("/hc/en/")
    response = client.get("/hc/en/search/", {"q": "wher", "pick": hc.where.pk}, follow=True)
    assert response.status_code == 200 and "Where is my order?" in response.content.decode()
    with tenant_scope(tenant):
        event = SearchEvent.objects.get()
    assert event.query == "wher" and event.clicked_article_id == hc.where.pk


def test_the_simple_search_says_so(tenant, hc, monkeypatch):
    from knowledge.search import service

    real = service.kb_search

    def simple(**kwargs):
        results = real(**kwargs)
        return SimpleNamespace(hits=results.hits, search_id=results.search_id, mode="simple")

    monkeypatch.setattr(service, "kb_search", simple)
    body = visitor().get("/hc/en/search/", {"q": "order"}).content.decode()
    assert "Simple search" in body
