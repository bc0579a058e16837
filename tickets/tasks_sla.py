"""Celery task of the SLA sweep (beat, every minute). Thin: the service does the work.

Idempotent by construction (a flagged timer leaves the sweep's index); database trouble is
retried with backoff, and a run that is lost is made up by the next one a minute later.
"""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tickets.sla.sweep import sla_sweep as _sla_sweep


@shared_task(name="tickets.sla_sweep", ignore_result=True, autoretry_for=(OperationalError, InterfaceError),
             retry_backoff=5, retry_backoff_max=60, retry_jitter=True, max_retries=3)
def sla_sweep() -> dict:
    """Flag SLA warnings and breaches that fell due, across tenants; returns the counts."""
    result = _sla_sweep()
    return {"breached": result.breached, "warned": result.warned}
