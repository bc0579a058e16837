"""Listening reports: searches, click-through, deflection, the 80/20 view of article views,
and views/votes per article. Every figure is aggregated in the database (``GROUP BY``), over
the tenant's rows in a period read in the tenant's time zone; lists return a bounded number
of aggregated rows, never the raw events.

Definitions (the README repeats them):

- A *search* is one recorded ``SearchEvent`` (the final query of a search, not keystrokes).
  *With results*: ``result_count > 0``. *No results*: ``result_count = 0``. *Clicked*: the
  searcher opened one of the results (``clicked_article`` set). *No click*: it had results
  and none was opened.
- *Click-through rate* = clicked searches ÷ searches with results.
- The *no-click* list holds the queries whose searches in the period had results but were
  never clicked, not even once.
- A *self-service session* is a visitor's visit (``SelfServiceSession``) that started in the
  period and searched or read at least once (``search_count + view_count > 0``). It is
  *deflected* when it ended in neither a ticket nor a chat (``outcome = none``).
  *Deflection rate* = deflected sessions ÷ self-service sessions. A visit that is still going
  counts as deflected until it files a ticket, so today's rate may still go down.
- The *80/20 view*: articles ranked by views in the period; the number of articles whose
  views add up to 80% of all views, against the number of published articles.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate

from helpdesk.tenancy.models import Tenant
from knowledge.models import (
    Article,
    ArticleTranslation,
    ArticleView,
    SearchEvent,
    SelfServiceSession,
    SessionOutcome,
    TranslationStatus,
)
from knowledge.reports.period import Period

WITH_RESULTS = Q(result_count__gt=0)
NO_RESULTS = Q(result_count=0)
CLICKED = Q(clicked_article__isnull=False)
ACTIVE_SESSION = Q(search_count__gt=0) | Q(view_count__gt=0)
# The share of views the 80/20 view is about.
PARETO_SHARE = (4, 5)  # 80%, kept as a fraction so the database compares integers
TOP_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True)
class ReportFilter:
    period: Period
    locale: str | None = None
    source: str | None = None


def ratio(part: int | float | None, whole: int | float | None) -> float | None:
    """``part / whole``, or None when there is nothing to divide (shown as "—", not 0%)."""
    return (part or 0) / whole if whole else None


def _ratio_expr(part: str, whole: str):
    return Cast(F(part), FloatField()) / NullIf(F(whole), 0)


# --- searches ------------------------------------------------------------------------------

def searches_in(*, tenant: Tenant, flt: ReportFilter) -> QuerySet:
    """The tenant's searches in the period (by the ``(tenant, created_at)`` index), filtered."""
    qs = SearchEvent.objects.filter(tenant=tenant, created_at__gte=flt.period.start_at,
                                    created_at__lt=flt.period.end_at)
    if flt.locale:
        qs = qs.filter(locale=flt.locale)
    if flt.source:
        qs = qs.filter(source=flt.source)
    return qs


def _search_counts() -> dict:
    return {
        "searches": Count("id"),
        "with_results": Count("id", filter=WITH_RESULTS),
        "no_results": Count("id", filter=NO_RESULTS),
        "clicked": Count("id", filter=CLICKED),
        "no_click": Count("id", filter=WITH_RESULTS & ~CLICKED),
    }


def search_summary(*, tenant: Tenant, flt: ReportFilter) -> dict:
    """Totals of the period: searches, with/without results, clicked, no click, click-through
    rate and the average number of results. One query."""
    row = searches_in(tenant=tenant, flt=flt).aggregate(**_search_counts(), avg_results=Avg("result_count"))
    row["ctr"] = ratio(row["clicked"], row["with_results"])
    row["no_result_rate"] = ratio(row["no_results"], row["searches"])
    return row


