import pytest

from helpdesk.people.identities import normalize_identity
from helpdesk.people.models import Team, TeamMember
from helpdesk.people.services import team_member_add
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_new_tenant_has_a_support_team_led_by_the_owner():
    tenant = tenant_create(slug="yildiz", name="Yıldız", owner_email="o@yildiz.test", owner_password="pw-123456!",
                           default_locale="tr")
    with tenant_scope(tenant):
        team = Team.objects.get()
        assert team.name == "Destek"
        member = TeamMember.objects.get(team=team)
        assert member.user.email == "o@yildiz.test" and member.is_lead


def test_only_members_join_teams(tenant, agent):
    team = TeamFactory(tenant=tenant)
    with tenant_scope(tenant):
        team_member_add(tenant=tenant, team=team, user=agent)
        with pytest.raises(ValueError):
            team_member_add(tenant=tenant, team=team, user=UserFactory())


@pytest.mark.parametrize("kind,raw,expected", [
    ("email", " Ayse@Example.COM ", "ayse@example.com"),
    ("phone", "+90 532 123 45 67", "+905321234567"),
    ("phone", "(212) 555-0100", None),  # no region: refused
    ("social", "@Acme_Help", "acme_help"),
    ("external", " crm-42 ", "crm-42"),
    ("email", "not-an-email", None),
])
def test_identity_values_are_normalised(kind, raw, expected):
    from django.core.exceptions import ValidationError

    if expected is None:
        with pytest.raises(ValidationError):
            normalize_identity(kind, raw)
    else:
        assert normalize_identity(kind, raw) == expected
