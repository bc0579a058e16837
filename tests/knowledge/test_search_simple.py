"""The embedded mode's simple search (``knowledge.search.simple``), run here through the same
service with the mode switched to "simple" (the queries it makes are plain ORM regular
expressions, so they run on PostgreSQL as on SQLite; ``tests/embedded`` runs it on SQLite)."""
from __future__ import annotations

import pytest

from knowledge.audience import AGENTS, ANONYMOUS
from knowledge.models import HelpCenterSettings, SearchEvent, SearchSource
from knowledge.search import service
from knowledge.search.synonyms import synonym_create
from tests.factories import OrganizationFactory
from tests.knowledge import search_helpcenter

pytestmark = pytest.mark.django_db


@pytest.fixture
def hc(in_tenant, agent, monkeypatch):
    monkeypatch.setattr(service, "search_mode", lambda: service.SIMPLE)
    HelpCenterSettings.objects.update_or_create(tenant=in_tenant, defaults={"locales": ["en", "tr"]})
    return search_helpcenter.build(in_tenant, agent, organization=OrganizationFactory(tenant=in_tenant))


def search(tenant, query, locale="en", **kwargs):
    kwargs.setdefault("audience", ANONYMOUS)
    kwargs.setdefault("record", False)
    return service.kb_search(tenant=tenant, query=query, locale=locale, source=SearchSource.PORTAL, **kwargs)


def ids(hits) -> list[int]:
    return [hit.article_id for hit in (hits.hits if hasattr(hits, "hits") else hits)]


def test_simple_search_says_so_and_finds_words_in_both_languages(in_tenant, hc):
    results = search(in_tenant, "refunds")
    assert results.mode == "simple"
    assert ids(results)[0] == hc["refunds"].pk  # the title match first, the body match after
    assert hc["shipping"].pk in ids(results)
    for query in ("siparişlerim", "SİPARİŞ", "siparis"):
        assert ids(search(in_tenant, query, "tr"))[:1] == [hc["tracking"].pk], query
    for query in ("İADE", "iadesi", "IADE"):
        assert ids(search(in_tenant, query, "tr"))[:1] == [hc["iade"].pk], query
    for query in ("ışık", "isik", "IŞIK"):
        assert ids(search(in_tenant, query, "tr"))[:1] == [hc["isik"].pk], query
    assert ids(search(in_tenant, "cafe"))[:1] == [hc["cafe"].pk]
    assert ids(search(in_tenant, "gift", "tr")) == [hc["gift"].pk]  # the default language's article
    assert search(in_tenant, "xylophone").hits == []


def test_simple_snippets_are_escaped_and_marked(in_tenant, hc):
    hit = search(in_tenant, "warehouse").hits[0]
    assert "<mark>warehouse</mark>" in hit.snippet_html
    assert hit.snippet_html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_simple_search_synonyms_and_visibility(in_tenant, hc):
    synonym_create(tenant=in_tenant, locale="en", terms=["refund", "reimbursement"])
    assert ids(search(in_tenant, "reimbursement"))[:1] == [hc["refunds"].pk]
    restricted = {hc[k].pk for k in ("internal", "signed_in", "organization")}
    assert not restricted & set(ids(search(in_tenant, "refund", limit=50)))
    assert not restricted & set(ids(service.kb_autocomplete(tenant=in_tenant, prefix="refund", locale="en",
                                                            audience=ANONYMOUS)))
    assert not restricted & set(ids(service.kb_suggest(tenant=in_tenant, text="refund override enterprise history",
                                                       locale="en", audience=ANONYMOUS)))
    assert restricted <= set(ids(search(in_tenant, "refund", audience=AGENTS, limit=50)))


def test_simple_autocomplete_suggest_and_logging(in_tenant, hc):
    assert ids(service.kb_autocomplete(tenant=in_tenant, prefix="Reset", locale="en",
                                       audience=ANONYMOUS)) == [hc["password"].pk]
    assert ids(service.kb_autocomplete(tenant=in_tenant, prefix="şifre sıf", locale="tr",
                                       audience=ANONYMOUS)) == [hc["sifre"].pk]
    text = "Hello, my order has not arrived and the tracking number shows nothing. Thanks"
    assert ids(service.kb_suggest(tenant=in_tenant, text=text, locale="en", audience=ANONYMOUS))[:1] == \
        [hc["tracking"].pk]
    results = search(in_tenant, "password", record=True)
    event = SearchEvent.objects.get(pk=results.search_id)
    assert event.result_count == results.total == 1
