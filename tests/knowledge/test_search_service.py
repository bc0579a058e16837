"""Search quality in English and Turkish on the fixture help center (PostgreSQL, the full
search): stemming, dotted and dotless i, accent folding, typos, ranking, synonyms, locale
fallback, autocomplete, suggestions, logging and query counts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from knowledge.audience import AGENTS, ANONYMOUS
from knowledge.models import (
    Article,
    ArticleTranslation,
    HelpCenterSettings,
    SearchEvent,
    SearchSource,
    SearchTerm,
    TranslationStatus,
)
from knowledge.search.service import kb_autocomplete, kb_search, kb_suggest
from knowledge.search.synonyms import synonym_create, synonym_delete
from knowledge.services import content
from tests.factories import OrganizationFactory
from tests.knowledge import search_helpcenter

pytestmark = pytest.mark.django_db


@pytest.fixture
def hc(in_tenant, agent):
    HelpCenterSettings.objects.update_or_create(tenant=in_tenant, defaults={"locales": ["en", "tr"]})
    return search_helpcenter.build(in_tenant, agent, organization=OrganizationFactory(tenant=in_tenant))


def search(tenant, query, locale="en", **kwargs):
    kwargs.setdefault("audience", ANONYMOUS)
    kwargs.setdefault("record", False)
    return kb_search(tenant=tenant, query=query, locale=locale, source=SearchSource.PORTAL, **kwargs)


def ids(results) -> list[int]:
    hits = results.hits if hasattr(results, "hits") else results
    return [hit.article_id for hit in hits]


# --- stemming and folding --------------------------------------------------------------------

def test_full_mode_on_postgresql(in_tenant, hc):
    assert connection.vendor == "postgresql"
    assert search(in_tenant, "refund").mode == "full"


def first(tenant, queries, locale, article) -> dict[str, list[int]]:
    """The queries whose first hit is not ``article`` (empty when all are right)."""
    wrong = {}
    for query in queries:
        found = ids(search(tenant, query, locale))
        if found[:1] != [article.pk]:
            wrong[query] = found
    return wrong


def test_english_stemmed_forms_find_the_base(in_tenant, hc):
    assert not first(in_tenant, ["refunds", "refund", "Refunded", "REFUNDS", "refunding"], "en", hc["refunds"])


def test_turkish_suffixed_forms_find_the_base(in_tenant, hc):
    """"siparişlerim" finds the article about "sipariş" (and every other form finds it too)."""
    assert not first(in_tenant, ["siparişlerim", "siparişim", "siparişiniz", "SİPARİŞLERİM", "siparislerim",
                                 "sipariş", "siparişimi", "siparişe"], "tr", hc["tracking"])


def test_turkish_stemmer_gaps_are_closed_by_roots(in_tenant, hc):
    # The stemmer gives iade → "ia", iadesi → "iades": roots matched as prefixes close the gap.
    assert not first(in_tenant, ["iadesi", "iade", "İADE", "iadeler", "IADE", "iademi", "iadem"], "tr", hc["iade"])


def test_dotted_and_dotless_i_find_each_other(in_tenant, hc):
    """Deliberate: i, ı, I and İ all match (people type Turkish without Turkish letters)."""
    assert not first(in_tenant, ["ışık", "IŞIK", "isik", "ISIK", "Işık ayarları", "İŞİK"], "tr", hc["isik"])


def test_english_capital_i_is_i(in_tenant, hc):
    # "IT" in English is "it" (a stop word), not "ıt"; "RESETTING" finds "Resetting".
    assert ids(search(in_tenant, "RESETTING IT", "en"))[:1] == [hc["password"].pk]


def test_accent_folding(in_tenant, hc):
    assert not first(in_tenant, ["cafe", "CAFÉ", "Cafe loyalty"], "en", hc["cafe"])
    assert not first(in_tenant, ["sifre", "şifremi unuttum", "SIFRE", "Şifre sifirlama"], "tr", hc["sifre"])
    assert not first(in_tenant, ["ucretleri", "kargo ucretleri"], "tr", hc["kargo"])
    assert not first(in_tenant, ["faturamı", "faturami"], "tr", hc["fatura"])


def test_stop_words_are_ignored(in_tenant, hc):
    assert ids(search(in_tenant, "how do I get a refund"))[:1] == [hc["refunds"].pk]
    assert ids(search(in_tenant, "şifre için ne yapmalıyım", "tr"))[:1] == [hc["sifre"].pk]
    assert search(in_tenant, "the and of").hits == []


def test_a_typo_still_finds_the_article(in_tenant, hc):
    cases = [("refnud", "en", "refunds"), ("pasword", "en", "password"), ("shiping costs", "en", "shipping"),
             ("resetting pasword", "en", "password"), ("kargp ücretleri", "tr", "kargo"), ("faturs", "tr", "fatura"),
             ("sifre sifirlamma", "tr", "sifre")]
    wrong = {query: ids(search(in_tenant, query, locale)) for query, locale, key in cases
             if hc[key].pk not in ids(search(in_tenant, query, locale))[:2]}
    assert not wrong


def test_vocabulary_holds_the_words_of_published_articles(in_tenant, hc):
    words = set(SearchTerm.objects.filter(tenant=in_tenant, locale="tr").values_list("word", flat=True))
    assert {"siparis", "kargo", "isik"} <= words


# --- ranking -------------------------------------------------------------------------------

def test_title_match_ranks_first(in_tenant, hc):
    # "refund" is in the shipping article's body too; the article titled with it comes first.
    found = ids(search(in_tenant, "refund"))
    assert found[0] == hc["refunds"].pk and hc["shipping"].pk in found
    found = ids(search(in_tenant, "sipariş", "tr"))
    assert found[0] == hc["tracking"].pk and hc["kargo"].pk in found  # kargo mentions siparişlerde


def test_helpfulness_and_recency_weigh_in(in_tenant, hc, agent):
    """Two articles matching alike: the helpful, recent one ranks first."""
    section = hc["refunds"].section
    older = content.article_create(tenant=in_tenant, actor=agent, section=section, translations=[
        content.TranslationInput("en", "Voucher codes", "<p>Enter the voucher code at checkout.</p>", "published")])
    newer = content.article_create(tenant=in_tenant, actor=agent, section=section, translations=[
        content.TranslationInput("en", "Voucher codes explained", "<p>Enter the voucher code at checkout.</p>",
                                 "published")])
    ArticleTranslation.objects.filter(article=older).update(published_at=timezone.now() - timedelta(days=900))
    assert ids(search(in_tenant, "voucher"))[:2] == [newer.pk, older.pk]
    for n in range(6):
        content.article_vote(article=older, voter_key=f"voter-{n}", helpful=True, locale="en")
    content.article_vote(article=newer, voter_key="voter-x", helpful=False, locale="en")
    content.article_vote(article=newer, voter_key="voter-y", helpful=False, locale="en")
    assert ids(search(in_tenant, "voucher"))[:2] == [older.pk, newer.pk]


def test_scores_are_ordered_and_snippets_highlight_escaped(in_tenant, hc, agent):
    article = content.article_create(tenant=in_tenant, actor=agent, section=hc["refunds"].section, translations=[
        content.TranslationInput("en", "Scripts in the warehouse",
                                 "<p>Type &lt;script&gt;alert(1)&lt;/script&gt; &amp; the warehouse code.</p>",
                                 "published")])
    results = search(in_tenant, "warehouse")
    scores = [hit.score for hit in results.hits]
    assert scores == sorted(scores, reverse=True)
    hit = next(h for h in results.hits if h.article_id == article.pk)
    assert "<mark>warehouse</mark>" in hit.snippet_html
    assert "<script" not in hit.snippet_html and "&amp;" in hit.snippet_html
    assert hit.snippet_html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert hit.url.startswith("/hc/en/articles/")


def test_phrases_exclusions_and_or(in_tenant, hc):
    assert ids(search(in_tenant, '"express delivery"')) == [hc["shipping"].pk]
    assert hc["shipping"].pk not in ids(search(in_tenant, "refund -shipping"))
    both = ids(search(in_tenant, "café or password"))
    assert {hc["cafe"].pk, hc["password"].pk} <= set(both)


# --- synonyms ------------------------------------------------------------------------------

def test_synonyms_expand_the_query(in_tenant, hc):
    assert ids(search(in_tenant, "reimbursement")) == []
    synonym = synonym_create(tenant=in_tenant, locale="en", terms=["refund", "reimbursement", "money back"])
    assert ids(search(in_tenant, "reimbursements"))[:1] == [hc["refunds"].pk]
    assert ids(search(in_tenant, "money back"))[:1] == [hc["refunds"].pk]
    synonym_create(tenant=in_tenant, locale="tr", terms=["sipariş", "order"])
    assert hc["tracking"].pk in ids(search(in_tenant, "order", "tr"))
    synonym_delete(synonym=synonym)
    assert ids(search(in_tenant, "reimbursement")) == []


def test_synonym_validation(in_tenant):
    with pytest.raises(ValidationError):
        synonym_create(tenant=in_tenant, locale="en", terms=["refund"])
    with pytest.raises(ValidationError):
        synonym_create(tenant=in_tenant, locale="en", terms=["refund", "Refunds"])  # the same word
    with pytest.raises(ValidationError):
        synonym_create(tenant=in_tenant, locale="not a locale", terms=["a", "b"])


# --- languages -----------------------------------------------------------------------------

def test_asked_language_first_then_the_default_language(in_tenant, hc):
    results = search(in_tenant, "sipariş", "tr")
    assert all(hit.locale == "tr" for hit in results.hits)
    # "gift" exists only in English: a Turkish search finds it, marked as English, linked in Turkish.
    gift = search(in_tenant, "gift cards", "tr").hits
    assert [h.article_id for h in gift] == [hc["gift"].pk]
    assert gift[0].locale == "en" and gift[0].url.startswith("/hc/tr/")
    # An article with a Turkish translation is found in Turkish only, never twice.
    returns = search(in_tenant, "returns exchange", "tr")
    assert hc["iade"].pk not in ids(returns)
    assert ids(search(in_tenant, "return", "en"))[:1] == [hc["iade"].pk]


def test_regional_locale_uses_its_language(in_tenant, hc):
    assert hc["refunds"].pk in ids(search(in_tenant, "refunds", "en-gb"))


def test_malformed_locale_is_refused(in_tenant, hc):
    with pytest.raises(ValidationError):
        search(in_tenant, "refund", "<script>")


# --- index upkeep --------------------------------------------------------------------------

def test_drafts_unpublished_and_deleted_translations_are_not_found(in_tenant, hc, agent):
    draft = content.article_create(tenant=in_tenant, actor=agent, section=hc["refunds"].section, translations=[
        content.TranslationInput("en", "Zebra crossings", "<p>Zebra.</p>", "draft")])
    assert draft.pk not in ids(search(in_tenant, "zebra"))
    translation = draft.translations.get()
    content.translation_publish(translation=translation, actor=agent)
    assert ids(search(in_tenant, "zebra")) == [draft.pk]
    content.translation_save(article=draft, actor=agent, locale="en", title="Zebra crossings",
                             body_html="<p>Unicorn draft.</p>")  # a pending draft is not searchable yet
    assert ids(search(in_tenant, "unicorn")) == []
    content.translation_unpublish(translation=translation, actor=agent)
    assert ids(search(in_tenant, "zebra")) == []
    content.translation_publish(translation=translation, actor=agent)
    assert ids(search(in_tenant, "unicorn")) == [draft.pk]
    content.article_delete(article=draft, actor=agent)
    assert ids(search(in_tenant, "unicorn")) == []


def test_labels_are_searchable_below_the_title(in_tenant, hc, agent):
    content.article_update(article=hc["cafe"], actor=agent, labels=["espresso"])
    assert ids(search(in_tenant, "espresso")) == [hc["cafe"].pk]


def test_other_tenants_articles_are_never_found(in_tenant, hc, other_tenant):
    """The search tables have no row-level security (their GIN indexes could not be used):
    every statement names the tenant. Two tenants with the same words find their own only."""
    from helpdesk.tenancy.context import tenant_scope
    from tests.factories import agent_in

    with tenant_scope(other_tenant):
        theirs = search_helpcenter.build(other_tenant, agent_in(other_tenant, email="b@globex.test"),
                                         organization=OrganizationFactory(tenant=other_tenant))
        their_ids = {a.pk for a in theirs.articles.values()}
        for call in (lambda: ids(search(other_tenant, "refund", audience=AGENTS, limit=50)),
                     lambda: ids(search(other_tenant, "refnud", audience=AGENTS, limit=50)),
                     lambda: ids(kb_autocomplete(tenant=other_tenant, prefix="refu", locale="en", audience=AGENTS)),
                     lambda: ids(kb_suggest(tenant=other_tenant, text="refund for my order", locale="en",
                                            audience=AGENTS))):
            found = call()
            assert found and set(found) <= their_ids
    ours = {a.pk for a in hc.articles.values()}
    assert set(ids(search(in_tenant, "refund", audience=AGENTS, limit=50))) <= ours
    assert set(ids(search(in_tenant, "siparişlerim", "tr", audience=AGENTS, limit=50))) <= ours


def test_reindex_command_rebuilds_the_documents(in_tenant, hc):
    import io

    from django.core.management import call_command

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM knowledge_searchdocument WHERE tenant_id = %s", [in_tenant.pk])
    assert search(in_tenant, "refund").hits == []
    out = io.StringIO()
    call_command("kb_search_reindex", "--tenant", in_tenant.slug, stdout=out)
    assert "search documents written" in out.getvalue()
    assert ids(search(in_tenant, "refund"))[:1] == [hc["refunds"].pk]


# --- visibility ----------------------------------------------------------------------------

RESTRICTED_QUERIES = [("refund", "en"), ("refund override procedure", "en"), ("enterprise refund", "en"),
                      ("refund history", "en"), ("iade onay", "tr")]


def test_restricted_articles_never_reach_anonymous_visitors(in_tenant, hc):
    restricted = {hc[k].pk for k in ("internal", "signed_in", "organization")}
    for query, locale in RESTRICTED_QUERIES:
        assert not restricted & set(ids(search(in_tenant, query, locale, limit=50)))
        assert not restricted & set(ids(kb_autocomplete(tenant=in_tenant, prefix=query, locale=locale,
                                                        audience=ANONYMOUS)))
        assert not restricted & set(ids(kb_suggest(tenant=in_tenant, text=f"{query} please help", locale=locale,
                                                   audience=ANONYMOUS)))
    # The agents do find them, with the same queries.
    for query, locale in RESTRICTED_QUERIES[1:]:
        assert restricted & set(ids(search(in_tenant, query, locale, audience=AGENTS))), query


def test_each_audience_sees_its_articles(in_tenant, hc):
    from knowledge.audience import Audience

    customer = Audience(contact_id=1)
    member = Audience(contact_id=2, organization_id=hc.organization.pk)
    outsider = Audience(contact_id=3, organization_id=hc.organization.pk + 1000)
    found = {name: set(ids(search(in_tenant, "refund", audience=audience, limit=20)))
             for name, audience in [("customer", customer), ("member", member), ("outsider", outsider),
                                    ("agents", AGENTS)]}
    assert hc["signed_in"].pk in found["customer"] and hc["organization"].pk not in found["customer"]
    assert hc["organization"].pk in found["member"] and hc["organization"].pk not in found["outsider"]
    assert hc["internal"].pk not in found["member"] | found["outsider"] | found["customer"]
    assert {hc["internal"].pk, hc["organization"].pk, hc["signed_in"].pk} <= found["agents"]
    internal = next(h for h in search(in_tenant, "override", audience=AGENTS).hits)
    assert internal.visibility == "internal"


# --- autocomplete and suggestions ----------------------------------------------------------

def test_autocomplete_prefixes_and_typos(in_tenant, hc):
    assert ids(kb_autocomplete(tenant=in_tenant, prefix="reset", locale="en", audience=ANONYMOUS))[:1] == \
        [hc["password"].pk]
    assert ids(kb_autocomplete(tenant=in_tenant, prefix="Ship", locale="en", audience=ANONYMOUS))[:1] == \
        [hc["shipping"].pk]
    assert ids(kb_autocomplete(tenant=in_tenant, prefix="şifre sıf", locale="tr", audience=ANONYMOUS)) == \
        [hc["sifre"].pk]
    assert ids(kb_autocomplete(tenant=in_tenant, prefix="sipar", locale="tr", audience=ANONYMOUS))[:1] == \
        [hc["tracking"].pk]
    assert hc["shipping"].pk in ids(kb_autocomplete(tenant=in_tenant, prefix="shiping cos", locale="en",
                                                    audience=ANONYMOUS))
    assert kb_autocomplete(tenant=in_tenant, prefix="r", locale="en", audience=ANONYMOUS) == []
    assert SearchEvent.objects.count() == 0  # as-you-type is never logged


def test_suggest_from_a_ticket_text(in_tenant, hc):
    text = ("Hello, I sent the item back last week but I still have not received my refund. "
            "When will the money reach my card? Thanks, Jane")
    assert ids(kb_suggest(tenant=in_tenant, text=text, locale="en", audience=ANONYMOUS))[:1] == [hc["refunds"].pk]
    text = "Merhaba, siparişim nerede? Kargo takip numarası gelmedi. Teşekkürler"
    assert ids(kb_suggest(tenant=in_tenant, text=text, locale="tr", audience=ANONYMOUS))[:1] == [hc["tracking"].pk]
    found = ids(kb_suggest(tenant=in_tenant, text=text, locale="tr", audience=ANONYMOUS,
                           exclude_ids=[hc["tracking"].pk]))
    assert hc["tracking"].pk not in found
    assert kb_suggest(tenant=in_tenant, text="Hello, thanks!", locale="en", audience=ANONYMOUS) == []
    assert kb_suggest(tenant=in_tenant, text="purple elephants dancing quietly", locale="en",
                      audience=ANONYMOUS) == []


# --- logging and query counts ----------------------------------------------------------------

def test_a_recorded_search_writes_its_event(in_tenant, hc):
    results = search(in_tenant, "  Refunds  ", record=True, session_key="s" * 20)
    event = SearchEvent.objects.get(pk=results.search_id)
    assert event.query == "Refunds" and event.normalized_query == "refunds"
    assert event.result_count == results.total == len(results.hits) >= 2
    assert event.source == SearchSource.PORTAL and event.locale == "en" and event.session.key == "s" * 20
    empty = search(in_tenant, "xylophone", record=True)
    assert SearchEvent.objects.get(pk=empty.search_id).result_count == 0
    assert search(in_tenant, "   ", record=True).search_id is None


def _grow(tenant, agent, section, count):
    for n in range(count):
        content.article_create(tenant=tenant, actor=agent, section=section, translations=[
            content.TranslationInput("en", f"Refund case {n}", "<p>Refund rules.</p>", "published")])


def test_query_counts_do_not_grow_with_the_help_center(in_tenant, hc, agent, django_assert_num_queries):
    def counts():
        from tests.queries import QueryCounter

        measured = []
        for call in (lambda: search(in_tenant, "refund", record=True),
                     lambda: search(in_tenant, "refnud polcy", record=True),  # corrections + any-word pass
                     lambda: kb_autocomplete(tenant=in_tenant, prefix="refu", locale="en", audience=ANONYMOUS),
                     lambda: kb_suggest(tenant=in_tenant, text="my refund is late", locale="en",
                                        audience=ANONYMOUS)):
            with QueryCounter(connection) as counter:
                call()
            measured.append(len(counter))
        return measured

    before = counts()
    _grow(in_tenant, agent, hc["refunds"].section, 15)
    assert counts() == before
    # search: synonyms, the statement between SET LOCAL/RESET enable_seqscan, the SearchEvent;
    # nothing matching every word: + typo corrections and the any-word statement;
    # autocomplete: one statement; suggest: the text's terms and one statement.
    assert before == [5, 7, 3, 4]


def test_unpublished_article_status_filter_is_applied_even_with_a_stale_document(in_tenant, hc):
    # Defence in depth: a document left behind by a direct status change is not found.
    ArticleTranslation.objects.filter(article=hc["cafe"]).update(status=TranslationStatus.ARCHIVED)
    assert hc["cafe"].pk not in ids(search(in_tenant, "café"))
    assert Article.objects.filter(pk=hc["cafe"].pk).exists()
