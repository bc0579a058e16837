"""A real bridge for the connector tests: an HTTP server in a thread that records the reply
webhooks it receives and answers from a script."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Bridge:
    """Records every reply webhook; answers from a script of (status, body, delay)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, str, float]] = []
        self.lock = threading.Lock()
        bridge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with bridge.lock:
                    bridge.requests.append({"headers": dict(self.headers.items()), "body": body, "path": self.path})
                    status, reply, delay = (bridge.script.pop(0) if bridge.script
                                            else (200, json.dumps({"external_id": f"out-{len(bridge.requests)}"}), 0))
                if delay:
                    time.sleep(delay)
                data = reply.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replies"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