def searches_by_day(*, tenant: Tenant, flt: ReportFilter) -> list[dict]:
    """Per day of the period (every day, zero-filled): searches, with results, no results,
    clicked, no click, the results shown in all (``result_total``) and click-through rate.
    One query."""
    rows = (searches_in(tenant=tenant, flt=flt).order_by()
            .annotate(day=TruncDate("created_at", tzinfo=flt.period.tz)).values("day")
            .annotate(**_search_counts(), result_total=Sum("result_count")))
    by_day = {row["day"]: row for row in rows}
    out = []
    for day in flt.period.days:
        row = by_day.get(day) or {"searches": 0, "with_results": 0, "no_results": 0, "clicked": 0, "no_click": 0,
                                  "result_total": 0}
        out.append({**row, "day": day, "ctr": ratio(row["clicked"], row["with_results"])})
    return out


def search_summary_of_days(days: list[dict]) -> dict:
    """``search_summary`` from ``searches_by_day``'s rows (one scan of the searches for both:
    adding up at most 366 day totals)."""
    names = ("searches", "with_results", "no_results", "clicked", "no_click")
    row = {name: sum(day[name] for day in days) for name in names}
    row["avg_results"] = ratio(sum(day["result_total"] or 0 for day in days), row["searches"])
    row["ctr"] = ratio(row["clicked"], row["with_results"])
    row["no_result_rate"] = ratio(row["no_results"], row["searches"])
    return row


def _by_query(qs: QuerySet) -> QuerySet:
    return qs.exclude(normalized_query="").order_by().values("normalized_query")


def top_searches(*, tenant: Tenant, flt: ReportFilter, limit: int | None = TOP_LIMIT) -> QuerySet:
    """The most frequent queries: ``normalized_query, searches, with_results, clicked,
    no_results, avg_results, ctr, last_searched_at`` (most searched first)."""
    qs = (_by_query(searches_in(tenant=tenant, flt=flt))
          .annotate(**_search_counts(), avg_results=Avg("result_count"), last_searched_at=Max("created_at"))
          .annotate(ctr=_ratio_expr("clicked", "with_results"))
          .order_by("-searches", "normalized_query"))
    return qs[:limit] if limit else qs


def no_result_searches(*, tenant: Tenant, flt: ReportFilter, limit: int | None = TOP_LIMIT) -> QuerySet:
    """Queries that found nothing: ``normalized_query, searches, last_searched_at``."""
    qs = (_by_query(searches_in(tenant=tenant, flt=flt).filter(NO_RESULTS))
          .annotate(searches=Count("id"), last_searched_at=Max("created_at"))
          .order_by("-searches", "normalized_query"))
    return qs[:limit] if limit else qs


def no_click_searches(*, tenant: Tenant, flt: ReportFilter, limit: int | None = TOP_LIMIT) -> QuerySet:
    """Queries that had results but were never clicked in the period: ``normalized_query,
    searches, avg_results, last_searched_at``."""
    qs = (_by_query(searches_in(tenant=tenant, flt=flt).filter(WITH_RESULTS))
          .annotate(searches=Count("id"), clicked=Count("id", filter=CLICKED), avg_results=Avg("result_count"),
                    last_searched_at=Max("created_at"))
          .filter(clicked=0)
          .order_by("-searches", "normalized_query"))
    return qs[:limit] if limit else qs


# --- deflection ----------------------------------------------------------------------------

def sessions_in(*, tenant: Tenant, flt: ReportFilter) -> QuerySet:
    """Self-service sessions that started in the period and searched or read (by the
    ``(tenant, started_at)`` index)."""
    qs = SelfServiceSession.objects.filter(tenant=tenant, started_at__gte=flt.period.start_at,
                                           started_at__lt=flt.period.end_at).filter(ACTIVE_SESSION)
    if flt.locale:
        qs = qs.filter(locale=flt.locale)
    if flt.source:
        qs = qs.filter(source=flt.source)
    return qs


