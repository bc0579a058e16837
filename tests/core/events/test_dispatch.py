"""The outbox and its dispatcher: after commit, once per consumer, swept when missed."""
from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.events import dispatch, registry
from helpdesk.events.models import Event
from helpdesk.events.realtime import agents_group
from helpdesk.events.services import event_emit
from helpdesk.events.tasks import dispatch_event, redispatch_pending
from helpdesk.tenancy.context import current_tenant_id, dangerously_unscoped, tenant_scope
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and plans are PostgreSQL's")


class Recorder:
    """A temporary consumer: records (event id, tenant in context); fails while ``failing``."""

    def __init__(self, name: str = "test-recorder", *, failing: bool = False, event_types=None):
        self.name = name
        self.calls: list[tuple[int, int | None]] = []
        self.failing = failing
        self.event_types = event_types

    def __call__(self, event: Event) -> None:
        self.calls.append((event.pk, current_tenant_id()))
        if self.failing:
            raise RuntimeError("consumer down")


@pytest.fixture
def recorder():
    made = []

    def make(name: str = "test-recorder", **kwargs) -> Recorder:
        consumer = Recorder(name, **kwargs)
        registry.register_consumer(name, consumer, event_types=kwargs.get("event_types"))
        made.append(name)
        return consumer

    yield make
    for name in made:
        registry.unregister_consumer(name)


def write_event(tenant, type: str = "tenant.created", *, age_seconds: float = 0) -> Event:
    """An event whose after-commit dispatch never ran (the message was lost)."""
    with tenant_scope(tenant):
        event = Event.objects.create(tenant=tenant, type=type, payload={"n": 1})
        if age_seconds:
            Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=age_seconds))
            event.refresh_from_db()
    return event


def reload(event: Event) -> Event:
    with tenant_scope(event.tenant):
        return Event.objects.get(pk=event.pk)


# --- the outbox ---------------------------------------------------------------------------


def test_the_event_exists_and_is_dispatched_when_the_transaction_commits(
        tenant, recorder, django_capture_on_commit_callbacks):
    consumer = recorder()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic(), tenant_scope(tenant):
            event = event_emit(tenant=tenant, type="tenant.created", payload={"slug": "acme"})
            # Nothing is dispatched before the commit.
            assert consumer.calls == []
    assert len(callbacks) == 1
    event = reload(event)
    assert consumer.calls == [(event.pk, tenant.pk)]
    assert event.dispatched_at is not None and event.dispatch_attempts == 1
    assert event.handled_by == ["webhooks", "realtime", "test-recorder"]


def test_a_batch_is_one_insert_and_one_dispatch_task(tenant, other_tenant, recorder,
                                                      django_capture_on_commit_callbacks):
    from helpdesk.events.services import events_emit_many

    consumer = recorder()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic(), tenant_scope(tenant):
            with QueryCounter(connection) as inserts:
                events = events_emit_many(tenant=tenant, type="tenant.created",
                                          items=[(tenant, {"n": i}) for i in range(25)])
    assert len([q for q in inserts.captured_queries if q["sql"].startswith("INSERT")]) == 1
    assert len(callbacks) == 1
    assert sorted(call[0] for call in consumer.calls) == sorted(e.pk for e in events)
    assert {call[1] for call in consumer.calls} == {tenant.pk}
    with tenant_scope(tenant):
        assert Event.objects.filter(dispatched_at__isnull=False).count() == 25
        assert sorted(e.payload["n"] for e in Event.objects.all()) == list(range(25))


def test_no_event_and_no_dispatch_when_the_transaction_rolls_back(
        tenant, recorder, django_capture_on_commit_callbacks):
    consumer = recorder()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError), transaction.atomic(), tenant_scope(tenant):
            event_emit(tenant=tenant, type="tenant.created")
            raise ValueError("the change failed")
    assert callbacks == []
    assert consumer.calls == []
    with tenant_scope(tenant):
        assert not Event.objects.exists()


