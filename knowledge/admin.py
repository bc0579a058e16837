"""Admin of the help center's content, scoped to the admin's tenant (``TenantScopedAdmin``).

Structure (categories, sections, labels) and the help-center settings are editable here by
those who may publish (``kb.publish``). An article's place and settings are editable, through
the content service (its rules and events); its text is not: article HTML is written in the
console's editor, which sanitises, versions and publishes it. Votes are read-only.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from helpdesk.tenancy.admin_base import (
    TenantScopedAdmin,
    TenantScopedForm,
    TenantScopedTabularInline,
)
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap
from knowledge.locales import normalize_locale
from knowledge.models import (
    Article,
    ArticleOrganization,
    ArticleTranslation,
    ArticleVote,
    Category,
    CategoryTranslation,
    HelpCenterSettings,
    Label,
    Section,
    SectionTranslation,
    Visibility,
)
from knowledge.services import content as services

PUBLISHERS = {"view": Cap.KB_PUBLISH, "add": Cap.KB_PUBLISH, "change": Cap.KB_PUBLISH, "delete": Cap.KB_PUBLISH}


class NameTranslationForm(TenantScopedForm):
    def clean_locale(self):
        return normalize_locale(self.cleaned_data.get("locale") or "")


class CategoryTranslationInline(TenantScopedTabularInline):
    model = CategoryTranslation
    form = NameTranslationForm
    fields = ("locale", "name", "description")
    extra = 1


@admin.register(Category)
class CategoryAdmin(TenantScopedAdmin):
    capabilities = PUBLISHERS
    list_display = ("pk", "names", "position")
    ordering = ("position", "id")
    fields = ("position",)
    inlines = [CategoryTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("names"))
    def names(self, obj):
        return " / ".join(f"{t.locale}: {t.name}" for t in obj.translations.all())


class SectionTranslationInline(TenantScopedTabularInline):
    model = SectionTranslation
    form = NameTranslationForm
    fields = ("locale", "name", "description")
    extra = 1


class SectionAdminForm(TenantScopedForm):
    class Meta:
        model = Section
        fields = ("category", "parent", "position")

    def clean(self):
        cleaned = super().clean()
        category, parent = cleaned.get("category"), cleaned.get("parent")
        if category is not None and parent is not None:
            node, depth = parent, 0
            if parent.category_id != category.pk:
                self.add_error("parent", gettext("The parent section must be in the same category."))
            while node is not None and depth < 10:
                if self.instance.pk and node.pk == self.instance.pk:
                    self.add_error("parent", gettext("A section cannot sit inside itself."))
                    break
                node, depth = node.parent, depth + 1
        return cleaned


@admin.register(Section)
class SectionAdmin(TenantScopedAdmin):
    form = SectionAdminForm
    capabilities = PUBLISHERS
    list_display = ("pk", "names", "category", "parent", "position")
    list_select_related = ("category", "parent")
    ordering = ("category", "position", "id")
    fields = ("category", "parent", "position")
    inlines = [SectionTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("names"))
    def names(self, obj):
        return " / ".join(f"{t.locale}: {t.name}" for t in obj.translations.all())


class ArticleTranslationInline(TenantScopedTabularInline):
    """What each language's text is doing; the text itself is edited in the console."""

    model = ArticleTranslation
    fields = ("locale", "title", "status", "has_draft", "publish_at", "published_at", "needs_update", "editor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("editor"))
    def editor(self, obj):
        if not obj.pk:
            return ""
        url = f"{reverse('kb:article_edit', args=[obj.article_id])}?locale={obj.locale}"
        return format_html('<a href="{}">{}</a>', url, gettext("Edit in the console"))


class ArticleAdminForm(TenantScopedForm):
    class Meta:
        model = Article
        fields = ("section", "position", "visibility", "is_promoted", "owner", "review_by")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("visibility") == Visibility.ORGANIZATIONS and self.instance.pk:
            with tenant_scope(self.instance.tenant):
                has_organizations = ArticleOrganization.objects.filter(article=self.instance).exists()
            if not has_organizations:
                self.add_error("visibility", gettext("Choose the organizations in the console's editor first."))
        return cleaned


@admin.register(Article)
class ArticleAdmin(TenantScopedAdmin):
    form = ArticleAdminForm
    capabilities = {"view": Cap.KB_PUBLISH, "change": Cap.KB_PUBLISH, "delete": Cap.KB_PUBLISH}
    audit_writes = False  # the content service records the change (event); deletes are audited below
    list_display = ("pk", "title", "section", "visibility", "is_promoted", "owner", "review_by", "view_count",
                    "helpful_count", "unhelpful_count")
    list_filter = ("visibility", "is_promoted")
    ordering = ("section", "position", "id")
    fields = ("section", "position", "visibility", "is_promoted", "owner", "review_by", "view_count",
              "helpful_count", "unhelpful_count", "first_published_at")
    readonly_fields = ("view_count", "helpful_count", "unhelpful_count", "first_published_at")
    inlines = [ArticleTranslationInline]

    def get_queryset(self, request):
        # Selected here (not list_select_related, which the changelist skips once a queryset
        # selects something): the title needs the tenant's default language.
        return super().get_queryset(request).select_related("tenant", "section", "owner").prefetch_related(
            "translations")

    @admin.display(description=_("title"))
    def title(self, obj):
        translations = list(obj.translations.all())
        default = obj.tenant.default_locale if obj.tenant_id else "en"
        shown = next((t for t in translations if t.locale == default), translations[0] if translations else None)
        return shown.title if shown else "—"

    def save_model(self, request, obj, form, change):
        with tenant_scope(obj.tenant):
            fresh = Article.objects.get(pk=obj.pk)
            try:
                services.article_update(
                    article=fresh, actor=request.user, section=form.cleaned_data["section"],
                    visibility=form.cleaned_data["visibility"], owner=form.cleaned_data["owner"],
                    is_promoted=form.cleaned_data["is_promoted"], review_by=form.cleaned_data["review_by"],
                    position=form.cleaned_data["position"])
            except ValidationError as exc:  # checked in the form; a race lands here
                raise forms.ValidationError(exc.messages) from None
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        from helpdesk.tenancy.admin_base import admin_audit

        admin_audit(request, obj, "deleted", before={"repr": str(obj)})
        with tenant_scope(obj.tenant):
            services.article_delete(article=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for article in queryset.select_related("tenant"):
            self.delete_model(request, article)


@admin.register(Label)
class LabelAdmin(TenantScopedAdmin):
    capabilities = PUBLISHERS
    list_display = ("name",)
    search_fields = ("name",)
    ordering = ("name",)
    fields = ("name",)


@admin.register(ArticleVote)
class ArticleVoteAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.KB_PUBLISH}
    list_display = ("created_at", "article", "locale", "helpful", "comment")
    list_filter = ("helpful", "locale")
    list_select_related = ("article",)
    ordering = ("-created_at", "-id")
    fields = ("article", "locale", "helpful", "comment", "contact", "created_at", "updated_at")
    readonly_fields = fields


class HelpCenterSettingsForm(TenantScopedForm):
    locales_text = forms.CharField(
        label=_("languages"), required=False, max_length=300,
        help_text=_("Language codes separated by commas, e.g. en, tr, de. The default language is always on."))

    class Meta:
        model = HelpCenterSettings
        fields = ("is_enabled", "suggest_in_request_form", "suggest_in_acknowledgement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["locales_text"] = ", ".join(self.instance.locales or [])

    def clean_locales_text(self):
        codes = []
        for raw in (self.cleaned_data.get("locales_text") or "").split(","):
            if raw.strip():
                code = normalize_locale(raw)
                if code not in codes:
                    codes.append(code)
        return codes


@admin.register(HelpCenterSettings)
class HelpCenterSettingsAdmin(TenantScopedAdmin):
    form = HelpCenterSettingsForm
    capabilities = {"view": Cap.KB_PUBLISH, "change": Cap.KB_PUBLISH}
    audit_writes = False  # the service audits
    list_display = ("__str__", "is_enabled", "locales", "suggest_in_request_form", "suggest_in_acknowledgement")
    fields = ("is_enabled", "locales_text", "suggest_in_request_form", "suggest_in_acknowledgement")

    def save_model(self, request, obj, form, change):
        with tenant_scope(obj.tenant):
            services.help_center_settings_update(
                tenant=obj.tenant, actor=request.user, locales=form.cleaned_data["locales_text"],
                is_enabled=form.cleaned_data["is_enabled"],
                suggest_in_request_form=form.cleaned_data["suggest_in_request_form"],
                suggest_in_acknowledgement=form.cleaned_data["suggest_in_acknowledgement"])
        obj.refresh_from_db()


import knowledge.admin_locations  # noqa: E402,F401 - registers the service locations' admin
