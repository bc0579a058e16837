"""Cursor pagination: the cursors we issue work; nothing else is accepted; no COUNT."""
from __future__ import annotations

import pytest

from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api.urls")]
PROBE = "/api/v1/_probe/"


def test_following_next_and_previous_walks_every_row_once(api_client, tenant):
    made = [OrganizationFactory(tenant=tenant).pk for _ in range(5)]
    seen, url = [], PROBE + "?page_size=2"
    pages = 0
    while url:
        response = api_client.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert seen == sorted(made, reverse=True)
    assert pages == 3
    back = api_client.get(api_client.get(api_client.get(PROBE + "?page_size=2").json()["next"]).json()["previous"])
    assert [row["id"] for row in back.json()["results"]] == sorted(made, reverse=True)[:2]


def test_pages_cost_the_same_queries_whatever_the_row_count(api_client, tenant, django_assert_num_queries):
    for _ in range(3):
        OrganizationFactory(tenant=tenant)
    api_client.get(PROBE)
    with django_assert_num_queries(2):  # the key, the page (no COUNT)
        api_client.get(PROBE)
    for _ in range(30):
        OrganizationFactory(tenant=tenant)
    with django_assert_num_queries(2):
        assert len(api_client.get(PROBE).json()["results"]) == 33


def test_another_tenants_rows_never_appear(api_client, tenant, other_tenant):
    OrganizationFactory(tenant=tenant, name="Ours")
    OrganizationFactory(tenant=other_tenant, name="Theirs")
    names = [row["name"] for row in api_client.get(PROBE).json()["results"]]
    assert names == ["Ours"]
