"""Which tenant a person works in on platform hosts (localhost, 127.0.0.1).

On a tenant's own host the host decides. On platform hosts the session holds the choice
(``SESSION_TENANT_KEY``, read by ``TenantMiddleware``); a signed cookie remembers the
last one across sign-ins, so the next sign-in lands where the person left off.
"""
from __future__ import annotations

from django.core import signing

from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY, memberships_of

LAST_TENANT_COOKIE = "helpdesk_last_tenant"
_SALT = "helpdesk.console.last-tenant"
_MAX_AGE = 180 * 24 * 3600


def last_tenant_id(request) -> int | None:
    raw = request.COOKIES.get(LAST_TENANT_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_SALT, max_age=_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("u") != request.user.pk:
        return None
    return value.get("t") if isinstance(value.get("t"), int) else None


def remember_tenant(response, *, user, tenant_id: int) -> None:
    response.set_cookie(LAST_TENANT_COOKIE, signing.dumps({"u": user.pk, "t": tenant_id}, salt=_SALT),
                        max_age=_MAX_AGE, httponly=True, samesite="Lax")


def preferred_membership(request, memberships: list[Membership] | None = None) -> Membership | None:
    """The last-used tenant if the person still belongs to it, else the first by name."""
    memberships = memberships_of(request.user) if memberships is None else memberships
    if not memberships:
        return None
    wanted = last_tenant_id(request)
    return next((m for m in memberships if m.tenant_id == wanted), memberships[0])


def activate_tenant(request, membership: Membership) -> None:
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
