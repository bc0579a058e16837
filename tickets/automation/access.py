"""Who may change triggers and automations: tenant-wide rules, so administrators.

People need ``Cap.SETTINGS_MANAGE`` (owners, admins); API keys need ``settings:write``; the
system (no actor, e.g. a new tenant's defaults) may always.
"""
from __future__ import annotations

from typing import Any

from helpdesk.tenancy.models import Tenant


def require_manage(*, tenant: Tenant, actor: Any) -> None:
    from tickets.services.common import require_settings_manage

    require_settings_manage(tenant=tenant, actor=actor)


def person(actor: Any):
    """The User behind ``actor``, or None for an API key or the system."""
    if actor is None or getattr(actor, "api_key", None) is not None or not getattr(actor, "pk", None):
        return None
    return actor
