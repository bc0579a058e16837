"""Resolve the tenant of every request and hold it in context for the request's duration."""
from __future__ import annotations

from django.http import JsonResponse

from helpdesk.tenancy import context
from helpdesk.tenancy.resolution import (
    SESSION_TENANT_KEY,
    is_platform_host,
    membership_for,
    tenant_for_host,
)

# Paths that answer on any host, before any tenant is known.
HOSTLESS_PATHS = ("/healthz", "/readyz", "/static/")
# Probes skip tenant resolution: orchestrators call them on pod IPs, and /healthz must
# answer without the database (a database outage must not restart healthy web processes).
PROBE_PATHS = ("/healthz", "/readyz")


class TenantMiddleware:
    """Sets ``request.tenant`` and ``request.membership`` and the tenant context.

    - Tenant hosts (``acme.<BASE_DOMAIN>`` or a custom domain) fix the tenant.
    - Platform hosts (localhost, 127.0.0.1, BASE_DOMAIN): the console uses the tenant the
      signed-in person chose (tenant switcher); the API finds its tenant from the key.
    - Unknown hosts get 404.
    - Superusers in ``/admin/`` see every tenant.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PROBE_PATHS:
            request.tenant = request.membership = None
            request.is_platform_host = False
            return self.get_response(request)
        host = request.get_host()
        request.tenant = None
        request.membership = None
        request.is_platform_host = is_platform_host(host)
        if not request.is_platform_host:
            request.tenant = tenant_for_host(host)
            if request.tenant is None and not request.path.startswith(HOSTLESS_PATHS):
                return JsonResponse(
                    {"error": {"code": "unknown_host", "message": "No helpdesk is served on this host.",
                               "fields": {}}},
                    status=404,
                )
        user = getattr(request, "user", None)
        if request.is_platform_host and user is not None and user.is_authenticated:
            tenant_id = request.session.get(SESSION_TENANT_KEY)
            if tenant_id:
                membership = _session_membership(user, tenant_id)
                if membership is not None:
                    request.tenant = membership.tenant
                    request.membership = membership
        if request.tenant is not None and request.membership is None:
            request.membership = membership_for(user, request.tenant)

        unscoped = bool(user is not None and user.is_authenticated and user.is_superuser
                        and request.path.startswith("/admin/"))
        tenant_token = context._tenant.set(request.tenant)
        unscoped_token = context._unscoped.set(unscoped)
        try:
            return self.get_response(request)
        finally:
            context._unscoped.reset(unscoped_token)
            context._tenant.reset(tenant_token)


def _session_membership(user, tenant_id):
    from helpdesk.tenancy.context import dangerously_unscoped
    from helpdesk.tenancy.models import Membership

    with dangerously_unscoped():
        return (
            Membership.unscoped.select_related("tenant")
            .filter(user=user, tenant_id=tenant_id, is_active=True, tenant__is_active=True)
            .first()
        )
