"""The help center's content: categories > sections (which may nest) > articles, each with a
translation per locale, the version history of every translation, labels, attachments,
and the votes customers leave.

What customers read is the *published* state of a translation (``title``, ``body_html``);
an editor's unpublished changes to a published translation wait in ``draft_title`` /
``draft_body_html`` until they are published, so a half-finished edit never shows. Every
save of either writes an ``ArticleVersion`` (history with diff and restore).
"""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned, tenant_key


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    SIGNED_IN = "signed_in", _("Signed-in customers")
    ORGANIZATIONS = "organizations", _("Specific organizations")
    INTERNAL = "internal", _("Agents only (internal)")


class TranslationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class HelpCenterSettings(TenantOwned):
    """One per tenant: which languages the help center offers and how it answers first."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    is_enabled = models.BooleanField(_("help center enabled"), default=True)
    # Locales the help center offers, in the switcher's order; the tenant's default language
    # is always among them (``knowledge.locales``).
    locales = models.JSONField(_("languages"), default=list, blank=True)
    suggest_in_acknowledgement = models.BooleanField(
        _("list matching articles in the acknowledgement mail"), default=False,
        help_text=_("New email requests get the best-matching articles in their acknowledgement."))
    suggest_in_request_form = models.BooleanField(
        _("suggest articles while customers write a request"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("help center settings")
        verbose_name_plural = _("help center settings")

    def __str__(self) -> str:
        return str(_("help center settings"))


class Category(TenantOwned):
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["tenant", "position"], name="kb_category_tenant_position")]

    def __str__(self) -> str:
        return f"category {self.pk}"


class CategoryTranslation(TenantOwned):
    tenant = tenant_key(db_index=False)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=10)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("category translation")
        verbose_name_plural = _("category translations")
        constraints = [models.UniqueConstraint(fields=["tenant", "category", "locale"],
                                               name="kb_category_translation_unique")]

    def __str__(self) -> str:
        return self.name


class Section(TenantOwned):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["tenant", "category", "position"], name="kb_section_tenant_category")]

    def __str__(self) -> str:
        return f"section {self.pk}"


class SectionTranslation(TenantOwned):
    tenant = tenant_key(db_index=False)
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=10)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("section translation")
        verbose_name_plural = _("section translations")
        constraints = [models.UniqueConstraint(fields=["tenant", "section", "locale"],
                                               name="kb_section_translation_unique")]

    def __str__(self) -> str:
        return self.name


class Label(TenantOwned):
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="kb_label_unique_name")]

    def __str__(self) -> str:
        return self.name


class Article(TenantOwned):
    """One answer, in as many languages as it has translations. Counters are stored columns
    kept current by the services (lists and reports read them without counting rows)."""

    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    position = models.PositiveIntegerField(_("position"), default=0)
    visibility = models.CharField(_("visible to"), max_length=16, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    organizations = models.ManyToManyField("people.Organization", through="ArticleOrganization",
                                           related_name="+", blank=True, verbose_name=_("organizations"))
    labels = models.ManyToManyField(Label, through="ArticleLabel", related_name="articles", blank=True,
                                    verbose_name=_("labels"))
    is_promoted = models.BooleanField(_("promoted"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    review_by = models.DateField(_("review by"), null=True, blank=True)
    # The ticket whose answer this article was written from, if any.
    source_ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Derived, kept by the services.
    view_count = models.PositiveIntegerField(default=0, editable=False)
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    unhelpful_count = models.PositiveIntegerField(default=0, editable=False)
    last_viewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["tenant", "section", "position"], name="kb_article_tenant_section"),
            models.Index(fields=["tenant", "is_promoted"], name="kb_article_tenant_promoted"),
            models.Index(fields=["tenant", "review_by"], name="kb_article_tenant_review_by"),
        ]

    def __str__(self) -> str:
        return f"article {self.pk}"

    @property
    def helpfulness(self) -> float | None:
        """Share of helpful votes, or None before the first vote."""
        votes = self.helpful_count + self.unhelpful_count
        return self.helpful_count / votes if votes else None


class ArticleOrganization(TenantOwned):
    tenant = tenant_key(db_index=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("people.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "article", "organization"],
                                               name="kb_article_organization_unique")]


class ArticleLabel(TenantOwned):
    tenant = tenant_key(db_index=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "article", "label"],
                                               name="kb_article_label_unique")]


class ArticleTranslation(TenantOwned):
    """An article in one language. ``title``/``body_html`` are what readers see once
    published; ``body_text`` is its plain text (snippets, search, suggestions)."""

    tenant = tenant_key(db_index=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(_("language"), max_length=10)
    title = models.CharField(_("title"), max_length=255)
    body_html = models.TextField(_("body"), blank=True, default="")
    body_text = models.TextField(blank=True, default="", editable=False)
    status = models.CharField(_("status"), max_length=12, choices=TranslationStatus.choices,
                              default=TranslationStatus.DRAFT)
    # Unpublished edits of a published translation (empty when there are none).
    draft_title = models.CharField(max_length=255, blank=True, default="")
    draft_body_html = models.TextField(blank=True, default="")
    has_draft = models.BooleanField(default=False, editable=False)
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True,
                                      help_text=_("Publish automatically at this time."))
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    needs_update = models.BooleanField(_("needs update"), default=False)
    review_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [models.UniqueConstraint(fields=["tenant", "article", "locale"],
                                               name="kb_article_translation_unique")]
        indexes = [
            models.Index(fields=["tenant", "locale", "status"], name="kb_translation_tenant_status"),
            # The scheduled-publishing sweep: an index range scan over what falls due.
            models.Index(fields=["publish_at"], name="kb_translation_publish_at",
                         condition=models.Q(publish_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == TranslationStatus.PUBLISHED


class ArticleVersion(TenantOwned):
    """One saved state of a translation; ``number`` counts per translation from 1."""

    tenant = tenant_key(db_index=False)
    translation = models.ForeignKey(ArticleTranslation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    body_html = models.TextField(blank=True, default="")
    was_published = models.BooleanField(default=False)
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "translation", "number"],
                                               name="kb_article_version_unique")]

    def __str__(self) -> str:
        return f"v{self.number}"


def _attachment_token() -> str:
    return secrets.token_urlsafe(24)


def _attachment_path(instance: "ArticleAttachment", filename: str) -> str:
    return f"kb/{instance.tenant_id}/{instance.token}/{filename}"


class ArticleAttachment(TenantOwned):
    """A file or image of an article, stored through Django storage and served by token.
    Images are shown inline (only safe image types); everything else is a download."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=64, default=_attachment_token, editable=False)
    file = models.FileField(upload_to=_attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        constraints = [models.UniqueConstraint(fields=["tenant", "token"], name="kb_attachment_unique_token")]
        indexes = [models.Index(fields=["tenant", "article"], name="kb_attachment_tenant_article")]

    def __str__(self) -> str:
        return self.filename


class ArticleVote(TenantOwned):
    """"Was this helpful?" One vote per voter and article (a second vote replaces the first).
    ``voter_key`` is the contact, the agent, or a hash of the anonymous visitor's session."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    locale = models.CharField(max_length=10)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, default="")
    voter_key = models.CharField(max_length=80)
    contact = models.ForeignKey("people.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [models.UniqueConstraint(fields=["tenant", "article", "voter_key"],
                                               name="kb_vote_unique_voter")]
        indexes = [models.Index(fields=["tenant", "article", "-created_at"], name="kb_vote_tenant_article")]

    def __str__(self) -> str:
        return "helpful" if self.helpful else "not helpful"
