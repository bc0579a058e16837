from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "helpdesk.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from helpdesk.people.services import team_create_default
        from helpdesk.tenancy.services import register_tenant_defaults

        register_tenant_defaults(team_create_default)
