"""Content gaps: failed searches grouped into "questions the help center does not answer",
turned into draft articles with an owner, and measured again once the article is published.

A *failed search* is a search from a customer-facing source (help center, request form,
widget, API; agents' console searches are left out) that found nothing, or found results
nobody opened. Searches are read ``SETTLE`` after they happen, so a click that comes a few
seconds after its search is not mistaken for a failure.

The refresh reads only the searches recorded since the tenant's last refresh
(``ContentGapState``), grouped by query in the database; its work follows the new distinct
failed queries, not the history. A query seen before goes to the gap it already belongs to;
a new one joins the gap with the same grouping key (``knowledge.reports.grouping.gap_key``)
or, on PostgreSQL, the most similar key above ``SIMILARITY`` (pg_trgm); otherwise it opens a
new gap. Dismissed and resolved gaps keep collecting their queries (so a dismissed question
does not come back as a new gap, and a resolved one shows whether people still fail).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpdesk.events.services import event_emit
from helpdesk.tenancy.models import Tenant
from knowledge.locales import enabled_locales
from knowledge.models import (
    Article,
    Category,
    ContentGap,
    ContentGapQuery,
    ContentGapState,
    GapStatus,
    SearchEvent,
    SearchSource,
    Section,
    TranslationStatus,
)
from knowledge.reports.grouping import SIMILARITY, gap_key, title_from_query

SETTLE = timedelta(minutes=30)
# Searches read per refresh round; a refresh runs rounds until it has caught up.
BATCH = 5000
MAX_ROUNDS = 20
# Searches whose id is above the last one read but whose timestamp is a little older (a slow
# transaction) are still found: the read starts this long before the last one read.
READ_MARGIN = timedelta(minutes=10)
FIRST_WINDOW = timedelta(days=90)
GAP_SOURCES = (SearchSource.PORTAL, SearchSource.REQUEST_FORM, SearchSource.WIDGET, SearchSource.API)
FAILED = Q(result_count=0) | Q(clicked_article__isnull=True)
# The before/after measure compares equal windows on both sides of publication, at most this long.
MEASURE_MAX = timedelta(days=90)


def _state(tenant: Tenant) -> ContentGapState:
    ContentGapState.objects.get_or_create(tenant=tenant)
    return ContentGapState.objects.select_for_update().get(tenant=tenant)


def _similar_gaps(*, tenant: Tenant, locale: str, keys: list[str]) -> dict[str, int]:
    """For each key, the existing gap of ``locale`` whose key is the most similar at or above
    ``SIMILARITY`` (pg_trgm's ``%`` with the threshold set for this transaction, served by the
    ``(tenant_id, key gin_trgm_ops)`` index): ``{key: gap_id}``. One query for all the keys;
    empty outside PostgreSQL."""
    if connection.vendor != "postgresql" or not keys:
        return {}
    table = ContentGap._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(SIMILARITY)])
        cursor.execute(f"""
            SELECT k.key, best.id FROM unnest(%s::text[]) AS k(key)
            CROSS JOIN LATERAL (
                SELECT g.id FROM {table} g
                WHERE g.tenant_id = %s AND g.locale = %s AND g.key %% k.key
                ORDER BY similarity(g.key, k.key) DESC, g.search_count DESC, g.id
                LIMIT 1
            ) AS best""", [keys, tenant.pk, locale])
        return dict(cursor.fetchall())


@transaction.atomic
def content_gaps_refresh_round(*, tenant: Tenant, now: datetime | None = None, batch_size: int = BATCH) -> int:
    """Read one batch of new searches into gaps; returns how many searches were read (less
    than ``batch_size`` means caught up). Holds the tenant's gap-state row lock, so two
    refreshes of one tenant take turns. Precondition: in ``tenant``'s scope."""
    now = now or timezone.now()
    state = _state(tenant)
    searches = SearchEvent.objects.filter(tenant=tenant, created_at__lt=now - SETTLE, id__gt=state.last_search_id)
    if state.last_search_at is not None:
        searches = searches.filter(created_at__gte=state.last_search_at - READ_MARGIN)
    else:  # the first refresh of a tenant reads the recent past, not all of history
        searches = searches.filter(created_at__gte=now - FIRST_WINDOW)
    boundary = list(searches.order_by("id").values_list("id", "created_at")[batch_size - 1:batch_size])
    if boundary:
        upper_id, upper_at = boundary[0]
        read = batch_size
    else:
        top = searches.aggregate(top_id=Max("id"), top_at=Max("created_at"), n=Count("id"))
        if not top["n"]:
            state.refreshed_at = now
            state.save(update_fields=["refreshed_at"])
            _resolve_published(tenant=tenant)
            return 0
        upper_id, upper_at, read = top["top_id"], top["top_at"], top["n"]
    failed = (searches.filter(id__lte=upper_id, source__in=GAP_SOURCES).filter(FAILED)
              .exclude(normalized_query="").order_by().values("locale", "normalized_query")
              .annotate(n=Count("id"), no_results=Count("id", filter=Q(result_count=0)),
                        first=Min("created_at"), last=Max("created_at")))
    rows = list(failed)
    if rows:
        touched = _assign(tenant=tenant, rows=rows)
        _update_representatives(touched)
    state.last_search_id = upper_id
    state.last_search_at = max(upper_at, state.last_search_at) if state.last_search_at else upper_at
    state.refreshed_at = now
    state.save(update_fields=["last_search_id", "last_search_at", "refreshed_at"])
    _resolve_published(tenant=tenant)
    return read


