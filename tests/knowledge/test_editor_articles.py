"""The article editor and its workflow: new article, language tabs with the default-language
text beside a translation, draft → review → publish, scheduled publishing through the sweep,
unpublished changes kept from readers, archive, "needs update", settings (visibility with
organizations, labels, owner, review-by), sanitising, rights and tenant isolation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from knowledge.audience import ANONYMOUS, visible_articles_q
from knowledge.models import (
    Article,
    ArticleOrganization,
    ArticleTranslation,
    ArticleVersion,
    TranslationStatus,
    Visibility,
)
from knowledge.services.content import translations_publish_due
from tests.factories import OrganizationFactory
from tests.knowledge.editor_fixtures import (  # noqa: F401 - fixtures
    admin_client,
    agent_client,
    b_client,
    kb,
    light_agent,
    light_client,
    other_kb,
    translation,
)
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


def edit_url(article, locale="en") -> str:
    return f"{reverse('kb:article_edit', args=[article.pk])}?locale={locale}"


def reader_titles(tenant, locale="en") -> set[str]:
    """What an anonymous reader may see: published translations of visible articles."""
    with tenant_scope(tenant):
        return set(ArticleTranslation.objects.filter(
            locale=locale, status=TranslationStatus.PUBLISHED,
            article__in=Article.objects.filter(visible_articles_q(ANONYMOUS))).values_list("title", flat=True))


def test_editor_page_shows_tabs_states_and_the_default_text_beside_a_translation(kb, agent_client):
    response = agent_client.get(edit_url(kb.article, "tr"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page"' in page and "?locale=en" in page and "?locale=tr" in page
    assert "Siparişim nerede?" in page  # the translation being written
    assert "Default language (en)" in page and "Open the tracking link." in page  # beside it
    assert 'data-kb-editor' in page and 'name="body_html"' in page  # rich editor over a textarea fallback
    assert "console/kb/editor.js" in page
    # An agent may submit for review, not publish.
    assert 'value="review"' in page and 'value="publish"' not in page
    # The default language page has no reference column.
    assert "Default language (en)" not in agent_client.get(edit_url(kb.article, "en")).content.decode()


def test_a_language_without_translation_opens_an_empty_form(kb, agent_client):
    page = agent_client.get(edit_url(kb.draft, "tr")).content.decode()
    assert "There is no tr translation yet" in page and "We refund in five days." in page


def test_bad_locale_is_a_400_and_other_tenant_is_a_404(kb, other_kb, agent_client):
    assert agent_client.get(edit_url(kb.article, "xx_bad!")).status_code == 400
    assert agent_client.get(edit_url(kb.article, "de")).status_code == 400  # not enabled
    assert agent_client.get(edit_url(other_kb.article)).status_code == 404
    assert agent_client.post(edit_url(other_kb.article), {"title": "Hijack", "action": "save"}).status_code == 404


def test_rights(kb, light_client, agent_client):
    assert light_client.get(edit_url(kb.article)).status_code == 403
    assert light_client.post(edit_url(kb.article), {"title": "X", "action": "save"}).status_code == 403
    assert light_client.get(reverse("kb:article_new") + "?locale=en").status_code == 403
    # Agents write drafts but never publish, schedule, archive or delete.
    assert agent_client.post(edit_url(kb.draft), {"title": "X", "action": "publish"}).status_code == 403
    assert agent_client.post(edit_url(kb.draft), {"title": "X", "action": "schedule",
                                                  "publish_at": "2999-01-01T10:00"}).status_code == 403
    for name in ("translation_publish", "translation_unpublish", "translation_unschedule", "article_delete"):
        assert agent_client.post(reverse(f"kb:{name}", args=[kb.article.pk]), {"locale": "en"}).status_code == 403
    assert translation(kb.article.tenant, kb.draft).title == "How do refunds work?"


def test_draft_review_publish_workflow(tenant, kb, agent, agent_client, admin_client):
    url = edit_url(kb.draft)
    response = agent_client.post(url, {"title": "How do refunds work?", "body_html": "<p>Five working days.</p>",
                                       "note": "shorter", "action": "save"})
    assert response.status_code == 302 and response["Location"] == url
    t = translation(tenant, kb.draft)
    assert (t.status, t.body_html) == (TranslationStatus.DRAFT, "<p>Five working days.</p>")
    assert "How do refunds work?" not in reader_titles(tenant)

    agent_client.post(url, {"title": "How do refunds work?", "body_html": "<p>Five working days.</p>",
                            "action": "review"})
    t = translation(tenant, kb.draft)
    assert t.status == TranslationStatus.REVIEW and t.review_requested_by_id == agent.pk
    queue = admin_client.get(reverse("kb:review_queue")).content.decode()
    assert "How do refunds work?" in queue and reverse("kb:translation_publish", args=[kb.draft.pk]) in queue

    response = admin_client.post(reverse("kb:translation_publish", args=[kb.draft.pk]),
                                 {"locale": "en", "next": reverse("kb:review_queue")})
    assert response.status_code == 302 and response["Location"] == reverse("kb:review_queue")
    t = translation(tenant, kb.draft)
    assert t.status == TranslationStatus.PUBLISHED and t.review_requested_by_id is None
    assert "How do refunds work?" in reader_titles(tenant)
    assert "How do refunds work?" not in admin_client.get(reverse("kb:review_queue")).content.decode()
    with tenant_scope(tenant):
        assert ArticleVersion.objects.filter(translation=t).count() == 4  # created, saved, review, published


def test_editing_a_published_translation_keeps_the_live_text_until_published(tenant, kb, agent_client,
                                                                              admin_client):
    url = edit_url(kb.article)
    agent_client.post(url, {"title": "Where is my parcel?", "body_html": "<p>New text.</p>", "action": "review"})
    t = translation(tenant, kb.article)
    assert (t.status, t.title, t.has_draft, t.draft_title) == (
        TranslationStatus.PUBLISHED, "Where is my order?", True, "Where is my parcel?")
    assert reader_titles(tenant) >= {"Where is my order?"} and "Where is my parcel?" not in reader_titles(tenant)
    page = admin_client.get(url).content.decode()
    assert "Unpublished changes." in page and "Readers see the published version" in page
    assert "Show the published version" in page and "Open the tracking link." in page  # the live text
    assert 'value="Where is my parcel?"' in page  # the editor holds the draft
    assert "Where is my parcel?" in admin_client.get(reverse("kb:review_queue")).content.decode()
    tree = admin_client.get(reverse("kb:tree"), {"status": "changes"}).content.decode()
    assert "Unpublished changes" in tree and "Where is my parcel?" in tree
    # Publishing the changes makes them live.
    admin_client.post(url, {"title": "Where is my parcel?", "body_html": "<p>New text.</p>", "action": "publish"})
    t = translation(tenant, kb.article)
    assert (t.title, t.has_draft, t.body_html) == ("Where is my parcel?", False, "<p>New text.</p>")
    assert "Where is my parcel?" in reader_titles(tenant)


def test_scheduled_publishing_in_the_tenants_timezone_and_the_sweep(tenant, kb, admin_client):
    url = edit_url(kb.draft)
    # A time in the past is refused and changes nothing.
    response = admin_client.post(url, {"title": "Refunds", "body_html": "<p>x</p>", "action": "schedule",
                                       "publish_at": "2001-01-01T10:00"})
    assert response.status_code == 400 and "Choose a time in the future." in response.content.decode()
    assert translation(tenant, kb.draft).title == "How do refunds work?"
    assert admin_client.post(url, {"title": "Refunds", "action": "schedule", "publish_at": "tomorrow"}
                             ).status_code == 400
    when = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_fixed_timezone(180)).replace(
        second=0, microsecond=0)
    response = admin_client.post(url, {"title": "Refunds", "body_html": "<p>Soon.</p>", "action": "schedule",
                                       "publish_at": when.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    t = translation(tenant, kb.draft)
    assert t.status == TranslationStatus.DRAFT and t.publish_at == when  # Europe/Istanbul is UTC+3
    page = admin_client.get(url).content.decode()
    assert "Scheduled to be published at" in page and "Europe/Istanbul" in page
    assert "Refunds" not in reader_titles(tenant)
    assert translations_publish_due(now=timezone.now()) == 0
    assert translations_publish_due(now=when + timedelta(minutes=1)) == 1
    t = translation(tenant, kb.draft)
    assert (t.status, t.publish_at) == (TranslationStatus.PUBLISHED, None)
    assert "Refunds" in reader_titles(tenant)
    assert translations_publish_due(now=when + timedelta(minutes=2)) == 0


def test_cancel_a_schedule_and_schedule_from_the_review_queue(tenant, kb, admin_client):
    later = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(180))
    response = admin_client.post(reverse("kb:translation_publish", args=[kb.article.pk]),
                                 {"locale": "tr", "publish_at": later.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    assert translation(tenant, kb.article, "tr").publish_at is not None
    assert translation(tenant, kb.article, "tr").status == TranslationStatus.DRAFT
    admin_client.post(reverse("kb:translation_unschedule", args=[kb.article.pk]), {"locale": "tr"})
    assert translation(tenant, kb.article, "tr").publish_at is None
    # Unknown language: 404; bad time: nothing published.
    assert admin_client.post(reverse("kb:translation_publish", args=[kb.article.pk]),
                             {"locale": "de"}).status_code == 404
    admin_client.post(reverse("kb:translation_publish", args=[kb.article.pk]),
                      {"locale": "tr", "publish_at": "not a time"})
    assert translation(tenant, kb.article, "tr").status == TranslationStatus.DRAFT


def test_unpublish_archives_and_flags(tenant, kb, admin_client, agent_client):
    response = admin_client.post(reverse("kb:translation_unpublish", args=[kb.article.pk]), {"locale": "en"})
    assert response.status_code == 302
    assert translation(tenant, kb.article).status == TranslationStatus.ARCHIVED
    assert "Where is my order?" not in reader_titles(tenant)
    assert "Archived: this translation is not on the help center." in admin_client.get(
        edit_url(kb.article)).content.decode()
    agent_client.post(reverse("kb:translation_flag", args=[kb.article.pk]), {"locale": "tr", "needs_update": "on"})
    assert translation(tenant, kb.article, "tr").needs_update is True
    missing = agent_client.get(reverse("kb:missing")).content.decode()
    assert "Siparişim nerede?" in missing
    agent_client.post(reverse("kb:translation_flag", args=[kb.article.pk]), {"locale": "tr"})
    assert translation(tenant, kb.article, "tr").needs_update is False


def test_new_article_with_settings(tenant, kb, owner, agent, agent_client):
    with tenant_scope(tenant):
        partner = OrganizationFactory(tenant=tenant, name="Partner Org")
    url = reverse("kb:article_new") + "?locale=en"
    page = agent_client.get(url + f"&section={kb.child.pk}").content.decode()
    assert "Orders › Shipping › Returns" in page and 'list="kb-organization-names"' in page
    response = agent_client.post(url, {
        "title": "Gift cards", "body_html": "<p>Gift <strong>cards</strong>.</p>", "action": "review",
        "s-section": kb.child.pk, "s-visibility": Visibility.ORGANIZATIONS, "s-add_organizations": "partner org",
        "s-labels": "billing, gifts, billing", "s-owner": owner.pk, "s-review_by": "2030-05-01",
        "s-is_promoted": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_scope(tenant):
        article = Article.objects.get(translations__title="Gift cards")
        assert (article.section_id, article.visibility, article.owner_id, str(article.review_by),
                article.is_promoted) == (kb.child.pk, Visibility.ORGANIZATIONS, owner.pk, "2030-05-01", True)
        assert list(ArticleOrganization.objects.filter(article=article).values_list("organization_id", flat=True)) \
            == [partner.pk]
        assert sorted(article.labels.values_list("name", flat=True)) == ["billing", "gifts"]
        t = article.translations.get()
        assert (t.status, t.body_html) == (TranslationStatus.REVIEW, "<p>Gift <strong>cards</strong>.</p>")
    assert response["Location"] == edit_url(article)


def test_new_article_refusals_change_nothing(tenant, kb, agent_client, other_kb):
    with tenant_scope(tenant):
        before = Article.objects.count()
    url = reverse("kb:article_new") + "?locale=en"
    base = {"title": "X", "action": "save", "s-section": kb.section.pk, "s-visibility": "public"}
    assert agent_client.post(url, {**base, "title": ""}).status_code == 400
    assert agent_client.post(url, {**base, "s-visibility": "organizations"}).status_code == 400  # none chosen
    assert agent_client.post(url, {**base, "s-visibility": "organizations",
                                   "s-add_organizations": "Nobody Inc"}).status_code == 400
    assert agent_client.post(url, {**base, "s-section": other_kb.section.pk}).status_code == 400
    assert agent_client.post(url, {**base, "action": "hack"}).status_code == 400
    assert agent_client.post(url, {**base, "action": "publish"}).status_code == 403
    assert agent_client.post(reverse("kb:article_new") + "?locale=zz-top-secret-x", base).status_code == 400
    with tenant_scope(tenant):
        assert Article.objects.count() == before


def test_settings_form_changes_visibility_and_refuses_other_tenants_organizations(tenant, other_tenant, kb,
                                                                                   agent_client):
    with tenant_scope(other_tenant):
        foreign = OrganizationFactory(tenant=other_tenant, name="Foreign")
    url = reverse("kb:article_settings", args=[kb.article.pk])
    base = {"locale": "en", "section": kb.section.pk, "visibility": "internal", "labels": "orders, internal"}
    assert agent_client.post(url, base).status_code == 302
    with tenant_scope(tenant):
        kb.article.refresh_from_db()
        assert kb.article.visibility == Visibility.INTERNAL
    assert "Where is my order?" not in reader_titles(tenant)
    response = agent_client.post(url, {**base, "visibility": "organizations", "organization_ids": [foreign.pk]})
    assert response.status_code == 400
    response = agent_client.post(url, {**base, "visibility": "organizations", "add_organizations": "Foreign"})
    assert response.status_code == 400 and "No organization is called" in response.content.decode()
    with tenant_scope(tenant):
        kb.article.refresh_from_db()
        assert kb.article.visibility == Visibility.INTERNAL
        assert not ArticleOrganization.objects.filter(article=kb.article).exists()


def test_the_editors_html_is_sanitised_on_save(tenant, kb, admin_client):
    evil = ('<p onclick="steal()">Hi<script>alert(1)</script></p><img src="x" onerror="alert(2)">'
            '<a href="javascript:alert(3)">link</a><iframe src="https://evil.test"></iframe>'
            '<style>body{}</style><h2>Ok</h2>')
    admin_client.post(edit_url(kb.draft), {"title": "<b>T</b>", "body_html": evil, "action": "publish"})
    t = translation(tenant, kb.draft)
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style", "alert(1)"):
        assert bad not in t.body_html, bad
    assert "<h2>Ok</h2>" in t.body_html and "Hi" in t.body_html
    page = admin_client.get(edit_url(kb.draft)).content.decode()
    assert "onerror" not in page and "<script>alert" not in page
    assert "&lt;b&gt;T&lt;/b&gt;" in page  # a title is text


def test_delete_translation_and_article(tenant, kb, admin_client):
    assert admin_client.get(reverse("kb:translation_delete", args=[kb.article.pk]) + "?locale=tr").status_code == 200
    response = admin_client.post(reverse("kb:translation_delete", args=[kb.article.pk]), {"locale": "tr"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert list(ArticleTranslation.objects.filter(article=kb.article).values_list("locale", flat=True)) == ["en"]
    # The last translation stays.
    admin_client.post(reverse("kb:translation_delete", args=[kb.article.pk]), {"locale": "en"})
    with tenant_scope(tenant):
        assert ArticleTranslation.objects.filter(article=kb.article).exists()
    assert admin_client.get(reverse("kb:article_delete", args=[kb.article.pk])).status_code == 200
    assert admin_client.post(reverse("kb:article_delete", args=[kb.article.pk])).status_code == 302
    with tenant_scope(tenant):
        assert not Article.objects.filter(pk=kb.article.pk).exists()


def test_editor_query_count_does_not_grow_with_history_or_files(tenant, kb, admin_client):
    url = edit_url(kb.article, "tr")
    admin_client.get(url)
    with QueryCounter(connection) as small:
        assert admin_client.get(url).status_code == 200
    for n in range(5):
        admin_client.post(url, {"title": f"Siparişim {n}", "body_html": f"<p>{n}</p>", "action": "save"})
    with tenant_scope(tenant):
        for n in range(3):
            OrganizationFactory(tenant=tenant, name=f"Org {n}")
    with QueryCounter(connection) as large:
        assert admin_client.get(url).status_code == 200
    assert len(large) == len(small)


def test_another_tenants_article_actions_are_404(other_kb, admin_client, tenant, other_tenant):
    pk = other_kb.article.pk
    for name in ("article_settings", "translation_publish", "translation_unpublish", "translation_unschedule",
                 "translation_flag", "translation_delete", "article_delete", "article_move", "attachment_upload"):
        assert admin_client.post(reverse(f"kb:{name}", args=[pk]), {"locale": "en", "direction": "up"}
                                 ).status_code == 404, name
    assert translation(other_tenant, other_kb.article).status == TranslationStatus.PUBLISHED
