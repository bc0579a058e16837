"""Handing stored rows to Celery: after commit, and a broker outage is never an error.

Every row the channels write first (inbound mail, a bridge's message, an outgoing mail or
delivery) has a sweep that finds it when its task was never published; so a publish that
fails is logged and left to that sweep.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from helpdesk.tenancy.context import dangerously_unscoped

logger = logging.getLogger(__name__)
BROKER_ERRORS = (BrokerError, ConnectionError)


def publish(task_name: str, tenant_id: int, row_id: int, *, what: str) -> None:
    """``channels_hub.tasks.<task_name>.delay(tenant_id, row_id)``, or a warning when the
    broker is down (``what`` names the row for the log)."""
    from channels_hub import tasks

    try:
        getattr(tasks, task_name).delay(tenant_id, row_id)
    except BROKER_ERRORS:
        logger.warning("could not queue %s %s; its sweep will take it", what, row_id)


def unprocessed(model, *, status: str, grace_seconds: int, max_attempts: int, now=None,
                limit: int = 200) -> list[tuple[int, int]]:
    """(tenant id, row id) of ``model`` rows still in ``status`` after the grace period,
    oldest first, across tenants (their task was lost). Each model keeps a partial index on
    ``received_at`` for that status, so this is a range scan."""
    now = now or timezone.now()
    with dangerously_unscoped():
        return list(model.unscoped.filter(status=status, received_at__lte=now - timedelta(seconds=grace_seconds),
                                          attempts__lt=max_attempts)
                    .order_by("received_at").values_list("tenant_id", "pk")[:limit])
