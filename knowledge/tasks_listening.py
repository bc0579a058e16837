"""Celery tasks of the listening reports: thin, named, idempotent."""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

_DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
             "retry_jitter": True, "max_retries": 5}


@shared_task(name="kb.gaps_refresh_all", ignore_result=True, **_DB_RETRY)
def gaps_refresh_all() -> int:
    """Beat: queue a gap refresh for every active tenant (each reads only its new searches)."""
    from helpdesk.tenancy.models import Tenant

    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        gaps_refresh.delay(tenant_id)
    return len(ids)


@shared_task(name="kb.gaps_refresh", ignore_result=True, **_DB_RETRY)
def gaps_refresh(tenant_id: int) -> int:
    """Read one tenant's searches since its last refresh into content gaps."""
    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.models import Tenant
    from knowledge.services.gaps import content_gaps_refresh

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return 0
    with tenant_scope(tenant):
        return content_gaps_refresh(tenant=tenant)


@shared_task(name="kb.content_health_notify", ignore_result=True, **_DB_RETRY)
def content_health_notify() -> int:
    """Beat (several times a day): each article owner gets this week's content-health notice
    once; later runs of the same week find them told (``ContentHealthNotice``)."""
    from knowledge.services.health import content_health_notify_all

    return content_health_notify_all()
