"""API authentication: ``Authorization: Bearer <api key>`` and the console's session."""
from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from helpdesk.tenancy import context
from helpdesk.tenancy.models import ApiKey, hash_api_key
from helpdesk.tenancy.roles import ROLE_SCOPES

LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiKeyUser:
    """``request.user`` for a request made with an API key (no human behind it)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.tenant = key.tenant

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


def lookup_api_key(raw: str) -> ApiKey | None:
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != "hk" or not parts[1]:
        return None
    # The key names its tenant: the lookup must cross tenants by design.
    with context.dangerously_unscoped():
        key = ApiKey.unscoped.select_related("tenant").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(raw)):
        return None
    if key.revoked_at is not None or not key.tenant.is_active:
        return None
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <api key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = lookup_api_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        django_request = request._request
        host_tenant = getattr(django_request, "tenant", None)
        if host_tenant is not None and host_tenant.pk != key.tenant_id and not django_request.is_platform_host:
            # A key is valid on its own tenant's hosts and on platform hosts only.
            raise exceptions.AuthenticationFailed("Invalid API key.")
        django_request.tenant = key.tenant
        django_request.membership = None
        context._tenant.set(key.tenant)
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return ApiKeyUser(key), key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """The console's session, valid only for a member of the request's tenant."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        if getattr(request._request, "membership", None) is None:
            return None
        return result


def granted_scopes(request) -> frozenset[str]:
    """The scopes the request's credentials carry: the key's, or the member's role's."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return frozenset(auth.scopes)
    membership = getattr(request._request, "membership", None)
    if membership is not None:
        return ROLE_SCOPES.get(membership.role, frozenset())
    return frozenset()
