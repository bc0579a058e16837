"""``/api/v1/triggers/``, ``/api/v1/automations/``, ``/api/v1/notifications/`` and
``/api/v1/notification-preferences/``. Thin: parse, call one service or selector, serialize."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantCrudViewSet, TenantGenericViewSet, TenantScopedMixin
from helpdesk.audit.services import request_meta
from helpdesk.tenancy.roles import Scope
from tickets.api import automation_serializers as s
from tickets.automation import automations, notifications, triggers
from tickets.automation.access import person
from tickets.models import Automation, Notification, NotificationPreference, Trigger

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_FORBIDDEN = OpenApiResponse(description="Triggers and automations are changed by administrators and API keys.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")
_UNREAD = OpenApiParameter("unread", bool, OpenApiParameter.QUERY, required=False,
                           description="Only unread notifications (true).")
_READ = Scope.TICKETS_READ
_WRITE = Scope.SETTINGS_WRITE  # tenant-wide rules
_CRUD_SCOPES = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}


class RulePagination(CursorPagination):
    ordering = ("position", "id")
    page_size = 100


class NotificationPagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="List triggers in the order they run", responses=s.TriggerOutput(many=True)),
    retrieve=extend_schema(summary="Get a trigger", parameters=[_ID],
                           responses={200: s.TriggerOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a trigger", request=s.TriggerCreateInput,
                         responses={201: s.TriggerOutput, 400: _INVALID, 403: _FORBIDDEN}),
    partial_update=extend_schema(summary="Change a trigger", parameters=[_ID], request=s.TriggerUpdateInput,
                                 responses={200: s.TriggerOutput, 400: _INVALID, 403: _FORBIDDEN,
                                            404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a trigger", parameters=[_ID],
                          responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
class TriggerViewSet(TenantCrudViewSet):
    """Rules run on ticket events (`ticket.created`, `ticket.updated`, `ticket.message_added`)
    in `position` order. Conditions are the shared language plus `changed.<field>` (with
    `is_true`, `to`, `from`), `message.kind`, `message.author` and `event.via`. Changes made
    by triggers are recorded `via: "trigger"` and never start another round of triggers;
    each trigger fires at most once per event (and once per ticket with `once_per_ticket`)."""

    model = Trigger
    scopes = dict(_CRUD_SCOPES)
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = RulePagination
    serializer_class = s.TriggerOutput

    output_serializer = s.TriggerOutput
    create_input = s.TriggerCreateInput
    update_input = s.TriggerUpdateInput

    def service_create(self, values):
        return triggers.trigger_create(tenant=self.tenant, actor=self.request.user,
                                       audit_meta=request_meta(self.request), **values)

    def service_update(self, trigger, values):
        return triggers.trigger_update(trigger=trigger, actor=self.request.user,
                                       audit_meta=request_meta(self.request), **values)

    def service_delete(self, trigger):
        triggers.trigger_delete(trigger=trigger, actor=self.request.user, audit_meta=request_meta(self.request))


@extend_schema_view(
    list=extend_schema(summary="List automations in the order they run", responses=s.AutomationOutput(many=True)),
    retrieve=extend_schema(summary="Get an automation", parameters=[_ID],
                           responses={200: s.AutomationOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create an automation", request=s.AutomationCreateInput,
                         responses={201: s.AutomationOutput, 400: _INVALID, 403: _FORBIDDEN}),
    partial_update=extend_schema(summary="Change an automation", parameters=[_ID], request=s.AutomationUpdateInput,
                                 responses={200: s.AutomationOutput, 400: _INVALID, 403: _FORBIDDEN,
                                            404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an automation", parameters=[_ID],
                          responses={204: None, 403: _FORBIDDEN, 404: _NOT_FOUND}),
)
class AutomationViewSet(TenantCrudViewSet):
    """Time-based rules checked every hour, e.g. pending for 72 hours → email the requester.
    Conditions need at least one time condition in `all` (`hours_since_*`,
    `minutes_to_sla_due`); an automation is applied at most once per ticket."""

    model = Automation
    scopes = dict(_CRUD_SCOPES)
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = RulePagination
    serializer_class = s.AutomationOutput

    output_serializer = s.AutomationOutput
    create_input = s.AutomationCreateInput
    update_input = s.AutomationUpdateInput

    def service_create(self, values):
        return automations.automation_create(tenant=self.tenant, actor=self.request.user,
                                             audit_meta=request_meta(self.request), **values)

    def service_update(self, automation, values):
        return automations.automation_update(automation=automation, actor=self.request.user,
                                             audit_meta=request_meta(self.request), **values)

    def service_delete(self, automation):
        automations.automation_delete(automation=automation, actor=self.request.user,
                                      audit_meta=request_meta(self.request))


def _bool_param(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


@extend_schema_view(
    list=extend_schema(summary="Your notifications, newest first", parameters=[_UNREAD],
                       responses=s.NotificationOutput(many=True)),
)
class NotificationViewSet(TenantGenericViewSet):
    """The signed-in person's notifications (an API key has none: the list is empty).
    Marking read is personal state, so `tickets:read` is enough."""

    model = Notification
    scopes = {"list": _READ, "read": _READ, "read_all": _READ}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = NotificationPagination
    serializer_class = s.NotificationOutput

    def safely_get_queryset(self, queryset):
        user = person(self.request.user)
        if user is None:
            return queryset.none()
        queryset = queryset.filter(user=user).select_related("ticket")
        if self.action == "list" and _bool_param(self.request.query_params.get("unread")):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.NotificationOutput(page, many=True).data)

    @extend_schema(summary="Mark one notification read", parameters=[_ID], request=None,
                   responses={200: s.NotificationOutput, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        notification = self.get_object()
        notifications.notification_mark_read(tenant=self.tenant, user=person(request.user), ids=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(s.NotificationOutput(notification).data)

    @extend_schema(summary="Mark notifications read (all unread ones, or the given ids)",
                   request=s.MarkReadInput, responses={200: s.MarkedOutput, 400: _INVALID})
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None)
    def read_all(self, request: Request) -> Response:
        data = s.MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = person(request.user)
        marked = 0
        if user is not None:
            marked = notifications.notification_mark_read(tenant=self.tenant, user=user,
                                                          ids=data.validated_data.get("ids"))
        return Response(s.MarkedOutput({"marked": marked}).data)


class NotificationPreferencesView(TenantScopedMixin, APIView):
    """Your notification choices per kind: in the console (live toast and list) and by email.
    Kinds you never set are on for both."""

    model = NotificationPreference
    scopes = {"GET": _READ, "PUT": _READ}

    def _user(self, request: Request):
        user = person(request.user)
        if user is None:
            raise PermissionDenied(_("Notification preferences belong to people: sign in to change yours."))
        return user

    @extend_schema(summary="Your notification preferences", responses={200: s.PreferencesOutput})
    def get(self, request: Request) -> Response:
        rows = notifications.notification_preferences(tenant=self.tenant, user=self._user(request))
        return Response(s.PreferencesOutput({"preferences": rows}).data)

    @extend_schema(summary="Set your notification preferences (the kinds given; others keep theirs)",
                   request=s.PreferencesInput, responses={200: s.PreferencesOutput, 400: _INVALID})
    def put(self, request: Request) -> Response:
        user = self._user(request)
        data = s.PreferencesInput(data=request.data)
        data.is_valid(raise_exception=True)
        rows = notifications.notification_preferences_set(tenant=self.tenant, user=user,
                                                          preferences=data.validated_data["preferences"])
        return Response(s.PreferencesOutput({"preferences": rows}).data)
