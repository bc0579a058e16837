"""Content health: the published articles that need their owner's attention.

- *Never viewed*: published for at least ``NEVER_VIEWED_GRACE_DAYS`` days and not read once
  (a new article gets time to be found before anyone is told about it).
- *Voted unhelpful*: at least ``UNHELPFUL_MIN_VOTES`` votes and more "no" than "yes" votes
  (helpfulness score below 50%): the ones to fix or drop.
- *Stale*: its review-by date has passed (in the tenant's calendar).
- *Needs update*: a translation flagged ``needs_update`` (the default language's text
  changed after it, or an editor flagged it).

Only published articles count (drafts and archived ones are not read by anyone). Lists are
bounded; counts are one grouped query each, by owner for the weekly notice.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from helpdesk.tenancy.models import Tenant
from knowledge.models import Article, ArticleTranslation, TranslationStatus
from knowledge.reports.period import tenant_today
from knowledge.reports.selectors import _ratio_expr, published_q, title_subquery

NEVER_VIEWED_GRACE_DAYS = 14
UNHELPFUL_MIN_VOTES = 3
LIST_LIMIT = 100

NO_OWNER = "none"


def _conditions(*, today: date, now: datetime) -> dict[str, Q]:
    return {
        "never_viewed": Q(view_count=0, first_published_at__lte=now - timedelta(days=NEVER_VIEWED_GRACE_DAYS)),
        "unhelpful": Q(unhelpful_count__gt=F("helpful_count"))
                     & Q(vote_count__gte=UNHELPFUL_MIN_VOTES),
        "stale": Q(review_by__lt=today),
    }


def _articles(*, tenant: Tenant, owner: int | str | None) -> QuerySet:
    qs = Article.objects.filter(tenant=tenant)
    if owner == NO_OWNER:
        qs = qs.filter(owner__isnull=True)
    elif owner is not None:
        qs = qs.filter(owner_id=owner)
    return qs.annotate(vote_count=F("helpful_count") + F("unhelpful_count")).filter(published_q())


def health_articles(*, tenant: Tenant, kind: str, language: str, owner: int | str | None = None,
                    now: datetime | None = None, limit: int | None = LIST_LIMIT) -> QuerySet:
    """The articles of one list (``never_viewed``, ``unhelpful``, ``stale``) as dicts: ``id,
    title, owner_id, owner_name, view_count, helpful_count, unhelpful_count, vote_count,
    helpfulness, review_by, first_published_at, last_viewed_at``. One query."""
    now = now or timezone.now()
    condition = _conditions(today=tenant_today(tenant, now), now=now)[kind]
    order = {"never_viewed": ("first_published_at", "id"), "unhelpful": ("-unhelpful_count", "id"),
             "stale": ("review_by", "id")}[kind]
    qs = (_articles(tenant=tenant, owner=owner).filter(condition)
          .annotate(title=title_subquery(language=language, default=tenant.default_locale or "en"),
                    owner_name=F("owner__full_name"), helpfulness=_ratio_expr("helpful_count", "vote_count"))
          .values("id", "title", "owner_id", "owner_name", "view_count", "helpful_count", "unhelpful_count",
                  "vote_count", "helpfulness", "review_by", "first_published_at", "last_viewed_at")
          .order_by(*order))
    return qs[:limit] if limit else qs


def _translations(*, tenant: Tenant, owner: int | str | None) -> QuerySet:
    qs = ArticleTranslation.objects.filter(tenant=tenant, needs_update=True).exclude(
        status=TranslationStatus.ARCHIVED)
    if owner == NO_OWNER:
        qs = qs.filter(article__owner__isnull=True)
    elif owner is not None:
        qs = qs.filter(article__owner_id=owner)
    return qs


def health_needs_update(*, tenant: Tenant, owner: int | str | None = None,
                        limit: int | None = LIST_LIMIT) -> QuerySet:
    """Translations flagged "needs update": ``id, article_id, locale, title, status, owner_id,
    owner_name, updated_at``. One query."""
    qs = (_translations(tenant=tenant, owner=owner)
          .annotate(owner_id=F("article__owner_id"), owner_name=F("article__owner__full_name"))
          .values("id", "article_id", "locale", "title", "status", "owner_id", "owner_name", "updated_at")
          .order_by("updated_at", "id"))
    return qs[:limit] if limit else qs


def health_counts(*, tenant: Tenant, owner: int | str | None = None, now: datetime | None = None) -> dict:
    """How many articles are in each list (and translations need an update). Two queries."""
    now = now or timezone.now()
    conditions = _conditions(today=tenant_today(tenant, now), now=now)
    counts = _articles(tenant=tenant, owner=owner).aggregate(
        published=Count("id"), **{name: Count("id", filter=q) for name, q in conditions.items()})
    counts["needs_update"] = _translations(tenant=tenant, owner=owner).count()
    return counts


def health_counts_by_owner(*, tenant: Tenant, now: datetime | None = None) -> dict[int, dict]:
    """Per article owner with something to look at: ``{user_id: {never_viewed, unhelpful,
    stale, needs_update}}`` (owners with nothing are left out). Two grouped queries."""
    now = now or timezone.now()
    conditions = _conditions(today=tenant_today(tenant, now), now=now)
    rows = (_articles(tenant=tenant, owner=None).filter(owner__isnull=False).order_by().values("owner_id")
            .annotate(**{name: Count("id", filter=q) for name, q in conditions.items()}))
    found: dict[int, dict] = {}
    for row in rows:
        counts = {name: row[name] for name in conditions}
        found[row["owner_id"]] = {**counts, "needs_update": 0}
    translations = (_translations(tenant=tenant, owner=None).filter(article__owner__isnull=False).order_by()
                    .values("article__owner_id").annotate(n=Count("id")))
    for row in translations:
        entry = found.setdefault(row["article__owner_id"],
                                 {"never_viewed": 0, "unhelpful": 0, "stale": 0, "needs_update": 0})
        entry["needs_update"] = row["n"]
    return {owner: counts for owner, counts in found.items() if any(counts.values())}
