"""Macros and saved views: an agent's one-click actions and their ticket lists."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned


class Macro(TenantOwned):
    """Actions applied in one click, plus a reply text per language with placeholders
    (``{{ requester.first_name }}``, ``{{ ticket.number }}``)."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=250, blank=True)
    # None: shared with the whole tenant; else personal.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="macros")
    # [{"field": "status", "value": "pending"}, {"field": "add_tags", "value": ["refund"]}, ...]
    actions = models.JSONField(default=list, blank=True)
    # {"en": "Hi {{ requester.first_name }}, ...", "tr": "Merhaba ..."}
    reply = models.JSONField(default=dict, blank=True)
    reply_public = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        indexes = [models.Index(fields=["tenant", "owner", "is_active"], name="macro_tenant_owner")]

    def __str__(self) -> str:
        return self.name


class SavedView(TenantOwned):
    """A ticket list: conditions, columns and sort; shared (owner null) or personal."""

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="ticket_views")
    conditions = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    # [{"field": "sla_next_due_at", "direction": "asc"}]
    sort = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    key = models.SlugField(max_length=64, blank=True, help_text=_("Set on the defaults every tenant starts with."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("view")
        verbose_name_plural = _("views")
        indexes = [models.Index(fields=["tenant", "owner", "is_active", "position"], name="view_tenant_owner")]

    def __str__(self) -> str:
        return self.name
