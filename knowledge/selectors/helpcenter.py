"""Reads for the public help center's pages: the category/section tree, an article with its
translation in the visitor's language, related and promoted articles, the sitemap.

Every read of articles goes through ``visible_articles`` (the audience's visibility rule and a
published translation along the page's fallback chain), so nothing a visitor may not read
reaches a page, a list, a related-articles box or the sitemap. Categories and sections show
only when they hold something the visitor may read (an internal-only section's name is as
private as its articles).

Query counts do not grow with the rows: names and translations of a list come in one query
per kind (``_names``, ``_titles``), the per-section "first N articles" in one window query.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from helpdesk.tenancy.models import Tenant
from knowledge.audience import Audience, visible_articles_q
from knowledge.links import article_path, category_path, section_path
from knowledge.locales import pick_translation
from knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleLabel,
    ArticleTranslation,
    ArticleVote,
    Category,
    CategoryTranslation,
    Label,
    Section,
    SectionTranslation,
    TranslationStatus,
    Visibility,
)

PUBLISHED = TranslationStatus.PUBLISHED
ARTICLES_PER_SECTION = 6
SECTION_PAGE_SIZE = 30
RELATED_LIMIT = 5
PROMOTED_LIMIT = 8
# The sitemap protocol's maximum URLs per file: a help center with more is a sitemap index
# of pages of this many URLs (tests lower it).
SITEMAP_PAGE_SIZE = 50_000


# --- what the pages get ------------------------------------------------------------------

@dataclass
class ArticleItem:
    """One article in a list, in the best translation along the chain."""
    id: int
    title: str
    locale: str
    url: str
    visibility: str


@dataclass
class SectionNode:
    id: int
    name: str
    locale: str
    description: str
    url: str
    children: list["SectionNode"] = field(default_factory=list)
    articles: list[ArticleItem] = field(default_factory=list)
    article_count: int = 0


@dataclass
class CategoryNode:
    id: int
    name: str
    locale: str
    description: str
    url: str
    sections: list[SectionNode] = field(default_factory=list)


@dataclass
class Crumb:
    name: str
    url: str
    locale: str = ""


@dataclass
class ArticlePage:
    article: Article
    translation: ArticleTranslation  # the one shown (may be a fallback's)
    translations: list[ArticleTranslation]  # every published one (switcher, hreflang)
    crumbs: list[Crumb]
    labels: list[str]
    attachments: list[ArticleAttachment]


# --- building blocks ---------------------------------------------------------------------

def visible_articles(*, tenant: Tenant, audience: Audience, chain: list[str] | None = None) -> QuerySet:
    """Articles the audience may read: the visibility rule, and a published translation (along
    ``chain`` when given, else in any language)."""
    published = ArticleTranslation.objects.filter(article_id=OuterRef("pk"), status=PUBLISHED)
    if chain is not None:
        published = published.filter(locale__in=chain)
    return Article.objects.filter(tenant=tenant).filter(visible_articles_q(audience)).filter(Exists(published))


def _names(model, owner_field: str, ids: Iterable[int], chain: list[str], *, tenant: Tenant) -> dict[int, object]:
    """``{owner id: translation}`` of categories or sections along ``chain`` (one query)."""
    ids = list(set(ids))
    if not ids:
        return {}
    grouped: dict[int, list] = defaultdict(list)
    for row in model.objects.filter(tenant=tenant, **{f"{owner_field}_id__in": ids, "locale__in": chain}).only(
            "id", f"{owner_field}_id", "locale", "name", "description"):
        grouped[getattr(row, f"{owner_field}_id")].append(row)
    return {owner: pick_translation(rows, chain) for owner, rows in grouped.items()}


def article_titles(article_ids: Iterable[int], chain: list[str], *, tenant: Tenant) -> dict[int, ArticleTranslation]:
    """``{article id: published translation}`` along ``chain`` (one query)."""
    ids = list(set(article_ids))
    if not ids:
        return {}
    grouped: dict[int, list] = defaultdict(list)
    for row in ArticleTranslation.objects.filter(tenant=tenant, article_id__in=ids, locale__in=chain,
                                                 status=PUBLISHED).only(
            "id", "article_id", "locale", "title"):
        grouped[row.article_id].append(row)
    return {owner: pick_translation(rows, chain) for owner, rows in grouped.items()}


def _items(articles: Iterable[Article], locale: str, chain: list[str], *, tenant: Tenant) -> list[ArticleItem]:
    articles = list(articles)
    titles = article_titles((a.pk for a in articles), chain, tenant=tenant)
    out = []
    for article in articles:
        found = titles.get(article.pk)
        if found is not None:
            out.append(ArticleItem(id=article.pk, title=found.title, locale=found.locale,
                                   url=article_path(locale=locale, article_id=article.pk, title=found.title),
                                   visibility=article.visibility))
    return out


def _section_node(section_id: int, names: dict, locale: str) -> SectionNode | None:
    name = names.get(section_id)
    if name is None:
        return None
    return SectionNode(id=section_id, name=name.name, locale=name.locale, description=name.description,
                       url=section_path(locale=locale, section_id=section_id, name=name.name))


@dataclass
class _Tree:
    """The sections of some categories (id, category, parent, in order) and which of them hold
    something the visitor may read, themselves or below."""
    rows: list[dict]
    children: dict[int | None, list[int]]
    shown: set[int]

    @property
    def by_id(self) -> dict[int, dict]:
        return {row["id"]: row for row in self.rows}


def _tree(*, tenant: Tenant, audience: Audience, chain: list[str], category_ids: list[int] | None = None) -> _Tree:
    """Two queries: the sections, and the sections with readable articles."""
    sections = Section.objects.filter(tenant=tenant)
    if category_ids is not None:
        sections = sections.filter(category_id__in=category_ids)
    rows = list(sections.order_by("position", "id").values("id", "category_id", "parent_id"))
    readable = visible_articles(tenant=tenant, audience=audience, chain=chain)
    if category_ids is not None:
        readable = readable.filter(section__category_id__in=category_ids)
    with_content = set(readable.order_by().values_list("section_id", flat=True).distinct())
    children: dict[int | None, list[int]] = defaultdict(list)
    known = {row["id"] for row in rows}
    parent_of = {}
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in known else None
        parent_of[row["id"]] = parent
        children[parent].append(row["id"])
    shown: set[int] = set()
    for section_id in with_content:
        # Mark the section and its ancestors (bounded: the services refuse cycles; the guard
        # stops a corrupted one).
        current, steps = section_id, 0
        while current is not None and current not in shown and steps <= len(rows):
            shown.add(current)
            current, steps = parent_of.get(current), steps + 1
    return _Tree(rows=rows, children=children, shown=shown)


# --- pages -------------------------------------------------------------------------------

def hc_home(*, tenant: Tenant, audience: Audience, locale: str, chain: list[str]) -> list[CategoryNode]:
    """Categories in order, each with its top-level sections, all holding readable articles."""
    categories = list(Category.objects.filter(tenant=tenant).order_by("position", "id").values_list("id", flat=True))
    tree = _tree(tenant=tenant, audience=audience, chain=chain)
    top = [row for row in tree.rows if row["id"] in tree.shown and row["id"] in tree.children[None]]
    category_names = _names(CategoryTranslation, "category", categories, chain, tenant=tenant)
    section_names = _names(SectionTranslation, "section", (row["id"] for row in top), chain, tenant=tenant)
    nodes: dict[int, CategoryNode] = {}
    for category_id in categories:
        name = category_names.get(category_id)
        if name is not None:
            nodes[category_id] = CategoryNode(
                id=category_id, name=name.name, locale=name.locale, description=name.description,
                url=category_path(locale=locale, category_id=category_id, name=name.name))
    for row in top:
        node = _section_node(row["id"], section_names, locale)
        if node is not None and row["category_id"] in nodes:
            nodes[row["category_id"]].sections.append(node)
    return [node for node in nodes.values() if node.sections]


def hc_promoted(*, tenant: Tenant, audience: Audience, locale: str, chain: list[str],
                limit: int = PROMOTED_LIMIT) -> list[ArticleItem]:
    articles = (visible_articles(tenant=tenant, audience=audience, chain=chain).filter(is_promoted=True)
                .order_by("position", "id").only("id", "visibility")[:limit])
    return _items(articles, locale, chain, tenant=tenant)


def _first_articles(*, tenant: Tenant, audience: Audience, locale: str, chain: list[str],
                    sections: list[SectionNode], per_section: int = ARTICLES_PER_SECTION) -> None:
    """Fill each section's first ``per_section`` articles and its article count (one window
    query, one query for the titles)."""
    if not sections:
        return
    ranked = (visible_articles(tenant=tenant, audience=audience, chain=chain)
              .filter(section_id__in=[node.id for node in sections])
              .annotate(rank=Window(RowNumber(), partition_by=[F("section_id")],
                                    order_by=[F("position").asc(), F("id").asc()]),
                        total=Window(Count("id"), partition_by=[F("section_id")]))
              .filter(rank__lte=per_section).order_by("section_id", "rank")
              .only("id", "section_id", "visibility"))
    rows = list(ranked)
    items = {item.id: item for item in _items(rows, locale, chain, tenant=tenant)}
    by_section = {node.id: node for node in sections}
    for article in rows:
        node = by_section[article.section_id]
        node.article_count = article.total
        if article.pk in items:
            node.articles.append(items[article.pk])


def hc_category(*, tenant: Tenant, audience: Audience, locale: str, chain: list[str],
                category_id: int) -> CategoryNode | None:
    """A category with its top-level sections and their first articles; None when it does not
    exist here or holds nothing the visitor may read."""
    name = _names(CategoryTranslation, "category", [category_id], chain, tenant=tenant).get(category_id)
    if name is None:
        return None
    tree = _tree(tenant=tenant, audience=audience, chain=chain, category_ids=[category_id])
    top = [row["id"] for row in tree.rows if row["id"] in tree.shown and row["id"] in tree.children[None]]
    if not top:
        return None
    names = _names(SectionTranslation, "section", top, chain, tenant=tenant)
    node = CategoryNode(id=category_id, name=name.name, locale=name.locale, description=name.description,
                        url=category_path(locale=locale, category_id=category_id, name=name.name))
    node.sections = [s for s in (_section_node(i, names, locale) for i in top) if s is not None]
    _first_articles(tenant=tenant, audience=audience, locale=locale, chain=chain, sections=node.sections)
    return node if node.sections else None


@dataclass
class SectionPage:
    section: SectionNode
    category: CategoryNode
    crumbs: list[Crumb]
    has_next: bool


def _ancestors(tree: _Tree, section_id: int) -> list[int]:
    """The section's ancestors, the root first (not the section itself)."""
    by_id = tree.by_id
    out, current = [], by_id[section_id]["parent_id"]
    while current is not None and current in by_id and current not in out and len(out) <= len(by_id):
        out.append(current)
        current = by_id[current]["parent_id"]
    return list(reversed(out))


