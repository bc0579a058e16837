"""Console pages of service locations, under ``/console/kb/locations/``.

Everyone with ``kb.view`` sees the list; ``kb.publish`` (administrators, owners) creates,
edits, deletes and imports (a location routes requests to a team). The CSV import is the
shared machinery of ``helpdesk.people.imports`` (jobs, batches, progress JSON, row errors);
these pages only fix its kind and link back here.
"""
from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy

from helpdesk.audit.services import request_meta
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.people import imports as people_imports
from helpdesk.people.models import ImportJob, ImportKind, Team
from helpdesk.tenancy.roles import Cap, role_has
from knowledge.locales import enabled_locales
from knowledge.locations import display, selectors, services
from knowledge.locations.imports import COLUMNS, DAYS, parse_day
from knowledge.models import Location, LocationKind

PAGE_SIZE = 50
_DAY_LABELS = {
    "mon": gettext_lazy("Monday"), "tue": gettext_lazy("Tuesday"), "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"), "fri": gettext_lazy("Friday"), "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
_EXCEPTION_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s+(.*)$")


def _can_edit(request) -> bool:
    return role_has(request.membership.role, Cap.KB_PUBLISH)


# --- the form -----------------------------------------------------------------------------------


class LocationForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=LocationKind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    slug = forms.CharField(label=gettext_lazy("Address in the help center"), max_length=80, required=False,
                           help_text=gettext_lazy("Made from the name when empty, such as kadikoy-store."))
    address = forms.CharField(label=gettext_lazy("Street address"), max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    city = forms.CharField(label=gettext_lazy("City"), max_length=100, required=False)
    postcode = forms.CharField(label=gettext_lazy("Postcode"), max_length=20, required=False)
    country = forms.CharField(label=gettext_lazy("Country"), max_length=2, required=False,
                              help_text=gettext_lazy("Two-letter code, such as TR."))
    latitude = forms.FloatField(label=gettext_lazy("Latitude"), min_value=-90, max_value=90,
                                widget=forms.NumberInput(attrs={"step": "any"}))
    longitude = forms.FloatField(label=gettext_lazy("Longitude"), min_value=-180, max_value=180,
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    timezone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64, required=False,
                               help_text=gettext_lazy("Such as Europe/Istanbul; the helpdesk's when empty."))
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), queryset=Team.objects.none(), required=False,
                                  help_text=gettext_lazy("Requests from this location's page go to this team."))
    calendar = forms.ModelChoiceField(label=gettext_lazy("Business hours"), queryset=BusinessCalendar.objects.none(),
                                      required=False,
                                      help_text=gettext_lazy("When the team answers (the default business hours "
                                                             "when empty)."))
    services = forms.CharField(label=gettext_lazy("Services offered"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}), help_text=gettext_lazy("One per line."))
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    directions_note = forms.CharField(label=gettext_lazy("How to find us"), required=False, max_length=5000,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    is_active = forms.BooleanField(label=gettext_lazy("Shown in the help center"), required=False, initial=True)
    exceptions = forms.CharField(
        label=gettext_lazy("Holidays and special hours"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One date a line: “2025-10-29 closed Republic Day” or “2025-12-31 10:00-14:00 "
                               "New Year's Eve”."))

    def __init__(self, *args, tenant, locales: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(tenant=tenant).order_by("name")
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(tenant=tenant).order_by("name")
        self.day_names = []
        for day in DAYS:
            name = f"hours_{day}"
            self.fields[name] = forms.CharField(label=_DAY_LABELS[day], required=False, max_length=200,
                                                help_text=None)
            self.day_names.append(name)
        self.locales = [locale for locale in locales if locale != tenant.default_locale]
        self.translation_names: dict[str, list[str]] = {}
        for locale in self.locales:
            names = []
            small = {"rows": 2}
            for field, label, widget in (("name", gettext_lazy("Name"), None),
                                         ("description", gettext_lazy("Description"), forms.Textarea(attrs=small)),
                                         ("services", gettext_lazy("Services offered"), forms.Textarea(attrs=small)),
                                         ("directions_note", gettext_lazy("How to find us"),
                                          forms.Textarea(attrs=small))):
                key = f"{field}__{locale}"
                self.fields[key] = forms.CharField(label=f"{label} ({locale})", required=False, max_length=5000,
                                                   widget=widget or forms.TextInput())
                names.append(key)
            self.translation_names[locale] = names

    @property
    def day_fields(self):
        return [self[name] for name in self.day_names]

    @property
    def translation_groups(self):
        return [(locale, [self[name] for name in names]) for locale, names in self.translation_names.items()]

    @property
    def main_fields(self):
        skip = {"exceptions", *self.day_names, *(n for names in self.translation_names.values() for n in names)}
        return [self[name] for name in self.fields if name not in skip]

    def clean(self):
        data = super().clean()
        hours = {}
        for day in DAYS:
            try:
                hours[day] = parse_day(data.get(f"hours_{day}") or "", column=f"hours_{day}")
            except ValidationError as exc:
                for message in exc.messages:
                    self.add_error(f"hours_{day}", message)
        data["opening_hours"] = {day: value for day, value in hours.items() if value}
        try:
            data["exception_rows"] = parse_exceptions(data.get("exceptions") or "")
        except ValidationError as exc:
            for message in exc.messages:
                self.add_error("exceptions", message)
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {key: data.get(key) for key in ("kind", "name", "slug", "address", "city", "postcode", "country",
                                                 "latitude", "longitude", "phone", "email", "timezone", "team",
                                                 "calendar", "description", "directions_note", "is_active")}
        values["services"] = [line for line in (data.get("services") or "").splitlines() if line.strip()]
        values["opening_hours"] = data["opening_hours"]
        return values

    def service_translations(self) -> list[dict]:
        out = []
        for locale, names in self.translation_names.items():
            item = {"locale": locale}
            for name in names:
                field = name.split("__")[0]
                value = self.cleaned_data.get(name) or ""
                item[field] = [v for v in value.splitlines() if v.strip()] if field == "services" else value
            if any(item[k] for k in ("name", "description", "services", "directions_note")):
                out.append(item)
        return out

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, texts in (exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]):
            field = key
            if key.startswith("opening_hours."):
                field = f"hours_{key.split('.')[1]}"
            elif key.startswith("exceptions"):
                field = "exceptions"
            elif key.startswith("translations."):
                parts = key.split(".")
                locale = self.locales[int(parts[1])] if parts[1].isdigit() and int(parts[1]) < len(self.locales) \
                    else ""
                field = f"{parts[2]}__{locale}" if len(parts) > 2 else ""
            for text in texts:
                self.add_error(field if field in self.fields else None, text)


def parse_exceptions(text: str) -> list[dict]:
    """The textarea's lines → the service's exceptions (dates checked there)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = _EXCEPTION_LINE.match(line)
        if not match:
            raise ValidationError(_("Line %(n)d: start with a date such as 2025-10-29.") % {"n": number})
        date, rest = match.groups()
        words = rest.split()
        if words and words[0].lower() in ("closed", "kapalı", "kapali"):
            rows.append({"date": date, "closed": True, "note": " ".join(words[1:])})
            continue
        hours_part = []
        while words and re.fullmatch(r"\d{1,2}[:.]\d{2}\s*-\s*\d{1,2}[:.]\d{2},?", words[0]):
            hours_part.append(words.pop(0).rstrip(","))
        if not hours_part:
            raise ValidationError(_("Line %(n)d: write “closed” or the hours, such as 10:00-14:00.") % {"n": number})
        try:
            intervals = parse_day(" ".join(hours_part), column="exceptions")
        except ValidationError:
            raise ValidationError(_("Line %(n)d: the hours are not valid.") % {"n": number}) from None
        rows.append({"date": date, "closed": False, "hours": intervals, "note": " ".join(words)})
    return rows


def exceptions_text(location: Location) -> str:
    lines = []
    for exception in location.exceptions.all():
        hours = "closed" if exception.closed else " ".join(f"{s}-{e}" for s, e in exception.hours)
        lines.append(f"{exception.date.isoformat()} {hours} {exception.note}".rstrip())
    return "\n".join(lines)


def form_initial(location: Location) -> dict:
    initial = {key: getattr(location, key) for key in ("kind", "name", "slug", "address", "city", "postcode",
                                                       "country", "latitude", "longitude", "phone", "email",
                                                       "timezone", "description", "directions_note", "is_active")}
    initial["team"] = location.team_id
    initial["calendar"] = location.calendar_id
    initial["services"] = "\n".join(location.services or [])
    for day in DAYS:
        initial[f"hours_{day}"] = ", ".join(f"{s}-{e}" for s, e in (location.opening_hours or {}).get(day, []))
    initial["exceptions"] = exceptions_text(location)
    for translation in location.translations.all():
        for field in ("name", "description", "directions_note"):
            initial[f"{field}__{translation.locale}"] = getattr(translation, field)
        initial[f"services__{translation.locale}"] = "\n".join(translation.services or [])
    return initial


def _keep_note_translations(location: Location | None, rows: list[dict]) -> list[dict]:
    """The textarea has no room for a note's other languages: keep those of unchanged notes."""
    if location is None:
        return rows
    stored = {e.date.isoformat(): e for e in location.exceptions.all()}
    for row in rows:
        old = stored.get(row["date"])
        if old is not None and old.note == row.get("note", ""):
            row["note_translations"] = old.note_translations
    return rows


# --- pages --------------------------------------------------------------------------------------


class LocationListView(TenantObjectMixin, ConsoleView):
    capability = Cap.KB_VIEW
    model = Location
    template_name = "console/locations/list.html"

    def get(self, request):
        q = " ".join(request.GET.get("q", "").split())[:100]
        try:
            page = max(1, min(int(request.GET.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        queryset = selectors.with_details(selectors.location_list(tenant=request.tenant, q=q,
                                                                  queryset=self.get_queryset()))
        rows = list(queryset[(page - 1) * PAGE_SIZE:page * PAGE_SIZE + 1])
        has_next = len(rows) > PAGE_SIZE
        now = dt.datetime.now(dt.timezone.utc)
        return TemplateResponse(request, self.template_name, {
            "rows": [{"location": loc, "state": display.describe_state(selectors.open_state_of(loc, now))}
                     for loc in rows[:PAGE_SIZE]],
            "q": q, "page": page, "has_next": has_next, "has_previous": page > 1, "can_edit": _can_edit(request),
        })


class _LocationFormView(TenantObjectMixin, ConsoleView):
    capability = Cap.KB_PUBLISH
    model = Location
    template_name = "console/locations/form.html"

    def locales(self) -> list[str]:
        return enabled_locales(self.request.tenant)

    def render(self, form, *, location=None, status: int = 200):
        return TemplateResponse(self.request, self.template_name, {"form": form, "location": location},
                                status=status)


class LocationCreateView(_LocationFormView):
    def get(self, request):
        form = LocationForm(tenant=request.tenant, locales=self.locales(),
                            initial={"timezone": request.tenant.timezone, "is_active": True})
        return self.render(form)

    def post(self, request):
        form = LocationForm(request.POST, tenant=request.tenant, locales=self.locales())
        if form.is_valid():
            try:
                location = services.location_create(
                    tenant=request.tenant, actor=request.user, values=form.service_values(),
                    translations=form.service_translations(), exceptions=form.cleaned_data["exception_rows"],
                    audit_meta=request_meta(request))
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The location is saved."))
                return HttpResponseRedirect(reverse("kb:location_edit", args=[location.pk]))
        return self.render(form, status=400)


class LocationUpdateView(_LocationFormView):
    def get_location(self, pk) -> Location:
        location = self.get_queryset().filter(pk=pk).prefetch_related("translations", "exceptions").first()
        if location is None:
            raise Http404
        return location

    def get(self, request, pk):
        location = self.get_location(pk)
        form = LocationForm(tenant=request.tenant, locales=self.locales(),
                            initial=form_initial(location))
        return self.render(form, location=location)

    def post(self, request, pk):
        location = self.get_location(pk)
        form = LocationForm(request.POST, tenant=request.tenant, locales=self.locales())
        if form.is_valid():
            try:
                services.location_update(
                    location=location, actor=request.user, values=form.service_values(),
                    translations=form.service_translations(),
                    exceptions=_keep_note_translations(location, form.cleaned_data["exception_rows"]),
                    audit_meta=request_meta(request))
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The location is saved."))
                return HttpResponseRedirect(reverse("kb:location_edit", args=[location.pk]))
        return self.render(form, location=location, status=400)


class LocationDeleteView(TenantObjectMixin, ConsoleView):
    capability = Cap.KB_PUBLISH
    model = Location
    http_method_names = ["post"]

    def post(self, request, pk):
        location = self.get_queryset().filter(pk=pk).first()
        if location is None:
            raise Http404
        services.location_delete(location=location, actor=request.user, audit_meta=request_meta(request))
        messages.success(request, _("The location “%(name)s” is deleted.") % {"name": location.name})
        return HttpResponseRedirect(reverse("kb:locations"))


# --- CSV import (the shared machinery, kind fixed to locations) ---------------------------------------


class LocationImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


class LocationImportView(TenantObjectMixin, ConsoleView):
    capability = Cap.KB_PUBLISH
    model = ImportJob
    template_name = "console/locations/import.html"

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind=ImportKind.LOCATIONS)

    def render(self, request, form, *, status: int = 200):
        jobs = list(self.get_queryset().select_related("created_by").order_by("-created_at", "-id")[:20])
        return TemplateResponse(request, self.template_name, {"form": form, "jobs": jobs, "columns": COLUMNS},
                                status=status)

    def get(self, request):
        return self.render(request, LocationImportForm())

    def post(self, request):
        form = LocationImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = people_imports.import_job_create(tenant=request.tenant, kind=ImportKind.LOCATIONS,
                                                       data=upload.read(), filename=upload.name, actor=request.user)
            except ValidationError as exc:
                for texts in (exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]):
                    for text in texts:
                        form.add_error("file", text)
            else:
                return HttpResponseRedirect(reverse("kb:locations_import", args=[job.pk]))
        return self.render(request, form, status=400)


class LocationImportDetailView(TenantObjectMixin, ConsoleView):
    capability = Cap.KB_PUBLISH
    model = ImportJob
    template_name = "console/locations/import_detail.html"

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind=ImportKind.LOCATIONS)

    def get(self, request, pk):
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return TemplateResponse(request, self.template_name, {"job": job})


class LocationImportStatusView(TenantObjectMixin, ConsoleView):
    """The import's progress as JSON, polled by the progress bar (``console/contacts.js``)."""

    capability = Cap.KB_PUBLISH
    model = ImportJob

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind=ImportKind.LOCATIONS)

    def get(self, request, pk):
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return JsonResponse(people_imports.import_job_status(job))
