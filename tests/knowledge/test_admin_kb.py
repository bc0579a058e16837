"""The help center in the Django admin: structure with translation inlines, articles (settings
through the service, text only in the console), labels, read-only votes, settings with
validated languages; all inside the admin's tenant, for those who may publish."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import (
    Article,
    ArticleVote,
    Category,
    CategoryTranslation,
    HelpCenterSettings,
    Label,
    Section,
    Visibility,
)
from knowledge.services.content import article_vote
from tests.factories import agent_in
from tests.knowledge.editor_fixtures import kb, make_kb, other_kb  # noqa: F401 - fixtures
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:knowledge_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(tenant) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent_in(tenant, role=Role.ADMIN, email="admin@acme.test"))
    return client


def inline_management(prefix: str, total: int, initial: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_every_changelist_opens_for_an_admin(kb, admin_client, tenant):
    with tenant_scope(tenant):
        article_vote(article=kb.article, voter_key="v1", helpful=False, locale="en", comment="Unclear")
    for model in (Category, Section, Article, Label, ArticleVote, HelpCenterSettings):
        response = admin_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
    assert "Where is my order?" in admin_client.get(admin_url(Article, "changelist")).content.decode()
    assert "Unclear" in admin_client.get(admin_url(ArticleVote, "changelist")).content.decode()


def test_agents_do_not_get_in(kb, tenant):
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent_in(tenant, role=Role.AGENT, email="a2@acme.test"))
    assert client.get(admin_url(Category, "changelist")).status_code in (302, 403)


def test_category_with_translation_inlines(admin_client, tenant):
    prefix = "translations"
    response = admin_client.post(admin_url(Category, "add"), {
        "position": "3", **inline_management(prefix, 2),
        f"{prefix}-0-locale": "EN", f"{prefix}-0-name": "Billing", f"{prefix}-0-description": "",
        f"{prefix}-1-locale": "tr", f"{prefix}-1-name": "Fatura", f"{prefix}-1-description": ""})
    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    with tenant_scope(tenant):
        category = Category.objects.get(position=3)
        assert dict(CategoryTranslation.objects.filter(category=category).values_list("locale", "name")) == {
            "en": "Billing", "tr": "Fatura"}
    response = admin_client.post(admin_url(Category, "add"), {
        "position": "4", **inline_management(prefix, 1), f"{prefix}-0-locale": "not a code!",
        f"{prefix}-0-name": "X"})
    assert response.status_code == 200
    with tenant_scope(tenant):
        assert not Category.objects.filter(position=4).exists()


def test_section_parent_must_be_in_the_same_category(kb, admin_client, tenant):
    other = make_kb(tenant)
    data = {"category": kb.category.pk, "parent": other.section.pk, "position": "1",
            **inline_management("translations", 0)}
    response = admin_client.post(admin_url(Section, "change", kb.child.pk), data)
    assert response.status_code == 200 and "same category" in response.content.decode()
    data["parent"] = kb.child.pk
    response = admin_client.post(admin_url(Section, "change", kb.section.pk), data)
    assert response.status_code == 200 and "inside itself" in response.content.decode()


def test_article_settings_go_through_the_service_and_the_text_is_read_only(kb, admin_client, tenant):
    page = admin_client.get(admin_url(Article, "change", kb.article.pk)).content.decode()
    assert "Edit in the console" in page and 'name="translations-0-title"' not in page
    assert admin_client.get(admin_url(Article, "add")).status_code == 403
    data = {"section": kb.child.pk, "position": "5", "visibility": Visibility.INTERNAL, "owner": "",
            "review_by": "2031-01-02", **inline_management("translations", 2, 2)}
    with tenant_scope(tenant):
        ids = list(kb.article.translations.order_by("locale").values_list("pk", flat=True))
    for index, pk in enumerate(ids):
        data[f"translations-{index}-id"] = pk
        data[f"translations-{index}-article"] = kb.article.pk
    response = admin_client.post(admin_url(Article, "change", kb.article.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(tenant):
        article = Article.objects.get(pk=kb.article.pk)
        assert (article.section_id, article.visibility, str(article.review_by)) == (
            kb.child.pk, Visibility.INTERNAL, "2031-01-02")
    data["visibility"] = Visibility.ORGANIZATIONS
    response = admin_client.post(admin_url(Article, "change", kb.article.pk), data)
    assert response.status_code == 200 and "organizations" in response.content.decode()


def test_article_list_query_count_is_constant(kb, admin_client, tenant):
    url = admin_url(Article, "changelist")
    admin_client.get(url)
    with QueryCounter(connection) as small:
        admin_client.get(url)
    make_kb(tenant)
    make_kb(tenant)
    with QueryCounter(connection) as large:
        admin_client.get(url)
    assert len(large) == len(small)


def test_votes_are_read_only(kb, admin_client, tenant):
    with tenant_scope(tenant):
        vote = article_vote(article=kb.article, voter_key="v1", helpful=True, locale="en")
    assert admin_client.get(admin_url(ArticleVote, "add")).status_code == 403
    response = admin_client.post(admin_url(ArticleVote, "change", vote.pk), {"helpful": ""})
    assert response.status_code == 403
    with tenant_scope(tenant):
        assert ArticleVote.objects.get(pk=vote.pk).helpful is True


def test_settings_languages_are_validated_and_the_default_kept(kb, admin_client, tenant):
    with tenant_scope(tenant):
        row = HelpCenterSettings.objects.get(tenant=tenant)
    url = admin_url(HelpCenterSettings, "change", row.pk)
    response = admin_client.post(url, {"is_enabled": "on", "locales_text": "tr, DE, tr",
                                       "suggest_in_request_form": "on"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        row.refresh_from_db()
    assert row.locales == ["en", "tr", "de"] and row.suggest_in_acknowledgement is False
    response = admin_client.post(url, {"is_enabled": "on", "locales_text": "tr, <script>"})
    assert response.status_code == 200
    with tenant_scope(tenant):
        row.refresh_from_db()
    assert row.locales == ["en", "tr", "de"]


def test_another_tenants_rows_are_missing(other_kb, admin_client):
    for model, obj in ((Category, other_kb.category), (Section, other_kb.section), (Article, other_kb.article)):
        response = admin_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 302 and f"/{obj.pk}/" not in response["Location"]
