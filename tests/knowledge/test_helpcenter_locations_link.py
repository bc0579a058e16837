"""The help center's navigation links to ``/hc/locations/`` ("Find a store") only when the
tenant shows at least one location, at the cost of one EXISTS per page."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import HelpCenterSettings

from tests.knowledge.factories import LocationFactory
from tests.knowledge.helpcenter_setup import OTHER_HOST, help_center, visitor
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

LINK = 'href="/hc/locations/"'


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def page(path: str, host: str | None = None) -> str:
    client = visitor(host=host) if host else visitor()
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_no_link_without_locations(tenant, hc, other_tenant):
    LocationFactory(tenant=tenant, is_active=False)  # hidden from the help center
    LocationFactory(tenant=other_tenant)  # another tenant's
    for path in ("/hc/en/", f"/hc/en/articles/{hc.where.pk}-where-is-my-order/", "/hc/en/search/?q=order"):
        html = page(path)
        assert LINK not in html and "Find a store" not in html, path


def test_the_link_shows_with_an_active_location(tenant, hc, other_tenant):
    LocationFactory(tenant=tenant)
    for path in ("/hc/en/", f"/hc/en/articles/{hc.where.pk}-where-is-my-order/", "/hc/en/search/?q=order"):
        html = page(path)
        assert '<a href="/hc/locations/">Find a store</a>' in html, path
    assert "Mağaza bulun</a>" in page("/hc/tr/")
    assert '<a href="/hc/locations/" aria-current="page">Find a store</a>' in page("/hc/locations/?lang=en")
    # Another tenant's help center does not link to locations it does not have.
    with tenant_scope(other_tenant):
        HelpCenterSettings.objects.update_or_create(tenant=other_tenant, defaults={"locales": ["en"]})
    assert LINK not in page("/hc/en/", host=OTHER_HOST)


def _location_queries(path: str) -> tuple[int, int]:
    with QueryCounter(connection) as counter:
        assert visitor().get(path).status_code == 200
    sql = [q["sql"] for q in counter.captured_queries]
    return len(sql), sum("knowledge_location" in q for q in sql)


def test_one_exists_query_per_page_with_or_without_locations(tenant, hc):
    path = "/hc/en/"
    visitor().get(path)
    total_without, location_without = _location_queries(path)
    LocationFactory(tenant=tenant)
    LocationFactory(tenant=tenant)
    total_with, location_with = _location_queries(path)
    assert location_without == location_with == 1
    assert total_with == total_without
