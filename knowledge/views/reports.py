"""The listening reports in the console, at ``/console/kb/reports/…``.

The overview, searches and articles pages read reports (``reports.view``: administrators,
analysts, QA); content gaps and content health are editors' to-do lists (``kb.edit``), where
an editor turns a gap into a draft article in one click. Every page runs a fixed number of
queries (the selectors aggregate in the database). A bad period or filter answers 400 with
the form and the reason; nothing is changed by a GET.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Cap, role_has
from knowledge.models import ContentGap, ContentGapState, GapStatus, SearchSource, Section
from knowledge.reports import charts, selectors
from knowledge.reports.grouping import title_from_query
from knowledge.reports.gaps import gap_list, gap_measure, gap_queries, gap_status_counts
from knowledge.reports.health import NO_OWNER, health_articles, health_counts, health_needs_update
from knowledge.reports.params import ReportParamError, query_string, report_filter
from knowledge.reports.period import DEFAULT_DAYS
from knowledge.reports.selectors import title_subquery
from knowledge.services.gaps import content_gap_dismiss, content_gap_draft, content_gap_reopen, content_gaps_refresh
from knowledge.views.editor_base import KbObjectView, KbView, edit_url
from knowledge.views.editor_queries import section_choices

PAGE_LIMIT = 100
OVERVIEW_LIMIT = 10


class ReportsBase(KbView):
    capability = Cap.REPORTS_VIEW
    active = "overview"

    @property
    def can_view_reports(self) -> bool:
        return role_has(self.membership.role, Cap.REPORTS_VIEW)

    @property
    def language(self) -> str:
        return translation.get_language() or self.default_locale

    def read_filter(self):
        """The page's filter, or the error message (the page then answers 400)."""
        try:
            return report_filter(tenant=self.tenant, data=self.request.GET), None
        except ReportParamError as exc:
            return None, exc.message

    def report(self, template: str, context: dict, *, status: int = 200):
        flt = context.get("flt")
        response = self.page(f"reports/{template}", {
            "active": self.active, "can_view_reports": self.can_view_reports,
            "sources": SearchSource.choices, "default_days": DEFAULT_DAYS,
            "qs": query_string(flt) if flt else "",
            "form": {key: self.request.GET.get(key, "")[:40] for key in ("from", "to", "locale", "source")},
            **context}, status=status)
        response["Cache-Control"] = "private, no-store"
        return response

    def refused_filter(self, template: str, error: str):
        return self.report(template, {"flt": None, "filter_error": error}, status=400)


class ReportsOverviewView(ReportsBase):
    """Figures, charts (searches and click-through per day, deflection per day, the 80/20
    curve) and the top / no-result / no-click queries of the period."""

    def get(self, request):
        flt, error = self.read_filter()
        if error:
            return self.refused_filter("overview.html", error)
        tenant = self.tenant
        by_day = selectors.searches_by_day(tenant=tenant, flt=flt)
        summary = selectors.search_summary_of_days(by_day)
        deflection_days = selectors.deflection_by_day(tenant=tenant, flt=flt)
        deflection = selectors.deflection_summary_of_days(deflection_days)
        pareto = selectors.article_views_pareto(tenant=tenant, flt=flt)
        days = [row["day"] for row in by_day]
        context = {
            "flt": flt, "summary": summary, "by_day": by_day, "deflection": deflection,
            "deflection_days": deflection_days, "pareto": pareto,
            "top": list(selectors.top_searches(tenant=tenant, flt=flt, limit=OVERVIEW_LIMIT)),
            "no_results": list(selectors.no_result_searches(tenant=tenant, flt=flt, limit=OVERVIEW_LIMIT)),
            "no_click": list(selectors.no_click_searches(tenant=tenant, flt=flt, limit=OVERVIEW_LIMIT)),
            "searches_chart": charts.bars_with_rate(
                days=days, bars=[row["searches"] for row in by_day], rates=[row["ctr"] for row in by_day],
                title=_("Searches per day and click-through rate"),
                desc=_("Bars: searches per day. Line: share of searches with results that were clicked.")),
            "deflection_chart": charts.rate_line(
                days=days, rates=[row["rate"] for row in deflection_days],
                title=_("Deflection rate per day"),
                desc=_("Share of self-service sessions that ended without a ticket or a chat, by the day they "
                       "started.")),
            "pareto_chart": charts.pareto_curve(
                curve=pareto["curve"], base=pareto.get("curve_base") or pareto["published_articles"],
                total=pareto["total_views"], for_80=pareto["articles_for_80"],
                title=_("Share of views by share of articles"),
                desc=_("Articles sorted by views, most viewed first: how many of them it takes to reach a "
                       "share of all views."),
                x_label=_("share of articles")),
        }
        if self.can_edit:
            context["gap_counts"] = gap_status_counts(tenant=tenant)
        return self.report("overview.html", context)


