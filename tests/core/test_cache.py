"""The Redis cache backend reuses one client (Django's builds one per operation)."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.skipif("RedisCache" not in settings.CACHES["default"]["BACKEND"],
                                reason="full mode only (Redis)")


def test_one_client_serves_every_operation():
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is client
    cache.set("reuse-check", {"n": 1}, timeout=10)
    assert cache.get("reuse-check") == {"n": 1}
    assert cache.add("reuse-count", 0, timeout=10) and cache.incr("reuse-count") == 1
    cache.delete_many(["reuse-check", "reuse-count"])
    assert cache.get("reuse-check") is None
    assert cache._cache.get_client() is client


def test_window_count_is_one_round_trip_and_the_window_starts_with_the_first_hit():
    from helpdesk.console.ratelimit import _redis_client, window_count

    client = _redis_client()
    assert client is not None
    key = "window-check"
    full_key = cache.make_and_validate_key(key)
    cache.delete(key)
    assert [window_count(key, 100) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3  # what Django's cache reads back
    client.expire(full_key, 50)
    assert window_count(key, 100) == 4 and client.ttl(full_key) <= 50  # not restarted by later hits
    cache.delete(key)
