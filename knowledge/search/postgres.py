"""The full search on PostgreSQL: the SQL behind ``knowledge.search.service``.

Shape of every search (one statement per language tier):

1. *Candidates*, bounded: search documents (``knowledge_searchdocument``, one per published
   translation) of the tenant and language whose title matches (at most ``CANDIDATES``) and
   whose whole document matches (at most ``CANDIDATES``), whose visibility the audience may
   have (a pre-filter). Both probes are GIN index scans on ``(tenant_id, locale, title_tsv)``
   / ``(tenant_id, locale, tsv)``; the title probe makes sure title matches are ranked even
   when a common word matches thousands of bodies. The text rank is computed right there:
   ``ts_rank`` with weights title 1.0 > body 0.4 > labels 0.2, plus 1 for a title match.
2. *A pool* of the best ``RANK_POOL`` by text rank (ranking every match of a common word over
   a large help center costs a second; this ranks at most 2 × ``CANDIDATES``) is read from the
   translations and their articles by primary key, through row-level security, published
   translations of articles ``visible_articles_q`` lets the audience see, and reordered with
   a helpfulness factor (0.8–1.2, votes smoothed), a recency factor (0.85–1.0, a year's
   half-life) and 1.1 for promoted articles. One hit per article.
3. The start of each returned hit's text, from which the service cuts the snippet around
   the first match (``knowledge.search.text.highlighter``: case- and accent-insensitive, so
   "IŞIK" is marked for "isik"); ``ts_headline`` did the same in the database, at about half
   a millisecond a hit.

The tier's tsquery is computed once per statement (``q``), not folded into every place it is
used (which cost milliseconds of planning).

Every statement on the search tables names the tenant (they have no row-level security; see
``knowledge.models.search``). The statements run with sequential scans off (``index_scans``).
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field

from django.db import connection, transaction

from knowledge.audience import Audience, visible_articles_q
from knowledge.models import Article, Visibility
from knowledge.search.text import (
    Group,
    best_corrections,
    fold,
    fold_accents,
    fold_case,
    prefix_root,
    stem_config,
    surface_config,
    words,
)

CANDIDATES = 200   # per probe (title / whole document, per language)
RANK_POOL = 50     # best by text rank, then reordered by helpfulness and recency
SNIPPET_SOURCE_CHARS = 5_000  # the snippet is cut from the start of the text
WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C (labels), B (body), A (title)
CORRECTION_SIMILARITY = 0.45


@dataclass
class Expr:
    """A piece of SQL and its parameters, in order."""

    sql: str
    params: list = field(default_factory=list)


def _literal(lexeme: str, *, prefix: bool = False) -> str:
    """A tsquery operand written out (no normalisation: the lexeme is taken as it is)."""
    quoted = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if prefix else "")


# --- tsquery expressions --------------------------------------------------------------------

def group_tsquery(group: Group, locale: str) -> Expr:
    """The tsquery of one group in ``locale``: its stems (the word, its root, its synonyms) OR
    the prefixes of its root on surface words, OR its typo corrections."""
    cfg, scfg = stem_config(locale), surface_config(locale)
    alternatives = [" <-> ".join(group.words)] if group.phrase else [group.word]
    prefixes: list[str] = []
    if not group.phrase:
        found = prefix_root(group.word, locale)
        if found and found != group.word:
            alternatives.append(found)
        if found:
            prefixes.append(fold_accents(found))
    for synonym in group.synonyms:
        alternatives.append(" <-> ".join(synonym))
        if len(synonym) == 1:
            found = prefix_root(synonym[0], locale)
            if found:
                prefixes.append(fold_accents(found))
    parts = ["to_tsquery(%s::regconfig, %s)"]
    params: list = [cfg, " | ".join(f"({a})" if "<->" in a else a for a in alternatives)]
    if prefixes:
        parts.append("to_tsquery(%s::regconfig, %s)")
        params += [scfg, " | ".join(f"{p}:*" for p in dict.fromkeys(prefixes))]
    if group.corrections:
        parts.append("%s::tsquery")
        params.append(" | ".join(_literal(c) for c in group.corrections))
    expr = " || ".join(parts)
    if not group.phrase and not group.synonyms:
        # A stop word of the language (PostgreSQL's list) asks for nothing, even though its
        # accent-folded surface form is not a stop word any more ("için" → "icin").
        expr = f"CASE WHEN numnode(to_tsquery(%s::regconfig, %s)) = 0 THEN ''::tsquery ELSE ({expr}) END"
        params = [cfg, group.word] + params
    return Expr(f"({expr})", params)


def query_tsquery(groups: list[Group], locale: str, *, any_group: bool = False) -> Expr:
    """The groups combined: all of them (``or`` between two where the query says so), or any
    of them (``any_group``, the fallback when nothing matches all). Excluded words always apply."""
    positive: list[list[Expr]] = []
    negative: list[Expr] = []
    joined = False
    for group in groups:
        expr = group_tsquery(group, locale)
        if group.negated:
            negative.append(expr)
            continue
        if joined and positive:
            positive[-1].append(expr)
        else:
            positive.append([expr])
        joined = group.or_next
    if any_group:
        positive = [[e for alternatives in positive for e in alternatives]] if positive else []
    sql_parts: list[str] = []
    params: list = []
    for alternatives in positive:
        sql_parts.append("(" + " || ".join(e.sql for e in alternatives) + ")")
        for e in alternatives:
            params += e.params
    for expr in negative:
        sql_parts.append(f"!!{expr.sql}")
        params += expr.params
    if not positive:
        return Expr("''::tsquery", [])
    return Expr("(" + " && ".join(sql_parts) + ")", params)


def prefix_tsquery(text: str, locale: str) -> Expr:
    """As-you-type: every word (the last one partly typed) as a prefix of a title's words."""
    prefixes = []
    folded = words(fold_case(text, locale))
    for index, word in enumerate(folded[:8]):
        last = index == len(folded) - 1
        found = word if last else (prefix_root(word, locale) or word)
        prefixes.append(fold_accents(found))
    if not prefixes:
        return Expr("''::tsquery", [])
    return Expr("to_tsquery(%s::regconfig, %s)", [surface_config(locale),
                                                   " & ".join(f"{p}:*" for p in prefixes)])


