"""Messages queued by one commit's hooks go out coalesced, and exactly the same ones."""
from __future__ import annotations

import pytest
from celery.signals import task_prerun
from django.db import connection, transaction

from helpdesk.db.commit_batch import CommitBatch, add_to_commit_batch
from helpdesk.events import registry
from helpdesk.events.models import Event
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import current_tenant_id, tenant_scope

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="the batch is held by the PostgreSQL backend")


@pytest.fixture
def tasks_run():
    """Names and arguments of the Celery tasks run (eagerly, in tests) from now on."""
    seen: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **_kwargs):
        seen.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


@pytest.fixture
def dispatched():
    """(event id, tenant in context) of every event a consumer saw."""
    calls: list[tuple[int, int | None]] = []
    registry.register_consumer("test-batch-recorder", lambda event: calls.append((event.pk, current_tenant_id())))
    yield calls
    registry.unregister_consumer("test-batch-recorder")


def dispatch_tasks(tasks_run) -> list[tuple[str, tuple]]:
    return [(name, args) for name, args in tasks_run if name.startswith("events.dispatch")]


def test_each_key_is_flushed_once_with_its_items_and_a_failure_stops_no_other():
    flushed = []

    def broken(key, items):
        raise RuntimeError("broker down")

    batch = CommitBatch()
    batch.add("a", 1, lambda key, items: flushed.append((key, items)))
    batch.add("b", 2, broken)
    batch.add("a", 3, lambda key, items: flushed.append((key, items)))
    batch.add("c", 4, lambda key, items: flushed.append((key, items)))
    batch.flush()
    assert flushed == [("a", [1, 3]), ("c", [4])]
    batch.flush()
    assert len(flushed) == 2  # flushed once


def test_without_a_batch_the_item_goes_out_at_once():
    flushed = []
    add_to_commit_batch("k", 7, lambda key, items: flushed.append((key, items)))
    assert flushed == [("k", [7])]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_events_of_one_commit_are_one_dispatch_message(tasks_run, dispatched):
    from tests.factories import TenantFactory

    tenant, other = TenantFactory(slug="batch-a"), TenantFactory(slug="batch-b")
    tasks_run.clear()
    with transaction.atomic():
        with tenant_scope(tenant), transaction.atomic():  # services nest their own atomic blocks
            first = event_emit(tenant=tenant, type="tenant.created", payload={"n": 1})
        with tenant_scope(tenant), transaction.atomic():
            second = event_emit(tenant=tenant, type="tenant.created", payload={"n": 2})
        with tenant_scope(other):
            third = event_emit(tenant=other, type="tenant.created", payload={"n": 3})
    assert dispatch_tasks(tasks_run) == [("events.dispatch_events", (tenant.pk, [first.pk, second.pk])),
                                         ("events.dispatch_event", (other.pk, third.pk))]
    assert sorted(dispatched) == sorted([(first.pk, tenant.pk), (second.pk, tenant.pk), (third.pk, other.pk)])
    with tenant_scope(tenant):
        assert Event.objects.filter(dispatched_at__isnull=True).count() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_event_rolled_back_with_its_savepoint_is_not_dispatched(tasks_run, dispatched):
    from tests.factories import TenantFactory

    tenant = TenantFactory(slug="batch-c")
    tasks_run.clear()
    with tenant_scope(tenant), transaction.atomic():
        kept = event_emit(tenant=tenant, type="tenant.created")
        with pytest.raises(RuntimeError), transaction.atomic():
            event_emit(tenant=tenant, type="tenant.created")
            raise RuntimeError("rolled back")
    assert dispatch_tasks(tasks_run) == [("events.dispatch_event", (tenant.pk, kept.pk))]
    assert dispatched == [(kept.pk, tenant.pk)]


def test_callbacks_a_test_runs_itself_publish_one_by_one(tenant, tasks_run, dispatched,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with tenant_scope(tenant), transaction.atomic():
            first = event_emit(tenant=tenant, type="tenant.created")
            second = event_emit(tenant=tenant, type="tenant.created")
    assert len(callbacks) == 2
    assert dispatch_tasks(tasks_run) == [("events.dispatch_event", (tenant.pk, first.pk)),
                                         ("events.dispatch_event", (tenant.pk, second.pk))]
    assert dispatched == [(first.pk, tenant.pk), (second.pk, tenant.pk)]
