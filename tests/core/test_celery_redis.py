"""The Celery broker transport on Redis reuses one publishing client per channel (kombu's
builds one per message) and still carries messages both ways."""
from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from helpdesk.celery import app
from helpdesk.celery_redis import Channel, Transport

pytestmark = pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis://"),
                                reason="full mode only (Redis broker)")


def test_the_app_publishes_through_the_reusing_transport():
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second


def test_messages_go_out_and_come_back_through_it():
    name = f"helpdesk-test-{uuid.uuid4().hex}"
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(name)
        try:
            for n in range(3):
                queue.put({"n": n})
            received = []
            for _ in range(3):
                message = queue.get(timeout=5)
                received.append(message.payload["n"])
                message.ack()
            assert received == [0, 1, 2]
        finally:
            queue.queue.delete()
            queue.close()


def test_a_new_connection_pool_gets_a_new_client():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as before:
            pass
        channel._disconnect_pools()
        with channel.conn_or_acquire() as after:
            assert after is not before and after.connection_pool is channel.pool
            assert after.ping()
