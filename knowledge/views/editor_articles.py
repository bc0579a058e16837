"""The article editor (``/console/kb/articles/<pk>/edit/?locale=…``) and its actions: write a
translation (save draft, submit for review, publish now, schedule), change the article's
settings, archive, flag "needs update", move, delete; files and images.

Writing needs ``kb.edit``; publishing, scheduling, archiving, moving and deleting need
``kb.publish``. A published translation keeps its live text until its draft is published
(the service keeps the edit in ``draft_*``); the page says so plainly.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from helpdesk.people.models import Organization, User
from helpdesk.tenancy.roles import Cap
from knowledge.downloads import article_attachment_response
from knowledge.forms import Action, ArticleSettingsForm, NeedsUpdateForm, ScheduleForm, TranslationForm, UploadForm
from knowledge.html import sanitize_article_html
from knowledge.links import article_path
from knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleLabel,
    ArticleOrganization,
    ArticleTranslation,
    Section,
    TranslationStatus,
    Visibility,
)
from knowledge.services import attachments as attachment_services
from knowledge.services import content as services
from knowledge.views.editor_base import KbObjectView, KbView, edit_url
from knowledge.views.editor_queries import State, section_choices, translation_badges, working_title

ORGANIZATION_SUGGESTIONS = 500


def attachment_url(attachment: ArticleAttachment) -> str:
    """The address readers load the file from (the help center's), else the console's."""
    try:
        return reverse("helpcenter:attachment", args=[attachment.token, attachment.filename])
    except NoReverseMatch:
        return reverse("kb:attachment", args=[attachment.token])


class EditorMixin:
    """Builds the editor page for an article and a language (shared by the actions that
    answer with the page when their input is refused)."""

    def article_translations(self, article: Article) -> dict[str, ArticleTranslation]:
        rows = (ArticleTranslation.objects.filter(article=article).defer("body_text")
                .select_related("updated_by", "review_requested_by").order_by("locale"))
        return {row.locale: row for row in rows}

    def settings_form(self, article: Article | None = None, data=None, *, prefix=None, initial=None):
        organizations = []
        if article is not None:
            organizations = list(Organization.objects.filter(tenant=self.tenant, pk__in=ArticleOrganization.objects
                                                             .filter(article=article).values("organization_id"))
                                 .order_by("name").values_list("pk", "name"))
            initial = {
                "section": article.section_id, "visibility": article.visibility,
                "organization_ids": [pk for pk, _name in organizations],
                "labels": ", ".join(ArticleLabel.objects.filter(article=article).order_by("label__name")
                                    .values_list("label__name", flat=True)),
                "is_promoted": article.is_promoted, "owner": article.owner_id, "review_by": article.review_by,
            }
        return ArticleSettingsForm(data, prefix=prefix, initial=initial,
                                   sections=section_choices(tenant=self.tenant, chain=self.chain),
                                   owners=self.owners(), organizations=organizations)

    def organization_suggestions(self) -> list[str]:
        return list(Organization.objects.filter(tenant=self.tenant).order_by("name")
                    .values_list("name", flat=True)[:ORGANIZATION_SUGGESTIONS])

    def resolve_settings(self, form: ArticleSettingsForm) -> dict | None:
        """The service arguments of a valid settings form (None, with errors on the form, when a
        section, organization or owner is not the tenant's)."""
        data = form.cleaned_data
        section = Section.objects.filter(tenant=self.tenant, pk=data["section"]).first()
        if section is None:
            form.add_error("section", _("Choose a section."))
            return None
        organization_ids = list(data["organization_ids"])
        for name in form.added_organization_names()[:50]:
            match = (Organization.objects.filter(tenant=self.tenant, name__iexact=name)
                     .values_list("pk", flat=True).first())
            if match is None:
                form.add_error("add_organizations", _("No organization is called “%(name)s”.") % {"name": name})
                return None
            if match not in organization_ids:
                organization_ids.append(match)
        owner = None
        if data["owner"]:
            owner = User.objects.filter(pk=data["owner"]).first()
        return {"section": section, "visibility": data["visibility"], "organization_ids": organization_ids,
                "labels": form.label_names(), "owner": owner, "is_promoted": data["is_promoted"],
                "review_by": data["review_by"]}

    def render_editor(self, article: Article, locale: str, *, form: TranslationForm | None = None,
                      settings_form: ArticleSettingsForm | None = None, upload_form: UploadForm | None = None,
                      status: int = 200):
        translations = self.article_translations(article)
        current = translations.get(locale)
        default = self.default_locale
        if form is None:
            initial = {"action": Action.SAVE}
            if current is not None:
                initial.update(title=working_title(current),
                               body_html=current.draft_body_html if current.has_draft else current.body_html)
            form = TranslationForm(initial=initial, tz_name=self.tenant.timezone)
        reference = translations.get(default) if locale != default else None
        reference_html = ""
        if reference is not None:
            reference_html = sanitize_article_html(reference.draft_body_html if reference.has_draft
                                                   else reference.body_html)
        tab_locales = [*self.locales, *sorted(code for code in translations if code not in self.locales)]
        tabs = [{"locale": code, "translation": translations.get(code),
                 "states": translation_badges(translations[code]) if code in translations else [],
                 "current": code == locale} for code in tab_locales]
        attachments = list(ArticleAttachment.objects.filter(article=article).select_related("uploaded_by")
                           .order_by("-created_at", "-id"))
        for item in attachments:
            item.public_url = attachment_url(item)
            item.is_image = attachment_services.is_inline_image(item)
        public_url = ""
        if current is not None and current.status == TranslationStatus.PUBLISHED:
            try:
                public_url = article_path(locale=locale, article_id=article.pk, title=current.title)
            except NoReverseMatch:
                public_url = ""
        return self.page("article_edit.html", {
            "article": article, "locale": locale, "translation": current, "form": form,
            "states": translation_badges(current) if current is not None else [],
            "state_labels": State.LABELS, "tabs": tabs, "reference": reference, "reference_html": reference_html,
            "reference_badges": translation_badges(reference) if reference is not None else [],
            "live_html": sanitize_article_html(current.body_html) if current is not None and current.has_draft
            and current.status == TranslationStatus.PUBLISHED else "",
            "settings_form": settings_form or self.settings_form(article),
            "organization_suggestions": self.organization_suggestions(),
            "upload_form": upload_form or UploadForm(), "attachments": attachments,
            "max_upload": attachment_services.max_bytes(), "public_url": public_url,
            "tenant_timezone": self.tenant.timezone, "is_new": False,
            "visibility_organizations": Visibility.ORGANIZATIONS,
            "extra_locales": [code for code in tab_locales if code not in self.locales],
        }, status=status)


def _locale_allowed(view, locale: str | None, existing=()) -> bool:
    return locale is not None and (locale in view.locales or locale in existing)


class ArticleObjectView(EditorMixin, KbObjectView):
    capability = Cap.KB_EDIT
    model = Article
    context_object_name = "article"

    def safely_get_queryset(self, queryset):
        return queryset.select_related("section", "owner")

    def locale_or_none(self, article: Article, value: str | None) -> str | None:
        locale = self.requested_locale(value)
        existing = ArticleTranslation.objects.filter(article=article).values_list("locale", flat=True)
        return locale if _locale_allowed(self, locale, set(existing)) else None

    def translation_or_404(self, article: Article, locale: str | None) -> ArticleTranslation:
        translation = (ArticleTranslation.objects.filter(article=article, locale=locale or "")
                       .select_related("article__tenant").first())
        if translation is None:
            raise Http404
        return translation


class ArticleEditView(ArticleObjectView):
    def get(self, request, pk):
        article = self.get_object()
        locale = self.locale_or_none(article, request.GET.get("locale"))
        if locale is None:
            return self.bad_request(_("Choose one of the help center's languages."))
        return self.render_editor(article, locale)

    def post(self, request, pk):
        article = self.get_object()
        locale = self.locale_or_none(article, request.GET.get("locale") or request.POST.get("locale"))
        if locale is None:
            return self.bad_request(_("Choose one of the help center's languages."))
        form = TranslationForm(request.POST, tz_name=self.tenant.timezone)
        if not form.is_valid():
            return self.render_editor(article, locale, form=form, status=400)
        action = form.cleaned_data["action"]
        if action in (Action.PUBLISH, Action.SCHEDULE) and not self.can_publish:
            return self.refuse()
        current = ArticleTranslation.objects.filter(article=article, locale=locale).first()
        status = {Action.SAVE: TranslationStatus.DRAFT, Action.REVIEW: TranslationStatus.REVIEW,
                  Action.PUBLISH: TranslationStatus.PUBLISHED}.get(action, TranslationStatus.DRAFT)
        if action == Action.SCHEDULE and current is not None and current.status == TranslationStatus.REVIEW:
            status = TranslationStatus.REVIEW
        try:
            translation = services.translation_save(
                article=article, actor=request.user, locale=locale, title=form.cleaned_data["title"],
                body_html=form.cleaned_data["body_html"], status=status, note=form.cleaned_data["note"],
                can_publish=self.can_publish)
            if action == Action.SCHEDULE:
                services.translation_publish(translation=translation, actor=request.user,
                                             at=form.cleaned_data["publish_at"])
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self.render_editor(article, locale, form=form, status=400)
        messages.success(request, {
            Action.SAVE: _("Draft saved."),
            Action.REVIEW: _("Submitted for review."),
            Action.PUBLISH: _("Published."),
            Action.SCHEDULE: _("Saved and scheduled."),
        }[action])
        return HttpResponseRedirect(edit_url(article.pk, locale))


class ArticleCreateView(EditorMixin, KbView):
    """A new article: its first translation and its settings, in one form."""

    capability = Cap.KB_EDIT

    def get(self, request):
        locale = self.requested_locale(request.GET.get("locale"))
        if not _locale_allowed(self, locale):
            return self.bad_request(_("Choose one of the help center's languages."))
        initial = {"visibility": Visibility.PUBLIC, "owner": request.user.pk}
        section = request.GET.get("section", "")
        if section.isdigit():
            initial["section"] = int(section)
        return self.render_new(locale, TranslationForm(initial={"action": Action.SAVE}, tz_name=self.tenant.timezone),
                               self.settings_form(prefix="s", initial=initial))

    def render_new(self, locale, form, settings_form, *, status=200):
        return self.page("article_edit.html", {
            "article": None, "locale": locale, "translation": None, "form": form, "settings_form": settings_form,
            "organization_suggestions": self.organization_suggestions(), "is_new": True, "tabs": [],
            "state_labels": State.LABELS, "tenant_timezone": self.tenant.timezone,
            "visibility_organizations": Visibility.ORGANIZATIONS, "attachments": [],
        }, status=status)

    def post(self, request):
        locale = self.requested_locale(request.GET.get("locale") or request.POST.get("locale"))
        if not _locale_allowed(self, locale):
            return self.bad_request(_("Choose one of the help center's languages."))
        form = TranslationForm(request.POST, tz_name=self.tenant.timezone)
        settings_form = self.settings_form(data=request.POST, prefix="s")
        if not (form.is_valid() & settings_form.is_valid()):
            return self.render_new(locale, form, settings_form, status=400)
        values = self.resolve_settings(settings_form)
        if values is None:
            return self.render_new(locale, form, settings_form, status=400)
        action = form.cleaned_data["action"]
        if action in (Action.PUBLISH, Action.SCHEDULE) and not self.can_publish:
            return self.refuse()
        status = {Action.REVIEW: TranslationStatus.REVIEW,
                  Action.PUBLISH: TranslationStatus.PUBLISHED}.get(action, TranslationStatus.DRAFT)
        try:
            article = services.article_create(
                tenant=self.tenant, actor=request.user, section=values["section"],
                translations=[services.TranslationInput(locale=locale, title=form.cleaned_data["title"],
                                                        body_html=form.cleaned_data["body_html"], status=status)],
                visibility=values["visibility"], organization_ids=values["organization_ids"],
                labels=values["labels"], owner=values["owner"], is_promoted=values["is_promoted"],
                review_by=values["review_by"], can_publish=self.can_publish)
            if action == Action.SCHEDULE:
                translation = ArticleTranslation.objects.get(article=article, locale=locale)
                services.translation_publish(translation=translation, actor=request.user,
                                             at=form.cleaned_data["publish_at"])
        except ValidationError as exc:
            form.add_service_errors(exc)
            settings_form.add_service_errors(exc, rename={"organization_ids": "add_organizations"})
            return self.render_new(locale, form, settings_form, status=400)
        messages.success(request, _("Article created."))
        return HttpResponseRedirect(edit_url(article.pk, locale))


class ArticleSettingsView(ArticleObjectView):
    def post(self, request, pk):
        article = self.get_object()
        locale = self.locale_or_none(article, request.POST.get("locale")) or self.default_locale
        form = self.settings_form(data=request.POST)
        form.fields["organization_ids"].choices = [
            (pk_, name) for pk_, name in Organization.objects.filter(tenant=self.tenant, pk__in=[
                int(v) for v in request.POST.getlist("organization_ids") if v.isdigit() and len(v) < 19
            ]).values_list("pk", "name")]
        values = self.resolve_settings(form) if form.is_valid() else None
        if values is None:
            return self.render_editor(article, locale, settings_form=form, status=400)
        try:
            services.article_update(article=article, actor=request.user, **values)
        except ValidationError as exc:
            form.add_service_errors(exc, rename={"organization_ids": "add_organizations"})
            article.refresh_from_db()
            return self.render_editor(article, locale, settings_form=form, status=400)
        messages.success(request, _("Article settings saved."))
        return HttpResponseRedirect(edit_url(article.pk, locale))


# --- workflow actions (each a POST naming the translation's language) -------------------------

class TranslationPublishView(ArticleObjectView):
    """Publish a translation's current text now, or at a time (the review queue, the editor)."""

    capability = Cap.KB_PUBLISH

    def post(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.POST.get("locale")))
        form = ScheduleForm(request.POST, tz_name=self.tenant.timezone)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("publish_at", [])) or _("Check the time."))
            return self.back(edit_url(article.pk, translation.locale))
        at = form.cleaned_data["publish_at"]
        services.translation_publish(translation=translation, actor=request.user, at=at)
        messages.success(request, _("Scheduled.") if at else _("Published."))
        return self.back(edit_url(article.pk, translation.locale))


