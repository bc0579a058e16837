"""The help center's search, the one every surface calls: the help center and the portal,
the request form, the widget, the agent console, the API, acknowledgement mails.

- ``kb_search``: a query as typed, in a locale, for an audience → ranked hits with snippets,
  logged as a ``SearchEvent`` (``record=True``) for the listening reports.
- ``kb_autocomplete``: titles as the person types (never logged: the final query is).
- ``kb_suggest``: the best articles for a longer text (a ticket's subject and body, a
  request being written).

What is searched: published translations of articles the audience may see
(``visible_articles_q``), in the asked locale and its base language. When those give fewer
hits than asked for, articles that have no published translation in that language are looked
up in the tenant's default language and listed after them (``hit.locale`` says which
language a hit is in), so a Turkish visitor still finds the answer that was only written in
English, without English duplicates of Turkish answers. Hits link to the article page in the
asked locale (the page itself falls back to the default language's text).

Full mode (PostgreSQL) is ``knowledge.search.postgres``: per-language stemming, accent and
case folding, title above body, helpfulness and recency, typo correction against the
tenant's vocabulary, synonyms, highlighted snippets. Embedded mode (SQLite) is
``knowledge.search.simple`` and says so: ``SearchResults.mode == "simple"``.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from django.db import connection
from django.urls import NoReverseMatch

from helpdesk.tenancy.context import current_tenant_id, tenant_scope
from helpdesk.tenancy.models import Tenant
from knowledge.audience import Audience
from knowledge.links import article_path, slug_for
from knowledge.locales import fallback_chain, normalize_locale
from knowledge.models import SearchSynonym
from knowledge.search import postgres, simple
from knowledge.search.postgres import Expr, Row, Tier
from knowledge.search.text import (
    MAX_QUERY_CHARS,
    apply_synonyms,
    fold,
    fold_accents,
    highlight_terms,
    highlighter,
    language,
    parse_query,
    prefix_root,
    stem_config,
    suggestion_words,
    words,
)
from knowledge.services.listening import search_record

FULL, SIMPLE = "full", "simple"
MAX_LIMIT = 50
FALLBACK_FACTOR = 0.8
SUGGEST_TERMS = 8
SUGGEST_MAX_CHARS = 4000


@dataclass(frozen=True)
class SearchHit:
    """One article found. ``snippet_html`` is HTML-escaped text with the matches in
    ``<mark>``; ``url`` is the help-center page in the asked locale; ``locale`` is the
    language of the translation found (the default language when the asked one has none)."""

    article_id: int
    translation_id: int
    locale: str
    title: str
    snippet_html: str
    url: str
    score: float
    visibility: str = "public"


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    search_id: int | None = None  # the SearchEvent written for this search
    mode: str = FULL              # "simple" in embedded mode: say so where results are shown
    total: int = 0                # matches found (ranked from a bounded set: "at least")


def search_mode() -> str:
    return FULL if connection.vendor == "postgresql" else SIMPLE


@contextlib.contextmanager
def _as(tenant: Tenant):
    """The search runs as ``tenant`` (queryset scoping and row-level security)."""
    if current_tenant_id() == tenant.pk:
        yield
    else:
        with tenant_scope(tenant):
            yield


def _locales(tenant: Tenant, locale: str) -> tuple[str, list[str], list[str]]:
    """(locale, the locales searched first, the fallback language's locales)."""
    locale = normalize_locale(locale)
    chain = fallback_chain(tenant, locale)
    primary = [code for code in chain if language(code) == language(locale)]
    fallback = [code for code in chain if language(code) != language(locale)][:1]
    return locale, primary, fallback


def _url(locale: str, article_id: int, title: str) -> str:
    try:
        return article_path(locale=locale, article_id=article_id, title=title)
    except NoReverseMatch:  # the help center's pages are not routed (a project without them)
        return f"/hc/{locale}/articles/{article_id}-{slug_for(title)}/"


def _hits(rows: list[Row], locale: str, marks: re.Pattern | None = None) -> list[SearchHit]:
    """Rows as hits: the snippet cut around the first marked word (escaped, ``<mark>``ed)."""
    return [SearchHit(article_id=row.article_id, translation_id=row.translation_id, locale=row.locale,
                      title=row.title, snippet_html=simple.snippet(row.text, marks) if row.text else "",
                      url=_url(locale, row.article_id, row.title), score=round(row.score, 4),
                      visibility=row.visibility)
            for row in rows]


def _synonyms(tenant: Tenant, locales: list[str]) -> list[list[str]]:
    rows = SearchSynonym.objects.filter(tenant=tenant, locale__in=locales).values_list("terms", flat=True)
    return [[str(term) for term in terms if isinstance(term, str)] for terms in rows if isinstance(terms, list)]


def _tiers(groups, primary: list[str], fallback: list[str], locale: str, *,
           any_group: bool = False) -> tuple[Tier, Tier | None]:
    first = Tier(locales=primary, query=postgres.query_tsquery(groups, locale, any_group=any_group))
    if not fallback:
        return first, None
    return first, Tier(locales=fallback, query=postgres.query_tsquery(groups, fallback[0], any_group=any_group),
                       factor=FALLBACK_FACTOR, exclude_locales=primary)


def _tiered(first: Tier, second: Tier | None, limit: int, *, exclude_ids=(), **options) -> list[Row]:
    """The asked language's hits; when they are fewer than ``limit``, the fallback language's
    (articles with no published translation in the asked one) after them."""
    rows = postgres.ranked_search(tier=first, limit=limit, exclude_ids=list(exclude_ids), **options)
    if second is None or len(rows) >= limit:
        return rows
    more = postgres.ranked_search(tier=second, limit=limit - len(rows),
                                  exclude_ids=[*exclude_ids, *(row.article_id for row in rows)], **options)
    total = (rows[0].total if rows else 0) + (more[0].total if more else 0)
    for row in rows + more:
        row.total = total
    return rows + more


def _full_search(tenant, groups, primary, fallback, locale, audience, limit) -> list[Row]:
    with postgres.index_scans():
        rows = _tiered(*_tiers(groups, primary, fallback, locale), limit, tenant_id=tenant.pk, audience=audience)
        if rows:
            return rows
        # Nothing has every word: correct misspelt words against the vocabulary and accept
        # articles that have any of the asked things (best first).
        postgres.corrections(tenant_id=tenant.pk, locales=primary + fallback, groups=groups, locale=locale)
        positive = [g for g in groups if not g.negated]
        if len(positive) > 1 or any(g.corrections for g in positive):
            rows = _tiered(*_tiers(groups, primary, fallback, locale, any_group=True), limit,
                           tenant_id=tenant.pk, audience=audience)
        return rows


def kb_search(*, tenant: Tenant, query: str, locale: str, audience: Audience, source: str, limit: int = 10,
              session_key: str | None = None, contact_id: int | None = None, user_id: int | None = None,
              record: bool = True) -> SearchResults:
    """Search the help center as ``audience`` sees it. ``query`` is web-search syntax (words,
    "phrases", -excluded, or); an empty query finds nothing and is not recorded. Raises
    ``ValidationError`` for a malformed locale (callers that take it from a request check it)."""
    query = " ".join((query or "").split())[:MAX_QUERY_CHARS]
    locale, primary, fallback = _locales(tenant, locale)
    limit = max(1, min(int(limit), MAX_LIMIT))
    mode = search_mode()
    if not query:
        return SearchResults(mode=mode)
    with _as(tenant):
        groups = parse_query(query, locale)
        rows: list[Row] = []
        if groups:
            groups = apply_synonyms(groups, _synonyms(tenant, primary), locale)
            if mode == FULL:
                rows = _full_search(tenant, groups, primary, fallback, locale, audience, limit)
            else:
                rows = simple.search(tenant_id=tenant.pk, groups=groups, locales=primary, fallback=fallback,
                                     locale=locale, audience=audience, limit=limit)
        total = rows[0].total if rows else 0
        search_id = None
        if record:
            event = search_record(tenant=tenant, query=query, locale=locale, source=source, result_count=total,
                                  session_key=session_key, contact_id=contact_id, user_id=user_id)
            search_id = event.pk
        marks = highlighter(highlight_terms(groups, locale)) if rows else None
        return SearchResults(hits=_hits(rows, locale, marks), search_id=search_id, mode=mode, total=total)


def kb_autocomplete(*, tenant: Tenant, prefix: str, locale: str, audience: Audience, limit: int = 8) -> list[SearchHit]:
    """Titles that start like what is being typed, or nearly (a typo), for the search box's
    list. Cheap (one statement), not recorded; fewer than two letters answer nothing."""
    prefix = " ".join((prefix or "").split())[:MAX_QUERY_CHARS]
    locale, primary, fallback = _locales(tenant, locale)
    limit = max(1, min(int(limit), MAX_LIMIT))
    typed = " ".join(words(fold(prefix, locale)))
    if len(typed.replace(" ", "")) < 2:
        return []
    with _as(tenant):
        if search_mode() == SIMPLE:
            rows = simple.autocomplete(tenant_id=tenant.pk, prefix=prefix, locales=primary, locale=locale,
                                       audience=audience, limit=limit)
            return _hits(rows, locale)
        first = Tier(locales=primary, query=postgres.prefix_tsquery(prefix, locale))
        second = (Tier(locales=fallback, query=postgres.prefix_tsquery(prefix, fallback[0]),
                       factor=FALLBACK_FACTOR, exclude_locales=primary) if fallback else None)
        typo = Expr("%s <%% d.title_folded", [typed])
        starts = Expr("CASE WHEN d.title_folded LIKE %s THEN 2.0 ELSE 0.0 END "
                      "+ word_similarity(%s, coalesce(d.title_folded, ''))", [typed + "%", typed])
        with postgres.index_scans():
            rows = _tiered(first, second, limit, tenant_id=tenant.pk, audience=audience, columns=("d.title_tsv",),
                           extra_matches=(typo,), extra_score=starts, bound=100, text=False)
        return _hits(rows, locale)


def _terms(text: str, locale: str) -> list[str]:
    """The text's most telling stemmed terms: frequent ones, early ones (the subject), long ones."""
    found = postgres.text_terms(text=text, locale=locale, limit=60)
    scored = sorted(found, key=lambda item: (-(item[1] + (2 if item[2] <= 15 else 0) + min(len(item[0]), 12) / 6),
                                             item[2]))
    return [lexeme for lexeme, _count, _first in scored if not lexeme.isdigit()][:SUGGEST_TERMS]


def _term_queries(terms: list[str]) -> list[str]:
    """Each term as a tsquery: the stem itself, or its accent-folded form as a prefix of the
    surface words (the stemmer cut "siparişiniz" short, the term did not)."""
    out = []
    for term in terms:
        parts = [postgres._literal(term)]
        if len(term) >= 4:
            parts.append(postgres._literal(fold_accents(term), prefix=True))
        out.append(" | ".join(dict.fromkeys(parts)))
    return out


def _suggest_tier(locales: list[str], term_queries: list[str], *, factor: float = 1.0,
                  exclude: list[str] | None = None) -> Tier:
    """Titles with any of the terms, documents with at least two of them (when there are three
    or more: an OR of pairs, which the GIN index answers as it does any tsquery), so the
    bounded candidates are the articles about the text, not any that share one common word."""
    any_term = " | ".join(f"({q})" for q in term_queries)
    if len(term_queries) >= 3:
        # The stems alone in the pairs: prefix operands make the index merge many entries each.
        stems = [q.split(" | ")[0] for q in term_queries]
        body = " | ".join(f"({a} & {b})" for i, a in enumerate(stems) for b in stems[i + 1:])
    else:
        body = any_term
    return Tier(locales=locales, factor=factor, exclude_locales=exclude or [],
                query=Expr("%s::tsquery", [body]), title_query=Expr("%s::tsquery", [any_term]),
                coverage=Expr("(SELECT count(*) FROM unnest(%s::tsquery[]) AS g(q) WHERE d.tsv @@ g.q)",
                              [term_queries]))


def kb_suggest(*, tenant: Tenant, text: str, locale: str, audience: Audience, limit: int = 5,
               exclude_ids=()) -> list[SearchHit]:
    """The best articles for a longer text: its meaningful terms (greetings, filler and stop
    words dropped; frequent, early and long words first), any of them, ranked by how many
    each article has (at least two of them when there are more than two), then as a search."""
    locale, primary, fallback = _locales(tenant, locale)
    limit = max(1, min(int(limit), MAX_LIMIT))
    cleaned = suggestion_words((text or "")[:SUGGEST_MAX_CHARS * 2], locale)[:SUGGEST_MAX_CHARS]
    if not cleaned:
        return []
    exclude = [int(pk) for pk in exclude_ids]
    with _as(tenant):
        if search_mode() == SIMPLE:
            kept = list(dict.fromkeys(w for w in cleaned.split() if len(w) >= 4))
            kept.sort(key=len, reverse=True)
            rows = simple.suggest(tenant_id=tenant.pk, text_words=kept[:8], locales=primary, locale=locale,
                                  audience=audience, limit=limit, exclude_ids=exclude)
            return _hits(rows, locale, highlighter([fold_accents(prefix_root(w, locale) or w) for w in kept[:8]]))
        with postgres.index_scans():
            return _full_suggest(tenant, cleaned, locale, primary, fallback, audience, limit, exclude)


def _full_suggest(tenant, cleaned, locale, primary, fallback, audience, limit, exclude) -> list[SearchHit]:
    """``kb_suggest`` on PostgreSQL: the terms (stemmed by the language's configuration), then
    the ranked search for any of them, with how many of them each article has."""
    terms = _terms(cleaned, locale)
    if not terms:
        return []
    term_queries = _term_queries(terms)
    first, second = _suggest_tier(primary, term_queries), None
    if fallback:
        # The fallback language's articles are matched with that language's stems of the text.
        other = (_term_queries(_terms(cleaned, fallback[0]))
                 if stem_config(fallback[0]) != stem_config(locale) else term_queries)
        if other:
            second = _suggest_tier(fallback, other, factor=FALLBACK_FACTOR, exclude=primary)
    rows = _tiered(first, second, limit, tenant_id=tenant.pk, audience=audience, coverage_weight=0.5,
                   min_coverage=1 if len(terms) <= 2 else 2, exclude_ids=exclude)
    return _hits(rows, locale, highlighter([fold_accents(term) for term in terms]))
