"""Reading content gaps: the list, one gap's queries, and the before/after measure of a gap
whose article was published."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q, QuerySet, Subquery
from django.utils import timezone

from helpdesk.tenancy.models import Tenant
from knowledge.models import ContentGap, ContentGapQuery, GapStatus, SearchEvent
from knowledge.reports.selectors import CLICKED, NO_RESULTS, WITH_RESULTS, ratio, title_subquery
from knowledge.services.gaps import GAP_SOURCES, MEASURE_MAX

LIST_LIMIT = 100


def gap_list(*, tenant: Tenant, language: str, status: str | None = GapStatus.OPEN, locale: str | None = None,
             since: datetime | None = None, limit: int | None = LIST_LIMIT) -> QuerySet:
    """Gaps, most failed searches first (owner and article title joined: one query)."""
    qs = ContentGap.objects.filter(tenant=tenant)
    if status:
        qs = qs.filter(status=status)
    if locale:
        qs = qs.filter(locale=locale)
    if since is not None:
        qs = qs.filter(last_searched_at__gte=since)
    qs = (qs.select_related("owner")
          .annotate(article_title=title_subquery(language=language, default=tenant.default_locale or "en",
                                                 outer="article_id"))
          .order_by("-search_count", "-last_searched_at", "id"))
    return qs[:limit] if limit else qs


def gap_status_counts(*, tenant: Tenant) -> dict[str, int]:
    rows = ContentGap.objects.filter(tenant=tenant).order_by().values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in GapStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def gap_queries(*, gap: ContentGap, limit: int | None = LIST_LIMIT) -> QuerySet:
    qs = ContentGapQuery.objects.filter(gap=gap).order_by("-search_count", "normalized_query")
    return qs[:limit] if limit else qs


def _window(prefix: str, when: Q, article_id: int | None) -> dict:
    return {
        f"{prefix}searches": Count("id", filter=when),
        f"{prefix}no_results": Count("id", filter=when & NO_RESULTS),
        f"{prefix}with_results": Count("id", filter=when & WITH_RESULTS),
        f"{prefix}clicked": Count("id", filter=when & CLICKED),
        f"{prefix}article_clicks": Count("id", filter=when & Q(clicked_article_id=article_id)),
        f"{prefix}avg_results": Avg("result_count", filter=when),
    }


def gap_measure(*, gap: ContentGap, now: datetime | None = None) -> dict | None:
    """The gap's searches before and after its article was published: equal windows on both
    sides of publication (as long as the article has been out, at most ``MEASURE_MAX``), with
    searches, no-result searches, average results, click-through and clicks on the gap's
    article. None until the article is published. One query."""
    if gap.resolved_at is None:
        return None
    now = now or timezone.now()
    span = min(max(now - gap.resolved_at, timedelta(0)), MEASURE_MAX)
    start, end = gap.resolved_at - span, gap.resolved_at + span
    queries = ContentGapQuery.objects.filter(gap=gap).values("normalized_query")
    before, after = Q(created_at__lt=gap.resolved_at), Q(created_at__gte=gap.resolved_at)
    row = (SearchEvent.objects.filter(tenant_id=gap.tenant_id, locale=gap.locale, source__in=GAP_SOURCES,
                                      normalized_query__in=Subquery(queries),
                                      created_at__gte=start, created_at__lt=end)
           .aggregate(**_window("before_", before, gap.article_id), **_window("after_", after, gap.article_id)))
    out = {"published_at": gap.resolved_at, "days": span / timedelta(days=1)}
    for side in ("before", "after"):
        figures = {name[len(side) + 1:]: value for name, value in row.items() if name.startswith(side + "_")}
        figures["ctr"] = ratio(figures["clicked"], figures["with_results"])
        figures["no_result_rate"] = ratio(figures["no_results"], figures["searches"])
        out[side] = figures
    return out
