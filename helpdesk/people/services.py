"""Writes for teams (contacts and organizations arrive with the channels issue)."""
from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.people.models import Team, TeamMember
from helpdesk.tenancy.models import Membership, Tenant
from helpdesk.tenancy.roles import Role


@transaction.atomic
def team_create(*, tenant: Tenant, name: str, description: str = "", actor=None) -> Team:
    team = Team(tenant=tenant, name=name.strip(), description=description)
    team.full_clean()
    team.save()
    audit_record(tenant=tenant, action="team.created", actor=actor, obj=team, after={"name": team.name})
    return team


@transaction.atomic
def team_member_add(*, tenant: Tenant, team: Team, user, is_lead: bool = False, actor=None) -> TeamMember:
    if not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
        raise ValueError("only members of the tenant can join its teams")
    member, created = TeamMember.objects.get_or_create(tenant=tenant, team=team, user=user,
                                                       defaults={"is_lead": is_lead})
    if created:
        audit_record(tenant=tenant, action="team.member_added", actor=actor, obj=team,
                     after={"user": user.email, "is_lead": is_lead})
    return member


def team_create_default(tenant: Tenant) -> Team:
    """Day one: a "Support" team (in the tenant's language) holding the owner."""
    with translation.override(tenant.default_locale):
        name = _("Support")
        description = _("Everyone who answers customers. Add teams per queue or skill as you grow.")
    team = team_create(tenant=tenant, name=name, description=description)
    for membership in Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("user"):
        team_member_add(tenant=tenant, team=team, user=membership.user, is_lead=True)
    return team
