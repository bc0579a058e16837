"""Hands committed events to their consumers (filled in by the events work)."""
from __future__ import annotations


def queue_dispatch(*, tenant_id: int, event_id: int) -> None:
    from helpdesk.events.tasks import dispatch_event

    dispatch_event.delay(tenant_id, event_id)
