"""Business calendars in the admin, scoped to the tenant (settings managers edit them)."""
from __future__ import annotations

from django.contrib import admin

from helpdesk.calendars.models import BusinessCalendar, Holiday
from helpdesk.tenancy.admin_base import ACTIONS, TenantScopedAdmin, TenantScopedTabularInline
from helpdesk.tenancy.roles import Cap

_CAPABILITIES = {action: Cap.SETTINGS_MANAGE for action in ACTIONS}


class HolidayInline(TenantScopedTabularInline):
    model = Holiday
    fields = ("date", "name")
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(TenantScopedAdmin):
    capabilities = _CAPABILITIES
    list_display = ("name", "timezone", "is_default")
    search_fields = ("name",)
    ordering = ("name",)
    fields = ("name", "timezone", "weekly_hours", "is_default")
    inlines = [HolidayInline]
