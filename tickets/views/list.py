"""The ticket list: saved views, filters, sort, search, keyset pages, bulk actions."""
from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.loader import TemplateDoesNotExist, get_template
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _, ngettext

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.roles import Cap, role_has
from tickets.models import SavedView, Ticket, Via
from tickets.productivity.bulk import BulkOutcome, tickets_bulk_update
from tickets.productivity.views import InvalidCursor, saved_view_list, view_counts
from tickets.views import queries
from tickets.views.forms import BulkForm, TicketFilterForm

SLA_BADGE_TEMPLATE = "console/tickets/_sla_badge.html"
# The most rows the live list asks for at once (a page has 50).
MAX_LIVE_ROWS = 100
_ID = re.compile(r"[0-9]{1,19}")


def sla_badge_template() -> str | None:
    """The SLA helper's badge when it exists (else the page shows a plain due time)."""
    try:
        get_template(SLA_BADGE_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return SLA_BADGE_TEMPLATE


class TicketListView(TenantObjectMixin, ConsoleView):
    capability = Cap.TICKETS_VIEW
    model = Ticket
    template_name = "console/tickets/list.html"

    def get(self, request):
        user = request.user
        views = list(saved_view_list(user=user))
        members = queries.assignable_members()
        teams = queries.teams()
        form = TicketFilterForm(request.GET or None, members=members, teams=teams, views=views)
        try:
            counts = view_counts(views=views, user=user)
        except ValidationError:  # a view with conditions that no longer validate
            counts = {}
        context = {
            "views": views,
            "view_entries": [(v, counts.get(v.pk)) for v in views],
            "form": form,
            "members": members,
            "teams": teams,
            "rows": [],
            "current_view": None,
            "columns": queries.view_columns(None),
            "column_labels": queries.COLUMNS,
            "sla_badge_template": sla_badge_template(),
            "can_edit": role_has(request.membership.role, Cap.TICKETS_EDIT),
            "bulk_form": BulkForm(members=members, teams=teams),
            "list_url": request.get_full_path(),
        }
        if request.GET and not form.is_valid():
            return TemplateResponse(request, self.template_name, context, status=400)
        data = form.cleaned_data if form.is_bound else {}
        view, listed, q = _listing(data, user=user)
        columns = queries.view_columns(view)
        params = [(k, v) for k, values in request.GET.lists() if k not in ("after", "ids") for v in values]
        context.update(current_view=view, columns=columns, sort_key=data.get("sort") or "",
                       filtered=form.is_bound and form.has_filters(),
                       rows_url=reverse("tickets:rows") + (f"?{urlencode(params)}" if params else ""))
        try:
            page = queries.ticket_page(view=listed, user=user, q=q, after=data.get("after") or "")
        except InvalidCursor:
            form.add_error("after", _("That page link is not valid any more; start from the first page."))
            return TemplateResponse(request, self.template_name, context, status=400)
        except ValidationError:
            # Stored conditions that no longer validate (a field was removed): say so, list nothing.
            context["view_error"] = True
            return TemplateResponse(request, self.template_name, context)
        context.update(
            rows=page.tickets,
            next_url=(f"{request.path}?{urlencode(params + [('after', page.next_after)])}"
                      if page.next_after else None),
            first_url=f"{request.path}?{urlencode(params)}" if data.get("after") else None,
        )
        return TemplateResponse(request, self.template_name, context)


def _listing(data: dict, *, user) -> tuple[SavedView | None, SavedView, Q]:
    """From the list's cleaned query string: the chosen saved view (None for "All tickets"),
    the view the selector lists (the chosen one, or its copy in the chosen sort) and the
    filters on top of it. The list page and its live rows read the same tickets this way."""
    view = data.get("view")
    chosen = queries.SORTS.get(data.get("sort") or "")
    if view is None:
        listed = queries.all_tickets_view(sort=chosen.as_view_sort() if chosen else None)
    else:
        listed = queries.with_sort(view, chosen.as_view_sort()) if chosen else view
    q = queries.ticket_filter_q(
        user=user, statuses=data.get("status") or (), priorities=data.get("priority") or (),
        assignee=data.get("assignee") or "", team=data.get("team") or "", tag=data.get("tag") or "",
        search=data.get("q") or "",
    )
    return view, listed, q


def parse_ticket_ids(values: list[str], *, limit: int = MAX_LIVE_ROWS) -> list[int]:
    """``["1,2", "3"]`` -> ``[1, 2, 3]`` (order kept, no repeats). Raises ValidationError for
    anything but positive whole numbers, for none at all, and for more than ``limit``."""
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not parts:
        raise ValidationError(_("Give the ids of the tickets to show."))
    if any(not _ID.fullmatch(part) or not 0 < int(part) < 2**63 for part in parts):
        raise ValidationError(_("Ticket ids are whole numbers separated by commas."))
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > limit:
        raise ValidationError(ngettext("At most %(n)d ticket at a time.", "At most %(n)d tickets at a time.", limit)
                              % {"n": limit})
    return ids


class TicketRowsView(TenantObjectMixin, ConsoleView):
    """``GET ?ids=1,2,3`` plus the list's own query string (view, filters, sort): the rows of
    those tickets that are still in that list, rendered as the list renders them.

    The list page asks for them when the websocket says tickets changed, and swaps its rows
    in place. A ticket that no longer matches, or is not the tenant's (the default manager
    scopes to the tenant), is simply not in the answer. Bad ids or filters are a 400; the
    query count does not grow with the number of ids.
    """

    capability = Cap.TICKETS_VIEW
    model = Ticket
    http_method_names = ["get"]
    template_name = "console/tickets/_rows.html"

    def get(self, request):
        try:
            ids = parse_ticket_ids(request.GET.getlist("ids"))
        except ValidationError as exc:
            return _rows_error(request, exc.messages)
        user = request.user
        form = TicketFilterForm(request.GET, members=queries.assignable_members(), teams=queries.teams(),
                                views=list(saved_view_list(user=user)))
        if not form.is_valid():
            return _rows_error(request, [e for errors in form.errors.values() for e in errors])
        view, listed, q = _listing(form.cleaned_data, user=user)
        try:
            rows = queries.ticket_rows(view=listed, user=user, q=q, ids=ids)
        except ValidationError:  # stored conditions that no longer validate: the list shows nothing either
            rows = []
        response = TemplateResponse(request, self.template_name, {
            "rows": rows,
            "columns": queries.view_columns(view),
            "sla_badge_template": sla_badge_template(),
            "can_edit": role_has(request.membership.role, Cap.TICKETS_EDIT),
        })
        response["Cache-Control"] = "no-store"
        return response


def _rows_error(request, errors: list[str]) -> TemplateResponse:
    response = TemplateResponse(request, "console/tickets/_rows_error.html", {"errors": errors}, status=400)
    response["Cache-Control"] = "no-store"
    return response


def _safe_list_url(request, candidate: str | None) -> str:
    default = reverse("tickets:list")
    if (candidate and candidate.startswith(default)
            and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})):
        return candidate
    return default


