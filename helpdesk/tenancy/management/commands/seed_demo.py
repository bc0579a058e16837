"""``manage.py seed_demo``: load the demo tenant (idempotent). The run command calls it."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from helpdesk.tenancy.demo import DEMO_LOGINS, DEMO_SLUG, demo_build, demo_password, demo_tenant
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import Role


class Command(BaseCommand):
    help = ("Create the demo tenant 'demo' with members in every role, teams, customers and an API key. "
            "Does nothing when it exists. Password of every demo login: $DEMO_PASSWORD or demo-password-1.")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Seed only when the database has no tenant at all (what the run command does)")

    def handle(self, *args, if_empty: bool = False, **options):
        existing = demo_tenant()
        if existing is not None:
            self.stdout.write(f"The demo tenant {DEMO_SLUG!r} exists already: nothing to do.")
            self._print_logins(existing, password_known=False)
            return
        if if_empty and Tenant.objects.exists():
            self.stdout.write("The database has tenants already: not loading the demo tenant.")
            return
        demo = demo_build(password=demo_password())
        self.stdout.write(self.style.SUCCESS(f"Created the demo tenant {DEMO_SLUG!r} ({demo.tenant.name})."))
        for note in demo.notes:
            self.stdout.write(note)
        self._print_logins(demo.tenant, password_known=True)
        self.stdout.write(f"API key (shown once, all scopes): {demo.api_key}")

    def _print_logins(self, tenant, *, password_known: bool) -> None:
        self.stdout.write(f"Console: {tenant.absolute_url('/console/')}")
        password = demo_password()
        if password_known:
            self.stdout.write(f"Demo logins (password: {password}):")
        else:
            self.stdout.write(f"Demo logins (password: {password} unless DEMO_PASSWORD was different when seeded):")
        labels = dict(Role.choices)
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.email:<22} {labels[login.role]}")
