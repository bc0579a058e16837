"""Default-deny API authorization: every view declares the scope each method needs."""
from __future__ import annotations

from rest_framework import permissions

from helpdesk.api.authentication import granted_scopes
from helpdesk.tenancy.roles import scope_granted


def required_scope(view, request) -> str | None:
    action = getattr(view, "action", None)
    scopes = getattr(view, "scopes", None) or {}
    if action and action in scopes:
        return scopes[action]
    return scopes.get(request.method) or scopes.get("*")


def _no_handler(view, request) -> bool:
    method = request.method.lower()
    return method not in view.http_method_names or not callable(getattr(view, method, None))


class HasTenantScope(permissions.BasePermission):
    """Authenticated, bound to a tenant, and holding the scope the view declares.

    A view declares ``scopes = {"GET": "x:read", "POST": "x:write"}`` (by method or by
    viewset action). A method with no declared scope is refused.
    """

    message = "Your credentials do not allow this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if getattr(request._request, "tenant", None) is None:
            return False
        if _no_handler(view, request):
            return True  # the view answers 405 right after this check; nothing runs
        needed = required_scope(view, request)
        if needed is None:
            return False
        return scope_granted(granted_scopes(request), needed)
