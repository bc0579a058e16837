"""``/api/v1/kb/reports/…``: the listening reports as JSON or CSV (``?format=csv``), scope
``reports:read``. Parameters: ``from``/``to`` (ISO dates, the tenant's days, both included;
default the last 30 days), ``locale``, ``source``; lists take ``limit`` (JSON: default 100,
at most 1000; CSV: every row unless ``limit`` is given). Figures are aggregated in the
database; each endpoint runs a fixed number of queries whatever the data. Definitions of
click-through and deflection: ``knowledge.reports.selectors``.
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.tenancy.roles import Scope
from knowledge.models import GapStatus
from knowledge.reports import exports, selectors
from knowledge.reports.gaps import gap_list
from knowledge.reports.params import ReportParamError, report_filter
from knowledge.reports.period import tenant_zone

_READ = Scope.REPORTS_READ
JSON_LIMIT = 100
_PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (tenant's time zone); default 29 days before `to`."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included; default today."),
    OpenApiParameter("locale", str, description="Only this language (e.g. `tr`)."),
    OpenApiParameter("source", str, enum=["portal", "request_form", "widget", "console", "api"],
                     description="Only this source."),
    OpenApiParameter("format", str, enum=["json", "csv"], description="`csv` downloads the rows as CSV."),
    OpenApiParameter("limit", int, description="Rows of the list (JSON default 100, at most 1000)."),
]
_CSV = OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row (`format=csv`).")
_INVALID = OpenApiResponse(description="Invalid parameters: the error body names the field.")


class ReportView(APIView):
    """Base: JSON unless ``format=csv`` (which the view streams itself, so content negotiation
    always picks JSON and error bodies stay JSON)."""

    scopes = {"GET": _READ}
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def filter(self, request: Request) -> selectors.ReportFilter:
        try:
            return report_filter(tenant=request.tenant, data=request.query_params)
        except ReportParamError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None

    def wants_csv(self, request: Request) -> bool:
        wanted = (request.query_params.get("format") or "json").lower()
        if wanted not in ("json", "csv"):
            raise ValidationError({"format": [_("Use json or csv.")]})
        return wanted == "csv"

    def limit(self, request: Request, *, csv: bool) -> int | None:
        try:
            value = request.query_params.get("limit")
            if csv and not value:
                return None
            return selectors.clamp_limit(value, default=JSON_LIMIT)
        except (TypeError, ValueError):
            raise ValidationError({"limit": [_("Give a whole number from 1 to 1000.")]}) from None

    @staticmethod
    def period_json(flt: selectors.ReportFilter) -> dict:
        return {"from": flt.period.start.isoformat(), "to": flt.period.end.isoformat(),
                "timezone": str(flt.period.tz), "locale": flt.locale, "source": flt.source}

    @staticmethod
    def filename(name: str, flt: selectors.ReportFilter) -> str:
        return f"kb-{name}-{flt.period.start.isoformat()}-{flt.period.end.isoformat()}.csv"


_LISTS = {
    "top": (selectors.top_searches, exports.SEARCH_COLUMNS),
    "no_results": (selectors.no_result_searches, exports.NO_RESULT_COLUMNS),
    "no_click": (selectors.no_click_searches, exports.NO_CLICK_COLUMNS),
}


class SearchReportView(ReportView):
    @extend_schema(summary="Search report: totals, per day, and the top / no-result / no-click queries",
                   parameters=[*_PERIOD, OpenApiParameter("list", str, enum=list(_LISTS),
                                                          description="Which queries (default `top`).")],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): _CSV, 400: _INVALID})
    def get(self, request: Request):
        flt, csv = self.filter(request), self.wants_csv(request)
        which = request.query_params.get("list") or "top"
        if which not in _LISTS:
            raise ValidationError({"list": [_("Use one of: %(choices)s.") % {"choices": ", ".join(_LISTS)}]})
        select, columns = _LISTS[which]
        limit = self.limit(request, csv=csv)
        tenant = request.tenant
        if csv:
            return exports.csv_response(
                tenant=tenant, filename=self.filename(f"searches-{which}", flt), columns=columns, tz=flt.period.tz,
                rows=lambda: select(tenant=tenant, flt=flt, limit=limit).iterator(chunk_size=exports.CHUNK))
        by_day = selectors.searches_by_day(tenant=tenant, flt=flt)
        summary = selectors.search_summary_of_days(by_day)
        rows = select(tenant=tenant, flt=flt, limit=limit)
        return Response({
            "period": self.period_json(flt),
            "summary": {k: exports.json_value(v) for k, v in summary.items()},
            "by_day": exports.rows_as_json(by_day, exports.DAY_SEARCH_COLUMNS),
            "list": which,
            "results": exports.rows_as_json(rows, columns, flt.period.tz),
        })


class DeflectionReportView(ReportView):
    @extend_schema(summary="Deflection: self-service sessions and how many ended without a ticket or chat",
                   parameters=_PERIOD[:5],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): _CSV, 400: _INVALID})
    def get(self, request: Request):
        flt, csv = self.filter(request), self.wants_csv(request)
        tenant = request.tenant
        if csv:
            return exports.csv_response(
                tenant=tenant, filename=self.filename("deflection", flt), columns=exports.DEFLECTION_COLUMNS,
                rows=lambda: selectors.deflection_by_day(tenant=tenant, flt=flt))
        by_day = selectors.deflection_by_day(tenant=tenant, flt=flt)
        summary = selectors.deflection_summary_of_days(by_day)
        return Response({
            "period": self.period_json(flt),
            "summary": {k: exports.json_value(v) for k, v in summary.items()},
            "by_day": exports.rows_as_json(by_day, exports.DEFLECTION_COLUMNS),
            "definition": "deflected sessions / self-service sessions; a self-service session searched or "
                          "read at least once and started in the period; deflected: it ended in neither a "
                          "ticket nor a chat",
        })


class ArticleReportView(ReportView):
    @extend_schema(summary="Articles: views in the period, all-time views, votes and helpfulness; the 80/20 view",
                   parameters=[*_PERIOD, OpenApiParameter("owner", int, description="Only this owner's articles.")],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): _CSV, 400: _INVALID})
    def get(self, request: Request):
        flt, csv = self.filter(request), self.wants_csv(request)
        limit = self.limit(request, csv=csv)
        owner = request.query_params.get("owner")
        if owner and not owner.isdigit():
            raise ValidationError({"owner": [_("Give a user id.")]})
        owner_id = int(owner) if owner else None
        tenant = request.tenant
        language = flt.locale or tenant.default_locale or "en"
        if csv:
            return exports.csv_response(
                tenant=tenant, filename=self.filename("articles", flt), columns=exports.ARTICLE_COLUMNS,
                tz=flt.period.tz,
                rows=lambda: selectors.article_stats(tenant=tenant, flt=flt, language=language, owner_id=owner_id,
                                                     limit=limit).iterator(chunk_size=exports.CHUNK))
        pareto = selectors.article_views_pareto(tenant=tenant, flt=flt)
        rows = selectors.article_stats(tenant=tenant, flt=flt, language=language, owner_id=owner_id, limit=limit)
        return Response({
            "period": self.period_json(flt),
            "pareto": {k: exports.json_value(v) for k, v in pareto.items() if k != "curve"},
            "results": exports.rows_as_json(rows, exports.ARTICLE_COLUMNS, flt.period.tz),
        })


class GapReportView(ReportView):
    @extend_schema(summary="Content gaps: similar failed searches grouped, with their queries",
                   parameters=[OpenApiParameter("status", str, enum=[*GapStatus.values, "all"],
                                                description="Default `open`."),
                               OpenApiParameter("locale", str), _PERIOD[4], _PERIOD[5]],
                   responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): _CSV, 400: _INVALID})
    def get(self, request: Request):
        csv = self.wants_csv(request)
        limit = self.limit(request, csv=csv)
        status = request.query_params.get("status") or GapStatus.OPEN
        if status not in (*GapStatus.values, "all"):
            choices = ", ".join([*GapStatus.values, "all"])
            raise ValidationError({"status": [_("Use one of: %(choices)s.") % {"choices": choices}]})
        locale = request.query_params.get("locale") or None
        tenant = request.tenant

        def gaps():
            return (gap_list(tenant=tenant, language=tenant.default_locale or "en",
                             status=None if status == "all" else status, locale=locale, limit=limit)
                    .prefetch_related("queries"))

        tz = tenant_zone(tenant)
        if csv:
            return exports.csv_response(
                tenant=tenant, filename="kb-gaps.csv", columns=exports.GAP_COLUMNS, tz=tz,
                rows=lambda: (exports.gap_row(gap) for gap in gaps().iterator(chunk_size=exports.CHUNK)))
        columns = [*exports.GAP_COLUMNS, "query_list"]
        return Response({"status": status,
                         "results": exports.rows_as_json((exports.gap_row(gap) for gap in gaps()), columns, tz)})
