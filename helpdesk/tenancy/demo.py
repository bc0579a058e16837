"""The demo tenant that ``seed_demo`` (and so the run command) loads into an empty database.

The core builds the tenant, its people and an API key; every app adds its own demo data
(tickets, articles, surveys…) by registering a seeder from its ``AppConfig.ready()``, the
way apps register tenant defaults, so the core imports no app::

    from helpdesk.tenancy.demo import register_demo_seeder

    @register_demo_seeder(order=200)
    def seed_tickets(demo: DemoTenant) -> None:
        ticket_create(tenant=demo.tenant, requester=demo.contacts[0], ...)

Seeders run in ``order`` inside one transaction and inside the demo tenant's scope, so a
failure leaves nothing half-made. They may add lines to ``demo.notes`` for the summary.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from helpdesk.people.identities import normalize_identity, normalize_phone
from helpdesk.people.models import Contact, ContactIdentity, IdentityKind, Organization, Team
from helpdesk.people.services import team_create, team_member_add
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create, membership_add, tenant_create

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Support Co"
DEMO_TIMEZONE = "Europe/Istanbul"
DEFAULT_DEMO_PASSWORD = "demo-password-1"


def demo_password() -> str:
    """The password of every demo login: ``DEMO_PASSWORD`` or ``demo-password-1``."""
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


@dataclass(frozen=True)
class DemoLogin:
    email: str
    full_name: str
    role: str


# The people who can sign in to the demo console: (email, name, role).
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("owner@demo.test", "Olivia Owner", Role.OWNER),
    DemoLogin("agent@demo.test", "Ali Agent", Role.AGENT),
    DemoLogin("billing@demo.test", "Berk Billing", Role.AGENT),
    DemoLogin("light@demo.test", "Leyla Light", Role.LIGHT_AGENT),
    DemoLogin("qa@demo.test", "Quinn Reviewer", Role.QA_REVIEWER),
    DemoLogin("analyst@demo.test", "Ana Analyst", Role.ANALYST),
)


@dataclass
class DemoTenant:
    """What the core seeded; app seeders read it and add to it."""

    tenant: Tenant
    password: str
    users: dict[str, object] = field(default_factory=dict)  # by email
    teams: dict[str, Team] = field(default_factory=dict)  # by name
    organizations: dict[str, Organization] = field(default_factory=dict)  # by name
    contacts: list[Contact] = field(default_factory=list)
    api_key: str = ""
    notes: list[str] = field(default_factory=list)

    def user(self, email: str):
        return self.users[email]


Seeder = Callable[[DemoTenant], None]
_SEEDERS: list[tuple[int, str, Seeder]] = []


def register_demo_seeder(fn: Seeder | None = None, *, order: int = 100):
    """Register ``fn(demo)`` to add demo data. Lower ``order`` runs first (core people: 0)."""

    def register(seeder: Seeder) -> Seeder:
        key = f"{seeder.__module__}.{seeder.__qualname__}"
        if all(existing != key for _order, existing, _fn in _SEEDERS):  # ready() may run twice
            _SEEDERS.append((order, key, seeder))
            _SEEDERS.sort(key=lambda item: (item[0], item[1]))
        return seeder

    return register(fn) if fn is not None else register


def demo_tenant() -> Tenant | None:
    return Tenant.objects.filter(slug=DEMO_SLUG).first()


@transaction.atomic
def demo_build(*, password: str | None = None) -> DemoTenant:
    """Create the demo tenant and run every registered seeder. Precondition: no ``demo`` tenant."""
    password = password or demo_password()
    owner = DEMO_LOGINS[0]
    tenant = tenant_create(slug=DEMO_SLUG, name=DEMO_NAME, owner_email=owner.email, owner_password=password,
                           owner_name=owner.full_name, timezone_name=DEMO_TIMEZONE, default_locale="en")
    demo = DemoTenant(tenant=tenant, password=password)
    with tenant_scope(tenant):
        for order, _key, seeder in list(_SEEDERS):
            seeder(demo)
    return demo


# --- the core's own seeders --------------------------------------------------------------

@register_demo_seeder(order=0)
def seed_people(demo: DemoTenant) -> None:
    """Members in every role, two teams, customer organizations and contacts.

    Organizations and contacts are created directly until people gets their services
    (the channels issue); switch to those then.
    """
    User = get_user_model()
    tenant = demo.tenant
    for login in DEMO_LOGINS:
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = User.objects.create_user(email=login.email, password=demo.password, full_name=login.full_name,
                                            locale="en")
        if login.role != Role.OWNER:  # tenant_create made the owner's membership
            membership_add(tenant=tenant, user=user, role=login.role)
        demo.users[login.email] = user

    # tenant_create made a "Support" team holding the owner (people's tenant defaults).
    teams = {
        "Support": ("First-line support for every channel.", [
            ("agent@demo.test", True), ("light@demo.test", False),
        ]),
        "Billing": ("Invoices, refunds and subscriptions.", [
            ("billing@demo.test", True), ("agent@demo.test", False),
        ]),
    }
    for name, (description, members) in teams.items():
        team = Team.objects.filter(name=name).first() or team_create(tenant=tenant, name=name,
                                                                     description=description)
        for email, is_lead in members:
            team_member_add(tenant=tenant, team=team, user=demo.user(email), is_lead=is_lead)
        demo.teams[name] = team

    for name, domains in (("Northwind Traders", ["northwind.example"]),
                          ("Anadolu Tekstil A.Ş.", ["anadolutekstil.example"])):
        demo.organizations[name] = Organization.objects.create(tenant=tenant, name=name, domains=domains)

    contacts = [
        # name, organization, locale, timezone, identities (kind, provider, value)
        ("Nancy Davolio", "Northwind Traders", "en", "America/New_York", [
            (IdentityKind.EMAIL, "", "nancy@northwind.example"),
            (IdentityKind.PHONE, "", "+1 (206) 555-0100"),
            (IdentityKind.SOCIAL, "twitter", "@nancyd"),
        ]),
        ("Andrew Fuller", "Northwind Traders", "en", "America/New_York", [
            (IdentityKind.EMAIL, "", "andrew@northwind.example"),
        ]),
        ("Ayşe Yılmaz", "Anadolu Tekstil A.Ş.", "tr", "Europe/Istanbul", [
            (IdentityKind.EMAIL, "", "ayse@anadolutekstil.example"),
            (IdentityKind.PHONE, "", "0532 123 45 67"),
            (IdentityKind.SOCIAL, "whatsapp", "+905321234567"),
        ]),
        ("Jamie Walker", None, "en", "Europe/London", [
            (IdentityKind.EMAIL, "", "jamie.walker@mail.example"),
            (IdentityKind.SOCIAL, "instagram", "@jamie.walks"),
            (IdentityKind.EXTERNAL, "shop", "cust-1042"),
        ]),
    ]
    for name, org_name, locale, tz, identities in contacts:
        contact = Contact.objects.create(tenant=tenant, name=name, locale=locale, timezone=tz,
                                         organization=demo.organizations.get(org_name))
        seen_kinds: set[str] = set()
        for kind, provider, value in identities:
            ContactIdentity.objects.create(
                tenant=tenant, contact=contact, kind=kind, provider=provider,
                value=_normalize(kind, provider, value, region="TR" if locale == "tr" else "US"),
                is_primary=kind not in seen_kinds,
            )
            seen_kinds.add(kind)
        demo.contacts.append(contact)


def _normalize(kind: str, provider: str, value: str, *, region: str) -> str:
    if kind == IdentityKind.SOCIAL and provider == "whatsapp":
        return normalize_phone(value)  # WhatsApp handles are phone numbers: E.164 too
    return normalize_identity(kind, value, default_region=region)


@register_demo_seeder(order=10)
def seed_api_key(demo: DemoTenant) -> None:
    _key, raw = api_key_create(tenant=demo.tenant, name="Demo integration",
                               created_by=demo.user(DEMO_LOGINS[0].email))
    demo.api_key = raw