def _session_counts() -> dict:
    deflected = Q(outcome=SessionOutcome.NONE)
    return {
        "sessions": Count("id"),
        "deflected": Count("id", filter=deflected),
        "tickets": Count("id", filter=Q(outcome=SessionOutcome.TICKET)),
        "chats": Count("id", filter=Q(outcome=SessionOutcome.CHAT)),
        # Deflected after reading at least one article: the strongest sign of an answer.
        "deflected_after_reading": Count("id", filter=deflected & Q(view_count__gt=0)),
    }


def deflection_summary(*, tenant: Tenant, flt: ReportFilter) -> dict:
    """Self-service sessions of the period, how they ended, and the deflection rate. One query."""
    row = sessions_in(tenant=tenant, flt=flt).aggregate(**_session_counts())
    row["rate"] = ratio(row["deflected"], row["sessions"])
    return row


def deflection_summary_of_days(days: list[dict]) -> dict:
    """``deflection_summary`` from ``deflection_by_day``'s rows (adding up day totals)."""
    names = ("sessions", "deflected", "tickets", "chats", "deflected_after_reading")
    row = {name: sum(day[name] for day in days) for name in names}
    row["rate"] = ratio(row["deflected"], row["sessions"])
    return row


def deflection_by_day(*, tenant: Tenant, flt: ReportFilter) -> list[dict]:
    """Per day the sessions started (zero-filled): sessions, deflected, tickets, chats, rate."""
    rows = (sessions_in(tenant=tenant, flt=flt).order_by()
            .annotate(day=TruncDate("started_at", tzinfo=flt.period.tz)).values("day")
            .annotate(**_session_counts()))
    by_day = {row["day"]: row for row in rows}
    out = []
    for day in flt.period.days:
        row = by_day.get(day) or {"sessions": 0, "deflected": 0, "tickets": 0, "chats": 0,
                                  "deflected_after_reading": 0}
        out.append({**row, "day": day, "rate": ratio(row["deflected"], row["sessions"])})
    return out


# --- articles: the 80/20 view, views and votes ---------------------------------------------

def published_q(prefix: str = "") -> Exists:
    """The article has a translation readers can see."""
    return Exists(ArticleTranslation.objects.filter(article=OuterRef(f"{prefix}pk"),
                                                    status=TranslationStatus.PUBLISHED))


def published_article_count(*, tenant: Tenant) -> int:
    return Article.objects.filter(tenant=tenant).filter(published_q()).count()


def _adapt(value):
    return connection.ops.adapt_datetimefield_value(value)


