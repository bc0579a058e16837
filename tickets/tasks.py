"""Celery tasks of tickets: thin, named, idempotent."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tickets.services import tickets_close_solved

logger = logging.getLogger(__name__)

_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
          "retry_jitter": True, "max_retries": 5}


@shared_task(name="tickets.close_solved", ignore_result=True, **_RETRY)
def close_solved_tickets() -> int:
    """Beat job: close solved tickets whose tenant's days have passed (all tenants; a ticket
    locked by a concurrent run is skipped, so overlapping runs are harmless)."""
    closed = tickets_close_solved()
    if closed:
        logger.info("closed %d solved tickets", closed)
    return closed
