"""Every write to the help center's content: categories, sections, articles, their
translations (draft → review → published, scheduled, archived), versions and restore.

Each function is one transaction and records an event; article HTML is sanitised here, on
the way in. Callers check rights (``kb.edit`` writes drafts, ``kb.publish`` publishes and
arranges the structure); the services check the rules (a section in its category, a parent
that is not a descendant, a published translation's edits kept as a draft).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.events.services import event_emit
from helpdesk.people.models import Organization
from helpdesk.tenancy.models import Tenant
from knowledge.html import MAX_ARTICLE_CHARS, article_text, sanitize_article_html
from knowledge.locales import normalize_locale
from knowledge.models import (
    Article,
    ArticleLabel,
    ArticleOrganization,
    ArticleTranslation,
    ArticleVersion,
    Category,
    CategoryTranslation,
    Label,
    Section,
    SectionTranslation,
    TranslationStatus,
    Visibility,
)
from knowledge.search.indexing import translations_reindex


@dataclass(frozen=True)
class NameInput:
    """A category's or section's name in one language."""
    locale: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class TranslationInput:
    locale: str
    title: str
    body_html: str = ""
    status: str = TranslationStatus.DRAFT


# --- validation helpers ----------------------------------------------------------------------

def _clean_names(items: Sequence[NameInput], *, required: bool) -> list[NameInput]:
    if required and not items:
        raise ValidationError({"translations": [_("Give at least one translation.")]})
    seen: set[str] = set()
    cleaned = []
    for item in items:
        try:
            locale = normalize_locale(item.locale)
        except ValidationError as exc:
            raise ValidationError({"translations": exc.messages}) from None
        name = (item.name or "").strip()
        if not name:
            raise ValidationError({"translations": [_("Every translation needs a name.")]})
        if len(name) > 200:
            raise ValidationError({"translations": [_("A name can be at most 200 characters.")]})
        if locale in seen:
            raise ValidationError({"translations": [_("One translation per language.")]})
        seen.add(locale)
        cleaned.append(NameInput(locale=locale, name=name, description=(item.description or "").strip()))
    return cleaned


def _clean_translation(item: TranslationInput) -> TranslationInput:
    try:
        locale = normalize_locale(item.locale)
    except ValidationError as exc:
        raise ValidationError({"locale": exc.messages}) from None
    title = (item.title or "").strip()
    if not title:
        raise ValidationError({"title": [_("An article needs a title.")]})
    if len(title) > 255:
        raise ValidationError({"title": [_("A title can be at most 255 characters.")]})
    if len(item.body_html or "") > MAX_ARTICLE_CHARS:
        raise ValidationError({"body_html": [_("The article is too long.")]})
    if item.status not in (TranslationStatus.DRAFT, TranslationStatus.REVIEW, TranslationStatus.PUBLISHED):
        raise ValidationError({"status": [_("Status must be draft, review or published.")]})
    return TranslationInput(locale=locale, title=title, body_html=sanitize_article_html(item.body_html),
                            status=item.status)


def _next_position(queryset) -> int:
    return (queryset.aggregate(top=Max("position"))["top"] or 0) + 1


def _save_names(model, owner_field: str, owner, items: Iterable[NameInput]) -> None:
    for item in items:
        model.objects.update_or_create(
            tenant_id=owner.tenant_id, locale=item.locale, **{owner_field: owner},
            defaults={"name": item.name, "description": item.description})


# --- categories and sections --------------------------------------------------------------

@transaction.atomic
def category_create(*, tenant: Tenant, actor, translations: Sequence[NameInput],
                    position: int | None = None) -> Category:
    names = _clean_names(translations, required=True)
    category = Category.objects.create(
        tenant=tenant, position=position if position is not None else _next_position(Category.objects.all()))
    _save_names(CategoryTranslation, "category", category, names)
    event_emit(tenant=tenant, type="kb.category.created", subject=category, actor=actor,
               payload={"category_id": category.pk})
    return category


@transaction.atomic
def category_update(*, category: Category, actor, translations: Sequence[NameInput] | None = None,
                    position: int | None = None) -> Category:
    if translations is not None:
        _save_names(CategoryTranslation, "category", category, _clean_names(translations, required=False))
    if position is not None:
        category.position = position
    category.save()
    event_emit(tenant=category.tenant, type="kb.category.updated", subject=category, actor=actor,
               payload={"category_id": category.pk})
    return category


@transaction.atomic
def category_delete(*, category: Category, actor) -> None:
    if Article.objects.filter(section__category=category).exists():
        raise ValidationError(_("Move or delete the category's articles first."))
    event_emit(tenant=category.tenant, type="kb.category.deleted", subject=category, actor=actor,
               payload={"category_id": category.pk})
    category.delete()


def _check_parent(*, category: Category, parent: Section | None, section: Section | None = None) -> None:
    if parent is None:
        return
    if parent.category_id != category.pk:
        raise ValidationError({"parent_id": [_("The parent section must be in the same category.")]})
    node, depth = parent, 0
    while node is not None:
        if section is not None and node.pk == section.pk:
            raise ValidationError({"parent_id": [_("A section cannot sit inside itself.")]})
        depth += 1
        if depth > 5:
            raise ValidationError({"parent_id": [_("Sections nest at most five levels deep.")]})
        node = node.parent


@transaction.atomic
def section_create(*, tenant: Tenant, actor, category: Category, translations: Sequence[NameInput],
                   parent: Section | None = None, position: int | None = None) -> Section:
    names = _clean_names(translations, required=True)
    _check_parent(category=category, parent=parent)
    section = Section.objects.create(
        tenant=tenant, category=category, parent=parent,
        position=position if position is not None else _next_position(
            Section.objects.filter(category=category, parent=parent)))
    _save_names(SectionTranslation, "section", section, names)
    event_emit(tenant=tenant, type="kb.section.created", subject=section, actor=actor,
               payload={"section_id": section.pk, "category_id": category.pk})
    return section


@transaction.atomic
def section_update(*, section: Section, actor, translations: Sequence[NameInput] | None = None,
                   category: Category | None = None, parent: Section | None | bool = False,
                   position: int | None = None) -> Section:
    """``parent=False`` leaves the parent as it is; ``None`` makes it a top-level section."""
    target_category = category or section.category
    target_parent = section.parent if parent is False else parent
    if category is not None and parent is False and section.parent is not None \
            and section.parent.category_id != category.pk:
        target_parent = None
    _check_parent(category=target_category, parent=target_parent, section=section)
    if translations is not None:
        _save_names(SectionTranslation, "section", section, _clean_names(translations, required=False))
    moved = target_category.pk != section.category_id
    section.category, section.parent = target_category, target_parent
    if position is not None:
        section.position = position
    section.save()
    if moved:  # sub-sections follow their parent into the other category
        _move_children(section, target_category)
    event_emit(tenant=section.tenant, type="kb.section.updated", subject=section, actor=actor,
               payload={"section_id": section.pk, "category_id": target_category.pk})
    return section


def _move_children(section: Section, category: Category) -> None:
    children = list(Section.objects.filter(parent=section))
    for child in children:
        Section.objects.filter(pk=child.pk).update(category=category)
        _move_children(child, category)


@transaction.atomic
def section_delete(*, section: Section, actor) -> None:
    if Article.objects.filter(section=section).exists() or Section.objects.filter(parent=section).exists():
        raise ValidationError(_("Move or delete the section's articles and sub-sections first."))
    event_emit(tenant=section.tenant, type="kb.section.deleted", subject=section, actor=actor,
               payload={"section_id": section.pk})
    section.delete()


# --- articles --------------------------------------------------------------------------------

def _organizations(tenant: Tenant, organization_ids: Iterable[int]) -> list[Organization]:
    wanted = {int(pk) for pk in organization_ids}
    found = list(Organization.objects.filter(tenant=tenant, pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({"organization_ids": [_("Unknown organization.")]})
    return found


def _set_organizations(article: Article, organizations: list[Organization]) -> None:
    ArticleOrganization.objects.filter(article=article).exclude(
        organization__in=organizations).delete()
    have = set(ArticleOrganization.objects.filter(article=article).values_list("organization_id", flat=True))
    ArticleOrganization.objects.bulk_create([
        ArticleOrganization(tenant_id=article.tenant_id, article=article, organization=org)
        for org in organizations if org.pk not in have])


def _set_labels(article: Article, names: Iterable[str]) -> None:
    wanted = []
    for name in names:
        cleaned = " ".join(str(name).split())[:60]
        if cleaned and cleaned.lower() not in {w.lower() for w in wanted}:
            wanted.append(cleaned)
    labels = []
    for name in wanted:
        label = Label.objects.filter(tenant_id=article.tenant_id, name__iexact=name).first()
        if label is None:
            label = Label.objects.create(tenant_id=article.tenant_id, name=name)
        labels.append(label)
    ArticleLabel.objects.filter(article=article).exclude(label__in=labels).delete()
    have = set(ArticleLabel.objects.filter(article=article).values_list("label_id", flat=True))
    ArticleLabel.objects.bulk_create([ArticleLabel(tenant_id=article.tenant_id, article=article, label=label)
                                      for label in labels if label.pk not in have])


def _check_visibility(visibility: str, organizations: list[Organization]) -> None:
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": [_("Choose who may see the article.")]})
    if visibility == Visibility.ORGANIZATIONS and not organizations:
        raise ValidationError({"organization_ids": [_("Choose at least one organization.")]})


@transaction.atomic
def article_create(*, tenant: Tenant, actor, section: Section, translations: Sequence[TranslationInput],
                   visibility: str = Visibility.PUBLIC, organization_ids: Iterable[int] = (),
                   labels: Iterable[str] = (), owner=None, is_promoted: bool = False,
                   review_by: date | None = None, position: int | None = None,
                   source_ticket=None, can_publish: bool = True) -> Article:
    """A new article with its first translations. A translation asked for as ``published`` is
    published at once (``can_publish`` False turns that into a review request)."""
    if not translations:
        raise ValidationError({"translations": [_("Give at least one translation.")]})
    cleaned = [_clean_translation(item) for item in translations]
    if len({item.locale for item in cleaned}) != len(cleaned):
        raise ValidationError({"translations": [_("One translation per language.")]})
    organizations = _organizations(tenant, organization_ids)
    _check_visibility(visibility, organizations)
    article = Article.objects.create(
        tenant=tenant, section=section, visibility=visibility, is_promoted=is_promoted,
        owner=owner or (actor if getattr(actor, "pk", None) and hasattr(actor, "email") else None),
        review_by=review_by, source_ticket=source_ticket,
        created_by=actor if hasattr(actor, "email") else None,
        position=position if position is not None else _next_position(Article.objects.filter(section=section)))
    _set_organizations(article, organizations)
    _set_labels(article, labels)
    event_emit(tenant=tenant, type="kb.article.created", subject=article, actor=actor,
               payload={"article_id": article.pk, "section_id": section.pk})
    for item in cleaned:
        translation_save(article=article, actor=actor, locale=item.locale, title=item.title,
                         body_html=item.body_html, status=item.status, can_publish=can_publish)
    return article


@transaction.atomic
def article_update(*, article: Article, actor, section: Section | None = None, visibility: str | None = None,
                   organization_ids: Iterable[int] | None = None, labels: Iterable[str] | None = None,
                   owner=False, is_promoted: bool | None = None, review_by: date | None | bool = False,
                   position: int | None = None) -> Article:
    """Change an article's place and settings (not its text: ``translation_save``).
    ``owner``/``review_by`` False leave them as they are."""
    if section is not None:
        article.section = section
    organizations = (_organizations(article.tenant, organization_ids) if organization_ids is not None
                     else list(Organization.objects.filter(pk__in=ArticleOrganization.objects.filter(
                         article=article).values("organization_id"))))
    if visibility is not None:
        article.visibility = visibility
    _check_visibility(article.visibility, organizations)
    if organization_ids is not None:
        _set_organizations(article, organizations)
    if labels is not None:
        _set_labels(article, labels)
    if owner is not False:
        article.owner = owner
    if is_promoted is not None:
        article.is_promoted = is_promoted
    if review_by is not False:
        article.review_by = review_by
    if position is not None:
        article.position = position
    article.save()
    translations_reindex(article.translations.values_list("pk", flat=True))
    event_emit(tenant=article.tenant, type="kb.article.updated", subject=article, actor=actor,
               payload={"article_id": article.pk})
    return article


@transaction.atomic
def article_delete(*, article: Article, actor) -> None:
    event_emit(tenant=article.tenant, type="kb.article.deleted", subject=article, actor=actor,
               payload={"article_id": article.pk})
    article.delete()


# --- translations ------------------------------------------------------------------------

def _version_add(translation: ArticleTranslation, *, title: str, body_html: str, actor, published: bool,
                 note: str = "") -> ArticleVersion:
    number = (ArticleVersion.objects.filter(translation=translation).aggregate(top=Max("number"))["top"] or 0) + 1
    return ArticleVersion.objects.create(
        tenant_id=translation.tenant_id, translation=translation, number=number, title=title,
        body_html=body_html, was_published=published, note=note[:255],
        author=actor if hasattr(actor, "email") else None)


def _go_live(translation: ArticleTranslation, *, title: str, body_html: str, now: datetime) -> None:
    translation.title, translation.body_html = title, body_html
    translation.body_text = article_text(body_html)
    translation.draft_title, translation.draft_body_html, translation.has_draft = "", "", False
    translation.status = TranslationStatus.PUBLISHED
    translation.published_at = now
    translation.publish_at = None
    translation.needs_update = False
    translation.review_requested_by = None
    Article.objects.filter(pk=translation.article_id, first_published_at__isnull=True).update(first_published_at=now)


@transaction.atomic
def translation_save(*, article: Article, actor, locale: str, title: str, body_html: str,
                     status: str = TranslationStatus.DRAFT, note: str = "",
                     can_publish: bool = True) -> ArticleTranslation:
    """Save an article's text in one language, as a new version.

    A published translation keeps showing its published text: the edit waits as its draft
    until published (``status="published"`` publishes it now, if ``can_publish``). Asking to
    publish without the right files the edit for review instead.
    """
    item = _clean_translation(TranslationInput(locale=locale, title=title, body_html=body_html, status=status))
    if item.status == TranslationStatus.PUBLISHED and not can_publish:
        item = TranslationInput(locale=item.locale, title=item.title, body_html=item.body_html,
                                status=TranslationStatus.REVIEW)
    now = timezone.now()
    translation = (ArticleTranslation.objects.select_for_update()
                   .filter(article=article, locale=item.locale).first())
    created = translation is None
    if created:
        translation = ArticleTranslation(tenant_id=article.tenant_id, article=article, locale=item.locale,
                                         title=item.title, body_html=item.body_html,
                                         body_text=article_text(item.body_html))
    publish_now = item.status == TranslationStatus.PUBLISHED
    if publish_now:
        _go_live(translation, title=item.title, body_html=item.body_html, now=now)
    elif not created and translation.status == TranslationStatus.PUBLISHED:
        translation.draft_title, translation.draft_body_html, translation.has_draft = item.title, item.body_html, True
    else:
        translation.title, translation.body_html = item.title, item.body_html
        translation.body_text = article_text(item.body_html)
        translation.status = item.status
        # An archived translation may still hold the draft it had when it was taken down:
        # the text saved now is the current one.
        translation.draft_title, translation.draft_body_html, translation.has_draft = "", "", False
    if item.status == TranslationStatus.REVIEW:
        translation.review_requested_by = actor if hasattr(actor, "email") else None
    elif item.status == TranslationStatus.DRAFT:
        # Saving a plain draft withdraws a review request (the review queue shows requests only).
        translation.review_requested_by = None
    translation.updated_by = actor if hasattr(actor, "email") else None
    translation.save()
    _version_add(translation, title=item.title, body_html=item.body_html, actor=actor, published=publish_now,
                 note=note)
    if not created and publish_now:
        _flag_other_translations(translation)
    translations_reindex([translation.pk])
    Article.objects.filter(pk=article.pk).update(updated_at=now)
    event_emit(tenant=article.tenant, type="kb.article.published" if publish_now else "kb.article.updated",
               subject=article, actor=actor,
               payload={"article_id": article.pk, "locale": translation.locale, "status": translation.status})
    return translation


def _flag_other_translations(translation: ArticleTranslation) -> None:
    """A new published text in the default language means the other languages may be behind."""
    tenant = translation.article.tenant
    if translation.locale != tenant.default_locale:
        return
    (ArticleTranslation.objects.filter(article_id=translation.article_id, status=TranslationStatus.PUBLISHED)
     .exclude(pk=translation.pk).update(needs_update=True))


@transaction.atomic
def translation_publish(*, translation: ArticleTranslation, actor, at: datetime | None = None) -> ArticleTranslation:
    """Publish the translation's current text (its pending draft, if it has one) now, or at ``at``."""
    translation = ArticleTranslation.objects.select_for_update().get(pk=translation.pk)
    now = timezone.now()
    if at is not None and at > now:
        translation.publish_at = at
        translation.save(update_fields=["publish_at", "updated_at"])
        event_emit(tenant=translation.article.tenant, type="kb.article.updated", subject=translation.article,
                   actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale,
                                         "publish_at": at.isoformat()})
        return translation
    title = translation.draft_title if translation.has_draft else translation.title
    body = translation.draft_body_html if translation.has_draft else translation.body_html
    was_live = translation.status == TranslationStatus.PUBLISHED
    _go_live(translation, title=title, body_html=body, now=now)
    translation.updated_by = actor if hasattr(actor, "email") else translation.updated_by
    translation.save()
    _version_add(translation, title=title, body_html=body, actor=actor, published=True,
                 note=_("Published"))
    if was_live:
        _flag_other_translations(translation)
    translations_reindex([translation.pk])
    event_emit(tenant=translation.article.tenant, type="kb.article.published", subject=translation.article,
               actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale,
                                     "status": translation.status})
    return translation