_SEARCH_LISTS = {
    "top": selectors.top_searches,
    "no_results": selectors.no_result_searches,
    "no_click": selectors.no_click_searches,
}


class SearchesReportView(ReportsBase):
    """One list of queries (``?list=top|no_results|no_click``), up to 100 rows."""

    active = "searches"

    def get(self, request):
        flt, error = self.read_filter()
        which = request.GET.get("list") or "top"
        if not error and which not in _SEARCH_LISTS:
            error = _("Unknown list.")
        if error:
            return self.refused_filter("searches.html", error)
        rows = list(_SEARCH_LISTS[which](tenant=self.tenant, flt=flt, limit=PAGE_LIMIT))
        return self.report("searches.html", {"flt": flt, "which": which, "rows": rows,
                                             "summary": selectors.search_summary(tenant=self.tenant, flt=flt)})


class ArticlesReportView(ReportsBase):
    """Views in the period, all-time views, votes and helpfulness per article, with the 80/20 figures."""

    active = "articles"

    def get(self, request):
        flt, error = self.read_filter()
        if error:
            return self.refused_filter("articles.html", error)
        rows = list(selectors.article_stats(tenant=self.tenant, flt=flt, language=self.language, limit=PAGE_LIMIT))
        for row in rows:
            row["edit_url"] = edit_url(row["id"], self.default_locale)
        return self.report("articles.html", {"flt": flt, "rows": rows,
                                             "pareto": selectors.article_views_pareto(tenant=self.tenant, flt=flt)})


# --- content gaps -----------------------------------------------------------------------------

class GapsBase(ReportsBase):
    capability = Cap.KB_EDIT
    active = "gaps"


class GapListView(GapsBase):
    """Gaps by status (``?status=``, default open) and language, most failed searches first."""

    def get(self, request):
        status = request.GET.get("status") or GapStatus.OPEN
        locale = self.requested_locale(request.GET.get("locale"), fallback="") if request.GET.get("locale") else ""
        if status not in (*GapStatus.values, "all") or locale is None:
            return self.report("gaps.html", {"flt": None, "filter_error": _("Unknown status or language."),
                                             "gaps": [], "status": GapStatus.OPEN, "statuses": []}, status=400)
        gaps = list(gap_list(tenant=self.tenant, language=self.language,
                             status=None if status == "all" else status, locale=locale or None, limit=PAGE_LIMIT))
        state = ContentGapState.objects.filter(tenant=self.tenant).only("refreshed_at").first()
        counts = gap_status_counts(tenant=self.tenant)
        return self.report("gaps.html", {
            "flt": None, "gaps": gaps, "status": status, "locale": locale,
            "statuses": [(value, label, counts[value]) for value, label in GapStatus.choices],
            "similarity": connection.vendor == "postgresql",
            "refreshed_at": state.refreshed_at if state else None})


class GapRefreshView(GapsBase):
    """POST: read the searches recorded since the last refresh into gaps now."""

    def get(self, request):
        return HttpResponseRedirect(reverse("kb:reports_gaps"))

    def post(self, request):
        read = content_gaps_refresh(tenant=self.tenant)
        messages.success(request, _("Gaps refreshed: %(count)s new searches read.") % {"count": read})
        return HttpResponseRedirect(reverse("kb:reports_gaps"))


class GapObjectView(KbObjectView, GapsBase):
    model = ContentGap

    def safely_get_queryset(self, queryset):
        return queryset.select_related("owner", "dismissed_by").annotate(
            article_title=title_subquery(language=self.language, default=self.default_locale, outer="article_id"))


