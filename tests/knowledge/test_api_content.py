"""``/api/v1/kb/…``: the issue's contract, validation, rights, isolation and query counts."""
from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role, Scope
from helpdesk.tenancy.services import api_key_create
from knowledge.models import Article, ArticleTranslation, ArticleVote, Category, TranslationStatus
from knowledge.services import content
from knowledge.services.content import NameInput, TranslationInput
from tests.factories import ContactFactory, OrganizationFactory, agent_in
from tests.queries import QueryCounter, assert_num_queries

pytestmark = pytest.mark.django_db


def create_structure(client) -> tuple[int, int]:
    category = client.post("/api/v1/kb/categories/", {"translations": [
        {"locale": "en", "name": "Orders"}, {"locale": "tr", "name": "Siparişler"}]}, format="json")
    assert category.status_code == 201, category.content
    section = client.post("/api/v1/kb/sections/", {"category_id": category.json()["id"], "parent_id": None,
                                                   "translations": [{"locale": "en", "name": "Returns"}]},
                          format="json")
    assert section.status_code == 201, section.content
    return category.json()["id"], section.json()["id"]


def test_the_contract_end_to_end(api_client, tenant):
    category_id, section_id = create_structure(api_client)
    sub = api_client.post("/api/v1/kb/sections/", {"category_id": category_id, "parent_id": section_id,
                                                   "translations": [{"locale": "en", "name": "Damaged"}]},
                          format="json")
    assert sub.status_code == 201 and sub.json()["parent_id"] == section_id

    created = api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "visibility": "public", "translations": [
        {"locale": "en", "title": "How refunds work", "body_html": "<p>Five days<script>x()</script></p>",
         "status": "published"},
        {"locale": "tr", "title": "İade nasıl yapılır", "body_html": "<p>Beş gün</p>", "status": "draft"},
    ]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    by_locale = {t["locale"]: t for t in body["translations"]}
    assert by_locale["en"]["status"] == "published" and "script" not in by_locale["en"]["body_html"]
    assert by_locale["en"]["url"].startswith("/hc/en/articles/")
    assert by_locale["tr"]["status"] == "draft" and by_locale["tr"]["url"] is None
    article_id = body["id"]

    saved = api_client.put(f"/api/v1/kb/articles/{article_id}/translations/en/",
                           {"title": "How refunds work", "body_html": "<p>Three days</p>"}, format="json")
    assert saved.status_code == 200 and saved.json()["has_draft"] is True
    assert "Five days" in saved.json()["body_html"]  # live text unchanged until published
    published = api_client.post(f"/api/v1/kb/articles/{article_id}/translations/en/publish/", {}, format="json")
    assert published.status_code == 200 and "Three days" in published.json()["body_html"]

    versions = api_client.get(f"/api/v1/kb/articles/{article_id}/translations/en/versions/").json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    restored = api_client.post(f"/api/v1/kb/articles/{article_id}/translations/en/versions/1/restore/")
    assert restored.status_code == 200 and restored.json()["draft_body_html"].startswith("<p>Five days")

    vote = api_client.post(f"/api/v1/kb/articles/{article_id}/votes/", {"helpful": False, "comment": "Unclear",
                                                                          "voter": "customer-7"}, format="json")
    assert vote.status_code == 201
    again = api_client.post(f"/api/v1/kb/articles/{article_id}/votes/", {"helpful": True, "voter": "customer-7"},
                            format="json")
    assert again.status_code == 201
    article = api_client.get(f"/api/v1/kb/articles/{article_id}/").json()
    assert (article["helpful_count"], article["unhelpful_count"], article["helpfulness"]) == (1, 0, 1.0)
    votes = api_client.get(f"/api/v1/kb/articles/{article_id}/votes/").json()["results"]
    assert len(votes) == 1 and votes[0]["comment"] == "Unclear"

    unpublished = api_client.post(f"/api/v1/kb/articles/{article_id}/translations/en/unpublish/")
    assert unpublished.json()["status"] == "archived"
    flagged = api_client.post(f"/api/v1/kb/articles/{article_id}/translations/tr/flag/", {"needs_update": True},
                              format="json")
    assert flagged.json()["needs_update"] is True
    assert api_client.delete(f"/api/v1/kb/articles/{article_id}/translations/tr/").status_code == 204
    assert api_client.delete(f"/api/v1/kb/articles/{article_id}/translations/en/").status_code == 400
    assert api_client.delete(f"/api/v1/kb/articles/{article_id}/").status_code == 204