class TicketBulkView(TenantObjectMixin, ConsoleView):
    """POST the selected rows and the changes; the bulk service applies them ticket by ticket."""

    capability = Cap.TICKETS_EDIT
    model = Ticket
    http_method_names = ["post"]

    def post(self, request):
        form = BulkForm(request.POST, members=queries.assignable_members(), teams=queries.teams())
        back = _safe_list_url(request, request.POST.get("next"))
        if not form.is_valid():
            errors = [error for field_errors in form.errors.values() for error in field_errors]
            return _bulk_error(request, back, errors)
        try:
            results = tickets_bulk_update(tenant=request.tenant, actor=request.user,
                                          ticket_ids=form.cleaned_data["tickets"], changes=form.changes(),
                                          via=Via.CONSOLE)
        except ValidationError as exc:
            return _bulk_error(request, back, exc.messages)
        updated = [r for r in results if r.outcome == BulkOutcome.UPDATED]
        refused = [r for r in results if r.outcome == BulkOutcome.INVALID]
        missing = [r for r in results if r.outcome == BulkOutcome.NOT_FOUND]
        if not updated and not refused:
            return _bulk_error(request, back, [_("None of the selected tickets exist.")], status=404)
        if updated:
            messages.success(request, ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", len(updated))
                             % {"n": len(updated)})
        for result in refused:
            number = result.ticket.number if result.ticket is not None else None
            detail = "; ".join(m for ms in result.errors.values() for m in ms)
            messages.error(request, (_("Ticket #%(number)s was not changed: %(reason)s") % {
                "number": number, "reason": detail}) if number else detail)
        if missing:
            messages.warning(request, ngettext("%(n)d selected ticket no longer exists.",
                                               "%(n)d selected tickets no longer exist.", len(missing))
                             % {"n": len(missing)})
        return HttpResponseRedirect(back)


def _bulk_error(request, back: str, errors: list[str], status: int = 400) -> TemplateResponse:
    """A refused bulk request: a page with the reasons and a way back to the list."""
    return TemplateResponse(request, "console/tickets/bulk_error.html", {"back_url": back, "errors": errors},
                            status=status)
