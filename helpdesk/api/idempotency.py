"""``Idempotency-Key`` on POST: a retried request replays the first response.

Applied by ``ApiMiddleware`` to every POST under ``/api/v1/``, so every endpoint gets it
without opting in. The stored entry is keyed by tenant + credential + key, so two
integrators (or two keys of one tenant) cannot see each other's responses.

- First request: an in-flight marker is added atomically (``cache.add``), the view runs,
  and its response (status, body, selected headers) is kept for
  ``API_IDEMPOTENCY_TTL_SECONDS`` if it is final (see ``is_storable``).
- Same key, same request: the stored response, with ``Idempotent-Replayed: true``; the
  view does not run again.
- Same key, different request (method, path, query or body): 422 ``idempotency_key_reused``.
- Same key while the first is still running: 409 ``idempotency_request_in_progress``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext

from helpdesk.api.errors import error_response

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Headers of the first response that a replay repeats.
STORED_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified")
# 4xx outcomes that describe the moment rather than the request (the client should be able
# to retry them with the same key): unauthenticated, forbidden, a conflict, throttled.
TRANSIENT_STATUSES = frozenset({401, 403, 408, 409, 423, 425, 429})


def lock_seconds() -> int:
    """How long an in-flight marker lives if its request dies without clearing it."""
    return int(getattr(settings, "API_IDEMPOTENCY_LOCK_SECONDS", 60))


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]

    def replay(self) -> HttpResponse:
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response[name] = value
        response[REPLAYED_HEADER] = "true"
        return response


def validate_key(raw: str) -> str | None:
    """The key, or None if it is unusable (empty, too long, not printable ASCII)."""
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return None
    return key


def invalid_key_response() -> HttpResponse:
    return error_response(
        "invalid_idempotency_key",
        gettext("The Idempotency-Key header must be 1 to %(max)d printable ASCII characters.")
        % {"max": MAX_KEY_LENGTH},
        status_code=400,
        fields={HEADER: [gettext("Invalid value.")]},
    )


def fingerprint(*, method: str, full_path: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), full_path.encode(), content_type.encode()):
        digest.update(part)
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def cache_key(*, tenant_id: int, credential: str, key: str) -> str:
    hashed = hashlib.sha256(key.encode()).hexdigest()
    return f"idempotency:{tenant_id}:{credential}:{hashed}"


def is_storable(response: HttpResponse) -> bool:
    """2xx and 4xx are final answers to the request; 5xx and transient 4xx are not."""
    if response.streaming:
        return False
    status = response.status_code
    return 200 <= status < 300 or (400 <= status < 500 and status not in TRANSIENT_STATUSES)


def _reused() -> HttpResponse:
    return error_response(
        "idempotency_key_reused",
        gettext("This Idempotency-Key was already used for a different request."),
        status_code=422,
    )


def _in_progress() -> HttpResponse:
    return error_response(
        "idempotency_request_in_progress",
        gettext("A request with this Idempotency-Key is still being processed; retry later."),
        status_code=409,
        headers={"Retry-After": "1"},
    )


def _answer_from_store(entry: StoredResponse, request_fingerprint: str) -> HttpResponse:
    if entry.fingerprint != request_fingerprint:
        return _reused()
    return entry.replay()


def run_idempotent(*, request, key: str, tenant_id: int, credential: str, get_response) -> HttpResponse:
    """Answer ``request`` at most once per (tenant, credential, key); see the module doc."""
    request_fp = fingerprint(
        method=request.method,
        full_path=request.get_full_path(),
        content_type=request.META.get("CONTENT_TYPE", ""),
        body=request.body,
    )
    store_key = cache_key(tenant_id=tenant_id, credential=credential, key=key)
    lock_key = f"{store_key}:lock"

    entry = cache.get(store_key)
    if entry is not None:
        return _answer_from_store(entry, request_fp)
    if not cache.add(lock_key, request_fp, timeout=lock_seconds()):
        # Someone holds the key: either it just finished (answer from the store) or it runs.
        entry = cache.get(store_key)
        if entry is not None:
            return _answer_from_store(entry, request_fp)
        if cache.get(lock_key) not in (None, request_fp):
            return _reused()
        return _in_progress()
    try:
        response = get_response(request)
        if is_storable(response):
            headers = tuple((name, response[name]) for name in STORED_HEADERS if response.has_header(name))
            cache.set(
                store_key,
                StoredResponse(fingerprint=request_fp, status=response.status_code, content=response.content,
                               headers=headers),
                timeout=settings.API_IDEMPOTENCY_TTL_SECONDS,
            )
        return response
    finally:
        cache.delete(lock_key)
