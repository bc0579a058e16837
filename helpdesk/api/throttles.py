"""Per-credential rate limits kept in the cache (Redis in full mode).

A fixed window per credential: the counter's key names the window (``…:<window index>``)
and is created with an expiry of one window, then incremented atomically. DRF's default
throttle keeps a list of timestamps per client that it reads, edits and writes back (racy
under concurrency, and it grows with the limit); this costs one counter per credential
per window and never loses an increment.

``API_RATE_LIMIT`` is ``"<count>/<period>"`` with period ``s``/``sec``/``m``/``min``/``h``/
``hour``/``d``/``day`` optionally prefixed by a number (``"100/10s"``), or ``"off"``.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from helpdesk.tenancy.models import ApiKey

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class RateLimitState:
    """What the response headers report: the limit, what is left, seconds to the reset."""

    limit: int
    remaining: int
    reset: int


def parse_rate(value: str | None) -> tuple[int, int] | None:
    """``"600/min"`` -> ``(600, 60)``; ``"off"``/empty -> ``None``; anything else is a configuration error."""
    if value is None or value.strip().lower() in {"", "off", "none", "0"}:
        return None
    match = _RATE.match(value)
    if not match:
        raise ImproperlyConfigured(f"API_RATE_LIMIT must look like '600/min', not {value!r}")
    count, multiplier, unit = int(match[1]), int(match[2] or 1), match[3][0].lower()
    if count <= 0 or multiplier <= 0:
        raise ImproperlyConfigured(f"API_RATE_LIMIT must be positive, not {value!r}")
    return count, multiplier * _UNIT_SECONDS[unit]


def rate_limit_hit(*, ident: str, limit: int, period: int, now: float | None = None) -> tuple[bool, RateLimitState]:
    """Count one request for ``ident`` in the current window; return (allowed, state)."""
    now = time.time() if now is None else now
    window = int(now // period)
    key = f"ratelimit:{ident}:{period}:{window}"
    try:
        count = cache.incr(key)
    except ValueError:
        # First request of the window. The key expires with the window; a key that
        # outlived it is never read again because the next window has another name.
        if cache.add(key, 1, timeout=period):
            count = 1
        else:
            count = cache.incr(key)
    reset = max(1, math.ceil((window + 1) * period - now))
    return count <= limit, RateLimitState(limit=limit, remaining=max(0, limit - count), reset=reset)


def credential_ident(request) -> str:
    """Whose budget a request spends: the API key's, else the signed-in person's, else the IP's."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return f"key:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return f"ip:{BaseThrottle().get_ident(request)}"


class ApiKeyRateThrottle(BaseThrottle):
    """DRF throttle over ``rate_limit_hit``; leaves the state on the request for the headers."""

    def __init__(self):
        self._wait: int | None = None

    def allow_request(self, request, view) -> bool:
        rate = parse_rate(settings.API_RATE_LIMIT)
        if rate is None:
            return True
        limit, period = rate
        allowed, state = rate_limit_hit(ident=credential_ident(request), limit=limit, period=period)
        request._request.rate_limit = state
        if not allowed:
            self._wait = state.reset
        return allowed

    def wait(self) -> int | None:
        return self._wait


def rate_limit_headers(state: RateLimitState) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(state.remaining),
        "X-RateLimit-Reset": str(state.reset),
    }