class TranslationUnscheduleView(ArticleObjectView):
    capability = Cap.KB_PUBLISH

    def post(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.POST.get("locale")))
        services.translation_unschedule(translation=translation, actor=request.user)
        messages.success(request, _("The scheduled publication was cancelled."))
        return self.back(edit_url(article.pk, translation.locale))


class TranslationUnpublishView(ArticleObjectView):
    capability = Cap.KB_PUBLISH

    def post(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.POST.get("locale")))
        services.translation_unpublish(translation=translation, actor=request.user)
        messages.success(request, _("Unpublished: the translation is archived and no longer on the help center."))
        return self.back(edit_url(article.pk, translation.locale))


class TranslationFlagView(ArticleObjectView):
    def post(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.POST.get("locale")))
        form = NeedsUpdateForm(request.POST)
        form.is_valid()
        flagged = bool(form.cleaned_data.get("needs_update"))
        services.translation_flag(translation=translation, actor=request.user, needs_update=flagged)
        messages.success(request, _("Marked as needing an update.") if flagged else _("“Needs update” cleared."))
        return self.back(edit_url(article.pk, translation.locale))


class TranslationDeleteView(ArticleObjectView):
    capability = Cap.KB_PUBLISH

    def get(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.GET.get("locale")))
        return self.page("delete_confirm.html", {
            "kind": "translation", "name": working_title(translation), "locale": translation.locale,
            "action": reverse("kb:translation_delete", args=[pk]),
            "blocked": ArticleTranslation.objects.filter(article=article).count() <= 1,
            "cancel": edit_url(article.pk, translation.locale),
        })

    def post(self, request, pk):
        article = self.get_object()
        translation = self.translation_or_404(article, self.requested_locale(request.POST.get("locale")))
        try:
            services.translation_delete(translation=translation, actor=request.user)
        except ValidationError as exc:
            self.error_message(exc)
            return HttpResponseRedirect(edit_url(article.pk, translation.locale))
        messages.success(request, _("Translation deleted."))
        return HttpResponseRedirect(edit_url(article.pk, self.default_locale))