def article_views_pareto(*, tenant: Tenant, flt: ReportFilter, points: int = 50) -> dict:
    """How few articles serve 80% of the period's views.

    Returns ``total_views``, ``viewed_articles``, ``published_articles``, ``articles_for_80``
    (the fewest articles whose views reach 80% of all views), ``share_for_80`` (that number
    ÷ published articles, or ÷ viewed articles when more were viewed than are published now)
    and ``curve``: up to ``points`` + 2 points ``(rank, running_views)`` of the cumulative
    curve, most viewed first, always with the 80% point and the last one. Two queries; the
    ranking and the running sums are window functions in the database.
    """
    where = ["tenant_id = %s", "created_at >= %s", "created_at < %s"]
    params: list = [tenant.pk, _adapt(flt.period.start_at), _adapt(flt.period.end_at)]
    if flt.locale:
        where.append("locale = %s")
        params.append(flt.locale)
    if flt.source:
        where.append("source = %s")
        params.append(flt.source)
    num, den = PARETO_SHARE
    table = ArticleView._meta.db_table
    sql = f"""
        WITH per_article AS (
            SELECT article_id, COUNT(*) AS n FROM {table} WHERE {' AND '.join(where)} GROUP BY article_id
        ), ranked AS (
            SELECT n,
                   ROW_NUMBER() OVER (ORDER BY n DESC, article_id) AS rnk,
                   SUM(n) OVER (ORDER BY n DESC, article_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                       AS running,
                   SUM(n) OVER () AS total,
                   COUNT(*) OVER () AS viewed
            FROM per_article
        )
        SELECT rnk, running, total, viewed,
               CASE WHEN running * {den} >= total * {num} AND (running - n) * {den} < total * {num}
                    THEN 1 ELSE 0 END AS crosses
        FROM ranked
        WHERE rnk = 1 OR rnk = viewed
           OR (rnk * %s) / viewed > ((rnk - 1) * %s) / viewed
           OR (running * {den} >= total * {num} AND (running - n) * {den} < total * {num})
        ORDER BY rnk
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, points, points])
        rows = cursor.fetchall()
    published = published_article_count(tenant=tenant)
    if not rows:
        return {"total_views": 0, "viewed_articles": 0, "published_articles": published,
                "articles_for_80": 0, "share_for_80": None, "curve": []}
    total, viewed = int(rows[0][2]), int(rows[0][3])
    for_80 = next(int(r[0]) for r in rows if r[4])
    base = max(published, viewed)
    return {
        "total_views": total,
        "viewed_articles": viewed,
        "published_articles": published,
        "articles_for_80": for_80,
        "share_for_80": ratio(for_80, base),
        "curve": [(int(r[0]), int(r[1])) for r in rows],
        "curve_base": base,
    }


def title_subquery(*, language: str, default: str, outer: str = "pk") -> Subquery:
    """An article's title in ``language``, else the tenant's default language, else any (for
    lists of articles without a query per row). ``outer`` names the article id in the outer
    query (``"pk"`` for articles, ``"article_id"`` for rows pointing to one)."""
    return Subquery(
        ArticleTranslation.objects.filter(article_id=OuterRef(outer))
        .annotate(pref=Case(When(locale=language, then=Value(0)), When(locale=default, then=Value(1)),
                            default=Value(2), output_field=IntegerField()))
        .order_by("pref", "locale").values("title")[:1])


def article_stats(*, tenant: Tenant, flt: ReportFilter, language: str, owner_id: int | None = None,
                  limit: int | None = TOP_LIMIT) -> QuerySet:
    """Articles with their views in the period, all-time views, votes and helpfulness score
    (helpful ÷ votes; None without votes), most viewed in the period first: ``id, title,
    owner_id, owner_name, is_published, period_views, view_count, helpful_count,
    unhelpful_count, vote_count, helpfulness, last_viewed_at, review_by``."""
    views = ArticleView.objects.filter(article=OuterRef("pk"), created_at__gte=flt.period.start_at,
                                       created_at__lt=flt.period.end_at)
    if flt.locale:
        views = views.filter(locale=flt.locale)
    if flt.source:
        views = views.filter(source=flt.source)
    views = views.order_by().values("article").annotate(n=Count("id")).values("n")
    qs = Article.objects.filter(tenant=tenant)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    qs = (qs.annotate(
            title=title_subquery(language=language, default=tenant.default_locale or "en"),
            period_views=Coalesce(Subquery(views, output_field=IntegerField()), Value(0)),
            vote_count=F("helpful_count") + F("unhelpful_count"),
            is_published=published_q(),
            owner_name=F("owner__full_name"))
          .annotate(helpfulness=_ratio_expr("helpful_count", "vote_count"))
          .values("id", "title", "owner_id", "owner_name", "is_published", "period_views", "view_count",
                  "helpful_count", "unhelpful_count", "vote_count", "helpfulness", "last_viewed_at", "review_by")
          .order_by("-period_views", "-view_count", "id"))
    return qs[:limit] if limit else qs


def clamp_limit(value: str | None, *, default: int = TOP_LIMIT) -> int:
    """A ``limit`` parameter, between 1 and ``MAX_LIMIT``; raises ValueError when unreadable."""
    if value in (None, ""):
        return default
    number = int(value)
    if number < 1:
        raise ValueError("limit")
    return min(number, MAX_LIMIT)
