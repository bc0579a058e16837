"""Hands committed events to their consumers, once each, and sweeps up what was missed.

``event_emit`` queues ``tasks.dispatch_event`` after commit. Dispatch locks the event
row (``SKIP LOCKED``: whoever holds it is dispatching it), runs each registered
consumer that has not yet handled the event in its own savepoint, records the ones
that succeeded in ``Event.handled_by``, and sets ``dispatched_at`` when none is left.
The sweep (``events_redispatch_pending``) does the same for events still undispatched
after a grace period: a lost message, a crashed worker or a failing consumer delays
work but loses none.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.db.commit_batch import add_to_commit_batch
from helpdesk.events import registry, types
from helpdesk.events.models import Event
from helpdesk.events.realtime import agents_group
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

# Defaults, overridable in settings (EVENTS_REDISPATCH_GRACE_SECONDS, EVENTS_REDISPATCH_BATCH,
# EVENTS_MAX_DISPATCH_ATTEMPTS); not read from the environment: operators rarely need to.
REDISPATCH_GRACE_SECONDS = 120
REDISPATCH_BATCH = 200
# After this many dispatch runs an event with a consumer that keeps failing is marked
# dispatched (the failure stays in ``dispatch_error`` and the log) so it stops
# occupying the head of the sweep.
MAX_DISPATCH_ATTEMPTS = 20
ERROR_KEEP_CHARS = 2000


def _setting(name: str, default):
    return getattr(settings, name, default)


def queue_dispatch(*, tenant_id: int, event_id: int) -> None:
    """After commit (``event_emit``): the events of one commit and tenant go out as one
    message (``helpdesk.db.commit_batch``): ``dispatch_event`` for one, ``dispatch_events``
    for several (a new ticket from a new customer writes two)."""
    add_to_commit_batch(("events.dispatch", tenant_id), event_id, _publish_dispatch)


def _publish_dispatch(key: tuple[str, int], event_ids: list[int]) -> None:
    from helpdesk.events.tasks import dispatch_event

    tenant_id = key[1]
    if len(event_ids) == 1:
        dispatch_event.delay(tenant_id, event_ids[0])
    else:
        queue_dispatch_many(tenant_id=tenant_id, event_ids=event_ids)


def queue_dispatch_many(*, tenant_id: int, event_ids: list[int]) -> None:
    from helpdesk.events.tasks import dispatch_events

    dispatch_events.delay(tenant_id, event_ids)


def event_dispatch(*, event_id: int) -> Event | None:
    """Dispatch one event of the tenant in context; None when there was nothing to do.

    Nothing to do: the event is already dispatched, does not exist in this tenant, or
    another worker holds its lock (and is dispatching it now).
    """
    with transaction.atomic():
        event = (Event.objects.select_for_update(skip_locked=True)
                 .filter(pk=event_id, dispatched_at__isnull=True).first())
        if event is None:
            return None
        _run_consumers(event)
    return event


def _run_consumers(event: Event) -> None:
    """Precondition: inside a transaction holding ``event``'s row lock, in its tenant's scope."""
    handled = list(event.handled_by or [])
    errors: list[str] = []
    for consumer in registry.consumers_for(event.type):
        if consumer.name in handled:
            continue
        try:
            with transaction.atomic():  # a savepoint: a failing consumer leaves no half-work
                consumer.handle(event)
        except Exception as exc:  # noqa: BLE001 - one consumer's failure must not stop the others
            logger.exception("event consumer %s failed on event %s (%s)", consumer.name, event.pk, event.type)
            errors.append(f"{consumer.name}: {type(exc).__name__}: {exc}")
            continue
        handled.append(consumer.name)
    event.handled_by = handled
    event.dispatch_attempts += 1
    event.dispatch_error = "\n".join(errors)[:ERROR_KEEP_CHARS]
    if not errors:
        event.dispatched_at = timezone.now()
    elif event.dispatch_attempts >= _setting("EVENTS_MAX_DISPATCH_ATTEMPTS", MAX_DISPATCH_ATTEMPTS):
        logger.error("giving up dispatching event %s (%s) after %s attempts: %s", event.pk, event.type,
                     event.dispatch_attempts, event.dispatch_error)
        event.dispatched_at = timezone.now()
    event.save(update_fields=["handled_by", "dispatch_attempts", "dispatch_error", "dispatched_at"])


def events_redispatch_pending(*, grace_seconds: float | None = None, batch_size: int | None = None) -> int:
    """The sweep: dispatch events still undispatched ``grace_seconds`` after they were written.

    Crosses tenants by design (one sweep for the deployment) and runs each event in its
    own tenant's scope. A range scan of the partial index ``event_undispatched`` bounded
    by ``batch_size``: its cost follows the undelivered events, not the table. Rows are
    locked with ``SKIP LOCKED``, so two sweeps (or a sweep and a queued dispatch) never
    handle the same event at once. Returns how many events it dispatched.
    """
    if grace_seconds is None:
        grace_seconds = _setting("EVENTS_REDISPATCH_GRACE_SECONDS", REDISPATCH_GRACE_SECONDS)
    limit = _setting("EVENTS_REDISPATCH_BATCH", REDISPATCH_BATCH) if batch_size is None else batch_size
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    dispatched = 0
    with dangerously_unscoped(), transaction.atomic():
        events = list(
            Event.unscoped.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True, created_at__lte=cutoff)
            .order_by("created_at")[:limit]
        )
        tenants = Tenant.objects.in_bulk({e.tenant_id for e in events})
        for event in events:
            with tenant_scope(tenants[event.tenant_id]):
                try:
                    with transaction.atomic():
                        _run_consumers(event)
                except Exception:  # noqa: BLE001 - one broken event must not block the batch
                    logger.exception("re-dispatching event %s failed", event.pk)
                    continue
            if event.dispatched_at is not None:
                dispatched += 1
    return dispatched


# --- the core consumers -----------------------------------------------------------------


def push_message(event: Event) -> dict:
    """The channel-layer message for the tenant's agents (consumers handle ``event.push``)."""
    return {
        "type": "event.push",
        "event": {
            "id": event.pk,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "data": event.payload,
        },
    }


def push_to_agents(event: Event) -> None:
    """Event consumer: push the event to every console tab of the tenant's agents.

    Channel layers deliver at most once: clients that miss a push reload from the API.
    """
    event_type = types.get_event_type(event.type)
    if event_type is not None and not event_type.push_to_agents:
        return
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(agents_group(event.tenant_id), push_message(event))


def register_core_consumers() -> None:
    from helpdesk.events.services import webhook_fan_out

    registry.register_consumer("webhooks", webhook_fan_out)
    registry.register_consumer("realtime", push_to_agents)
