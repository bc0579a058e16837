"""Webhook fan-out and delivery against a real HTTP receiver on 127.0.0.1."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.audit.models import AuditEntry
from helpdesk.events import services, webhooks
from helpdesk.events.models import DeliveryStatus, WebhookDelivery
from helpdesk.events.tasks import deliver_webhook, retry_due_webhooks
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from tests.core.events.conftest import Reply
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

SECRET = "s3cret-s3cret-s3cret"


def deliveries_of(tenant, subscription=None):
    with tenant_scope(tenant):
        qs = WebhookDelivery.objects.order_by("pk")
        if subscription is not None:
            qs = qs.filter(subscription=subscription)
        return [(d, list(d.attempt_log.order_by("pk"))) for d in qs]


def make_overdue(tenant, delivery):
    """Instead of sleeping through the backoff, move the attempt time past the sweep's grace."""
    with tenant_scope(tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=services.RETRY_SWEEP_GRACE_SECONDS + 1))


def test_delivery_is_a_signed_post_of_the_event(tenant, receiver, allow_private, subscribe, emit):
    subscription = subscribe(receiver.url(), ["membership.created"], secret=SECRET)
    event = emit("membership.created", {"user": "ada@example.com", "role": "agent"})

    (request,) = receiver.requests
    assert request.body == services.delivery_body(event, tenant)
    assert request.json() == {
        "id": event.pk, "type": "membership.created", "created_at": event.created_at.isoformat(),
        "tenant": "acme", "data": {"user": "ada@example.com", "role": "agent"},
    }
    assert webhooks.verify(SECRET, request.body, request.headers["X-Signature"])
    assert request.headers["X-Signature"].startswith("sha256=")
    assert request.headers["X-Event-Id"] == str(event.pk)
    assert request.headers["X-Event-Type"] == "membership.created"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == webhooks.USER_AGENT

    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert delivery.response_status == 200 and delivery.response_body == "ok"
    assert [(a.number, a.response_status) for a in attempts] == [(1, 200)]
    assert attempts[0].duration_ms is not None


def test_event_filter_is_respected(tenant, receiver, allow_private, subscribe, emit):
    only_members = subscribe(receiver.url("/members"), ["membership.created", "membership.changed"])
    everything = subscribe(receiver.url("/all"), ["*"])
    subscribe(receiver.url("/inactive"), ["*"], is_active=False)

    emit("api_key.created")
    emit("membership.changed")

    paths = sorted((r.path, r.headers["X-Event-Type"]) for r in receiver.requests)
    assert paths == [("/all", "api_key.created"), ("/all", "membership.changed"),
                     ("/members", "membership.changed")]
    assert len(deliveries_of(tenant, only_members)) == 1
    assert len(deliveries_of(tenant, everything)) == 2


def test_other_tenants_subscriptions_get_nothing(tenant, other_tenant, receiver, allow_private, subscribe, emit):
    subscribe(receiver.url("/globex"), ["*"], of=other_tenant)
    emit("tenant.created")
    assert receiver.requests == []
    assert deliveries_of(other_tenant) == []


def test_a_500_is_retried_with_backoff_and_then_succeeds(tenant, receiver, allow_private, subscribe, emit,
                                                          django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    subscription = subscribe(receiver.url(), ["tenant.created"], secret=SECRET)
    receiver.reply(Reply(status=500, body=b"boom"))
    before = timezone.now()
    event = emit("tenant.created")

    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 1
    assert delivery.response_status == 500 and delivery.response_body == "boom"
    # The retry the task scheduled ran at once in eager mode and found the attempt not due yet.
    assert len(receiver.requests) == 1
    assert before + timedelta(seconds=30) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=34)

    # The retry sweep picks the delivery up once it is overdue.
    make_overdue(tenant, delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_due_webhooks.delay().get() == 1

    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert [(a.number, a.response_status, a.response_body) for a in attempts] == [(1, 500, "boom"), (2, 200, "ok")]
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["X-Event-Id"] == second.headers["X-Event-Id"] == str(event.pk)
    assert [first.headers["X-Delivery-Attempt"], second.headers["X-Delivery-Attempt"]] == ["1", "2"]
    assert webhooks.verify(SECRET, second.body, second.headers["X-Signature"])


def test_gives_up_after_the_limit_with_every_attempt_logged(tenant, receiver, allow_private, subscribe, emit,
                                                            settings):
    # Backoff 0: each attempt is due at once, so the task's own retries run the whole
    # schedule synchronously in eager mode, with no sleeping.
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    receiver.default = Reply(status=503, body=b"down")
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")

    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert len(receiver.requests) == 4
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 4
    assert delivery.next_attempt_at is None
    assert [(a.number, a.response_status, a.response_body) for a in attempts] == [
        (n, 503, "down") for n in (1, 2, 3, 4)]
    # Failed deliveries are not picked up again.
    assert services.webhook_deliveries_queue_due(grace_seconds=0) == 0


def test_timeouts_and_connection_errors_are_logged_and_retried(tenant, receiver, allow_private, subscribe, emit,
                                                               settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.reply(Reply(status=200, delay=1.0))
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.response_status is None and "Timed out" in delivery.error
    assert attempts[0].error == delivery.error and attempts[0].duration_ms >= 200


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_client_errors_fail_at_once(tenant, receiver, allow_private, subscribe, emit, status):
    receiver.reply(status)
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert len(attempts) == 1 and len(receiver.requests) == 1


def test_429_is_retried_no_sooner_than_retry_after(tenant, receiver, allow_private, subscribe, emit, settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 1
    receiver.reply(Reply(status=429, headers={"Retry-After": "600"}))
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, _),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=590)


def test_private_target_is_refused_at_delivery_time(tenant, receiver, deny_private, subscribe, emit):
    # Saved while allowed (or the host's DNS changed since): the delivery checks again.
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "loopback" in delivery.error and "loopback" in attempts[0].error


def test_a_deactivated_webhook_is_not_called(tenant, receiver, allow_private, subscribe, settings,
                                             django_capture_on_commit_callbacks, emit):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    receiver.reply(500)
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, _),) = deliveries_of(tenant, subscription)
    with tenant_scope(tenant):
        services.webhook_update(subscription=subscription, is_active=False)
    make_overdue(tenant, delivery)
    with django_capture_on_commit_callbacks(execute=True):
        retry_due_webhooks.delay()
    ((delivery, attempts),) = deliveries_of(tenant, subscription)
    assert delivery.status == DeliveryStatus.FAILED and "deactivated" in delivery.error
    assert len(receiver.requests) == 1 and len(attempts) == 1


