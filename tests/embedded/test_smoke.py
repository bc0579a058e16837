"""Embedded-mode smoke: migrate on SQLite (WAL), create a tenant with the operator command,
serve it with daphne, probe it, sign in to the console, and run Celery with beat on the
SQLAlchemy transport over a SQLite file. Run in its own pytest invocation (scripts/test)."""
from __future__ import annotations

import http.client
import json
import re
import sqlite3
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from tests.embedded.conftest import BIN, OWNER_EMAIL, OWNER_PASSWORD, SLUG

pytestmark = pytest.mark.embedded


class Browser:
    """Just enough of a browser: a cookie jar and a Host header (no *.localhost DNS needed)."""

    def __init__(self, port: int, host: str):
        self.port, self.host = port, host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        content = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, response.headers, content


def sqlite_value(path, query: str, params=()):
    with sqlite3.connect(path, timeout=10) as db:
        row = db.execute(query, params).fetchone()
    return row[0] if row else None


def test_the_database_is_sqlite_in_wal_mode_and_migrated(embedded):
    assert embedded.database.exists()
    assert sqlite_value(embedded.database, "PRAGMA journal_mode") == "wal"
    assert sqlite_value(embedded.database, "SELECT name FROM tenancy_tenant WHERE slug = ?", [SLUG]) == \
        "Smoke Test Ltd"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", f"{SLUG}.localhost"])
def test_probes_answer_on_every_host(embedded, host):
    browser = Browser(embedded.port, host)
    status, _headers, body = browser.request("GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _headers, body = browser.request("GET", "/readyz")
    assert status == 200, body
    checks = json.loads(body)["checks"]
    assert {name: check["status"] for name, check in checks.items()} == \
        {"database": "ok", "cache": "ok", "broker": "ok"}


def login(embedded, password: str):
    browser = Browser(embedded.port, f"{SLUG}.localhost")
    status, _headers, page = browser.request("GET", "/console/login/")
    assert status == 200, page[:2000]
    match = re.search(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"\s+name="csrfmiddlewaretoken"', page)
    assert match, "the login page has no CSRF token"
    status, headers, body = browser.request(
        "POST", "/console/login/",
        form={"username": OWNER_EMAIL, "password": password, "csrfmiddlewaretoken": match.group(1)},
    )
    return browser, status, headers, body


def test_the_owner_signs_in_to_the_console_on_the_tenant_host(embedded):
    browser, status, headers, body = login(embedded, OWNER_PASSWORD)
    assert status == 302, body[:2000]
    assert urlsplit(headers["Location"]).path == "/console/"
    assert "sessionid" in browser.cookies
    status, _headers, page = browser.request("GET", "/console/")
    assert status == 200, page[:2000]


def test_a_wrong_password_does_not_sign_in(embedded):
    browser, status, _headers, _body = login(embedded, "not-the-password")
    assert status != 302
    assert "sessionid" not in browser.cookies


def test_the_api_answers_on_localhost_with_a_key_from_the_operator_command(embedded):
    created = embedded.manage("create_api_key", "--tenant", SLUG, "--name", "smoke", "--scopes", "account:read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    status, _headers, body = Browser(embedded.port, "localhost").request(
        "GET", "/api/v1/me/", headers={"Authorization": f"Bearer {key}"})
    assert status == 200, body
    assert json.loads(body)["tenant"]["slug"] == SLUG


def test_the_help_center_answers_and_says_its_search_is_simple(embedded):
    browser = Browser(embedded.port, f"{SLUG}.localhost")
    status, headers, _body = browser.request("GET", "/")
    assert status == 302 and urlsplit(headers["Location"]).path == "/hc/"
    status, headers, _body = browser.request("GET", "/hc/", headers={"Accept-Language": "tr-TR,tr;q=0.9"})
    assert status == 302 and urlsplit(headers["Location"]).path == "/hc/tr/"
    status, _headers, page = browser.request("GET", "/hc/tr/")
    assert status == 200 and "Destek ekibine nasıl ulaşırım?" in page, page[:2000]
    status, _headers, page = browser.request("GET", "/hc/en/search/?q=contact+support")
    assert status == 200 and "Simple search" in page and "How do I contact support?" in page, page[:2000]
    status, _headers, body = browser.request("GET", "/hc/en/search/suggest.json?q=how")
    assert status == 200 and json.loads(body)["results"], body


def test_nearest_locations_work_without_postgresql(embedded):
    """SQLite has no GiST: nearest first prefilters bounding boxes and sorts by haversine."""
    created = embedded.manage("create_api_key", "--tenant", SLUG, "--name", "locations", "--scopes", "kb:write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]

    def api(method: str, path: str, payload: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", embedded.port, timeout=30)
        conn.request(method, path, body=json.dumps(payload) if payload is not None else None,
                     headers={"Host": f"localhost:{embedded.port}", "Authorization": f"Bearer {key}",
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")

    for name, lat, lng in (("Ankara Store", 39.92, 32.85), ("Taksim Store", 41.037, 28.985)):
        status, body = api("POST", "/api/v1/locations/", {"name": name, "latitude": lat, "longitude": lng})
        assert status == 201, body
    status, body = api("GET", "/api/v1/locations/?near=41.0082,28.9784")
    assert status == 200 and [r["name"] for r in body["results"]] == ["Taksim Store", "Ankara Store"], body
    status, _headers, page = Browser(embedded.port, f"{SLUG}.localhost").request("GET", "/hc/locations/?place=Ankara")
    assert status == 200 and page.index("Ankara Store") < page.index("Taksim Store"), page[:2000]


# kombu's SQLAlchemy transport uses a loader strategy SQLAlchemy 2.1 deprecates (the sender's side).
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_celery_worker_with_beat_runs_tasks_over_the_sqlalchemy_transport(embedded):
    from celery import Celery

    event_query = "SELECT dispatched_at FROM events_event WHERE type = 'tenant.created'"
    # create_tenant queued the dispatch of its event on the broker; no worker has run yet.
    assert sqlite_value(embedded.database, event_query) is None

    worker = embedded.start("worker", str(BIN / "celery"), "-A", "helpdesk", "worker", "-B",
                            "--loglevel=info", "--concurrency=1")
    sender = Celery("smoke-sender", broker=embedded.broker_url)
    try:
        result = sender.send_task("events.redispatch_pending")
        deadline = time.monotonic() + 90
        done = False
        while time.monotonic() < deadline and worker.poll() is None:
            log = embedded.log("worker")
            done = (f"events.redispatch_pending[{result.id}] succeeded" in log
                    and sqlite_value(embedded.database, event_query) is not None)
            if done:
                break
            time.sleep(0.5)
        log = embedded.log("worker")
        assert done, f"the worker did not run the tasks:\n{log[-5000:]}"
        assert "beat: Starting" in log, log[-3000:]
        assert re.search(r"events\.dispatch_event\[[0-9a-f-]+\] succeeded", log), log[-3000:]
    finally:
        sender.close()
        exit_code = embedded.stop("worker")
    log = embedded.log("worker")
    assert exit_code == 0, log[-3000:]
    assert "Traceback" not in log and "JSONDecodeError" not in log, log[-5000:]
