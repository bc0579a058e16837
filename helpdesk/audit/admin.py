"""The audit log, read-only: who changed what, from where."""
from django.contrib import admin

from helpdesk.audit.models import AuditEntry
from helpdesk.tenancy.admin_base import TenantScopedAdmin
from helpdesk.tenancy.roles import Cap


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.SETTINGS_MANAGE}
    list_display = ("created_at", "actor_label", "action", "object_type", "object_repr", "ip_address")
    list_filter = ("action", "object_type", "actor")
    search_fields = ("action", "actor_label", "object_repr", "object_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = ("created_at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
              "before", "after", "ip_address", "user_agent")
    readonly_fields = fields
    list_select_related = ("actor",)
