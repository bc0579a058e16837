from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "helpdesk.events"
    label = "events"
    verbose_name = "Events and webhooks"
