"""kombu's Redis transport, keeping one publishing client per channel.

``kombu.transport.redis.Channel.conn_or_acquire`` builds a new ``redis.Redis`` for every
message it publishes, and redis-py fills a table of some 170 response callbacks for each
one: a third of the CPU of a ``delay()`` (0.45 ms here; bench/email_ingest.py publishes two
or three per mail). A client is safe to share between threads (its pool hands out the
connections), so the channel keeps one per connection pool: a new pool (after a reconnect
or a fork) gets a new client. ``helpdesk.cache`` does the same for Django's cache.

Settings select it with ``CELERY_BROKER_TRANSPORT`` when the broker is Redis.
"""
from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _publishing_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._publishing_client
        if client is None or client.connection_pool is not self.pool:
            client = self._publishing_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
