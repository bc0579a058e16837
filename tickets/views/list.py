"""The ticket list: saved views, filters, sort, search, keyset pages, bulk actions."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.loader import TemplateDoesNotExist, get_template
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _, ngettext

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.roles import Cap, role_has
from tickets.models import Ticket, Via
from tickets.productivity.bulk import BulkOutcome, tickets_bulk_update
from tickets.productivity.views import InvalidCursor, saved_view_list, view_counts
from tickets.views import queries
from tickets.views.forms import BulkForm, TicketFilterForm

SLA_BADGE_TEMPLATE = "console/tickets/_sla_badge.html"


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
        view = data.get("view")
        chosen = queries.SORTS.get(data.get("sort") or "")
        if view is None:
            listed = queries.all_tickets_view(sort=chosen.as_view_sort() if chosen else None)
        else:
            listed = queries.with_sort(view, chosen.as_view_sort()) if chosen else view
        columns = queries.view_columns(view)
        q = queries.ticket_filter_q(
            user=user, statuses=data.get("status") or (), priorities=data.get("priority") or (),
            assignee=data.get("assignee") or "", team=data.get("team") or "", tag=data.get("tag") or "",
            search=data.get("q") or "",
        )
        context.update(current_view=view, columns=columns, sort_key=data.get("sort") or "",
                       filtered=form.is_bound and form.has_filters())
        try:
            page = queries.ticket_page(view=listed, user=user, q=q, after=data.get("after") or "")
        except InvalidCursor:
            form.add_error("after", _("That page link is not valid any more; start from the first page."))
            return TemplateResponse(request, self.template_name, context, status=400)
        except ValidationError:
            # Stored conditions that no longer validate (a field was removed): say so, list nothing.
            context["view_error"] = True
            return TemplateResponse(request, self.template_name, context)
        params = [(k, v) for k, values in request.GET.lists() if k != "after" for v in values]
        context.update(
            rows=page.tickets,
            next_url=(f"{request.path}?{urlencode(params + [('after', page.next_after)])}"
                      if page.next_after else None),
            first_url=f"{request.path}?{urlencode(params)}" if data.get("after") else None,
        )
        return TemplateResponse(request, self.template_name, context)


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
