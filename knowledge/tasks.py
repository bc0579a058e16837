"""Celery tasks of the help center: thin, named, idempotent."""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

_DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
             "retry_jitter": True, "max_retries": 5}


@shared_task(name="kb.publish_due", ignore_result=True, **_DB_RETRY)
def publish_due() -> int:
    """Scheduled publishing (beat, every minute): publishes what fell due, across tenants."""
    from knowledge.services.content import translations_publish_due

    return translations_publish_due()
