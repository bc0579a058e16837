"""``/api/v1/business-hours/`` and ``/api/v1/sla-policies/``. Thin: parse, look up inside
the tenant, call one service, serialize.

Scopes: reading needs ``tickets:read``; writing needs ``settings:write`` (owners and
administrators in the console; the services check ``Cap.SETTINGS_MANAGE`` again).
"""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.audit.services import request_meta
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.tenancy.roles import Scope
from tickets.api import sla_serializers as s
from tickets.models import SlaPolicy
from tickets.sla import calendars, policies, selectors

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")

_READ = Scope.TICKETS_READ
_WRITE = Scope.SETTINGS_WRITE
_SCOPES = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}


class ByIdPagination(CursorPagination):
    ordering = ("id",)
    page_size = 100


class ByPositionPagination(CursorPagination):
    ordering = ("position", "id")
    page_size = 100


@extend_schema_view(
    list=extend_schema(summary="List business-hours calendars", responses=s.BusinessHoursOutput(many=True)),
    retrieve=extend_schema(summary="Get a business-hours calendar", parameters=[_ID],
                           responses={200: s.BusinessHoursOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a business-hours calendar", request=s.BusinessHoursCreateInput,
                         responses={201: s.BusinessHoursOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a business-hours calendar", parameters=[_ID],
                                 request=s.BusinessHoursUpdateInput,
                                 responses={200: s.BusinessHoursOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a calendar no SLA policy uses", parameters=[_ID],
                          responses={204: None, 400: _INVALID, 404: _NOT_FOUND}),
)
class BusinessHoursViewSet(TenantGenericViewSet):
    """Opening hours per weekday in an IANA time zone, with holidays. SLA policies count
    business minutes in one of these (or calendar hours). `country_holidays` adds a
    country's public holidays for this year and next as holiday rows."""

    model = BusinessCalendar
    scopes = _SCOPES
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ByIdPagination
    serializer_class = s.BusinessHoursOutput

    def safely_get_queryset(self, queryset):
        return selectors.business_hours_list(queryset=queryset)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.BusinessHoursOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.BusinessHoursOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = s.BusinessHoursCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = calendars.business_hours_create(tenant=self.tenant, actor=request.user,
                                                   audit_meta=request_meta(request), **data.validated_data)
        return Response(s.BusinessHoursOutput(calendar).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        calendar = self.get_object()
        data = s.BusinessHoursUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = calendars.business_hours_update(calendar=calendar, actor=request.user,
                                                   audit_meta=request_meta(request), **data.validated_data)
        return Response(s.BusinessHoursOutput(calendar).data)

    def destroy(self, request: Request, pk: str) -> Response:
        calendars.business_hours_delete(calendar=self.get_object(), actor=request.user,
                                        audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _calendar(validated: dict, tenant) -> dict:
    """``business_hours_id`` → ``calendar``, looked up inside the tenant."""
    if "business_hours_id" not in validated:
        return validated
    calendar_id = validated.pop("business_hours_id")
    if calendar_id is None:
        validated["calendar"] = None
        return validated
    calendar = BusinessCalendar.objects.filter(tenant=tenant, pk=calendar_id).first()
    if calendar is None:
        raise ValidationError({"business_hours_id": [_("Unknown business hours.")]})
    validated["calendar"] = calendar
    return validated


@extend_schema_view(
    list=extend_schema(summary="List SLA policies in matching order", responses=s.SlaPolicyOutput(many=True)),
    retrieve=extend_schema(summary="Get an SLA policy", parameters=[_ID],
                           responses={200: s.SlaPolicyOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create an SLA policy", request=s.SlaPolicyCreateInput,
                         responses={201: s.SlaPolicyOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change an SLA policy", parameters=[_ID], request=s.SlaPolicyUpdateInput,
                                 responses={200: s.SlaPolicyOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an SLA policy", parameters=[_ID], responses={204: None, 404: _NOT_FOUND}),
)
class SlaPolicyViewSet(TenantGenericViewSet):
    """SLA policies are matched in `position` order after every ticket change; the first
    active one whose `conditions` the ticket meets applies (at most one). `targets` give
    minutes per metric (first_reply, next_reply, periodic_update, resolution) and
    priority, counted in the policy's business hours (`business_hours_id`, null for
    calendar hours) and paused while the ticket's status is in `pause_statuses`."""

    model = SlaPolicy
    scopes = _SCOPES
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ByPositionPagination
    serializer_class = s.SlaPolicyOutput

    def safely_get_queryset(self, queryset):
        return selectors.policy_list(queryset=queryset)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SlaPolicyOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.SlaPolicyOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = s.SlaPolicyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = _calendar(dict(data.validated_data), self.tenant)
        policy = policies.sla_policy_create(tenant=self.tenant, actor=request.user,
                                            audit_meta=request_meta(request), **values)
        return Response(s.SlaPolicyOutput(policy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        policy = self.get_object()
        data = s.SlaPolicyUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = _calendar(dict(data.validated_data), self.tenant)
        policy = policies.sla_policy_update(policy=policy, actor=request.user, audit_meta=request_meta(request),
                                            **values)
        return Response(s.SlaPolicyOutput(policy).data)

    def destroy(self, request: Request, pk: str) -> Response:
        policies.sla_policy_delete(policy=self.get_object(), actor=request.user, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
