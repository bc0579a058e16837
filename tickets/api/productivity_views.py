"""``/api/v1/views/``, ``/api/v1/macros/``, ``/api/v1/tickets/{id}/apply-macro/`` and
``/api/v1/tickets/bulk/``. Thin: parse, call one service or selector, serialize."""
from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from django.utils.translation import gettext as _

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantCrudViewSet, TenantGenericViewSet
from helpdesk.tenancy.roles import Scope
from tickets import selectors
from tickets.api import productivity_serializers as s
from tickets.api.serializers import StaleTicketOutput, TicketOutput
from tickets.api.views import TicketsApiMixin
from tickets.models import Macro, SavedView, Ticket, Via
from tickets.productivity import access, bulk, macros, views
from tickets.productivity.views import MAX_PAGE_SIZE

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_FORBIDDEN = OpenApiResponse(description="Shared items are changed by administrators and API keys only.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant (or someone else's personal item).")
_CONFLICT = OpenApiResponse(response=StaleTicketOutput, description=(
    "Nothing was applied: the ticket is closed (`ticket_closed`) or changed since `expected_version` "
    "(`stale_ticket`, with the current ticket and the newer messages)."))
_CURSOR = OpenApiParameter("cursor", str, OpenApiParameter.QUERY, required=False,
                           description="The `next` cursor of the previous page.")
_PAGE_SIZE = OpenApiParameter("page_size", int, OpenApiParameter.QUERY, required=False,
                              description=f"Tickets per page, 1 to {MAX_PAGE_SIZE} (default 50).")

_READ = Scope.TICKETS_READ
_WRITE = Scope.TICKETS_WRITE
_SCOPES = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}


def _person(request: Request):
    return access.person(request.user)


class ItemPagination(CursorPagination):
    ordering = ("position", "id")
    page_size = 100


