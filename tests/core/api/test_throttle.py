"""Per-credential rate limits: a fixed window counted atomically in the cache."""
from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings

from helpdesk.api.apps import check_api_settings
from helpdesk.api.throttles import parse_rate, rate_limit_hit

pytestmark = pytest.mark.django_db

# A day-long window: the test cannot straddle a window boundary (except at midnight UTC).
TINY = "3/day"


@override_settings(API_RATE_LIMIT=TINY)
def test_the_limit_is_enforced_with_429_and_retry_after(api_client):
    remaining = []
    for _ in range(3):
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "3"
        remaining.append(response["X-RateLimit-Remaining"])
        assert 0 < int(response["X-RateLimit-Reset"]) <= 86400
    assert remaining == ["2", "1", "0"]
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 429
    body = response.json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["fields"] == {}
    retry_after = response["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 86400
    assert response["X-RateLimit-Remaining"] == "0"


@override_settings(API_RATE_LIMIT=TINY)
def test_another_key_is_not_affected(api_client, other_api_client, tenant, client_for):
    from helpdesk.tenancy.services import api_key_create

    for _ in range(4):
        api_client.get("/api/v1/me/")
    assert api_client.get("/api/v1/me/").status_code == 429
    assert other_api_client.get("/api/v1/me/").status_code == 200
    _key, raw = api_key_create(tenant=tenant, name="same tenant, other key")
    response = client_for(raw).get("/api/v1/me/")
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "2"


@override_settings(API_RATE_LIMIT=TINY)
def test_session_users_have_their_own_budget(client, agent, api_client):
    for _ in range(4):
        api_client.get("/api/v1/me/")
    client.force_login(agent)
    for expected in ("2", "1", "0"):
        response = client.get("/api/v1/me/", HTTP_HOST="acme.localhost")
        assert response.status_code == 200
        assert response["X-RateLimit-Remaining"] == expected
    assert client.get("/api/v1/me/", HTTP_HOST="acme.localhost").status_code == 429


@pytest.mark.urls("tests.core.api.urls")
@override_settings(API_RATE_LIMIT=TINY)
def test_a_throttled_post_does_not_execute(api_client):
    from helpdesk.people.models import Organization
    from helpdesk.tenancy.context import dangerously_unscoped

    for _ in range(3):
        api_client.get("/api/v1/me/")
    response = api_client.post("/api/v1/_probe/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="t")
    assert response.status_code == 429
    with dangerously_unscoped():
        assert not Organization.unscoped.exists()


@override_settings(API_RATE_LIMIT="off")
def test_the_limit_can_be_switched_off(api_client):
    for _ in range(5):
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response


def test_the_default_limit_is_reported(api_client, settings):
    response = api_client.get("/api/v1/me/")
    limit, _period = parse_rate(settings.API_RATE_LIMIT)
    assert response["X-RateLimit-Limit"] == str(limit)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_exceed_the_limit(api_key):
    """Atomic counting: 20 parallel requests against a limit of 5 let exactly 5 through."""
    statuses = []
    lock = threading.Lock()

    def call():
        try:
            response = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").get("/api/v1/me/")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    with override_settings(API_RATE_LIMIT="5/day"):
        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    assert sorted(statuses) == [200] * 5 + [429] * 15


def test_windows_are_fixed_and_named(db):
    allowed = [rate_limit_hit(ident="t", limit=2, period=60, now=1000.0 + i)[0] for i in range(3)]
    assert allowed == [True, True, False]
    ok, state = rate_limit_hit(ident="t", limit=2, period=60, now=1020.0)  # next window starts at 1020
    assert ok and state.remaining == 1 and state.reset == 60
    _ok, state = rate_limit_hit(ident="t", limit=2, period=60, now=1079.5)
    assert state.reset == 1


@pytest.mark.parametrize("value,expected", [
    ("600/min", (600, 60)), ("10/s", (10, 1)), ("5/second", (5, 1)), ("100/10s", (100, 10)),
    ("1000/hour", (1000, 3600)), ("7/day", (7, 86400)), ("20/5m", (20, 300)), ("off", None), ("", None),
])
def test_rates_parse(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["600", "fast", "10/fortnight", "-1/min", "0/min", "10/0s"])
def test_bad_rates_are_configuration_errors(value):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(value)
    with override_settings(API_RATE_LIMIT=value):
        assert [error.id for error in check_api_settings()] == ["hdapi.E001"]
