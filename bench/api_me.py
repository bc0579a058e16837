#!/usr/bin/env python
"""Requests per second of ``GET /api/v1/me/`` with an API key (prints figures, no verdict).

In process (default): Django's test client against a throwaway database with a fresh
tenant and key; measures the whole Django + DRF stack (authentication by key hash, scope
check, rate-limit counter in the cache, JSON rendering) without a network or server.

    python bench/api_me.py -n 2000
    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/api_me.py -n 2000

Against a running server (scripts/run, daphne): keep-alive HTTP, optionally from threads.

    python bench/api_me.py --url http://127.0.0.1:8000 --key "$KEY" -n 2000 -c 4

The rate limit is raised for the in-process run (API_RATE_LIMIT, unless set); a running
server keeps its own, so 429s are counted and shown.
"""
from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe, django_setup, throwaway_database  # noqa: E402

PATH = "/api/v1/me/"


def in_process(requests: int, warmup: int) -> None:
    django_setup(API_RATE_LIMIT="100000000/min")
    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from helpdesk.tenancy.services import api_key_create, tenant_create

    # Keep one connection for the run (as DB_CONN_MAX_AGE > 0 would): measure requests,
    # not connection set-up.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with throwaway_database():
        tenant = tenant_create(slug="bench", name="Bench Ltd", owner_email="owner@bench.test",
                               owner_password="bench-password-1")
        _key, raw = api_key_create(tenant=tenant, name="bench", scopes=["account:read"])
        client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
        for _ in range(warmup):
            assert client.get(PATH).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            client.get(PATH)
        statements = [query["sql"] for query in captured.captured_queries]
        queries = [sql for sql in statements if sql not in ("BEGIN", "COMMIT", "ROLLBACK")]
        statuses: Counter[int] = Counter()
        durations = []
        for _ in range(requests):
            started = time.perf_counter()
            status = client.get(PATH).status_code
            durations.append(time.perf_counter() - started)
            statuses[status] += 1
        print(f"GET {PATH} in process: database {connection.vendor}, cache "
              f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
              f"{len(queries)} SQL queries per request (+{len(statements) - len(queries)} BEGIN/COMMIT)")
        print(describe("requests", durations))
        print(f"statuses: {dict(statuses)}")


def against_server(url: str, key: str, requests: int, concurrency: int, host: str | None, warmup: int) -> None:
    parts = urlsplit(url)
    headers = {"Authorization": f"Bearer {key}", "Host": host or parts.netloc}
    per_thread = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    durations: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        mine, seen = [], Counter()
        for i in range(count + warmup):
            started = time.perf_counter()
            conn.request("GET", PATH, headers=headers)
            response = conn.getresponse()
            response.read()
            if i >= warmup:
                mine.append(time.perf_counter() - started)
                seen[response.status] += 1
        conn.close()
        with lock:
            durations.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=worker, args=(count,)) for count in per_thread]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(f"GET {url.rstrip('/')}{PATH}: {concurrency} connection(s), keep-alive")
    print(describe("latency", durations, rate=False))
    print(f"throughput: {len(durations) / wall:.1f} requests/s over {wall:.2f} s (incl. warm-up)")
    print(f"statuses: {dict(statuses)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000 (default: in process)")
    parser.add_argument("--key", default=os.environ.get("API_KEY"), help="API key for --url (or $API_KEY)")
    parser.add_argument("--host", help="Host header for --url (default: the URL's host)")
    parser.add_argument("-c", "--concurrency", type=int, default=1, help="connections for --url")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1:
        parser.error("-n and -c must be positive")
    if args.url:
        if not args.key:
            parser.error("--url needs --key (manage.py create_api_key --tenant demo --name bench)")
        against_server(args.url, args.key, args.requests, args.concurrency, args.host, args.warmup)
    else:
        in_process(args.requests, args.warmup)


if __name__ == "__main__":
    main()
