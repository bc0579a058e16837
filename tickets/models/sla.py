"""SLA policies, their targets, and the per-ticket timers the sweep watches (SPEC.md §2)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.tenancy.models import TenantOwned, tenant_key


class Metric(models.TextChoices):
    FIRST_REPLY = "first_reply", _("First reply")
    NEXT_REPLY = "next_reply", _("Next reply")
    PERIODIC_UPDATE = "periodic_update", _("Periodic update")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(TenantOwned):
    """Matched in ``position`` order after every ticket change; the first match applies."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # {"all": [{"field", "operator", "value"}], "any": [...]} (tickets.conditions).
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    # None: calendar hours (every minute counts).
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="sla_policies")
    pause_statuses = models.JSONField(_("pause statuses"), default=list, blank=True)
    warning_minutes = models.PositiveIntegerField(_("warning lead time (minutes)"), default=15)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        indexes = [models.Index(fields=["tenant", "is_active", "position"], name="slapolicy_tenant_pos")]

    def __str__(self) -> str:
        return self.name


class SlaTarget(TenantOwned):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    priority = models.CharField(max_length=16)
    minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "policy", "metric", "priority"],
                                               name="slatarget_unique")]


class TimerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ACHIEVED = "achieved", _("Achieved")
    BREACHED = "breached", _("Breached")


class SlaTimer(TenantOwned):
    """One metric cycle of one ticket. ``due_at`` is null while paused.

    ``paused_spans`` keeps the paused instants (and ``paused_at`` the open one), so a change
    of policy, priority or calendar re-targets from ``started_at`` keeping what was paused.
    A breach is final for the cycle; a later fulfilment still records ``fulfilled_at``.
    """

    # The unique (tenant, ticket, metric, cycle) index serves tenant and ticket lookups.
    tenant = tenant_key(db_index=False)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_timers",
                               db_index=False)
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="timers")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    cycle = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=TimerStatus.choices, default=TimerStatus.ACTIVE)
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    # ``due_at`` minus the policy's warning lead time: stored so the sweep finds warnings
    # with a range scan of its own partial index (null while paused, like ``due_at``).
    warn_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Paused spans so far, [[start, end], ...] (ISO instants), for exact re-targeting.
    paused_spans = models.JSONField(default=list, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(null=True, blank=True,
                                                  help_text=_("Business (or calendar) seconds when it stopped."))

    class Meta:
        ordering = ["metric", "cycle"]
        verbose_name = _("SLA timer")
        verbose_name_plural = _("SLA timers")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "ticket", "metric", "cycle"], name="slatimer_unique_cycle"),
        ]
        indexes = [
            # The sweep: a range scan over what falls due, across tenants by design.
            models.Index(fields=["due_at"], name="slatimer_breach_due",
                         condition=Q(status="active", breached_at__isnull=True)),
            models.Index(fields=["warn_at"], name="slatimer_warn_due",
                         condition=Q(status="active", warned_at__isnull=True)),
            models.Index(fields=["tenant", "metric", "status", "started_at"], name="slatimer_tenant_report"),
        ]