def _page_size(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return 50
    message = _("A whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({"page_size": [message]}) from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [message]})
    return value


_TICKET_PAGE = inline_serializer("ViewTicketPage", {
    "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last one."),
    "results": TicketOutput(many=True),
})


@extend_schema_view(
    list=extend_schema(summary="List the saved views you see (shared and your own)",
                       responses=s.SavedViewOutput(many=True)),
    retrieve=extend_schema(summary="Get a saved view", parameters=[_ID],
                           responses={200: s.SavedViewOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a saved view", request=s.SavedViewCreateInput,
                         responses={201: s.SavedViewOutput, 400: _INVALID, 403: _FORBIDDEN}),
    partial_update=extend_schema(summary="Change a saved view", parameters=[_ID], request=s.SavedViewUpdateInput,
                                 responses={200: s.SavedViewOutput, 400: _INVALID, 403: _FORBIDDEN,
                                            404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a saved view", parameters=[_ID],
                          responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
class SavedViewViewSet(TenantCrudViewSet):
    """Ticket lists by conditions, columns and sort. Shared views (`personal: false`) are
    seen by everyone and changed by administrators and API keys; personal ones by their
    owner only. With an API key, `"me"` in conditions matches nobody."""

    model = SavedView
    scopes = {**_SCOPES, "tickets": _READ, "counts": _READ}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ItemPagination
    serializer_class = s.SavedViewOutput

    def safely_get_queryset(self, queryset):
        return queryset.filter(access.visible_q(self.request.user))

    output_serializer = s.SavedViewOutput
    create_input = s.SavedViewCreateInput
    update_input = s.SavedViewUpdateInput

    def service_create(self, values):
        values.setdefault("personal", _person(self.request) is not None)
        return views.saved_view_create(tenant=self.tenant, actor=self.request.user, **values)

    def service_update(self, view, values):
        return views.saved_view_update(view=view, actor=self.request.user, **values)

    def service_delete(self, view):
        views.saved_view_delete(view=view, actor=self.request.user)

    @extend_schema(summary="The tickets of a view, a page at a time", parameters=[_ID, _CURSOR, _PAGE_SIZE],
                   responses={200: _TICKET_PAGE, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=None)
    def tickets(self, request: Request, pk: str) -> Response:
        view = self.get_object()
        page = views.view_ticket_page(view=view, user=_person(request), after=request.query_params.get("cursor"),
                                      limit=_page_size(request), queryset_hook=selectors.api_rows)
        next_url = None
        if page.next_after:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_after)
        return Response({"next": next_url,
                         "results": TicketOutput(page.tickets, many=True, context={"request": request}).data})

    @extend_schema(summary="Ticket counts of your active views (capped: more than 99 shows \"99+\")",
                   responses=s.ViewCountOutput(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def counts(self, request: Request) -> Response:
        visible = list(views.saved_view_list(user=request.user)[:50])
        counts = views.view_counts(views=visible, user=_person(request))
        rows = [{"id": v.pk, "count": counts[v.pk].count, "capped": counts[v.pk].capped,
                 "display": counts[v.pk].display} for v in visible]
        return Response(s.ViewCountOutput(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List the macros you can use (shared and your own)",
                       responses=s.MacroOutput(many=True)),
    retrieve=extend_schema(summary="Get a macro", parameters=[_ID], responses={200: s.MacroOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a macro", request=s.MacroCreateInput,
                         responses={201: s.MacroOutput, 400: _INVALID, 403: _FORBIDDEN}),
    partial_update=extend_schema(summary="Change a macro", parameters=[_ID], request=s.MacroUpdateInput,
                                 responses={200: s.MacroOutput, 400: _INVALID, 403: _FORBIDDEN, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a macro", parameters=[_ID],
                          responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
class MacroViewSet(TenantCrudViewSet):
    """One-click field changes plus a reply per language with `{{ placeholders }}`; apply
    one with `POST /api/v1/tickets/{id}/apply-macro/`."""

    model = Macro
    scopes = dict(_SCOPES)
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ItemPagination
    serializer_class = s.MacroOutput

    def safely_get_queryset(self, queryset):
        return queryset.filter(access.visible_q(self.request.user))

    output_serializer = s.MacroOutput
    create_input = s.MacroCreateInput
    update_input = s.MacroUpdateInput

    def service_create(self, values):
        values.setdefault("personal", _person(self.request) is not None)
        return macros.macro_create(tenant=self.tenant, actor=self.request.user, **values)

    def service_update(self, macro, values):
        return macros.macro_update(macro=macro, actor=self.request.user, **values)

    def service_delete(self, macro):
        macros.macro_delete(macro=macro, actor=self.request.user)


_APPLIED = inline_serializer("MacroApplied", {
    "ticket": TicketOutput(),
    "reply": s.RenderedReplyOutput(allow_null=True),
    "message_id": serializers.IntegerField(allow_null=True),
})
_BULK_RESULTS = inline_serializer("BulkUpdateResults", {"results": s.BulkResultOutput(many=True)})


class TicketProductivityViewSet(TicketsApiMixin, TenantGenericViewSet):
    """Macro application and bulk updates on tickets (tickets-core serves the rest of
    `/api/v1/tickets/`). A closed or stale ticket is a 409 as on the ticket endpoints."""

    model = Ticket
    scopes = {"apply_macro": _WRITE, "bulk": _WRITE}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = None
    serializer_class = s.ApplyMacroInput

    def safely_get_queryset(self, queryset):
        return queryset.select_related("requester", "tenant")

    @extend_schema(summary="Apply a macro to a ticket", parameters=[_ID], request=s.ApplyMacroInput,
                   responses={200: _APPLIED, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT})
    @action(detail=True, methods=["post"], url_path="apply-macro")
    def apply_macro(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = s.ApplyMacroInput(data=request.data)
        data.is_valid(raise_exception=True)
        macro = macros.macro_list(user=request.user).filter(pk=data.validated_data["macro_id"]).first()
        if macro is None:
            raise ValidationError({"macro_id": [_("No such macro.")]})
        applied = macros.macro_apply(ticket=ticket, macro=macro, actor=request.user, via=Via.API,
                                     send=data.validated_data["send"],
                                     expected_version=data.validated_data.get("expected_version"))
        ticket = views.ticket_row_queryset().get(pk=ticket.pk)
        reply = applied.reply
        return Response({
            "ticket": TicketOutput(ticket, context={"request": request}).data,
            "reply": None if reply is None else s.RenderedReplyOutput(reply).data,
            "message_id": applied.message.pk if applied.message is not None else None,
        })

    @extend_schema(summary="Change up to 100 tickets at once", request=s.BulkUpdateInput,
                   responses={200: _BULK_RESULTS, 400: _INVALID})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        data = s.BulkUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        results = bulk.tickets_bulk_update(tenant=self.tenant, actor=request.user, via=Via.API,
                                           ticket_ids=data.validated_data["ids"],
                                           changes=data.validated_data["changes"])
        rows = [{"id": r.id, "result": r.outcome, "errors": r.errors,
                 "version": r.ticket.version if r.ticket is not None else None} for r in results]
        return Response({"results": s.BulkResultOutput(rows, many=True).data})