def hc_section(*, tenant: Tenant, audience: Audience, locale: str, chain: list[str], section_id: int,
               page: int = 1, page_size: int = SECTION_PAGE_SIZE) -> SectionPage | None:
    """A section with its breadcrumbs, readable subsections and a page of its articles."""
    category_id = Section.objects.filter(tenant=tenant, pk=section_id).values_list("category_id", flat=True).first()
    if category_id is None:
        return None
    tree = _tree(tenant=tenant, audience=audience, chain=chain, category_ids=[category_id])
    if section_id not in tree.shown:
        return None
    ancestors = _ancestors(tree, section_id)
    subsections = [i for i in tree.children.get(section_id, []) if i in tree.shown]
    names = _names(SectionTranslation, "section", [section_id, *ancestors, *subsections], chain, tenant=tenant)
    category_name = _names(CategoryTranslation, "category", [category_id], chain, tenant=tenant).get(category_id)
    node = _section_node(section_id, names, locale)
    if node is None or category_name is None:
        return None
    category = CategoryNode(id=category_id, name=category_name.name, locale=category_name.locale,
                            description=category_name.description,
                            url=category_path(locale=locale, category_id=category_id, name=category_name.name))
    crumbs = [Crumb(category.name, category.url, category.locale)]
    for ancestor in ancestors:
        parent = _section_node(ancestor, names, locale)
        if parent is not None:
            crumbs.append(Crumb(parent.name, parent.url, parent.locale))
    node.children = [s for s in (_section_node(i, names, locale) for i in subsections) if s is not None]
    start = (page - 1) * page_size
    articles = list(visible_articles(tenant=tenant, audience=audience, chain=chain).filter(section_id=section_id)
                    .order_by("position", "id").only("id", "visibility")[start:start + page_size + 1])
    node.articles = _items(articles[:page_size], locale, chain, tenant=tenant)
    return SectionPage(section=node, category=category, crumbs=crumbs, has_next=len(articles) > page_size)


