from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from helpdesk.events.types import register_event_type

        register_event_type("ticket.created", _("A ticket was created."))
        register_event_type("ticket.updated", _("A ticket's properties changed (the payload lists the changes)."))
        register_event_type("ticket.message_added", _("A reply, note or customer message was added to a ticket."))
        register_event_type("ticket.merged", _("A ticket was merged into another one."))
        register_event_type("ticket.side_message_added", _("A message was added to a side conversation."))
        register_event_type("agent.availability_changed", _("An agent's status, capacity or skills changed."))
        register_event_type("sla.warning", _("An SLA target of a ticket is about to be breached."))
        register_event_type("sla.breach", _("An SLA target of a ticket was breached."))
        register_event_type("notification.created", _("A notification was created for an agent."),
                            push_to_agents=False)

        from tickets import demo, tasks  # noqa: F401 - registers the demo seeder and the Celery tasks
        from tickets import sla

        sla.register()  # the SLA hook (order 50), its events, the default policy, the sweep task
        from tickets import productivity

        productivity.register()  # default views and macros of new tenants
        from tickets import automation

        automation.register()  # triggers, notifications, routing hook, automation defaults
        from tickets.consumers import register_ticket_push
        from tickets.views import register_nav

        register_nav()  # "Tickets" in the console's side navigation
        from tickets import timeline

        timeline.register()  # tickets, CCs and the contact's messages on the contact timeline
        register_ticket_push()  # a ticket's committed changes to the pages showing it
