"""Content health: never viewed, voted unhelpful, stale and needs-update lists (per owner), and
the weekly job that tells each owner once per week, in their language."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Role
from knowledge.models import Article, ArticleTranslation, ContentHealthNotice
from knowledge.reports.period import tenant_today
from knowledge.reports.health import health_articles, health_counts, health_counts_by_owner, health_needs_update
from knowledge.services import health as health_service
from knowledge.services.health import content_health_notify, content_health_notify_all, week_of
from tests.factories import agent_in
from tests.knowledge.reports_helpers import console
from tests.knowledge.factories import ArticleTranslationFactory
from tickets.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners(tenant):
    ayse = agent_in(tenant, role=Role.AGENT, email="ayse@acme.test")
    type(ayse).objects.filter(pk=ayse.pk).update(locale="tr", full_name="Ayşe Yılmaz")
    ayse.refresh_from_db()
    bob = agent_in(tenant, role=Role.AGENT, email="bob@acme.test")
    type(bob).objects.filter(pk=bob.pk).update(locale="en", full_name="Bob Stone")
    bob.refresh_from_db()
    return ayse, bob


def article(tenant, *, owner=None, published_days_ago=30, views=0, helpful=0, unhelpful=0, review_by=None,
            title="An article", needs_update=False, status="published") -> Article:
    with tenant_scope(tenant):
        translation_row = ArticleTranslationFactory(tenant=tenant, title=title, status=status,
                                                    needs_update=needs_update)
        Article.objects.filter(pk=translation_row.article_id).update(
            owner=owner, view_count=views, helpful_count=helpful, unhelpful_count=unhelpful, review_by=review_by,
            first_published_at=timezone.now() - timedelta(days=published_days_ago) if status == "published" else None)
        return Article.objects.get(pk=translation_row.article_id)


@pytest.fixture
def library(tenant, owners):
    ayse, bob = owners
    yesterday = tenant_today(tenant) - timedelta(days=1)
    return {
        "forgotten": article(tenant, owner=ayse, title="Forgotten"),                            # never viewed
        "new": article(tenant, owner=ayse, published_days_ago=3, title="Brand new"),           # too new to judge
        "disliked": article(tenant, owner=ayse, views=40, helpful=1, unhelpful=3, title="Disliked"),
        "few_votes": article(tenant, owner=ayse, views=9, unhelpful=2, title="Two votes"),     # too few votes
        "liked": article(tenant, owner=ayse, views=50, helpful=8, unhelpful=2, title="Liked"),
        "stale": article(tenant, owner=bob, views=5, review_by=yesterday, title="Stale"),
        "fresh": article(tenant, owner=bob, views=5, review_by=tenant_today(tenant) + timedelta(days=30),
                         title="Fresh"),
        "outdated": article(tenant, owner=bob, views=5, needs_update=True, title="Outdated translation"),
        "orphan": article(tenant, title="Nobody's"),                                             # never viewed
        "draft": article(tenant, owner=bob, status="draft", review_by=yesterday, title="A draft"),
    }


def titles(rows) -> list[str]:
    return [row["title"] for row in rows]


def test_the_lists(tenant, owners, library):
    ayse, bob = owners
    with tenant_scope(tenant):
        assert titles(health_articles(tenant=tenant, kind="never_viewed", language="en")) == ["Forgotten", "Nobody's"]
        assert titles(health_articles(tenant=tenant, kind="unhelpful", language="en")) == ["Disliked"]
        assert titles(health_articles(tenant=tenant, kind="stale", language="en")) == ["Stale"]
        assert titles(health_needs_update(tenant=tenant)) == ["Outdated translation"]
        disliked = health_articles(tenant=tenant, kind="unhelpful", language="en")[0]
        assert (disliked["vote_count"], disliked["helpfulness"], disliked["owner_name"]) == (4, 0.25, "Ayşe Yılmaz")

        assert titles(health_articles(tenant=tenant, kind="never_viewed", language="en", owner=ayse.pk)) == ["Forgotten"]
        assert titles(health_articles(tenant=tenant, kind="never_viewed", language="en", owner="none")) == ["Nobody's"]
        assert titles(health_articles(tenant=tenant, kind="stale", language="en", owner=ayse.pk)) == []
        assert health_counts(tenant=tenant) == {"published": 9, "never_viewed": 2, "unhelpful": 1, "stale": 1,
                                                "needs_update": 1}
        assert health_counts(tenant=tenant, owner=bob.pk) == {"published": 3, "never_viewed": 0, "unhelpful": 0,
                                                              "stale": 1, "needs_update": 1}
        assert health_counts_by_owner(tenant=tenant) == {
            ayse.pk: {"never_viewed": 1, "unhelpful": 1, "stale": 0, "needs_update": 0},
            bob.pk: {"never_viewed": 0, "unhelpful": 0, "stale": 1, "needs_update": 1},
        }


def test_the_weekly_job_notifies_each_owner_once_in_their_language(tenant, owners, library, monkeypatch):
    ayse, bob = owners
    languages = {}
    real_text = health_service.health_notice_text

    def spy(counts, *, url):
        languages[url] = translation.get_language()
        return real_text(counts, url=url)

    monkeypatch.setattr(health_service, "health_notice_text", spy)
    with tenant_scope(tenant):
        assert content_health_notify(tenant=tenant) == 2
        notes = {n.user_id: n for n in Notification.objects.filter(kind=NotificationKind.KB_HEALTH)}
        assert set(notes) == {ayse.pk, bob.pk}
        assert notes[bob.pk].text.startswith("Your help-center articles need attention: 1 past its review date, "
                                             "1 translation needs an update. Review them: http")
        assert f"/console/kb/reports/health/?owner={bob.pk}" in notes[bob.pk].text
        assert sorted(languages.values()) == ["en", "tr"]
        # The notice is emailed through the notification machinery (the email channel's consumer).
        events = Event.objects.filter(type="notification.created", payload__kind=NotificationKind.KB_HEALTH)
        assert events.count() == 2 and all(e.payload["by_email"] for e in events)
        week = week_of(tenant_today(tenant))
        assert set(ContentHealthNotice.objects.filter(week=week).values_list("user_id", flat=True)) == {ayse.pk, bob.pk}

        # Again the same week (a retry, the next beat): nobody is told twice.
        assert content_health_notify(tenant=tenant) == 0
        assert content_health_notify_all() == 0
        assert Notification.objects.filter(kind=NotificationKind.KB_HEALTH).count() == 2

        # Next week they hear again.
        assert content_health_notify(tenant=tenant, now=timezone.now() + timedelta(days=7)) == 2
        assert Notification.objects.filter(kind=NotificationKind.KB_HEALTH).count() == 4


def test_owners_with_nothing_to_fix_or_no_longer_members_hear_nothing(tenant, owners, library):
    ayse, bob = owners
    with tenant_scope(tenant):
        Membership.objects.filter(user=bob).update(is_active=False)
        ArticleTranslation.objects.filter(article__owner=ayse).update(status="archived")
        assert content_health_notify(tenant=tenant) == 0
        assert not Notification.objects.filter(kind=NotificationKind.KB_HEALTH).exists()


def test_the_job_across_tenants_keeps_them_apart(tenant, other_tenant, owners, library):
    carol = agent_in(other_tenant, role=Role.AGENT, email="carol@globex.test")
    article(other_tenant, owner=carol, title="Globex forgotten")
    assert content_health_notify_all() == 3
    with tenant_scope(other_tenant):
        note = Notification.objects.get(kind=NotificationKind.KB_HEALTH)
        assert note.user == carol and "1 never viewed" in note.text
    with tenant_scope(tenant):
        assert "Globex" not in " ".join(titles(health_articles(tenant=tenant, kind="never_viewed", language="en")))


def test_the_content_health_page(tenant, owners, library, agent):
    ayse, bob = owners
    page = console(agent).get("/console/kb/reports/health/")
    body = page.content.decode()
    assert page.status_code == 200
    for title in ("Forgotten", "Disliked", "Stale", "Outdated translation", "Nobody&#x27;s"):
        assert title in body
    assert "Brand new" not in body and "Liked" not in body and "A draft" not in body
    mine = console(bob).get("/console/kb/reports/health/?owner=me").content.decode()
    assert "Stale" in mine and "Forgotten" not in mine
    assert console(agent).get("/console/kb/reports/health/?owner=nobody").status_code == 400


def test_week_of():
    assert week_of(date(2025, 3, 5)) == date(2025, 3, 3)
    assert week_of(date(2025, 3, 3)) == date(2025, 3, 3)
    assert week_of(date(2025, 3, 9)) == date(2025, 3, 3)
