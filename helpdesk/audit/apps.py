from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "helpdesk.audit"
    label = "audit"
    verbose_name = "Audit log"
