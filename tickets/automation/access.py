"""Who may change triggers and automations: tenant-wide rules, so administrators.

People need ``Cap.SETTINGS_MANAGE`` (owners, admins); API keys need ``tickets:write`` (an
admin issued the key, and the endpoint checked the scope already); the system (no actor,
e.g. a new tenant's defaults) may always.
"""
from __future__ import annotations

from typing import Any

from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import Cap
from tickets.models import Via


def require_manage(*, tenant: Tenant, actor: Any) -> None:
    from tickets.services.common import require_capability

    require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via=Via.SYSTEM)


def person(actor: Any):
    """The User behind ``actor``, or None for an API key or the system."""
    if actor is None or getattr(actor, "api_key", None) is not None or not getattr(actor, "pk", None):
        return None
    return actor
