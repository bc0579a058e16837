"""``/api/v1/tickets/``: tickets, their conversation, merge/split/links, CCs, followers,
side conversations and time entries. Thin: validate, look up in the tenant, call one
service or selector, serialize."""
from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, parsers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.errors import error_body
from helpdesk.api.pagination import CursorPagination
from helpdesk.api.parsers import JSONParser
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.audit.services import request_meta
from helpdesk.tenancy.roles import Scope
from tickets import selectors, services
from tickets.api import lookups
from tickets.api.serializers import (
    CcInput,
    FollowerInput,
    LinkInput,
    LinkOutput,
    MergeInput,
    MessageCreateInput,
    MessageOutput,
    RequesterOutput,
    SideConversationInput,
    SideConversationOutput,
    SideMessageInput,
    SplitInput,
    StaleTicketOutput,
    TicketCreateInput,
    TicketListParams,
    TicketOutput,
    TicketUpdateInput,
    TimeEntryInput,
    TimeEntryOutput,
)
from tickets.models import Priority, SideConversation, Ticket, TicketCC, TicketLink, TicketType, TimeEntry, Via
from tickets.services import StaleTicket, TicketClosed

_READ, _WRITE = Scope.TICKETS_READ, Scope.TICKETS_WRITE
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Ticket id.")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="No such ticket in this tenant.")
_CONFLICT = OpenApiResponse(response=StaleTicketOutput,
                            description="The ticket is closed (`ticket_closed`), or changed since "
                                        "`expected_version` (`stale_ticket`, with the newer messages).")


class TicketClosedError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "ticket_closed"
    default_detail = "The ticket is closed."


class TicketPagination(CursorPagination):
    ordering = selectors.ORDERINGS[selectors.DEFAULT_ORDERING]


