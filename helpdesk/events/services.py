"""Writes of the events spine: the outbox, webhook subscriptions and their deliveries.

Dispatch (handing committed events to consumers) lives in ``dispatch``; the HTTP side of
a delivery (signing, the SSRF guard, the POST) in ``webhooks``, which knows no models.
"""
from __future__ import annotations

import json
import logging
import random
import secrets
from datetime import timedelta
from typing import Any, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.events import types, webhooks
from helpdesk.events.models import (
    DeliveryStatus,
    Event,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

# Statuses still to be attempted (and the partial index ``delivery_due`` covers).
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
SECRET_MIN_LENGTH = 16
MAX_EVENT_TYPES_PER_WEBHOOK = 100
# The longest wait between two attempts, whatever the backoff or a Retry-After says.
MAX_BACKOFF_SECONDS = 6 * 3600
# A claimed attempt holds the delivery this long past its timeout; after that a crashed
# worker's attempt is due again (and the retry sweep picks it up).
CLAIM_MARGIN_SECONDS = 60
# The retry sweep leaves deliveries alone for this long after they fall due: the task
# queued for them normally claims them first; the sweep is for lost messages.
RETRY_SWEEP_GRACE_SECONDS = 60
RETRY_SWEEP_BATCH = 500


# --- the outbox -----------------------------------------------------------------------


def event_emit(
    *,
    tenant: Tenant,
    type: str,
    subject: Any = None,
    payload: dict | None = None,
    actor: Any = None,
) -> Event:
    """Record ``type`` in the caller's transaction; queue its dispatch for after commit.

    Call inside the service's ``transaction.atomic`` block so the event exists exactly
    when the change it describes does. ``type`` should be registered in ``types``
    (webhooks can only subscribe to registered types). ``payload`` is what webhooks and
    console pushes carry as ``data``: never put secrets in it.
    """
    if not types.is_registered(type):
        logger.warning("event type %r is not registered in helpdesk.events.types", type)
    event = Event.objects.create(
        tenant=tenant,
        type=type,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        actor_id=getattr(actor, "pk", None),
        payload=payload or {},
    )
    from helpdesk.events.dispatch import queue_dispatch

    # robust: the change is committed whatever the broker does; the sweep re-dispatches.
    transaction.on_commit(lambda: queue_dispatch(tenant_id=tenant.pk, event_id=event.pk), robust=True)
    return event


def events_emit_many(*, tenant: Tenant, type: str, items: list[tuple[Any, dict]], actor: Any = None) -> list[Event]:
    """``event_emit`` for a batch of subjects of one tenant: one INSERT and one dispatch task.

    For sweeps that flag hundreds of rows at once (SLA breaches): per-event inserts and
    broker messages would cost more than the work itself. ``items``: (subject, payload).
    """
    if not items:
        return []
    if not types.is_registered(type):
        logger.warning("event type %r is not registered in helpdesk.events.types", type)
    events = Event.objects.bulk_create([
        Event(tenant=tenant, type=type,
              subject_type=subject._meta.label_lower if subject is not None else "",
              subject_id=str(subject.pk) if subject is not None else "",
              actor_id=getattr(actor, "pk", None), payload=payload or {})
        for subject, payload in items
    ])
    events_queue_dispatch(tenant_id=tenant.pk, event_ids=[event.pk for event in events])
    return events


def events_queue_dispatch(*, tenant_id: int, event_ids: list[int]) -> None:
    """After commit, one dispatch task for events of one tenant that were written in bulk
    (``events_emit_many``, or a sweep's own ``INSERT … SELECT``)."""
    from helpdesk.events.dispatch import queue_dispatch_many

    ids = list(event_ids)
    transaction.on_commit(lambda: queue_dispatch_many(tenant_id=tenant_id, event_ids=ids), robust=True)


# --- subscriptions --------------------------------------------------------------------


def _clean_event_types(events: Any) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise ValidationError({"events": [_('Name at least one event type, or "*" for all.')]})
    if len(events) > MAX_EVENT_TYPES_PER_WEBHOOK:
        raise ValidationError({"events": [_("Name at most %(count)d event types.")
                                          % {"count": MAX_EVENT_TYPES_PER_WEBHOOK}]})
    if not all(isinstance(name, str) for name in events):
        raise ValidationError({"events": [_("Event types are strings.")]})
    unknown = types.unknown_event_types(list(events))
    if unknown:
        raise ValidationError({"events": [
            _("Unknown event types: %(unknown)s. Allowed: %(allowed)s.") % {
                "unknown": ", ".join(unknown),
                "allowed": ", ".join([types.WILDCARD, *types.event_type_names()]),
            }
        ]})
    if types.WILDCARD in events:
        return [types.WILDCARD]
    return sorted(set(events))


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise ValidationError({"url": [_("The URL is longer than 2000 characters.")]})
    try:
        webhooks.check_target(url)
    except webhooks.TargetRefused as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    return url


def webhook_public_data(subscription: WebhookSubscription) -> dict:
    """What audit entries and events say about a subscription (never its secret)."""
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "events": list(subscription.events),
        "description": subscription.description,
        "is_active": subscription.is_active,
    }


