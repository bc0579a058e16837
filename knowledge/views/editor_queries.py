"""The reads behind the console's help-center editor: the content tree with its filters, the
review queue, the missing-translations list. Each is a fixed number of queries whatever the
number of rows (prefetches and ``Exists`` filters, never a query per item)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import Tenant
from knowledge.locales import pick_translation
from knowledge.models import (
    Article,
    ArticleLabel,
    ArticleTranslation,
    Category,
    CategoryTranslation,
    SearchSynonym,
    Section,
    SectionTranslation,
    TranslationStatus,
)

# The tree shows at most this many articles; filters narrow it down.
TREE_ARTICLE_LIMIT = 2000
LIST_LIMIT = 200

# The columns the tree and lists need from a translation (never the bodies).
TRANSLATION_COLUMNS = ("id", "tenant_id", "article_id", "locale", "title", "draft_title", "status", "has_draft",
                       "publish_at", "needs_update", "review_requested_by_id", "updated_at", "published_at")


class State:
    """One translation's states, in the words the editor uses (badges, filters)."""

    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    SCHEDULED = "scheduled"
    ARCHIVED = "archived"
    CHANGES = "changes"
    NEEDS_UPDATE = "needs_update"

    LABELS = {
        DRAFT: _("Draft"),
        REVIEW: _("In review"),
        PUBLISHED: _("Published"),
        SCHEDULED: _("Scheduled"),
        ARCHIVED: _("Archived"),
        CHANGES: _("Unpublished changes"),
        NEEDS_UPDATE: _("Needs update"),
    }


def in_review_q(prefix: str = "") -> Q:
    """A translation waiting for review: a draft filed for review, or a published one whose
    pending changes were filed for review."""
    return (Q(**{f"{prefix}status": TranslationStatus.REVIEW})
            | Q(**{f"{prefix}has_draft": True, f"{prefix}review_requested_by__isnull": False,
                   f"{prefix}status": TranslationStatus.PUBLISHED}))


def translation_states(translation: ArticleTranslation) -> list[str]:
    """The badges of one translation, the main state first."""
    states = []
    if translation.status == TranslationStatus.REVIEW:
        states.append(State.REVIEW)
    elif translation.status == TranslationStatus.PUBLISHED:
        states.append(State.PUBLISHED)
        if translation.has_draft:
            states.append(State.CHANGES)
            if translation.review_requested_by_id:
                states.append(State.REVIEW)
    elif translation.status == TranslationStatus.ARCHIVED:
        states.append(State.ARCHIVED)
    else:
        states.append(State.DRAFT)
    if translation.publish_at is not None:
        states.append(State.SCHEDULED)
    if translation.needs_update:
        states.append(State.NEEDS_UPDATE)
    return states


def translation_badges(translation: ArticleTranslation) -> list[tuple[str, str]]:
    """(state, label) pairs for the page's badges."""
    return [(state, State.LABELS[state]) for state in translation_states(translation)]


def working_title(translation: ArticleTranslation) -> str:
    """What the editor is working on: the pending draft's title, else the title."""
    return (translation.draft_title if translation.has_draft and translation.draft_title else translation.title)


def display_name(translations, chain: list[str]) -> str:
    """A category's or section's name in the first language of ``chain`` it has, else any."""
    items = list(translations)
    found = pick_translation(items, chain) or (items[0] if items else None)
    return found.name if found is not None else ""


# --- the tree ------------------------------------------------------------------------------

@dataclass
class TreeFilters:
    status: str = ""
    locale: str = ""
    label_id: int | None = None
    owner_id: int | None = None
    missing: bool = False
    in_review: bool = False
    needs_update: bool = False
    past_review: bool = False

    @property
    def active(self) -> bool:
        return bool(self.status or self.locale or self.label_id or self.owner_id or self.missing
                    or self.in_review or self.needs_update or self.past_review)


@dataclass
class ArticleRow:
    article: Article
    title: str
    translations: list[tuple[str, ArticleTranslation | None, list[tuple[str, str]]]]  # (locale, translation, badges)
    missing: list[str]


