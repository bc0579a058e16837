from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    label = "knowledge"
    verbose_name = _("Help center")

    def ready(self) -> None:
        from helpdesk.events.types import register_event_type

        register_event_type("kb.category.created", _("A help-center category was created."), push_to_agents=False)
        register_event_type("kb.category.updated", _("A help-center category was changed."), push_to_agents=False)
        register_event_type("kb.category.deleted", _("A help-center category was deleted."), push_to_agents=False)
        register_event_type("kb.section.created", _("A help-center section was created."), push_to_agents=False)
        register_event_type("kb.section.updated", _("A help-center section was changed or moved."),
                            push_to_agents=False)
        register_event_type("kb.section.deleted", _("A help-center section was deleted."), push_to_agents=False)
        register_event_type("kb.article.created", _("A help-center article was created."), push_to_agents=False)
        register_event_type("kb.article.updated", _("A help-center article or one of its translations changed."),
                            push_to_agents=False)
        register_event_type("kb.article.published", _("A translation of a help-center article was published."),
                            push_to_agents=False)
        register_event_type("kb.article.unpublished", _("A translation of a help-center article was archived."),
                            push_to_agents=False)
        register_event_type("kb.article.deleted", _("A help-center article was deleted."), push_to_agents=False)
        register_event_type("kb.article.voted", _("A reader voted whether an article helped."),
                            push_to_agents=False)

        from helpdesk.tenancy.services import register_tenant_defaults
        from knowledge import demo, tasks  # noqa: F401 - registers the demo seeder and the Celery tasks
        from knowledge.defaults import help_center_defaults_create

        register_tenant_defaults(help_center_defaults_create)
        from knowledge import timeline

        timeline.register()  # the contact's searches and article views on the contact timeline

        from knowledge.views.editor_nav import register_nav

        register_nav()  # "Knowledge base" in the console's side navigation

        from knowledge import locations

        locations.register()

        from knowledge.reports.setup import listening_ready

        listening_ready()  # gap events and consumer, "Help center reports" in the console, tasks
