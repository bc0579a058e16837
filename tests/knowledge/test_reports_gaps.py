"""Content gaps: failed searches grouped by question (similar Turkish and English queries
together, different ones apart), an incremental refresh, a draft article with an owner in
one click, and the gap's searches measured again after the article is published."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import (
    Article,
    ArticleTranslation,
    ContentGap,
    ContentGapState,
    GapStatus,
    SearchEvent,
    SearchSource,
    SectionTranslation,
    TranslationStatus,
)
from knowledge.reports.gaps import gap_measure
from knowledge.reports.grouping import gap_key, title_from_query
from knowledge.services.content import translation_publish
from knowledge.services.gaps import (
    content_gap_dismiss,
    content_gap_draft,
    content_gap_reopen,
    content_gaps_refresh,
    content_gaps_refresh_round,
)
from knowledge.services.listening import search_click, search_record
from tests.factories import agent_in
from tests.knowledge.reports_helpers import console, content, key
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db
PG = connection.vendor == "postgresql"


def search(tenant, query: str, locale: str = "en", *, results: int = 0, source: str = SearchSource.PORTAL,
           at=None, visit: str = "v1") -> SearchEvent:
    with tenant_scope(tenant):
        event = search_record(tenant=tenant, query=query, locale=locale, source=source, result_count=results,
                              session_key=key(visit))
        SearchEvent.objects.filter(pk=event.pk).update(created_at=at or timezone.now() - timedelta(hours=2))
    return event


def gaps_of(tenant) -> dict[tuple[str, str], dict[str, int]]:
    """``{(locale, representative): {query: failed searches}}``."""
    with tenant_scope(tenant):
        return {(gap.locale, gap.representative_query): {q.normalized_query: q.search_count for q in gap.queries.all()}
                for gap in ContentGap.objects.prefetch_related("queries")}


# --- grouping --------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "locale"), [
    ("İade nasıl yapılır?", "iade nasil yapilir", "tr"),
    ("İADE", "iade", "tr"),
    ("siparişimi iptal etmek istiyorum", "sipariş iptali", "tr"),
    ("Kargo takibi", "kargo takibi nasıl", "tr"),
    ("refunds for my order", "order refund", "en"),
    ("How do I reset my password?", "password reset", "en"),
])
def test_similar_queries_share_a_key(a, b, locale):
    assert gap_key(a, locale) == gap_key(b, locale) != ""


@pytest.mark.parametrize(("a", "b", "locale"), [
    ("iade", "kargo takibi", "tr"),
    ("reset password", "refund", "en"),
    ("change my email", "delete my account", "en"),
])
def test_different_queries_do_not(a, b, locale):
    assert gap_key(a, locale) != gap_key(b, locale)


def test_titles_from_queries():
    assert title_from_query("iade nasıl yapılır", "tr") == "İade nasıl yapılır"
    assert title_from_query("reset  password", "en") == "Reset password"


# --- refresh -----------------------------------------------------------------------------------

def test_failed_searches_group_into_gaps(tenant):
    for query in ("How do I reset my password?", "how do i reset my password", "password reset"):
        search(tenant, query)
    search(tenant, "Reset password", results=2)                        # results, no click: failed
    clicked = search(tenant, "reset password help", results=3)         # clicked: not failed
    with tenant_scope(tenant):
        search_click(tenant=tenant, search_id=clicked.pk, article_id=content(tenant).password.pk)
    for query in ("İade nasıl yapılır", "iade nasil yapilir", "İADE"):
        search(tenant, query, "tr")
    search(tenant, "iade", "en")                                       # same word, other language
    search(tenant, "kargo takibi", "tr")
    search(tenant, "password reset", source=SearchSource.CONSOLE)      # agents' searches are no gaps
    search(tenant, "warranty", at=timezone.now() - timedelta(minutes=5))  # too recent to judge

    with tenant_scope(tenant):
        assert content_gaps_refresh(tenant=tenant) == 11  # every search old enough, failed or not
    assert gaps_of(tenant) == {
        ("en", "how do i reset my password"): {"how do i reset my password": 2, "password reset": 1,
                                               "reset password": 1},
        ("tr", "iade"): {"iade nasıl yapılır": 1, "iade nasil yapilir": 1, "iade": 1},
        ("en", "iade"): {"iade": 1},
        ("tr", "kargo takibi"): {"kargo takibi": 1},
    }
    with tenant_scope(tenant):
        gap = ContentGap.objects.get(locale="en", representative_query="how do i reset my password")
        assert (gap.search_count, gap.no_result_count, gap.status) == (4, 3, GapStatus.OPEN)

    # The next refresh reads only what came since: the recent search, now old enough, and a new one.
    with tenant_scope(tenant):
        SearchEvent.objects.filter(normalized_query="warranty").update(created_at=timezone.now() - timedelta(hours=1))
    search(tenant, "İadesi", "tr")
    with tenant_scope(tenant):
        assert content_gaps_refresh(tenant=tenant) == 2
    groups = gaps_of(tenant)
    assert groups[("en", "warranty")] == {"warranty": 1}
    if PG:
        # "iadesi" has its own key ("iades") but joins "iade" by trigram similarity.
        assert groups[("tr", "iade")]["iadesi"] == 1
    assert groups[("en", "how do i reset my password")]["password reset"] == 1  # not counted twice


@pytest.mark.skipif(not PG, reason="trigram similarity is PostgreSQL's")
def test_similar_new_queries_of_one_batch_share_a_gap(tenant):
    for n, query in enumerate(("iade", "iadesi", "kargo takibi", "kargom")):
        search(tenant, query, "tr", visit=f"v{n}")
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
    assert gaps_of(tenant) == {("tr", "iade"): {"iade": 1, "iadesi": 1},
                               ("tr", "kargo takibi"): {"kargo takibi": 1, "kargom": 1}}


@pytest.mark.skipif(not PG, reason="compares with pg_trgm")
def test_the_batch_similarity_is_pg_trgms():
    from knowledge.services.gaps import similarity, trigrams

    pairs = [("iade", "iades"), ("kargo", "kargo takib"), ("passw reset", "forgo passw"), ("order refun", "refun"),
             ("iade", "kargo"), ("1 hyper", "hyper 2")]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert similarity(trigrams(a), trigrams(b)) == pytest.approx(cursor.fetchone()[0], abs=1e-6), (a, b)


def test_a_refresh_with_nothing_new_costs_a_few_queries(tenant):
    search(tenant, "reset password")
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
        with assert_num_queries(6, exact=False):
            assert content_gaps_refresh_round(tenant=tenant) == 0
        state = ContentGapState.objects.get()
        assert state.last_search_id == SearchEvent.objects.get().pk and state.refreshed_at is not None


def test_refresh_reads_in_rounds(tenant):
    for n, query in enumerate(("gift card", "loyalty points", "store hours", "invoice copy", "warranty")):
        search(tenant, query, visit=f"v{n}")
    with tenant_scope(tenant):
        assert content_gaps_refresh_round(tenant=tenant, batch_size=2) == 2
        assert ContentGap.objects.count() == 2
        assert content_gaps_refresh(tenant=tenant, batch_size=2) == 3
        assert ContentGap.objects.count() == 5


def test_dismissed_gaps_keep_their_queries(tenant, owner):
    search(tenant, "coupon code")
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
        gap = ContentGap.objects.get()
        content_gap_dismiss(gap=gap, actor=owner)
    search(tenant, "Coupon code", visit="v2")
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
        gap.refresh_from_db()
        assert ContentGap.objects.count() == 1
        assert (gap.status, gap.search_count) == (GapStatus.DISMISSED, 2)
        content_gap_reopen(gap=gap, actor=owner)
        gap.refresh_from_db()
        assert gap.status == GapStatus.OPEN and gap.dismissed_at is None


# --- draft, publish, measure -------------------------------------------------------------------

@pytest.fixture
def gap(tenant):
    content(tenant)
    search(tenant, "iade nasıl yapılır", "tr", at=timezone.now() - timedelta(days=1, hours=12))
    search(tenant, "İade nasıl yapılır?", "tr", at=timezone.now() - timedelta(days=1, hours=11), visit="v3")
    search(tenant, "iade nasil yapilir", "tr", at=timezone.now() - timedelta(days=1, hours=10), visit="v2")
    with tenant_scope(tenant):
        content_gaps_refresh(tenant=tenant)
        return ContentGap.objects.get()


def test_one_click_makes_a_draft_article_with_an_owner(tenant, owner, agent, gap):
    with tenant_scope(tenant):
        article = content_gap_draft(gap=gap, actor=owner, owner=agent)
        translation = ArticleTranslation.objects.get(article=article)
        assert (translation.locale, translation.title, translation.status) == (
            "tr", "İade nasıl yapılır", TranslationStatus.DRAFT)
        assert article.owner == agent
        section_names = set(SectionTranslation.objects.filter(section=article.section).values_list("locale", flat=True))
        assert section_names == {"en", "tr"}
        assert ContentGapState.objects.get().drafts_section == article.section
        gap.refresh_from_db()
        assert (gap.status, gap.article, gap.owner) == (GapStatus.DRAFTED, article, agent)
        # A second click gives the same article; the next gap reuses the drafts section.
        assert content_gap_draft(gap=gap, actor=owner) == article
        assert Article.objects.filter(section=article.section).count() == 1


def test_the_console_draft_button(tenant, owner, agent, gap):
    client = console(agent)
    page = client.get(f"/console/kb/reports/gaps/{gap.pk}/")
    assert page.status_code == 200 and "Create draft article" in page.content.decode()
    response = client.post(f"/console/kb/reports/gaps/{gap.pk}/draft/", {"owner": owner.pk, "title": "İade"})
    with tenant_scope(tenant):
        gap.refresh_from_db()
        assert gap.status == GapStatus.DRAFTED and gap.article.owner == owner
    assert response.status_code == 302 and f"/articles/{gap.article_id}/edit/" in response["Location"]
    # An owner from outside the tenant (or without writing rights) is refused and changes nothing.
    other = agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test")
    second = client.post(f"/console/kb/reports/gaps/{gap.pk}/draft/", {"owner": other.pk})
    assert second.status_code == 400


def test_after_publication_the_gaps_searches_are_measured_again(tenant, owner, gap):
    from helpdesk.events.dispatch import events_redispatch_pending

    with tenant_scope(tenant):
        article = content_gap_draft(gap=gap, actor=owner)
        translation = ArticleTranslation.objects.get(article=article)
        translation_publish(translation=translation, actor=owner)
    # The events' consumers run (here by the sweep: the test's transaction never commits);
    # ``kb.article.published`` resolves the gap.
    events_redispatch_pending(grace_seconds=0, batch_size=1000)
    with tenant_scope(tenant):
        gap.refresh_from_db()
        assert gap.status == GapStatus.RESOLVED and gap.resolved_at is not None
        # Pretend it was published a day ago: the measure compares the day before and the day since.
        published = timezone.now() - timedelta(days=1)
        ContentGap.objects.filter(pk=gap.pk).update(resolved_at=published)
        gap.refresh_from_db()
    for n, (results, click) in enumerate([(1, True), (2, True), (1, False)]):
        event = search(tenant, "iade nasıl yapılır", "tr", results=results, at=timezone.now() - timedelta(hours=5 + n),
                       visit=f"after{n}")
        if click:
            with tenant_scope(tenant):
                search_click(tenant=tenant, search_id=event.pk, article_id=article.pk)
    search(tenant, "kargo", "tr", at=timezone.now() - timedelta(hours=3))  # not one of the gap's queries
    with tenant_scope(tenant):
        measure = gap_measure(gap=gap)
    assert measure["days"] == pytest.approx(1, abs=0.01)
    before, after = measure["before"], measure["after"]
    assert (before["searches"], before["no_results"], before["clicked"], before["ctr"]) == (3, 3, 0, None)
    assert (after["searches"], after["no_results"], after["with_results"], after["clicked"],
            after["article_clicks"]) == (3, 0, 3, 2, 2)
    assert after["ctr"] == pytest.approx(2 / 3) and after["avg_results"] == pytest.approx(4 / 3)
    page = console(owner).get(f"/console/kb/reports/gaps/{gap.pk}/")
    assert page.status_code == 200 and "Before and after the article" in page.content.decode()


def test_the_refresh_catches_up_on_publications_it_missed(tenant, owner, gap):
    with tenant_scope(tenant):
        article = content_gap_draft(gap=gap, actor=owner)
        translation_publish(translation=ArticleTranslation.objects.get(article=article), actor=owner)
        # The event consumer has not run (no commit in this test): the refresh resolves it.
        gap.refresh_from_db()
        assert gap.status == GapStatus.DRAFTED
        content_gaps_refresh(tenant=tenant)
        gap.refresh_from_db()
        assert gap.status == GapStatus.RESOLVED and gap.resolved_at == Article.objects.get(pk=article.pk).first_published_at


def test_another_tenants_gaps_are_a_404(tenant, other_tenant, gap):
    b = console(agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test"), "globex.localhost")
    assert b.get(f"/console/kb/reports/gaps/{gap.pk}/").status_code == 404
    assert b.post(f"/console/kb/reports/gaps/{gap.pk}/draft/").status_code == 404
    assert b.post(f"/console/kb/reports/gaps/{gap.pk}/dismiss/").status_code == 404
    assert "iade" not in b.get("/console/kb/reports/gaps/?status=all").content.decode()
    with tenant_scope(tenant):
        gap.refresh_from_db()
        assert gap.status == GapStatus.OPEN and gap.article_id is None