# --- the statements -------------------------------------------------------------------------

@dataclass
class Tier:
    """Translations searched with one language's configuration: the asked locale (and its
    base language), or the fallback language for articles the asked one lacks."""

    locales: list[str]
    query: Expr
    factor: float = 1.0
    exclude_locales: list[str] = field(default_factory=list)  # skip articles published in these
    coverage: Expr | None = None  # SQL on ``d``: how many of a text's terms the document has
    title_query: Expr | None = None  # what a title must match to be a candidate (default: query)


@dataclass
class Row:
    translation_id: int
    article_id: int
    locale: str
    title: str
    visibility: str
    score: float
    total: int
    text: str = ""  # the start of the body, for the snippet


def _visible(tenant_id: int, audience: Audience) -> Expr:
    """``visible_articles_q`` as a condition on ``knowledge_article`` (the article of a ranked
    candidate), compiled by the ORM: the one rule, not a copy of it."""
    if audience.is_agent:
        return Expr("", [])
    query = Article.objects.filter(tenant_id=tenant_id).filter(visible_articles_q(audience)).order_by().query
    where, params = query.get_compiler(connection=connection).compile(query.where)
    return Expr(f" AND {where}", list(params))


def visibilities(audience: Audience) -> list[str] | None:
    """The article visibilities ``audience`` may have any articles of (None: all). Only a
    pre-filter of candidates, a superset of what ``visible_articles_q`` lets through."""
    if audience.is_agent:
        return None
    allowed = [Visibility.PUBLIC.value]
    if audience.signed_in:
        allowed.append(Visibility.SIGNED_IN.value)
    if audience.organization_id is not None:
        allowed.append(Visibility.ORGANIZATIONS.value)
    return allowed


