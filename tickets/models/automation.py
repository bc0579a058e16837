"""Triggers (on ticket events), time-based automations, and agent notifications."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned


class Trigger(TenantOwned):
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=250, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Event types that run it: ["ticket.created", "ticket.updated", "ticket.message_added"].
    events = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    once_per_ticket = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")
        indexes = [models.Index(fields=["tenant", "is_active", "position"], name="trigger_tenant_pos")]

    def __str__(self) -> str:
        return self.name


class TriggerRun(TenantOwned):
    """A trigger fired on a ticket: the loop guard and the once-per-ticket record."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="trigger_runs")
    event_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "trigger", "ticket"], name="triggerrun_tenant")]


class Automation(TenantOwned):
    """Hourly, time-based rules: "pending for 3 days → remind the customer"."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=250, blank=True)
    position = models.PositiveIntegerField(default=0)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("automation")
        verbose_name_plural = _("automations")

    def __str__(self) -> str:
        return self.name


class AutomationRun(TenantOwned):
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="automation_runs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "automation", "ticket"], name="automationrun_once")]


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("A ticket was assigned to me")
    MENTIONED = "mentioned", _("I was mentioned in a note")
    FOLLOWED_REPLY = "followed_reply", _("A ticket I follow got a reply")
    SLA_WARNING = "sla_warning", _("An SLA target is about to be missed")
    SLA_BREACH = "sla_breach", _("An SLA target was missed")
    # A trigger's or automation's "notify" action (tickets.automation.actions).
    RULE = "rule", _("A trigger or automation notified me")
    # The help center's weekly content-health notice to article owners (knowledge.services.health).
    KB_HEALTH = "kb_health", _("Help-center articles I own need attention")


class Notification(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notifications")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "read_at", "-created_at"], name="notification_tenant_user")]


class NotificationPreference(TenantOwned):
    """Per person and kind: in the console and/or by email (defaults: both on)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    in_console = models.BooleanField(default=True)
    by_email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "kind"], name="notificationpref_unique")]
