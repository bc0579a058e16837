"""``migrate`` that runs unscoped: data migrations see every tenant's rows (RLS bypass)."""
from django.core.management.commands.migrate import Command as MigrateCommand

from helpdesk.tenancy.context import dangerously_unscoped


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with dangerously_unscoped():
            return super().handle(*args, **options)