def _probe(*, tenant_id: int, tier: Tier, match: Expr, rank: Expr, coverage: Expr | None,
           audience: Audience, exclude_ids: list[int], bound: int) -> Expr:
    """At most ``bound`` documents of the tier's locales matching ``match`` (SQL on ``d``),
    with their text rank (computed here, on the row the index scan fetched).

    A fallback tier (``exclude_locales``) wants the articles that have no document in the asked
    language: of the first ``bound`` matches it keeps those (a per-row look-up), so a common
    word in a help center translated throughout costs ``bound`` look-ups, not one per match."""
    where = "d.tenant_id = %s::bigint AND d.locale = ANY(%s) AND " + match.sql
    params: list = [tenant_id, tier.locales, *match.params]
    allowed = visibilities(audience)
    if allowed is not None:
        where += " AND d.visibility = ANY(%s)"
        params.append(allowed)
    if exclude_ids:
        where += " AND NOT (d.article_id = ANY(%s))"
        params.append(exclude_ids)
    columns = f"d.translation_id AS id, d.article_id, {rank.sql} AS text_rank, " \
              f"{coverage.sql if coverage else '0'} AS coverage"
    head = [*rank.params, *(coverage.params if coverage else [])]
    if not tier.exclude_locales:
        return Expr(f"(SELECT {columns} FROM q, knowledge_searchdocument d WHERE {where} LIMIT %s)",
                    head + params + [bound])
    return Expr(
        f"(SELECT {columns} FROM q, (SELECT d.* FROM q, knowledge_searchdocument d WHERE {where} LIMIT %s) d "
        "WHERE NOT EXISTS (SELECT 1 FROM knowledge_searchdocument p WHERE p.article_id = d.article_id "
        "AND p.tenant_id = d.tenant_id AND p.locale = ANY(%s) OFFSET 0))",
        head + params + [bound, tier.exclude_locales])


_INDEX_SCANS = contextvars.ContextVar("kb_search_index_scans", default=False)
_PLANNER = (("enable_seqscan", "off"), ("max_parallel_workers_per_gather", "0"))


@contextlib.contextmanager
def index_scans():
    """Run the statements inside with sequential scans and parallel workers switched off
    (this transaction only; nested uses share the outer one).

    The candidate probes end in ``LIMIT``: for a word in a few percent of the documents the
    planner expects a sequential scan to meet enough matches early and prefers it to the GIN
    index, not knowing that testing ``@@`` on a row costs a detoast (measured: 40 ms to find
    400 title matches among 17,000 rows, against 1–2 ms through the index). The rest of the
    statements reads by primary key. A parallel plan's workers cost more to start than these
    statements take. The settings are ``SET LOCAL`` (they end with the transaction) and put
    back afterwards, so the rest of the request plans as usual.
    """
    if _INDEX_SCANS.get():
        yield
        return
    token = _INDEX_SCANS.set(True)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            names = [name for name, _value in _PLANNER]
            cursor.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names) + ", "
                           + ", ".join(f"set_config('{n}', '{v}', true)" for n, v in _PLANNER))
            previous = cursor.fetchone()[:len(names)]
            yield
            # Not reached on an error: the savepoint's rollback undoes the settings instead.
            cursor.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _n in names),
                           [item for pair in zip(names, previous) for item in pair])
    finally:
        _INDEX_SCANS.reset(token)


