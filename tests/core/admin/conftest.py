"""Two tenants with one row of every admin-managed model each, and admin clients."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from helpdesk.audit.services import audit_record
from helpdesk.events.models import WebhookDeliveryAttempt
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests import factories
from tests.channels_hub import factories as channel_factories
from tests.knowledge import factories as kb_factories
from tests.factories import PASSWORD, agent_in


@dataclass
class Rows:
    """One row of each admin-managed tenant-owned model, all marked with the tenant's slug."""

    membership: object
    team: object
    team_member: object
    organization: object
    contact: object
    identity: object
    api_key: object
    audit_entry: object
    event: object
    webhook: object
    delivery: object
    attempt: object
    calendar: object
    holiday: object
    integration: object = None
    import_job: object = None
    channel: object = None
    inbound_email: object = None
    outbound_email: object = None
    thread_ref: object = None
    kb_settings: object = None
    kb_category: object = None
    kb_section: object = None
    kb_article: object = None
    kb_label: object = None
    kb_vote: object = None
    kb_location: object = None

    def all(self) -> list:
        return list(vars(self).values())


def make_rows(tenant, suffix: str = "") -> Rows:
    """Rows marked with the tenant's slug (``suffix`` keeps names unique when called again)."""
    slug = tenant.slug
    member = agent_in(tenant, role=Role.AGENT, email=f"member{suffix}@{slug}.test")
    with tenant_scope(tenant):
        membership = member.memberships.get(tenant=tenant)
    team = factories.TeamFactory(tenant=tenant, name=f"Team {slug}{suffix}")
    team_member = factories.TeamMemberFactory(tenant=tenant, team=team, user=member)
    organization = factories.OrganizationFactory(tenant=tenant, name=f"Org {slug}{suffix}")
    contact = factories.ContactFactory(tenant=tenant, name=f"Contact {slug}{suffix}", organization=organization)
    identity = factories.ContactIdentityFactory(tenant=tenant, contact=contact, value=f"person{suffix}@{slug}.example")
    api_key = factories.ApiKeyFactory(tenant=tenant, name=f"Key {slug}{suffix}")
    with tenant_scope(tenant):
        audit_entry = audit_record(tenant=tenant, action=f"probe.{slug}", actor_label=f"Auditor {slug}")
    event = factories.EventFactory(tenant=tenant, type=f"probe.{slug}")
    webhook = factories.WebhookSubscriptionFactory(
        tenant=tenant, url=f"https://hooks.{slug}.example/in", secret=f"whsec-{slug}-0123456789abcdef")
    delivery = factories.WebhookDeliveryFactory(tenant=tenant, subscription=webhook, event=event, status="failed",
                                                error=f"boom {slug}")
    with tenant_scope(tenant):
        attempt = WebhookDeliveryAttempt.objects.create(tenant=tenant, delivery=delivery, number=1,
                                                        started_at=timezone.now(), error=f"attempt {slug}")
    calendar = factories.BusinessCalendarFactory(tenant=tenant, name=f"Hours {slug}{suffix}")
    holiday = factories.HolidayFactory(tenant=tenant, calendar=calendar, name=f"Holiday {slug}{suffix}")
    integration = factories.CustomerDataIntegrationFactory(
        tenant=tenant, name=f"Shop {slug}{suffix}", url=f"https://shop.{slug}.example/helpdesk",
        secret=f"shopsec-{slug}-0123456789abcdef")
    import_job = factories.ImportJobFactory(tenant=tenant, filename=f"customers-{slug}{suffix}.csv")
    channel = channel_factories.ChannelFactory(tenant=tenant, name=f"Mailbox {slug}{suffix}",
                                               address=f"support{suffix}@{slug}.example")
    inbound_email = channel_factories.InboundEmailFactory(tenant=tenant, channel=channel, subject=f"Mail {slug}{suffix}",
                                                          sender=f"jane@{slug}.example")
    outbound_email = channel_factories.OutboundEmailFactory(tenant=tenant, channel=channel,
                                                            subject=f"Reply {slug}{suffix}")
    thread_ref = channel_factories.EmailThreadRefFactory(tenant=tenant, channel=channel,
                                                         message_id=f"ref-{slug}{suffix}@example.org")
    kb_settings = kb_factories.HelpCenterSettingsFactory(tenant=tenant)
    kb_article = kb_factories.ArticleFactory(tenant=tenant)
    kb_label = kb_factories.LabelFactory(tenant=tenant, name=f"label {slug}{suffix}")
    kb_vote = kb_factories.ArticleVoteFactory(tenant=tenant, article=kb_article, comment=f"Vote {slug}{suffix}")
    kb_location = kb_factories.LocationFactory(tenant=tenant, name=f"Location {slug}{suffix}",
                                               slug=f"location-{slug}{suffix}".replace("_", "-"))
    return Rows(membership, team, team_member, organization, contact, identity, api_key, audit_entry, event,
                webhook, delivery, attempt, calendar, holiday, integration=integration, import_job=import_job,
                channel=channel, inbound_email=inbound_email, outbound_email=outbound_email, thread_ref=thread_ref,
                kb_settings=kb_settings, kb_category=kb_article.section.category, kb_section=kb_article.section,
                kb_article=kb_article, kb_label=kb_label, kb_vote=kb_vote, kb_location=kb_location)


@pytest.fixture
def rows_a(tenant) -> Rows:
    return make_rows(tenant)


@pytest.fixture
def rows_b(other_tenant) -> Rows:
    return make_rows(other_tenant)


@pytest.fixture
def tenant_admin(tenant):
    return agent_in(tenant, role=Role.ADMIN, email="admin@acme.test")


@pytest.fixture
def admin_client(tenant_admin) -> Client:
    """Tenant A's administrator on A's host."""
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(tenant_admin)
    return client


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(email="root@platform.test", password=PASSWORD)


@pytest.fixture
def super_client(superuser) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(superuser)
    return client


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent)
    return client
