"""Time spent on tickets (handle time) and agents' availability."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership, Tenant
from helpdesk.tenancy.roles import Cap
from tickets.models import AgentProfile, AgentStatus, Ticket, TimeEntry
from tickets.services.common import ASSIGNABLE_ROLES, actor_label, is_user, require_capability

MAX_ENTRY_SECONDS = 24 * 3600
MAX_SKILLS = 50


def time_entry_add(*, ticket: Ticket, actor: Any, via: str, seconds: int, user: Any = None, note: str = "",
                   source: str = TimeEntry.Source.MANUAL) -> TimeEntry:
    """Record time spent on ``ticket`` (by ``user``, default the actor) and add it to the
    ticket's stored ``handle_seconds``. Closed tickets still take time entries (wrap-up)."""
    tenant = ticket.tenant
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_ENTRY_SECONDS:
        raise ValidationError({"seconds": [_("Enter between 1 second and 24 hours.")]})
    if source not in TimeEntry.Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    note = (note or "").strip()
    if len(note) > 250:
        raise ValidationError({"note": [_("Use at most 250 characters.")]})
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_NOTE, via=via)
        user = user if user is not None else (actor if is_user(actor) else None)
        if user is not None and not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
            raise ValidationError({"user_id": [_("Only members of this helpdesk log time.")]})
        entry = TimeEntry.objects.create(tenant=tenant, ticket=ticket, user=user, seconds=seconds, source=source,
                                         note=note)
        Ticket.objects.filter(pk=ticket.pk).update(handle_seconds=F("handle_seconds") + seconds)
        ticket.refresh_from_db(fields=["handle_seconds"])
        audit_record(tenant=tenant, action="ticket.time_logged", actor=actor, actor_label=actor_label(actor),
                     obj=ticket, after={"seconds": seconds, "user": getattr(user, "pk", None), "source": source})
        return entry


def time_entry_delete(*, entry: TimeEntry, actor: Any, via: str) -> None:
    tenant = entry.tenant
    with transaction.atomic(), tenant_scope(tenant):
        if not (is_user(actor) and entry.user_id == actor.pk):
            require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        Ticket.objects.filter(pk=entry.ticket_id).update(
            handle_seconds=Greatest(F("handle_seconds") - entry.seconds, 0))
        audit_record(tenant=tenant, action="ticket.time_deleted", actor=actor, actor_label=actor_label(actor),
                     obj=entry.ticket, before={"seconds": entry.seconds, "user": entry.user_id})
        entry.delete()


# --- agents' availability ----------------------------------------------------------------

def _clean_words(name: str, values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValidationError({name: [_("Enter a list of words.")]})
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 50:
            raise ValidationError({name: [_("Each entry is 1-50 characters.")]})
        value = value.strip().lower()
        if value not in out:
            out.append(value)
    if len(out) > MAX_SKILLS:
        raise ValidationError({name: [_("At most %(max)d entries.") % {"max": MAX_SKILLS}]})
    return out


def agent_profile_get(*, tenant: Tenant, user: Any) -> AgentProfile:
    """The agent's profile in ``tenant`` (unsaved defaults when there is none yet)."""
    with tenant_scope(tenant):
        return AgentProfile.objects.filter(tenant=tenant, user=user).first() or AgentProfile(tenant=tenant, user=user)


def agent_availability_set(*, tenant: Tenant, user: Any, actor: Any, status: str | None = None,
                           capacity: int | None = None, skills: Any = None, languages: Any = None,
                           audit_meta: Mapping[str, Any] | None = None) -> AgentProfile:
    """Set an agent's status (online/away/offline), capacity, skills and languages.

    Agents set their own; changing someone else's needs ``members.manage``. Emits
    ``agent.availability_changed`` (routing's reassign-on-away listens).
    """
    with transaction.atomic(), tenant_scope(tenant):
        if not (is_user(actor) and actor.pk == user.pk):
            require_capability(tenant=tenant, actor=actor, capability=Cap.MEMBERS_MANAGE, via="system")
        if not Membership.objects.filter(tenant=tenant, user=user, is_active=True,
                                         role__in=ASSIGNABLE_ROLES).exists():
            raise ValidationError({"user": [_("Only agents, administrators and owners take tickets.")]})
        profile, _created = AgentProfile.objects.select_for_update().get_or_create(tenant=tenant, user=user)
        before = {"status": profile.status, "capacity": profile.capacity, "skills": list(profile.skills),
                  "languages": list(profile.languages)}
        if status is not None:
            if status not in AgentStatus.values:
                raise ValidationError({"status": [_("Choose one of: %(values)s.") % {
                    "values": ", ".join(AgentStatus.values)}]})
            if status != profile.status:
                profile.status = status
                profile.status_changed_at = timezone.now()
        if capacity is not None:
            if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= 1000:
                raise ValidationError({"capacity": [_("Enter a number from 0 to 1000.")]})
            profile.capacity = capacity
        if skills is not None:
            profile.skills = _clean_words("skills", skills)
        if languages is not None:
            profile.languages = _clean_words("languages", languages)
        profile.save()
        after = {"status": profile.status, "capacity": profile.capacity, "skills": profile.skills,
                 "languages": profile.languages}
        if after != before:
            audit_record(tenant=tenant, action="agent.availability_changed", actor=actor,
                         actor_label=actor_label(actor), obj=profile, before=before, after=after,
                         **(audit_meta or {}))
            event_emit(tenant=tenant, type="agent.availability_changed", subject=profile,
                       actor=actor if is_user(actor) else None,
                       payload={"user_id": user.pk, "before": before, "after": after})
        return profile
