"""Writing events (the outbox). Dispatch happens after commit, see ``dispatch``."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from helpdesk.events.models import Event
from helpdesk.tenancy.models import Tenant


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
    when the change it describes does.
    """
    event = Event.objects.create(
        tenant=tenant,
        type=type,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        actor_id=getattr(actor, "pk", None),
        payload=payload or {},
    )
    from helpdesk.events.dispatch import queue_dispatch

    transaction.on_commit(lambda: queue_dispatch(tenant_id=tenant.pk, event_id=event.pk))
    return event
