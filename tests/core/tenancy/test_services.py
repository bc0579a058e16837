import pytest
from django.core.exceptions import ValidationError

from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import ApiKey, Membership
from helpdesk.tenancy.roles import ALL_SCOPES, CAPABILITIES, Cap, Role, role_has, scope_granted
from helpdesk.tenancy.services import api_key_create, api_key_revoke, membership_add, tenant_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_tenant_create_makes_owner_membership_audit_and_event():
    tenant = tenant_create(slug="initech", name="Initech", owner_email="Boss@Initech.test", owner_password="pw-123456!")
    with tenant_scope(tenant):
        membership = Membership.objects.get()
        assert membership.role == Role.OWNER and membership.user.email == "boss@initech.test"
        assert membership.user.check_password("pw-123456!")
        assert AuditEntry.objects.filter(action="tenant.created").exists()
        assert Event.objects.filter(type="tenant.created").exists()


@pytest.mark.parametrize("slug", ["Bad Slug", "-x", "admin", "x" * 60, ""])
def test_tenant_create_refuses_bad_slugs(slug):
    with pytest.raises(ValidationError):
        tenant_create(slug=slug, name="N", owner_email="a@b.test", owner_password="pw-123456!")


def test_tenant_create_refuses_unknown_timezone():
    with pytest.raises(ValidationError):
        tenant_create(slug="tz", name="N", owner_email="a@b.test", timezone_name="Mars/Olympus")


def test_api_key_is_stored_hashed_and_shown_once(tenant):
    key, raw = api_key_create(tenant=tenant, name="CRM", scopes=["tickets:read"])
    assert raw.startswith(f"hk_{key.prefix}_")
    with tenant_scope(tenant):
        stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.scopes == ["tickets:read"]
    api_key_revoke(key=stored)
    with tenant_scope(tenant):
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    with pytest.raises(ValueError):
        api_key_create(tenant=tenant, name="bad", scopes=["everything"])


def test_membership_add_changes_role_and_audits(tenant):
    user = UserFactory()
    membership_add(tenant=tenant, user=user, role=Role.AGENT)
    membership_add(tenant=tenant, user=user, role=Role.ADMIN)
    with tenant_scope(tenant):
        assert Membership.objects.get(user=user).role == Role.ADMIN
        assert AuditEntry.objects.filter(action="membership.changed").count() == 1


def test_roles_are_default_deny_and_light_agents_cannot_reply():
    assert set(CAPABILITIES) == set(Role.values)
    assert role_has(Role.LIGHT_AGENT, Cap.TICKETS_NOTE)
    assert not role_has(Role.LIGHT_AGENT, Cap.TICKETS_REPLY)
    assert not role_has(Role.ANALYST, Cap.TICKETS_VIEW)
    assert role_has(Role.ANALYST, Cap.REPORTS_VIEW)
    assert not role_has(None, Cap.CONSOLE_ACCESS)
    assert not role_has("unknown", Cap.CONSOLE_ACCESS)
    assert role_has(Role.OWNER, Cap.BILLING_MANAGE) and not role_has(Role.ADMIN, Cap.BILLING_MANAGE)


def test_write_scope_implies_read_only_for_its_area():
    assert scope_granted(["tickets:write"], "tickets:read")
    assert not scope_granted(["tickets:read"], "tickets:write")
    assert not scope_granted(["contacts:write"], "tickets:read")
    assert "account:read" in ALL_SCOPES
