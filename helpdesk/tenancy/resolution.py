"""Finding the tenant: by host name, by session choice on platform hosts, by API key."""
from __future__ import annotations

from django.conf import settings

from helpdesk.tenancy.context import dangerously_unscoped
from helpdesk.tenancy.models import Membership, Tenant, TenantDomain

SESSION_TENANT_KEY = "active_tenant_id"


def strip_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_platform_host(host: str) -> bool:
    return strip_port(host) in {h.lower() for h in settings.PLATFORM_HOSTS}


def tenant_for_host(host: str) -> Tenant | None:
    """The active tenant served on ``host`` (sub-domain of BASE_DOMAIN or custom domain)."""
    host = strip_port(host)
    suffix = "." + settings.BASE_DOMAIN
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if slug and "." not in slug:
            return Tenant.objects.filter(slug=slug, is_active=True).first()
    domain = TenantDomain.objects.select_related("tenant").filter(domain=host, tenant__is_active=True).first()
    return domain.tenant if domain else None


def membership_for(user, tenant: Tenant | None) -> Membership | None:
    if tenant is None or not getattr(user, "is_authenticated", False):
        return None
    # Membership rows are tenant-owned; reading the user's own row for this tenant.
    with dangerously_unscoped():
        return (
            Membership.unscoped.select_related("tenant")
            .filter(user=user, tenant=tenant, is_active=True)
            .first()
        )


def memberships_of(user) -> list[Membership]:
    """Every active tenant the user belongs to (the tenant switcher's list)."""
    if not getattr(user, "is_authenticated", False):
        return []
    with dangerously_unscoped():
        return list(
            Membership.unscoped.select_related("tenant")
            .filter(user=user, is_active=True, tenant__is_active=True)
            .order_by("tenant__name")
        )
