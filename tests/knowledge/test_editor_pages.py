"""The editor's lists and settings: the review queue, missing translations per language, the
help center's settings (validated languages, the default always on, rights)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.context import tenant_scope
from knowledge.locales import enabled_locales
from knowledge.models import HelpCenterSettings, TranslationStatus
from knowledge.services.content import NameInput, TranslationInput, article_create, section_create, translation_save
from tests.knowledge.editor_fixtures import (  # noqa: F401 - fixtures
    admin_client,
    agent_client,
    b_client,
    kb,
    light_agent,
    light_client,
    make_kb,
    other_kb,
)
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


def settings_row(tenant) -> HelpCenterSettings:
    with tenant_scope(tenant):
        return HelpCenterSettings.objects.get(tenant=tenant)


def test_review_queue_lists_translations_in_review_for_every_reader(tenant, kb, agent, light_client,
                                                                   agent_client, admin_client, other_kb,
                                                                   other_tenant):
    with tenant_scope(tenant):
        translation_save(article=kb.draft, actor=agent, locale="en", title="Refunds, reviewed?",
                         body_html="<p>x</p>", status=TranslationStatus.REVIEW)
        translation_save(article=kb.article, actor=agent, locale="en", title="Parcel?", body_html="<p>y</p>",
                         status=TranslationStatus.REVIEW)  # pending changes of a published text
        translation_save(article=kb.article, actor=agent, locale="tr", title="Taslak", body_html="<p>z</p>")
    with tenant_scope(other_tenant):
        translation_save(article=other_kb.draft, actor=None, locale="en", title="Globex secret review",
                         body_html="<p>x</p>", status=TranslationStatus.REVIEW)
    for client in (light_client, agent_client, admin_client):
        page = client.get(reverse("kb:review_queue")).content.decode()
        assert "Refunds, reviewed?" in page and "Parcel?" in page
        assert "Taslak" not in page and "Globex secret review" not in page
    assert reverse("kb:translation_publish", args=[kb.draft.pk]) not in agent_client.get(
        reverse("kb:review_queue")).content.decode()
    # Saving a plain draft withdraws the request.
    with tenant_scope(tenant):
        translation_save(article=kb.article, actor=agent, locale="en", title="Parcel?", body_html="<p>y</p>")
    assert "Parcel?" not in admin_client.get(reverse("kb:review_queue")).content.decode()


def test_review_queue_query_count_is_constant(tenant, kb, agent, admin_client):
    url = reverse("kb:review_queue")
    with tenant_scope(tenant):
        translation_save(article=kb.draft, actor=agent, locale="en", title="R", body_html="", status="review")
    admin_client.get(url)
    with QueryCounter(connection) as small:
        admin_client.get(url)
    with tenant_scope(tenant):
        for n in range(5):
            article_create(tenant=tenant, actor=agent, section=kb.section, translations=[
                TranslationInput("en", f"Review {n}", "<p>x</p>", TranslationStatus.REVIEW),
                TranslationInput("tr", f"İnceleme {n}", "<p>x</p>", TranslationStatus.REVIEW)])
    with QueryCounter(connection) as large:
        page = admin_client.get(url).content.decode()
    assert "İnceleme 4" in page
    assert len(large) == len(small)


def test_missing_translations_are_listed_per_language(tenant, kb, light_client, admin_client, owner):
    with tenant_scope(tenant):
        translation_save(article=kb.article, actor=owner, locale="en", title="Where is my order?",
                         body_html="<p>Changed.</p>", status=TranslationStatus.PUBLISHED)
        # The Turkish draft is not published, so it is not flagged; publish it and change English again.
        translation_save(article=kb.article, actor=owner, locale="tr", title="Siparişim nerede?",
                         body_html="<p>x</p>", status=TranslationStatus.PUBLISHED)
        translation_save(article=kb.article, actor=owner, locale="en", title="Where is my order?",
                         body_html="<p>Changed again.</p>", status=TranslationStatus.PUBLISHED)
    response = light_client.get(reverse("kb:missing"))
    assert response.status_code == 200
    page = response.content.decode()
    tr = page[page.index('id="missing-tr"'):]
    assert "How do refunds work?" in tr  # article without Turkish
    assert "Returns" in tr  # section without a Turkish name
    assert "Siparişim nerede?" in tr  # flagged: the default language changed after it
    en = page[page.index('id="missing-en"'):page.index('id="missing-tr"')]
    assert "Every article is translated." in en and "Every section is translated." in en
    admin = admin_client.get(reverse("kb:missing")).content.decode()
    assert f"{reverse('kb:article_edit', args=[kb.draft.pk])}?locale=tr" in admin
    assert reverse("kb:section_edit", args=[kb.child.pk]) in admin


def test_missing_translations_query_count_is_constant(tenant, kb, admin_client):
    url = reverse("kb:missing")
    admin_client.get(url)
    with QueryCounter(connection) as small:
        admin_client.get(url)
    make_kb(tenant)
    with tenant_scope(tenant):
        section_create(tenant=tenant, actor=None, category=kb.category, translations=[NameInput("en", "Solo")])
        for n in range(4):
            article_create(tenant=tenant, actor=None, section=kb.child, translations=[
                TranslationInput("en", f"Only English {n}", "<p>x</p>")])
    with QueryCounter(connection) as large:
        page = admin_client.get(url).content.decode()
    assert "Only English 3" in page
    assert len(large) == len(small)


def test_settings_page(tenant, kb, admin_client):
    response = admin_client.get(reverse("kb:settings"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "is the default language and always on" in page and 'value="tr"' in page
    response = admin_client.post(reverse("kb:settings"), {
        "is_enabled": "on", "locales": ["tr", "de"], "other_locales": "PT_br, az", "suggest_in_request_form": "on"})
    assert response.status_code == 302
    row = settings_row(tenant)
    assert row.locales == ["en", "tr", "de", "pt-br", "az"]
    assert (row.is_enabled, row.suggest_in_request_form, row.suggest_in_acknowledgement) == (True, True, False)
    with tenant_scope(tenant):
        assert enabled_locales(tenant) == ["en", "tr", "de", "pt-br", "az"]
        assert AuditEntry.objects.filter(action="kb.settings_changed").exists()
    # Turning every language off keeps the default; the help center can be closed.
    admin_client.post(reverse("kb:settings"), {"suggest_in_acknowledgement": "on"})
    row = settings_row(tenant)
    assert row.locales == ["en"] and row.is_enabled is False and row.suggest_in_acknowledgement is True
    assert "The help center is closed" in admin_client.get(reverse("kb:tree")).content.decode()


def test_settings_validation_changes_nothing(tenant, kb, admin_client):
    before = settings_row(tenant).locales
    for data in ({"is_enabled": "on", "other_locales": "english please"},
                 {"is_enabled": "on", "other_locales": "<script>"},
                 {"is_enabled": "on", "locales": ["xx-not-offered-code"]}):
        response = admin_client.post(reverse("kb:settings"), data)
        assert response.status_code == 400
        assert "Nothing was saved" in response.content.decode()
    assert settings_row(tenant).locales == before
    assert settings_row(tenant).is_enabled is True


def test_settings_need_the_right_to_publish(kb, agent_client, light_client, tenant):
    for client in (agent_client, light_client):
        assert client.get(reverse("kb:settings")).status_code == 403
        assert client.post(reverse("kb:settings"), {"other_locales": "de"}).status_code == 403
    assert settings_row(tenant).locales == ["en", "tr"]
    assert reverse("kb:settings") not in agent_client.get(reverse("kb:tree")).content.decode()


def test_pages_show_nothing_of_another_tenant(kb, other_kb, b_client):
    for name in ("review_queue", "missing", "settings"):
        assert b_client.get(reverse(f"kb:{name}")).status_code == 200
    tree = b_client.get(reverse("kb:tree")).content.decode()
    assert f'id="article-{kb.article.pk}"' not in tree and f'id="article-{other_kb.article.pk}"' in tree
