"""The issue's analytics test: a scripted day of self-service sessions — searches, clicks,
article views, a ticket and a chat — yields the exact counts, click-through and deflection
figure, through the selectors and through the API. Plus the period's time zone, filters,
the 80/20 view and isolation between tenants."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import Article, ArticleView, SearchSource, SessionOutcome
from knowledge.reports import selectors
from knowledge.reports.period import Period, PeriodError, period_parse
from knowledge.reports.selectors import ReportFilter
from knowledge.services.listening import (
    article_view_record,
    search_click,
    search_record,
    session_outcome_record,
    session_touch,
)
from tests.knowledge.factories import ArticleFactory, ArticleTranslationFactory
from tests.knowledge.reports_helpers import content, key, move_searches
from tests.tickets.factories import TicketFactory

pytestmark = pytest.mark.django_db

PORTAL, FORM, WIDGET, CONSOLE = (SearchSource.PORTAL, SearchSource.REQUEST_FORM, SearchSource.WIDGET,
                                 SearchSource.CONSOLE)


def today_filter(tenant, **kwargs) -> ReportFilter:
    return ReportFilter(period=period_parse(tenant=tenant, start=None, end=None), **kwargs)


@pytest.fixture
def scripted_day(tenant, agent):
    """Six visitors and an agent, in the order things happen on the help center.

    S1  searches "Reset password" (2 results), opens the first result, reads it, leaves.   deflected
    S2  searches "refund" (1 result, no click), then "İade" in Turkish (nothing), files a ticket.
    S3  searches "kargo takibi" in the widget (nothing), leaves.                              deflected
    S4  reads the refund article from a link (no search), then starts a chat.
    S5  types "reset password?" in the request form, a suggestion shows (3), opens it,
        reads it, never sends the request.                                                    deflected
    S6  sends a request without searching or reading anything (no self-service session).
    An agent searches "password policy" in the console (4 results, no click): a search, no session.
    """
    articles = content(tenant)
    with tenant_scope(tenant):
        s1 = search_record(tenant=tenant, query="Reset password", locale="en", source=PORTAL, result_count=2,
                           session_key=key("s1"))
        assert search_click(tenant=tenant, search_id=s1.pk, article_id=articles.password.pk)
        article_view_record(tenant=tenant, article=articles.password, locale="en", source=PORTAL,
                            session_key=key("s1"), search_id=s1.pk)

        search_record(tenant=tenant, query="refund", locale="en", source=PORTAL, result_count=1, session_key=key("s2"))
        search_record(tenant=tenant, query="İade", locale="tr", source=PORTAL, result_count=0, session_key=key("s2"))
        ticket = TicketFactory(tenant=tenant)
        assert session_outcome_record(tenant=tenant, session_key=key("s2"), outcome=SessionOutcome.TICKET,
                                      ticket_id=ticket.pk)
        # A second request from the same visit keeps the first outcome.
        assert not session_outcome_record(tenant=tenant, session_key=key("s2"), outcome=SessionOutcome.CHAT)

        search_record(tenant=tenant, query="Kargo takibi", locale="tr", source=WIDGET, result_count=0,
                      session_key=key("s3"))

        article_view_record(tenant=tenant, article=articles.refund, locale="en", source=PORTAL, session_key=key("s4"))
        assert session_outcome_record(tenant=tenant, session_key=key("s4"), outcome=SessionOutcome.CHAT)

        s5 = search_record(tenant=tenant, query="reset password?", locale="en", source=FORM, result_count=3,
                           session_key=key("s5"))
        assert search_click(tenant=tenant, search_id=s5.pk, article_id=articles.password.pk)
        # A second click on the same search does not count twice.
        assert not search_click(tenant=tenant, search_id=s5.pk, article_id=articles.refund.pk)
        article_view_record(tenant=tenant, article=articles.password, locale="en", source=FORM,
                            session_key=key("s5"), search_id=s5.pk)

        session_touch(tenant=tenant, key=key("s6"), source=FORM)
        other_ticket = TicketFactory(tenant=tenant)
        assert session_outcome_record(tenant=tenant, session_key=key("s6"), outcome=SessionOutcome.TICKET,
                                      ticket_id=other_ticket.pk)
        # A ticket from a visitor who never had a session changes nothing.
        assert not session_outcome_record(tenant=tenant, session_key=key("never-seen"), outcome=SessionOutcome.TICKET)

        search_record(tenant=tenant, query="password policy", locale="en", source=CONSOLE, result_count=4,
                      user_id=agent.pk)
    return articles


def test_scripted_sessions_yield_the_exact_counts_and_deflection_figure(tenant, scripted_day):
    flt = today_filter(tenant)
    with tenant_scope(tenant):
        summary = selectors.search_summary(tenant=tenant, flt=flt)
        assert {k: summary[k] for k in ("searches", "with_results", "no_results", "clicked", "no_click")} == {
            "searches": 6, "with_results": 4, "no_results": 2, "clicked": 2, "no_click": 2}
        assert summary["ctr"] == pytest.approx(2 / 4)
        assert summary["avg_results"] == pytest.approx((2 + 1 + 0 + 0 + 3 + 4) / 6)
        assert summary["no_result_rate"] == pytest.approx(2 / 6)

        top = [(r["normalized_query"], r["searches"], r["with_results"], r["clicked"]) for r in
               selectors.top_searches(tenant=tenant, flt=flt)]
        assert top == [("reset password", 2, 2, 2), ("iade", 1, 0, 0), ("kargo takibi", 1, 0, 0),
                       ("password policy", 1, 1, 0), ("refund", 1, 1, 0)]
        first = selectors.top_searches(tenant=tenant, flt=flt)[0]
        assert first["ctr"] == pytest.approx(1.0) and first["avg_results"] == pytest.approx(2.5)

        assert [(r["normalized_query"], r["searches"]) for r in selectors.no_result_searches(tenant=tenant, flt=flt)] \
            == [("iade", 1), ("kargo takibi", 1)]
        assert [(r["normalized_query"], r["searches"], r["avg_results"])
                for r in selectors.no_click_searches(tenant=tenant, flt=flt)] \
            == [("password policy", 1, 4.0), ("refund", 1, 1.0)]

        deflection = selectors.deflection_summary(tenant=tenant, flt=flt)
        # S1..S5 searched or read; S6 did neither and is no self-service session.
        assert deflection == {"sessions": 5, "deflected": 3, "tickets": 1, "chats": 1,
                              "deflected_after_reading": 2, "rate": pytest.approx(3 / 5)}

        views = {r["id"]: r["period_views"] for r in
                 selectors.article_stats(tenant=tenant, flt=flt, language="en", limit=None)}
        assert views == {scripted_day.password.pk: 2, scripted_day.refund.pk: 1, scripted_day.shipping.pk: 0}
        assert Article.objects.get(pk=scripted_day.password.pk).view_count == 2

        pareto = selectors.article_views_pareto(tenant=tenant, flt=flt)
        # 2 of 3 views on one article (67%): it takes two articles to pass 80%.
        assert (pareto["total_views"], pareto["viewed_articles"], pareto["published_articles"],
                pareto["articles_for_80"]) == (3, 2, 3, 2)
        assert pareto["share_for_80"] == pytest.approx(2 / 3)

        by_day = selectors.deflection_by_day(tenant=tenant, flt=flt)
        assert len(by_day) == 30 and by_day[-1]["sessions"] == 5 and by_day[-1]["deflected"] == 3
        assert all(day["sessions"] == 0 and day["rate"] is None for day in by_day[:-1])
        # The pages add up the day rows instead of scanning twice: the same figures.
        assert selectors.deflection_summary_of_days(by_day) == deflection
        assert selectors.search_summary_of_days(selectors.searches_by_day(tenant=tenant, flt=flt)) \
            == pytest.approx(summary)


def test_filters_by_source_and_language(tenant, scripted_day):
    with tenant_scope(tenant):
        portal = selectors.search_summary(tenant=tenant, flt=today_filter(tenant, source=PORTAL))
        assert (portal["searches"], portal["clicked"], portal["no_results"]) == (3, 1, 1)
        turkish = selectors.search_summary(tenant=tenant, flt=today_filter(tenant, locale="tr"))
        assert (turkish["searches"], turkish["no_results"], turkish["ctr"]) == (2, 2, None)
        form = selectors.deflection_summary(tenant=tenant, flt=today_filter(tenant, source=FORM))
        assert (form["sessions"], form["deflected"], form["rate"]) == (1, 1, 1.0)


def test_the_api_reports_the_same_figures(tenant, scripted_day, api_key):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = client.get("/api/v1/kb/reports/deflection/").json()
    assert body["summary"] == {"sessions": 5, "deflected": 3, "tickets": 1, "chats": 1,
                               "deflected_after_reading": 2, "rate": 0.6}
    body = client.get("/api/v1/kb/reports/searches/").json()
    assert body["summary"]["searches"] == 6 and body["summary"]["ctr"] == 0.5
    assert body["results"][0]["normalized_query"] == "reset password"


def test_days_are_the_tenants_days(tenant):
    """A search at 22:30 UTC on 1 March is on 2 March in Istanbul (UTC+3)."""
    with tenant_scope(tenant):
        search_record(tenant=tenant, query="late", locale="en", source=PORTAL, result_count=0)
    move_searches(tenant, datetime(2025, 3, 1, 22, 30, tzinfo=dt_timezone.utc))
    tz = ZoneInfo("Europe/Istanbul")
    march_1 = ReportFilter(period=Period(start=datetime(2025, 3, 1).date(), end=datetime(2025, 3, 1).date(), tz=tz))
    march_2 = ReportFilter(period=Period(start=datetime(2025, 3, 2).date(), end=datetime(2025, 3, 2).date(), tz=tz))
    with tenant_scope(tenant):
        assert selectors.search_summary(tenant=tenant, flt=march_1)["searches"] == 0
        assert selectors.search_summary(tenant=tenant, flt=march_2)["searches"] == 1
        assert selectors.searches_by_day(tenant=tenant, flt=march_2)[0]["searches"] == 1


def test_period_parsing(tenant):
    now = datetime(2025, 6, 30, 22, 0, tzinfo=dt_timezone.utc)  # already 1 July in Istanbul
    period = period_parse(tenant=tenant, start=None, end=None, now=now)
    assert (period.start.isoformat(), period.end.isoformat(), period.length) == ("2025-06-02", "2025-07-01", 30)
    assert period.start_at == datetime(2025, 6, 2, tzinfo=ZoneInfo("Europe/Istanbul"))
    for start, end in (("2025-02-30", None), ("x", None), ("2025-03-02", "2025-03-01"), ("2020-01-01", "2025-01-01")):
        with pytest.raises(PeriodError):
            period_parse(tenant=tenant, start=start, end=end, now=now)


def test_the_80_20_view_on_a_long_tail(tenant):
    """Views 50, 20, 10, 5, 5, 4, 3, 2, 1, 0 over ten published articles: the first three make
    80 of 100 views, so three articles (30%) serve 80%."""
    with tenant_scope(tenant):
        articles = [ArticleTranslationFactory(tenant=tenant).article for _ in range(10)]
        ArticleView.objects.bulk_create([
            ArticleView(tenant=tenant, article=article, locale="en")
            for article, n in zip(articles, (50, 20, 10, 5, 5, 4, 3, 2, 1, 0)) for _ in range(n)])
        ArticleFactory(tenant=tenant)  # not published: not counted
        pareto = selectors.article_views_pareto(tenant=tenant, flt=today_filter(tenant), points=4)
    assert (pareto["total_views"], pareto["viewed_articles"], pareto["published_articles"],
            pareto["articles_for_80"], pareto["share_for_80"]) == (100, 9, 10, 3, 0.3)
    assert pareto["curve"][0] == (1, 50)
    assert (3, 80) in pareto["curve"] and pareto["curve"][-1] == (9, 100)
    ranks = [rank for rank, _running in pareto["curve"]]
    assert ranks == sorted(ranks) and len(ranks) <= 4 + 2


def test_another_tenants_searches_never_appear(tenant, other_tenant, scripted_day):
    with tenant_scope(other_tenant):
        search_record(tenant=other_tenant, query="globex secret", locale="en", source=PORTAL, result_count=0,
                      session_key=key("b1"))
        flt = today_filter(other_tenant)
        assert selectors.search_summary(tenant=other_tenant, flt=flt)["searches"] == 1
        assert [r["normalized_query"] for r in selectors.top_searches(tenant=other_tenant, flt=flt)] == ["globex secret"]
        assert selectors.deflection_summary(tenant=other_tenant, flt=flt)["sessions"] == 1
        assert selectors.article_views_pareto(tenant=other_tenant, flt=flt)["total_views"] == 0
    with tenant_scope(tenant):
        flt = today_filter(tenant)
        assert "globex secret" not in [r["normalized_query"] for r in
                                       selectors.top_searches(tenant=tenant, flt=flt, limit=None)]
        assert selectors.search_summary(tenant=tenant, flt=flt)["searches"] == 6


def test_old_sessions_fall_out_of_the_period(tenant, scripted_day):
    from tests.knowledge.reports_helpers import move_sessions

    move_sessions(tenant, timezone.now() - timedelta(days=40), key=key("s3"))
    with tenant_scope(tenant):
        deflection = selectors.deflection_summary(tenant=tenant, flt=today_filter(tenant))
    assert (deflection["sessions"], deflection["deflected"]) == (4, 2)