def content_gaps_refresh(*, tenant: Tenant, now: datetime | None = None, batch_size: int = BATCH) -> int:
    """Read every search recorded since the last refresh into gaps (in rounds of
    ``batch_size``, each its own transaction); returns how many searches were read."""
    total = 0
    for _round in range(MAX_ROUNDS):
        read = content_gaps_refresh_round(tenant=tenant, now=now, batch_size=batch_size)
        total += read
        if read < batch_size:
            break
    return total


class _NewGaps:
    """Gaps opened in this batch, found again by key or (PostgreSQL) by trigram similarity
    computed here as pg_trgm does, so similar new queries of one batch share one gap."""

    def __init__(self, *, similar: bool):
        self.similar = similar
        self.by_key: dict[tuple[str, str], ContentGap] = {}
        self.index: dict[tuple[str, str], set[str]] = {}  # (locale, trigram) -> keys

    def find(self, locale: str, key: str) -> ContentGap | None:
        gap = self.by_key.get((locale, key))
        if gap is not None or not self.similar:
            return gap
        mine = trigrams(key)
        candidates = set().union(*(self.index.get((locale, t), set()) for t in mine)) if mine else set()
        best, best_score = None, SIMILARITY
        for other in sorted(candidates):
            score = similarity(mine, trigrams(other))
            if score >= best_score and (best is None or score > best_score):
                best, best_score = self.by_key[(locale, other)], score
        return best

    def add(self, gap: ContentGap) -> None:
        self.by_key[(gap.locale, gap.key)] = gap
        for t in trigrams(gap.key):
            self.index.setdefault((gap.locale, t), set()).add(gap.key)


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of a text: each word lower-cased, padded with two spaces in front
    and one behind."""
    found: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _assign(*, tenant: Tenant, rows: list[dict]) -> set[int]:
    """Add each failed query's searches to its gap (existing or new); returns the gaps touched.

    Batched: a fixed number of statements per batch (known queries, gaps by key, similar gaps
    per language, then bulk inserts and updates), whatever the number of distinct queries.
    Counters are written as read-modify-write, which is safe under the gap-state lock every
    refresh holds (nothing else writes them)."""
    rows = sorted(rows, key=lambda r: (-r["n"], r["normalized_query"]))
    known = {(q.locale, q.normalized_query): q for q in ContentGapQuery.objects.filter(
        normalized_query__in={row["normalized_query"] for row in rows})}
    fresh = [row for row in rows if (row["locale"], row["normalized_query"]) not in known]
    for row in fresh:
        row["key"] = gap_key(row["normalized_query"], row["locale"]) or row["normalized_query"][:200]
    by_key = {(g.locale, g.key): g.pk for g in ContentGap.objects.filter(key__in={row["key"] for row in fresh})}
    unmatched: dict[str, list[str]] = {}
    for row in fresh:
        if (row["locale"], row["key"]) not in by_key:
            unmatched.setdefault(row["locale"], []).append(row["key"])
    similar = {(locale, key): gap_id for locale, keys in unmatched.items()
               for key, gap_id in _similar_gaps(tenant=tenant, locale=locale, keys=sorted(set(keys))).items()}

    deltas: dict[int, dict] = {}

    def count(gap_id: int, row: dict) -> None:
        delta = deltas.setdefault(gap_id, {"n": 0, "no_results": 0, "first": row["first"], "last": row["last"]})
        delta["n"] += row["n"]
        delta["no_results"] += row["no_results"]
        delta["first"], delta["last"] = min(delta["first"], row["first"]), max(delta["last"], row["last"])

    member_deltas: dict[int, dict] = {}
    for row in rows:
        member = known.get((row["locale"], row["normalized_query"]))
        if member is not None:
            member_deltas[member.pk] = {"n": row["n"], "no_results": row["no_results"], "first": row["first"],
                                        "last": row["last"]}
            count(member.gap_id, row)
    _add_counts(tenant=tenant, model=ContentGapQuery, deltas=member_deltas)

    new_gaps = _NewGaps(similar=connection.vendor == "postgresql")
    placed: list[tuple[dict, int | ContentGap]] = []
    for row in fresh:
        locale, key = row["locale"], row["key"]
        target = by_key.get((locale, key)) or similar.get((locale, key)) or new_gaps.find(locale, key)
        if target is None:
            target = ContentGap(tenant=tenant, locale=locale, key=key, representative_query=row["normalized_query"],
                                first_searched_at=row["first"], last_searched_at=row["last"])
            new_gaps.add(target)
        placed.append((row, target))
    ContentGap.objects.bulk_create(list(new_gaps.by_key.values()), batch_size=500)
    new_members = []
    for row, target in placed:
        gap_id = target.pk if isinstance(target, ContentGap) else target
        new_members.append(ContentGapQuery(tenant=tenant, gap_id=gap_id, locale=row["locale"],
                                           normalized_query=row["normalized_query"], search_count=row["n"],
                                           no_result_count=row["no_results"], last_searched_at=row["last"]))
        count(gap_id, row)
    ContentGapQuery.objects.bulk_create(new_members, batch_size=500)

    _add_counts(tenant=tenant, model=ContentGap, deltas=deltas)
    return set(deltas)


def _add_counts(*, tenant: Tenant, model, deltas: dict[int, dict]) -> None:
    """Add failed searches to gaps or gap queries (``{id: {n, no_results, first, last}}``): one
    ``UPDATE … FROM unnest(…)`` on PostgreSQL; elsewhere (embedded, small) read and write back."""
    if not deltas:
        return
    has_first = model is ContentGap
    if connection.vendor == "postgresql":
        ids = list(deltas)
        columns = [ids, [deltas[i]["n"] for i in ids], [deltas[i]["no_results"] for i in ids],
                   [deltas[i]["first"] for i in ids], [deltas[i]["last"] for i in ids]]
        extra = (", first_searched_at = LEAST(COALESCE(t.first_searched_at, v.first_at), v.first_at), "
                 "updated_at = now()") if has_first else ""
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE {model._meta.db_table} AS t
                SET search_count = t.search_count + v.n, no_result_count = t.no_result_count + v.no_results,
                    last_searched_at = GREATEST(COALESCE(t.last_searched_at, v.last_at), v.last_at){extra}
                FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::timestamptz[], %s::timestamptz[])
                     AS v(id, n, no_results, first_at, last_at)
                WHERE t.tenant_id = %s AND t.id = v.id""", [*columns, tenant.pk])
        return
    fields = ["search_count", "no_result_count", "last_searched_at"] + (
        ["first_searched_at", "updated_at"] if has_first else [])
    rows = list(model.objects.filter(pk__in=list(deltas)).only("id", *fields))
    now = timezone.now()
    for row in rows:
        delta = deltas[row.pk]
        row.search_count += delta["n"]
        row.no_result_count += delta["no_results"]
        row.last_searched_at = max(filter(None, (row.last_searched_at, delta["last"])))
        if has_first:
            row.first_searched_at = min(filter(None, (row.first_searched_at, delta["first"])))
            row.updated_at = now
    model.objects.bulk_update(rows, fields, batch_size=500)


