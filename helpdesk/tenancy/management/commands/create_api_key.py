"""``manage.py create_api_key``: an operator issues an API key; the key is the last line printed."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import ALL_SCOPES
from helpdesk.tenancy.services import api_key_create


class Command(BaseCommand):
    help = ("Create an API key for a tenant. The key is shown once: it is printed alone on the last "
            "line of standard output (KEY=$(manage.py create_api_key ... | tail -n 1)).")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--name", required=True, help="What the key is for")
        parser.add_argument("--scopes", nargs="+", default=None, metavar="SCOPE",
                            help=f"Default: every scope. One or more of: {', '.join(sorted(ALL_SCOPES))}")

    def handle(self, *args, tenant, name, scopes, **options):
        slug = tenant.strip().lower()
        tenant_obj = Tenant.objects.filter(slug=slug).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug {slug!r}.")
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")
        if scopes is not None:
            scopes = [scope.strip() for item in scopes for scope in item.split(",") if scope.strip()]
            unknown = sorted(set(scopes) - ALL_SCOPES)
            if unknown or not scopes:
                raise CommandError(f"Unknown scope(s): {', '.join(unknown) or '(none given)'}. "
                                   f"Valid scopes: {', '.join(sorted(ALL_SCOPES))}")
        key, raw = api_key_create(tenant=tenant_obj, name=name, scopes=scopes)
        if not tenant_obj.is_active:
            self.stderr.write(self.style.WARNING(f"Tenant {slug!r} is inactive: the key works once it is active."))
        # Context on stderr, so standard output is the key alone.
        self.stderr.write(f"API key {key.name!r} for {tenant_obj.slug!r}, scopes: {' '.join(key.scopes)}")
        self.stderr.write("Shown once; store it now. Use it as: Authorization: Bearer <key>")
        self.stdout.write(raw)