@dataclass
class SectionNode:
    section: Section
    name: str
    locales: list[str]
    missing: list[str]
    children: list["SectionNode"] = field(default_factory=list)
    articles: list[ArticleRow] = field(default_factory=list)
    depth: int = 0
    matches: bool = False


@dataclass
class CategoryNode:
    category: Category
    name: str
    locales: list[str]
    missing: list[str]
    sections: list[SectionNode] = field(default_factory=list)
    matches: bool = False


@dataclass
class Tree:
    categories: list[CategoryNode]
    article_count: int
    truncated: bool


def _translation_filter(filters: TreeFilters) -> Q | None:
    """The condition on one translation, or None when no filter is about translations. With
    "missing translations", the language names the one that is missing, not one to have."""
    cond = Q()
    used = False
    if filters.locale and not filters.missing:
        cond &= Q(locale=filters.locale)
        used = True
    status = filters.status
    if status == State.DRAFT:
        cond &= Q(status=TranslationStatus.DRAFT)
    elif status == State.REVIEW:
        cond &= in_review_q()
    elif status == State.PUBLISHED:
        cond &= Q(status=TranslationStatus.PUBLISHED)
    elif status == State.SCHEDULED:
        cond &= Q(publish_at__isnull=False)
    elif status == State.ARCHIVED:
        cond &= Q(status=TranslationStatus.ARCHIVED)
    elif status == State.CHANGES:
        cond &= Q(has_draft=True)
    used = used or bool(status)
    if filters.in_review:
        cond &= in_review_q()
        used = True
    if filters.needs_update:
        cond &= Q(needs_update=True)
        used = True
    return cond if used else None


def article_filter_q(filters: TreeFilters, *, locales: list[str], today: date) -> Q:
    """The tree's filters as one condition on ``Article`` (subqueries, no joins that repeat rows)."""
    q = Q()
    cond = _translation_filter(filters)
    if cond is not None:
        q &= Exists(ArticleTranslation.objects.filter(cond, article_id=OuterRef("pk")))
    if filters.missing:
        wanted = [filters.locale] if filters.locale else locales
        lacking = Q()
        for locale in wanted:
            lacking |= ~Exists(ArticleTranslation.objects.filter(article_id=OuterRef("pk"), locale=locale))
        q &= lacking
    if filters.label_id:
        q &= Exists(ArticleLabel.objects.filter(article_id=OuterRef("pk"), label_id=filters.label_id))
    if filters.owner_id:
        q &= Q(owner_id=filters.owner_id)
    if filters.past_review:
        q &= Q(review_by__lt=today)
    return q


def _translations_prefetch() -> Prefetch:
    return Prefetch("translations", queryset=ArticleTranslation.objects.only(*TRANSLATION_COLUMNS)
                    .order_by("locale"))


def article_rows(articles, *, locales: list[str], chain: list[str]) -> list[ArticleRow]:
    rows = []
    for article in articles:
        translations = list(article.translations.all())
        by_locale = {t.locale: t for t in translations}
        shown = pick_translation(translations, chain) or (translations[0] if translations else None)
        ordered = [loc for loc in locales] + sorted(loc for loc in by_locale if loc not in locales)
        cells = [(loc, by_locale.get(loc), translation_badges(by_locale[loc]) if loc in by_locale else [])
                 for loc in ordered]
        rows.append(ArticleRow(article=article, title=working_title(shown) if shown else "",
                               translations=cells, missing=[loc for loc in locales if loc not in by_locale]))
    return rows


