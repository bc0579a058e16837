"""``/api/v1/`` tags, custom-fields, contact-reasons, teams, agents, ticket-settings and
attachment downloads. Reads need ``tickets:read``, writes ``tickets:write``; people's
writes also need their role's capability (settings changes: administrators)."""
from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantGenericViewSet, TenantScopedMixin
from helpdesk.audit.services import request_meta
from helpdesk.people.models import Team
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Scope
from tickets import selectors, services
from tickets.downloads import attachment_download
from tickets.api import lookups
from tickets.api.serializers import (
    AgentOutput,
    AgentUpdateInput,
    ContactReasonCreateInput,
    ContactReasonOutput,
    ContactReasonUpdateInput,
    CustomFieldCreateInput,
    CustomFieldOutput,
    CustomFieldUpdateInput,
    TagInput,
    TagOutput,
    TeamCreateInput,
    TeamOutput,
    TeamUpdateInput,
    TicketSettingsInput,
    TicketSettingsOutput,
)
from tickets.models import Attachment, ContactReason, CustomField, Tag

_READ, _WRITE = Scope.TICKETS_READ, Scope.TICKETS_WRITE
_SETTINGS = Scope.SETTINGS_WRITE
# Tags, custom fields, contact reasons and teams are tenant-wide settings.
_CRUD_SCOPES = {"list": _READ, "retrieve": _READ, "create": _SETTINGS, "partial_update": _SETTINGS,
                "destroy": _SETTINGS}
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")


def _id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


def _crud_schema(name: str, output, create_input, update_input):
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}s", responses=output(many=True)),
        retrieve=extend_schema(summary=f"Get a {name}", parameters=[_id(f"{name} id")],
                               responses={200: output, 404: _NOT_FOUND}),
        create=extend_schema(summary=f"Create a {name}", request=create_input, responses={201: output, 400: _INVALID}),
        partial_update=extend_schema(summary=f"Change a {name}", parameters=[_id(f"{name} id")], request=update_input,
                                     responses={200: output, 400: _INVALID, 404: _NOT_FOUND}),
        destroy=extend_schema(summary=f"Delete a {name}", parameters=[_id(f"{name} id")],
                              responses={204: None, 404: _NOT_FOUND}),
    )


class NamePagination(CursorPagination):
    ordering = ("name",)
    page_size = 100


class PositionPagination(CursorPagination):
    ordering = ("position", "id")
    page_size = 100


class IdPagination(CursorPagination):
    ordering = ("id",)
    page_size = 100


class _CrudViewSet(TenantGenericViewSet):
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    scopes = _CRUD_SCOPES
    output = None

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.output(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.output(self.get_object()).data)


