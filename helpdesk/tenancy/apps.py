from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenancyConfig(AppConfig):
    name = "helpdesk.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from helpdesk.tenancy import rls

        post_migrate.connect(rls.post_migrate_apply, dispatch_uid="tenancy-rls")