def test_event_records_subject_actor_and_payload(tenant, owner, in_tenant):
    event = event_emit(tenant=tenant, type="tenant.created", subject=tenant, actor=owner,
                       payload={"at": timezone.now()})
    event.refresh_from_db()
    assert (event.subject_type, event.subject_id, event.actor_id) == ("tenancy.tenant", str(tenant.pk), owner.pk)
    assert isinstance(event.payload["at"], str)  # datetimes are stored as ISO strings


# --- dispatch -----------------------------------------------------------------------------


def test_dispatching_twice_runs_consumers_once(tenant, recorder):
    consumer = recorder()
    event = write_event(tenant)
    dispatch_event.delay(tenant.pk, event.pk)
    dispatch_event.delay(tenant.pk, event.pk)
    assert consumer.calls == [(event.pk, tenant.pk)]


def test_a_task_with_another_tenants_id_dispatches_nothing(tenant, other_tenant, recorder):
    consumer = recorder()
    event = write_event(tenant)
    dispatch_event.delay(other_tenant.pk, event.pk)
    assert consumer.calls == []
    assert reload(event).dispatched_at is None


def test_consumers_see_only_their_types(tenant, recorder):
    members = recorder("test-members", event_types=["membership.created"])
    write_event(tenant, "tenant.created")
    event = write_event(tenant, "membership.created")
    with tenant_scope(tenant):
        ids = list(Event.objects.values_list("pk", flat=True))
    for event_id in ids:
        dispatch_event.delay(tenant.pk, event_id)
    assert members.calls == [(event.pk, tenant.pk)]


def test_a_failing_consumer_is_retried_by_the_sweep_without_rerunning_the_others(tenant, recorder):
    healthy = recorder("test-healthy")
    flaky = recorder("test-flaky", failing=True)
    event = write_event(tenant)
    dispatch_event.delay(tenant.pk, event.pk)

    event = reload(event)
    assert event.dispatched_at is None and event.dispatch_attempts == 1
    assert event.handled_by == ["webhooks", "realtime", "test-healthy"]
    assert "test-flaky: RuntimeError: consumer down" in event.dispatch_error

    flaky.failing = False
    assert dispatch.events_redispatch_pending(grace_seconds=0) == 1
    event = reload(event)
    assert event.dispatched_at is not None and event.dispatch_error == ""
    assert event.handled_by == ["webhooks", "realtime", "test-healthy", "test-flaky"]
    assert len(healthy.calls) == 1 and len(flaky.calls) == 2


def test_a_consumer_that_keeps_failing_is_given_up_after_the_limit(tenant, recorder, settings):
    settings.EVENTS_MAX_DISPATCH_ATTEMPTS = 3
    recorder("test-broken", failing=True)
    event = write_event(tenant)
    for _ in range(5):
        dispatch.events_redispatch_pending(grace_seconds=0)
    event = reload(event)
    assert event.dispatch_attempts == 3 and event.dispatched_at is not None
    assert "consumer down" in event.dispatch_error and "test-broken" not in event.handled_by


def test_a_failing_consumer_leaves_no_half_written_rows(tenant, recorder):
    from helpdesk.people.models import Contact

    def half_work(event):
        Contact.objects.create(tenant_id=event.tenant_id, name="half")
        raise RuntimeError("after writing")

    registry.register_consumer("test-half", half_work)
    try:
        event = write_event(tenant)
        dispatch_event.delay(tenant.pk, event.pk)
    finally:
        registry.unregister_consumer("test-half")
    with tenant_scope(tenant):
        assert not Contact.objects.filter(name="half").exists()
    assert reload(event).dispatched_at is None


# --- the sweep ----------------------------------------------------------------------------


