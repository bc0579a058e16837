"""``Idempotency-Key`` on POST: replay the first response, refuse reuse, refuse overlap."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client, override_settings

from helpdesk.people.models import Organization
from helpdesk.tenancy.context import dangerously_unscoped
from tests.core.api.probe import Calls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api.urls")]

PROBE = "/api/v1/_probe/"


def organizations() -> int:
    with dangerously_unscoped():
        return Organization.unscoped.count()


def post(client, path=PROBE, body=None, key="key-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body if body is not None else {"name": "Initech"}, format="json", **headers, **extra)


def test_a_replay_returns_the_first_response_without_acting_again(api_client):
    first = post(api_client)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(api_client)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Location"] == first["Location"]
    assert second["Content-Type"] == first["Content-Type"]
    assert Calls.created == 1
    assert organizations() == 1


def test_without_a_key_every_post_acts(api_client):
    post(api_client, key=None)
    post(api_client, key=None)
    assert organizations() == 2


def test_different_keys_act_separately(api_client):
    assert post(api_client, key="a").status_code == 201
    assert post(api_client, key="b").status_code == 201
    assert organizations() == 2


def test_the_same_key_with_a_different_body_is_422(api_client):
    assert post(api_client, body={"name": "Initech"}).status_code == 201
    response = post(api_client, body={"name": "Initrode"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert organizations() == 1


def test_the_same_key_on_another_endpoint_is_422(api_client):
    assert post(api_client).status_code == 201
    response = post(api_client, path=f"{PROBE}slow/")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_are_per_credential(api_client, tenant, client_for):
    from helpdesk.tenancy.services import api_key_create

    _key, raw = api_key_create(tenant=tenant, name="second")
    assert post(api_client).status_code == 201
    other = post(client_for(raw))
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert organizations() == 2


def test_keys_are_per_tenant(api_client, other_api_client):
    assert post(api_client).status_code == 201
    other = post(other_api_client)
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    with dangerously_unscoped():
        assert sorted(Organization.unscoped.values_list("tenant__slug", flat=True)) == ["acme", "globex"]


def test_validation_errors_are_stored_and_replayed(api_client):
    first = post(api_client, body={"nmae": "x"})
    assert first.status_code == 400
    second = post(api_client, body={"nmae": "x"})
    assert second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


def test_server_errors_are_not_stored(api_key):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}", raise_request_exception=False)
    for _ in range(2):
        response = client.post(f"{PROBE}explode/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="boom")
        assert response.status_code == 500
        assert "Idempotent-Replayed" not in response
    assert Calls.exploded == 2


def test_transient_conflicts_are_not_stored(api_client):
    for _ in range(2):
        response = post(api_client, path=f"{PROBE}reject/", body={})
        assert response.status_code == 409
        assert "Idempotent-Replayed" not in response
    assert Calls.exploded == 2


def test_a_key_longer_than_255_is_400(api_client):
    response = post(api_client, key="k" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert post(api_client, key="k" * 255).status_code == 201
    assert organizations() == 1


@pytest.mark.parametrize("key", ["", "   ", "ключ", "a\tb"])
def test_unusable_keys_are_400(api_client, key):
    response = post(api_client, key=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert organizations() == 0


def test_without_valid_credentials_the_key_is_ignored_and_the_answer_is_401(db):
    for _ in range(2):
        response = Client().post(PROBE, {"name": "x"}, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY="k", HTTP_AUTHORIZATION="Bearer hk_00_nope")
        assert response.status_code == 401
        assert "Idempotent-Replayed" not in response


def test_get_requests_ignore_the_header(api_client):
    first = api_client.get("/api/v1/me/", HTTP_IDEMPOTENCY_KEY="k")
    second = api_client.get("/api/v1/me/", HTTP_IDEMPOTENCY_KEY="k")
    assert "Idempotent-Replayed" not in second
    assert first.status_code == second.status_code == 200


def test_session_requests_are_idempotent_too(client, agent, tenant):
    client.force_login(agent)
    kwargs = {"content_type": "application/json", "HTTP_HOST": "acme.localhost", "HTTP_IDEMPOTENCY_KEY": "s1"}
    first = client.post(PROBE, {"name": "Session Co"}, **kwargs)
    assert first.status_code == 201
    second = client.post(PROBE, {"name": "Session Co"}, **kwargs)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert organizations() == 1


def test_a_session_replay_needs_the_csrf_token_like_a_first_call(agent, tenant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    kwargs = {"content_type": "application/json", "HTTP_HOST": "acme.localhost", "HTTP_IDEMPOTENCY_KEY": "s1"}
    response = client.post(PROBE, {"name": "Session Co"}, **kwargs)
    assert response.status_code == 403
    assert organizations() == 0


@override_settings(API_IDEMPOTENCY_TTL_SECONDS=1)
def test_stored_responses_expire(api_client):
    import time

    assert post(api_client).status_code == 201
    time.sleep(1.2)
    response = post(api_client)
    assert "Idempotent-Replayed" not in response
    assert organizations() == 2


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_request_with_the_same_key_is_409(api_key):
    """The first request holds the key while it runs; the second must not run beside it."""
    results = {}

    def first():
        try:
            results["first"] = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
                f"{PROBE}slow/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert Calls.slow_entered.wait(10), "the first request never started"
        second = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
            f"{PROBE}slow/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "idempotency_request_in_progress"
        assert second["Retry-After"] == "1"
        different = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
            f"{PROBE}slow/", {"x": 1}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")
        assert different.status_code == 422
    finally:
        Calls.slow_release.set()
        thread.join(10)
    assert results["first"].status_code == 201
    assert Calls.created == 1
    third = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").post(
        f"{PROBE}slow/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same")
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert Calls.created == 1
