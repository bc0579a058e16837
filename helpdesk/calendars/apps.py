from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "helpdesk.calendars"
    label = "calendars"
    verbose_name = "Business hours"

    def ready(self) -> None:
        from helpdesk.calendars.services import calendar_create_default
        from helpdesk.tenancy.services import register_tenant_defaults

        register_tenant_defaults(calendar_create_default)
