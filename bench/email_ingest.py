#!/usr/bin/env python
"""Inbound email throughput: messages per second parsed, threaded and stored (prints figures).

In a throwaway PostgreSQL database, one tenant with an email channel receives N mails
through the real pipeline, one after another, the way the inbound hook and IMAP poller hand
them over: ``inbound_store`` (the raw INSERT, committed, and the processing task published
to Redis), then what the worker does with that task, ``inbound_process`` (parse, duplicate
and loop checks, threading, contact, ticket or reply with its events, attachments, thread
references, the acknowledgement queued). Published tasks (event dispatch, sending) are
the workers' next jobs and are purged at the end; ``--eager`` runs them inline instead.
The mix: the 60-mail test corpus with fresh Message-IDs and a +tag on each sender so that about every third mail comes from a new
customer (new contact, acknowledgement), the rest from the same people; about a third of
those answer our acknowledgement by In-Reply-To. Also printed: parsing alone. Like each
Celery worker process (``helpdesk/celery.py``), the run first freezes the loaded objects out
of the garbage collector (``gc.freeze()``).

    DATABASE_URL=postgresql://helpdesk@127.0.0.1:5432/helpdesk REDIS_URL=redis://127.0.0.1:6379/0 \\
        python bench/email_ingest.py [-n 2000]

Target (issue 4): >= 100 messages/s on 2 cores. The script prints; it does not judge.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, describe, django_setup, machine_reference, throwaway_database  # noqa: E402

CORPUS = ROOT / "tests" / "channels_hub" / "email_corpus"
_MESSAGE_ID = re.compile(rb"^Message-ID:.*$", re.I | re.M)


_FROM = re.compile(rb"^(From:[^\r\n]*?)([A-Za-z0-9._%+-]+)@", re.I | re.M)


def as_customer(raw: bytes, customer: int) -> bytes:
    """The mail as written by customer ``customer``: its From address gets a +tag, so the
    run sees as many different people as a real mailbox (new contacts, acknowledgements)."""
    return _FROM.sub(lambda m: m.group(1) + m.group(2) + f"+c{customer}".encode() + b"@", raw, count=1)


def with_id(raw: bytes, message_id: str, *, in_reply_to: str = "") -> bytes:
    header = f"Message-ID: <{message_id}>".encode()
    raw = _MESSAGE_ID.sub(header, raw, count=1) if _MESSAGE_ID.search(raw) else header + b"\r\n" + raw
    if in_reply_to:
        raw = f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n".encode() + raw
    return raw


def _sender(raw: bytes) -> str:
    from email.parser import BytesHeaderParser
    from email.utils import parseaddr

    return parseaddr(str(BytesHeaderParser().parsebytes(raw, headersonly=True).get("From", "")))[1].lower()


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend, when the server runs
    on this machine (read from /proc); 0 otherwise."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _in_processes(work, workers: int) -> list[float]:
    """Run ``work(i)`` in ``workers`` forked processes; return all their per-mail times."""
    import json
    import os

    from django.core.cache import cache
    from django.db import connections

    connections.close_all()  # each child opens its own connections
    cache.close()
    children = []
    for worker in range(workers):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            code = 0
            try:
                with os.fdopen(write_end, "w") as out:
                    json.dump(work(worker), out)
            except BaseException:  # noqa: BLE001 - report and leave the child
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                connections.close_all()
                os._exit(code)
        os.close(write_end)
        children.append((pid, read_end))
    times: list[float] = []
    for pid, read_end in children:
        with os.fdopen(read_end) as source:
            data = source.read()
        os.waitpid(pid, 0)
        times.extend(json.loads(data) if data else [])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="mails to ingest")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes ingesting side by side, as Celery workers would (2 for 2 cores)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of store + process")
    parser.add_argument("--eager", action="store_true",
                        help="run every queued task inline (event consumers, sending) inside the figure")
    args = parser.parse_args()

    django_setup(CELERY_TASK_ALWAYS_EAGER="true" if args.eager else "false", API_RATE_LIMIT="off")
    from django.conf import settings
    from django.db import connection

    from channels_hub.email import parse_email
    from channels_hub.models import InboundEmail, InboundSource, OutboundEmail
    from channels_hub.services.channels import channel_create
    from channels_hub.services.inbound import inbound_process, inbound_store
    from helpdesk.celery import app as celery_app
    from helpdesk.tenancy.context import tenant_scope
    from helpdesk.tenancy.services import tenant_create
    from tickets.models import Message, Ticket

    if connection.vendor != "postgresql":
        print("bench/email_ingest.py measures PostgreSQL: set DATABASE_URL (see the docstring).")
        return
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()  # hourly sender limits of an earlier run (use a Redis db of its own)
    corpus = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]

    parse_times = []
    for raw in corpus * 5:
        started = time.perf_counter()
        parse_email(raw)
        parse_times.append(time.perf_counter() - started)

    with throwaway_database():
        tenant = tenant_create(slug="bench", name="Bench Ltd", owner_email="owner@bench.test",
                               owner_password="bench-password-1")
        with tenant_scope(tenant):
            channel, _secret = channel_create(tenant=tenant, actor=None, kind="email",
                                              values={"name": "Support", "address": "support@acme.test",
                                                      "sender_hourly_limit": 0, "channel_hourly_limit": 0})
        import cProfile

        profiler = cProfile.Profile() if args.profile else None

        def ingest(worker: int) -> list[float]:
            """Mails ``worker``, ``worker + workers``, …: each customer writes about three;
            a reply (35 %) answers one of our acknowledgements to that customer."""
            rng = random.Random(worker)
            acks: dict[str, list[str]] = {}
            times = []
            cpu_started = time.process_time(), _backend_cpu()
            for count, i in enumerate(range(worker, args.n, args.workers)):
                # Customer k writes mails k, k + n/3 and k + 2n/3: about three each, spread out
                # (the same corpus mail's sender each time, with the customer's +tag).
                customer = i % max(1, args.n // 3)
                base = as_customer(corpus[customer % len(corpus)], customer)
                mine = acks.get(_sender(base)) or []
                reply_to = rng.choice(mine) if mine and rng.random() < 0.35 else ""
                raw = with_id(base, f"bench-{i}@example.org", in_reply_to=reply_to)
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                inbound = inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)
                if not args.eager:
                    with tenant_scope(tenant):
                        inbound_process(inbound_id=inbound.pk)
                if profiler:
                    profiler.disable()
                times.append(time.perf_counter() - started)
                if count % 50 == 0:
                    with tenant_scope(tenant):
                        acks = {}
                        for to, message_id in (OutboundEmail.objects.order_by("-id")
                                               .values_list("to", "message_id")[:500]):
                            acks.setdefault(to[0], []).append(message_id)
                if worker == 0:
                    print(f"  {i + 1:>6} mails", end="\r", flush=True)
            cpu_used[0] += time.process_time() - cpu_started[0]
            cpu_used[1] += _backend_cpu() - cpu_started[1]
            return times

        cpu_used = [0.0, 0.0]  # this process's CPU, its PostgreSQL backend's (seconds)
        import gc

        gc.collect()
        gc.freeze()  # as each Celery worker process does when it starts (helpdesk/celery.py)
        wall = time.perf_counter()
        times = ingest(0) if args.workers == 1 else _in_processes(ingest, args.workers)
        wall = time.perf_counter() - wall
        with tenant_scope(tenant):
            statuses = dict.fromkeys(("processed", "duplicate", "ignored", "failed"), 0)
            for status in InboundEmail.objects.values_list("status", flat=True):
                statuses[status] = statuses.get(status, 0) + 1
            tickets, messages = Ticket.objects.count(), Message.objects.filter(kind="public").count()
            outbound = OutboundEmail.objects.count()

        if not args.eager:
            celery_app.control.purge()
    print(" " * 40, end="\r")
    mode = "every task inline" if args.eager else "store + publish, then the worker's processing"
    print(f"email ingest, {args.n} mails from the corpus (PostgreSQL + Redis, {args.workers} process(es), {mode})")
    print(machine_reference())
    print(describe("parse only (corpus x5)", parse_times))
    print(describe("store + process, per mail", times))
    print(f"{'throughput':<34} {args.n / wall:9.1f} mails/s  ({wall:.1f} s wall)")
    if args.workers == 1 and cpu_used[1]:
        print(f"{'CPU per mail':<34} Python {cpu_used[0] * 1000 / args.n:6.2f} ms, "
              f"its PostgreSQL backend {cpu_used[1] * 1000 / args.n:6.2f} ms")
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"(channels_hub|tickets|helpdesk)/", 30)
    print(f"{'outcome':<34} {statuses}  tickets={tickets} public messages={messages} "
          f"outgoing={outbound}")


if __name__ == "__main__":
    main()