def hc_article(*, tenant: Tenant, audience: Audience, article_id: int, chain: list[str], locale: str,
               offered: list[str]) -> ArticlePage | None:
    """The article the audience may read, in the best published translation along ``chain``,
    with its breadcrumbs, labels and attachments; None when there is none to show."""
    article = (visible_articles(tenant=tenant, audience=audience).filter(pk=article_id)
               .select_related("section").first())
    if article is None:
        return None
    translations = list(ArticleTranslation.objects.filter(article=article, status=PUBLISHED,
                                                          locale__in=set(offered) | set(chain)))
    shown = pick_translation(translations, chain)
    if shown is None:
        return None
    section = article.section
    tree_rows = {row["id"]: row["parent_id"] for row in
                 Section.objects.filter(tenant=tenant, category_id=section.category_id).values("id", "parent_id")}
    path_ids, current = [], section.pk
    while current is not None and current in tree_rows and current not in path_ids:
        path_ids.append(current)
        current = tree_rows[current]
    path_ids.reverse()
    names = _names(SectionTranslation, "section", path_ids, chain, tenant=tenant)
    category_name = _names(CategoryTranslation, "category", [section.category_id], chain,
                           tenant=tenant).get(section.category_id)
    crumbs = []
    if category_name is not None:
        crumbs.append(Crumb(category_name.name, category_path(locale=locale, category_id=section.category_id,
                                                              name=category_name.name), category_name.locale))
    for section_id in path_ids:
        node = _section_node(section_id, names, locale)
        if node is not None:
            crumbs.append(Crumb(node.name, node.url, node.locale))
    labels = list(Label.objects.filter(articles=article).order_by("name").values_list("name", flat=True))
    attachments = list(ArticleAttachment.objects.filter(article=article).order_by("created_at", "id"))
    return ArticlePage(article=article, translation=shown,
                       translations=[t for t in translations if t.locale in offered],
                       crumbs=crumbs, labels=labels, attachments=attachments)


