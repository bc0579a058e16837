"""``/api/v1/contacts/``, ``/api/v1/organizations/`` and ``/api/v1/contacts/imports/``.

Thin: validate, look up inside the tenant, call one service or selector, serialize.
Reads need ``contacts:read``, writes ``contacts:write``; a console session's role grants
them (agents write, light agents and reviewers read), and the services check the person's
``contacts.edit`` capability again. Another tenant's id is a 404 (in the path) or a 400
naming the field (in the body), never a hint that it exists.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, parsers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.audit.services import request_meta
from helpdesk.people import imports, selectors, services, timeline
from helpdesk.people.api.serializers import (
    ContactCreateInput,
    ContactListParams,
    ContactOutput,
    ContactUpdateInput,
    IdentityInput,
    IdentityOutput,
    ImportCreateInput,
    ImportJobOutput,
    ContactMergeInput,
    OrganizationCreateInput,
    OrganizationListParams,
    OrganizationOutput,
    OrganizationUpdateInput,
    TimelineOutput,
    TimelineParams,
)
from helpdesk.people.models import CONTACT_IMPORT_KINDS, Contact, ContactIdentity, ImportJob, Organization
from helpdesk.tenancy.roles import Scope

_READ, _WRITE = Scope.CONTACTS_READ, Scope.CONTACTS_WRITE
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")
_IN_USE = OpenApiResponse(description="The contact has tickets (`contact_in_use`): merge it instead.")


def _id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


class ContactInUseError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "contact_in_use"
    default_detail = "The contact has tickets."


class ContactPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class NamePagination(CursorPagination):
    ordering = ("name", "id")


class ImportPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


def _organization(*, tenant, organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    found = Organization.objects.filter(tenant=tenant, pk=organization_id).first()
    if found is None:
        raise exceptions.ValidationError({"organization_id": [_("No such organization.")]})
    return found


def _contact_response(contact: Contact, *, status_code: int = status.HTTP_200_OK) -> Response:
    fresh = selectors.contact_detail(tenant=contact.tenant, pk=contact.pk)
    return Response(ContactOutput(fresh).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List or search contacts", parameters=[ContactListParams],
                       responses=ContactOutput(many=True)),
    retrieve=extend_schema(summary="Get a contact", parameters=[_id("Contact id.")],
                           responses={200: ContactOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a contact", request=ContactCreateInput,
                         responses={201: ContactOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a contact", parameters=[_id("Contact id.")],
                                 request=ContactUpdateInput,
                                 responses={200: ContactOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a contact (one without tickets)", parameters=[_id("Contact id.")],
                          responses={204: None, 404: _NOT_FOUND, 409: _IN_USE}),
)
class ContactViewSet(TenantGenericViewSet):
    """Customers. Each is reached through identities (emails, phone numbers in E.164, social
    handles, external ids), unique in the helpdesk; inbound traffic is matched to a contact
    by them. Contacts with tickets are merged rather than deleted."""

    model = Contact
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ContactPagination
    serializer_class = ContactOutput
    scopes = {"list": _READ, "retrieve": _READ, "timeline": _READ,
              "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE, "identities": _WRITE,
              "identity_delete": _WRITE, "merge": _WRITE}

    def safely_get_queryset(self, queryset):
        if self.action == "retrieve":
            return selectors.contact_rows(queryset)  # the list's search adds the same prefetches
        return queryset.select_related("tenant")

    def handle_exception(self, exc):
        if isinstance(exc, services.ContactInUse):
            exc = ContactInUseError(detail=exc.messages[0])
        return super().handle_exception(exc)

    def list(self, request: Request) -> Response:
        params = ContactListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.contact_search(tenant=self.tenant, q=params.validated_data.get("q", ""),
                                            organization_id=params.validated_data.get("organization_id"),
                                            queryset=self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ContactOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ContactOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = ContactCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organization = _organization(tenant=self.tenant, organization_id=values.pop("organization_id", None))
        contact = services.contact_create(tenant=self.tenant, actor=request.user, organization=organization,
                                          audit_meta=request_meta(request), **values)
        return _contact_response(contact, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        data = ContactUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "organization_id" in values:
            values["organization"] = _organization(tenant=self.tenant, organization_id=values.pop("organization_id"))
        contact = services.contact_update(contact=contact, actor=request.user, audit_meta=request_meta(request),
                                          **values)
        return _contact_response(contact)

    def destroy(self, request: Request, pk: str) -> Response:
        services.contact_delete(contact=self.get_object(), actor=request.user, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Add an identity to a contact", parameters=[_id("Contact id.")], request=IdentityInput,
                   responses={201: IdentityOutput, 400: _INVALID, 404: _NOT_FOUND},
                   description="A value that already belongs to another contact is refused, naming that contact "
                               "(merge the two instead).")
    @action(detail=True, methods=["post"])
    def identities(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        data = IdentityInput(data=request.data)
        data.is_valid(raise_exception=True)
        identity = services.identity_add(contact=contact, actor=request.user, audit_meta=request_meta(request),
                                         **data.validated_data)
        return Response(IdentityOutput(identity).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove an identity from a contact",
                   parameters=[_id("Contact id."), OpenApiParameter("identity_id", int, OpenApiParameter.PATH)],
                   responses={204: None, 404: _NOT_FOUND})
    @action(detail=True, methods=["delete"], url_path=r"identities/(?P<identity_id>[0-9]+)")
    def identity_delete(self, request: Request, pk: str, identity_id: str) -> Response:
        contact = self.get_object()
        identity = get_object_or_404(ContactIdentity.objects.filter(tenant=self.tenant, contact=contact),
                                     pk=identity_id)
        services.identity_remove(identity=identity, actor=request.user, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Merge another contact into this one", parameters=[_id("The contact that stays.")],
                   request=ContactMergeInput, responses={200: ContactOutput, 400: _INVALID, 404: _NOT_FOUND},
                   description="Everything of `source_id` moves here (tickets, CCs, messages, identities, and "
                               "the records of every channel); attributes merge with this contact's values "
                               "winning; notes are appended; the source is deleted. Audited.")
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        target = self.get_object()
        data = ContactMergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = Contact.objects.filter(tenant=self.tenant, pk=data.validated_data["source_id"]).first()
        if source is None:
            raise exceptions.ValidationError({"source_id": [_("No such contact.")]})
        target = services.contact_merge(tenant=self.tenant, source=source, target=target, actor=request.user,
                                        audit_meta=request_meta(request))
        return _contact_response(target)

    @extend_schema(summary="The contact's timeline across channels, newest first",
                   parameters=[_id("Contact id."), TimelineParams],
                   responses={200: TimelineOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        params = TimelineParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        before = None
        if params.validated_data.get("cursor"):
            try:
                before = timeline.decode_cursor(params.validated_data["cursor"])
            except ValueError:
                raise exceptions.ValidationError({"cursor": [_("Invalid cursor.")]}) from None
        page = timeline.contact_timeline(tenant=self.tenant, contact=contact, before=before,
                                         limit=params.validated_data["limit"])
        return Response(TimelineOutput({"next": page.next_cursor,
                                        "results": [e.as_dict() for e in page.entries]}).data)


@extend_schema_view(
    list=extend_schema(summary="List or search organizations", parameters=[OrganizationListParams],
                       responses=OrganizationOutput(many=True)),
    retrieve=extend_schema(summary="Get an organization", parameters=[_id("Organization id.")],
                           responses={200: OrganizationOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create an organization", request=OrganizationCreateInput,
                         responses={201: OrganizationOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change an organization", parameters=[_id("Organization id.")],
                                 request=OrganizationUpdateInput,
                                 responses={200: OrganizationOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an organization (its contacts stay)", parameters=[_id("Organization id.")],
                          responses={204: None, 404: _NOT_FOUND}),
)
class OrganizationViewSet(TenantGenericViewSet):
    """Customer companies. Email domains are unique in the helpdesk; with `auto_assign`, new
    contacts with an address at one of them join the organization."""

    model = Organization
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = NamePagination
    serializer_class = OrganizationOutput
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("tenant")

    def list(self, request: Request) -> Response:
        params = OrganizationListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.organization_search(tenant=self.tenant, q=params.validated_data.get("q", ""),
                                                 queryset=self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(OrganizationOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(OrganizationOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = OrganizationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organization_create(tenant=self.tenant, actor=request.user, audit_meta=request_meta(request),
                                           **data.validated_data)
        return Response(OrganizationOutput(org).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        org = self.get_object()
        data = OrganizationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organization_update(organization=org, actor=request.user, audit_meta=request_meta(request),
                                           **data.validated_data)
        return Response(OrganizationOutput(org).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.organization_delete(organization=self.get_object(), actor=request.user,
                                     audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List CSV imports, newest first", responses=ImportJobOutput(many=True)),
    retrieve=extend_schema(summary="An import's progress and row errors", parameters=[_id("Import id.")],
                           responses={200: ImportJobOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Import contacts or organizations from CSV",
                         request={"multipart/form-data": ImportCreateInput},
                         responses={201: ImportJobOutput, 400: _INVALID},
                         description="Contacts: columns `name, email, phone, organization, locale` and any "
                                     "`attr:<key>`; rows update the contact with the same email or phone. "
                                     "Organizations: `name, domains` (`;` separated), `notes`, `auto_assign`; "
                                     "rows update the organization with the same name. The file is checked "
                                     "at once and processed in the background: poll the import for progress."),
)
class ImportJobViewSet(TenantGenericViewSet):
    model = ImportJob
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ImportPagination
    serializer_class = ImportJobOutput
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE}

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind__in=CONTACT_IMPORT_KINDS).order_by("-created_at", "-id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportJobOutput([imports.import_job_status(j) for j in page],
                                                           many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ImportJobOutput(imports.import_job_status(self.get_object())).data)

    def create(self, request: Request) -> Response:
        data = ImportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = imports.import_job_create(tenant=self.tenant, kind=data.validated_data["kind"], data=upload.read(),
                                        filename=upload.name, actor=request.user)
        return Response(ImportJobOutput(imports.import_job_status(job)).data, status=status.HTTP_201_CREATED)
