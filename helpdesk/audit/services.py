from __future__ import annotations

from typing import Any

from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.models import Tenant


def audit_record(
    *,
    tenant: Tenant,
    action: str,
    actor: Any = None,
    actor_label: str = "",
    obj: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> AuditEntry:
    """Append one audit entry; call inside the service transaction that made the change."""
    return AuditEntry.objects.create(
        tenant=tenant,
        actor=actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label or (str(actor) if actor is not None else ""),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before or {},
        after=after or {},
        ip_address=ip_address,
        user_agent=(user_agent or "")[:300],
    )


def request_meta(request) -> dict:
    """The IP and user agent of an HTTP request, for ``audit_record(**request_meta(request))``."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return {"ip_address": ip or None, "user_agent": request.META.get("HTTP_USER_AGENT", "")}
