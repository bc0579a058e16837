#!/usr/bin/env python
"""Nearest service location: p50/p95 over 5,000 locations (prints figures, no verdict).

Generates one tenant with 5,000 locations (``--locations``) spread over Türkiye and Europe,
plus 5,000 of another tenant (row-level security and the index's ``tenant_id`` column both
have to do their part), in a throwaway PostgreSQL database, then measures at random points:

- the selector alone (``knowledge.locations.selectors.location_nearest``, 20 nearest, with
  the open-now state of each): the KNN scan of the GiST index and the rows' details;
- ``GET /api/v1/locations/?near=lat,lng`` in process (Django test client, API key);
- the same with ``q=`` (a word most locations carry) and with ``open_now=true``;

and prints the plan of the nearest-first query, which must be an index scan of
``location_tenant_geo``, not a scan of every location.

    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/kb_locations.py [--locations 5000] [-n 300]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe, django_setup, throwaway_database  # noqa: E402

WEEKDAYS = {d: [["09:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["10:00", "16:00"]]}


def random_point(rng: random.Random) -> tuple[float, float]:
    """Mostly Türkiye, some Europe."""
    if rng.random() < 0.8:
        return rng.uniform(36.0, 42.0), rng.uniform(26.0, 44.5)
    return rng.uniform(36.0, 60.0), rng.uniform(-9.0, 30.0)


def generate(tenant, *, count: int, seed: int) -> None:
    from django.db import transaction

    from helpdesk.tenancy.context import tenant_scope
    from knowledge.locations.geo import fold
    from knowledge.models import Location, LocationException

    rng = random.Random(seed)
    kinds = ["store"] * 6 + ["service_centre"] * 2 + ["pickup_point"] * 2
    with tenant_scope(tenant), transaction.atomic():
        rows = []
        for index in range(count):
            lat, lng = random_point(rng)
            name = f"Mağaza {index}" if index % 3 else f"Servis {index}"
            row = Location(tenant=tenant, kind=rng.choice(kinds), name=name, slug=f"location-{index}",
                           city=f"City {index % 400}", postcode=f"{10000 + index % 90000}", latitude=lat,
                           longitude=lng, timezone="Europe/Istanbul", opening_hours=WEEKDAYS,
                           services=["Tamir", "İade"] if index % 2 else ["Teslimat"])
            row.search_text = fold(f"{row.name} {row.city} {row.postcode} {' '.join(row.services)}")
            row.locate()
            rows.append(row)
        Location.objects.bulk_create(rows, batch_size=2000)
        made = list(Location.objects.values_list("pk", flat=True))
        LocationException.objects.bulk_create(
            [LocationException(tenant=tenant, location_id=pk, date=f"2030-{1 + i % 12:02d}-01", closed=True)
             for i, pk in enumerate(made)], batch_size=2000)


def measure(label, fn, n, *, rng_points):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn(rng_points[0])  # warm-up
    with CaptureQueriesContext(connection) as captured:
        fn(rng_points[1])
    queries = len([q for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")])
    durations = []
    for index in range(n):
        point = rng_points[index % len(rng_points)]
        started = time.perf_counter()
        fn(point)
        durations.append(time.perf_counter() - started)
    print(describe(label, durations) + f"  queries {queries}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=int, default=5000)
    parser.add_argument("-n", type=int, default=300, help="measurements per line")
    args = parser.parse_args()

    django_setup(API_RATE_LIMIT="off")
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client

    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.services import api_key_create, tenant_create
    from knowledge.locations import selectors
    from knowledge.locations.geo import Point

    if connection.vendor != "postgresql":
        print("bench/kb_locations.py measures PostgreSQL: set DATABASE_URL (see the docstring).")
        return
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with throwaway_database():
        tenant = tenant_create(slug="bench", name="Bench Ltd", owner_email="owner@bench.test",
                               owner_password="bench-password-1")
        other = tenant_create(slug="other", name="Other Ltd", owner_email="owner@other.test",
                              owner_password="bench-password-1")
        started = time.perf_counter()
        generate(tenant, count=args.locations, seed=1)
        generate(other, count=args.locations, seed=2)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_location")
            cursor.execute("ANALYZE knowledge_locationexception")
        print(f"generated {args.locations:,} locations (and {args.locations:,} of another tenant) "
              f"in {time.perf_counter() - started:.1f} s")
        _key, raw = api_key_create(tenant=tenant, name="bench", scopes=["kb:read"])
        client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
        rng = random.Random(11)
        points = [random_point(rng) for _ in range(200)]

        with tenant_scope(tenant):
            print("\nplan of the nearest-first query:")
            print("  " + selectors.explain_nearest(tenant=tenant, point=Point(*points[0]), limit=20)
                  .replace("\n", "\n  "))

        def selector(point):
            with tenant_scope(tenant):
                rows = selectors.location_nearest(tenant=tenant, point=Point(*point), limit=20)
                for row in rows:
                    selectors.open_state_of(row)
                assert len(rows) == 20

        def api(params):
            def run(point):
                response = client.get("/api/v1/locations/", {"near": f"{point[0]:.5f},{point[1]:.5f}", **params})
                assert response.status_code == 200, response.content
            return run

        print(f"\n{args.locations:,} locations, PostgreSQL, in process")
        measure("nearest 20 (selector + open now)", selector, args.n, rng_points=points)
        measure("GET /locations/?near= (20)", api({}), args.n, rng_points=points)
        measure("GET /locations/?near=&q=tamir", api({"q": "tamir"}), args.n, rng_points=points)
        measure("GET /locations/?near=&open_now=true", api({"open_now": "true"}), max(20, args.n // 10),
                rng_points=points)


if __name__ == "__main__":
    main()
