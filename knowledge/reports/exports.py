"""Rows of the report exports (CSV and JSON alike) and the streaming CSV writer.

A CSV export streams: rows are read from the database in chunks inside one transaction in the
tenant's scope (the response is iterated after the view returned, when the request's
transaction and tenant context are gone), formatted and written as they come, so a large
export holds neither the whole result nor a growing list in memory.

Cells a customer typed (search queries) could start with ``=``, ``+``, ``-`` or ``@`` and be
run as a formula by a spreadsheet: such cells get a leading apostrophe (OWASP's advice).
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import StreamingHttpResponse

from helpdesk.tenancy.context import tenant_scope

CHUNK = 2000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value, tz: ZoneInfo | None = None):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def json_value(value, tz: ZoneInfo | None = None):
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def rows_as_json(rows: Iterable[dict], columns: list[str], tz: ZoneInfo | None = None) -> list[dict]:
    return [{name: json_value(row.get(name), tz) for name in columns} for row in rows]


def csv_response(*, tenant, filename: str, columns: list[str], rows: Callable[[], Iterable[dict]],
                 tz: ZoneInfo | None = None) -> StreamingHttpResponse:
    """A streaming CSV download: a header row of ``columns``, then one line per row that
    ``rows()`` yields (called while streaming, in ``tenant``'s scope and one transaction)."""

    def stream() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(columns)
        with tenant_scope(tenant), transaction.atomic():
            for row in rows():
                yield writer.writerow([cell(row.get(name), tz) for name in columns])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Columns of each export, in order (the CSV header and the JSON keys).
SEARCH_COLUMNS = ["normalized_query", "searches", "with_results", "no_results", "clicked", "no_click", "ctr",
                  "avg_results", "last_searched_at"]
NO_RESULT_COLUMNS = ["normalized_query", "searches", "last_searched_at"]
NO_CLICK_COLUMNS = ["normalized_query", "searches", "avg_results", "last_searched_at"]
DAY_SEARCH_COLUMNS = ["day", "searches", "with_results", "no_results", "clicked", "no_click", "ctr"]
DEFLECTION_COLUMNS = ["day", "sessions", "deflected", "tickets", "chats", "deflected_after_reading", "rate"]
ARTICLE_COLUMNS = ["id", "title", "owner_id", "owner_name", "is_published", "period_views", "view_count",
                   "helpful_count", "unhelpful_count", "vote_count", "helpfulness", "last_viewed_at", "review_by"]
GAP_COLUMNS = ["id", "representative_query", "locale", "status", "search_count", "no_result_count", "queries",
               "owner_id", "owner_email", "article_id", "first_searched_at", "last_searched_at", "created_at",
               "drafted_at", "resolved_at"]


def gap_row(gap) -> dict:
    """A gap with its member queries (prefetched as ``queries``) as ``"query (n); …"``."""
    members = sorted(gap.queries.all(), key=lambda q: (-q.search_count, q.normalized_query))
    return {
        "id": gap.pk, "representative_query": gap.representative_query, "locale": gap.locale,
        "status": gap.status, "search_count": gap.search_count, "no_result_count": gap.no_result_count,
        "queries": "; ".join(f"{q.normalized_query} ({q.search_count})" for q in members),
        "query_list": [{"query": q.normalized_query, "searches": q.search_count,
                        "no_results": q.no_result_count} for q in members],
        "owner_id": gap.owner_id, "owner_email": gap.owner.email if gap.owner_id else None,
        "article_id": gap.article_id, "first_searched_at": gap.first_searched_at,
        "last_searched_at": gap.last_searched_at, "created_at": gap.created_at, "drafted_at": gap.drafted_at,
        "resolved_at": gap.resolved_at,
    }
