"""Real-browser tests: Python Playwright driving Debian's chromium.

They run in their own pytest invocation, because Playwright's sync API leaves an event
loop on the test thread (later ``async_to_sync`` calls in the same process would fail):

    python -m pytest -m e2e tests/e2e        (or RUN_E2E=1 python -m pytest tests/e2e)

Without that they are skipped. ``live_server`` (WSGI) serves the login flows; the
websocket test runs daphne on the test database in a subprocess.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
HERE = Path(__file__).resolve().parent


def e2e_selected(config) -> bool:
    markexpr = config.getoption("markexpr", "") or ""
    return os.environ.get("RUN_E2E") == "1" or bool(re.search(r"(?<!not )\be2e\b", markexpr))


def pytest_collection_modifyitems(config, items):
    if e2e_selected(config):
        return
    skip = pytest.mark.skip(reason="browser tests run on their own: pytest -m e2e tests/e2e")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_next_to_playwrights_loop():
    # Playwright's sync API runs an event loop on this thread; the ORM calls the tests make
    # (fixtures, assertions) are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", timezone_id="Europe/Istanbul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db, settings):
    """daphne serving helpdesk.asgi (HTTP + websockets) on the test database; yields its port.

    Needs PostgreSQL (the test database must be reachable from another process) and Redis
    (so this process can push into the server's channel layer).
    """
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the websocket browser test needs PostgreSQL and Redis (full mode)")
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "helpdesk.settings"),
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
    }
    port = free_port()
    root = HERE.parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("daphne exited:\n" + proc.stdout.read().decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("daphne did not start")
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        _wait_for_other_sessions_to_leave(connection)


@pytest.fixture
def eager_server(request, monkeypatch):
    """``asgi_server`` with Celery eager, so committed events are dispatched (and pushed) at once."""
    monkeypatch.setenv("CELERY_TASK_ALWAYS_EAGER", "1")
    return request.getfixturevalue("asgi_server")


def _wait_for_other_sessions_to_leave(connection, seconds: float = 10) -> None:
    """The server's database sessions end a moment after it exits; the test database's
    flush and drop fail while they linger."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)
