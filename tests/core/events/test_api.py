"""``/api/v1/webhooks/``: the contract, scopes, tenant isolation and query counts."""
from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from helpdesk.audit.models import AuditEntry
from helpdesk.events import webhooks
from helpdesk.events.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import api_key_create
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address literal: no DNS needed


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """API writes queue dispatch and deliveries after commit: run them."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def client_with(tenant, scopes):
    _key, raw = api_key_create(tenant=tenant, name="scoped", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def create(client, **body):
    body = {"url": PUBLIC_URL, "events": ["tenant.created"], **body}
    return client.post("/api/v1/webhooks/", body, format="json")


def stored(tenant, pk):
    with tenant_scope(tenant):
        return WebhookSubscription.objects.get(pk=pk)


# --- create -------------------------------------------------------------------------------


def test_create_shows_the_generated_secret_once(api_client, tenant):
    response = create(api_client, events=["membership.created", "tenant.created"], description="CRM sync")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "url", "events", "description", "is_active", "created_at", "secret"}
    assert body["url"] == PUBLIC_URL and body["events"] == ["membership.created", "tenant.created"]
    assert body["is_active"] is True and body["description"] == "CRM sync"
    secret = body["secret"]
    assert len(secret) >= 32
    subscription = stored(tenant, body["id"])
    assert subscription.secret == secret
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM events_webhooksubscription WHERE id = %s", [body["id"]])
        (stored_value,) = cursor.fetchone()
    assert stored_value and secret not in stored_value  # encrypted at rest

    detail = api_client.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in detail and detail["id"] == body["id"]
    listed = api_client.get("/api/v1/webhooks/").json()
    assert [w["id"] for w in listed["results"]] == [body["id"]]
    assert all("secret" not in w for w in listed["results"])


def test_create_with_a_given_secret_signs_with_it(api_client, tenant):
    secret = "my-own-secret-of-some-length"
    body = create(api_client, secret=secret).json()
    assert body["secret"] == secret
    assert stored(tenant, body["id"]).secret == secret


def test_create_is_audited_without_the_secret(api_client, tenant):
    body = create(api_client).json()
    with tenant_scope(tenant):
        entry = AuditEntry.objects.get(action="webhook.created")
    assert entry.object_id == str(body["id"]) and entry.after["url"] == PUBLIC_URL
    assert body["secret"] not in str(entry.after)


def test_wildcard_subscribes_to_everything(api_client):
    body = create(api_client, events=["*", "tenant.created"]).json()
    assert body["events"] == ["*"]


def test_unknown_event_types_are_a_400_listing_what_is_allowed(api_client, tenant):
    response = create(api_client, events=["tenant.created", "ticket.teleported"])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    (message,) = error["fields"]["events"]
    assert "ticket.teleported" in message
    for allowed in ("*", "tenant.created", "membership.changed", "api_key.revoked", "webhook.ping"):
        assert allowed in message
    with tenant_scope(tenant):
        assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("body,field", [
    ({"events": []}, "events"),
    ({"events": "tenant.created"}, "events"),
    ({"url": "not a url"}, "url"),
    ({"url": "ftp://93.184.215.14/x"}, "url"),
    ({"secret": "short"}, "secret"),
    ({"secrets": "typo-typo-typo-typo"}, "secrets"),
    ({"description": "x" * 201}, "description"),
])
def test_invalid_input_is_a_400_naming_the_field(api_client, tenant, body, field):
    response = create(api_client, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with tenant_scope(tenant):
        assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.7/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
    "http://0.0.0.0/", "http://100.64.0.1/",
])
def test_private_targets_are_refused_with_a_clear_400(api_client, tenant, deny_private, url):
    response = create(api_client, url=url)
    assert response.status_code == 400
    (message,) = response.json()["error"]["fields"]["url"]
    assert "cannot be sent to" in message
    with tenant_scope(tenant):
        assert not WebhookSubscription.objects.exists()


def test_private_targets_are_accepted_when_the_setting_allows(api_client, allow_private):
    assert create(api_client, url="http://127.0.0.1:9/hook").status_code == 201


# --- read, change, delete -----------------------------------------------------------------


def test_patch_changes_what_is_given(api_client, tenant):
    pk = create(api_client).json()["id"]
    response = api_client.patch(f"/api/v1/webhooks/{pk}/", {"events": ["api_key.created"], "is_active": False,
                                                             "description": "paused"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["events"] == ["api_key.created"] and response.json()["is_active"] is False
    subscription = stored(tenant, pk)
    assert (subscription.events, subscription.is_active, subscription.description, subscription.url) == (
        ["api_key.created"], False, "paused", PUBLIC_URL)
    with tenant_scope(tenant):
        entry = AuditEntry.objects.get(action="webhook.updated")
    assert entry.before == {"events": ["tenant.created"], "is_active": True, "description": ""}


@pytest.mark.parametrize("body,field", [
    ({"url": "http://127.0.0.1/"}, "url"),
    ({"events": ["nope"]}, "events"),
    ({"secret": "rotate-me-rotate-me"}, "secret"),
    ({"is_active": "maybe"}, "is_active"),
])
def test_bad_patch_is_a_400_and_changes_nothing(api_client, tenant, deny_private, body, field):
    pk = create(api_client).json()["id"]
    before = stored(tenant, pk)
    response = api_client.patch(f"/api/v1/webhooks/{pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    after = stored(tenant, pk)
    assert (after.url, after.events, after.is_active, after.secret) == (
        before.url, before.events, before.is_active, before.secret)


def test_put_is_not_offered(api_client, tenant):
    pk = create(api_client).json()["id"]
    # Undeclared methods are refused before routing (default-deny), or not allowed.
    assert api_client.put(f"/api/v1/webhooks/{pk}/", {"url": PUBLIC_URL, "events": ["*"]},
                          format="json").status_code in (403, 405)
    assert stored(tenant, pk).events == ["tenant.created"]


def test_delete_removes_the_webhook_and_its_log(api_client, tenant):
    pk = create(api_client).json()["id"]
    assert api_client.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    assert api_client.get(f"/api/v1/webhooks/{pk}/").status_code == 404
    with tenant_scope(tenant):
        assert AuditEntry.objects.filter(action="webhook.deleted", object_id=str(pk)).exists()


def test_list_filters_on_is_active(api_client):
    active = create(api_client).json()["id"]
    inactive = create(api_client).json()["id"]
    api_client.patch(f"/api/v1/webhooks/{inactive}/", {"is_active": False}, format="json")
    assert [w["id"] for w in api_client.get("/api/v1/webhooks/?is_active=false").json()["results"]] == [inactive]
    assert [w["id"] for w in api_client.get("/api/v1/webhooks/?is_active=true").json()["results"]] == [active]
    assert len(api_client.get("/api/v1/webhooks/").json()["results"]) == 2


def test_list_is_cursor_paginated_newest_first(api_client):
    ids = [create(api_client).json()["id"] for _ in range(3)]
    first = api_client.get("/api/v1/webhooks/?page_size=2").json()
    assert [w["id"] for w in first["results"]] == ids[::-1][:2]
    second = APIClient.get(api_client, first["next"]).json()
    assert [w["id"] for w in second["results"]] == ids[:1]


def test_list_query_count_does_not_grow_with_rows(api_client, tenant, django_assert_num_queries):
    create(api_client)
    api_client.get("/api/v1/webhooks/")  # warm up (the key's last-used stamp)
    with QueryCounter(connection) as one_row:
        assert len(api_client.get("/api/v1/webhooks/").json()["results"]) == 1
    baseline = len(one_row)  # read now: every request resets the connection's query log
    for _ in range(6):
        create(api_client)
    with django_assert_num_queries(baseline):
        assert len(api_client.get("/api/v1/webhooks/").json()["results"]) == 7


def test_event_types_lists_the_registry(api_client):
    response = api_client.get("/api/v1/webhooks/event-types/")
    assert response.status_code == 200
    rows = {row["name"]: row["description"] for row in response.json()}
    assert {"tenant.created", "membership.created", "membership.changed", "api_key.created",
            "api_key.revoked", "webhook.ping"} <= set(rows)
    assert all(rows.values())


# --- scopes and isolation -----------------------------------------------------------------


def test_scopes_are_declared_per_action(tenant, api_client):
    pk = create(api_client).json()["id"]
    reader = client_with(tenant, ["webhooks:read"])
    assert reader.get("/api/v1/webhooks/").status_code == 200
    assert reader.get(f"/api/v1/webhooks/{pk}/deliveries/").status_code == 200
    assert create(reader).status_code == 403
    assert reader.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json").status_code == 403
    assert reader.post(f"/api/v1/webhooks/{pk}/ping/").status_code == 403
    assert reader.delete(f"/api/v1/webhooks/{pk}/").status_code == 403
    outsider = client_with(tenant, ["tickets:read"])
    assert outsider.get("/api/v1/webhooks/").status_code == 403
    assert APIClient().get("/api/v1/webhooks/").status_code in (401, 403)


def test_another_tenants_webhook_is_a_404_and_untouched(api_client, other_api_client, tenant):
    pk = create(api_client).json()["id"]
    with tenant_scope(tenant):
        delivery_pk = _a_delivery(tenant, stored(tenant, pk)).pk
    base = f"/api/v1/webhooks/{pk}/"
    assert other_api_client.get(base).status_code == 404
    assert other_api_client.patch(base, {"is_active": False}, format="json").status_code == 404
    assert other_api_client.delete(base).status_code == 404
    assert other_api_client.get(base + "deliveries/").status_code == 404
    assert other_api_client.post(base + "ping/").status_code == 404
    assert other_api_client.post(base + f"deliveries/{delivery_pk}/redeliver/").status_code == 404
    body = other_api_client.get(base).json()
    assert body["error"]["code"] == "not_found" and PUBLIC_URL not in str(body)
    assert other_api_client.get("/api/v1/webhooks/").json()["results"] == []
    assert stored(tenant, pk).is_active is True


def _a_delivery(tenant, subscription, status=DeliveryStatus.FAILED):
    from helpdesk.events.models import Event

    with tenant_scope(tenant):
        event = Event.objects.create(tenant=tenant, type="tenant.created", payload={})
        return WebhookDelivery.objects.create(tenant=tenant, subscription=subscription, event=event,
                                              status=status, attempts=8, error="gave up")


# --- deliveries, ping, redeliver against a real receiver ------------------------------------


def test_ping_delivers_to_that_webhook_only(api_client, tenant, receiver, allow_private, run_on_commit):
    target = create(api_client, url=receiver.url("/target"), events=["membership.created"]).json()
    create(api_client, url=receiver.url("/bystander"), events=["*"])
    with run_on_commit():
        response = api_client.post(f"/api/v1/webhooks/{target['id']}/ping/")
    assert response.status_code == 202, response.json()
    assert response.json()["event"]["type"] == "webhook.ping"
    (request,) = receiver.requests
    assert request.path == "/target" and request.headers["X-Event-Type"] == "webhook.ping"
    assert webhooks.verify(target["secret"], request.body, request.headers["X-Signature"])
    assert request.json()["data"] == {"webhook_id": target["id"], "url": receiver.url("/target")}
    with tenant_scope(tenant):
        delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_ping_of_an_inactive_webhook_is_a_400(api_client):
    pk = create(api_client).json()["id"]
    api_client.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json")
    assert api_client.post(f"/api/v1/webhooks/{pk}/ping/").status_code == 400


def test_deliveries_are_listed_newest_first_with_their_attempts(
        api_client, tenant, receiver, allow_private, run_on_commit, settings):
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    webhook = create(api_client, url=receiver.url(), events=["webhook.ping"]).json()
    receiver.reply(500)
    with run_on_commit():
        first = api_client.post(f"/api/v1/webhooks/{webhook['id']}/ping/").json()
    with run_on_commit():
        second = api_client.post(f"/api/v1/webhooks/{webhook['id']}/ping/").json()
    response = api_client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [second["id"], first["id"]]
    assert rows[1]["status"] == "retrying" and rows[1]["response_status"] == 500
    assert rows[1]["attempt_log"][0]["number"] == 1 and rows[1]["attempt_log"][0]["response_status"] == 500
    assert rows[0]["status"] == "succeeded" and rows[0]["event"]["type"] == "webhook.ping"


def test_deliveries_query_count_does_not_grow_with_rows(api_client, tenant, django_assert_num_queries):
    pk = create(api_client).json()["id"]
    subscription = stored(tenant, pk)
    _a_delivery(tenant, subscription)
    url = f"/api/v1/webhooks/{pk}/deliveries/"
    api_client.get(url)
    with QueryCounter(connection) as one_row:
        assert len(api_client.get(url).json()["results"]) == 1
    baseline = len(one_row)
    assert baseline <= 5  # key, webhook, deliveries with their events, attempts
    for _ in range(5):
        _a_delivery(tenant, subscription)
    with django_assert_num_queries(baseline):
        assert len(api_client.get(url).json()["results"]) == 6


def test_redeliver_sends_a_failed_delivery_again(api_client, tenant, receiver, allow_private, run_on_commit):
    webhook = create(api_client, url=receiver.url(), events=["*"]).json()
    delivery = _a_delivery(tenant, stored(tenant, webhook["id"]))
    with run_on_commit():
        response = api_client.post(f"/api/v1/webhooks/{webhook['id']}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] in ("pending", "succeeded")
    (request,) = receiver.requests
    assert request.headers["X-Event-Id"] == str(delivery.event_id)
    with tenant_scope(tenant):
        delivery.refresh_from_db()
        assert AuditEntry.objects.filter(action="webhook.redelivered").count() == 1
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1


def test_redeliver_of_a_delivery_in_progress_is_a_400(api_client, tenant):
    pk = create(api_client).json()["id"]
    delivery = _a_delivery(tenant, stored(tenant, pk), status=DeliveryStatus.RETRYING)
    response = api_client.post(f"/api/v1/webhooks/{pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 400


def test_redeliver_of_another_webhooks_delivery_is_a_404(api_client, tenant):
    one = create(api_client).json()["id"]
    two = create(api_client).json()["id"]
    delivery = _a_delivery(tenant, stored(tenant, two))
    assert api_client.post(f"/api/v1/webhooks/{one}/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert api_client.post(f"/api/v1/webhooks/{one}/deliveries/999999/redeliver/").status_code == 404
    assert api_client.get("/api/v1/webhooks/abc/").status_code == 404


def test_webhook_created_event_reaches_subscribers(api_client, tenant, receiver, allow_private, run_on_commit):
    listener = create(api_client, url=receiver.url("/listener"), events=["webhook.created"]).json()
    with run_on_commit():
        created = create(api_client).json()
    (request,) = receiver.requests
    data = request.json()["data"]
    assert request.headers["X-Event-Type"] == "webhook.created"
    assert data["id"] == created["id"] and created["secret"] not in request.body.decode()
    assert webhooks.verify(listener["secret"], request.body, request.headers["X-Signature"])
