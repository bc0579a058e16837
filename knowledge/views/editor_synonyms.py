"""The help center's search synonyms in the console (``/console/kb/synonyms/``): the
tenant's sets of equivalent terms per language, with add, edit and delete.

Rights mirror ``/api/v1/kb/synonyms/``: reading needs ``kb:read`` there and ``kb.view`` here;
writing needs ``kb:write``, which the role → scope map grants to owners and administrators
only, the roles that hold ``kb.publish`` here. Writes go through the same services as the API
(``knowledge.search.synonyms``), whose ValidationErrors land on the form's fields.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from helpdesk.tenancy.roles import Cap
from knowledge.forms import SynonymForm
from knowledge.models import SearchSynonym
from knowledge.search import synonyms as services
from knowledge.search.synonyms import MAX_SETS
from knowledge.views.editor_base import KbObjectView, KbView, locale_label
from knowledge.views.editor_queries import synonym_sets


class SynonymFormMixin:
    def locale_choices(self, current: str | None = None) -> list[tuple[str, str]]:
        codes = [*self.locales, *([current] if current and current not in self.locales else [])]
        return [(code, f"{locale_label(code)} ({code})") for code in codes]

    def form(self, data=None, *, initial=None, current: str | None = None) -> SynonymForm:
        return SynonymForm(data, initial=initial, choices=self.locale_choices(current))


class SynonymListView(SynonymFormMixin, KbView):
    """Everyone who reads the knowledge base sees the sets; ``kb.publish`` adds them (POST)."""

    def render(self, form, *, status: int = 200):
        languages = synonym_sets(tenant=self.tenant, locales=self.locales)
        for language in languages:
            language.label = locale_label(language.locale)
        return self.page("synonyms.html", {
            "form": form, "languages": languages, "max_sets": MAX_SETS,
            "set_total": sum(len(language.rows) for language in languages),
            "extra_locales": [language.locale for language in languages if language.locale not in self.locales],
        }, status=status)

    def get(self, request):
        locale = self.requested_locale(request.GET.get("locale"))
        return self.render(self.form(initial={"locale": locale if locale in self.locales else self.default_locale}))

    def post(self, request):
        if not self.can_publish:
            return self.refuse()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                services.synonym_create(tenant=self.tenant, locale=form.cleaned_data["locale"],
                                        terms=form.cleaned_data["terms"])
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Synonyms added."))
                return HttpResponseRedirect(reverse("kb:synonyms") + f"#synonyms-{form.cleaned_data['locale']}")
        return self.render(form, status=400)


class SynonymObjectView(SynonymFormMixin, KbObjectView):
    capability = Cap.KB_PUBLISH
    model = SearchSynonym


class SynonymEditView(SynonymObjectView):
    def render(self, form, synonym, *, status: int = 200):
        return self.page("synonym_form.html", {"form": form, "synonym": synonym,
                                               "extra_locales": [synonym.locale]}, status=status)

    def get(self, request, pk):
        synonym = self.get_object()
        return self.render(self.form(initial=SynonymForm.initial_from(synonym), current=synonym.locale), synonym)

    def post(self, request, pk):
        synonym = self.get_object()
        form = self.form(request.POST, current=synonym.locale)
        if form.is_valid():
            try:
                services.synonym_update(synonym=synonym, locale=form.cleaned_data["locale"],
                                        terms=form.cleaned_data["terms"])
            except ValidationError as exc:
                form.add_service_errors(exc)
                synonym.refresh_from_db()
            else:
                messages.success(request, _("Synonyms saved."))
                return HttpResponseRedirect(reverse("kb:synonyms") + f"#synonyms-{synonym.locale}")
        return self.render(form, synonym, status=400)


class SynonymDeleteView(SynonymObjectView):
    def get(self, request, pk):
        synonym = self.get_object()
        return self.page("synonym_delete.html", {"synonym": synonym, "extra_locales": [synonym.locale]})

    def post(self, request, pk):
        synonym = self.get_object()
        locale = synonym.locale
        services.synonym_delete(synonym=synonym)
        messages.success(request, _("Synonyms deleted."))
        return HttpResponseRedirect(reverse("kb:synonyms") + f"#synonyms-{locale}")
