from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "helpdesk.console"
    label = "console"
    verbose_name = "Console"