def test_one_attempt_per_claim_even_with_duplicate_messages(tenant, receiver, allow_private, subscribe, emit,
                                                            settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    receiver.reply(500)
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, _),) = deliveries_of(tenant, subscription)
    # A duplicated or early message: the attempt is not due, nothing is sent.
    deliver_webhook.delay(tenant.pk, delivery.pk)
    assert len(receiver.requests) == 1
    make_overdue(tenant, delivery)
    with tenant_scope(tenant):
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is not None
        # Succeeded now: a late duplicate finds nothing to do.
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 2


def test_a_task_only_sees_its_own_tenants_delivery(tenant, other_tenant, receiver, allow_private, subscribe,
                                                   emit, settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    receiver.reply(500)
    subscription = subscribe(receiver.url(), ["*"])
    emit("tenant.created")
    ((delivery, _),) = deliveries_of(tenant, subscription)
    make_overdue(tenant, delivery)
    deliver_webhook.delay(other_tenant.pk, delivery.pk)  # the wrong tenant id: RLS and the filter hide it
    assert len(receiver.requests) == 1
    deliver_webhook.delay(tenant.pk, delivery.pk)
    assert len(receiver.requests) == 2


def test_the_retry_sweep_crosses_tenants_and_queues_only_overdue_deliveries(
        tenant, other_tenant, receiver, allow_private, subscribe, emit, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    receiver.default = Reply(status=500)
    subscribe(receiver.url("/acme"), ["*"])
    subscribe(receiver.url("/globex"), ["*"], of=other_tenant)
    emit("tenant.created")
    emit("tenant.created", of=other_tenant)
    emit("api_key.created")  # its retry is not due yet
    overdue = [d for t in (tenant, other_tenant) for d, _ in deliveries_of(t)][:1] + \
              [d for d, _ in deliveries_of(other_tenant)]
    for delivery in overdue:
        make_overdue(delivery.tenant, delivery)
    assert len(receiver.requests) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_deliveries_queue_due() == 2
    assert sorted(r.path for r in receiver.requests[3:]) == ["/acme", "/globex"]


def test_body_is_json_with_non_ascii_data_signed_as_sent(tenant, receiver, allow_private, subscribe, emit):
    subscribe(receiver.url(), ["*"], secret=SECRET)
    emit("tenant.created", {"name": "İade Şirketi", "when": timezone.now()})
    (request,) = receiver.requests
    assert json.loads(request.body.decode("utf-8"))["data"]["name"] == "İade Şirketi"
    assert webhooks.verify(SECRET, request.body, request.headers["X-Signature"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_the_retry_sweep_reads_the_partial_index():
    """A range scan of ``delivery_due``: its cost follows the waiting deliveries, not the log."""
    with QueryCounter(connection) as queries:
        services.webhook_deliveries_queue_due()
    sweep_sql = next(q["sql"] for q in queries.captured_queries if "FOR UPDATE SKIP LOCKED" in q["sql"])
    with dangerously_unscoped(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sweep_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "delivery_due" in plan


def test_update_compares_with_the_stored_row_not_a_modified_instance(tenant, subscribe, allow_private):
    """The admin's ModelForm copies new values onto the instance before calling the service."""
    subscription = subscribe("http://127.0.0.1:9/a", ["tenant.created"])
    subscription.url = "http://127.0.0.1:9/b"
    subscription.is_active = False
    with tenant_scope(tenant):
        services.webhook_update(subscription=subscription, url="http://127.0.0.1:9/b", is_active=False)
        stored = type(subscription).objects.get(pk=subscription.pk)
        entry = AuditEntry.objects.get(action="webhook.updated")
    assert (stored.url, stored.is_active) == ("http://127.0.0.1:9/b", False)
    assert entry.before == {"url": "http://127.0.0.1:9/a", "is_active": True}
