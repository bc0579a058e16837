"""The editor's lists and settings: the review queue, the missing translations of every
language, and the help center's settings (languages and switches, ``kb.publish``)."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from helpdesk.tenancy.roles import Cap
from knowledge.forms import HelpCenterSettingsForm, ScheduleForm
from knowledge.services import content as services
from knowledge.views.editor_base import KbView, locale_label
from knowledge.views.editor_queries import State, missing_translations, review_queue, translation_badges, working_title


class ReviewQueueView(KbView):
    def get(self, request):
        rows = list(review_queue(tenant=self.tenant))
        for row in rows:
            row.states = translation_badges(row)
            row.shown_title = working_title(row)
        return self.page("review.html", {
            "rows": rows, "state_labels": State.LABELS, "schedule_form": ScheduleForm(),
            "tenant_timezone": self.tenant.timezone,
            "extra_locales": sorted({row.locale for row in rows} - set(self.locales)),
        })


class MissingTranslationsView(KbView):
    def get(self, request):
        return self.page("missing.html", {
            "languages": missing_translations(tenant=self.tenant, locales=self.locales, chain=self.chain),
            "default_locale": self.default_locale,
        })


# Languages offered as checkboxes besides the interface's own; any other code can be typed.
COMMON_LOCALES = ("en", "tr", "de", "fr", "es", "it", "nl", "pt", "pt-br", "ru", "ar", "fa", "az", "uk", "pl",
                  "el", "bg", "ro", "sv", "da", "fi", "nb", "cs", "hu", "ja", "ko", "zh-hans")


class HelpCenterSettingsView(KbView):
    capability = Cap.KB_PUBLISH

    def choices(self) -> list[tuple[str, str]]:
        codes = []
        for code in [*self.locales, *(code for code, _name in settings.LANGUAGES), *COMMON_LOCALES]:
            if code not in codes:
                codes.append(code)
        return [(code, f"{locale_label(code)} ({code})") for code in codes]

    def form(self, data=None):
        extra = [code for code in self.locales if code not in dict(self.choices())]
        initial = {"is_enabled": self.hc.is_enabled, "locales": self.locales, "other_locales": ", ".join(extra),
                   "suggest_in_request_form": self.hc.suggest_in_request_form,
                   "suggest_in_acknowledgement": self.hc.suggest_in_acknowledgement}
        return HelpCenterSettingsForm(data, initial=None if data is not None else initial, choices=self.choices(),
                                      default=self.default_locale)

    def render(self, form, *, status=200):
        return self.page("settings.html", {"form": form, "default_locale": self.default_locale,
                                           "default_label": locale_label(self.default_locale)}, status=status)

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                services.help_center_settings_update(
                    tenant=self.tenant, actor=request.user, locales=form.chosen_locales(),
                    is_enabled=form.cleaned_data["is_enabled"],
                    suggest_in_request_form=form.cleaned_data["suggest_in_request_form"],
                    suggest_in_acknowledgement=form.cleaned_data["suggest_in_acknowledgement"])
            except ValidationError as exc:
                form.add_service_errors(exc, rename={"locales": "other_locales"})
            else:
                messages.success(request, _("Help center settings saved."))
                return HttpResponseRedirect(reverse("kb:settings"))
        return self.render(form, status=400)
