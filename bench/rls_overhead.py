#!/usr/bin/env python
"""What row-level security costs per query on PostgreSQL (prints figures, no verdict).

The backend (``helpdesk/db/postgresql``) runs ``set_config('app.tenant_id', …, true)`` in
every transaction; in autocommit that makes each ORM query a short transaction of its own
(BEGIN, set_config, query, COMMIT). This times N primary-key lookups:

- baseline: the same query with the RLS wrapper detached (policies passed by a session-level
  bypass that only this benchmark uses): one round trip per query;
- unscoped: inside ``dangerously_unscoped()`` (the wrapper sets the bypass per transaction);
- tenant_scope, autocommit: what a request does for each query outside ``atomic()``;
- tenant_scope, one transaction: N queries in one ``atomic()`` block, set_config once.

    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk python bench/rls_overhead.py -n 5000

Runs on a throwaway test database; the role needs CREATEDB (scripts/ensure_pg_role.py).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe, django_setup, throwaway_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--queries", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=2000, help="contacts per tenant")
    args = parser.parse_args()
    if args.queries < 1 or args.rows < 1:
        parser.error("-n and --rows must be positive")

    django_setup()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        sys.exit("rls_overhead needs PostgreSQL: set DATABASE_URL=postgresql://… (a non-superuser role)")

    from helpdesk.db.postgresql.base import _rls_execute_wrapper
    from helpdesk.people.models import Contact
    from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
    from helpdesk.tenancy.services import tenant_create

    with throwaway_database():
        tenants = [tenant_create(slug=f"bench{i}", name=f"Bench {i}", owner_email=f"owner{i}@bench.test",
                                 owner_password="bench-password-1") for i in range(2)]
        pks = []
        for tenant in tenants:
            with tenant_scope(tenant):
                created = Contact.objects.bulk_create(
                    [Contact(tenant=tenant, name=f"Customer {n}") for n in range(args.rows)], batch_size=1000)
                if tenant is tenants[0]:
                    pks = [c.pk for c in created] or list(Contact.objects.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE people_contact")
        rng = random.Random(7)
        sample = [rng.choice(pks) for _ in range(args.queries)]

        def timed(lookup) -> list[float]:
            for pk in sample[:100]:  # warm up
                lookup(pk)
            durations = []
            for pk in sample:
                started = time.perf_counter()
                found = lookup(pk)
                durations.append(time.perf_counter() - started)
                assert found is not None
            return durations

        results = {}
        # Baseline: no per-transaction set_config at all.
        connection.ensure_connection()
        connection.execute_wrappers.remove(_rls_execute_wrapper)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.rls_bypass', 'on', false)")  # session level: bench only
            with dangerously_unscoped():
                results["baseline (no RLS wrapper)"] = timed(lambda pk: Contact.unscoped.filter(pk=pk).first())
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.rls_bypass', 'off', false)")
        finally:
            connection.execute_wrappers.append(_rls_execute_wrapper)

        with dangerously_unscoped():
            results["dangerously_unscoped, autocommit"] = timed(lambda pk: Contact.unscoped.filter(pk=pk).first())
        with tenant_scope(tenants[0]):
            results["tenant_scope, autocommit"] = timed(lambda pk: Contact.objects.filter(pk=pk).first())
            with transaction.atomic():
                results["tenant_scope, one transaction"] = timed(lambda pk: Contact.objects.filter(pk=pk).first())

    base = sum(results["baseline (no RLS wrapper)"]) / args.queries
    print(f"{args.queries} primary-key lookups on people_contact ({args.rows} rows per tenant, 2 tenants), "
          f"PostgreSQL, this machine")
    for label, durations in results.items():
        mean = sum(durations) / len(durations)
        overhead = mean - base
        print(f"{describe(label, durations)}  overhead {overhead * 1e6:+8.1f} µs ({overhead / base:+6.1%})")


if __name__ == "__main__":
    main()