def _update_representatives(gap_ids: set[int]) -> None:
    """Each touched gap is named by its most searched query (one statement)."""
    top = (ContentGapQuery.objects.filter(gap=OuterRef("pk")).order_by("-search_count", "normalized_query")
           .values("normalized_query")[:1])
    ContentGap.objects.filter(pk__in=gap_ids).update(representative_query=Subquery(top))


def _resolve_published(*, tenant: Tenant) -> int:
    """Drafted gaps whose article has been published since are resolved (the event consumer
    does this at once; this catches up whatever it missed)."""
    published = Article.objects.filter(pk=OuterRef("article_id"), first_published_at__isnull=False)
    return (ContentGap.objects.filter(tenant=tenant, status=GapStatus.DRAFTED, article__isnull=False)
            .filter(article__first_published_at__isnull=False)
            .update(status=GapStatus.RESOLVED,
                    resolved_at=Subquery(published.values("first_published_at")[:1])))


def gaps_article_published(event) -> None:
    """Event consumer of ``kb.article.published``: the gaps drafted into that article are
    resolved, as of the article's first publication. Idempotent (only drafted gaps move)."""
    article_id = (event.payload or {}).get("article_id")
    if not isinstance(article_id, int):
        return
    article = Article.objects.filter(pk=article_id).values("first_published_at").first()
    if article is None or article["first_published_at"] is None:
        return
    ContentGap.objects.filter(article_id=article_id, status=GapStatus.DRAFTED).update(
        status=GapStatus.RESOLVED, resolved_at=article["first_published_at"], updated_at=timezone.now())


