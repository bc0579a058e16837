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