def test_patch_article_settings(api_client, tenant):
    _category_id, section_id = create_structure(api_client)
    org = OrganizationFactory(tenant=tenant)
    owner = agent_in(tenant, role=Role.AGENT, email="writer@acme.test")
    article_id = api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": [
        {"locale": "en", "title": "T"}]}, format="json").json()["id"]
    changed = api_client.patch(f"/api/v1/kb/articles/{article_id}/", {
        "visibility": "organizations", "organization_ids": [org.pk], "labels": ["billing"], "owner_id": owner.pk,
        "review_by": "2027-01-31", "is_promoted": True}, format="json")
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["organization_ids"] == [org.pk] and body["labels"] == ["billing"] and body["owner_id"] == owner.pk
    assert body["review_by"] == "2027-01-31" and body["is_promoted"] is True
    # Organizations visibility without organizations is refused and changes nothing.
    refused = api_client.patch(f"/api/v1/kb/articles/{article_id}/", {"organization_ids": []}, format="json")
    assert refused.status_code == 400
    with tenant_scope(tenant):
        assert list(Article.objects.get(pk=article_id).organizations.all()) == [org]


@pytest.mark.parametrize("url,payload,field", [
    ("/api/v1/kb/categories/", {"translations": []}, "translations"),
    ("/api/v1/kb/categories/", {"translations": [{"locale": "english!", "name": "x"}]}, "translations"),
    ("/api/v1/kb/categories/", {"translations": [{"locale": "en", "name": "x"}], "colour": "red"}, "colour"),
    ("/api/v1/kb/sections/", {"category_id": 999999, "translations": [{"locale": "en", "name": "x"}]}, "category_id"),
    ("/api/v1/kb/articles/", {"section_id": 999999, "translations": [{"locale": "en", "title": "x"}]}, "section_id"),
    ("/api/v1/kb/articles/", {"section_id": 1, "visibility": "secret", "translations": []}, "visibility"),
])
def test_bad_input_is_a_clear_400(api_client, tenant, url, payload, field):
    before = (Category.objects.count(), Article.objects.count())
    response = api_client.post(url, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert (Category.objects.count(), Article.objects.count()) == before


def test_bad_article_translation_input(api_client, tenant):
    _c, section_id = create_structure(api_client)
    for translations in ([{"locale": "en", "title": ""}], [{"locale": "en", "title": "a"}, {"locale": "en", "title": "b"}],
                         [{"locale": "en", "title": "a", "status": "archived"}]):
        response = api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": translations},
                                   format="json")
        assert response.status_code == 400, response.content
    with tenant_scope(tenant):
        assert not Article.objects.exists()


def test_read_only_key_cannot_write(tenant):
    _key, raw = api_key_create(tenant=tenant, name="reader", scopes=[Scope.KB_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/kb/categories/").status_code == 200
    assert client.post("/api/v1/kb/categories/", {"translations": [{"locale": "en", "name": "x"}]},
                       format="json").status_code == 403


def test_other_tenant_objects_are_404(api_client, other_api_client, tenant):
    _c, section_id = create_structure(api_client)
    article_id = api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": [
        {"locale": "en", "title": "Secret", "status": "published"}]}, format="json").json()["id"]
    for url in (f"/api/v1/kb/articles/{article_id}/", f"/api/v1/kb/articles/{article_id}/translations/en/",
                f"/api/v1/kb/articles/{article_id}/translations/en/versions/1/",
                f"/api/v1/kb/sections/{section_id}/"):
        assert other_api_client.get(url).status_code == 404
    assert other_api_client.post(f"/api/v1/kb/articles/{article_id}/votes/", {"helpful": True},
                                 format="json").status_code == 404
    # Another tenant's section cannot be used for a new article either.
    refused = other_api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": [
        {"locale": "en", "title": "x"}]}, format="json")
    assert refused.status_code == 400
    assert "Secret" not in other_api_client.get("/api/v1/kb/articles/").content.decode()
    with tenant_scope(tenant):
        assert not ArticleVote.objects.exists()


