"""/healthz and /readyz: JSON, no auth, every host, 503 naming what is down."""
from __future__ import annotations

import socket

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from helpdesk import probes

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "acme.localhost", "unknown.example.org"])
def test_healthz_answers_on_every_host_without_touching_the_database(host, tenant, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "acme.localhost"])
def test_readyz_reports_every_check_ok(host, tenant):
    response = Client(HTTP_HOST=host).get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert "failing" not in body


def test_probes_need_no_credentials_and_ignore_bad_ones():
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer hk_nonsense_key")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable():
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"


def test_readyz_is_503_naming_the_cache_when_redis_is_down():
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with override_settings(CACHES=unreachable):
        response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


def test_readyz_is_503_naming_the_database_when_queries_fail(monkeypatch):
    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(probes.connection, "cursor", lambda: BrokenCursor())
    response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    # The anonymous caller learns which check failed, not the error's details.
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert "refused" not in response.content.decode()


def test_readyz_checks_a_sqlalchemy_broker_for_real(tmp_path):
    missing_dir = tmp_path / "no" / "such" / "dir"
    with override_settings(CELERY_BROKER_URL=f"sqla+sqlite:///{missing_dir}/broker.sqlite3"):
        response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    with override_settings(CELERY_BROKER_URL=f"sqla+sqlite:///{tmp_path}/broker.sqlite3"):
        response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_refuse_writes(path):
    assert Client(HTTP_HOST="localhost").post(path).status_code == 405
