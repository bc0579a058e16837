"""API authentication: ``Authorization: Bearer <api key>`` and the console's session."""
from __future__ import annotations

import hmac
import re
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from helpdesk.tenancy import context
from helpdesk.tenancy.models import API_KEY_PREFIX, ApiKey, hash_api_key
from helpdesk.tenancy.roles import ROLE_SCOPES

LAST_USED_GRANULARITY = timedelta(minutes=1)
_PREFIX_SHAPE = re.compile(r"[0-9a-f]{1,16}")


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
    # "hk_<prefix>_<secret>": the secret is URL-safe base64 and may itself contain "_".
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not _PREFIX_SHAPE.fullmatch(parts[1]):
        return None
    # The key names its tenant: the lookup must cross tenants by design.
    with context.dangerously_unscoped():
        key = ApiKey.unscoped.select_related("tenant").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(raw)):
        return None
    if key.revoked_at is not None or not key.tenant.is_active:
        return None
    return key


def resolve_request_api_key(django_request, raw: str) -> ApiKey | None:
    """The active key ``raw`` names, if it may be used on this request's host.

    A key is valid on its own tenant's hosts and on platform hosts only. The answer is
    remembered on the request: the idempotency layer (middleware) and DRF's
    authentication both ask, and the lookup costs a query.
    """
    cached = getattr(django_request, "_api_key_resolution", None)
    if cached is not None and cached[0] == raw:
        return cached[1]
    key = lookup_api_key(raw)
    if key is not None:
        host_tenant = getattr(django_request, "tenant", None)
        is_platform = getattr(django_request, "is_platform_host", False)
        if host_tenant is not None and host_tenant.pk != key.tenant_id and not is_platform:
            key = None
    django_request._api_key_resolution = (raw, key)
    return key


def bearer_token(django_request) -> str | None:
    """The raw token of ``Authorization: Bearer <token>``; "" if the header is malformed.

    Read from META as text (servers decode header bytes as latin-1); a key is ASCII, so
    anything else is malformed rather than an encoding error.
    """
    header = django_request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if not parts or parts[0].lower() != "bearer":
        return None
    if len(parts) != 2 or not parts[1].isascii() or not parts[1].isprintable():
        return ""
    return parts[1]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <api key>``: the key names its tenant."""

    def authenticate(self, request):
        django_request = request._request
        raw = bearer_token(django_request)
        if raw is None:
            return None
        if raw == "":
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use 'Bearer <api key>'."))
        key = resolve_request_api_key(django_request, raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
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
        membership = getattr(request._request, "membership", None)
        if membership is None or membership.tenant.blocks_without_two_factor(result[0]):
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
