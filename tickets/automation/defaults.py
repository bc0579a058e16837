"""How a new tenant starts with triggers, automations and notifications (EN/TR by the
tenant's default language).

- Trigger "Notify the assignee of customer replies": active. It is what every team
  expects on day one and it only ever notifies agents.
- Automations "Pending for 3 days → remind the requester" and "Pending for 7 days →
  solved": shipped *inactive*. They write to customers and close out their cases, which
  each company decides for itself (wording, delays); and a tenant that imports old
  pending tickets would otherwise remind or solve all of them within the first hour.
  Activating them is one switch (API ``PATCH /automations/{id}/ {"is_active": true}``).
- Notification preferences: no rows are written. A missing row means "in the console and
  by email" (``notifications.DEFAULT_PREFERENCE``), so people who join later get the same
  defaults as the owner, and the table holds only the choices people made.
"""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from tickets.automation.automations import automation_create
from tickets.automation.triggers import trigger_create
from tickets.models import Automation, Trigger


def automation_defaults_create(tenant: Tenant) -> None:
    """Tenant defaults (``register_tenant_defaults``). Precondition: in ``tenant``'s scope.

    Idempotent: a tenant that already has triggers or automations keeps them as they are.
    """
    with translation.override(tenant.default_locale or "en"):
        if not Trigger.objects.filter(tenant=tenant).exists():
            trigger_create(
                tenant=tenant, actor=None, position=1,
                name=_("Notify the assignee of customer replies"),
                description=_("When the customer writes on an assigned ticket, tell the assignee."),
                events=["ticket.message_added"],
                conditions={"all": [
                    {"field": "message.kind", "operator": "is", "value": "public"},
                    {"field": "message.author", "operator": "is", "value": "customer"},
                    {"field": "is_assigned", "operator": "is", "value": True},
                ]},
                actions=[{"field": "notify", "value": {
                    "to": "assignee",
                    "text": _("{{ requester.name }} replied on ticket #{{ ticket.number }}: {{ ticket.subject }}"),
                }}],
            )
        if not Automation.objects.filter(tenant=tenant).exists():
            automation_create(
                tenant=tenant, actor=None, position=1, is_active=False,
                name=_("Pending for 3 days → remind the requester"),
                description=_("Ask the customer once whether they still need help."),
                conditions={"all": [
                    {"field": "status", "operator": "is", "value": "pending"},
                    {"field": "hours_since_status_changed", "operator": "gte", "value": 72},
                ]},
                actions=[{"field": "email_requester", "value": {
                    "subject": _("Re: {{ ticket.subject }} [#{{ ticket.number }}]"),
                    "body": _("Hello {{ requester.first_name }},\n\nwe are still waiting for your answer on "
                              "ticket #{{ ticket.number }} ({{ ticket.subject }}). Reply to this ticket when you "
                              "can; if we do not hear from you, we will consider it solved in a few days.\n\n"
                              "{{ tenant.name }}"),
                }}],
            )
            automation_create(
                tenant=tenant, actor=None, position=2, is_active=False,
                name=_("Pending for 7 days → solved"),
                description=_("Solve tickets whose requester has not answered for a week."),
                conditions={"all": [
                    {"field": "status", "operator": "is", "value": "pending"},
                    {"field": "hours_since_status_changed", "operator": "gte", "value": 168},
                    {"field": "is_assigned", "operator": "is", "value": True},
                ]},
                actions=[{"field": "status", "value": "solved"},
                         {"field": "add_tags", "value": ["auto_solved"]}],
            )