def ranked_search(*, tenant_id: int, tier: Tier, audience: Audience, limit: int,
                  columns: tuple[str, ...] = ("d.title_tsv", "d.tsv"), extra_matches: tuple[Expr, ...] = (),
                  extra_score: Expr | None = None, coverage_weight: float = 0.0, min_coverage: int = 0,
                  exclude_ids: list[int] | None = None, bound: int = CANDIDATES,
                  text: bool = True) -> list[Row]:
    """Bounded candidates, ranked, one hit per article, with the start of each hit's text.

    The tier's tsquery is computed once (``q``). ``extra_matches`` are more ways (SQL on
    ``d``) a document becomes a candidate (autocomplete's trigram match); ``extra_score``
    adds to the text rank; the tier's ``coverage`` keeps candidates reaching
    ``min_coverage`` and adds ``coverage_weight`` times itself to the rank. The text rank
    picks a pool of the best ``RANK_POOL``; helpfulness and recency (which need the article)
    reorder that pool, which is read from the translations and articles through row-level
    security: published translations of articles the audience may see."""
    coverage = tier.coverage
    rank = Expr("((ts_rank('" + WEIGHTS + "', d.tsv, q.query, 1) + CASE WHEN d.title_tsv @@ q.query THEN 1.0 ELSE 0.0 END"
                + (f" + {extra_score.sql}" if extra_score else "")
                + (f" + {coverage_weight} * {coverage.sql}" if coverage and coverage_weight else "")
                + f") * {tier.factor:.3f})",
                (extra_score.params if extra_score else []) + (coverage.params if coverage and coverage_weight else []))
    matches = [Expr(f"{column} @@ q.{'title_query' if column == 'd.title_tsv' else 'query'}") for column in columns]
    matches += list(extra_matches)
    candidates = [_probe(tenant_id=tenant_id, tier=tier, match=match, rank=rank, coverage=coverage,
                         audience=audience, exclude_ids=list(exclude_ids or []), bound=bound) for match in matches]
    visible = _visible(tenant_id, audience)
    text_sql = "left(t.body_text, %s)" if text else "''"
    sql = (
        f"WITH q AS MATERIALIZED (SELECT {tier.query.sql} AS query, "
        f"{(tier.title_query or tier.query).sql} AS title_query), "
        "c AS (" + " UNION ALL ".join(e.sql for e in candidates) + "), "
        "pool AS (SELECT *, count(*) OVER () AS total FROM (SELECT DISTINCT ON (id) * FROM c ORDER BY id) u "
        "WHERE coverage >= %s ORDER BY text_rank DESC, id LIMIT %s), "
        # The pool's translations and articles by primary key, one by one (OFFSET 0 keeps
        # each sub-select a per-row look-up whatever the planner's row estimates), through
        # row-level security: published translations, articles the audience may see.
        "scored AS (SELECT t.id, t.article_id, t.locale, t.title, a.visibility, p.total, "
        "p.text_rank * (0.8 + 0.4 * (a.helpful_count + 1.0) / (a.helpful_count + a.unhelpful_count + 2.0))"
        " * (0.85 + 0.15 * exp(-greatest(extract(epoch FROM now() - coalesce(t.published_at, now())), 0)"
        " / 31557600.0))"
        " * CASE WHEN a.is_promoted THEN 1.1 ELSE 1.0 END AS score "
        "FROM pool p CROSS JOIN LATERAL (SELECT t.id, t.article_id, t.locale, t.title, t.published_at "
        "FROM knowledge_articletranslation t WHERE t.id = p.id AND t.tenant_id = %s AND t.status = 'published' "
        "OFFSET 0) t "
        "CROSS JOIN LATERAL (SELECT knowledge_article.visibility, knowledge_article.helpful_count, "
        "knowledge_article.unhelpful_count, knowledge_article.is_promoted FROM knowledge_article "
        f"WHERE knowledge_article.id = t.article_id{visible.sql} OFFSET 0) a), "
        "best AS (SELECT DISTINCT ON (article_id) * FROM scored ORDER BY article_id, score DESC, id), "
        "top AS (SELECT * FROM best ORDER BY score DESC, id LIMIT %s) "
        f"SELECT c.id, c.article_id, c.locale, c.title, c.visibility, c.score, c.total, {text_sql} "
        "FROM top AS c CROSS JOIN LATERAL (SELECT t.body_text FROM knowledge_articletranslation t "
        "WHERE t.id = c.id OFFSET 0) t ORDER BY c.score DESC, c.id")
    params = [*tier.query.params, *(tier.title_query or tier.query).params, *(p for e in candidates for p in e.params)]
    params += [min_coverage, max(RANK_POOL, limit * 5), tenant_id, *visible.params, limit]
    if text:
        params.append(SNIPPET_SOURCE_CHARS)
    with index_scans(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Row(translation_id=r[0], article_id=r[1], locale=r[2], title=r[3], visibility=r[4],
                    score=float(r[5]), total=int(r[6]), text=r[7] or "") for r in cursor.fetchall()]


