"""``/hc/sitemap.xml``: public published articles in every language they are published in, with
hreflang alternates; nothing restricted, unpublished or of another tenant."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from helpdesk.tenancy.context import tenant_scope
from knowledge.models import HelpCenterSettings
from knowledge.services.content import TranslationInput, article_create
from tests.knowledge.helpcenter_setup import OTHER_HOST, agent_client, help_center, visitor
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def entries(response) -> dict[str, list[tuple[str, str]]]:
    root = ET.fromstring(response.content)
    return {url.find("s:loc", NS).text: [(link.get("hreflang"), link.get("href"))
                                          for link in url.findall("x:link", NS)]
            for url in root.findall("s:url", NS)}


def test_the_sitemap_lists_public_articles_per_language_with_alternates(tenant, hc):
    response = visitor().get("/hc/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    found = entries(response)
    base = "http://acme.localhost"
    where_en = f"{base}/hc/en/articles/{hc.where.pk}-where-is-my-order/"
    where_tr = f"{base}/hc/tr/articles/{hc.where.pk}-siparisim-nerede/"
    assert f"{base}/hc/en/" in found and f"{base}/hc/tr/" in found
    assert set(found[where_en]) == {("en", where_en), ("tr", where_tr), ("x-default", where_en)}
    assert set(found[where_tr]) == set(found[where_en])
    address = f"{base}/hc/en/articles/{hc.address.pk}-changing-your-delivery-address/"
    assert found[address] == []  # one language: no alternates
    assert not any(f"/articles/{hc.address.pk}-" in url for url in found if "/hc/tr/" in url)


def test_the_sitemap_never_lists_restricted_or_unpublished_articles(tenant, hc, agent):
    for client in (visitor(), agent_client(agent)):
        body = client.get("/hc/sitemap.xml").content.decode()
        for article in (hc.internal, hc.escalation, hc.members, hc.partners, hc.draft):
            assert f"/articles/{article.pk}-" not in body


def test_the_sitemap_is_per_tenant_and_keeps_a_constant_query_count(tenant, hc, other_tenant):
    with tenant_scope(other_tenant):
        HelpCenterSettings.objects.update_or_create(tenant=other_tenant, defaults={"locales": ["en"]})
    body = visitor(host=OTHER_HOST).get("/hc/sitemap.xml").content.decode()
    assert "/articles/" not in body
    from django.db import connection

    with QueryCounter(connection) as before:
        visitor().get("/hc/sitemap.xml")
    with tenant_scope(tenant):
        for n in range(10):
            article_create(tenant=tenant, actor=None, section=hc.shipping, translations=[
                TranslationInput("en", f"Extra {n}", "<p>x</p>", "published"),
                TranslationInput("tr", f"Ek {n}", "<p>x</p>", "published")])
    with QueryCounter(connection) as after:
        response = visitor().get("/hc/sitemap.xml")
    assert len(after) == len(before)
    assert len(entries(response)) == 2 + 2 * 2 + 1 + 20


# --- the sitemap index (more URLs than a file may hold) --------------------------------------

def index_locs(response) -> list[str]:
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    return [item.find("s:loc", NS).text for item in root.findall("s:sitemap", NS)]


def test_a_small_help_center_keeps_a_single_sitemap(tenant, hc):
    root = ET.fromstring(visitor().get("/hc/sitemap.xml").content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    assert visitor().get("/hc/sitemap-1.xml").content == visitor().get("/hc/sitemap.xml").content
    assert visitor().get("/hc/sitemap-2.xml").status_code == 404


def test_beyond_a_files_limit_the_sitemap_is_an_index_of_pages(tenant, hc, monkeypatch):
    from knowledge.selectors import helpcenter as selectors

    whole = entries(visitor().get("/hc/sitemap.xml"))
    assert len(whole) == 7  # two homes, five published public translations
    monkeypatch.setattr(selectors, "SITEMAP_PAGE_SIZE", 3)
    response = visitor().get("/hc/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    base = "http://acme.localhost"
    assert index_locs(response) == [f"{base}/hc/sitemap-{n}.xml" for n in (1, 2, 3)]
    pages = [entries(visitor().get(f"/hc/sitemap-{n}.xml")) for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert f"{base}/hc/en/" in pages[0] and f"{base}/hc/tr/" in pages[0]
    # Every URL once, with the same alternates as in the single file, even for an article
    # whose languages fall on two pages.
    merged = {url: links for page in pages for url, links in page.items()}
    assert sum(len(page) for page in pages) == len(merged)
    assert {url: set(links) for url, links in merged.items()} == {url: set(links) for url, links in whole.items()}
    for missing in ("/hc/sitemap-4.xml", "/hc/sitemap-0.xml"):
        assert visitor().get(missing).status_code == 404


def test_sitemap_pages_keep_a_constant_query_count(tenant, hc, monkeypatch):
    from django.db import connection

    from knowledge.selectors import helpcenter as selectors

    monkeypatch.setattr(selectors, "SITEMAP_PAGE_SIZE", 4)
    paths = ["/hc/sitemap.xml", "/hc/sitemap-1.xml", "/hc/sitemap-2.xml"]

    def measure() -> dict[str, int]:
        counts = {}
        for path in paths:
            with QueryCounter(connection) as counter:
                assert visitor().get(path).status_code == 200, path
            counts[path] = len(counter)
        return counts

    before = measure()
    with tenant_scope(tenant):
        for n in range(6):
            article_create(tenant=tenant, actor=None, section=hc.shipping, translations=[
                TranslationInput("en", f"Extra {n}", "<p>x</p>", "published"),
                TranslationInput("tr", f"Ek {n}", "<p>x</p>", "published")])
    assert measure() == before
    assert len(index_locs(visitor().get("/hc/sitemap.xml"))) == 5  # 2 + 5 + 12 = 19 URLs
