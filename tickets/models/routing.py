"""Who can take work: agents' availability, capacity and skills; teams' routing mode."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.people.models import Team
from helpdesk.tenancy.models import TenantOwned


class AgentStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profiles")
    status = models.CharField(max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    capacity = models.PositiveIntegerField(_("capacity"), default=20, help_text=_("Open tickets at most."))
    skills = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="agentprofile_unique")]


class RoutingMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class TeamRouting(TenantOwned):
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(max_length=16, choices=RoutingMode.choices, default=RoutingMode.MANUAL)
    reassign_on_away = models.BooleanField(default=False)
    required_skills = models.JSONField(default=list, blank=True)
    last_assigned_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
