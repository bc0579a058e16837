"""A translation's history in the console: the list (number, author, date, published, note),
one version, the word diff of any two (escaped, <ins>/<del>) and restore."""
from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import ArticleVersion, TranslationStatus
from knowledge.services.content import translation_save
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


def versions(tenant, translation_):
    with tenant_scope(tenant):
        return list(ArticleVersion.objects.filter(translation=translation_).order_by("number"))


@pytest.fixture
def edited(tenant, kb, owner):
    with tenant_scope(tenant):
        translation_save(article=kb.article, actor=owner, locale="en", title="Where is my order?",
                         body_html="<p>Open the tracking link in the email.</p>", note="clearer")
        translation_save(article=kb.article, actor=owner, locale="en", title="Where is my <parcel>?",
                         body_html="<p>Open the link &lt;b&gt;now&lt;/b&gt; in the email.</p>",
                         status=TranslationStatus.PUBLISHED)
    return kb


def test_history_lists_versions_for_every_reader(tenant, edited, light_client, admin_client):
    url = reverse("kb:article_history", args=[edited.article.pk]) + "?locale=en"
    for client in (light_client, admin_client):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "v1" in page and "v3" in page and "clearer" in page and "Published" in page
    assert reverse("kb:version_restore", args=[versions(tenant, edited.en)[0].pk]) not in \
        light_client.get(url).content.decode()  # light agents read, never restore
    assert "?locale=tr" in admin_client.get(url).content.decode()
    assert admin_client.get(reverse("kb:article_history", args=[edited.article.pk]) + "?locale=%%").status_code == 400
    # Without a locale: the first language.
    assert admin_client.get(reverse("kb:article_history", args=[edited.article.pk])).status_code == 200


def test_version_page_shows_the_sanitised_text(tenant, edited, light_client):
    first = versions(tenant, edited.en)[0]
    with tenant_scope(tenant):  # a row written around the services must still not run
        ArticleVersion.objects.filter(pk=first.pk).update(body_html='<p>Old</p><img src=x onerror="alert(1)">')
    page = light_client.get(reverse("kb:version", args=[first.pk])).content.decode()
    assert "Old" in page and "onerror" not in page


def test_diff_of_two_versions_is_escaped_with_ins_and_del(tenant, edited, light_client):
    v1, v2, v3 = versions(tenant, edited.en)
    url = reverse("kb:article_diff", args=[edited.article.pk])
    page = light_client.get(url, {"a": v3.pk, "b": v1.pk}).content.decode()  # either order
    assert "Changes from v1 to v3" in page
    assert "Where is my <del>order?</del><ins>&lt;parcel&gt;?</ins>" in page
    assert "<del>tracking</del><ins>link</ins>" in page
    assert "<ins>&lt;b&gt;now&lt;/b&gt; in the email.</ins>" in page  # text that looks like HTML stays text
    assert light_client.get(url, {"a": v1.pk}).status_code == 400
    assert light_client.get(url, {"a": v1.pk, "b": "x"}).status_code == 400
    tr_version = versions(tenant, edited.tr)[0]
    assert light_client.get(url, {"a": v1.pk, "b": tr_version.pk}).status_code == 400  # other language


def test_diff_refuses_versions_of_another_article_or_tenant(tenant, edited, other_kb, admin_client, other_tenant):
    other_version = versions(other_tenant, other_kb.en)[0]
    mine = versions(tenant, edited.en)[0]
    url = reverse("kb:article_diff", args=[edited.article.pk])
    response = admin_client.get(url, {"a": mine.pk, "b": other_version.pk})
    assert response.status_code == 400 and b"Open the tracking link" not in response.content
    draft_version = versions(tenant, translation(tenant, edited.draft))[0]
    assert admin_client.get(url, {"a": mine.pk, "b": draft_version.pk}).status_code == 400
    assert admin_client.get(reverse("kb:version", args=[other_version.pk])).status_code == 404


def test_restore_brings_a_version_back_as_the_draft_of_a_published_text(tenant, edited, agent_client,
                                                                         light_client):
    v1 = versions(tenant, edited.en)[0]
    assert light_client.post(reverse("kb:version_restore", args=[v1.pk])).status_code == 403
    response = agent_client.post(reverse("kb:version_restore", args=[v1.pk]))
    assert response.status_code == 302
    t = translation(tenant, edited.article)
    # Still live with the v3 text; v1 waits as the draft.
    assert (t.status, t.title, t.has_draft, t.draft_title) == (
        TranslationStatus.PUBLISHED, "Where is my <parcel>?", True, "Where is my order?")
    latest = versions(tenant, t)[-1]
    assert latest.number == 4 and latest.note == "Restored version 1"


def test_history_query_count_does_not_grow_with_versions(tenant, kb, owner, admin_client):
    url = reverse("kb:article_history", args=[kb.article.pk]) + "?locale=en"
    admin_client.get(url)
    with QueryCounter(connection) as small:
        admin_client.get(url)
    with tenant_scope(tenant):
        for n in range(6):
            translation_save(article=kb.article, actor=owner, locale="en", title=f"T{n}", body_html="<p>x</p>")
    with QueryCounter(connection) as large:
        admin_client.get(url)
    assert len(large) == len(small)