class ArticleDeleteView(ArticleObjectView):
    capability = Cap.KB_PUBLISH

    def get(self, request, pk):
        article = self.get_object()
        translations = list(ArticleTranslation.objects.filter(article=article).only("locale", "title", "draft_title",
                                                                                       "has_draft"))
        shown = next((t for t in translations if t.locale == self.default_locale), translations[0] if translations
                     else None)
        return self.page("delete_confirm.html", {
            "kind": "article", "name": working_title(shown) if shown else f"#{article.pk}",
            "action": reverse("kb:article_delete", args=[pk]), "blocked": False,
            "cancel": edit_url(article.pk, self.default_locale),
        })

    def post(self, request, pk):
        services.article_delete(article=self.get_object(), actor=request.user)
        messages.success(request, _("Article deleted."))
        return HttpResponseRedirect(reverse("kb:tree"))


class ArticleMoveView(ArticleObjectView):
    capability = Cap.KB_PUBLISH

    def post(self, request, pk):
        article = self.get_object()
        direction = request.POST.get("direction")
        if direction not in ("up", "down"):
            return self.bad_request(_("Move up or down."))
        services.article_move(article=article, actor=request.user, direction=direction)
        return self.back(reverse("kb:tree") + f"#article-{article.pk}")


# --- files and images --------------------------------------------------------------------------

