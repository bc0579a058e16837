"""``/api/v1/webhooks/``: subscriptions, their delivery log, ping and redelivery. Thin."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.audit.services import request_meta
from helpdesk.events import selectors, services, types
from helpdesk.events.api.serializers import (
    DeliveryOutput,
    EventTypeOutput,
    WebhookCreatedOutput,
    WebhookCreateInput,
    WebhookOutput,
    WebhookUpdateInput,
)
from helpdesk.events.models import WebhookSubscription
from helpdesk.tenancy.roles import Scope

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Webhook id.")
_DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH, description="Delivery id.")
_IS_ACTIVE = OpenApiParameter("is_active", bool, OpenApiParameter.QUERY, required=False,
                              description="Only active (true) or inactive (false) webhooks.")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="No such webhook in this tenant.")


class DeliveryPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _bool_param(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


@extend_schema_view(
    list=extend_schema(summary="List webhooks", parameters=[_IS_ACTIVE], responses=WebhookOutput(many=True)),
    retrieve=extend_schema(summary="Get a webhook", parameters=[_ID], responses={200: WebhookOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a webhook", request=WebhookCreateInput,
                         responses={201: WebhookCreatedOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a webhook", parameters=[_ID], request=WebhookUpdateInput,
                                 responses={200: WebhookOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a webhook and its delivery log", parameters=[_ID],
                          responses={204: None, 404: _NOT_FOUND}),
)
class WebhookViewSet(TenantGenericViewSet):
    """Outbound webhooks: each event of a subscribed type is POSTed, signed, to the URL.

    The body is `{"id", "type", "created_at", "tenant", "data"}`; `X-Signature` is
    `sha256=` + the hex HMAC-SHA256 of the raw body with the webhook's secret (compare in
    constant time), `X-Event-Id` identifies the event across retries. A 2xx answer is
    success; 5xx, 408, 429, timeouts and connection errors are retried with exponential
    backoff; other 4xx and redirects fail at once.
    """

    model = WebhookSubscription
    scopes = {
        "list": Scope.WEBHOOKS_READ,
        "retrieve": Scope.WEBHOOKS_READ,
        "deliveries": Scope.WEBHOOKS_READ,
        "event_types": Scope.WEBHOOKS_READ,
        "create": Scope.WEBHOOKS_WRITE,
        "partial_update": Scope.WEBHOOKS_WRITE,
        "destroy": Scope.WEBHOOKS_WRITE,
        "ping": Scope.WEBHOOKS_WRITE,
        "redeliver": Scope.WEBHOOKS_WRITE,
    }
    lookup_value_regex = "[0-9]+"
    # Filtering is the explicit ``is_active`` parameter; ordering is the cursor's.
    filter_backends: list = []
    serializer_class = WebhookOutput

    def safely_get_queryset(self, queryset):
        if self.action == "list":
            return selectors.webhook_list(queryset=queryset,
                                          is_active=_bool_param(self.request.query_params.get("is_active")))
        return queryset

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(WebhookOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = WebhookCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The new instance still holds the plain secret: this response is the only one showing it.
        subscription, _secret = services.webhook_create(
            tenant=self.tenant, actor=request.user, audit_meta=request_meta(request), **data.validated_data)
        return Response(WebhookCreatedOutput(subscription).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        data = WebhookUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.webhook_update(subscription=subscription, actor=request.user,
                                               audit_meta=request_meta(request), **data.validated_data)
        return Response(WebhookOutput(subscription).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.webhook_delete(subscription=self.get_object(), actor=request.user,
                                audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="A webhook's delivery log, newest first", parameters=[_ID],
                   responses={200: DeliveryOutput(many=True), 404: _NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request: Request, pk: str) -> Response:
        page = self.paginate_queryset(selectors.delivery_list(subscription=self.get_object()))
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)

    @extend_schema(summary="Send a webhook.ping event to this webhook", parameters=[_ID], request=None,
                   responses={202: DeliveryOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def ping(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        delivery = services.webhook_ping(subscription=subscription, actor=request.user)
        delivery = selectors.delivery_list(subscription=subscription).get(pk=delivery.pk)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Deliver a finished delivery again", parameters=[_ID, _DELIVERY_ID], request=None,
                   responses={202: DeliveryOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)/redeliver")
    def redeliver(self, request: Request, pk: str, delivery_id: str) -> Response:
        subscription = self.get_object()
        deliveries = selectors.delivery_list(subscription=subscription)
        delivery = get_object_or_404(deliveries, pk=delivery_id)
        services.webhook_redeliver(delivery=delivery, actor=request.user, audit_meta=request_meta(request))
        return Response(DeliveryOutput(deliveries.get(pk=delivery.pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="The event types a webhook can subscribe to", responses=EventTypeOutput(many=True))
    @action(detail=False, methods=["get"], url_path="event-types", pagination_class=None)
    def event_types(self, request: Request) -> Response:
        rows = [{"name": t.name, "description": str(t.description)} for t in types.event_types()]
        return Response(EventTypeOutput(rows, many=True).data)
