"""Shared set-up of the listening-report tests (``tests/knowledge/test_reports_*.py``): a small
help center made through the content services, session keys, and time travel for rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import Article, ArticleView, HelpCenterSettings, SearchEvent, SelfServiceSession, Section, \
    TranslationStatus
from knowledge.services.content import NameInput, TranslationInput, article_create, category_create, section_create

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"
PUBLISHED = TranslationStatus.PUBLISHED


def key(name: str) -> str:
    """A valid self-service session key (16–64 of ``[A-Za-z0-9_-]``)."""
    return f"visit-{name}".ljust(20, "x")


def console(user, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@dataclass
class Content:
    section: Section
    password: Article
    refund: Article
    shipping: Article


def content(tenant, *, owner=None) -> Content:
    """Three published articles (en + tr) in one section."""
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
        category = category_create(tenant=tenant, actor=None, translations=[NameInput("en", "Help"),
                                                                            NameInput("tr", "Yardım")])
        section = section_create(tenant=tenant, actor=None, category=category,
                                 translations=[NameInput("en", "Account"), NameInput("tr", "Hesap")])

        def make(en: str, tr: str) -> Article:
            return article_create(tenant=tenant, actor=None, section=section, owner=owner, translations=[
                TranslationInput("en", en, f"<p>{en}</p>", PUBLISHED),
                TranslationInput("tr", tr, f"<p>{tr}</p>", PUBLISHED)])

        return Content(section=section, password=make("Reset your password", "Parolanızı sıfırlayın"),
                       refund=make("Refund policy", "İade politikası"),
                       shipping=make("Shipping times", "Kargo süreleri"))


def move_searches(tenant, at: datetime, **filters) -> None:
    with tenant_scope(tenant):
        SearchEvent.objects.filter(**filters).update(created_at=at)


def move_views(tenant, at: datetime, **filters) -> None:
    with tenant_scope(tenant):
        ArticleView.objects.filter(**filters).update(created_at=at)


def move_sessions(tenant, at: datetime, **filters) -> None:
    with tenant_scope(tenant):
        SelfServiceSession.objects.filter(**filters).update(started_at=at)


def ago(**kwargs) -> datetime:
    from django.utils import timezone

    return timezone.now() - timedelta(**kwargs)
