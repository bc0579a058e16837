"""factory_boy factories. Tenant-owned factories take ``tenant`` as a SubFactory and
create inside that tenant's scope (the row-level-security policy checks inserts too)."""
from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from helpdesk.audit.models import AuditEntry
from helpdesk.calendars.models import BusinessCalendar, Holiday
from helpdesk.events.models import Event, WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from helpdesk.people.models import (
    Contact,
    ContactIdentity,
    CustomerDataIntegration,
    IdentityKind,
    ImportJob,
    ImportKind,
    Organization,
    Team,
    TeamMember,
)
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import ApiKey, Membership, Tenant
from helpdesk.tenancy.roles import Role

PASSWORD = "correct horse battery"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant{n}")
    name = factory.LazyAttribute(lambda o: f"{o.slug.title()} Ltd")
    timezone = "Europe/Istanbul"
    default_locale = "en"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    tenant = factory.SubFactory(TenantFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_scope(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(TenantOwnedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.AGENT


class OrganizationFactory(TenantOwnedFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Customer Co {n}")
    domains = factory.LazyAttribute(lambda o: [f"{o.name.lower().replace(' ', '')}.example"])


class TeamFactory(TenantOwnedFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class TeamMemberFactory(TenantOwnedFactory):
    class Meta:
        model = TeamMember

    team = factory.SubFactory(TeamFactory, tenant=factory.SelfAttribute("..tenant"))
    user = factory.SubFactory(UserFactory)


class ContactFactory(TenantOwnedFactory):
    class Meta:
        model = Contact

    name = factory.Faker("name")


class ContactIdentityFactory(TenantOwnedFactory):
    class Meta:
        model = ContactIdentity

    contact = factory.SubFactory(ContactFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.org")


class ImportJobFactory(TenantOwnedFactory):
    class Meta:
        model = ImportJob

    kind = ImportKind.CONTACTS
    filename = factory.Sequence(lambda n: f"customers-{n}.csv")
    source = "name,email\nAyşe Yılmaz,ayse@example.org\n"
    total_rows = 1


class CustomerDataIntegrationFactory(TenantOwnedFactory):
    class Meta:
        model = CustomerDataIntegration

    name = factory.Sequence(lambda n: f"Shop {n}")
    url = "https://shop.example.org/helpdesk"
    secret = "integration-secret"


def agent_in(tenant: Tenant, *, role: str = Role.AGENT, email: str | None = None):
    """A user with a membership of ``role`` in ``tenant``."""
    user = UserFactory(**({"email": email} if email else {}))
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


class ApiKeyFactory(TenantOwnedFactory):
    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"Integration {n}")
    prefix = factory.Sequence(lambda n: f"f{n:011x}")
    key_hash = factory.LazyFunction(lambda: "0" * 64)
    scopes = factory.LazyFunction(lambda: ["tickets:read"])


class AuditEntryFactory(TenantOwnedFactory):
    class Meta:
        model = AuditEntry

    action = "contact.updated"
    actor_label = "Someone"
    object_repr = "A contact"


class EventFactory(TenantOwnedFactory):
    class Meta:
        model = Event

    type = "tenant.created"
    payload = factory.LazyFunction(dict)


class WebhookSubscriptionFactory(TenantOwnedFactory):
    class Meta:
        model = WebhookSubscription

    url = "https://hooks.example.com/helpdesk"
    events = factory.LazyFunction(lambda: ["*"])
    secret = factory.Sequence(lambda n: f"whsec-{n}")
    description = "Integration hook"


class WebhookDeliveryFactory(TenantOwnedFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory, tenant=factory.SelfAttribute("..tenant"))
    event = factory.SubFactory(EventFactory, tenant=factory.SelfAttribute("..tenant"))


class WebhookDeliveryAttemptFactory(TenantOwnedFactory):
    class Meta:
        model = WebhookDeliveryAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory, tenant=factory.SelfAttribute("..tenant"))
    number = 1
    started_at = factory.LazyFunction(lambda: datetime.datetime.now(datetime.timezone.utc))
    response_status = 500
    response_body = "Internal error at the receiver"


class BusinessCalendarFactory(TenantOwnedFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Office hours {n}")
    timezone = "Europe/Istanbul"
    weekly_hours = factory.LazyFunction(lambda: {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})


class HolidayFactory(TenantOwnedFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory, tenant=factory.SelfAttribute("..tenant"))
    date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    name = "New Year"
