"""Shared fixtures: two tenants with agents and API clients, and a tenant-scope helper."""
from __future__ import annotations

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from helpdesk.celery import app as celery_app
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import PASSWORD, TenantFactory, agent_in

# Settings are loaded before this file (pytest-django), so an environment variable set
# here is too late: switch the Celery app itself. Tasks run in the test's thread; tests
# that need a real worker start one.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


def _isolate_xdist_worker() -> None:
    """Each pytest-xdist worker has its own test database, so tenant ids repeat across
    workers: give each its own cache keys (rate limits, idempotency, sign-in lockouts)
    and channel-layer prefix (group names carry tenant ids), or workers see each other's
    counters and pushes. Runs before any cache or layer is first used."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    for cache in settings.CACHES.values():
        cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}-{worker}"
        if "filebased" in cache["BACKEND"]:
            cache["LOCATION"] = f"{cache['LOCATION']}-{worker}"
    for layer in settings.CHANNEL_LAYERS.values():
        if "CONFIG" in layer:
            layer["CONFIG"]["prefix"] = f"{layer['CONFIG'].get('prefix', 'asgi')}-{worker}"


_isolate_xdist_worker()


def clear_cache() -> None:
    """Empty this worker's cache keys only. ``cache.clear()`` on Redis is FLUSHDB, which
    would also wipe the counters of tests running at the same time in other workers."""
    from django.core.cache import cache

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if "RedisCache" in settings.CACHES["default"]["BACKEND"]:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Eager ``apply_async`` sets Celery's process-wide "a join would block" flag for the
    duration of the task and restores it after; tests that create tickets from several
    threads at once interleave those save/restore pairs and can leave it stuck on, which
    makes a later ``.delay().get()`` fail with "Never call result.get() within a task"."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters, sign-in lockouts and stored idempotent responses start empty
    in every test (ids repeat across tests)."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme Ltd")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(slug="globex", name="Globex Corp")


@pytest.fixture
def owner(tenant):
    return agent_in(tenant, role=Role.OWNER, email="owner@acme.test")


@pytest.fixture
def agent(tenant):
    return agent_in(tenant, role=Role.AGENT, email="agent@acme.test")


@pytest.fixture
def other_agent(other_tenant):
    return agent_in(other_tenant, role=Role.AGENT, email="agent@globex.test")


@pytest.fixture
def api_key(tenant):
    key, raw = api_key_create(tenant=tenant, name="tests")
    return raw


@pytest.fixture
def other_api_key(other_tenant):
    key, raw = api_key_create(tenant=other_tenant, name="tests")
    return raw


@pytest.fixture
def api_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api_client(other_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def in_tenant(tenant):
    """Run the test body as ``tenant`` (querysets and RLS scoped to it)."""
    with tenant_scope(tenant):
        yield tenant


@pytest.fixture
def django_assert_num_queries():
    """pytest-django's, counting queries but not transaction control (``tests.queries``)."""
    from tests.queries import assert_num_queries

    return lambda num, **kwargs: assert_num_queries(num, exact=True, **kwargs)


@pytest.fixture
def django_assert_max_num_queries():
    from tests.queries import assert_num_queries

    return lambda num, **kwargs: assert_num_queries(num, exact=False, **kwargs)


class _Inbox:
    """Messages a real SMTP server received (aiosmtpd on a free local port)."""

    def __init__(self):
        self.messages = []
        # Set to an SMTP reply ("451 try later", "550 no such user") to refuse mail.
        self.reply = ""

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        import email
        import email.policy

        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message,
                              "raw": raw})
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def listen():
    """Subscribe a channel of the real channel layer to a group; return a receive(timeout)
    function (``asyncio.TimeoutError`` when nothing comes)."""
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    joined = []

    def join(group):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel)
        joined.append((group, channel))

        async def receive(timeout):
            return await asyncio.wait_for(layer.receive(channel), timeout)

        return lambda timeout=5: async_to_sync(receive)(timeout)

    yield join
    for group, channel in joined:
        async_to_sync(layer.group_discard)(group, channel)
