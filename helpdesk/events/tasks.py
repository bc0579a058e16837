from __future__ import annotations

from celery import shared_task


@shared_task(name="events.dispatch_event", ignore_result=True)
def dispatch_event(tenant_id: int, event_id: int) -> None:
    pass