# --- the editor's actions ------------------------------------------------------------------

def _drafts_section(*, tenant: Tenant, actor) -> Section:
    """The section drafts from searches go to when the editor picks none: the one made for
    them before, or a new "Drafts from searches" section in the first category."""
    from knowledge.services.content import NameInput, category_create, section_create

    state = _state(tenant)
    if state.drafts_section_id and Section.objects.filter(pk=state.drafts_section_id).exists():
        return Section.objects.get(pk=state.drafts_section_id)
    names = []
    for locale in enabled_locales(tenant):
        with translation.override(locale):
            names.append(NameInput(locale=locale, name=_("Drafts from searches")))
    category = Category.objects.order_by("position", "id").first()
    if category is None:
        category = category_create(tenant=tenant, actor=actor, translations=names)
    section = section_create(tenant=tenant, actor=actor, category=category, translations=names)
    state.drafts_section = section
    state.save(update_fields=["drafts_section"])
    return section


@transaction.atomic
def content_gap_draft(*, gap: ContentGap, actor, owner=None, section: Section | None = None,
                      title: str | None = None) -> Article:
    """One click: a draft article for the gap, owned by ``owner`` (default: the editor), in
    ``section`` (default: "Drafts from searches"), titled after the gap's query, in the gap's
    language. A second click returns the same article. Precondition: ``owner`` and
    ``section`` belong to the gap's tenant (the caller looked them up there)."""
    from knowledge.services.content import TranslationInput, article_create

    # Lock order as in the refresh: the tenant's gap state (taken by ``_drafts_section``), then the gap.
    tenant = gap.tenant
    section = section or _drafts_section(tenant=tenant, actor=actor)
    gap = ContentGap.objects.select_for_update().get(pk=gap.pk)
    if gap.article_id is not None:
        existing = Article.objects.filter(pk=gap.article_id).first()
        if existing is not None:
            return existing
    locales = enabled_locales(tenant)
    locale = gap.locale if gap.locale in locales else locales[0]
    title = (title or "").strip() or title_from_query(gap.representative_query, gap.locale)
    if not title:
        raise ValidationError({"title": [_("An article needs a title.")]})
    owner = owner or (actor if getattr(actor, "pk", None) else None)
    article = article_create(tenant=tenant, actor=actor, section=section, owner=owner, translations=[
        TranslationInput(locale=locale, title=title[:255], body_html="", status=TranslationStatus.DRAFT)])
    now = timezone.now()
    gap.status, gap.article, gap.owner, gap.drafted_at = GapStatus.DRAFTED, article, owner, now
    gap.dismissed_at = gap.dismissed_by = None
    gap.save(update_fields=["status", "article", "owner", "drafted_at", "dismissed_at", "dismissed_by",
                            "updated_at"])
    event_emit(tenant=tenant, type="kb.gap.drafted", subject=gap, actor=actor,
               payload={"gap_id": gap.pk, "article_id": article.pk, "owner_id": getattr(owner, "pk", None)})
    return article


@transaction.atomic
def content_gap_dismiss(*, gap: ContentGap, actor) -> ContentGap:
    """Not worth an article (spam, a one-off, out of scope). Its queries stay with it, so the
    same question does not open a new gap."""
    gap = ContentGap.objects.select_for_update().get(pk=gap.pk)
    if gap.status != GapStatus.OPEN:
        raise ValidationError(_("Only open gaps can be dismissed."))
    gap.status, gap.dismissed_at = GapStatus.DISMISSED, timezone.now()
    gap.dismissed_by = actor if getattr(actor, "pk", None) else None
    gap.save(update_fields=["status", "dismissed_at", "dismissed_by", "updated_at"])
    event_emit(tenant=gap.tenant, type="kb.gap.dismissed", subject=gap, actor=actor, payload={"gap_id": gap.pk})
    return gap


@transaction.atomic
def content_gap_reopen(*, gap: ContentGap, actor) -> ContentGap:
    gap = ContentGap.objects.select_for_update().get(pk=gap.pk)
    if gap.status != GapStatus.DISMISSED:
        raise ValidationError(_("Only dismissed gaps can be reopened."))
    gap.status, gap.dismissed_at, gap.dismissed_by = GapStatus.OPEN, None, None
    gap.save(update_fields=["status", "dismissed_at", "dismissed_by", "updated_at"])
    event_emit(tenant=gap.tenant, type="kb.gap.reopened", subject=gap, actor=actor, payload={"gap_id": gap.pk})
    return gap