class GapDetailView(GapObjectView):
    """A gap: its queries, its status, the one-click draft and, once the article is
    published, the before/after measure of its searches."""

    def get(self, request, pk):
        gap = self.get_object()
        return self.report("gap.html", {
            "flt": None, "gap": gap, "queries": list(gap_queries(gap=gap)), "measure": gap_measure(gap=gap),
            "article_url": edit_url(gap.article_id, gap.locale) if gap.article_id else None,
            "owners": self.owners(), "sections": section_choices(tenant=self.tenant, chain=self.chain),
            "draft_title": title_from_query(gap.representative_query, gap.locale),
            "now": timezone.now()})


class GapDraftView(GapObjectView):
    """POST: turn the gap into a draft article (owner and section from the form, else the
    editor and "Drafts from searches"); then to the article's editor."""

    def get(self, request, pk):
        return HttpResponseRedirect(reverse("kb:reports_gap", args=[self.get_object().pk]))

    def post(self, request, pk):
        gap = self.get_object()
        owner = section = None
        owner_id, section_id = request.POST.get("owner") or "", request.POST.get("section") or ""
        if owner_id:
            membership = (Membership.objects.filter(tenant=self.tenant, is_active=True, user_id=owner_id)
                          .select_related("user").first() if owner_id.isdigit() else None)
            if membership is None or not role_has(membership.role, Cap.KB_EDIT):
                return self.bad_request(_("Choose an owner who can write help-center articles."))
            owner = membership.user
        if section_id:
            section = Section.objects.filter(pk=section_id).first() if section_id.isdigit() else None
            if section is None:
                return self.bad_request(_("Choose a section of this help center."))
        try:
            article = content_gap_draft(gap=gap, actor=request.user, owner=owner, section=section,
                                        title=(request.POST.get("title") or "")[:255])
        except ValidationError as exc:
            self.error_message(exc)
            return HttpResponseRedirect(reverse("kb:reports_gap", args=[pk]))
        messages.success(request, _("Draft article created. Write the answer, then publish it."))
        return HttpResponseRedirect(edit_url(article.pk, gap.locale))


class GapDismissView(GapObjectView):
    def get(self, request, pk):
        return HttpResponseRedirect(reverse("kb:reports_gap", args=[self.get_object().pk]))

    def post(self, request, pk):
        gap = self.get_object()
        try:
            if request.POST.get("action") == "reopen":
                content_gap_reopen(gap=gap, actor=request.user)
                messages.success(request, _("Gap reopened."))
            else:
                content_gap_dismiss(gap=gap, actor=request.user)
                messages.success(request, _("Gap dismissed."))
        except ValidationError as exc:
            self.error_message(exc)
        return HttpResponseRedirect(reverse("kb:reports_gap", args=[pk]))


# --- content health ---------------------------------------------------------------------------

class HealthView(ReportsBase):
    """Published articles that need attention, for one owner (``?owner=<id>|none|me``) or all."""

    capability = Cap.KB_EDIT
    active = "health"

    def get(self, request):
        raw = request.GET.get("owner") or ""
        owner: int | str | None
        if raw == "me":
            owner = request.user.pk
        elif raw == NO_OWNER:
            owner = NO_OWNER
        elif raw.isdigit():
            owner = int(raw)
        elif raw:
            return self.report("health.html", {"flt": None, "filter_error": _("Unknown owner."), "counts": {}},
                               status=400)
        else:
            owner = None
        tenant, language = self.tenant, self.language
        lists = {kind: list(health_articles(tenant=tenant, kind=kind, language=language, owner=owner))
                 for kind in ("never_viewed", "unhelpful", "stale")}
        for rows in lists.values():
            for row in rows:
                row["edit_url"] = edit_url(row["id"], self.default_locale)
        needs_update = list(health_needs_update(tenant=tenant, owner=owner))
        for row in needs_update:
            row["edit_url"] = edit_url(row["article_id"], row["locale"])
        return self.report("health.html", {
            "flt": None, "owner": owner, "owner_raw": raw, "owners": self.owners(), "lists": lists,
            "needs_update": needs_update, "counts": health_counts(tenant=tenant, owner=owner)})
