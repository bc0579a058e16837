"""One error body for every API failure: ``{"error": {"code", "message", "fields"}}``.

``code`` is stable and meant for programs; ``message`` is for people (translated);
``fields`` maps a field path (``"name"``, ``"items.0.price"``) to its messages and is
``{}`` when the error is not about fields. Everything under ``/api/`` answers this way:
DRF views through ``exception_handler``, the idempotency layer and unknown URLs through
``error_response``.
"""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext, gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from helpdesk.tenancy.context import NoTenant

logger = logging.getLogger(__name__)

# First match wins (subclasses before their bases).
_CODES: tuple[tuple[type[Exception], str], ...] = (
    (exceptions.ParseError, "malformed_request"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.ValidationError, "invalid"),
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with an existing record (for example a duplicate).")
    default_code = "conflict"


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def error_response(code: str, message: str, *, status_code: int, fields: dict | None = None,
                   headers: dict | None = None) -> JsonResponse:
    """The error body as a plain Django response, for code that runs outside DRF views."""
    return JsonResponse(error_body(code, message, fields), status=status_code, headers=headers)


def flatten_errors(detail) -> dict[str, list[str]]:
    """DRF's nested ValidationError detail -> ``{"field": ["message", ...]}`` (nested dotted)."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
                    walk(prefix, item)  # a nested object's own errors belong to its field
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and all(isinstance(v, (str, exceptions.ErrorDetail)) for v in value):
            fields.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                # A list serializer reports {} for the items that were fine: skip them.
                if item:
                    walk(f"{prefix}.{index}" if prefix else str(index), item)
        else:
            fields.setdefault(prefix or api_settings.NON_FIELD_ERRORS_KEY, []).append(str(value))

    walk("", detail)
    return fields


def _code_for(exc: Exception) -> str:
    if isinstance(exc, exceptions.APIException) and not isinstance(exc, tuple(c for c, _code in _CODES)):
        # Our own APIException subclasses name their code (e.g. request_too_large).
        return exc.default_code
    return next((code for cls, code in _CODES if isinstance(exc, cls)), "error")


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every handled error gets the one body shape."""
    if isinstance(exc, IntegrityError):
        # A constraint the validation did not foresee (typically two requests racing to
        # create the same thing): the client's request conflicts with the data, retrying
        # as-is will not help, and nothing was written (the atomic block rolled back).
        logger.warning("API request hit a database constraint: %s", exc)
        exc = Conflict()
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads JSON bodies through request.body, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.
        from helpdesk.api.parsers import RequestTooLarge

        exc = RequestTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, (PermissionDenied, NoTenant)):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _code_for(exc)
    if isinstance(exc, exceptions.NotFound):
        # Never say why (another tenant's object and a missing one look the same).
        body = error_body("not_found", gettext("Not found."))
    elif isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        only_general = set(fields) <= {api_settings.NON_FIELD_ERRORS_KEY}
        message = (
            fields[api_settings.NON_FIELD_ERRORS_KEY][0] if only_general and fields
            else gettext("The request has invalid fields.")
        )
        body = error_body(code, message, fields)
    else:
        detail = exc.detail
        if isinstance(detail, dict):
            body = error_body(code, gettext("The request failed."), flatten_errors(detail))
        elif isinstance(detail, list):
            body = error_body(code, " ".join(str(item) for item in detail))
        else:
            body = error_body(code, str(detail))
    response.data = body
    return response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Catch-all under ``/api/``: an unknown URL is a JSON 404, never Django's HTML page."""
    message = gettext("No API endpoint at this address.")
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/", getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            message = gettext("No API endpoint at this address; did you mean %(path)s?") % {
                "path": request.path + "/"
            }
    return error_response("not_found", message, status_code=status.HTTP_404_NOT_FOUND)


def not_found_json(request, exception=None):
    return error_response("not_found", gettext("Not found."), status_code=status.HTTP_404_NOT_FOUND)
