from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "helpdesk.console"
    label = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from helpdesk.console import nav
        from helpdesk.tenancy.roles import Cap

        nav.register(key="home", label=_("Home"), url_name="console:home", capability=Cap.CONSOLE_ACCESS,
                     icon="home", order=0)
        # Settings live in the tenant-scoped admin until console settings pages exist.
        nav.register(key="administration", label=_("Administration"), url_name="admin:index",
                     capability=Cap.ADMIN_SITE, icon="settings", order=900)
