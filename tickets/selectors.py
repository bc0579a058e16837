"""Reads of tickets: lists, detail, conversation, and what the API and console show with them.

Every selector fetches what its rows show in a fixed number of queries (``select_related``
and ``prefetch_related``), so a page costs the same whatever it holds.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from helpdesk.people.models import ContactIdentity, IdentityKind, Team, TeamMember
from helpdesk.tenancy.models import Membership, Tenant
from tickets.models import (
    AgentProfile,
    Attachment,
    ContactReason,
    CustomField,
    Message,
    MessageKind,
    SideConversation,
    Tag,
    Ticket,
    TicketCC,
    TicketLink,
    TicketTag,
    TimeEntry,
)
from tickets.services.common import ASSIGNABLE_ROLES

# Orderings a list may ask for: each ends with a unique key so pages are stable.
ORDERINGS: dict[str, tuple[str, ...]] = {
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-number": ("-number",),
    "number": ("number",),
}
DEFAULT_ORDERING = "-updated_at"
_NUMBER = re.compile(r"^#?(\d{1,18})$")


@dataclass
class TicketFilters:
    """What a ticket list may be narrowed by (each None means "any")."""

    status: list[str] | None = None
    priority: list[str] | None = None
    type: list[str] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    tags: list[str] = field(default_factory=list)
    updated_since: dt.datetime | None = None
    q: str = ""


def _email_identities() -> Prefetch:
    return Prefetch("requester__identities", to_attr="email_identities",
                    queryset=ContactIdentity.objects.filter(kind=IdentityKind.EMAIL).order_by("-is_primary", "id"))


def with_row_data(queryset: QuerySet) -> QuerySet:
    """What a ticket row shows: people, team, tags, the requester's email, SLA timers.

    Prefetches go to plain list attributes (``to_attr``): without it Django builds a related
    manager and a tenant-filtered queryset per row and per relation, which cost more than
    the queries themselves (about 15 ms on a 50-row page). Read them with ``ticket_tags``
    and ``tickets.sla.selectors.ticket_timers``.
    """
    from tickets.sla.selectors import sla_timers_prefetch

    return queryset.select_related("requester", "assignee", "team", "organization", "contact_reason").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list"),
        _email_identities(),
        sla_timers_prefetch(),
    )


def api_rows(queryset: QuerySet) -> QuerySet:
    """``with_row_data`` rows for ``TicketOutput``, which shows only the ids of assignee,
    team, organization and contact reason: their joins go (fewer columns, and a cheaper
    plan: four left joins cost PostgreSQL about 3 ms of planning a page)."""
    return queryset.select_related(None).select_related("requester")


def ticket_tags(ticket: Ticket) -> list[Tag]:
    """The ticket's tags by name: prefetched by ``with_row_data``, else one query."""
    prefetched = getattr(ticket, "tag_list", None)
    return prefetched if prefetched is not None else list(ticket.tags.order_by("name"))


def search_q(q: str) -> Q:
    """Number (``123`` or ``#123``), subject, or the requester's name or email."""
    q = q.strip()
    condition = Q(subject__icontains=q) | Q(requester__name__icontains=q)
    condition |= Q(Exists(ContactIdentity.objects.filter(contact_id=OuterRef("requester_id"),
                                                           kind=IdentityKind.EMAIL, value__icontains=q)))
    match = _NUMBER.match(q)
    if match:
        condition |= Q(number=int(match.group(1)))
    return condition


def ticket_list(*, tenant: Tenant, filters: TicketFilters | None = None, conditions: dict | None = None,
                ordering: str = DEFAULT_ORDERING, user: Any = None, now: dt.datetime | None = None,
                queryset: QuerySet | None = None) -> QuerySet:
    """The tenant's tickets, filtered, ordered by an allowed key, with row data prefetched.

    ``conditions`` (the shared condition language of saved views) is compiled by
    ``tickets.conditions.conditions_q``.
    """
    filters = filters or TicketFilters()
    qs = queryset if queryset is not None else Ticket.objects.filter(tenant=tenant)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if filters.type:
        qs = qs.filter(type__in=filters.type)
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.requester_id is not None:
        qs = qs.filter(requester_id=filters.requester_id)
    if filters.organization_id is not None:
        qs = qs.filter(organization_id=filters.organization_id)
    for name in filters.tags:
        qs = qs.filter(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), tag__name=name)))
    if filters.updated_since is not None:
        qs = qs.filter(updated_at__gte=filters.updated_since)
    if filters.q:
        qs = qs.filter(search_q(filters.q))
    if conditions:
        from tickets.conditions import conditions_q

        qs = qs.filter(conditions_q(conditions, user=user, now=now))
    return with_row_data(qs).order_by(*ORDERINGS.get(ordering, ORDERINGS[DEFAULT_ORDERING]))


def ticket_detail_queryset(*, tenant: Tenant, queryset: QuerySet | None = None) -> QuerySet:
    qs = queryset if queryset is not None else Ticket.objects.filter(tenant=tenant)
    return with_row_data(qs).select_related("merged_into", "follow_up_of", "problem")


