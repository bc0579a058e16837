"""A translation's version history: the list, one version, the difference between any two
(word by word on their plain text, escaped, shown with <ins>/<del>) and restoring one."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from helpdesk.tenancy.roles import Cap
from knowledge.diff import text_diff
from knowledge.html import article_text, sanitize_article_html
from knowledge.models import Article, ArticleTranslation, ArticleVersion
from knowledge.services import content as services
from knowledge.views.editor_base import KbObjectView, edit_url
from knowledge.views.editor_queries import State, translation_badges, working_title

HISTORY_LIMIT = 500


class ArticleHistoryView(KbObjectView):
    model = Article

    def get(self, request, pk):
        article = self.get_object()
        translations = {t.locale: t for t in ArticleTranslation.objects.filter(article=article)
                        .defer("body_html", "body_text", "draft_body_html").order_by("locale")}
        locale = self.requested_locale(request.GET.get("locale"))
        if locale is None:
            return self.bad_request(_("Choose one of the help center's languages."))
        translation = translations.get(locale)
        if translation is None and translations and not request.GET.get("locale"):
            translation = next(iter(translations.values()))
            locale = translation.locale
        versions = []
        if translation is not None:
            versions = list(ArticleVersion.objects.filter(translation=translation).select_related("author")
                            .defer("body_html").order_by("-number")[:HISTORY_LIMIT])
        return self.page("history.html", {
            "article": article, "locale": locale, "translation": translation, "versions": versions,
            "title": working_title(translation) if translation is not None else "",
            "states": translation_badges(translation) if translation is not None else [],
            "state_labels": State.LABELS,
            "tabs": [{"locale": code, "current": code == locale} for code in translations],
            "extra_locales": [code for code in translations if code not in self.locales],
        })


class VersionObjectView(KbObjectView):
    model = ArticleVersion

    def safely_get_queryset(self, queryset):
        return queryset.select_related("translation", "translation__article", "author")


class VersionView(VersionObjectView):
    def get(self, request, pk):
        version = self.get_object()
        return self.page("version.html", {
            "version": version, "translation": version.translation, "article": version.translation.article,
            "body_html": sanitize_article_html(version.body_html),
            "extra_locales": [version.translation.locale],
        })


class VersionRestoreView(VersionObjectView):
    capability = Cap.KB_EDIT

    def post(self, request, pk):
        version = self.get_object()
        translation = version.translation
        try:
            services.translation_restore(translation=translation, version=version, actor=request.user)
        except ValidationError as exc:
            self.error_message(exc)
        else:
            messages.success(request, _("Version %(number)s restored as the current draft.")
                             % {"number": version.number})
        return HttpResponseRedirect(edit_url(translation.article_id, translation.locale))


class ArticleDiffView(KbObjectView):
    """``?a=<version id>&b=<version id>``: two versions of one translation of this article."""

    model = Article

    def get(self, request, pk):
        article = self.get_object()
        ids = []
        for name in ("a", "b"):
            value = request.GET.get(name, "")
            if not value.isdigit() or len(value) > 18:
                return self.bad_request(_("Choose two versions to compare."))
            ids.append(int(value))
        found = {v.pk: v for v in ArticleVersion.objects.filter(tenant=self.tenant, pk__in=ids,
                                                                 translation__article=article)
                 .select_related("translation", "author")}
        if len(found) != len(set(ids)):
            return self.bad_request(_("Those versions are not of this article."))
        old, new = found[ids[0]], found[ids[1]]
        if old.translation_id != new.translation_id:
            return self.bad_request(_("Compare versions of the same language."))
        if old.number > new.number:
            old, new = new, old
        return self.page("diff.html", {
            "article": article, "translation": old.translation, "old": old, "new": new,
            "title_diff": text_diff(old.title, new.title),
            "body_diff": text_diff(article_text(old.body_html), article_text(new.body_html)),
            "extra_locales": [old.translation.locale],
        })
