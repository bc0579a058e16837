"""OpenAPI additions: how to authenticate, the error body, ``Idempotency-Key`` on POST.

Applied to every operation by a post-processing hook, so later endpoints are documented
the same way without repeating ``extend_schema`` decorators.
"""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from helpdesk.api.idempotency import HEADER as IDEMPOTENCY_HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        scheme["description"] = "An API key of the tenant: `Authorization: Bearer hk_<prefix>_<secret>`."
        return scheme


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.authentication.TenantSessionAuthentication"
    name = "ConsoleSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The agent console's session (browser use; writes need the CSRF token).",
        }


ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every error response.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable error code.",
                         "example": "invalid"},
                "message": {"type": "string", "description": "Human-readable explanation."},
                "fields": {
                    "type": "object",
                    "description": "Messages per field path (dotted for nested fields); empty otherwise.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        },
    },
    "required": ["error"],
}
_RATE_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per window for these credentials.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "Seconds until the window resets.",
}
_ERRORS = {
    "400": "Malformed JSON, unknown fields or invalid values (`malformed_request`, `invalid`).",
    "401": "Missing or invalid credentials (`not_authenticated`).",
    "403": "The credentials lack the scope this operation needs (`permission_denied`).",
    "404": "No such object for this tenant, or no such endpoint (`not_found`).",
    "415": "The body is not `application/json` (`unsupported_media_type`).",
    "429": "Rate limit exceeded (`rate_limited`); retry after `Retry-After` seconds.",
}
_POST_ERRORS = {
    "409": "A request with the same `Idempotency-Key` is still in progress (`idempotency_request_in_progress`).",
    "422": "The `Idempotency-Key` was used for a different request (`idempotency_key_reused`).",
}
_BODY_METHODS = {"post", "put", "patch"}


def _error_response(description: str, *, retry_after: bool = False) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
        }
    return response


def postprocess_api_conventions(result, generator, request, public):
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: document the shared API behaviour."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                if status == "415" and method not in _BODY_METHODS:
                    continue
                if status == "400" and method not in _BODY_METHODS and not operation.get("parameters"):
                    continue
                if status == "404" and "{" not in path:
                    continue
                responses.setdefault(status, _error_response(description, retry_after=status == "429"))
            for status, response in responses.items():
                # A view that documents its own wording for an error status still answers
                # with the one error body.
                if status[0] in "45" and "content" not in response:
                    response["content"] = _error_response("")["content"]
                if status.startswith("2"):
                    headers = response.setdefault("headers", {})
                    for name, description in _RATE_HEADERS.items():
                        headers.setdefault(name, {"description": description, "schema": {"type": "integer"}})
            if method == "post":
                for status, description in _POST_ERRORS.items():
                    responses.setdefault(status, _error_response(description, retry_after=status == "409"))
                for status, response in responses.items():
                    if status.startswith("2"):
                        response["headers"].setdefault(REPLAYED_HEADER, {
                            "description": "`true` when this is the stored response to an earlier request "
                                           "with the same `Idempotency-Key`.",
                            "schema": {"type": "string", "enum": ["true"]},
                        })
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
                    parameters.append({
                        "in": "header",
                        "name": IDEMPOTENCY_HEADER,
                        "required": False,
                        "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                        "description": (
                            "A unique key (for example a UUID) that makes retries safe: a repeat with the "
                            "same key and the same body returns the first response (with "
                            f"`{REPLAYED_HEADER}: true`) instead of acting twice. Keys are kept for "
                            f"{settings.API_IDEMPOTENCY_TTL_SECONDS // 3600} hours per credential."
                        ),
                    })
    return result
