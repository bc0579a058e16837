"""Automatic assignment: the ticket hook (order 10), ``ticket_route`` and reassign-on-away.

The rule is the pure ``routing.choose_assignee``; this module reads its input (one query
for the team's members with their availability and open-ticket load) and writes its
output (the assignee, a system entry, a ``ticket.updated`` event, the audit row) through
the tickets services' common recording, inside the transaction of the change that
triggered it.
"""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from typing import Any, Iterator

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.tenancy.models import Membership, Tenant
from tickets.automation.routing import Candidate, choose_assignee
from tickets.hooks import TicketChange
from tickets.models.ticket import UNSOLVED_STATUSES
from tickets.models import (
    AgentProfile,
    AgentStatus,
    RoutingMode,
    TeamRouting,
    Ticket,
    Via,
)

logger = logging.getLogger(__name__)

# Set while ticket_route records its change: the hooks that change runs must not route again.
_routing: ContextVar[bool] = ContextVar("tickets_routing", default=False)
# Which tickets count toward an agent's capacity.
LOAD_STATUSES = tuple(UNSOLVED_STATUSES)
REROUTE_BATCH = 500


@contextlib.contextmanager
def _routing_guard() -> Iterator[None]:
    token = _routing.set(True)
    try:
        yield
    finally:
        _routing.reset(token)


def team_candidates(*, tenant: Tenant, team_id: int, exclude_user_id: int | None = None) -> list[Candidate]:
    """The team's members as routing candidates, with their open-ticket counts: one query.

    A member needs an active membership in an assignable role and an agent profile (no
    profile: never set available, so treated as offline).
    """
    from tickets.services.common import ASSIGNABLE_ROLES

    open_counts = (Ticket.objects.filter(tenant=tenant, assignee_id=OuterRef("user_id"),
                                         status__in=LOAD_STATUSES)
                   .order_by().values("assignee_id").annotate(n=Count("pk")).values("n"))
    assignable = Membership.objects.filter(tenant=tenant, user_id=OuterRef("user_id"), is_active=True,
                                           role__in=ASSIGNABLE_ROLES)
    rows = (
        AgentProfile.objects.filter(tenant=tenant, user__team_memberships__team_id=team_id,
                                    user__team_memberships__tenant=tenant, user__is_active=True)
        .filter(Exists(assignable))
        .annotate(open_count=Coalesce(Subquery(open_counts, output_field=IntegerField()), Value(0)))
        .values_list("user_id", "status", "capacity", "skills", "languages", "open_count")
    )
    candidates = []
    for user_id, status, capacity, skills, languages, open_count in rows:
        if user_id == exclude_user_id:
            continue
        candidates.append(Candidate(
            user_id=user_id, status=status, open_count=open_count, capacity=capacity,
            skills=frozenset(s for s in (skills or []) if isinstance(s, str)),
            languages=frozenset(s for s in (languages or []) if isinstance(s, str)),
        ))
    return candidates


def ticket_route(*, ticket: Ticket, exclude_user_id: int | None = None, via: str = Via.SYSTEM) -> Ticket | None:
    """Assign ``ticket`` to the agent its team's routing chooses; None when nobody fits,
    the team routes manually, or the ticket has no team.

    Precondition: inside a transaction, in the ticket's tenant scope, ``ticket`` locked by
    the caller (the ticket services hold its row lock when hooks run). The team's routing
    row is locked too, so concurrent tickets of one team take turns in round-robin order
    instead of both going to the same agent.
    """
    from tickets.services.tickets import apply_changes

    if ticket.team_id is None or ticket.is_closed:
        return None
    tenant = ticket.tenant
    routing = TeamRouting.objects.select_for_update().filter(tenant=tenant, team_id=ticket.team_id).first()
    if routing is None or routing.mode == RoutingMode.MANUAL:
        return None
    candidates = team_candidates(tenant=tenant, team_id=routing.team_id, exclude_user_id=exclude_user_id)
    chosen_id = choose_assignee(mode=routing.mode, candidates=candidates,
                                last_assigned_id=routing.last_assigned_user_id,
                                required_skills=routing.required_skills or (), language=ticket.language)
    if chosen_id is None or chosen_id == ticket.assignee_id:
        return None
    assignee = get_user_model().objects.get(pk=chosen_id)
    routing.last_assigned_user = assignee
    routing.save(update_fields=["last_assigned_user"])
    with _routing_guard():
        # The tickets services record it like any change (version, system entry,
        # ticket.updated event, audit, hooks) with no actor: routing is the system's act.
        apply_changes(ticket=ticket, actor=None, via=via, fields={"assignee": assignee},
                      audit_meta=None, now=timezone.now())
    return ticket


def routing_hook(change: TicketChange) -> None:
    """Ticket hook (order 10): route a new ticket, or one moved to another team, that has
    no assignee, when its team routes automatically."""
    if _routing.get():
        return
    ticket = change.ticket
    if ticket.assignee_id is not None or ticket.team_id is None or ticket.is_closed:
        return
    if not (change.created or change.changed("team_id") or change.changed("team")):
        return
    ticket_route(ticket=ticket)


@transaction.atomic
def tickets_reroute_for_away_agent(*, tenant: Tenant, user: Any) -> int:
    """The agent went away or offline: hand their unsolved tickets in teams that say
    ``reassign_on_away`` to available team-mates; return how many moved.

    Tickets nobody can take stay with the agent (an unassigned ticket is worse than a
    waiting one). Bounded by ``REROUTE_BATCH`` per call.
    """
    team_ids = list(TeamRouting.objects.filter(tenant=tenant, reassign_on_away=True)
                    .exclude(mode=RoutingMode.MANUAL).values_list("team_id", flat=True))
    if not team_ids:
        return 0
    tickets = list(Ticket.objects.select_for_update(of=("self",)).select_related("tenant")
                   .filter(tenant=tenant, assignee=user, team_id__in=team_ids, status__in=LOAD_STATUSES)
                   .order_by("pk")[:REROUTE_BATCH])
    moved = 0
    for ticket in tickets:
        if ticket_route(ticket=ticket, exclude_user_id=getattr(user, "pk", None)) is not None:
            moved += 1
    return moved


def agent_status_consumer(event) -> None:
    """Event consumer for ``agent.availability_changed`` (payload ``user_id``, ``before``,
    ``after``): an agent who went away or offline hands their tickets on."""
    payload = event.payload or {}
    before = payload.get("before") if isinstance(payload.get("before"), dict) else {}
    after = payload.get("after") if isinstance(payload.get("after"), dict) else {}
    status = after.get("status")
    if status not in (AgentStatus.AWAY, AgentStatus.OFFLINE) or before.get("status") == status:
        return
    user_id = payload.get("user_id")
    user = get_user_model().objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is not None:
        tickets_reroute_for_away_agent(tenant=event.tenant, user=user)
