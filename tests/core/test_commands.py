"""Operator commands: create_tenant, create_api_key, seed_demo."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from helpdesk.events.models import Event
from helpdesk.people.models import Contact, ContactIdentity, IdentityKind, Organization, Team, TeamMember
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import ApiKey, Membership, Tenant
from helpdesk.tenancy.roles import ALL_SCOPES, Role

pytestmark = pytest.mark.django_db
User = get_user_model()


def authenticate(*, username: str, password: str):
    user = User.objects.filter(email=username).first()
    return user if user is not None and user.check_password(password) else None


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


# --- create_tenant --------------------------------------------------------------------------

def test_create_tenant_makes_the_tenant_and_an_owner_who_can_sign_in():
    out, _err = run("create_tenant", "--slug", "initech", "--name", "Initech", "--owner-email", "Boss@Initech.test",
                    "--owner-password", "a fine long password", "--timezone", "Europe/Istanbul", "--locale", "tr")
    tenant = Tenant.objects.get(slug="initech")
    assert (tenant.name, tenant.timezone, tenant.default_locale) == ("Initech", "Europe/Istanbul", "tr")
    owner = authenticate(username="boss@initech.test", password="a fine long password")
    assert owner is not None
    with tenant_scope(tenant):
        assert Membership.objects.get(user=owner).role == Role.OWNER
        assert Event.objects.filter(type="tenant.created").count() == 1
    assert "initech.localhost" in out and "Created tenant" in out


def test_create_tenant_reuses_an_existing_user_without_a_password():
    User.objects.create_user(email="multi@example.test", password="first password here")
    run("create_tenant", "--slug", "second", "--name", "Second", "--owner-email", "multi@example.test")
    user = authenticate(username="multi@example.test", password="first password here")
    with tenant_scope(Tenant.objects.get(slug="second")):
        assert Membership.objects.get(user=user).role == Role.OWNER


@pytest.mark.parametrize("args, message", [
    (["--slug", "Bad Slug!"], "slug"),
    (["--slug", "edge-"], "slug"),
    (["--slug", "admin"], "reserved"),
    (["--timezone", "Mars/Olympus"], "Mars/Olympus"),
    (["--owner-email", "not-an-email"], "owner-email"),
    (["--owner-password", "short"], "owner-password"),
])
def test_create_tenant_refuses_bad_input_with_a_clear_error_and_creates_nothing(args, message):
    base = {"--slug": "okslug", "--name": "Ok", "--owner-email": "ok@example.test",
            "--owner-password": "a fine long password", "--timezone": "UTC"}
    base.update(dict(zip(args[::2], args[1::2])))
    with pytest.raises(CommandError, match=message):
        run("create_tenant", *[item for pair in base.items() for item in pair])
    assert not Tenant.objects.exists()
    assert not User.objects.exists()


def test_create_tenant_refuses_a_duplicate_slug():
    run("create_tenant", "--slug", "dup", "--name", "One", "--owner-email", "a@dup.test",
        "--owner-password", "a fine long password")
    with pytest.raises(CommandError, match="slug"):
        run("create_tenant", "--slug", "dup", "--name", "Two", "--owner-email", "b@dup.test",
            "--owner-password", "a fine long password")
    assert list(Tenant.objects.values_list("name", flat=True)) == ["One"]
    assert not User.objects.filter(email="b@dup.test").exists()


def test_create_tenant_needs_a_password_for_a_new_owner():
    with pytest.raises(CommandError, match="--owner-password"):
        run("create_tenant", "--slug", "nopw", "--name", "No", "--owner-email", "new@nopw.test")
    assert not Tenant.objects.exists()


# --- create_api_key ------------------------------------------------------------------------

def test_create_api_key_prints_the_key_alone_on_the_last_line_and_it_works(tenant):
    out, err = run("create_api_key", "--tenant", "acme", "--name", "Zapier", "--scopes", "tickets:read",
                   "account:read")
    raw = out.strip().splitlines()[-1]
    assert raw.startswith("hk_") and " " not in raw
    assert "Zapier" in err
    with tenant_scope(tenant):
        key = ApiKey.objects.get(name="Zapier")
    assert key.scopes == ["account:read", "tickets:read"]
    assert raw not in (key.key_hash, key.prefix)

    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["tenant"]["slug"] == "acme"
    assert response.json()["scopes"] == ["account:read", "tickets:read"]


def test_create_api_key_defaults_to_every_scope(tenant):
    run("create_api_key", "--tenant", "acme", "--name", "Everything")
    with tenant_scope(tenant):
        assert set(ApiKey.objects.get(name="Everything").scopes) == ALL_SCOPES


def test_create_api_key_refuses_an_unknown_scope_listing_the_valid_ones(tenant):
    with pytest.raises(CommandError) as excinfo:
        run("create_api_key", "--tenant", "acme", "--name", "Bad", "--scopes", "tickets:read", "tickets:delete")
    assert "tickets:delete" in str(excinfo.value)
    assert all(scope in str(excinfo.value) for scope in ALL_SCOPES)
    with tenant_scope(tenant):
        assert not ApiKey.objects.exists()


def test_create_api_key_refuses_an_unknown_tenant(tenant):
    with pytest.raises(CommandError, match="nosuch"):
        run("create_api_key", "--tenant", "nosuch", "--name", "X")


# --- seed_demo -----------------------------------------------------------------------------

DEMO_EMAILS = {"owner@demo.test", "agent@demo.test", "billing@demo.test", "light@demo.test", "qa@demo.test",
               "analyst@demo.test"}


def test_seed_demo_builds_the_demo_tenant(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out, _err = run("seed_demo")
    tenant = Tenant.objects.get(slug="demo")
    assert tenant.name == "Demo Support Co"
    for email in DEMO_EMAILS:
        assert email in out
        assert authenticate(username=email, password="demo-password-1") is not None, email
    assert "demo-password-1" in out
    with tenant_scope(tenant):
        roles = dict(Membership.objects.values_list("user__email", "role"))
        assert roles["owner@demo.test"] == Role.OWNER
        assert roles["agent@demo.test"] == Role.AGENT
        assert roles["light@demo.test"] == Role.LIGHT_AGENT
        assert roles["qa@demo.test"] == Role.QA_REVIEWER
        assert roles["analyst@demo.test"] == Role.ANALYST
        assert set(Team.objects.values_list("name", flat=True)) == {"Support", "Billing"}
        assert TeamMember.objects.filter(team__name="Support").count() >= 2
        assert TeamMember.objects.filter(team__name="Billing").count() >= 2
        assert Organization.objects.count() >= 2
        assert Contact.objects.count() >= 3
        kinds = set(ContactIdentity.objects.values_list("kind", flat=True))
        assert {IdentityKind.EMAIL, IdentityKind.PHONE, IdentityKind.SOCIAL} <= kinds
        phones = ContactIdentity.objects.filter(kind=IdentityKind.PHONE).values_list("value", flat=True)
        assert phones and all(p.startswith("+") and p[1:].isdigit() for p in phones)
        assert "+905321234567" in phones
        assert ApiKey.objects.count() == 1

    raw = next(line.split()[-1] for line in out.splitlines() if line.startswith("API key"))
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me/").json()["tenant"]["slug"] == "demo"


def test_seed_demo_is_idempotent():
    run("seed_demo")
    counts = (User.objects.count(), Tenant.objects.count())
    out, _err = run("seed_demo")
    assert "nothing to do" in out
    assert (User.objects.count(), Tenant.objects.count()) == counts
    with tenant_scope(Tenant.objects.get(slug="demo")):
        assert ApiKey.objects.count() == 1
        assert Team.objects.count() == 2


def test_seed_demo_uses_the_demo_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    out, _err = run("seed_demo")
    assert "another-demo-pass" in out
    assert authenticate(username="agent@demo.test", password="another-demo-pass") is not None
    assert authenticate(username="agent@demo.test", password="demo-password-1") is None


def test_seed_demo_if_empty_leaves_a_database_with_tenants_alone(tenant):
    out, _err = run("seed_demo", "--if-empty")
    assert "not loading" in out
    assert not Tenant.objects.filter(slug="demo").exists()


def test_seed_demo_if_empty_seeds_an_empty_database():
    run("seed_demo", "--if-empty")
    assert Tenant.objects.filter(slug="demo").exists()


def test_registered_demo_seeders_run_in_order_inside_the_demo_tenant(monkeypatch):
    from helpdesk.tenancy import demo as demo_module
    from helpdesk.tenancy.context import current_tenant

    seen = []

    def late(demo):
        seen.append(("late", current_tenant().slug, len(demo.contacts)))

    def early(demo):
        seen.append(("early", current_tenant().slug, len(demo.contacts)))

    monkeypatch.setattr(demo_module, "_SEEDERS", list(demo_module._SEEDERS))
    demo_module.register_demo_seeder(late, order=500)
    demo_module.register_demo_seeder(early, order=5)
    run("seed_demo")
    assert seen[0][:2] == ("early", "demo") and seen[0][2] > 0  # after people (order 0)
    assert seen[1][:2] == ("late", "demo")


def test_a_failing_seeder_leaves_nothing_behind(monkeypatch):
    from helpdesk.tenancy import demo as demo_module

    def broken(demo):
        raise RuntimeError("seeder bug")

    monkeypatch.setattr(demo_module, "_SEEDERS", list(demo_module._SEEDERS))
    demo_module.register_demo_seeder(broken, order=900)
    with pytest.raises(RuntimeError):
        run("seed_demo")
    assert not Tenant.objects.exists()
    assert not User.objects.exists()
