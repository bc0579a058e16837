"""Triggers, time-based automations, notifications and routing.

``register()`` is called once from ``TicketsConfig.ready()``: it adds the event consumers
(triggers, notifications, reassign-on-away), the routing ticket hook (order 10), the
event types this package emits, the tenant defaults, and imports the Celery tasks
(``tickets.tasks_automation`` is not found by autodiscovery, which looks for
``tickets.tasks``).
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

_registered = False

# Consumer names are stored on events (``Event.handled_by``): never rename them.
TRIGGERS_CONSUMER = "tickets.triggers"
NOTIFICATIONS_CONSUMER = "tickets.notifications"
AGENT_AWAY_CONSUMER = "tickets.reassign_on_away"
PROBLEM_CONSUMER = "tickets.problem_incidents"
AGENT_STATUS_EVENT = "agent.availability_changed"


def register() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    from helpdesk.console import nav
    from helpdesk.events.registry import register_consumer
    from helpdesk.events.types import register_event_type
    from helpdesk.tenancy.roles import Cap
    from helpdesk.tenancy.services import register_tenant_defaults
    from tickets import tasks_automation  # noqa: F401 - registers the Celery tasks
    from tickets.automation.actions import EMAIL_REQUESTED_EVENT, WEBHOOK_EVENT
    from tickets.automation.defaults import automation_defaults_create
    from tickets.automation.notifications import notification_consumer
    from tickets.automation.routing_service import agent_status_consumer, routing_hook
    from tickets.automation.triggers import TRIGGER_EVENTS, trigger_consumer
    from tickets.hooks import register_ticket_hook
    from tickets.services.merge import problem_solved_consumer

    register_event_type(WEBHOOK_EVENT, _("A trigger or automation called the webhooks (its \"webhook\" action)."))
    register_event_type(EMAIL_REQUESTED_EVENT, _("A trigger or automation asked for an email to the requester."),
                        push_to_agents=False)
    register_consumer(TRIGGERS_CONSUMER, trigger_consumer, event_types=TRIGGER_EVENTS)
    register_consumer(NOTIFICATIONS_CONSUMER, notification_consumer,
                      event_types=("ticket.created", "ticket.updated", "ticket.message_added", "sla.warning",
                                   "sla.breach"))
    register_consumer(AGENT_AWAY_CONSUMER, agent_status_consumer, event_types=(AGENT_STATUS_EVENT,))
    register_consumer(PROBLEM_CONSUMER, problem_solved_consumer, event_types=("ticket.updated",))
    register_ticket_hook("routing", routing_hook, order=10)
    register_tenant_defaults(automation_defaults_create)
    nav.register(key="notifications", label=_("Notifications"), url_name="notifications:list",
                 capability=Cap.CONSOLE_ACCESS, icon="bell", order=90)
