"""The tenant's active SLA policies, kept in each process between changes.

Every SLA hook (each ticket change) needs the policies in matching order with their targets,
calendars and holidays: three queries that almost never change answer. Each process keeps
the list per tenant together with a version token held in the shared cache (Redis in full
mode). A change to a policy, target, calendar or holiday deletes the token **after its
transaction commits** (every process then reloads on its next use) and drops this
process's copy at once, so a process reading inside its own uncommitted change never
trusts a copy. No token in the cache (a restart, a flush, a cache outage) means reload.
"""
from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

MAX_TENANTS = 5000

_local: dict[int, tuple[str, list]] = {}
# Tenants this process changed in a transaction that has not committed (yet): no caching.
_dirty: set[int] = set()


def _key(tenant_id: int) -> str:
    return f"sla:policies:v:{tenant_id}"


def sla_policies_changed(tenant_id: int | None) -> None:
    """Call after any write to a tenant's policies, targets, calendars or holidays that does
    not go through ``save()``/``delete()`` (``bulk_create``, ``update``); signals cover those."""
    if tenant_id is None:
        return
    _local.pop(tenant_id, None)
    _dirty.add(tenant_id)

    def committed() -> None:
        cache.delete(_key(tenant_id))
        _dirty.discard(tenant_id)
        _local.pop(tenant_id, None)

    transaction.on_commit(committed)


def cached_active_policies(*, tenant_id: int) -> list:
    """``selectors.active_policies()`` for the tenant in scope, from this process's copy
    when the shared version says it is current."""
    from tickets.sla.selectors import active_policies

    if tenant_id in _dirty:
        return list(active_policies())
    key = _key(tenant_id)
    try:
        version = cache.get(key)
        if version is None:
            cache.add(key, secrets.token_hex(8), timeout=None)
            version = cache.get(key)
    except Exception:  # noqa: BLE001 - no shared cache: correct, just uncached
        version = None
    if version is None:
        return list(active_policies())
    held = _local.get(tenant_id)
    if held is not None and held[0] == version:
        return held[1]
    policies = list(active_policies())
    if len(_local) >= MAX_TENANTS:
        _local.clear()
    _local[tenant_id] = (version, policies)
    return policies


def _on_change(sender, instance, **kwargs) -> None:
    sla_policies_changed(getattr(instance, "tenant_id", None))


def connect() -> None:
    from helpdesk.calendars.models import BusinessCalendar, Holiday
    from tickets.models import SlaPolicy, SlaTarget

    for model in (SlaPolicy, SlaTarget, BusinessCalendar, Holiday):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"sla-policies-{model.__name__}-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"sla-policies-{model.__name__}-delete")