def ticket_get(*, tenant: Tenant, ticket_id: Any) -> Ticket | None:
    try:
        return ticket_detail_queryset(tenant=tenant).filter(pk=int(ticket_id)).first()
    except (TypeError, ValueError):
        return None


def ticket_by_number(*, tenant: Tenant, number: int) -> Ticket | None:
    return ticket_detail_queryset(tenant=tenant).filter(number=number).first()


def conversation(*, ticket: Ticket, include_notes: bool = True, include_system: bool = True) -> QuerySet:
    """The ticket's conversation, oldest first (side conversations are separate)."""
    qs = Message.objects.filter(ticket=ticket, side_conversation__isnull=True)
    if not include_notes:
        qs = qs.exclude(kind=MessageKind.NOTE)
    if not include_system:
        qs = qs.exclude(kind=MessageKind.SYSTEM)
    return (qs.select_related("author_user", "author_contact")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
            .order_by("created_at", "id"))


def side_conversations(*, ticket: Ticket) -> QuerySet:
    return (SideConversation.objects.filter(ticket=ticket).select_related("created_by")
            .prefetch_related(Prefetch("messages", queryset=Message.objects.select_related("author_user")
                                       .prefetch_related("attachments").order_by("created_at", "id")))
            .order_by("created_at", "id"))


def ticket_links(*, ticket: Ticket) -> list[tuple[TicketLink, Ticket]]:
    """(link, the other ticket) for every link of ``ticket``."""
    links = (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
             .select_related("source", "target").order_by("created_at", "id"))
    return [(link, link.target if link.source_id == ticket.pk else link.source) for link in links]


def ticket_ccs(*, ticket: Ticket) -> QuerySet:
    return (TicketCC.objects.filter(ticket=ticket).select_related("contact")
            .prefetch_related(Prefetch("contact__identities", to_attr="email_identities",
                                       queryset=ContactIdentity.objects.filter(kind=IdentityKind.EMAIL)
                                       .order_by("-is_primary", "id"))).order_by("id"))


def time_entries(*, ticket: Ticket) -> QuerySet:
    return TimeEntry.objects.filter(ticket=ticket).select_related("user").order_by("-created_at", "-id")


def requester_tickets(*, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The requester's other tickets, newest first (the requester card)."""
    return list(Ticket.objects.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
                .order_by("-created_at", "-id")[:limit])


def attachment_by_token(*, tenant: Tenant, token: str) -> Attachment | None:
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    return Attachment.objects.filter(tenant=tenant, token=token).select_related("ticket").first()


# --- definitions -------------------------------------------------------------------------

def tag_list(*, tenant: Tenant, prefix: str = "") -> QuerySet:
    qs = Tag.objects.filter(tenant=tenant)
    if prefix:
        qs = qs.filter(name__startswith=prefix.strip().lower())
    return qs.order_by("name")


def custom_field_list(*, tenant: Tenant, active_only: bool = False) -> QuerySet:
    qs = CustomField.objects.filter(tenant=tenant)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("position", "key")


def contact_reason_list(*, tenant: Tenant) -> QuerySet:
    return ContactReason.objects.filter(tenant=tenant).select_related("parent").order_by(
        "parent__position", "parent__name", "parent_id", "position", "name")


def team_list(*, tenant: Tenant) -> QuerySet:
    return Team.objects.filter(tenant=tenant).prefetch_related(
        Prefetch("members", queryset=TeamMember.objects.order_by("user_id"))).order_by("name")


def agent_list(*, tenant: Tenant, queryset: QuerySet | None = None) -> QuerySet:
    """Members who can take tickets (owners, admins, agents), with their availability."""
    qs = queryset if queryset is not None else Membership.objects.filter(tenant=tenant)
    return (qs.filter(is_active=True, role__in=ASSIGNABLE_ROLES, user__is_active=True).select_related("user")
            .prefetch_related(Prefetch("user__agent_profiles", to_attr="profiles",
                                       queryset=AgentProfile.objects.filter(tenant=tenant)),
                              Prefetch("user__team_memberships", to_attr="tenant_teams",
                                       queryset=TeamMember.objects.filter(tenant=tenant).order_by("team_id")))
            .order_by("user_id"))


def agents_by_ids(*, tenant: Tenant, user_ids: Iterable[int]) -> dict[int, Any]:
    return {m.user_id: m.user for m in Membership.objects.filter(tenant=tenant, is_active=True,
                                                                  user_id__in=list(user_ids)).select_related("user")}


def ticket_list_prefetch(queryset: QuerySet) -> QuerySet:
    """What ``tickets.api.serializers.TicketOutput`` reads, for lists built elsewhere (views)."""
    return with_row_data(queryset)


def status_for_customer(status: str) -> str:
    """What a customer is shown: on-hold (waiting on a third party) reads as open (SPEC.md §1)."""
    from tickets.models import Status

    return Status.OPEN if status == Status.ON_HOLD else status