def corrections(*, tenant_id: int, locales: list[str], groups: list[Group], locale: str) -> None:
    """Typo correction: for each query word that is not a word of the tenant's articles, the
    closest vocabulary words (``refnud`` → ``refund``), put on the group. Candidates come from
    the trigram index (similar spelling) and from the words sharing the first three letters
    (a swap or a missing letter in a short word leaves few trigrams in common); the closest
    by edit distance win. One statement for all words."""
    probes = [(index, fold(group.word, locale)) for index, group in enumerate(groups)
              if not group.phrase and not group.negated and len(group.word) >= 3]
    if not probes:
        return
    sql = (
        "SELECT q.i, v.word, v.similarity FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[]) "
        "AS q(i, w, low, high) "
        "CROSS JOIN LATERAL ("
        "  (SELECT s.word, similarity(s.word, q.w) AS similarity FROM knowledge_searchterm s "
        "   WHERE s.tenant_id = %s::bigint AND s.locale = ANY(%s) AND s.word %% q.w "
        "   ORDER BY 2 DESC, s.word LIMIT 10)"
        "  UNION"
        "  (SELECT s.word, similarity(s.word, q.w) FROM knowledge_searchterm s "
        "   WHERE s.tenant_id = %s::bigint AND s.locale = ANY(%s) AND s.word >= q.low AND s.word < q.high "
        "   AND abs(char_length(s.word) - char_length(q.w)) <= 2 ORDER BY s.word LIMIT 50)"
        ") v "
        "WHERE NOT EXISTS (SELECT 1 FROM knowledge_searchterm e WHERE e.tenant_id = %s "
        "  AND e.locale = ANY(%s) AND e.word = q.w)")
    lows = [w[:3] for _i, w in probes]
    with index_scans(), connection.cursor() as cursor:
        cursor.execute(sql, [[i for i, _w in probes], [w for _i, w in probes], lows,
                             [low + "\U0010ffff" for low in lows], tenant_id, locales, tenant_id, locales,
                             tenant_id, locales])
        found: dict[int, list[tuple[str, float]]] = {}
        for index, word, similarity in cursor.fetchall():
            found.setdefault(index, []).append((word, float(similarity or 0)))
    for index, word in probes:
        for correction in best_corrections(word, found.get(index, []), similarity=CORRECTION_SIMILARITY):
            if correction not in groups[index].corrections:
                groups[index].corrections.append(correction)


def text_terms(*, text: str, locale: str, limit: int) -> list[tuple[str, int, int]]:
    """The stemmed terms of a longer text with PostgreSQL's stop words dropped: (lexeme,
    occurrences, first position)."""
    sql = ("SELECT v.lexeme, coalesce(array_length(v.positions, 1), 1), coalesce(v.positions[1], 1) "
           "FROM unnest(to_tsvector(%s::regconfig, %s)) AS v WHERE char_length(v.lexeme) >= 3 "
           "ORDER BY 2 DESC, 3 LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [stem_config(locale), text, limit])
        return [(lexeme, int(count), int(first)) for lexeme, count, first in cursor.fetchall()]