@_crud_schema("tag", TagOutput, TagInput, TagInput)
class TagViewSet(_CrudViewSet):
    """Tags: lower-case words (`"VIP customer"` becomes `vip-customer`). Tickets create the
    tags they name; renaming and deleting need an administrator."""

    model = Tag
    output = TagOutput
    serializer_class = TagOutput
    pagination_class = NamePagination
    scopes = {**_CRUD_SCOPES, "create": _WRITE}  # agents tag tickets; renames and deletes are settings

    def safely_get_queryset(self, queryset):
        return queryset.order_by("name")

    def create(self, request: Request) -> Response:
        data = TagInput(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_create(tenant=self.tenant, name=data.validated_data["name"], actor=request.user)
        return Response(TagOutput(tag).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        tag = self.get_object()
        data = TagInput(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.tag_rename(tag=tag, name=data.validated_data["name"], actor=request.user)
        return Response(TagOutput(tag).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.tag_delete(tag=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_crud_schema("custom field", CustomFieldOutput, CustomFieldCreateInput, CustomFieldUpdateInput)
class CustomFieldViewSet(_CrudViewSet):
    """Typed ticket fields: text, number, date (YYYY-MM-DD), dropdown (one option value),
    checkbox (true/false), multi_select (a list of option values). `key` and `kind` are
    fixed once created. Required fields must have a value before a ticket is solved."""

    model = CustomField
    output = CustomFieldOutput
    serializer_class = CustomFieldOutput
    pagination_class = PositionPagination

    def safely_get_queryset(self, queryset):
        return queryset.order_by("position", "id")

    def create(self, request: Request) -> Response:
        data = CustomFieldCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        field = services.custom_field_create(tenant=self.tenant, actor=request.user, **data.validated_data)
        return Response(CustomFieldOutput(field).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        field = self.get_object()
        data = CustomFieldUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        field = services.custom_field_update(field=field, actor=request.user, **data.validated_data)
        return Response(CustomFieldOutput(field).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.custom_field_delete(field=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_crud_schema("contact reason", ContactReasonOutput, ContactReasonCreateInput, ContactReasonUpdateInput)
class ContactReasonViewSet(_CrudViewSet):
    """Why customers get in touch: two levels (a reason and its sub-reasons)."""

    model = ContactReason
    output = ContactReasonOutput
    serializer_class = ContactReasonOutput
    pagination_class = IdPagination

    def safely_get_queryset(self, queryset):
        return queryset.order_by("id")

    def create(self, request: Request) -> Response:
        data = ContactReasonCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        parent = lookups.contact_reason(tenant=self.tenant, reason_id=values.get("parent_id"), field="parent_id")
        reason = services.contact_reason_create(tenant=self.tenant, name=values["name"], parent=parent,
                                                position=values.get("position", 0), actor=request.user)
        return Response(ContactReasonOutput(reason).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        reason = self.get_object()
        data = ContactReasonUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "parent_id" in values:
            values["parent"] = lookups.contact_reason(tenant=self.tenant, reason_id=values.pop("parent_id"),
                                                      field="parent_id")
        reason = services.contact_reason_update(reason=reason, actor=request.user, **values)
        return Response(ContactReasonOutput(reason).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.contact_reason_delete(reason=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_crud_schema("team", TeamOutput, TeamCreateInput, TeamUpdateInput)
class TeamViewSet(_CrudViewSet):
    """Teams of agents (routing, reports). `member_ids` are user ids of members."""

    model = Team
    output = TeamOutput
    serializer_class = TeamOutput
    pagination_class = NamePagination

    def safely_get_queryset(self, queryset):
        return selectors.team_list(tenant=self.tenant).filter(pk__in=queryset.values("pk"))

    def create(self, request: Request) -> Response:
        data = TeamCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(tenant=self.tenant, actor=request.user, **data.validated_data)
        return Response(TeamOutput(selectors.team_list(tenant=self.tenant).get(pk=team.pk)).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        team = self.get_object()
        data = TeamUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.team_update(team=team, actor=request.user, audit_meta=request_meta(request),
                             **data.validated_data)
        return Response(TeamOutput(selectors.team_list(tenant=self.tenant).get(pk=team.pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.team_delete(team=self.get_object(), actor=request.user, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgentPagination(CursorPagination):
    ordering = ("user_id",)
    page_size = 100


@extend_schema_view(
    list=extend_schema(summary="List agents (members who take tickets)", responses=AgentOutput(many=True)),
    retrieve=extend_schema(summary="Get an agent", parameters=[_id("The agent's user id.")],
                           responses={200: AgentOutput, 404: _NOT_FOUND}),
    partial_update=extend_schema(summary="Set an agent's availability", parameters=[_id("The agent's user id.")],
                                 request=AgentUpdateInput,
                                 responses={200: AgentOutput, 400: _INVALID, 404: _NOT_FOUND}),
)
class AgentViewSet(TenantGenericViewSet):
    """Owners, administrators and agents with their availability (status, capacity, skills,
    languages) used by routing. An agent sets their own; others need an administrator."""

    model = Membership
    lookup_field = "user_id"
    lookup_url_kwarg = "pk"
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = AgentPagination
    serializer_class = AgentOutput
    scopes = {"list": _READ, "retrieve": _READ, "partial_update": _WRITE}

    def safely_get_queryset(self, queryset):
        return selectors.agent_list(tenant=self.tenant, queryset=queryset)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AgentOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(AgentOutput(self.get_object()).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        membership = self.get_object()
        data = AgentUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.agent_availability_set(tenant=self.tenant, user=membership.user, actor=request.user,
                                        audit_meta=request_meta(request), **data.validated_data)
        return Response(AgentOutput(self.get_queryset().get(pk=membership.pk)).data)


class TicketSettingsView(APIView):
    """The tenant's ticket settings: days from solved to closed (1-28, default 4)."""

    scopes = {"GET": _READ, "PATCH": _SETTINGS}

    @extend_schema(summary="Ticket settings", responses=TicketSettingsOutput)
    def get(self, request: Request) -> Response:
        row = services.ticket_settings_get(tenant=request.tenant)
        return Response(TicketSettingsOutput(row).data)

    @extend_schema(summary="Change ticket settings", request=TicketSettingsInput,
                   responses={200: TicketSettingsOutput, 400: _INVALID})
    def patch(self, request: Request) -> Response:
        data = TicketSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.ticket_settings_update(tenant=request.tenant, actor=request.user,
                                              audit_meta=request_meta(request), **data.validated_data)
        return Response(TicketSettingsOutput(row).data)


class AttachmentDownloadView(TenantScopedMixin, GenericAPIView):
    """Download an attachment: always as a file (`Content-Disposition: attachment`, no
    sniffing, no rendering), to credentials of the attachment's tenant."""

    model = Attachment
    scopes = {"GET": _READ}
    filter_backends: list = []
    pagination_class = None

    @extend_schema(summary="Download an attachment",
                   parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH,
                                                description="The attachment's token (from its url).")],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: _NOT_FOUND})
    def get(self, request: Request, token: str) -> FileResponse:
        attachment = selectors.attachment_by_token(tenant=self.tenant, token=token)
        if attachment is None:
            raise NotFound()
        return attachment_download(attachment)  # a missing file is a 404 (Http404)