@transaction.atomic
def translation_unpublish(*, translation: ArticleTranslation, actor) -> ArticleTranslation:
    """Take a translation off the help center (archived); its text and history stay."""
    translation.status = TranslationStatus.ARCHIVED
    translation.publish_at = None
    translation.save(update_fields=["status", "publish_at", "updated_at"])
    translations_reindex([translation.pk])
    event_emit(tenant=translation.article.tenant, type="kb.article.unpublished", subject=translation.article,
               actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale})
    return translation


@transaction.atomic
def translation_restore(*, translation: ArticleTranslation, version: ArticleVersion, actor) -> ArticleTranslation:
    """Bring an earlier version back as the current text (as the draft of a published translation)."""
    if version.translation_id != translation.pk:
        raise ValidationError(_("That version belongs to another translation."))
    status = TranslationStatus.DRAFT if translation.status != TranslationStatus.REVIEW else TranslationStatus.REVIEW
    return translation_save(article=translation.article, actor=actor, locale=translation.locale,
                            title=version.title, body_html=version.body_html, status=status,
                            note=_("Restored version %(number)s") % {"number": version.number})


@transaction.atomic
def translation_flag(*, translation: ArticleTranslation, actor, needs_update: bool) -> ArticleTranslation:
    translation.needs_update = needs_update
    translation.save(update_fields=["needs_update", "updated_at"])
    event_emit(tenant=translation.article.tenant, type="kb.article.updated", subject=translation.article,
               actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale,
                                     "needs_update": needs_update})
    return translation


