"""A real local HTTP server standing in for a tenant's shop (http.server on a thread).

It checks every request's signature like a shop would and answers with what the test
sets: ``shop.answer(status, body, delay=…)`` or ``shop.answer_json(document)``.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpdesk.people.integrations import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SECRET = "shop-signing-secret-0123456789"


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    signature_ok: bool

    @property
    def document(self) -> dict:
        return json.loads(self.body)


@dataclass
class Shop:
    server: ThreadingHTTPServer
    secret: str = SECRET
    status: int = 200
    body: bytes = b'{"title": "Shop", "sections": []}'
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    # Seconds to keep the connection open after the body (a body that never completes).
    hold: float = 0.0
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/helpdesk"

    def answer(self, status: int = 200, body: bytes = b"", *, delay: float = 0.0, headers: dict | None = None,
               hold: float = 0.0):
        self.status, self.body, self.delay, self.headers, self.hold = status, body, delay, headers or {}, hold

    def answer_json(self, document, status: int = 200, **kwargs):
        self.answer(status, json.dumps(document).encode(), **kwargs)

    @property
    def hits(self) -> int:
        return len(self.requests)


def _handler(shop: Shop):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            ok = verify_signature(secret=shop.secret, body=body, timestamp=self.headers.get(TIMESTAMP_HEADER, ""),
                                  signature=self.headers.get(SIGNATURE_HEADER, ""))
            shop.requests.append(Received(self.path, dict(self.headers.items()), body, ok))
            if shop.delay:
                time.sleep(shop.delay)
            if not ok:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(shop.status)
            for name, value in shop.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in shop.headers:
                self.send_header("Content-Length", str(len(shop.body)))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(shop.body)
                self.wfile.flush()
                if shop.hold:
                    time.sleep(shop.hold)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def shop(settings):
    """A running shop on 127.0.0.1 (private addresses allowed for the test)."""
    settings.INTEGRATIONS_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    state = Shop(server=server)
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/helpdesk"
