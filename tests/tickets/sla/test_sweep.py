"""The SLA sweep: exactly once, cost that follows what falls due, index range scans."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from helpdesk.events.models import Event
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from tests.factories import TenantFactory
from tests.tickets.factories import SlaTimerFactory, TicketFactory
from tests.queries import QueryCounter
from tickets.models import SlaTimer, Ticket
from tickets.sla.sweep import sla_sweep

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
M = dt.timedelta(minutes=1)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def timer(tenant, *, due, warn=None, metric="first_reply", ticket=None, **extra):
    ticket = ticket or TicketFactory(tenant=tenant, sla_next_due_at=due)
    return SlaTimerFactory(tenant=tenant, ticket=ticket, metric=metric, started_at=due - 120 * M, due_at=due,
                           warn_at=warn if warn is not None else due - 15 * M, **extra)


def events(type_):
    with dangerously_unscoped():
        return list(Event.unscoped.filter(type=type_).order_by("id"))


def reload(row):
    with dangerously_unscoped():
        return type(row).unscoped.get(pk=row.pk)


def test_breach_is_flagged_once_with_its_event_and_the_ticket_updated(tenant):
    overdue = timer(tenant, due=NOW - 5 * M)
    later = timer(tenant, due=NOW + 60 * M, metric="resolution", ticket=overdue.ticket)
    result = sla_sweep(now=NOW)
    assert (result.breached, result.warned) == (1, 0)  # no warning for what is already breached
    flagged = reload(overdue)
    assert (flagged.status, flagged.breached_at, flagged.warned_at) == ("breached", NOW - 5 * M, None)
    ticket = reload(overdue.ticket)
    # The breached cycle still counts until it is answered: the ticket stays first by due.
    assert (ticket.sla_breached, ticket.sla_next_due_at) == (True, overdue.due_at)
    assert later.due_at > overdue.due_at
    [event] = events("sla.breach")
    assert event.tenant_id == tenant.pk
    assert event.payload == {"ticket_id": ticket.pk, "number": ticket.number, "metric": "first_reply",
                             "due_at": (NOW - 5 * M).isoformat(), "assignee_id": None}
    assert sla_sweep(now=NOW + 5 * M).breached == 0
    assert len(events("sla.breach")) == 1


def test_due_exactly_now_is_not_yet_breached(tenant):
    row = timer(tenant, due=NOW)
    assert sla_sweep(now=NOW).breached == 0
    assert reload(row).status == "active"
    assert sla_sweep(now=NOW + dt.timedelta(seconds=1)).breached == 1


def test_warning_is_flagged_once(tenant, other_tenant):
    soon = timer(tenant, due=NOW + 10 * M)  # warn_at NOW - 5 min
    theirs = timer(other_tenant, due=NOW + 14 * M)
    not_yet = timer(tenant, due=NOW + 16 * M)
    paused = timer(tenant, due=NOW + 10 * M, status="paused")
    assert sla_sweep(now=NOW).warned == 2
    assert reload(soon).warned_at == NOW
    assert reload(not_yet).warned_at is None
    assert reload(paused).warned_at is None
    assert reload(soon).status == "active"
    assert sla_sweep(now=NOW + M).warned == 1  # only not_yet, now inside its lead time
    warnings = events("sla.warning")
    assert [(e.tenant_id, e.payload["ticket_id"]) for e in warnings] == [
        (tenant.pk, soon.ticket_id), (other_tenant.pk, theirs.ticket_id), (tenant.pk, not_yet.ticket_id)]


def test_the_sweep_crosses_tenants_and_writes_events_in_each_tenant(tenant, other_tenant):
    mine = timer(tenant, due=NOW - M)
    theirs = timer(other_tenant, due=NOW - 2 * M)
    assert sla_sweep(now=NOW).breached == 2
    assert {(e.tenant_id, e.payload["ticket_id"]) for e in events("sla.breach")} == {
        (tenant.pk, mine.ticket_id), (other_tenant.pk, theirs.ticket_id)}
    with tenant_scope(tenant):
        assert [e.payload["ticket_id"] for e in Event.objects.filter(type="sla.breach")] == [mine.ticket_id]


def test_bounded_batches_take_everything_due(tenant):
    rows = [timer(tenant, due=NOW - (i + 1) * M) for i in range(7)]
    assert sla_sweep(now=NOW, batch_size=3).breached == 7
    assert {reload(r).status for r in rows} == {"breached"}
    capped = [timer(tenant, due=NOW - M) for _ in range(5)]
    assert sla_sweep(now=NOW, batch_size=2, max_batches=2).breached == 4
    assert sum(reload(r).status == "breached" for r in capped) == 4


def _sweep_queries(now) -> int:
    with QueryCounter(connection) as queries:
        sla_sweep(now=now)
    return len(queries.captured_queries)


def test_query_count_does_not_grow_with_tickets_not_due(tenant):
    for _ in range(3):
        timer(tenant, due=NOW - M)
    for _ in range(10):
        timer(tenant, due=NOW + 300 * M)
    few = _sweep_queries(NOW)
    for _ in range(3):
        timer(tenant, due=NOW + M)  # due at the second sweep
    for _ in range(190):
        timer(tenant, due=NOW + 300 * M)
    many = _sweep_queries(NOW + 2 * M)
    assert many == few
    assert len(events("sla.breach")) == 6


@postgres_only
@pytest.mark.parametrize("index,marker", [("slatimer_breach_due", "breached_at IS NULL"),
                                          ("slatimer_warn_due", "warned_at IS NULL")])
def test_the_sweep_is_a_range_scan_of_its_partial_index(tenant, index, marker):
    timer(tenant, due=NOW - M)
    timer(tenant, due=NOW + 10 * M, metric="resolution")
    with QueryCounter(connection) as queries:
        sla_sweep(now=NOW)
    sql = next(q["sql"] for q in queries.captured_queries
               if "FOR UPDATE" in q["sql"] and "SKIP LOCKED" in q["sql"] and marker in q["sql"])
    with dangerously_unscoped(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_time_flag_each_breach_and_warning_once(monkeypatch):
    from tickets.sla import sweep as sweep_module

    tenant = TenantFactory(slug="sweepers")
    overdue = [timer(tenant, due=NOW - (i % 7 + 1) * M) for i in range(30)]
    warned = [timer(tenant, due=NOW + 5 * M) for _ in range(12)]
    barrier = threading.Barrier(2)
    results, errors = [], []
    # Hold each batch's transaction open a while after it chose its rows, so the two
    # sweeps overlap for sure: without row locks both would flag the same rows.
    tenants = sweep_module._tenants

    def slow_tenants(ids):
        time.sleep(0.2)
        return tenants(ids)

    monkeypatch.setattr(sweep_module, "_tenants", slow_tenants)
    queue = sweep_module.events_queue_dispatch

    def slow_queue(**kwargs):  # the PostgreSQL breach batch, after its one statement
        time.sleep(0.2)
        return queue(**kwargs)

    monkeypatch.setattr(sweep_module, "events_queue_dispatch", slow_queue)

    def sweep():
        try:
            connection.ensure_connection()
            barrier.wait(10)
            results.append(sla_sweep(now=NOW, batch_size=4))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(r.breached for r in results) == 30
    assert sum(r.warned for r in results) == 12
    breaches = events("sla.breach")
    assert sorted(int(e.payload["ticket_id"]) for e in breaches) == sorted(t.ticket_id for t in overdue)
    warnings = events("sla.warning")
    assert sorted(int(e.payload["ticket_id"]) for e in warnings) == sorted(t.ticket_id for t in warned)
    assert sla_sweep(now=NOW).breached == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_ticket_being_changed_is_skipped_not_waited_for():
    tenant = TenantFactory(slug="busy")
    row = timer(tenant, due=NOW - M)
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold():
        try:
            with tenant_scope(tenant), transaction.atomic():
                Ticket.objects.select_for_update().get(pk=row.ticket_id)
                locked.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        result = sla_sweep(now=NOW)
        assert result.breached == 0
        assert reload(row).status == "active"
    finally:
        release.set()
        thread.join(10)
    assert sla_sweep(now=NOW).breached == 1
    with dangerously_unscoped():
        assert SlaTimer.unscoped.get(pk=row.pk).status == "breached"


def test_the_beat_task_runs_the_sweep_every_minute(tenant, settings):
    from celery import current_app

    from tickets.tasks_sla import sla_sweep as task

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "tickets.sla_sweep")
    assert entry["schedule"] == 60.0
    assert "tickets.sla_sweep" in current_app.tasks
    row = timer(tenant, due=dt.datetime.now(UTC) - M)
    assert task.delay().get() == {"breached": 1, "warned": 0}
    assert reload(row).status == "breached"


@pytest.mark.parametrize("path", ["database", "orm"])
def test_both_paths_write_the_same_rows_and_events(tenant, monkeypatch, path):
    """PostgreSQL flags a batch in one statement; the ORM path (SQLite) does it in steps.
    Both flag timers and tickets and write ``sla_event_payload``'s payload, microseconds
    and all, for breaches and warnings."""
    from tickets.sla import sweep as sweep_module

    if path == "orm":
        monkeypatch.setattr(sweep_module, "_batch_postgresql",
                            lambda sql, type, **kw: (sweep_module._breach_batch_orm if type == "sla.breach"
                                                     else sweep_module._warn_batch_orm)(**kw))
    elif connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    due = NOW - 5 * M + dt.timedelta(microseconds=1500)
    row = timer(tenant, due=due)
    on_the_hour = timer(tenant, due=NOW - 60 * M, metric="resolution")
    soon = timer(tenant, due=NOW + 10 * M + dt.timedelta(microseconds=7), metric="next_reply")
    result = sla_sweep(now=NOW)
    assert (result.breached, result.warned) == (2, 1)
    assert reload(row).status == "breached" and reload(row).breached_at == due
    assert reload(row.ticket).sla_breached and reload(on_the_hour.ticket).sla_breached
    assert reload(soon).warned_at == NOW and not reload(soon.ticket).sla_breached
    payloads = {e.payload["metric"]: e.payload for e in events("sla.breach")}
    assert payloads["first_reply"] == {"ticket_id": row.ticket_id, "number": reload(row.ticket).number,
                                       "metric": "first_reply", "due_at": due.isoformat(), "assignee_id": None}
    assert payloads["resolution"]["due_at"] == (NOW - 60 * M).isoformat()
    assert {e.subject_id for e in events("sla.breach")} == {str(row.ticket_id), str(on_the_hour.ticket_id)}
    [warning] = events("sla.warning")
    assert warning.payload == {"ticket_id": soon.ticket_id, "number": reload(soon.ticket).number,
                               "metric": "next_reply", "due_at": soon.due_at.isoformat(), "assignee_id": None}
    assert sla_sweep(now=NOW) == sweep_module.SweepResult()  # each once