@transaction.atomic
def translation_delete(*, translation: ArticleTranslation, actor) -> None:
    if ArticleTranslation.objects.filter(article_id=translation.article_id).count() <= 1:
        raise ValidationError(_("An article keeps at least one translation; delete the article instead."))
    event_emit(tenant=translation.article.tenant, type="kb.article.updated", subject=translation.article,
               actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale,
                                     "deleted": True})
    translation.delete()


@transaction.atomic
def translation_unschedule(*, translation: ArticleTranslation, actor) -> ArticleTranslation:
    """Cancel a scheduled publication; the text stays as it is (draft, or the pending draft)."""
    translation = ArticleTranslation.objects.select_for_update().get(pk=translation.pk)
    if translation.publish_at is None:
        return translation
    translation.publish_at = None
    translation.save(update_fields=["publish_at", "updated_at"])
    event_emit(tenant=translation.article.tenant, type="kb.article.updated", subject=translation.article,
               actor=actor, payload={"article_id": translation.article_id, "locale": translation.locale,
                                     "publish_at": None})
    return translation


# --- ordering by hand --------------------------------------------------------------------

def _move(item, siblings, direction: str) -> bool:
    """Swap ``item`` with its neighbour among ``siblings`` (ordered by position, id), numbering
    the siblings 1..n on the way (positions may tie or have gaps). False at either end."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("Move up or down.")]})
    ordered = list(siblings.select_for_update().order_by("position", "id").only("pk", "position"))
    index = next((i for i, row in enumerate(ordered) if row.pk == item.pk), None)
    if index is None:
        return False
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    changed = []
    for number, row in enumerate(ordered, start=1):
        if row.position != number:
            row.position = number
            changed.append(row)
    type(item).objects.bulk_update(changed, ["position"])
    return True


@transaction.atomic
def category_move(*, category: Category, actor, direction: str) -> bool:
    moved = _move(category, Category.objects.filter(tenant_id=category.tenant_id), direction)
    if moved:
        event_emit(tenant=category.tenant, type="kb.category.updated", subject=category, actor=actor,
                   payload={"category_id": category.pk, "moved": direction})
    return moved


@transaction.atomic
def section_move(*, section: Section, actor, direction: str) -> bool:
    siblings = Section.objects.filter(tenant_id=section.tenant_id, category_id=section.category_id,
                                      parent_id=section.parent_id)
    moved = _move(section, siblings, direction)
    if moved:
        event_emit(tenant=section.tenant, type="kb.section.updated", subject=section, actor=actor,
                   payload={"section_id": section.pk, "moved": direction})
    return moved


@transaction.atomic
def article_move(*, article: Article, actor, direction: str) -> bool:
    moved = _move(article, Article.objects.filter(tenant_id=article.tenant_id, section_id=article.section_id),
                  direction)
    if moved:
        event_emit(tenant=article.tenant, type="kb.article.updated", subject=article, actor=actor,
                   payload={"article_id": article.pk, "moved": direction})
    return moved


# --- help-center settings ------------------------------------------------------------------

@transaction.atomic
def help_center_settings_update(*, tenant: Tenant, actor, locales: Sequence[str] | None = None,
                                is_enabled: bool | None = None, suggest_in_request_form: bool | None = None,
                                suggest_in_acknowledgement: bool | None = None):
    """Change the help center's languages and switches (``kb.publish``; audited). Locale codes
    are validated; the tenant's default language is always kept, first."""
    from helpdesk.audit.services import audit_record
    from knowledge.locales import MAX_LOCALES, hc_settings
    from knowledge.models import HelpCenterSettings

    row = HelpCenterSettings.objects.select_for_update().get(pk=hc_settings(tenant).pk)
    fields = ("locales", "is_enabled", "suggest_in_request_form", "suggest_in_acknowledgement")
    before = {name: getattr(row, name) for name in fields}
    if locales is not None:
        default = tenant.default_locale or "en"
        cleaned = [default]
        for code in locales:
            try:
                code = normalize_locale(code)
            except ValidationError as exc:
                raise ValidationError({"locales": exc.messages}) from None
            if code not in cleaned:
                cleaned.append(code)
        if len(cleaned) > MAX_LOCALES:
            raise ValidationError({"locales": [_("A help center offers at most %(max)d languages.")
                                               % {"max": MAX_LOCALES}]})
        row.locales = cleaned
    for name, value in (("is_enabled", is_enabled), ("suggest_in_request_form", suggest_in_request_form),
                        ("suggest_in_acknowledgement", suggest_in_acknowledgement)):
        if value is not None:
            setattr(row, name, bool(value))
    row.save()
    audit_record(tenant=tenant, action="kb.settings_changed", actor=actor if hasattr(actor, "email") else None,
                 obj=row, before=before, after={name: getattr(row, name) for name in fields})
    return row


