from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "helpdesk.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from helpdesk.people.services import team_create_default
        from helpdesk.tenancy.services import register_tenant_defaults

        register_tenant_defaults(team_create_default)

        from django.utils.translation import gettext_lazy as _

        from helpdesk.events.types import register_event_type

        for name, description in (
            ("contact.created", _("A contact (customer) was created.")),
            ("contact.updated", _("A contact's details or identities changed.")),
            ("contact.deleted", _("A contact was deleted.")),
            ("contact.merged", _("A contact was merged into another one (the payload names both).")),
            ("organization.created", _("An organization was created.")),
            ("organization.updated", _("An organization changed.")),
            ("organization.deleted", _("An organization was deleted.")),
        ):
            register_event_type(name, description, push_to_agents=False)
        from helpdesk.people import tasks  # noqa: F401 - registers the import task