def content_tree(*, tenant: Tenant, filters: TreeFilters, locales: list[str], chain: list[str],
                 today: date) -> Tree:
    """Categories > sections (nested) > articles with each item's languages and states.
    Seven queries whatever the size. With filters, only branches holding a match are kept."""
    categories = list(Category.objects.filter(tenant=tenant).order_by("position", "id")
                      .prefetch_related(Prefetch("translations", queryset=CategoryTranslation.objects
                                                 .only("id", "category_id", "locale", "name"))))
    sections = list(Section.objects.filter(tenant=tenant).order_by("position", "id")
                    .prefetch_related(Prefetch("translations", queryset=SectionTranslation.objects
                                               .only("id", "section_id", "locale", "name"))))
    articles_qs = (Article.objects.filter(tenant=tenant)
                   .filter(article_filter_q(filters, locales=locales, today=today))
                   .select_related("owner").order_by("position", "id")
                   .prefetch_related(_translations_prefetch()))
    articles = list(articles_qs[:TREE_ARTICLE_LIMIT + 1])
    truncated = len(articles) > TREE_ARTICLE_LIMIT
    articles = articles[:TREE_ARTICLE_LIMIT]

    def names(translations) -> tuple[list[str], list[str]]:
        have = sorted(t.locale for t in translations)
        return have, [loc for loc in locales if loc not in have]

    nodes: dict[int, SectionNode] = {}
    for section in sections:
        translations = list(section.translations.all())
        have, missing = names(translations)
        nodes[section.pk] = SectionNode(section=section, name=display_name(translations, chain),
                                        locales=have, missing=missing)
    for row in article_rows(articles, locales=locales, chain=chain):
        node = nodes.get(row.article.section_id)
        if node is not None:
            node.articles.append(row)
            node.matches = True
    category_nodes: dict[int, CategoryNode] = {}
    for category in categories:
        translations = list(category.translations.all())
        have, missing = names(translations)
        category_nodes[category.pk] = CategoryNode(category=category, name=display_name(translations, chain),
                                                   locales=have, missing=missing)
    for section in sections:  # already in order: children keep their order under each parent
        node = nodes[section.pk]
        if section.parent_id and section.parent_id in nodes:
            nodes[section.parent_id].children.append(node)
        elif section.category_id in category_nodes:
            category_nodes[section.category_id].sections.append(node)

    def settle(node: SectionNode, depth: int) -> bool:
        node.depth = depth
        child_match = [settle(child, depth + 1) for child in node.children]
        node.matches = node.matches or any(child_match)
        if filters.active:
            node.children = [child for child in node.children if child.matches]
        return node.matches

    result = []
    for category in category_nodes.values():
        category.matches = any([settle(node, 0) for node in category.sections])
        if filters.active:
            category.sections = [node for node in category.sections if node.matches]
            if not category.matches:
                continue
        result.append(category)
    return Tree(categories=result, article_count=len(articles), truncated=truncated)


# --- pickers -------------------------------------------------------------------------------

@dataclass
class SectionChoice:
    pk: int
    label: str
    category_id: int


def section_choices(*, tenant: Tenant, chain: list[str]) -> list[SectionChoice]:
    """Every section as "Category › Parent › Section", in tree order (four queries)."""
    categories = list(Category.objects.filter(tenant=tenant).order_by("position", "id")
                      .prefetch_related(Prefetch("translations", queryset=CategoryTranslation.objects
                                                 .only("id", "category_id", "locale", "name"))))
    sections = list(Section.objects.filter(tenant=tenant).order_by("position", "id")
                    .prefetch_related(Prefetch("translations", queryset=SectionTranslation.objects
                                               .only("id", "section_id", "locale", "name"))))
    by_parent: dict[tuple[int, int | None], list[Section]] = {}
    for section in sections:
        by_parent.setdefault((section.category_id, section.parent_id), []).append(section)
    out: list[SectionChoice] = []

    def walk(category_id: int, parent_id: int | None, prefix: str, depth: int) -> None:
        if depth > 8:
            return
        for section in by_parent.get((category_id, parent_id), []):
            label = f"{prefix} › {display_name(section.translations.all(), chain)}"
            out.append(SectionChoice(pk=section.pk, label=label, category_id=category_id))
            walk(category_id, section.pk, label, depth + 1)

    for category in categories:
        walk(category.pk, None, display_name(category.translations.all(), chain), 0)
    return out