def translations_publish_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The scheduled-publishing sweep: publish what fell due (an index range scan on
    ``publish_at``), each in its own transaction, locked with SKIP LOCKED. Crosses tenants."""
    from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope

    now = now or timezone.now()
    done = 0
    with dangerously_unscoped():
        due = list(ArticleTranslation.unscoped.filter(publish_at__lte=now, tenant__is_active=True)
                   .order_by("publish_at").values_list("pk", "tenant_id")[:limit])
    tenants = {t.pk: t for t in Tenant.objects.filter(pk__in={tenant_id for _pk, tenant_id in due}, is_active=True)}
    for pk, tenant_id in due:
        if tenant_id not in tenants:
            continue
        with tenant_scope(tenants[tenant_id]), transaction.atomic():
            # Not the joined tenant's row (a bare FOR UPDATE locks every joined row): that held
            # up each commit of the tenant checking a key to it (lock_ticket had the same flaw).
            translation = (ArticleTranslation.objects.select_for_update(skip_locked=True, of=("self", "article"))
                           .filter(pk=pk, publish_at__lte=now).select_related("article__tenant").first())
            if translation is None:
                continue
            translation_publish(translation=translation, actor=None)
            done += 1
    return done


# --- votes -------------------------------------------------------------------------------

@transaction.atomic
def article_vote(*, article: Article, voter_key: str, helpful: bool, locale: str, comment: str = "",
                 contact=None):
    """Record "Was this helpful?"; a voter's second vote replaces the first. The article's
    counters move in the same transaction (stored columns: lists never count votes)."""
    from knowledge.models import ArticleVote

    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": [_("A comment can be at most 2,000 characters.")]})
    voter_key = (voter_key or "")[:80]
    if not voter_key:
        raise ValidationError(_("A vote needs a voter."))
    previous = ArticleVote.objects.select_for_update().filter(article=article, voter_key=voter_key).first()
    counters = {}
    if previous is None:
        vote = ArticleVote.objects.create(tenant_id=article.tenant_id, article=article, voter_key=voter_key,
                                          helpful=helpful, comment=comment, locale=locale, contact=contact)
        counters = {"helpful_count" if helpful else "unhelpful_count": F("helpful_count" if helpful
                                                                         else "unhelpful_count") + 1}
    else:
        if previous.helpful != helpful:
            old, new = ("helpful_count", "unhelpful_count") if previous.helpful else ("unhelpful_count",
                                                                                       "helpful_count")
            counters = {old: F(old) - 1, new: F(new) + 1}
        previous.helpful, previous.locale = helpful, locale
        if comment:
            previous.comment = comment
        if contact is not None:
            previous.contact = contact
        previous.save()
        vote = previous
    if counters:
        Article.objects.filter(pk=article.pk).update(**counters)
    event_emit(tenant=article.tenant, type="kb.article.voted", subject=article, actor=None,
               payload={"article_id": article.pk, "helpful": helpful, "locale": locale})
    return vote