def hc_related(*, tenant: Tenant, audience: Audience, article: Article, locale: str, chain: list[str],
               limit: int = RELATED_LIMIT) -> list[ArticleItem]:
    """Readable articles that share a label with ``article`` or sit in its section: label
    matches first, then the most helpful."""
    labels = ArticleLabel.objects.filter(article_id=article.pk).values("label_id")
    shares = Exists(ArticleLabel.objects.filter(article_id=OuterRef("pk"), label_id__in=labels))
    related = (visible_articles(tenant=tenant, audience=audience, chain=chain).exclude(pk=article.pk)
               .annotate(shares=shares).filter(Q(shares=True) | Q(section_id=article.section_id))
               .order_by("-shares", "-helpful_count", "-view_count", "position", "id")
               .only("id", "visibility")[:limit])
    return _items(related, locale, chain, tenant=tenant)


def hc_vote_of(*, article: Article, voter_key: str) -> ArticleVote | None:
    return ArticleVote.objects.filter(article=article, voter_key=voter_key).only(
        "id", "helpful", "comment").first() if voter_key else None


def hc_vote_target(*, tenant: Tenant, audience: Audience, article_id: int) -> Article | None:
    """The article a vote is for, if the audience may read it."""
    return visible_articles(tenant=tenant, audience=audience).filter(pk=article_id).first()


def hc_attachment(*, tenant: Tenant, audience: Audience, token: str) -> ArticleAttachment | None:
    """An attachment of an article the audience may read (by its token)."""
    readable = visible_articles(tenant=tenant, audience=audience).filter(pk=OuterRef("article_id"))
    return (ArticleAttachment.objects.filter(tenant=tenant, token=token).filter(Exists(readable))
            .first())


@dataclass
class SitemapEntry:
    locale: str
    url: str
    updated_at: object
    alternates: list[tuple[str, str]]  # (hreflang, url)


def _sitemap_translations(*, tenant: Tenant, locales: list[str]) -> QuerySet:
    return ArticleTranslation.objects.filter(
        tenant=tenant, status=PUBLISHED, locale__in=locales, article__visibility=Visibility.PUBLIC)


def hc_sitemap_count(*, tenant: Tenant, locales: list[str]) -> int:
    """How many article URLs the sitemap has: public translations published in an offered
    language (one COUNT)."""
    return _sitemap_translations(tenant=tenant, locales=locales).count()


def hc_sitemap(*, tenant: Tenant, locales: list[str], offset: int = 0,
               limit: int = SITEMAP_PAGE_SIZE) -> list[SitemapEntry]:
    """Public articles, one entry per published translation in an offered language (the
    ``offset``/``limit`` slice of them, ordered by article), each with the article's other
    languages as alternates. Anonymous visibility only, whoever asks.

    Two queries at most whatever the slice: the slice, and the translations of the first and
    last article of a slice that may have cut them (their alternates lie on the next page)."""
    base = (_sitemap_translations(tenant=tenant, locales=locales).order_by("article_id", "locale")
            .values_list("article_id", "locale", "title", "updated_at"))
    rows = list(base[offset:offset + limit])
    if not rows:
        return []
    by_article: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_article[row[0]].append(row)
    languages_of = dict(by_article)
    if offset > 0 or len(rows) == limit:
        edges: dict[int, list[tuple]] = defaultdict(list)
        for row in base.filter(article_id__in={rows[0][0], rows[-1][0]}):
            edges[row[0]].append(row)
        languages_of.update(edges)
    order = {code: i for i, code in enumerate(locales)}
    entries = []
    for article_id, translations in by_article.items():
        every = sorted(languages_of[article_id], key=lambda r: order.get(r[1], 99))
        urls = [(r[1], article_path(locale=r[1], article_id=article_id, title=r[2])) for r in every]
        alternates = urls + [("x-default", urls[0][1])] if len(urls) > 1 else []
        url_of = dict(urls)
        for row in sorted(translations, key=lambda r: order.get(r[1], 99)):
            entries.append(SitemapEntry(locale=row[1], url=url_of[row[1]], updated_at=row[3], alternates=alternates))
    return entries
