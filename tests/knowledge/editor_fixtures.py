"""Fixtures of the console editor's tests (``tests/knowledge/test_editor_*.py``): clients of every
role on the tenant's host, another tenant's owner, and a small bilingual help center made
through the content services."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import Article, ArticleTranslation, Category, HelpCenterSettings, Section, TranslationStatus
from knowledge.services.content import (
    NameInput,
    TranslationInput,
    article_create,
    category_create,
    section_create,
    translation_save,
)
from tests.factories import agent_in

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"
PUBLISHED = TranslationStatus.PUBLISHED
DRAFT = TranslationStatus.DRAFT


def client_for(user, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(owner) -> Client:
    return client_for(owner)


@pytest.fixture
def agent_client(agent) -> Client:
    return client_for(agent)


@pytest.fixture
def light_agent(tenant):
    return agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test")


@pytest.fixture
def light_client(light_agent) -> Client:
    return client_for(light_agent)


@pytest.fixture
def b_client(other_tenant) -> Client:
    return client_for(agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test"), OTHER_HOST)


@dataclass
class Kb:
    category: Category
    section: Section
    child: Section
    article: Article        # en published, tr draft
    draft: Article          # en draft only
    en: ArticleTranslation
    tr: ArticleTranslation


def make_kb(tenant, actor=None) -> Kb:
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
        category = category_create(tenant=tenant, actor=actor, translations=[
            NameInput("en", "Orders"), NameInput("tr", "Siparişler")])
        section = section_create(tenant=tenant, actor=actor, category=category, translations=[
            NameInput("en", "Shipping"), NameInput("tr", "Kargo")])
        child = section_create(tenant=tenant, actor=actor, category=category, parent=section, translations=[
            NameInput("en", "Returns")])
        article = article_create(tenant=tenant, actor=actor, section=section, labels=["orders"], translations=[
            TranslationInput("en", "Where is my order?", "<p>Open the tracking link.</p>", PUBLISHED)])
        translation_save(article=article, actor=actor, locale="tr", title="Siparişim nerede?",
                         body_html="<p>Takip bağlantısını açın.</p>", status=DRAFT)
        draft = article_create(tenant=tenant, actor=actor, section=child, translations=[
            TranslationInput("en", "How do refunds work?", "<p>We refund in five days.</p>", DRAFT)])
        return Kb(category=category, section=section, child=child, article=article, draft=draft,
                  en=ArticleTranslation.objects.get(article=article, locale="en"),
                  tr=ArticleTranslation.objects.get(article=article, locale="tr"))


@pytest.fixture
def kb(tenant, owner) -> Kb:
    return make_kb(tenant, owner)


@pytest.fixture
def other_kb(other_tenant) -> Kb:
    return make_kb(other_tenant)


def translation(tenant, article, locale="en") -> ArticleTranslation:
    with tenant_scope(tenant):
        return ArticleTranslation.objects.get(article=article, locale=locale)