class AttachmentUploadView(ArticleObjectView):
    def post(self, request, pk):
        article = self.get_object()
        locale = self.locale_or_none(article, request.POST.get("locale")) or self.default_locale
        form = UploadForm(request.POST, request.FILES)
        wants_json = "application/json" in request.headers.get("Accept", "")
        if form.is_valid():
            try:
                attachment = attachment_services.attachment_add(article=article, actor=request.user,
                                                                upload=form.cleaned_data["file"])
            except ValidationError as exc:
                form.add_error("file", exc.message_dict.get("file", exc.messages)
                               if hasattr(exc, "error_dict") else exc.messages)
            else:
                if wants_json:  # the editor's script uploads in place and inserts the image
                    return JsonResponse({
                        "id": attachment.pk, "filename": attachment.filename, "url": attachment_url(attachment),
                        "preview_url": reverse("kb:attachment", args=[attachment.token]),
                        "delete_url": reverse("kb:attachment_delete", args=[attachment.pk]),
                        "is_image": attachment_services.is_inline_image(attachment), "size": attachment.size,
                    }, status=201)
                messages.success(request, _("“%(name)s” uploaded.") % {"name": attachment.filename})
                return HttpResponseRedirect(edit_url(article.pk, locale) + "#files")
        if wants_json:
            return JsonResponse({"errors": [str(e) for e in form.errors.get("file", [])]
                                 or [_("Choose a file to upload.")]}, status=400)
        return self.render_editor(article, locale, upload_form=form, status=400)


class AttachmentObjectView(KbObjectView):
    capability = Cap.KB_EDIT
    model = ArticleAttachment

    def safely_get_queryset(self, queryset):
        return queryset.select_related("article", "article__tenant")


class AttachmentDeleteView(AttachmentObjectView):
    def post(self, request, pk):
        attachment = self.get_object()
        article_id, name = attachment.article_id, attachment.filename
        attachment_services.attachment_delete(attachment=attachment, actor=request.user)
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
        locale = self.requested_locale(request.POST.get("locale")) or self.default_locale
        return HttpResponseRedirect(edit_url(article_id, locale) + "#files")


class AttachmentDownloadView(AttachmentObjectView):
    """An article's file for agents, by its unguessable token (images as images, the rest as
    downloads; ``knowledge.downloads``)."""

    capability = Cap.KB_VIEW
    slug_field = "token"
    slug_url_kwarg = "token"

    def get(self, request, token):
        return article_attachment_response(self.get_object())
