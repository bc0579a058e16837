"""The content services: structure, translations (draft → review → published), versions,
scheduled publishing, votes, tenant defaults."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create
from knowledge.audience import AGENTS, ANONYMOUS, Audience, can_see, visible_articles_q
from knowledge.diff import text_diff
from knowledge.locales import fallback_chain, negotiate_locale, normalize_locale, pick_translation
from knowledge.models import (
    Article,
    ArticleTranslation,
    ArticleVersion,
    Category,
    HelpCenterSettings,
    TranslationStatus,
    Visibility,
)
from knowledge.services import content
from knowledge.services.content import NameInput, TranslationInput
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def section(in_tenant, agent):
    category = content.category_create(tenant=in_tenant, actor=agent, translations=[
        NameInput("en", "Orders"), NameInput("tr", "Siparişler")])
    return content.section_create(tenant=in_tenant, actor=agent, category=category,
                                  translations=[NameInput("en", "Returns")])


def make_article(tenant, agent, section, *, status=TranslationStatus.PUBLISHED, **kwargs):
    return content.article_create(tenant=tenant, actor=agent, section=section, translations=[
        TranslationInput("en", "How do refunds work?", "<p>Refunds take <b>5 days</b>.</p>", status)], **kwargs)


def test_article_create_sanitises_and_versions(in_tenant, agent, section):
    article = content.article_create(tenant=in_tenant, actor=agent, section=section, translations=[
        TranslationInput("en", "Refunds", '<p onclick="x()">Hi<script>alert(1)</script>'
                                          '<img src="javascript:alert(1)" onerror="y()"></p>', "draft")])
    translation = article.translations.get()
    assert "script" not in translation.body_html and "onclick" not in translation.body_html
    assert "onerror" not in translation.body_html and "javascript" not in translation.body_html
    assert translation.body_text == "Hi"
    assert translation.status == TranslationStatus.DRAFT and translation.published_at is None
    assert list(translation.versions.values_list("number", flat=True)) == [1]
    assert article.owner == agent
    assert Event.objects.filter(type="kb.article.created", subject_id=str(article.pk)).exists()


def test_editing_a_published_translation_keeps_the_live_text_until_published(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section)
    translation = article.translations.get()
    assert translation.is_published and article.__class__.objects.get(pk=article.pk).first_published_at

    content.translation_save(article=article, actor=agent, locale="en", title="Refunds, new",
                             body_html="<p>Now 3 days.</p>")
    translation.refresh_from_db()
    assert translation.title == "How do refunds work?" and "5 days" in translation.body_html
    assert translation.has_draft and translation.draft_title == "Refunds, new"
    assert translation.status == TranslationStatus.PUBLISHED

    content.translation_publish(translation=translation, actor=agent)
    translation.refresh_from_db()
    assert translation.title == "Refunds, new" and translation.body_text == "Now 3 days."
    assert not translation.has_draft
    assert list(translation.versions.order_by("number").values_list("was_published", flat=True)) == [True, False, True]


def test_publish_without_the_right_files_for_review(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section, can_publish=False)
    translation = article.translations.get()
    assert translation.status == TranslationStatus.REVIEW and translation.review_requested_by == agent


def test_scheduled_publishing_sweep_publishes_once_when_due(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section, status=TranslationStatus.DRAFT)
    translation = article.translations.get()
    at = timezone.now() + timedelta(hours=1)
    content.translation_publish(translation=translation, actor=agent, at=at)
    translation.refresh_from_db()
    assert translation.status == TranslationStatus.DRAFT and translation.publish_at == at
    assert content.translations_publish_due(now=timezone.now()) == 0
    assert content.translations_publish_due(now=at + timedelta(seconds=1)) == 1
    translation.refresh_from_db()
    assert translation.is_published and translation.publish_at is None
    assert content.translations_publish_due(now=at + timedelta(minutes=5)) == 0


def test_restore_brings_an_old_version_back_as_a_new_version(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section, status=TranslationStatus.DRAFT)
    translation = article.translations.get()
    content.translation_save(article=article, actor=agent, locale="en", title="Second", body_html="<p>Two</p>")
    first = translation.versions.get(number=1)
    restored = content.translation_restore(translation=translation, version=first, actor=agent)
    assert restored.title == "How do refunds work?"
    assert translation.versions.count() == 3
    assert "Restored version 1" in translation.versions.get(number=3).note
    other = make_article(in_tenant, agent, section).translations.get()
    with pytest.raises(ValidationError):
        content.translation_restore(translation=other, version=first, actor=agent)


def test_new_default_language_text_flags_other_translations(in_tenant, agent, section):
    article = content.article_create(tenant=in_tenant, actor=agent, section=section, translations=[
        TranslationInput("en", "Refunds", "<p>a</p>", "published"),
        TranslationInput("tr", "İadeler", "<p>b</p>", "published")])
    content.translation_save(article=article, actor=agent, locale="en", title="Refunds", body_html="<p>c</p>",
                             status="published")
    assert ArticleTranslation.objects.get(article=article, locale="tr").needs_update
    assert not ArticleTranslation.objects.get(article=article, locale="en").needs_update


def test_structure_rules(in_tenant, agent, section):
    other_category = content.category_create(tenant=in_tenant, actor=agent, translations=[NameInput("en", "B")])
    child = content.section_create(tenant=in_tenant, actor=agent, category=section.category, parent=section,
                                   translations=[NameInput("en", "Child")])
    with pytest.raises(ValidationError):
        content.section_update(section=section, actor=agent, parent=child)  # inside itself
    with pytest.raises(ValidationError):
        content.section_create(tenant=in_tenant, actor=agent, category=other_category, parent=section,
                               translations=[NameInput("en", "x")])
    content.section_update(section=section, actor=agent, category=other_category)
    child.refresh_from_db()
    assert child.category_id == other_category.pk  # sub-sections follow
    make_article(in_tenant, agent, section)
    with pytest.raises(ValidationError):
        content.category_delete(category=other_category, actor=agent)
    with pytest.raises(ValidationError):
        content.category_create(tenant=in_tenant, actor=agent, translations=[NameInput("english", "x")])
    with pytest.raises(ValidationError):
        content.category_create(tenant=in_tenant, actor=agent, translations=[])


def test_organization_visibility_needs_organizations(in_tenant, agent, section):
    with pytest.raises(ValidationError):
        make_article(in_tenant, agent, section, visibility=Visibility.ORGANIZATIONS)
    org = OrganizationFactory(tenant=in_tenant)
    article = make_article(in_tenant, agent, section, visibility=Visibility.ORGANIZATIONS,
                           organization_ids=[org.pk], labels=["Refund", "refund", "billing"])
    assert sorted(article.labels.values_list("name", flat=True)) == ["Refund", "billing"]
    assert list(article.organizations.all()) == [org]


def test_visibility_rules(in_tenant, agent, section):
    org, other_org = OrganizationFactory(tenant=in_tenant), OrganizationFactory(tenant=in_tenant)
    public = make_article(in_tenant, agent, section)
    signed = make_article(in_tenant, agent, section, visibility=Visibility.SIGNED_IN)
    orgs = make_article(in_tenant, agent, section, visibility=Visibility.ORGANIZATIONS, organization_ids=[org.pk])
    internal = make_article(in_tenant, agent, section, visibility=Visibility.INTERNAL)

    def seen(audience):
        return set(Article.objects.filter(visible_articles_q(audience)).values_list("pk", flat=True))

    assert seen(ANONYMOUS) == {public.pk}
    assert seen(Audience(contact_id=1)) == {public.pk, signed.pk}
    assert seen(Audience(contact_id=1, organization_id=org.pk)) == {public.pk, signed.pk, orgs.pk}
    assert seen(Audience(contact_id=1, organization_id=other_org.pk)) == {public.pk, signed.pk}
    assert seen(AGENTS) == {public.pk, signed.pk, orgs.pk, internal.pk}
    assert not can_see(internal, Audience(contact_id=1, organization_id=org.pk))
    assert can_see(orgs, Audience(contact_id=1, organization_id=org.pk))
    # Through a relation (search and views go through translations).
    via = ArticleTranslation.objects.filter(visible_articles_q(ANONYMOUS, prefix="article__"))
    assert set(via.values_list("article_id", flat=True)) == {public.pk}


def test_votes_replace_and_keep_counters(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section)
    content.article_vote(article=article, voter_key="s:1", helpful=True, locale="en")
    content.article_vote(article=article, voter_key="s:2", helpful=False, locale="en", comment="Too short")
    content.article_vote(article=article, voter_key="s:1", helpful=False, locale="en")
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (0, 2)
    assert article.helpfulness == 0.0
    with pytest.raises(ValidationError):
        content.article_vote(article=article, voter_key="s:3", helpful=True, locale="en", comment="x" * 2001)


def test_translation_delete_keeps_the_last_one(in_tenant, agent, section):
    article = make_article(in_tenant, agent, section)
    with pytest.raises(ValidationError):
        content.translation_delete(translation=article.translations.get(), actor=agent)


def test_locales():
    assert normalize_locale("pt_BR") == "pt-br"
    with pytest.raises(ValidationError):
        normalize_locale("<script>")
    assert negotiate_locale(offered=["en", "tr"], accept_language="de-DE,tr;q=0.9,en;q=0.5") == "tr"
    assert negotiate_locale(offered=["en", "tr"], requested="tr-TR") == "tr"
    assert negotiate_locale(offered=["en", "tr"], requested="xx", accept_language="") == "en"

    class T:
        def __init__(self, locale):
            self.locale = locale

    class Tenant:
        default_locale = "en"

    assert fallback_chain(Tenant(), "pt-br") == ["pt-br", "pt", "en"]
    assert pick_translation([T("en"), T("pt")], ["pt-br", "pt", "en"]).locale == "pt"


def test_text_diff():
    pieces = text_diff("Refunds take 5 days.", "Refunds take 3 days.")
    assert [(p.op, p.text) for p in pieces if p.op != "same"] == [("removed", "5"), ("added", "3")]


def test_new_tenant_gets_a_bilingual_help_center(db):
    tenant = tenant_create(slug="newco", name="NewCo", owner_email="boss@newco.test",
                                   owner_password="correct horse battery", default_locale="tr")
    with tenant_scope(tenant):
        assert HelpCenterSettings.objects.get().locales == ["tr", "en"]
        assert Category.objects.count() == 1
        published = ArticleTranslation.objects.filter(status=TranslationStatus.PUBLISHED)
        assert sorted(published.values_list("locale", flat=True)) == ["en", "en", "tr", "tr"]
        assert ArticleVersion.objects.count() == 4
        assert Article.objects.filter(is_promoted=True).count() == 1
