"""``manage.py kb_search_reindex [--tenant SLUG]``: rebuild the help center's search documents
(after restoring a database, or when the search's text configuration changed). PostgreSQL
only; embedded mode has no search documents."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant
from knowledge.search.indexing import tenant_reindex


class Command(BaseCommand):
    help = "Rebuild the help-center search documents of one tenant (--tenant) or of every tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Tenant slug (default: every tenant)")

    def handle(self, *args, tenant=None, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Embedded mode (SQLite) searches the articles directly: nothing to rebuild.")
            return
        if tenant:
            found = Tenant.objects.filter(slug=tenant.strip().lower()).first()
            if found is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            with tenant_scope(found), transaction.atomic():
                count = tenant_reindex(tenant_id=found.pk)
        else:
            with dangerously_unscoped(), transaction.atomic():  # an operator's rebuild of every tenant
                count = tenant_reindex(tenant_id=None)
        self.stdout.write(f"{count} search documents written.")
