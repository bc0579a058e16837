from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "helpdesk.events"
    label = "events"
    verbose_name = _("Events and webhooks")

    def ready(self) -> None:
        from helpdesk.events import types  # noqa: F401 - registers the core's event types
        from helpdesk.events.dispatch import register_core_consumers

        register_core_consumers()