def webhook_create(
    *,
    tenant: Tenant,
    url: str,
    events: list[str],
    secret: str | None = None,
    description: str = "",
    actor: Any = None,
    audit_meta: Mapping[str, Any] | None = None,
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to ``events``; return the subscription and its secret (shown once).

    The URL is checked by the SSRF guard now (and again at every delivery). Without a
    ``secret`` one is generated.
    """
    events = _clean_event_types(events)
    url = _check_url(url)
    if secret is not None and len(secret) < SECRET_MIN_LENGTH:
        raise ValidationError({"secret": [_("Use a secret of at least %(count)d characters.")
                                          % {"count": SECRET_MIN_LENGTH}]})
    secret = secret or secrets.token_urlsafe(32)
    with transaction.atomic(), tenant_scope(tenant):
        subscription = WebhookSubscription.objects.create(
            tenant=tenant, url=url, events=events, secret=secret, description=description or "")
        data = webhook_public_data(subscription)
        audit_record(tenant=tenant, action="webhook.created", actor=actor, obj=subscription, after=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="webhook.created", subject=subscription, actor=actor, payload=data)
    return subscription, secret


def webhook_update(
    *,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    is_active: bool | None = None,
    description: str | None = None,
    actor: Any = None,
    audit_meta: Mapping[str, Any] | None = None,
) -> WebhookSubscription:
    """Change what is given (None leaves a field alone); a new URL passes the guard again.

    Changes are measured against the stored row, not ``subscription``'s attributes (a
    ModelForm has already copied the new values onto the instance it passes). Returns
    the stored subscription after the change.
    """
    tenant = subscription.tenant
    with tenant_scope(tenant):
        stored = WebhookSubscription.objects.get(pk=subscription.pk)
    changes: dict[str, Any] = {}
    if url is not None and url.strip() != stored.url:
        changes["url"] = _check_url(url)
    if events is not None:
        cleaned = _clean_event_types(events)
        if cleaned != stored.events:
            changes["events"] = cleaned
    if is_active is not None and bool(is_active) != stored.is_active:
        changes["is_active"] = bool(is_active)
    if description is not None and description != stored.description:
        changes["description"] = description
    if not changes:
        return stored
    with transaction.atomic(), tenant_scope(tenant):
        stored = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        before = {name: getattr(stored, name) for name in changes}
        for name, value in changes.items():
            setattr(stored, name, value)
            setattr(subscription, name, value)
        stored.save(update_fields=list(changes))
        audit_record(tenant=tenant, action="webhook.updated", actor=actor, obj=stored, before=before,
                     after=changes, **(audit_meta or {}))
        event_emit(tenant=tenant, type="webhook.updated", subject=stored, actor=actor,
                   payload={**webhook_public_data(stored), "changed": sorted(changes)})
    return stored


def webhook_delete(
    *, subscription: WebhookSubscription, actor: Any = None, audit_meta: Mapping[str, Any] | None = None
) -> None:
    """Delete the subscription and its delivery log."""
    tenant = subscription.tenant
    with transaction.atomic(), tenant_scope(tenant):
        data = webhook_public_data(subscription)
        audit_record(tenant=tenant, action="webhook.deleted", actor=actor, obj=subscription, before=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="webhook.deleted", subject=subscription, actor=actor, payload=data)
        subscription.delete()


def webhook_ping(*, subscription: WebhookSubscription, actor: Any = None) -> WebhookDelivery:
    """Send a ``webhook.ping`` event to this subscription only (whatever types it wants)."""
    if not subscription.is_active:
        raise ValidationError(_("Activate the webhook before sending it a ping."))
    tenant = subscription.tenant
    with transaction.atomic(), tenant_scope(tenant):
        event = event_emit(tenant=tenant, type=types.PING, subject=subscription, actor=actor,
                           payload={"webhook_id": subscription.pk, "url": subscription.url})
        # The fan-out consumer targets pings at their subject too; the unique
        # (subscription, event) row makes both paths one delivery.
        delivery, _created = webhook_deliver_event(subscription=subscription, event=event)
    return delivery


def webhook_redeliver(
    *, delivery: WebhookDelivery, actor: Any = None, audit_meta: Mapping[str, Any] | None = None
) -> WebhookDelivery:
    """Attempt a finished (succeeded or failed) delivery again, with a fresh attempt budget."""
    subscription = delivery.subscription
    if not subscription.is_active:
        raise ValidationError(_("Activate the webhook before redelivering to it."))
    tenant = delivery.tenant
    now = timezone.now()
    with transaction.atomic(), tenant_scope(tenant):
        # Conditional update: two redelivery requests cannot both restart the delivery.
        restarted = WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=(DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED),
        ).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)
        if not restarted:
            raise ValidationError(_("This delivery is still being attempted; wait for it to succeed or fail."))
        audit_record(tenant=tenant, action="webhook.redelivered", actor=actor, obj=subscription,
                     after={"delivery": delivery.pk, "event": delivery.event_id}, **(audit_meta or {}))
        _queue_delivery(tenant_id=tenant.pk, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- fan-out and delivery -------------------------------------------------------------


def _queue_delivery(*, tenant_id: int, delivery_id: int) -> None:
    from helpdesk.events.tasks import deliver_webhook

    # robust: a broker outage must not fail the committed write; the retry sweep sends it.
    transaction.on_commit(lambda: deliver_webhook.delay(tenant_id, delivery_id), robust=True)


def webhook_deliver_event(*, subscription: WebhookSubscription, event: Event) -> tuple[WebhookDelivery, bool]:
    """Target ``event`` at ``subscription`` whatever types it subscribes to (a ping, a trigger's
    "call webhook" action). Idempotent: the unique (subscription, event) row makes this and the
    fan-out consumer one delivery. Returns the delivery and whether it was created."""
    delivery, created = WebhookDelivery.objects.get_or_create(
        subscription=subscription, event=event,
        defaults={"tenant_id": event.tenant_id, "status": DeliveryStatus.PENDING,
                  "next_attempt_at": timezone.now()},
    )
    if created:
        _queue_delivery(tenant_id=event.tenant_id, delivery_id=delivery.pk)
    return delivery, created


def webhook_fan_out(event: Event) -> None:
    """Event consumer: one delivery per active subscription that wants ``event``.

    Idempotent through the unique (subscription, event) row. A subscription receives
    events that happened after it was created; a ping goes to its subject only.
    """
    subscriptions = WebhookSubscription.objects.filter(is_active=True, created_at__lte=event.created_at)
    if event.type == types.PING:
        if not event.subject_id.isdigit():
            return
        subscriptions = subscriptions.filter(pk=int(event.subject_id))
    else:
        subscriptions = [s for s in subscriptions.order_by("pk") if s.wants(event.type)]
    for subscription in subscriptions:
        webhook_deliver_event(subscription=subscription, event=event)


def delivery_body(event: Event, tenant: Tenant) -> bytes:
    """The exact bytes POSTed (and signed): ``{"id", "type", "created_at", "tenant", "data"}``."""
    document = {
        "id": event.pk,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant": tenant.slug,
        "data": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def delivery_headers(*, delivery: WebhookDelivery, event: Event, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": webhooks.USER_AGENT,
        webhooks.SIGNATURE_HEADER: webhooks.sign(secret, body),
        "X-Event-Id": str(event.pk),
        "X-Event-Type": event.type,
        "X-Delivery-Id": str(delivery.pk),
        "X-Delivery-Attempt": str(delivery.attempts + 1),
    }


def backoff_seconds(attempt: int, *, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: base * 2^(attempt-1), +0-10% jitter, capped.

    A receiver's ``Retry-After`` is honoured when it asks for longer.
    """
    base = float(settings.WEBHOOK_BACKOFF_BASE_SECONDS)
    delay = base * (2 ** max(attempt - 1, 0))
    delay += delay * random.uniform(0, 0.1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_BACKOFF_SECONDS)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one HTTP attempt of a due delivery; return it, or None when it was not ours.

    Precondition: run in the delivery's tenant scope, outside a transaction (the POST
    must not hold database locks). The claim is a conditional UPDATE that pushes
    ``next_attempt_at`` past the attempt's timeout, so of two workers holding messages for
    the same delivery (a Celery retry and the sweep's) one sends and the other returns.
    """
    now = timezone.now()
    lease = timedelta(seconds=float(settings.WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN_SECONDS)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=DUE_STATUSES, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + lease)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription", "event", "tenant").get(pk=delivery_id)
    subscription, event = delivery.subscription, delivery.event
    if not subscription.is_active:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.error = _("The webhook was deactivated before this delivery was sent.")
        delivery.save(update_fields=["status", "next_attempt_at", "error"])
        return delivery

    body = delivery_body(event, delivery.tenant)
    headers = delivery_headers(delivery=delivery, event=event, secret=subscription.secret, body=body)
    started_at = timezone.now()
    result = webhooks.post(url=subscription.url, body=body, headers=headers)
    return _record_attempt(delivery=delivery, result=result, started_at=started_at)


@transaction.atomic
def _record_attempt(*, delivery: WebhookDelivery, result: webhooks.AttemptResult,
                    started_at) -> WebhookDelivery:
    number = delivery.attempts + 1
    WebhookDeliveryAttempt.objects.create(
        tenant_id=delivery.tenant_id, delivery=delivery, number=number, started_at=started_at,
        response_status=result.response_status, response_body=result.response_body,
        error=result.error, duration_ms=result.duration_ms,
    )
    finished_at = timezone.now()
    delivery.attempts = number
    delivery.response_status = result.response_status
    delivery.response_body = result.response_body
    delivery.error = result.error
    delivery.duration_ms = result.duration_ms
    if result.outcome is webhooks.Outcome.SUCCEEDED:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = finished_at
        delivery.next_attempt_at = None
    elif result.outcome is webhooks.Outcome.FAILED or number >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = finished_at + timedelta(
            seconds=backoff_seconds(number, retry_after=result.retry_after))
    delivery.save(update_fields=["attempts", "response_status", "response_body", "error", "duration_ms",
                                 "status", "delivered_at", "next_attempt_at"])
    log = logger.info if delivery.status != DeliveryStatus.FAILED else logger.warning
    log("webhook delivery %s attempt %s: %s %s", delivery.pk, number, result.response_status or result.error,
        delivery.status)
    return delivery


def webhook_deliveries_queue_due(*, batch_size: int = RETRY_SWEEP_BATCH,
                                 grace_seconds: float = RETRY_SWEEP_GRACE_SECONDS) -> int:
    """The retry sweep: queue an attempt for deliveries overdue by more than the grace.

    Crosses tenants by design (one sweep for the deployment): a range scan of the partial
    index ``delivery_due``, so its cost follows the deliveries waiting, not the log.
    Queued attempts claim their delivery, so a message that was not lost after all
    costs a no-op, never a second POST.
    """
    from helpdesk.events.tasks import deliver_webhook

    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    with dangerously_unscoped(), transaction.atomic():
        due = list(
            WebhookDelivery.unscoped.select_for_update(skip_locked=True)
            .filter(status__in=DUE_STATUSES, next_attempt_at__lte=cutoff)
            .order_by("next_attempt_at")
            .values_list("tenant_id", "pk")[:batch_size]
        )
        for tenant_id, delivery_id in due:
            transaction.on_commit(
                lambda t=tenant_id, d=delivery_id: deliver_webhook.delay(t, d), robust=True)
    return len(due)