class MessagePagination(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 100


class SmallPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class TicketsApiMixin:
    """Ticket services' errors as API answers: closed → 409 ``ticket_closed``; stale → 409
    ``stale_ticket`` with the current ticket and the messages that made it newer."""

    def handle_exception(self, exc):
        if isinstance(exc, StaleTicket):
            ticket = selectors.ticket_detail_queryset(tenant=exc.ticket.tenant).get(pk=exc.ticket.pk)
            body = error_body("stale_ticket", exc.message)
            body["ticket"] = TicketOutput(ticket).data
            body["messages"] = MessageOutput(exc.newer_messages, many=True).data
            response = Response(body, status=status.HTTP_409_CONFLICT)
            return response
        if isinstance(exc, TicketClosed):
            exc = TicketClosedError(detail=exc.messages[0])
        return super().handle_exception(exc)


def _ticket_response(ticket: Ticket, *, status_code: int = status.HTTP_200_OK) -> Response:
    fresh = selectors.ticket_detail_queryset(tenant=ticket.tenant).get(pk=ticket.pk)
    return Response(TicketOutput(fresh).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List tickets", parameters=[TicketListParams],
                       responses=TicketOutput(many=True)),
    retrieve=extend_schema(summary="Get a ticket", parameters=[_ID],
                           responses={200: TicketOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a ticket", request=TicketCreateInput,
                         responses={201: TicketOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a ticket", parameters=[_ID], request=TicketUpdateInput,
                                 responses={200: TicketOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT}),
)
class TicketViewSet(TicketsApiMixin, TenantGenericViewSet):
    """Tickets: statuses new → open → pending / on hold → solved → closed (closed by the
    system N days after solved; read-only then). Every change is the same service call the
    console makes, with the same system entries, events and audit."""

    model = Ticket
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = TicketPagination
    serializer_class = TicketOutput
    scopes = {
        "list": _READ, "retrieve": _READ, "messages": _READ, "links": _READ, "ccs": _READ,
        "time_entries": _READ, "side_conversations": _READ,
        "create": _WRITE, "partial_update": _WRITE, "merge": _WRITE, "split": _WRITE, "messages_create": _WRITE,
        "links_create": _WRITE, "link_delete": _WRITE, "ccs_create": _WRITE, "cc_delete": _WRITE,
        "followers": _WRITE, "follower_delete": _WRITE, "time_entries_create": _WRITE,
        "side_conversations_create": _WRITE, "side_message_create": _WRITE,
    }

    def safely_get_queryset(self, queryset):
        if self.action == "retrieve":
            return selectors.ticket_detail_queryset(tenant=self.tenant, queryset=queryset)
        return queryset.select_related("tenant")

    # --- the ticket ---------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        params = TicketListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = selectors.TicketFilters(
            status=data.get("status"), priority=data.get("priority"), type=data.get("type"),
            assignee_id=data.get("assignee_id"), unassigned=data.get("unassigned", False),
            team_id=data.get("team_id"), requester_id=data.get("requester_id"),
            organization_id=data.get("organization_id"),
            tags=services.normalize_tags([t for t in data.get("tag", "").split(",") if t.strip()]),
            updated_since=data.get("updated_since"), q=data.get("q", ""),
        )
        ordering = data.get("ordering", selectors.DEFAULT_ORDERING)
        self.paginator.ordering = selectors.ORDERINGS[ordering]
        queryset = selectors.api_rows(selectors.ticket_list(tenant=self.tenant, filters=filters, ordering=ordering,
                                                           queryset=self.get_queryset(), user=request.user))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(TicketOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(TicketOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = TicketCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        tenant = self.tenant
        if "requester" in values:
            requester = services.contact_for_email(tenant=tenant, email=values["requester"]["email"],
                                                   name=values["requester"].get("name", ""))
        else:
            requester = lookups.contact(tenant=tenant, contact_id=values["requester_id"])
        ticket = services.ticket_create(
            tenant=tenant, actor=request.user, via=Via.API, subject=values["subject"],
            description=values.get("description", ""), requester=requester,
            priority=values.get("priority", Priority.NORMAL), type=values.get("type", TicketType.QUESTION),
            channel=values.get("channel"), tags=values.get("tags", ()), custom_fields=values.get("custom_fields"),
            assignee=lookups.member(tenant=tenant, user_id=values.get("assignee_id")),
            team=lookups.team(tenant=tenant, team_id=values.get("team_id")),
            contact_reason=lookups.contact_reason(tenant=tenant, reason_id=values.get("contact_reason_id")),
            language=values.get("language"), public_description=values.get("public", True),
            audit_meta=request_meta(request),
        )
        return _ticket_response(ticket, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = TicketUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        tenant = self.tenant
        fields = {}
        for name in ("subject", "status", "priority", "type", "tags", "add_tags", "remove_tags", "custom_fields",
                     "language"):
            if name in values:
                fields[name] = values[name]
        if "assignee_id" in values:
            fields["assignee"] = lookups.member(tenant=tenant, user_id=values["assignee_id"])
        if "team_id" in values:
            fields["team"] = lookups.team(tenant=tenant, team_id=values["team_id"])
        if "contact_reason_id" in values:
            fields["contact_reason"] = lookups.contact_reason(tenant=tenant, reason_id=values["contact_reason_id"])
        if "problem_id" in values:
            fields["problem"] = lookups.ticket(tenant=tenant, ticket_id=values["problem_id"], field="problem_id")
        ticket = services.ticket_update(ticket=ticket, actor=request.user, via=Via.API,
                                        expected_version=values.get("expected_version"),
                                        audit_meta=request_meta(request), **fields)
        return _ticket_response(ticket)

    @extend_schema(summary="Merge tickets into this one", parameters=[_ID], request=MergeInput,
                   responses={200: TicketOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT},
                   description="The listed tickets' replies and notes move here; each is closed and points at "
                               "this ticket (`merged_into_id`).")
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        target = self.get_object()
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        sources = lookups.tickets(tenant=self.tenant, ticket_ids=data.validated_data["ticket_ids"])
        survivor = services.ticket_merge(target=target, sources=sources, actor=request.user, via=Via.API,
                                         audit_meta=request_meta(request))
        return _ticket_response(survivor)

    @extend_schema(summary="Split a message off into a new ticket", parameters=[_ID], request=SplitInput,
                   responses={201: TicketOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = SplitInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = lookups.message(ticket=ticket, message_id=data.validated_data["message_id"])
        new = services.ticket_split(message=message, actor=request.user, via=Via.API,
                                    subject=data.validated_data.get("subject"), audit_meta=request_meta(request))
        return _ticket_response(new, status_code=status.HTTP_201_CREATED)

    # --- the conversation ---------------------------------------------------------------

    @extend_schema(summary="The ticket's conversation, oldest first", parameters=[_ID],
                   responses={200: MessageOutput(many=True), 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=MessagePagination,
            parser_classes=[JSONParser, parsers.MultiPartParser])
    def messages(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        page = self.paginate_queryset(selectors.conversation(ticket=ticket))
        return self.get_paginated_response(MessageOutput(page, many=True).data)

    @extend_schema(summary="Reply publicly or add an internal note", parameters=[_ID],
                   request={"application/json": MessageCreateInput, "multipart/form-data": MessageCreateInput},
                   responses={201: MessageOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT},
                   description="JSON, or multipart/form-data with files in `attachments`. Notes may mention "
                               "members as `@email` or `@[Full Name]`.")
    @messages.mapping.post
    def messages_create(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = MessageCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        message = services.message_add(ticket=ticket, actor=request.user, via=Via.API, body=values["body"],
                                       public=values["public"], expected_version=values.get("expected_version"),
                                       attachments=values.get("attachments", ()), audit_meta=request_meta(request))
        message = selectors.conversation(ticket=Ticket(pk=message.ticket_id)).get(pk=message.pk)
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)

    # --- links --------------------------------------------------------------------------

    @extend_schema(summary="Linked tickets", parameters=[_ID], responses={200: LinkOutput(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request: Request, pk: str) -> Response:
        rows = [{"id": link.pk, "kind": link.kind, "ticket_id": other.pk, "ticket_number": other.number,
                 "ticket_subject": other.subject, "created_at": link.created_at}
                for link, other in selectors.ticket_links(ticket=self.get_object())]
        return Response(LinkOutput(rows, many=True).data)

    @extend_schema(summary="Link another ticket", parameters=[_ID], request=LinkInput,
                   responses={201: LinkOutput, 400: _INVALID, 404: _NOT_FOUND})
    @links.mapping.post
    def links_create(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = LinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        other = lookups.ticket(tenant=self.tenant, ticket_id=data.validated_data["ticket_id"])
        link = services.ticket_link(source=ticket, target=other, actor=request.user, via=Via.API,
                                    kind=data.validated_data["kind"], audit_meta=request_meta(request))
        return Response(LinkOutput({"id": link.pk, "kind": link.kind, "ticket_id": other.pk,
                                    "ticket_number": other.number, "ticket_subject": other.subject,
                                    "created_at": link.created_at}).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a link", parameters=[_ID], responses={204: None, 404: _NOT_FOUND})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>[0-9]+)")
    def link_delete(self, request: Request, pk: str, link_id: str) -> Response:
        ticket = self.get_object()
        link = get_object_or_404(TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
                                 .select_related("tenant"), pk=link_id)
        services.ticket_unlink(link=link, actor=request.user, via=Via.API, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- CCs and followers --------------------------------------------------------------

    @extend_schema(summary="Customers copied on the ticket", parameters=[_ID],
                   responses={200: RequesterOutput(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def ccs(self, request: Request, pk: str) -> Response:
        contacts = [cc.contact for cc in selectors.ticket_ccs(ticket=self.get_object())]
        return Response(RequesterOutput(contacts, many=True).data)

    @extend_schema(summary="Copy a customer (by email) on the ticket", parameters=[_ID], request=CcInput,
                   responses={201: RequesterOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT})
    @ccs.mapping.post
    def ccs_create(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = CcInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_for_email(tenant=self.tenant, email=data.validated_data["email"],
                                             name=data.validated_data.get("name", ""))
        services.ticket_cc_add(ticket=ticket, contact=contact, actor=request.user, via=Via.API,
                               audit_meta=request_meta(request))
        cc = selectors.ticket_ccs(ticket=ticket).get(contact=contact)
        return Response(RequesterOutput(cc.contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Stop copying a customer", parameters=[_ID], responses={204: None, 404: _NOT_FOUND})
    @action(detail=True, methods=["delete"], url_path=r"ccs/(?P<contact_id>[0-9]+)")
    def cc_delete(self, request: Request, pk: str, contact_id: str) -> Response:
        ticket = self.get_object()
        cc = get_object_or_404(TicketCC.objects.filter(ticket=ticket).select_related("contact"),
                               contact_id=contact_id)
        services.ticket_cc_remove(ticket=ticket, contact=cc.contact, actor=request.user, via=Via.API,
                                  audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Make a member follow the ticket", parameters=[_ID], request=FollowerInput,
                   responses={204: None, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def followers(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = FollowerInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = lookups.member(tenant=self.tenant, user_id=data.validated_data["user_id"], field="user_id")
        services.ticket_follow(ticket=ticket, user=user, actor=request.user, via=Via.API)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Make a member stop following", parameters=[_ID], responses={204: None, 404: _NOT_FOUND})
    @action(detail=True, methods=["delete"], url_path=r"followers/(?P<user_id>[0-9]+)")
    def follower_delete(self, request: Request, pk: str, user_id: str) -> Response:
        ticket = self.get_object()
        user = lookups.member(tenant=self.tenant, user_id=int(user_id), field="user_id")
        services.ticket_unfollow(ticket=ticket, user=user, actor=request.user, via=Via.API)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- time and side conversations ----------------------------------------------------

    @extend_schema(summary="Time logged on the ticket", parameters=[_ID],
                   responses={200: TimeEntryOutput(many=True)})
    @action(detail=True, methods=["get"], url_path="time-entries", pagination_class=SmallPagination)
    def time_entries(self, request: Request, pk: str) -> Response:
        page = self.paginate_queryset(TimeEntry.objects.filter(ticket=self.get_object()))
        return self.get_paginated_response(TimeEntryOutput(page, many=True).data)

    @extend_schema(summary="Log time on the ticket", parameters=[_ID], request=TimeEntryInput,
                   responses={201: TimeEntryOutput, 400: _INVALID, 404: _NOT_FOUND})
    @time_entries.mapping.post
    def time_entries_create(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = TimeEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.time_entry_add(ticket=ticket, actor=request.user, via=Via.API,
                                        seconds=data.validated_data["seconds"],
                                        note=data.validated_data.get("note", ""))
        return Response(TimeEntryOutput(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Side conversations of the ticket", parameters=[_ID],
                   responses={200: SideConversationOutput(many=True)})
    @action(detail=True, methods=["get"], url_path="side-conversations", pagination_class=None)
    def side_conversations(self, request: Request, pk: str) -> Response:
        rows = selectors.side_conversations(ticket=self.get_object())
        return Response(SideConversationOutput(rows, many=True).data)

    @extend_schema(summary="Start a side conversation", parameters=[_ID], request=SideConversationInput,
                   responses={201: SideConversationOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT},
                   description="`internal`: agents only. `email`: a thread with outside addresses; it is stored "
                               "here, and sent once email channels exist.")
    @side_conversations.mapping.post
    def side_conversations_create(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = SideConversationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        side = services.side_conversation_create(ticket=ticket, actor=request.user, via=Via.API, kind=values["kind"],
                                                 subject=values["subject"], body=values["body"],
                                                 participants=values.get("participants", ()))
        side = selectors.side_conversations(ticket=ticket).get(pk=side.pk)
        return Response(SideConversationOutput(side).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Add to a side conversation", parameters=[_ID], request=SideMessageInput,
                   responses={201: SideConversationOutput, 400: _INVALID, 404: _NOT_FOUND, 409: _CONFLICT})
    @action(detail=True, methods=["post"], url_path=r"side-conversations/(?P<side_id>[0-9]+)/messages")
    def side_message_create(self, request: Request, pk: str, side_id: str) -> Response:
        ticket = self.get_object()
        side = get_object_or_404(SideConversation.objects.filter(ticket=ticket).select_related("tenant"),
                                 pk=side_id)
        data = SideMessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.side_conversation_reply(side_conversation=side, actor=request.user, via=Via.API,
                                         body=data.validated_data["body"])
        side = selectors.side_conversations(ticket=ticket).get(pk=side.pk)
        return Response(SideConversationOutput(side).data, status=status.HTTP_201_CREATED)
