"""A new tenant's SLA policy: "Standard" on the tenant's default business calendar.

Targets are business minutes per priority; the policy has no conditions, so it applies
to every ticket until the tenant adds more specific policies before it.
"""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.calendars.services import calendar_create_default
from helpdesk.tenancy.models import Tenant
from tickets.models import Metric, Priority, SlaPolicy, SlaTarget
from tickets.sla.policy_cache import sla_policies_changed

DEFAULT_PAUSE_STATUSES = ["pending", "on_hold"]
DEFAULT_WARNING_MINUTES = 15
REPLY_TARGETS = {Priority.URGENT: 60, Priority.HIGH: 240, Priority.NORMAL: 480, Priority.LOW: 1440}
RESOLUTION_TARGETS = {Priority.URGENT: 480, Priority.HIGH: 1440, Priority.NORMAL: 2880, Priority.LOW: 5760}
DEFAULT_TARGETS: dict[str, dict[str, int]] = {
    Metric.FIRST_REPLY: REPLY_TARGETS,
    Metric.NEXT_REPLY: REPLY_TARGETS,
    Metric.RESOLUTION: RESOLUTION_TARGETS,
}


def sla_defaults_create(tenant: Tenant) -> SlaPolicy | None:
    """Create the default policy (in the tenant's scope, called by ``tenant_create``).

    Does nothing when the tenant already has a policy, so running it twice is harmless.
    """
    if SlaPolicy.objects.filter(tenant=tenant).exists():
        return None
    calendar = BusinessCalendar.objects.filter(tenant=tenant, is_default=True).first()
    if calendar is None:
        calendar = calendar_create_default(tenant)
    with translation.override(tenant.default_locale):
        name = _("Standard")
        description = _("Default targets in business hours; paused while waiting on the customer or a third party.")
    policy = SlaPolicy.objects.create(
        tenant=tenant, name=name, description=description, position=0, conditions={"all": [], "any": []},
        calendar=calendar, pause_statuses=list(DEFAULT_PAUSE_STATUSES),
        warning_minutes=DEFAULT_WARNING_MINUTES,
    )
    SlaTarget.objects.bulk_create([
        SlaTarget(tenant=tenant, policy=policy, metric=metric, priority=priority, minutes=minutes)
        for metric, by_priority in DEFAULT_TARGETS.items()
        for priority, minutes in by_priority.items()
    ])
    sla_policies_changed(tenant.pk)  # bulk_create sends no signal
    return policy