def test_the_sweep_dispatches_missed_events_once_even_when_run_twice(tenant, other_tenant, recorder):
    consumer = recorder()
    missed = write_event(tenant, age_seconds=600)
    missed_elsewhere = write_event(other_tenant, age_seconds=600)
    recent = write_event(tenant, age_seconds=1)  # within the grace: its queued dispatch may still come
    done = write_event(tenant, age_seconds=600)
    with tenant_scope(tenant):
        Event.objects.filter(pk=done.pk).update(dispatched_at=timezone.now())

    assert redispatch_pending.delay().get() == 2
    assert redispatch_pending.delay().get() == 0

    # Each in its own tenant's scope (RLS applies inside the sweep's consumers too).
    assert sorted(consumer.calls) == sorted([(missed.pk, tenant.pk), (missed_elsewhere.pk, other_tenant.pk)])
    assert reload(missed).dispatched_at is not None
    assert reload(recent).dispatched_at is None


def test_the_sweep_is_bounded_and_oldest_first(tenant, recorder):
    consumer = recorder()
    events = [write_event(tenant, age_seconds=1000 - i) for i in range(5)]
    assert dispatch.events_redispatch_pending(grace_seconds=0, batch_size=2) == 2
    assert [c[0] for c in consumer.calls] == [events[0].pk, events[1].pk]


@postgres_only
def test_the_sweep_reads_the_partial_index(tenant):
    """Its query is a range scan of ``event_undispatched``, whatever the table's size."""
    write_event(tenant, age_seconds=600)
    with QueryCounter(connection) as queries:
        dispatch.events_redispatch_pending(grace_seconds=0, batch_size=10)
    sweep_sql = next(q["sql"] for q in queries.captured_queries if "FOR UPDATE SKIP LOCKED" in q["sql"])
    with dangerously_unscoped(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sweep_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "event_undispatched" in plan


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_an_event_another_worker_holds(recorder):
    """SKIP LOCKED: an event locked by a worker dispatching it is not handled twice."""
    from tests.factories import TenantFactory

    tenant = TenantFactory(slug="locks")
    consumer = recorder()
    held = write_event(tenant, age_seconds=600)
    free = write_event(tenant, age_seconds=600)
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def worker():
        try:
            with tenant_scope(tenant), transaction.atomic():
                Event.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert dispatch.events_redispatch_pending(grace_seconds=0) == 1
        assert consumer.calls == [(free.pk, tenant.pk)]
    finally:
        release.set()
        thread.join(10)
    assert dispatch.events_redispatch_pending(grace_seconds=0) == 1
    assert [c[0] for c in consumer.calls] == [free.pk, held.pk]


# --- real-time push -----------------------------------------------------------------------


def test_dispatch_pushes_the_event_to_the_tenants_agents_group(tenant, other_tenant, emit):
    layer = get_channel_layer()
    if settings.REDIS_URL:  # full mode: the real Redis layer, not the in-memory one
        assert type(layer).__module__.startswith("channels_redis")
    channel = async_to_sync(layer.new_channel)()
    other_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(agents_group(tenant.pk), channel)
    async_to_sync(layer.group_add)(agents_group(other_tenant.pk), other_channel)

    async def receive(name, timeout):
        return await asyncio.wait_for(layer.receive(name), timeout)

    try:
        event = emit("membership.created", {"user": "ada@example.com"}, subject=tenant)
        message = async_to_sync(receive)(channel, 5)
        assert message == {
            "type": "event.push",
            "event": {
                "id": event.pk, "type": "membership.created", "created_at": event.created_at.isoformat(),
                "subject_type": "tenancy.tenant", "subject_id": str(tenant.pk),
                "data": {"user": "ada@example.com"},
            },
        }
        with pytest.raises(asyncio.TimeoutError):
            async_to_sync(receive)(other_channel, 0.3)
    finally:
        async_to_sync(layer.group_discard)(agents_group(tenant.pk), channel)
        async_to_sync(layer.group_discard)(agents_group(other_tenant.pk), other_channel)


def test_pings_are_not_pushed_to_agents(tenant, emit):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(agents_group(tenant.pk), channel)

    async def receive(timeout):
        return await asyncio.wait_for(layer.receive(channel), timeout)

    try:
        emit("webhook.ping")
        with pytest.raises(asyncio.TimeoutError):
            async_to_sync(receive)(0.3)
    finally:
        async_to_sync(layer.group_discard)(agents_group(tenant.pk), channel)
