"""Failed sign-in attempts, counted in the cache per account and client address.

After ``CONSOLE_LOGIN_MAX_FAILURES`` failures within ``CONSOLE_LOGIN_LOCK_SECONDS`` the
pair is locked for that long, even for a correct password or code: guessing stops being
worth it, while the same person on another network (or another account from this one)
is unaffected. The counter lives in Redis in full mode, so every web process shares it.
"""
from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

try:
    from redis.exceptions import ResponseError as RedisResponseError
except ImportError:  # pragma: no cover - redis-py is installed with the project
    RedisResponseError = None

PASSWORD = "password"
CODE = "code"


def window_count(key: str, seconds: int) -> int:
    """Count one more hit of ``key`` in a fixed window of ``seconds`` (starting with its
    first hit) in the shared cache, and return the count so far. Callers put the window's
    identity (an hour's stamp, a tenant) into the key. On Redis one round trip (INCR, then
    EXPIRE NX in the same pipeline), elsewhere the cache's add and incr."""
    client = _redis_client()
    if client is not None:
        full_key = cache.make_and_validate_key(key)
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.incr(full_key)
                pipe.expire(full_key, seconds, nx=True)  # the window starts with its first hit
                count, _started = pipe.execute()
            return int(count)
        except RedisResponseError:  # a Redis before 7.0 has no EXPIRE NX
            pass
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return 1


def _redis_client():
    """The shared cache's Redis client when the cache is Redis (full mode), else None."""
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client") or RedisResponseError is None:
        return None
    return backend.get_client(write=True)


def max_failures() -> int:
    return int(getattr(settings, "CONSOLE_LOGIN_MAX_FAILURES", 5))


def lock_seconds() -> int:
    return int(getattr(settings, "CONSOLE_LOGIN_LOCK_SECONDS", 15 * 60))


def client_ip(request) -> str:
    """The client's address. X-Forwarded-For only counts behind a trusted proxy."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(kind: str, account: str, ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{kind}\0{account.strip().lower()}\0{ip}".encode()).hexdigest()[:40]
    return f"console:fail:{digest}", f"console:lock:{digest}"


def locked_for(*, kind: str, account: str, ip: str) -> int:
    """Seconds until the pair may try again; 0 when it is not locked."""
    _count_key, lock_key = _keys(kind, account, ip)
    until = cache.get(lock_key)
    if not until:
        return 0
    return max(0, math.ceil(until - time.time()))


def record_failure(*, kind: str, account: str, ip: str) -> int:
    """Count one failure; returns the seconds locked (0 while under the limit)."""
    count_key, lock_key = _keys(kind, account, ip)
    window = lock_seconds()
    cache.add(count_key, 0, timeout=window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=window)
        count = 1
    if count >= max_failures():
        cache.set(lock_key, time.time() + window, timeout=window)
        cache.delete(count_key)
        return window
    return 0


def reset(*, kind: str, account: str, ip: str) -> None:
    count_key, lock_key = _keys(kind, account, ip)
    cache.delete_many([count_key, lock_key])


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
