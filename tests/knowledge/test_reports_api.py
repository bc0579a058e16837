"""``/api/v1/kb/reports/…``: JSON and streaming CSV exports of searches, deflection, articles and
gaps; scope ``reports:read``; bad parameters are a 400 with the error body; constant query
counts; another tenant's rows never appear."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Scope
from helpdesk.tenancy.services import api_key_create
from knowledge.models import SearchSource
from knowledge.services.gaps import content_gaps_refresh
from knowledge.services.listening import article_view_record, search_click, search_record
from tests.knowledge.reports_helpers import console, content, key, move_searches
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

ENDPOINTS = ["searches", "deflection", "articles", "gaps"]


def client_with(raw: str) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(api_key) -> APIClient:
    return client_with(api_key)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def data(tenant):
    articles = content(tenant)
    with tenant_scope(tenant):
        for n, (query, results) in enumerate([("Reset password", 2), ("reset password", 2), ("=HYPERLINK(1)", 0),
                                              ("iade", 0)]):
            event = search_record(tenant=tenant, query=query, locale="tr" if query == "iade" else "en",
                                  source=SearchSource.PORTAL, result_count=results, session_key=key(f"api{n}"))
            if n == 0:
                search_click(tenant=tenant, search_id=event.pk, article_id=articles.password.pk)
                article_view_record(tenant=tenant, article=articles.password, locale="en",
                                    session_key=key(f"api{n}"), search_id=event.pk)
    move_searches(tenant, timezone.now() - timedelta(hours=1))
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
    return articles


def test_searches_as_csv(api, data):
    response = api.get("/api/v1/kb/reports/searches/?format=csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="kb-searches-top-')
    rows = csv_rows(response)
    assert rows[0] == ["normalized_query", "searches", "with_results", "no_results", "clicked", "no_click", "ctr",
                       "avg_results", "last_searched_at"]
    assert rows[1][:8] == ["reset password", "2", "2", "0", "1", "1", "0.5", "2"]
    assert rows[1][8].endswith("+03:00")                       # the tenant's time zone
    # A query typed like a spreadsheet formula is written as text.
    assert ["'=hyperlink(1)", "1", "0", "1", "0", "0", "", "0"] == rows[2][:8]
    assert len(rows) == 4


def test_searches_as_json(api, data):
    body = api.get("/api/v1/kb/reports/searches/?list=no_results&limit=1").json()
    assert body["summary"]["searches"] == 4 and body["summary"]["no_results"] == 2
    assert body["list"] == "no_results" and len(body["results"]) == 1
    assert body["period"]["timezone"] == "Europe/Istanbul" and len(body["by_day"]) == 30


def test_deflection_and_articles(api, data):
    rows = csv_rows(api.get("/api/v1/kb/reports/deflection/?format=csv"))
    assert rows[0] == ["day", "sessions", "deflected", "tickets", "chats", "deflected_after_reading", "rate"]
    assert rows[-1][1:] == ["4", "4", "0", "0", "1", "1"]
    body = api.get("/api/v1/kb/reports/articles/").json()
    first = body["results"][0]
    assert (first["id"], first["title"], first["period_views"], first["is_published"]) == (
        data.password.pk, "Reset your password", 1, True)
    assert body["pareto"]["articles_for_80"] == 1
    rows = csv_rows(api.get("/api/v1/kb/reports/articles/?format=csv&locale=tr"))
    assert rows[1][1] == "Parolanızı sıfırlayın" and rows[1][5] == "0"  # the Turkish title; no views in tr


def test_gaps(api, data):
    body = api.get("/api/v1/kb/reports/gaps/").json()
    gaps = {row["representative_query"]: row for row in body["results"]}
    assert set(gaps) == {"reset password", "=hyperlink(1)", "iade"}
    assert gaps["reset password"]["query_list"] == [{"query": "reset password", "searches": 1, "no_results": 0}]
    rows = csv_rows(api.get("/api/v1/kb/reports/gaps/?format=csv&status=all"))
    assert rows[0][:7] == ["id", "representative_query", "locale", "status", "search_count", "no_result_count",
                           "queries"]
    assert sorted(row[6] for row in rows[1:]) == ["'=hyperlink(1) (1)", "iade (1)", "reset password (1)"]


@pytest.mark.parametrize("query", ["format=xml", "limit=0", "limit=x", "from=2025-02-30", "from=2025-03-02&to=2025-03-01",
                                   "source=fax", "locale=!!", "list=other"])
def test_bad_parameters_are_a_400(api, query):
    response = api.get(f"/api/v1/kb/reports/searches/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_bad_gap_status_and_owner(api):
    assert api.get("/api/v1/kb/reports/gaps/?status=maybe").status_code == 400
    assert api.get("/api/v1/kb/reports/articles/?owner=me").status_code == 400


def test_the_scope_is_reports_read(tenant, data):
    _key, raw = api_key_create(tenant=tenant, name="kb only", scopes=[Scope.KB_READ])
    for name in ENDPOINTS:
        assert client_with(raw).get(f"/api/v1/kb/reports/{name}/").status_code == 403
        assert client_with(raw).get(f"/api/v1/kb/reports/{name}/?format=csv").status_code == 403
    _key, raw = api_key_create(tenant=tenant, name="reports", scopes=[Scope.REPORTS_READ])
    assert client_with(raw).get("/api/v1/kb/reports/searches/").status_code == 200


def test_the_console_download_links_work_with_the_session(tenant, owner, data):
    client = console(owner)
    response = client.get("/api/v1/kb/reports/searches/?list=no_results&format=csv")
    assert response.status_code == 200 and csv_rows(response)[1][0] in ("'=hyperlink(1)", "iade")


def test_another_tenant_sees_none_of_it(other_api_key, data):
    other = client_with(other_api_key)
    for name in ENDPOINTS:
        json_body = other.get(f"/api/v1/kb/reports/{name}/").content.decode()
        csv_body = b"".join(other.get(f"/api/v1/kb/reports/{name}/?format=csv").streaming_content).decode()
        for body in (json_body, csv_body):
            assert "reset password" not in body and "iade" not in body and "Reset your password" not in body


def _count(client, path: str) -> int:
    with QueryCounter(connection) as counter:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(counter)


@pytest.mark.parametrize("path", [f"/api/v1/kb/reports/{name}/{suffix}" for name in ENDPOINTS
                                  for suffix in ("", "?format=csv")])
def test_query_counts_do_not_grow_with_the_data(tenant, api, data, path):
    api.get(path)
    few = _count(api, path)
    with tenant_scope(tenant):
        for n in range(15):
            event = search_record(tenant=tenant, query=f"{('printer', 'kettle', 'umbrella')[n % 3]} {n}", locale="en",
                                  source=SearchSource.WIDGET, result_count=n % 2, session_key=key(f"more{n}"))
            if n % 2:
                search_click(tenant=tenant, search_id=event.pk, article_id=data.refund.pk)
                article_view_record(tenant=tenant, article=data.refund, locale="en", session_key=key(f"more{n}"))
    move_searches(tenant, timezone.now() - timedelta(hours=1))
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
    assert _count(api, path) == few
