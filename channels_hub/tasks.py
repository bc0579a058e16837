"""Celery tasks of the email channel: thin, named, tenant id first, idempotent.

Retry policy: database trouble is retried with backoff. Mail-server trouble is not a task
retry: ``outbound_send`` records the failure and the next attempt time on the row, and the
``email.send_due`` sweep (every 30 s) sends what is due, so a lost task or a dead broker
delays mail but loses none. Inbound mail is the same: ``email.process_stuck`` picks up
stored mail whose processing task never ran.
"""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant

_DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
             "retry_jitter": True, "max_retries": 5}


def _tenant(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


@shared_task(name="email.process_inbound", ignore_result=True, **_DB_RETRY)
def process_inbound(tenant_id: int, inbound_id: int) -> str | None:
    from channels_hub.services.inbound import inbound_process

    tenant = _tenant(tenant_id)
    if tenant is None:
        return None
    with tenant_scope(tenant):
        inbound = inbound_process(inbound_id=inbound_id)
        return inbound.status if inbound is not None else None


@shared_task(name="email.process_stuck", ignore_result=True, **_DB_RETRY)
def process_stuck() -> int:
    from channels_hub.services.inbound import inbound_stuck

    rows = inbound_stuck()
    for tenant_id, inbound_id in rows:
        process_inbound.delay(tenant_id, inbound_id)
    return len(rows)


@shared_task(name="email.send_outbound", ignore_result=True, **_DB_RETRY)
def send_outbound(tenant_id: int, outbound_id: int) -> str | None:
    from channels_hub.services.outbox import outbound_send

    tenant = _tenant(tenant_id)
    if tenant is None:
        return None
    with tenant_scope(tenant):
        return outbound_send(outbound_id=outbound_id)


@shared_task(name="email.send_due", ignore_result=True, **_DB_RETRY)
def send_due() -> int:
    from channels_hub.services.outbox import outbound_due

    rows = outbound_due()
    for tenant_id, outbound_id in rows:
        send_outbound.delay(tenant_id, outbound_id)
    return len(rows)


@shared_task(name="email.poll_due", ignore_result=True, **_DB_RETRY)
def poll_due() -> int:
    """Beat, every 30 s: queue a poll of each mailbox whose interval has passed."""
    from channels_hub.services.imap_poll import channels_due_for_poll

    rows = channels_due_for_poll()
    for tenant_id, channel_id in rows:
        poll_channel.delay(tenant_id, channel_id)
    return len(rows)


@shared_task(name="email.poll_channel", ignore_result=True, **_DB_RETRY)
def poll_channel(tenant_id: int, channel_id: int) -> dict:
    from channels_hub.models import Channel
    from channels_hub.services.imap_poll import channel_poll

    tenant = _tenant(tenant_id)
    if tenant is None:
        return {}
    with tenant_scope(tenant):
        channel = Channel.objects.filter(pk=channel_id, is_active=True).first()
        if channel is None or not channel.polls_imap:
            return {}
        return channel_poll(channel=channel)


# --- connector channels (bridges): the same shape, see channels_hub/services/connector.py ---

@shared_task(name="connector.process_inbound", ignore_result=True, **_DB_RETRY)
def connector_process_inbound(tenant_id: int, inbound_id: int) -> str | None:
    from channels_hub.services.connector import connector_inbound_process

    tenant = _tenant(tenant_id)
    if tenant is None:
        return None
    with tenant_scope(tenant):
        inbound = connector_inbound_process(inbound_id=inbound_id)
        return inbound.status if inbound is not None else None


@shared_task(name="connector.process_stuck", ignore_result=True, **_DB_RETRY)
def connector_process_stuck() -> int:
    from channels_hub.services.connector import connector_inbound_stuck

    rows = connector_inbound_stuck()
    for tenant_id, inbound_id in rows:
        connector_process_inbound.delay(tenant_id, inbound_id)
    return len(rows)


@shared_task(name="connector.send_delivery", ignore_result=True, **_DB_RETRY)
def connector_send_delivery(tenant_id: int, delivery_id: int) -> str | None:
    from channels_hub.services.connector import connector_delivery_send

    tenant = _tenant(tenant_id)
    if tenant is None:
        return None
    with tenant_scope(tenant):
        delivery = connector_delivery_send(delivery_id=delivery_id)
        return delivery.status if delivery is not None else None


@shared_task(name="connector.send_due", ignore_result=True, **_DB_RETRY)
def connector_send_due() -> int:
    from channels_hub.services.connector import connector_deliveries_due

    rows = connector_deliveries_due()
    for tenant_id, delivery_id in rows:
        connector_send_delivery.delay(tenant_id, delivery_id)
    return len(rows)
