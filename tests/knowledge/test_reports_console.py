"""The console's report pages: who may open them, what they show (figures, charts, lists), bad
input (400, nothing changed), constant query counts, and another tenant's data never showing."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import ContentGap, SearchSource
from knowledge.services.gaps import content_gaps_refresh
from knowledge.services.listening import article_view_record, search_click, search_record, session_outcome_record
from tests.factories import agent_in
from tests.knowledge.reports_helpers import OTHER_HOST, console, content, key, move_searches
from tests.queries import QueryCounter
from tests.tickets.factories import TicketFactory

pytestmark = pytest.mark.django_db

PAGES = ["/console/kb/reports/", "/console/kb/reports/searches/", "/console/kb/reports/searches/?list=no_results",
         "/console/kb/reports/articles/", "/console/kb/reports/gaps/", "/console/kb/reports/health/"]


WORDS = ("invoice", "warranty", "coupon", "delivery", "battery", "screen", "charger", "manual", "voucher",
         "insurance", "membership", "gift", "bicycle", "kettle", "printer", "jacket", "umbrella", "helmet")


def activity(tenant, n: int, *, prefix: str = "visit", articles=None, offset: int = 0) -> None:
    """``n`` visits: each searches a different question, every third opens an article, every
    third files a ticket."""
    articles = articles or content(tenant)
    with tenant_scope(tenant):
        for i in range(n):
            visit = key(f"{prefix}{i}")
            event = search_record(tenant=tenant, query=f"{prefix} {WORDS[(offset + i) % len(WORDS)]}", locale="en",
                                  source=SearchSource.PORTAL, result_count=i % 3, session_key=visit)
            if i % 3 == 1:
                search_click(tenant=tenant, search_id=event.pk, article_id=articles.password.pk)
                article_view_record(tenant=tenant, article=articles.password, locale="en", session_key=visit,
                                    search_id=event.pk)
            if i % 3 == 2:
                session_outcome_record(tenant=tenant, session_key=visit, outcome="ticket",
                                       ticket_id=TicketFactory(tenant=tenant).pk)
    from django.utils import timezone
    from datetime import timedelta

    move_searches(tenant, timezone.now() - timedelta(hours=1))
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)


def test_the_overview_shows_figures_charts_and_lists(tenant, owner):
    activity(tenant, 6)
    response = console(owner).get("/console/kb/reports/")
    body = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert body.count('<svg class="kb-chart') == 3 and 'role="img"' in body
    assert "visit invoice" in body                         # no results
    assert "Deflection rate" in body and "Articles serving 80% of views" in body
    assert "/api/v1/kb/reports/searches/?" in body and "format=csv" in body
    assert "open content gap" in body


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_turkish(tenant, owner, path):
    type(owner).objects.filter(pk=owner.pk).update(locale="tr")
    activity(tenant, 3)
    client = console(owner)
    client.cookies["django_language"] = "tr"
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 200


def test_who_may_open_what(tenant):
    analyst = console(agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test"))
    agent = console(agent_in(tenant, role=Role.AGENT, email="agent2@acme.test"))
    light = console(agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test"))
    assert analyst.get("/console/kb/reports/").status_code == 200
    assert analyst.get("/console/kb/reports/gaps/").status_code == 403      # editors' work
    assert agent.get("/console/kb/reports/").status_code == 403             # no reports.view
    assert agent.get("/console/kb/reports/gaps/").status_code == 200
    assert agent.get("/console/kb/reports/health/").status_code == 200
    assert light.get("/console/kb/reports/health/").status_code == 403
    assert light.post("/console/kb/reports/gaps/refresh/").status_code == 403


@pytest.mark.parametrize("query", ["from=2025-13-01", "from=2025-03-02&to=2025-03-01", "from=2000-01-01",
                                   "locale=!!", "source=fax", "list=other"])
def test_bad_filters_answer_400(tenant, owner, query):
    response = console(owner).get(f"/console/kb/reports/searches/?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_bad_gap_filters_answer_400(tenant, owner):
    assert console(owner).get("/console/kb/reports/gaps/?status=maybe").status_code == 400


def _count(client, path: str) -> int:
    with QueryCounter(connection) as counter:
        assert client.get(path).status_code == 200
    return len(counter)


@pytest.mark.parametrize("path", PAGES)
def test_query_counts_do_not_grow_with_the_data(tenant, owner, path):
    articles = content(tenant)
    activity(tenant, 2, prefix="a", articles=articles)
    client = console(owner)
    client.get(path)  # warm per-process caches (settings, translations)
    few = _count(client, path)
    activity(tenant, 12, prefix="b", articles=articles, offset=2)
    with tenant_scope(tenant):
        assert ContentGap.objects.count() > 5
    assert _count(client, path) == few
    assert few <= 30


def test_another_tenants_data_never_shows(tenant, other_tenant, owner):
    activity(tenant, 3, prefix="acmesecret")
    b = console(agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test"), OTHER_HOST)
    for path in PAGES:
        response = b.get(path)
        assert response.status_code == 200, path
        assert "acmesecret" not in response.content.decode(), path
    assert "acmesecret" in console(owner).get("/console/kb/reports/").content.decode()
