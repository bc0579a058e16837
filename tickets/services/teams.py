"""Changing teams (creation is the core's ``helpdesk.people.services.team_create``)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.people import services as people_services
from helpdesk.people.models import Team, TeamMember
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership, Tenant
from helpdesk.tenancy.roles import Cap, Scope
from tickets.services.common import actor_label, require_capability

MAX_TEAM_MEMBERS = 500


def _clean_name(*, tenant: Tenant, name: Any, team: Team | None = None) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise ValidationError({"name": [_("Enter a name of 1-100 characters.")]})
    name = name.strip()
    clash = Team.objects.filter(tenant=tenant, name=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError({"name": [_("A team with this name exists already.")]})
    return name


def _clean_member_ids(*, tenant: Tenant, user_ids: Iterable[Any]) -> list[int]:
    ids = []
    for value in user_ids or ():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError({"member_ids": [_("Enter user ids.")]})
        if value not in ids:
            ids.append(value)
    if len(ids) > MAX_TEAM_MEMBERS:
        raise ValidationError({"member_ids": [_("At most %(max)d members.") % {"max": MAX_TEAM_MEMBERS}]})
    known = set(Membership.objects.filter(tenant=tenant, is_active=True, user_id__in=ids)
                .values_list("user_id", flat=True))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValidationError({"member_ids": [_("Not members of this helpdesk: %(ids)s.") % {
            "ids": ", ".join(map(str, unknown))}]})
    return ids


@transaction.atomic
def team_create(*, tenant: Tenant, actor: Any, name: str, description: str = "",
                member_ids: Iterable[int] | None = None) -> Team:
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        name = _clean_name(tenant=tenant, name=name)
        ids = _clean_member_ids(tenant=tenant, user_ids=member_ids or ())
        team = people_services.team_create(tenant=tenant, name=name, description=description or "",
                                           actor=actor if getattr(actor, "pk", None) else None)
        TeamMember.objects.bulk_create([TeamMember(tenant=tenant, team=team, user_id=i) for i in ids])
        return team


@transaction.atomic
def team_update(*, team: Team, actor: Any, name: str | None = None, description: str | None = None,
                member_ids: Iterable[int] | None = None, audit_meta: Mapping[str, Any] | None = None) -> Team:
    """Rename, describe, or set the whole member list (``member_ids``) of a team."""
    tenant = team.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        before = {"name": team.name, "description": team.description,
                  "members": sorted(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))}
        if name is not None:
            team.name = _clean_name(tenant=tenant, name=name, team=team)
        if description is not None:
            if len(description) > 2000:
                raise ValidationError({"description": [_("Use at most 2000 characters.")]})
            team.description = description
        team.save()
        if member_ids is not None:
            ids = _clean_member_ids(tenant=tenant, user_ids=member_ids)
            TeamMember.objects.filter(team=team).exclude(user_id__in=ids).delete()
            have = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
            TeamMember.objects.bulk_create([TeamMember(tenant=tenant, team=team, user_id=i)
                                            for i in ids if i not in have])
        after = {"name": team.name, "description": team.description,
                 "members": sorted(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))}
        if after != before:
            audit_record(tenant=tenant, action="team.updated", actor=actor, actor_label=actor_label(actor),
                         obj=team, before=before, after=after, **(audit_meta or {}))
        return team


@transaction.atomic
def team_delete(*, team: Team, actor: Any, audit_meta: Mapping[str, Any] | None = None) -> None:
    """Delete a team; its tickets keep their assignee and lose the team."""
    tenant = team.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        audit_record(tenant=tenant, action="team.deleted", actor=actor, actor_label=actor_label(actor), obj=team,
                     before={"name": team.name}, **(audit_meta or {}))
        team.delete()
