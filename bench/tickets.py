#!/usr/bin/env python
"""Tickets at scale: p50/p95 and query counts of the agent's hot paths (prints figures).

Generates one tenant with 100,000 tickets (``--million`` for 1,000,000) in a throwaway
PostgreSQL database — bulk inserts inside the tenant's scope, so row-level security checks
every row — then measures, in process through Django's test client with an API key:

- API ticket create (``POST /api/v1/tickets/``);
- the ticket list of a saved view, 50 rows (``GET /api/v1/views/{id}/tickets/``);
- ticket detail and its 50 messages (``GET /api/v1/tickets/{id}/`` and ``…/messages/``);
- the SLA sweep when 1,000 timers are due (``tickets.sla.sweep.sla_sweep``).

    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/tickets.py [--tickets 100000 | --million] [-n 200]

Targets at 1,000,000 tickets on 2 cores (issue 3): list p95 <= 50 ms, detail p95 <= 80 ms,
sweep <= 100 ms with 1,000 due. The script prints; it does not judge.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe, django_setup, throwaway_database  # noqa: E402

BATCH = 10_000


def generate(tenant, *, tickets: int, agents: list, now: dt.datetime) -> dict:
    """Bulk-insert contacts, tickets (one message each), a 50-message ticket and SLA timers."""
    from helpdesk.people.models import Contact, ContactIdentity
    from helpdesk.tenancy.context import tenant_scope
    from tickets.models import Message, MessageKind, SlaTimer, Ticket, TicketCounter
    from django.db import connection, transaction

    rng = random.Random(7)
    statuses = ["new"] * 10 + ["open"] * 35 + ["pending"] * 15 + ["on_hold"] * 5 + ["solved"] * 20 + ["closed"] * 15
    priorities = ["low"] * 2 + ["normal"] * 5 + ["high"] * 2 + ["urgent"]
    started = time.perf_counter()
    with tenant_scope(tenant), transaction.atomic():
        contacts = Contact.objects.bulk_create(
            [Contact(tenant=tenant, name=f"Customer {i}") for i in range(min(20_000, tickets // 5 + 1))],
            batch_size=BATCH)
        ContactIdentity.objects.bulk_create(
            [ContactIdentity(tenant=tenant, contact=c, kind="email", value=f"customer{c.pk}@bench.example")
             for c in contacts], batch_size=BATCH)
        number = 0
        for offset in range(0, tickets, BATCH):
            rows = []
            for _ in range(min(BATCH, tickets - offset)):
                number += 1
                status = rng.choice(statuses)
                age = dt.timedelta(minutes=rng.randint(1, 60 * 24 * 365))
                assignee = None if status == "new" or rng.random() < 0.1 else rng.choice(agents)
                rows.append(Ticket(
                    tenant=tenant, number=number, subject=f"Order {number} did not arrive",
                    status=status, priority=rng.choice(priorities), requester=rng.choice(contacts),
                    assignee=assignee, message_count=1,
                    sla_next_due_at=(now + dt.timedelta(minutes=rng.randint(-600, 6000))
                                     if status in ("new", "open") else None),
                    solved_at=now - age / 2 if status in ("solved", "closed") else None,
                    status_changed_at=now - age / 2, last_activity_at=now - age / 3))
            created = Ticket.objects.bulk_create(rows, batch_size=BATCH)
            Message.objects.bulk_create(
                [Message(tenant=tenant, ticket=t, kind=MessageKind.PUBLIC, author_contact_id=t.requester_id,
                         via="customer", channel="web", body_text=f"Where is order {t.number}?")
                 for t in created], batch_size=BATCH)
            # created_at/updated_at are auto fields: spread them so sorts look real.
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE tickets_ticket SET created_at = now() - (random() * interval '365 days'), "
                    "updated_at = now() - (random() * interval '30 days') WHERE id = ANY(%s)",
                    [[t.pk for t in created]])
            print(f"  {offset + len(created):>9,} tickets", end="\r", flush=True)
        TicketCounter.objects.update_or_create(tenant=tenant, defaults={"last_number": number})
        busy = Ticket.objects.filter(status="open").order_by("id").first()
        Message.objects.bulk_create(
            [Message(tenant=tenant, ticket=busy, kind=MessageKind.PUBLIC if i % 3 else MessageKind.NOTE,
                     author_user=agents[i % len(agents)] if i % 2 else None,
                     author_contact_id=None if i % 2 else busy.requester_id,
                     via="console", channel="web", body_text=f"Message {i} about the order. " * 5)
             for i in range(49)])
        Ticket.objects.filter(pk=busy.pk).update(message_count=50)
        # 1,000 timers due now (the sweep's work) among many that are not.
        open_ids = list(Ticket.objects.filter(status__in=["new", "open"]).values_list("id", flat=True)[:21_000])
        timers = [SlaTimer(tenant=tenant, ticket_id=tid, metric="first_reply", target_minutes=60,
                           started_at=now - dt.timedelta(hours=2),
                           due_at=now - dt.timedelta(minutes=1) if i < 1000 else now + dt.timedelta(days=2),
                           warn_at=now - dt.timedelta(minutes=16) if i < 1000 else now + dt.timedelta(days=2))
                  for i, tid in enumerate(open_ids)]
        SlaTimer.objects.bulk_create(timers, batch_size=BATCH)
    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "tickets_message", "tickets_slatimer", "tickets_tickettag", "people_contact",
                      "people_contactidentity"):
            cursor.execute(f"ANALYZE {table}")
    print(f"generated {tickets:,} tickets, {tickets + 49:,} messages, {len(timers):,} SLA timers "
          f"in {time.perf_counter() - started:.1f} s")
    return {"busy": busy, "due_timer_ids": [t.pk for t in timers[:1000]]}


def profile(label, fn, n=50):
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    print(f"\n--- profile: {label} ({n} runs), by own time ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def measure(label, fn, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm-up
    with CaptureQueriesContext(connection) as captured:
        fn()
    queries = len([q for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")])
    durations = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - started)
    print(describe(label, durations) + f"  queries {queries}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 tickets")
    parser.add_argument("-n", type=int, default=200, help="requests per measurement")
    parser.add_argument("--profile", action="store_true",
                        help="after measuring, print cProfile's top functions for the list and the sweep")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() before measuring, as helpdesk/asgi.py does in the servers")
    args = parser.parse_args()
    tickets = 1_000_000 if args.million else args.tickets

    django_setup(API_RATE_LIMIT="off")
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.utils import timezone

    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.roles import Role
    from helpdesk.tenancy.services import api_key_create, membership_add, tenant_create
    from tickets.models import SavedView, SlaTimer, Ticket
    from tickets.sla.sweep import sla_sweep

    if connection.vendor != "postgresql":
        print("bench/tickets.py measures PostgreSQL: set DATABASE_URL (see the docstring).")
        return
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with throwaway_database():
        from django.contrib.auth import get_user_model

        tenant = tenant_create(slug="bench", name="Bench Ltd", owner_email="owner@bench.test",
                               owner_password="bench-password-1")
        agents = []
        for i in range(10):
            user = get_user_model().objects.create_user(email=f"agent{i}@bench.test", password="x" * 12)
            membership_add(tenant=tenant, user=user, role=Role.AGENT)
            agents.append(user)
        _key, raw = api_key_create(tenant=tenant, name="bench")
        now = timezone.now()
        made = generate(tenant, tickets=tickets, agents=agents, now=now)
        client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
        with tenant_scope(tenant):
            views = {v.key: v.pk for v in SavedView.objects.exclude(key="")}
        requester = {"email": "newcomer@bench.example", "name": "New Comer"}

        def create():
            response = client.post("/api/v1/tickets/", {"subject": "Bench ticket", "description": "Hello",
                                                        "requester": requester}, content_type="application/json")
            assert response.status_code == 201, response.content

        def view_list(key):
            def run():
                response = client.get(f"/api/v1/views/{views[key]}/tickets/?page_size=50")
                assert response.status_code == 200, response.content
            return run

        busy = made["busy"].pk

        def detail():
            assert client.get(f"/api/v1/tickets/{busy}/").status_code == 200
            assert client.get(f"/api/v1/tickets/{busy}/messages/?page_size=50").status_code == 200

        if args.gc_freeze:
            import gc

            gc.collect()
            gc.freeze()
        print(f"\n{tickets:,} tickets, PostgreSQL, in process (Django test client, API key)"
              + (", gc.freeze()" if args.gc_freeze else ""))
        measure("API ticket create", create, args.n)
        for key in ("unassigned", "pending", "breaching_soon"):
            if key in views:
                measure(f"view '{key}' list, 50 rows", view_list(key), args.n)
        measure("ticket detail + 50 messages", detail, args.n)

        def reset_due():  # the same 1,000 due again, their tickets not yet flagged
            with tenant_scope(tenant):
                due = SlaTimer.objects.filter(pk__in=made["due_timer_ids"])
                due.update(status="active", breached_at=None, warned_at=None)
                Ticket.objects.filter(pk__in=due.values("ticket_id")).update(sla_breached=False)

        sweeps = []
        for _ in range(5):
            reset_due()
            started = time.perf_counter()
            result = sla_sweep(now=timezone.now())
            sweeps.append(time.perf_counter() - started)
        print(describe("SLA sweep, 1,000 due", sweeps, rate=False)
              + f"  breached {result.breached}, warned {result.warned}")
        if args.profile:
            profile("view 'unassigned' list, 50 rows", view_list("unassigned"))

            def sweep_once():
                reset_due()
                sla_sweep(now=timezone.now())
            profile("SLA sweep, 1,000 due (with the reset)", sweep_once, n=5)
        with tenant_scope(tenant):
            print(f"tickets now: {Ticket.objects.count():,}")


if __name__ == "__main__":
    main()
