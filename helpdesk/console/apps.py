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
        nav.register(key="integrations", label=_("Customer data"), url_name="console:integrations",
                     capability=Cap.SETTINGS_MANAGE, icon="link", order=850)
        nav.register(key="contacts", label=_("Customers"), url_name="console:contacts",
                     capability=Cap.CONTACTS_VIEW, icon="users", order=20)
        # Settings live in the tenant-scoped admin until console settings pages exist.
        nav.register(key="administration", label=_("Administration"), url_name="admin:index",
                     capability=Cap.ADMIN_SITE, icon="settings", order=900)