def test_vote_with_contact(api_client, tenant, other_tenant):
    _c, section_id = create_structure(api_client)
    article_id = api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": [
        {"locale": "en", "title": "x", "status": "published"}]}, format="json").json()["id"]
    contact = ContactFactory(tenant=tenant)
    stranger = ContactFactory(tenant=other_tenant)
    assert api_client.post(f"/api/v1/kb/articles/{article_id}/votes/", {"helpful": True, "contact_id": stranger.pk},
                           format="json").status_code == 400
    made = api_client.post(f"/api/v1/kb/articles/{article_id}/votes/", {"helpful": True, "contact_id": contact.pk},
                           format="json")
    assert made.status_code == 201 and made.json()["contact_id"] == contact.pk


def test_article_list_has_a_constant_query_count(api_client, tenant):
    with tenant_scope(tenant):
        category = content.category_create(tenant=tenant, actor=None, translations=[NameInput("en", "C")])
        section = content.section_create(tenant=tenant, actor=None, category=category,
                                         translations=[NameInput("en", "S")])
        org = OrganizationFactory(tenant=tenant)

        def add(n):
            for i in range(n):
                content.article_create(tenant=tenant, actor=None, section=section, labels=[f"l{i}"],
                                       visibility="organizations", organization_ids=[org.pk], translations=[
                                           TranslationInput("en", f"A{i}", "<p>x</p>", "published"),
                                           TranslationInput("tr", f"B{i}", "<p>y</p>", "draft")])

        add(2)
    api_client.get("/api/v1/kb/articles/")  # warm the key cache
    with QueryCounter(connection) as small:
        assert len(api_client.get("/api/v1/kb/articles/").json()["results"]) == 2
    with tenant_scope(tenant):
        add(8)
    with assert_num_queries(len(small), info="grows with the rows"):
        assert len(api_client.get("/api/v1/kb/articles/").json()["results"]) == 10
    with QueryCounter(connection) as cats:
        api_client.get("/api/v1/kb/categories/")
    with tenant_scope(tenant):
        for i in range(5):
            content.category_create(tenant=tenant, actor=None, translations=[NameInput("en", f"C{i}"),
                                                                              NameInput("tr", f"K{i}")])
    with assert_num_queries(len(cats)):
        api_client.get("/api/v1/kb/categories/")


def test_filters(api_client, tenant):
    _c, section_id = create_structure(api_client)
    api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "labels": ["billing"], "translations": [
        {"locale": "en", "title": "Published", "status": "published"}]}, format="json")
    api_client.post("/api/v1/kb/articles/", {"section_id": section_id, "translations": [
        {"locale": "tr", "title": "Taslak", "status": "draft"}]}, format="json")

    def titles(query):
        response = api_client.get(f"/api/v1/kb/articles/?{query}")
        assert response.status_code == 200, response.content
        return sorted(t["title"] for a in response.json()["results"] for t in a["translations"])

    assert titles("status=published") == ["Published"]
    assert titles("locale=tr") == ["Taslak"]
    assert titles("label=BILLING") == ["Published"]
    assert api_client.get("/api/v1/kb/articles/?status=nope").status_code == 400
    assert api_client.get("/api/v1/kb/articles/?section_id=abc").status_code == 400
    with tenant_scope(tenant):
        assert ArticleTranslation.objects.filter(status=TranslationStatus.PUBLISHED).count() == 1
