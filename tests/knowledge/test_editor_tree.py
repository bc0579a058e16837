"""The content tree (``/console/kb/``) and the structure pages: rights, filters, reordering,
categories and sections with their translations, constant query counts, tenant isolation."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from helpdesk.console import nav
from helpdesk.tenancy.context import tenant_scope
from knowledge.models import Category, CategoryTranslation, Section, SectionTranslation
from knowledge.services.content import TranslationInput, article_create, translation_flag
from tests.knowledge.editor_fixtures import (  # noqa: F401 - fixtures
    PUBLISHED,
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


def test_knowledge_base_is_in_the_side_navigation_for_every_role_that_reads_it():
    entry = next(e for e in nav.all_entries() if e.key == "kb")
    assert entry.url == reverse("kb:tree")
    assert [e.key for e in nav.entries_for("light_agent")].count("kb") == 1
    assert "kb" not in [e.key for e in nav.entries_for("analyst")]


def test_tree_shows_categories_sections_articles_and_their_states(kb, light_client, agent_client, admin_client):
    for client in (light_client, agent_client, admin_client):
        response = client.get(reverse("kb:tree"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Orders" in page and "Shipping" in page and "Returns" in page
        assert "Where is my order?" in page and "How do refunds work?" in page
        assert "Published" in page and "Draft" in page
        assert "tr missing" in page  # the "Returns" section has no Turkish name
    light = light_client.get(reverse("kb:tree")).content.decode()
    assert reverse("kb:category_new") not in light and reverse("kb:article_new") not in light
    agent = agent_client.get(reverse("kb:tree")).content.decode()
    assert reverse("kb:article_new") in agent and reverse("kb:category_new") not in agent
    admin = admin_client.get(reverse("kb:tree")).content.decode()
    assert reverse("kb:category_new") in admin and reverse("kb:category_move", args=[kb.category.pk]) in admin


def test_tree_filters(tenant, kb, owner, admin_client):
    def titles(**params):
        response = admin_client.get(reverse("kb:tree"), params)
        assert response.status_code == 200
        return set(re.findall(r'id="article-\d+">\s*<span class="kb-article-title">\s*<a [^>]*>([^<]+)</a>',
                              response.content.decode()))

    both = {"Where is my order?", "How do refunds work?"}
    assert titles() == both
    assert titles(status="draft") == both  # the first article's tr translation is a draft
    assert titles(status="draft", locale="en") == {"How do refunds work?"}
    assert titles(status="published") == {"Where is my order?"}
    assert titles(missing="on", locale="tr") == {"How do refunds work?"}
    assert titles(missing="on") == {"How do refunds work?"}
    with tenant_scope(tenant):
        translation_flag(translation=kb.tr, actor=owner, needs_update=True)
    assert titles(needs_update="on") == {"Where is my order?"}
    with tenant_scope(tenant):
        label_id = kb.article.labels.get().pk
    assert titles(label=label_id) == {"Where is my order?"}
    assert titles(owner="me") == both
    assert titles(past_review="on") == set()
    with tenant_scope(tenant):
        type(kb.draft).objects.filter(pk=kb.draft.pk).update(review_by="2000-01-01")
    assert titles(past_review="on") == {"How do refunds work?"}
    assert titles(in_review="on") == set()
    # Bad filter values: a 400 that still shows the page, nothing else.
    assert admin_client.get(reverse("kb:tree"), {"status": "bogus"}).status_code == 400
    assert admin_client.get(reverse("kb:tree"), {"owner": "999999"}).status_code == 400
    assert admin_client.get(reverse("kb:tree"), {"label": "x"}).status_code == 400


def test_tree_query_count_does_not_grow_with_content(tenant, kb, admin_client):
    admin_client.get(reverse("kb:tree"))  # warm caches (sessions, settings rows)
    with QueryCounter(connection) as small:
        assert admin_client.get(reverse("kb:tree")).status_code == 200
    with tenant_scope(tenant):
        for n in range(6):
            article_create(tenant=tenant, actor=None, section=kb.child, labels=[f"l{n}"], translations=[
                TranslationInput("en", f"Extra {n}", "<p>x</p>", PUBLISHED),
                TranslationInput("tr", f"Ek {n}", "<p>x</p>")])
    make_kb(tenant)  # one more category, sections and articles
    with QueryCounter(connection) as large:
        assert admin_client.get(reverse("kb:tree")).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    with QueryCounter(connection) as filtered:
        assert admin_client.get(reverse("kb:tree"), {"missing": "on", "status": "published"}).status_code == 200
    assert len(filtered) <= len(small)


def test_reorder_with_up_and_down_buttons(tenant, kb, admin_client):
    with tenant_scope(tenant):
        second = article_create(tenant=tenant, actor=None, section=kb.section, translations=[
            TranslationInput("en", "Second", "<p>x</p>", PUBLISHED)])
    url = reverse("kb:article_move", args=[second.pk])
    response = admin_client.post(url, {"direction": "up", "next": "/console/kb/#x"})
    assert response.status_code == 302 and response["Location"] == "/console/kb/#x"
    with tenant_scope(tenant):
        order = list(type(second).objects.filter(section=kb.section).order_by("position", "id")
                     .values_list("pk", flat=True))
    assert order == [second.pk, kb.article.pk]
    # At the top already: nothing moves, no error.
    assert admin_client.post(url, {"direction": "up"}).status_code == 302
    assert admin_client.post(url, {"direction": "sideways"}).status_code == 400
    # An external "next" is not followed.
    assert admin_client.post(url, {"direction": "down", "next": "https://evil.test/"})["Location"].startswith(
        "/console/kb/")
    with tenant_scope(tenant):
        other = Category.objects.create(tenant=tenant, position=0)
    admin_client.post(reverse("kb:category_move", args=[other.pk]), {"direction": "down"})
    with tenant_scope(tenant):
        assert list(Category.objects.order_by("position", "id").values_list("pk", flat=True)) == [kb.category.pk,
                                                                                                 other.pk]
        sibling = Section.objects.create(tenant=tenant, category=kb.category, position=99)
    admin_client.post(reverse("kb:section_move", args=[sibling.pk]), {"direction": "up"})
    with tenant_scope(tenant):
        assert list(Section.objects.filter(parent=None).order_by("position", "id").values_list("pk", flat=True)) \
            == [sibling.pk, kb.section.pk]


def test_agents_cannot_arrange_the_structure(tenant, kb, agent_client, light_client):
    for client in (agent_client, light_client):
        assert client.get(reverse("kb:category_new")).status_code == 403
        assert client.post(reverse("kb:category_new"), {"name_en": "X"}).status_code == 403
        assert client.post(reverse("kb:category_move", args=[kb.category.pk]), {"direction": "up"}).status_code == 403
        assert client.post(reverse("kb:section_delete", args=[kb.child.pk])).status_code == 403
        assert client.post(reverse("kb:article_move", args=[kb.article.pk]), {"direction": "up"}).status_code == 403
    with tenant_scope(tenant):
        assert Section.objects.filter(pk=kb.child.pk).exists()


def test_create_rename_and_delete_a_category_with_translations(tenant, kb, admin_client):
    page = admin_client.get(reverse("kb:category_new")).content.decode()
    assert 'name="name_en"' in page and 'name="name_tr"' in page
    response = admin_client.post(reverse("kb:category_new"), {"name_en": "Billing", "name_tr": "Faturalar",
                                                              "description_en": "Invoices"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        category = Category.objects.get(translations__name="Billing")
        assert dict(category.translations.values_list("locale", "name")) == {"en": "Billing", "tr": "Faturalar"}
    # The default language's name is required.
    assert admin_client.post(reverse("kb:category_new"), {"name_tr": "Yalnız"}).status_code == 400
    response = admin_client.post(reverse("kb:category_edit", args=[category.pk]),
                                 {"name_en": "Billing and invoices", "name_tr": "Fatura"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        assert CategoryTranslation.objects.get(category=category, locale="en").name == "Billing and invoices"
    assert admin_client.get(reverse("kb:category_delete", args=[category.pk])).status_code == 200
    assert admin_client.post(reverse("kb:category_delete", args=[category.pk])).status_code == 302
    # A category with articles is refused, and says why.
    response = admin_client.post(reverse("kb:category_delete", args=[kb.category.pk]), follow=True)
    assert "Move or delete the category" in response.content.decode()
    with tenant_scope(tenant):
        assert not Category.objects.filter(pk=category.pk).exists()
        assert Category.objects.filter(pk=kb.category.pk).exists()


def test_create_move_and_delete_sections(tenant, kb, admin_client):
    response = admin_client.post(reverse("kb:section_new"), {
        "category": kb.category.pk, "parent": kb.child.pk, "name_en": "Damaged items", "name_tr": "Hasarlı"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        section = Section.objects.get(translations__name="Damaged items")
        assert section.parent_id == kb.child.pk
    # A section cannot sit inside itself or its own descendant.
    response = admin_client.post(reverse("kb:section_edit", args=[kb.section.pk]), {
        "category": kb.category.pk, "parent": section.pk, "name_en": "Shipping"})
    assert response.status_code == 400 and "cannot sit inside itself" in response.content.decode()
    response = admin_client.post(reverse("kb:section_edit", args=[section.pk]), {
        "category": kb.category.pk, "parent": "", "name_en": "Damaged", "name_tr": "Hasarlı ürünler"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        section.refresh_from_db()
        assert section.parent_id is None
        assert SectionTranslation.objects.get(section=section, locale="tr").name == "Hasarlı ürünler"
    assert admin_client.post(reverse("kb:section_delete", args=[section.pk])).status_code == 302
    with tenant_scope(tenant):
        assert not Section.objects.filter(pk=section.pk).exists()
    # Unknown category: a form error, not a crash.
    assert admin_client.post(reverse("kb:section_new"), {"category": 10**9, "name_en": "X"}).status_code == 400


def test_another_tenants_structure_is_a_404(other_kb, b_client, kb, admin_client):
    for name in ("category_edit", "category_delete", "category_move"):
        assert admin_client.get(reverse(f"kb:{name}", args=[other_kb.category.pk])).status_code in (404, 405)
        assert admin_client.post(reverse(f"kb:{name}", args=[other_kb.category.pk]),
                                 {"direction": "up", "name_en": "Hijack"}).status_code == 404
    for name in ("section_edit", "section_delete", "section_move"):
        assert admin_client.post(reverse(f"kb:{name}", args=[other_kb.section.pk]),
                                 {"direction": "up", "name_en": "Hijack"}).status_code == 404
    tree = b_client.get(reverse("kb:tree")).content.decode()
    assert "Where is my order?" in tree  # B's own
    with tenant_scope(kb.category.tenant):
        assert "Hijack" not in str(list(CategoryTranslation.objects.values_list("name", flat=True)))
