"""API concerns that wrap whole responses: ``Idempotency-Key`` replays and rate-limit headers.

A middleware rather than a view base class so every POST under ``/api/v1/`` gets
idempotency without opting in, whatever DRF class a later endpoint uses. It runs after
``TenantMiddleware`` (the session's tenant is known) and identifies the credential the
same way DRF's authentication will (``resolve_request_api_key`` is shared and remembered
on the request), so an unauthenticated request passes straight through to get its 401.
"""
from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext
from rest_framework.authentication import CSRFCheck

from helpdesk.api import idempotency
from helpdesk.api.authentication import bearer_token, resolve_request_api_key
from helpdesk.api.errors import error_response
from helpdesk.api.throttles import rate_limit_headers

API_PREFIX = "/api/"
IDEMPOTENT_PREFIX = "/api/v1/"


def _csrf_ok(request) -> bool:
    """The check DRF's SessionAuthentication makes, so a replay needs what a first call needs."""
    check = CSRFCheck(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None


def request_credential(request) -> tuple[int, str] | None:
    """(tenant id, credential id) of a request DRF would authenticate, else None."""
    raw = bearer_token(request)
    if raw is not None:
        key = resolve_request_api_key(request, raw) if raw else None
        return (key.tenant_id, f"key:{key.pk}") if key is not None else None
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    if user is None or not user.is_authenticated or membership is None:
        return None
    if not _csrf_ok(request):
        return None
    return membership.tenant_id, f"user:{user.pk}"


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if (request.method == "POST" and request.path_info.startswith(IDEMPOTENT_PREFIX)
                and idempotency.META_KEY in request.META):
            response = self._idempotent(request)
        else:
            response = self.get_response(request)
        state = getattr(request, "rate_limit", None)
        if state is not None:
            for name, value in rate_limit_headers(state).items():
                response.headers.setdefault(name, value)
        return response

    def _idempotent(self, request):
        key = idempotency.validate_key(request.META[idempotency.META_KEY])
        if key is None:
            return idempotency.invalid_key_response()
        credential = request_credential(request)
        if credential is None:
            return self.get_response(request)
        try:
            request.body  # noqa: B018 - read (and size-check) the body once, before the view
        except RequestDataTooBig:
            return error_response("request_too_large", gettext("The request body is too large."), status_code=413)
        tenant_id, credential_id = credential
        return idempotency.run_idempotent(
            request=request, key=key, tenant_id=tenant_id, credential=credential_id,
            get_response=self.get_response,
        )
