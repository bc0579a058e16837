from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "helpdesk.api"
    label = "hdapi"
    verbose_name = "API"
