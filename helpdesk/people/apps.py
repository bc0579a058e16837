from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "helpdesk.people"
    label = "people"
    verbose_name = "People"
