"""Service locations in the admin, scoped to the admin's tenant; ``kb.publish`` edits them.

The console's pages are the everyday editor; the admin is the operator's view. Its edits
are checked by the model's validators (coordinates, time zone, weekly hours) and by the
services' checks of an exception's hours, and the folded search text is rebuilt after a save.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.tenancy.admin_base import TenantScopedAdmin, TenantScopedTabularInline
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap
from knowledge.locations import services
from knowledge.models import Location, LocationException, LocationTranslation

_PUBLISHERS = {"view": Cap.KB_VIEW, "add": Cap.KB_PUBLISH, "change": Cap.KB_PUBLISH, "delete": Cap.KB_PUBLISH}


class LocationExceptionForm(forms.ModelForm):
    class Meta:
        model = LocationException
        fields = ("date", "closed", "hours", "note", "note_translations")

    def clean(self):
        data = super().clean()
        if data.get("closed"):
            data["hours"] = []
        else:
            try:
                data["hours"] = services.clean_day_intervals(data.get("hours") or [], key="hours")
            except ValidationError as exc:
                self.add_error("hours", exc.message_dict.get("hours", exc.messages))
            if not data.get("hours") and not self.errors:
                self.add_error("hours", _("Give the special hours, or mark the day closed."))
        return data


class LocationTranslationInline(TenantScopedTabularInline):
    model = LocationTranslation
    fields = ("locale", "name", "description", "services", "directions_note")
    extra = 0


class LocationExceptionInline(TenantScopedTabularInline):
    model = LocationException
    form = LocationExceptionForm
    fields = ("date", "closed", "hours", "note", "note_translations")
    extra = 0


@admin.register(Location)
class LocationAdmin(TenantScopedAdmin):
    capabilities = _PUBLISHERS
    list_display = ("name", "kind", "city", "postcode", "team", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "city", "postcode", "slug")
    ordering = ("name",)
    fields = ("kind", "name", "slug", "address", "city", "postcode", "country", "latitude", "longitude", "phone",
              "email", "timezone", "opening_hours", "services", "description", "directions_note", "team", "calendar",
              "is_active")
    inlines = [LocationTranslationInline, LocationExceptionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        location = form.instance
        with tenant_scope(location.tenant):
            Location.objects.filter(pk=location.pk).update(
                search_text=services.search_text_of(location, LocationTranslation.objects.filter(location=location)))
