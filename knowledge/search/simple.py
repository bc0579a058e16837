"""The simple search of embedded mode (SQLite): no stemming, ranking or index, and it says so
(``SearchResults.mode == "simple"``).

Each asked word (its root, so "siparişlerim" still finds "sipariş"; or a synonym) must occur
in the title or the text, compared case- and accent-insensitively the language's way: a
regular expression per word run by Django's ``iregex`` (Python's ``re`` on SQLite, which
folds ``İ``/``I``/``ı``/``i`` together as the full search does). Title matches come first,
then helpful and recent articles. Fine for the few hundred articles of a trial; a help center
that grows runs on PostgreSQL.
"""
from __future__ import annotations

import html
import re

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce

from knowledge.audience import Audience, visible_articles_q
from knowledge.models import ArticleTranslation, TranslationStatus
from knowledge.search.postgres import Row
from knowledge.search.text import Group, fold_case, loose_pattern, prefix_root, root, words

SNIPPET_WORDS = 30


def _pattern(group: Group, locale: str) -> str:
    alternatives = []
    if group.phrase:
        alternatives.append(r"\W+".join(loose_pattern(w) for w in group.words))
    else:
        alternatives.append(loose_pattern(prefix_root(group.word, locale) or group.word))
    for synonym in group.synonyms:
        alternatives.append(r"\W+".join(loose_pattern(root(w, locale)) for w in synonym))
    return "(" + "|".join(alternatives) + ")"


def _matches(pattern: str) -> Q:
    return Q(title__iregex=pattern) | Q(body_text__iregex=pattern)


def _base(*, tenant_id: int, locales: list[str], audience: Audience, exclude_ids=()):
    queryset = (ArticleTranslation.objects.filter(tenant_id=tenant_id, status=TranslationStatus.PUBLISHED,
                                                  locale__in=locales)
                .filter(visible_articles_q(audience, prefix="article__")))
    if exclude_ids:
        queryset = queryset.exclude(article_id__in=list(exclude_ids))
    return queryset


def _rows(queryset, *, patterns: list[str], limit: int, locale: str, factor: float = 1.0,
          first: tuple[str, ...] = ()) -> list[Row]:
    title_hits = sum((Case(When(title__iregex=p, then=Value(1)), default=Value(0), output_field=IntegerField())
                      for p in patterns), Value(0))
    rows = list(queryset.annotate(title_hits=title_hits, helpful=Coalesce("article__helpful_count", 0))
                .order_by(*first, "-title_hits", "-helpful", "-published_at", "id")
                .values("id", "article_id", "locale", "title", "body_text", "article__visibility", "title_hits")
                [:limit])
    return [Row(translation_id=r["id"], article_id=r["article_id"], locale=r["locale"], title=r["title"],
                visibility=r["article__visibility"], score=round((1.0 + r["title_hits"]) * factor, 4),
                total=len(rows), text=r["body_text"][:5000]) for r in rows]


def snippet(text: str, found: re.Pattern | None) -> str:
    """Some thirty words around the first match, HTML-escaped, matches in ``<mark>`` (the
    snippet of both modes)."""
    text = " ".join((text or "").split())
    start = 0
    match = found.search(text) if found else None
    if match:
        start = max(0, text.rfind(" ", 0, max(0, match.start() - 60)) + 1)
    piece = " ".join(text[start:].split(" ")[:SNIPPET_WORDS])
    out = _mark_escaped(piece, found) if found else html.escape(piece)
    prefix = "… " if start else ""
    suffix = " …" if len(piece) < len(text) - start else ""
    return prefix + out + suffix


def _mark_escaped(piece: str, found: re.Pattern) -> str:
    out, last = [], 0
    for match in found.finditer(piece):
        out.append(html.escape(piece[last:match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(piece[last:]))
    return "".join(out)


def search(*, tenant_id: int, groups: list[Group], locales: list[str], fallback: list[str], locale: str,
           audience: Audience, limit: int, exclude_ids=()) -> list[Row]:
    condition = Q()
    pending: Q | None = None
    patterns = []
    excluded = Q()
    for group in groups:
        pattern = _pattern(group, locale)
        if group.negated:
            excluded |= _matches(pattern)
            continue
        patterns.append(pattern)
        pending = _matches(pattern) if pending is None else pending | _matches(pattern)
        if not group.or_next:
            condition &= pending
            pending = None
    if pending is not None:
        condition &= pending
    if not patterns:
        return []

    def query(where_locales, extra_exclude=()):
        queryset = _base(tenant_id=tenant_id, locales=where_locales, audience=audience,
                         exclude_ids=[*exclude_ids, *extra_exclude]).filter(condition)
        return queryset.exclude(excluded) if excluded else queryset

    rows = _rows(query(locales), patterns=patterns, limit=limit, locale=locale)
    if fallback and len(rows) < limit:
        lacking = ArticleTranslation.objects.filter(tenant_id=tenant_id, locale__in=locales,
                                                    status=TranslationStatus.PUBLISHED).values("article_id")
        more = _rows(query(fallback).exclude(article_id__in=lacking), patterns=patterns,
                     limit=limit - len(rows), locale=locale, factor=0.8)
        rows += [r for r in more if r.article_id not in {x.article_id for x in rows}]
    for row in rows:
        row.total = len(rows)
    return rows


def autocomplete(*, tenant_id: int, prefix: str, locales: list[str], locale: str, audience: Audience,
                 limit: int) -> list[Row]:
    typed = words(fold_case(prefix, locale))[:8]
    if not typed:
        return []
    queryset = _base(tenant_id=tenant_id, locales=locales, audience=audience)
    for index, word in enumerate(typed):
        last = index == len(typed) - 1
        queryset = queryset.filter(title__iregex=loose_pattern(word if last else (prefix_root(word, locale) or word)))
    starts = "^" + r"\W+".join(loose_pattern(w) for w in typed)
    return _rows(queryset, patterns=[starts], limit=limit, locale=locale)


def suggest(*, tenant_id: int, text_words: list[str], locales: list[str], locale: str, audience: Audience,
            limit: int, exclude_ids=()) -> list[Row]:
    """Articles sharing the most of the text's words (at least two, or the only one)."""
    patterns = [loose_pattern(prefix_root(w, locale) or w) for w in text_words]
    if not patterns:
        return []
    matched = sum((Case(When(_matches(p), then=Value(1)), default=Value(0), output_field=IntegerField())
                   for p in patterns), Value(0))
    needed = 1 if len(patterns) <= 2 else 2
    queryset = (_base(tenant_id=tenant_id, locales=locales, audience=audience, exclude_ids=exclude_ids)
                .annotate(matched=matched).filter(matched__gte=needed))
    return _rows(queryset, patterns=patterns, limit=limit, locale=locale, first=("-matched",))
