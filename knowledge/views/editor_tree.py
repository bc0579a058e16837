"""The content tree (``/console/kb/``) and the structure: categories and sections with their
names per language, created, renamed, moved up or down and deleted (``kb.publish``)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.tenancy.roles import Cap
from knowledge.forms import NamesForm, SectionForm, TreeFilterForm
from knowledge.models import Article, Category, CategoryTranslation, Label, Section, SectionTranslation
from knowledge.services import content as services
from knowledge.views.editor_base import KbObjectView, KbView
from knowledge.views.editor_queries import State, TreeFilters, content_tree, display_name, section_choices


class TreeView(KbView):
    """Categories > sections > articles with each item's languages and states, filtered."""

    def get(self, request):
        owners = self.owners()
        labels = list(Label.objects.filter(tenant=self.tenant).order_by("name").values_list("pk", "name")[:500])
        form = TreeFilterForm(request.GET or None, locales=list(self.locale_labels().items()), labels=labels,
                              owners=owners)
        filters = TreeFilters()
        status = 200
        if request.GET:
            if form.is_valid():
                data = form.cleaned_data
                owner = data["owner"]
                filters = TreeFilters(
                    status=data["status"], locale=data["locale"], label_id=data["label"],
                    owner_id=request.user.pk if owner == "me" else (int(owner) if owner else None),
                    missing=data["missing"], in_review=data["in_review"], needs_update=data["needs_update"],
                    past_review=data["past_review"])
            else:
                status = 400
        today = timezone.localdate()
        tree = content_tree(tenant=self.tenant, filters=filters, locales=self.locales, chain=self.chain,
                            today=today)
        return self.page("tree.html", {
            "tree": tree, "filters": filters, "form": form, "state_labels": State.LABELS, "today": today,
            "hc_enabled": self.hc.is_enabled,
        }, status=status)


# --- categories ----------------------------------------------------------------------------

class StructureView(KbView):
    capability = Cap.KB_PUBLISH


class CategoryFormMixin:
    def form(self, data=None, initial=None):
        return NamesForm(data, initial=initial, locales=self.locales, labels=self.locale_labels())

    def render_form(self, form, *, status=200, category=None):
        return self.page("category_form.html", {"form": form, "category": category}, status=status)


class CategoryCreateView(CategoryFormMixin, StructureView):
    def get(self, request):
        return self.render_form(self.form())

    def post(self, request):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                category = services.category_create(tenant=self.tenant, actor=request.user,
                                                    translations=form.names())
            except ValidationError as exc:
                form.add_service_errors(exc, rename={"translations": "__all__"})
            else:
                messages.success(request, _("Category “%(name)s” created.") % {"name": form.names()[0].name})
                return HttpResponseRedirect(reverse("kb:tree") + f"#category-{category.pk}")
        return self.render_form(form, status=400)


class CategoryObjectView(CategoryFormMixin, KbObjectView):
    capability = Cap.KB_PUBLISH
    model = Category
    context_object_name = "category"


class CategoryEditView(CategoryObjectView):
    def get(self, request, pk):
        category = self.get_object()
        initial = NamesForm.initial_from(CategoryTranslation.objects.filter(category=category))
        return self.render_form(self.form(initial=initial), category=category)

    def post(self, request, pk):
        category = self.get_object()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                services.category_update(category=category, actor=request.user, translations=form.names())
            except ValidationError as exc:
                form.add_service_errors(exc, rename={"translations": "__all__"})
            else:
                messages.success(request, _("Category saved."))
                return HttpResponseRedirect(reverse("kb:tree") + f"#category-{category.pk}")
        return self.render_form(form, status=400, category=category)


class CategoryDeleteView(CategoryObjectView):
    def get(self, request, pk):
        category = self.get_object()
        name = display_name(category.translations.all(), self.chain)
        return self.page("delete_confirm.html", {
            "kind": "category", "name": name, "action": reverse("kb:category_delete", args=[pk]),
            "blocked": Article.objects.filter(section__category=category).exists(),
        })

    def post(self, request, pk):
        category = self.get_object()
        try:
            services.category_delete(category=category, actor=request.user)
        except ValidationError as exc:
            self.error_message(exc)
            return HttpResponseRedirect(reverse("kb:category_delete", args=[pk]))
        messages.success(request, _("Category deleted."))
        return HttpResponseRedirect(reverse("kb:tree"))


