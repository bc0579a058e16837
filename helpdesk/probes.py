"""Liveness and readiness probes: JSON, no auth, any host.

``/healthz`` answers as long as the process serves requests; it touches nothing else, so a
database outage does not make an orchestrator restart healthy web processes.
``/readyz`` checks what a request needs (database, cache, broker) and answers 503 naming
the failing checks, so a load balancer stops sending traffic until they recover.
Failure details go to the log, not to the anonymous caller.
"""
from __future__ import annotations

import logging
import secrets
import time
from typing import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 3.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("SELECT 1 did not return 1")


def check_cache() -> None:
    key = f"readyz:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what was just stored")
    finally:
        cache.delete(key)


def check_broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
        channel = conn.default_channel  # Redis pings here
        session_factory = getattr(channel, "session", None)
        if session_factory is not None:
            # kombu's SQLAlchemy transport connects lazily: run a statement to know it works.
            from sqlalchemy import text

            session = channel.session
            try:
                session.execute(text("SELECT 1"))
            finally:
                session.close()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


# Probes open no request transaction (``ATOMIC_REQUESTS``): liveness never touches the
# database, and readiness reports a broken one instead of failing to start a transaction.
@transaction.non_atomic_requests
@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@transaction.non_atomic_requests
@never_cache
@require_GET
def readyz(request):
    results: dict[str, dict] = {}
    failing: list[str] = []
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # any failure is "not ready", never a 500
            logger.warning("readiness check %s failed: %r", name, exc)
            results[name] = {"status": "error", "error": type(exc).__name__}
            failing.append(name)
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    body = {"status": "error" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
