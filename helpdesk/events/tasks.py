"""Celery tasks of the events spine: thin, named, idempotent, tenant id first.

Retry policy: database trouble (``OperationalError``/``InterfaceError``) is retried by
Celery with exponential backoff; everything else is handled by the services
(a failing consumer leaves its event to the sweep; a failing receiver is retried on the
delivery's own schedule, ``next_attempt_at``). The beat sweeps are the safety net for
lost messages, so no retry here needs to be perfect.
"""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from helpdesk.events import dispatch, services
from helpdesk.events.models import DeliveryStatus
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

_TRANSIENT = (OperationalError, InterfaceError)
_RETRY = {"autoretry_for": _TRANSIENT, "retry_backoff": 5, "retry_backoff_max": 300, "retry_jitter": True,
          "max_retries": 5}
# Celery keeps countdown messages in the worker's memory (and redelivers them after the
# Redis visibility timeout): longer waits are left to the retry sweep.
MAX_COUNTDOWN_SECONDS = 3600


def _tenant(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id).first()


@shared_task(name="events.dispatch_event", ignore_result=True, **_RETRY)
def dispatch_event(tenant_id: int, event_id: int) -> None:
    """Hand one committed event to its consumers (a no-op when already dispatched)."""
    tenant = _tenant(tenant_id)
    if tenant is None:
        return
    with tenant_scope(tenant):
        dispatch.event_dispatch(event_id=event_id)


@shared_task(name="events.dispatch_events", ignore_result=True, **_RETRY)
def dispatch_events(tenant_id: int, event_ids: list[int]) -> None:
    """Hand a batch of committed events of one tenant to their consumers, one by one."""
    tenant = _tenant(tenant_id)
    if tenant is None:
        return
    with tenant_scope(tenant):
        for event_id in event_ids:
            dispatch.event_dispatch(event_id=event_id)


@shared_task(name="events.redispatch_pending", ignore_result=True, **_RETRY)
def redispatch_pending() -> int:
    """Beat, every minute: dispatch events left undispatched (cross-tenant sweep)."""
    return dispatch.events_redispatch_pending()


@shared_task(name="events.deliver_webhook", ignore_result=True, **_RETRY)
def deliver_webhook(tenant_id: int, delivery_id: int) -> None:
    """Make one attempt of a delivery; schedule the next one when it must be retried.

    The next attempt's time is on the row (``next_attempt_at``, exponential backoff), so
    the countdown message here and the retry sweep are two ways to the same attempt and
    the delivery's claim lets only one of them send.
    """
    tenant = _tenant(tenant_id)
    if tenant is None:
        return
    with tenant_scope(tenant):
        delivery = services.webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery is not None and delivery.status == DeliveryStatus.RETRYING and delivery.next_attempt_at:
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if wait <= MAX_COUNTDOWN_SECONDS:
            try:
                deliver_webhook.apply_async((tenant_id, delivery_id), countdown=max(wait, 0))
            except BrokerError:
                # The attempt is recorded with its time: the retry sweep sends it.
                logger.warning("could not schedule the retry of webhook delivery %s", delivery_id)


@shared_task(name="events.retry_due_webhooks", ignore_result=True, **_RETRY)
def retry_due_webhooks() -> int:
    """Beat, every 30 s: queue deliveries whose attempt is overdue (lost or long waits)."""
    return services.webhook_deliveries_queue_due()