class CategoryMoveView(CategoryObjectView):
    def post(self, request, pk):
        category = self.get_object()
        direction = request.POST.get("direction")
        if direction not in ("up", "down"):
            return self.bad_request(_("Move up or down."))
        services.category_move(category=category, actor=request.user, direction=direction)
        return self.back(reverse("kb:tree") + f"#category-{category.pk}")


# --- sections -------------------------------------------------------------------------------

class SectionFormMixin:
    def section_form(self, data=None, initial=None, *, section=None):
        categories = list(Category.objects.filter(tenant=self.tenant).order_by("position", "id")
                          .prefetch_related(Prefetch("translations",
                                                     queryset=CategoryTranslation.objects.only(
                                                         "id", "category_id", "locale", "name"))))
        category_choices = [(c.pk, display_name(c.translations.all(), self.chain) or f"#{c.pk}")
                            for c in categories]
        parents = [(choice.pk, choice.label) for choice in section_choices(tenant=self.tenant, chain=self.chain)
                   if section is None or choice.pk != section.pk]
        return SectionForm(data, initial=initial, locales=self.locales, labels=self.locale_labels(),
                           categories=category_choices, parents=parents)

    def render_section_form(self, form, *, section=None, status=200):
        return self.page("section_form.html", {"form": form, "section": section}, status=status)

    def lookup(self, model, pk):
        return model.objects.filter(tenant=self.tenant, pk=pk).first() if pk else None


class SectionCreateView(SectionFormMixin, StructureView):
    def get(self, request):
        initial = {}
        for name in ("category", "parent"):
            value = request.GET.get(name, "")
            if value.isdigit():
                initial[name] = int(value)
        return self.render_section_form(self.section_form(initial=initial))

    def post(self, request):
        form = self.section_form(request.POST)
        if form.is_valid():
            category = self.lookup(Category, form.cleaned_data["category"])
            parent = self.lookup(Section, form.cleaned_data["parent"])
            try:
                section = services.section_create(tenant=self.tenant, actor=request.user, category=category,
                                                  parent=parent, translations=form.names())
            except ValidationError as exc:
                form.add_service_errors(exc, rename={"translations": "__all__", "parent_id": "parent"})
            else:
                messages.success(request, _("Section “%(name)s” created.") % {"name": form.names()[0].name})
                return HttpResponseRedirect(reverse("kb:tree") + f"#section-{section.pk}")
        return self.render_section_form(form, status=400)


class SectionObjectView(KbObjectView):
    capability = Cap.KB_PUBLISH
    model = Section
    context_object_name = "section"


class SectionEditView(SectionFormMixin, SectionObjectView):
    def get(self, request, pk):
        section = self.get_object()
        initial = NamesForm.initial_from(SectionTranslation.objects.filter(section=section))
        initial.update(category=section.category_id, parent=section.parent_id)
        return self.render_section_form(self.section_form(initial=initial, section=section), section=section)

    def post(self, request, pk):
        section = self.get_object()
        form = self.section_form(request.POST, section=section)
        if form.is_valid():
            category = self.lookup(Category, form.cleaned_data["category"])
            parent = self.lookup(Section, form.cleaned_data["parent"])
            try:
                services.section_update(section=section, actor=request.user, translations=form.names(),
                                        category=category, parent=parent)
            except ValidationError as exc:
                form.add_service_errors(exc, rename={"translations": "__all__", "parent_id": "parent"})
            else:
                messages.success(request, _("Section saved."))
                return HttpResponseRedirect(reverse("kb:tree") + f"#section-{section.pk}")
        return self.render_section_form(form, section=section, status=400)


class SectionDeleteView(SectionObjectView):
    def get(self, request, pk):
        section = self.get_object()
        return self.page("delete_confirm.html", {
            "kind": "section", "name": display_name(section.translations.all(), self.chain),
            "action": reverse("kb:section_delete", args=[pk]),
            "blocked": Article.objects.filter(section=section).exists()
            or Section.objects.filter(parent=section).exists(),
        })

    def post(self, request, pk):
        section = self.get_object()
        try:
            services.section_delete(section=section, actor=request.user)
        except ValidationError as exc:
            self.error_message(exc)
            return HttpResponseRedirect(reverse("kb:section_delete", args=[pk]))
        messages.success(request, _("Section deleted."))
        return HttpResponseRedirect(reverse("kb:tree"))


class SectionMoveView(SectionObjectView):
    def post(self, request, pk):
        section = self.get_object()
        direction = request.POST.get("direction")
        if direction not in ("up", "down"):
            return self.bad_request(_("Move up or down."))
        services.section_move(section=section, actor=request.user, direction=direction)
        return self.back(reverse("kb:tree") + f"#section-{section.pk}")
