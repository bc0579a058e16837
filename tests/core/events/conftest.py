"""A real HTTP receiver on 127.0.0.1 for webhook tests, and helpers to emit events."""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from helpdesk.events.models import WebhookSubscription
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (the timeout test) is expected, not a failure to print.
        pass


class Receiver:
    """Records every request; answers with the queued replies, then with ``default``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    reply = receiver.replies.popleft() if receiver.replies else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST  # a followed redirect would arrive as a GET

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, *replies: Reply | int) -> None:
        for item in replies:
            self.replies.append(item if isinstance(item, Reply) else Reply(status=item))


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks inline. tests/conftest.py sets CELERY_TASK_ALWAYS_EAGER in the environment,
    but pytest-django may configure Django (and Celery reads its settings) before that
    conftest is imported, so say it to the Celery app as well."""
    from helpdesk.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def allow_private(settings):
    """The receiver lives on loopback: let webhooks reach it for this test."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return settings


@pytest.fixture
def deny_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    return settings


@pytest.fixture
def subscribe(tenant):
    """Create a subscription directly (bypassing the URL guard, which the API tests cover)."""

    def make(url: str, events: list[str] | None = None, *, secret: str = "s3cret-s3cret-s3cret",
             of=None, is_active: bool = True) -> WebhookSubscription:
        owner = of or tenant
        with tenant_scope(owner):
            return WebhookSubscription.objects.create(tenant=owner, url=url, events=events or ["*"],
                                                      secret=secret, is_active=is_active)

    return make


@pytest.fixture
def emit(django_capture_on_commit_callbacks, tenant):
    """Emit an event in a transaction and run what is queued on its commit (dispatch, deliveries)."""

    def do(type: str = "tenant.created", payload: dict | None = None, *, of=None, subject=None):
        owner = of or tenant
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic(), tenant_scope(owner):
                event = event_emit(tenant=owner, type=type, payload=payload or {"n": 1}, subject=subject)
        with tenant_scope(owner):
            event.refresh_from_db()
        return event

    return do
