"""Reads of the events spine: querysets for lists, each in the tenant in context."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from helpdesk.events.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription


def webhook_list(*, queryset: QuerySet[WebhookSubscription] | None = None,
                 is_active: bool | None = None) -> QuerySet[WebhookSubscription]:
    """Subscriptions, optionally only (in)active ones; ``queryset`` narrows a scoped base."""
    qs = WebhookSubscription.objects.all() if queryset is None else queryset
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def delivery_list(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """A subscription's delivery log with its events and attempts (three queries a page)."""
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log",
                                   queryset=WebhookDeliveryAttempt.objects.order_by("started_at", "pk")))
    )

