"""SPEC.md §1: solved tickets close N days later (tenant setting 1-28) by the beat job."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory, TenantFactory, agent_in
from tests.tickets.core_helpers import make_ticket, requester  # noqa: F401
from tests.queries import QueryCounter
from tickets.models import MessageKind, Status, Ticket, TicketSettings, Via
from tickets.services import ticket_create, ticket_settings_update, ticket_update, tickets_close_solved
from tickets.tasks import close_solved_tickets

pytestmark = pytest.mark.django_db

DAY0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def _solved(tenant, agent, make_ticket, at):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    with tenant_scope(tenant):
        Ticket.objects.filter(pk=ticket.pk).update(solved_at=at)
    return ticket


def test_solved_on_day_0_is_closed_on_day_4(tenant, agent, make_ticket):
    ticket = _solved(tenant, agent, make_ticket, DAY0)
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=4) - dt.timedelta(seconds=1)) == 0
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=4)) == 1
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        entry = ticket.messages.filter(kind=MessageKind.SYSTEM).latest("id")
    assert ticket.status == Status.CLOSED and ticket.closed_at == DAY0 + dt.timedelta(days=4)
    assert entry.changes == {"status": ["solved", "closed"]} and entry.author_user is None
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=30)) == 0


def test_the_tenant_setting_applies_per_tenant(tenant, other_tenant, agent, make_ticket, owner):
    ticket_settings_update(tenant=tenant, actor=owner, solved_to_closed_days=10)
    ticket = _solved(tenant, agent, make_ticket, DAY0)
    other_agent = agent_in(other_tenant, email="a@globex.test")
    with tenant_scope(other_tenant):
        other = ticket_create(tenant=other_tenant, actor=None, via=Via.CUSTOMER, subject="Hi",
                              requester=ContactFactory(tenant=other_tenant))
    other = ticket_update(ticket=other, actor=other_agent, via=Via.CONSOLE, status=Status.SOLVED)
    with tenant_scope(other_tenant):
        Ticket.objects.filter(pk=other.pk).update(solved_at=DAY0)
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=4)) == 1  # the other tenant's (default 4)
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=10)) == 1
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


@pytest.mark.parametrize("days", [0, 29, 30, -1, "4", 4.5, True])
def test_settings_outside_1_to_28_are_refused(tenant, owner, days):
    with pytest.raises(ValidationError) as exc:
        ticket_settings_update(tenant=tenant, actor=owner, solved_to_closed_days=days)
    assert "solved_to_closed_days" in exc.value.message_dict
    with tenant_scope(tenant):
        assert not TicketSettings.objects.exists()


def test_agents_cannot_change_the_setting(tenant, agent):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        ticket_settings_update(tenant=tenant, actor=agent, solved_to_closed_days=5)


def test_reopened_tickets_are_not_closed(tenant, agent, make_ticket, requester):
    from tickets.services import message_add

    ticket = _solved(tenant, agent, make_ticket, DAY0)
    message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, author_contact=requester, body="Not fixed",
                public=True)
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=5)) == 0


def test_batches_cover_everything(tenant, agent, make_ticket):
    for _ in range(5):
        _solved(tenant, agent, make_ticket, DAY0)
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=4), batch_size=2) == 5


def test_the_beat_task_runs_the_job(tenant, agent, make_ticket):
    ticket = _solved(tenant, agent, make_ticket, timezone.now() - dt.timedelta(days=5))
    close_solved_tickets.delay()
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_beat_schedule_has_the_job(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "tickets.close_solved" in tasks


def test_the_job_uses_the_partial_index(tenant, agent, make_ticket):
    from django.db import connection as conn

    _solved(tenant, agent, make_ticket, DAY0)
    with QueryCounter(conn) as queries:
        tickets_close_solved(now=DAY0 + dt.timedelta(days=1))
    select = next(q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"])
    assert "SKIP LOCKED" in select
    with conn.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        cursor.execute("EXPLAIN " + select.replace("FOR UPDATE OF", "FOR UPDATE OF", 1))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_solved_to_close" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_close_each_ticket_once():
    tenant = TenantFactory(slug="twice")
    agent = agent_in(tenant, email="a@twice.test")
    contact = ContactFactory(tenant=tenant)
    ids = []
    for _ in range(20):
        with tenant_scope(tenant):
            ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject="x", requester=contact)
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
        ids.append(ticket.pk)
    with tenant_scope(tenant):
        Ticket.objects.filter(pk__in=ids).update(solved_at=DAY0)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(tickets_close_solved(now=DAY0 + dt.timedelta(days=4), batch_size=3))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(results) == 20
    with tenant_scope(tenant):
        from tickets.models import Message

        closings = Message.objects.filter(ticket_id__in=ids, kind=MessageKind.SYSTEM,
                                          changes__status=["solved", "closed"]).count()
    assert closings == 20


def test_one_failing_ticket_does_not_stop_the_others(tenant, agent, make_ticket, monkeypatch):
    from tickets import hooks

    bad = _solved(tenant, agent, make_ticket, DAY0)
    good = _solved(tenant, agent, make_ticket, DAY0)

    def fail_for_bad(change):
        if change.ticket.pk == bad.pk and change.changed("status"):
            raise RuntimeError("broken hook")

    monkeypatch.setattr(hooks, "_HOOKS", [*hooks._HOOKS, (999, "test-fail", fail_for_bad)])
    assert tickets_close_solved(now=DAY0 + dt.timedelta(days=4), batch_size=1) == 1
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=good.pk).status == Status.CLOSED
        assert Ticket.objects.get(pk=bad.pk).status == Status.SOLVED
