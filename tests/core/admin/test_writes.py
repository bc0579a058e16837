"""Writes through the admin: the right tenant, tenant-checked relations, audit entries, secrets shown once."""
from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import WebhookSubscription
from helpdesk.people.models import Contact, ContactIdentity, Team, TeamMember
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import ApiKey, Membership, Tenant
from helpdesk.tenancy.roles import Role
from tests.core.admin.test_scoping import change, changelist
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def audit_actions(tenant) -> list[str]:
    with tenant_scope(tenant):
        return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial)}


def test_a_tenant_admins_new_row_belongs_to_the_tenant_and_is_audited(admin_client, tenant, tenant_admin):
    response = admin_client.post(reverse("admin:people_team_add"), {
        "name": "Billing", "description": "Money questions", **inline_management("members"),
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    with tenant_scope(tenant):
        team = Team.objects.get(name="Billing")
        entry = AuditEntry.objects.get(action="team.created")
    assert team.tenant_id == tenant.pk
    assert entry.actor == tenant_admin
    assert entry.object_id == str(team.pk)
    assert entry.after["name"] == "Billing" and entry.after["via"] == "admin"


def test_changes_and_deletions_are_audited_with_before_and_after(admin_client, tenant):
    team = TeamFactory(tenant=tenant, name="Old name")
    response = admin_client.post(change(team), {"name": "New name", "description": "", **inline_management("members")})
    assert response.status_code == 302
    with tenant_scope(tenant):
        entry = AuditEntry.objects.get(action="team.changed")
    assert entry.before == {"name": "Old name"}
    assert entry.after == {"name": "New name", "via": "admin"}
    assert admin_client.post(change(team, "delete"), {"post": "yes"}).status_code == 302
    assert "team.deleted" in audit_actions(tenant)


def test_a_duplicate_name_in_the_tenant_is_a_form_error_not_a_crash(admin_client, tenant, other_tenant):
    TeamFactory(tenant=tenant, name="Support")
    TeamFactory(tenant=other_tenant, name="Escalations")
    response = admin_client.post(reverse("admin:people_team_add"), {"name": "Support", **inline_management("members")})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    # The same name as another tenant's team is fine.
    response = admin_client.post(reverse("admin:people_team_add"), {
        "name": "Escalations", **inline_management("members")})
    assert response.status_code == 302


def test_inline_rows_get_the_parents_tenant_and_are_normalised(admin_client, tenant):
    response = admin_client.post(reverse("admin:people_contact_add"), {
        "name": "Ada", "organization": "", "locale": "", "timezone": "", "notes": "",
        **inline_management("identities", total=2),
        "identities-0-kind": "email", "identities-0-provider": "", "identities-0-value": " Ada@Example.ORG ",
        "identities-1-kind": "phone", "identities-1-provider": "", "identities-1-value": "+90 532 123 45 67",
    })
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"][0].formset.forms]
    with tenant_scope(tenant):
        contact = Contact.objects.get(name="Ada")
        values = sorted(ContactIdentity.objects.filter(contact=contact).values_list("value", "tenant_id"))
    assert values == [("+905321234567", tenant.pk), ("ada@example.org", tenant.pk)]
    assert audit_actions(tenant).count("contactidentity.created") == 2


def test_an_invalid_identity_is_a_form_error(admin_client, tenant):
    response = admin_client.post(reverse("admin:people_contact_add"), {
        "name": "Bob", "organization": "", "locale": "", "timezone": "", "notes": "",
        **inline_management("identities", total=1),
        "identities-0-kind": "phone", "identities-0-provider": "", "identities-0-value": "not a phone",
    })
    assert response.status_code == 200
    with tenant_scope(tenant):
        assert not Contact.objects.filter(name="Bob").exists()


def test_team_members_must_be_members_of_the_tenant(admin_client, tenant, agent, other_agent):
    team = TeamFactory(tenant=tenant, name="Tier 1")
    data = {"name": "Tier 1", "description": "", **inline_management("members", total=1),
            "members-0-user": agent.pk, "members-0-is_lead": "on"}
    assert admin_client.post(change(team), data).status_code == 302
    with tenant_scope(tenant):
        member = TeamMember.objects.get(team=team)
    assert member.user == agent and member.tenant_id == tenant.pk and member.is_lead


def test_a_superuser_chooses_the_tenant_of_a_new_row(super_client, other_tenant):
    page = super_client.get(reverse("admin:people_team_add")).content.decode()
    assert 'name="tenant_choice"' in page
    response = super_client.post(reverse("admin:people_team_add"), {
        "tenant_choice": other_tenant.pk, "name": "Platform made", **inline_management("members"),
    })
    assert response.status_code == 302
    with tenant_scope(other_tenant):
        assert Team.objects.get(name="Platform made").tenant_id == other_tenant.pk
    assert "team.created" in audit_actions(other_tenant)
    response = super_client.post(reverse("admin:people_team_add"),
                                 {"name": "No tenant", **inline_management("members")})
    assert response.status_code == 200
    assert "tenant_choice" in response.context["adminform"].form.errors


def test_a_superusers_relations_must_match_the_chosen_tenant(super_client, tenant, other_tenant):
    from tests.factories import OrganizationFactory

    theirs = OrganizationFactory(tenant=other_tenant, name="Globex customer")
    response = super_client.post(reverse("admin:people_contact_add"), {
        "tenant_choice": tenant.pk, "name": "Mixed", "organization": theirs.pk, "locale": "", "timezone": "",
        "notes": "", **inline_management("identities"),
    })
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    with dangerously_unscoped():
        assert not Contact.unscoped.filter(name="Mixed").exists()


def test_a_superuser_edits_any_tenants_row_which_keeps_its_tenant(super_client, other_tenant):
    team = TeamFactory(tenant=other_tenant, name="Theirs")
    response = super_client.post(change(team), {"name": "Renamed", "description": "", **inline_management("members")})
    assert response.status_code == 302
    with dangerously_unscoped():
        team.refresh_from_db()
    assert (team.name, team.tenant_id) == ("Renamed", other_tenant.pk)


# --- API keys --------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_then_only_its_prefix(admin_client, tenant, tenant_admin):
    response = admin_client.post(reverse("admin:tenancy_apikey_add"), {
        "name": "Zapier", "scopes": ["account:read", "tickets:write"],
    }, follow=True)
    assert response.status_code == 200
    shown = re.findall(r"hk_[0-9a-f]+_[A-Za-z0-9_-]{20,}", " ".join(messages_of(response)))
    assert len(shown) == 1
    raw = shown[0]
    with tenant_scope(tenant):
        key = ApiKey.objects.get(name="Zapier")
    assert key.created_by == tenant_admin and key.scopes == ["account:read", "tickets:write"]
    assert raw not in key.key_hash
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200 and me.json()["tenant"]["slug"] == "acme"
    page = admin_client.get(change(key)).content.decode()
    assert raw not in page and raw.split("_", 2)[2] not in page
    assert f"hk_{key.prefix}_" in page
    assert raw not in admin_client.get(changelist(ApiKey)).content.decode()
    assert "api_key.created" in audit_actions(tenant)


def test_revoking_keys_from_the_list(admin_client, tenant):
    from helpdesk.tenancy.services import api_key_create

    key, raw = api_key_create(tenant=tenant, name="Old integration")
    response = admin_client.post(changelist(ApiKey), {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert response.status_code == 302
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert "api_key.revoked" in audit_actions(tenant)


def test_tenant_admins_revoke_rather_than_delete_keys(admin_client, tenant):
    from helpdesk.tenancy.services import api_key_create

    key, _raw = api_key_create(tenant=tenant, name="Keep the trail")
    assert admin_client.get(change(key, "delete")).status_code == 403


# --- webhooks --------------------------------------------------------------------------


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True)
def test_a_new_webhooks_secret_is_shown_once_and_never_again(admin_client, tenant):
    response = admin_client.post(reverse("admin:events_webhooksubscription_add"), {
        "url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "Local", "is_active": "on",
    }, follow=True)
    assert response.status_code == 200, response.content[:2000]
    with tenant_scope(tenant):
        subscription = WebhookSubscription.objects.get(url="http://127.0.0.1:9/hook")
    assert any(subscription.secret in message for message in messages_of(response))
    assert subscription.secret not in admin_client.get(change(subscription)).content.decode()
    assert "webhook.created" in audit_actions(tenant)


def test_an_existing_webhooks_secret_is_never_shown(admin_client, super_client, rows_a):
    secret = rows_a.webhook.secret
    for client in (admin_client, super_client):
        assert secret not in client.get(change(rows_a.webhook)).content.decode()
        assert secret not in client.get(changelist(WebhookSubscription)).content.decode()


def test_a_private_webhook_target_is_a_form_error(admin_client, tenant):
    response = admin_client.post(reverse("admin:events_webhooksubscription_add"), {
        "url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "", "is_active": "on",
    })
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors


def test_the_delivery_log_is_read_only_and_shows_the_outcome(admin_client, rows_a):
    page = admin_client.get(changelist(type(rows_a.delivery))).content.decode()
    assert "boom acme" in page and "failed" in page.lower()
    detail = admin_client.get(change(rows_a.delivery)).content.decode()
    assert "attempt acme" in detail
    assert 'name="_save"' not in detail
    assert admin_client.post(change(rows_a.delivery), {"status": "succeeded"}).status_code == 403


# --- read-only logs --------------------------------------------------------------------


def test_the_audit_log_is_read_only_for_everyone(admin_client, super_client, rows_a):
    for client in (admin_client, super_client):
        page = client.get(change(rows_a.audit_entry)).content.decode()
        assert "probe.acme" in page and 'name="_save"' not in page
        assert client.post(change(rows_a.audit_entry), {"action": "forged"}).status_code == 403
        assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
        assert client.get(change(rows_a.audit_entry, "delete")).status_code == 403


# --- memberships and the tenant's own settings ------------------------------------------


def test_adding_a_member_by_email(admin_client, tenant):
    response = admin_client.post(reverse("admin:tenancy_membership_add"), {"email": "New.Person@Acme.test",
                                                                         "role": Role.AGENT})
    assert response.status_code == 302
    with tenant_scope(tenant):
        membership = Membership.objects.select_related("user").get(user__email="new.person@acme.test")
    assert membership.role == Role.AGENT
    assert not membership.user.has_usable_password()
    assert "membership.created" in audit_actions(tenant)
    response = admin_client.post(reverse("admin:tenancy_membership_add"), {"email": "new.person@acme.test",
                                                                         "role": Role.AGENT})
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_an_admin_cannot_grant_or_touch_ownership(admin_client, tenant, owner):
    page = admin_client.get(reverse("admin:tenancy_membership_add")).content.decode()
    assert 'value="owner"' not in page
    response = admin_client.post(reverse("admin:tenancy_membership_add"), {"email": "x@acme.test", "role": "owner"})
    assert response.status_code == 200
    with tenant_scope(tenant):
        owner_membership = Membership.objects.get(user=owner)
    page = admin_client.get(change(owner_membership)).content.decode()
    assert 'name="_save"' not in page
    assert admin_client.post(change(owner_membership), {"role": "agent", "is_active": "on"}).status_code == 403
    assert admin_client.get(change(owner_membership, "delete")).status_code == 403


def test_an_owner_may_grant_ownership(tenant, owner):
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(owner)
    assert 'value="owner"' in client.get(reverse("admin:tenancy_membership_add")).content.decode()


def test_nobody_deletes_their_own_membership(admin_client, tenant, tenant_admin):
    with tenant_scope(tenant):
        own = Membership.objects.get(user=tenant_admin)
    assert admin_client.get(change(own, "delete")).status_code == 403


def test_a_tenant_admin_edits_the_tenants_settings_but_not_its_slug(admin_client, tenant, other_tenant):
    page = admin_client.get(change(tenant)).content.decode()
    assert 'name="slug"' not in page and 'name="is_active"' not in page
    response = admin_client.post(change(tenant), {
        "name": "Acme Inc", "brand_name": "Acme Help", "brand_color": "#123456", "timezone": "Europe/Istanbul",
        "default_locale": "tr", "slug": "hijack", "is_active": "", "require_two_factor": "on",
    })
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.name, tenant.slug, tenant.is_active, tenant.require_two_factor) == ("Acme Inc", "acme", True, True)
    assert "tenant.changed" in audit_actions(tenant)
    # Two-factor is now required and this admin has none: enrol before anything else.
    response = admin_client.get(reverse("admin:tenancy_tenant_add"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("console:two_factor_setup"))
    tenant.require_two_factor = False
    tenant.save(update_fields=["require_two_factor"])
    assert admin_client.get(reverse("admin:tenancy_tenant_add")).status_code == 403


def test_a_superuser_creates_a_tenant_with_its_owner(super_client):
    response = super_client.post(reverse("admin:tenancy_tenant_add"), {
        "slug": "initech", "name": "Initech", "timezone": "UTC", "default_locale": "en",
        "owner_email": "boss@initech.test", "owner_password": "",
    })
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="initech")
    with tenant_scope(tenant):
        assert Membership.objects.get().role == Role.OWNER
    assert "tenant.created" in audit_actions(tenant)


def test_bad_input_to_admin_forms_is_a_form_error(admin_client, super_client, tenant):
    cases = [
        (admin_client, reverse("admin:people_team_add"), {"name": "x" * 300, **inline_management("members")}),
        (admin_client, reverse("admin:people_team_add"), {"name": "a\x00b", **inline_management("members")}),
        (admin_client, reverse("admin:people_contact_add"),
         {"name": "A", "organization": "abc", "timezone": "Mars/Base", **inline_management("identities")}),
        (admin_client, reverse("admin:tenancy_apikey_add"), {"name": "k", "scopes": ["root:all"]}),
        (admin_client, reverse("admin:people_organization_add"), {"name": "O", "domains": "{not json"}),
        (admin_client, change(tenant), {"name": "", "brand_color": "red", "timezone": "Nowhere"}),
        (super_client, reverse("admin:tenancy_tenant_add"), {"slug": "admin", "name": "Reserved", "timezone": "UTC",
                                                            "default_locale": "en", "owner_email": "not-an-email"}),
        (super_client, reverse("admin:people_team_add"), {"tenant_choice": "999999", "name": "T",
                                                         **inline_management("members")}),
    ]
    for client, url, data in cases:
        response = client.post(url, data)
        assert response.status_code == 200, (url, data)
        assert response.context["adminform"].form.errors, (url, data)


# --- platform users --------------------------------------------------------------------


def test_a_superuser_creates_people_by_email(super_client):
    from django.contrib.auth import get_user_model

    response = super_client.post(reverse("admin:people_user_add"), {
        "email": "operator@platform.test", "usable_password": "true",
        "password1": "a long enough secret 42", "password2": "a long enough secret 42",
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    user = get_user_model().objects.get(email="operator@platform.test")
    assert user.check_password("a long enough secret 42")
    page = super_client.get(change(user)).content.decode()
    assert 'name="username"' not in page and 'name="totp_secret"' not in page


def test_two_factor_is_reset_not_edited(super_client, agent):
    agent.totp_secret = "JBSWY3DPEHPK3PXP"
    agent.totp_enabled = True
    agent.save()
    page = super_client.get(change(agent)).content.decode()
    assert "JBSWY3DPEHPK3PXP" not in page and 'name="totp_enabled"' not in page
    super_client.post(changelist(type(agent)), {"action": "reset_two_factor", "_selected_action": [agent.pk]})
    agent.refresh_from_db()
    assert (agent.totp_enabled, agent.totp_secret) == (False, "")


def test_tenant_admins_cannot_reach_platform_users(admin_client, agent):
    assert admin_client.get(changelist(type(agent))).status_code == 403
    assert admin_client.get(change(agent)).status_code == 403
    assert admin_client.get(reverse("admin:auth_user_password_change", args=[agent.pk])).status_code == 403