# --- queues and lists ------------------------------------------------------------------------

def review_queue(*, tenant: Tenant) -> QuerySet:
    """Translations waiting for review, oldest request first (one query)."""
    return (ArticleTranslation.objects.filter(tenant=tenant).filter(in_review_q())
            .select_related("article", "article__owner", "review_requested_by", "updated_by")
            .only(*TRANSLATION_COLUMNS, "updated_by_id", "article__id", "article__owner__id",
                  "article__owner__full_name", "article__owner__email", "article__tenant_id",
                  "review_requested_by__id", "review_requested_by__full_name", "review_requested_by__email",
                  "updated_by__id", "updated_by__full_name", "updated_by__email")
            .order_by("updated_at", "id")[:LIST_LIMIT])


@dataclass
class MissingRow:
    pk: int
    name: str


@dataclass
class MissingLocale:
    locale: str
    articles: list[MissingRow]
    article_total: int
    sections: list[MissingRow]
    categories: list[MissingRow]
    needs_update: list[ArticleTranslation]


def missing_translations(*, tenant: Tenant, locales: list[str], chain: list[str]) -> list[MissingLocale]:
    """For each enabled language: the articles, sections and categories without a translation
    in it, and its translations flagged "needs update". A fixed number of queries per
    language (languages are configuration, not data)."""
    out = []
    default = locales[0] if locales else "en"
    for locale in locales:
        lacking = (Article.objects.filter(tenant=tenant)
                   .exclude(Exists(ArticleTranslation.objects.filter(article_id=OuterRef("pk"), locale=locale))))
        total = lacking.count()
        articles = list(lacking.order_by("section_id", "position", "id")
                        .prefetch_related(_translations_prefetch())[:LIST_LIMIT])
        rows = []
        for article in articles:
            translations = list(article.translations.all())
            shown = pick_translation(translations, [default, *chain]) or (translations[0] if translations else None)
            rows.append(MissingRow(pk=article.pk, name=working_title(shown) if shown else f"#{article.pk}"))
        sections = list(Section.objects.filter(tenant=tenant)
                        .exclude(Exists(SectionTranslation.objects.filter(section_id=OuterRef("pk"), locale=locale)))
                        .prefetch_related("translations").order_by("category_id", "position", "id")[:LIST_LIMIT])
        categories = list(Category.objects.filter(tenant=tenant)
                          .exclude(Exists(CategoryTranslation.objects.filter(category_id=OuterRef("pk"),
                                                                             locale=locale)))
                          .prefetch_related("translations").order_by("position", "id")[:LIST_LIMIT])
        flagged = list(ArticleTranslation.objects.filter(tenant=tenant, locale=locale, needs_update=True)
                       .only(*TRANSLATION_COLUMNS).order_by("updated_at", "id")[:LIST_LIMIT])
        out.append(MissingLocale(
            locale=locale, articles=rows, article_total=total,
            sections=[MissingRow(pk=s.pk, name=display_name(s.translations.all(), [default, *chain]) or f"#{s.pk}")
                      for s in sections],
            categories=[MissingRow(pk=c.pk, name=display_name(c.translations.all(), [default, *chain]) or f"#{c.pk}")
                        for c in categories],
            needs_update=flagged))
    return out


# --- search synonyms ------------------------------------------------------------------------

@dataclass
class SynonymLanguage:
    locale: str
    label: str = ""
    rows: list = field(default_factory=list)


def synonym_sets(*, tenant: Tenant, locales: list[str]) -> list[SynonymLanguage]:
    """The tenant's synonym sets grouped by language: the help center's languages first (each
    shown, even when empty), then any other language a set was written in (one query)."""
    groups = {code: SynonymLanguage(code) for code in locales}
    for row in SearchSynonym.objects.filter(tenant=tenant).order_by("locale", "id"):
        groups.setdefault(row.locale, SynonymLanguage(row.locale)).rows.append(row)
    return list(groups.values())
