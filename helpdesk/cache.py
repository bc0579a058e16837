"""Django's Redis cache backend, keeping one client per connection pool.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis``
for every cache operation, and redis-py fills a table of some 200 response callbacks for each
one: about 0.07 ms, as much CPU as the round trip itself, several times per request or task
(bench/email_ingest.py: five per mail). A client is safe to share between threads (its pool
hands out the connections), so one per pool is kept and reused.
"""
from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with the client reused (see above)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient
