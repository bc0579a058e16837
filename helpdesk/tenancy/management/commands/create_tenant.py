"""``manage.py create_tenant``: an operator creates a tenant and its owner."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from helpdesk.tenancy.services import tenant_create


def validation_messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(str(m) for m in messages)}"
                         for field, messages in exc.message_dict.items())
    return " ".join(str(m) for m in exc.messages)


class Command(BaseCommand):
    help = "Create a tenant with its owner (an existing user with that email, or a new one)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Sub-domain: <slug>.BASE_DOMAIN")
        parser.add_argument("--name", required=True, help="Company name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", default=None,
                            help="Password of a new owner (not needed when the user exists)")
        parser.add_argument("--owner-name", default="", help="Full name of a new owner")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Istanbul")
        parser.add_argument("--locale", default=settings.LANGUAGE_CODE,
                            choices=[code for code, _name in settings.LANGUAGES])

    def handle(self, *args, slug, name, owner_email, owner_password, owner_name, timezone, locale, **options):
        slug = slug.strip().lower()
        owner_email = owner_email.strip()
        try:
            validate_email(owner_email)
        except ValidationError as exc:
            raise CommandError(f"--owner-email: {validation_messages(exc)}") from exc
        User = get_user_model()
        existing = User.objects.filter(email__iexact=owner_email).first()
        if existing is None:
            if not owner_password:
                raise CommandError(f"{owner_email} has no account yet: give --owner-password.")
            try:
                validate_password(owner_password, User(email=owner_email, full_name=owner_name))
            except ValidationError as exc:
                raise CommandError(f"--owner-password: {validation_messages(exc)}") from exc
        try:
            tenant = tenant_create(slug=slug, name=name, owner_email=owner_email, owner_password=owner_password,
                                   owner_name=owner_name, timezone_name=timezone, default_locale=locale)
        except ValidationError as exc:
            raise CommandError(validation_messages(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.slug!r} ({tenant.name})."))
        if existing is not None:
            self.stdout.write(f"Owner: {existing.email} (existing account, password unchanged)")
        else:
            self.stdout.write(f"Owner: {owner_email.lower()}")
        self.stdout.write(f"Console: {tenant.absolute_url('/console/')}")
