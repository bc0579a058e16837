"""The console's reads for the ticket pages: one query per list or panel, whatever its length.

These are selectors in all but location: they shape the querysets the list and detail pages
render (which columns, which related rows, in which order, one page at a time). Every
function takes the tenant's default manager (scoped to the tenant in context, and RLS
below it) and never writes.

The list goes through the saved-view selector (``tickets.productivity.views``): keyset
pages over the view's sort and ``id``, one row more than a page to know whether there is
a next one, no ``COUNT(*)`` per page. "All tickets" is an unsaved view without conditions,
and a sort chosen on the page is an unsaved copy of the view with that sort.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from helpdesk.people.models import ContactIdentity, Team
from helpdesk.tenancy.context import require_tenant
from helpdesk.tenancy.models import Membership
from tickets.models import (
    ContactReason,
    CustomField,
    Macro,
    Message,
    SavedView,
    Ticket,
    TicketFollower,
    TicketTag,
    TimeEntry,
)
from tickets.productivity.macros import macro_list
from tickets.selectors import conversation as ticket_conversation
from tickets.selectors import (
    requester_tickets,
    search_q,
    side_conversations,
    ticket_ccs,
    ticket_detail_queryset,
    ticket_links,
    time_entries,
)
from tickets.productivity.views import TicketPage, view_ticket_page, view_tickets
from tickets.services.common import ASSIGNABLE_ROLES

PAGE_SIZE = 50
MAX_MESSAGES = 200
OTHER_TICKETS = 8


@dataclass(frozen=True)
class Sort:
    key: str
    label: Any
    # In the saved-view sort language (``tickets.productivity.views.clean_sort``).
    order: tuple[tuple[str, str], ...]

    def as_view_sort(self) -> list[dict]:
        return [{"field": field, "direction": direction} for field, direction in self.order]


SORTS: dict[str, Sort] = {s.key: s for s in (
    Sort("-updated_at", _("Recently updated"), (("updated_at", "desc"),)),
    Sort("updated_at", _("Least recently updated"), (("updated_at", "asc"),)),
    Sort("-created_at", _("Newest first"), (("created_at", "desc"),)),
    Sort("created_at", _("Oldest first"), (("created_at", "asc"),)),
    Sort("sla", _("SLA due soonest"), (("sla_next_due_at", "asc"),)),
    Sort("-priority", _("Highest priority"), (("priority", "desc"), ("updated_at", "desc"))),
    Sort("-number", _("Highest number"), (("number", "desc"),)),
)}

COLUMNS: dict[str, Any] = {
    "number": _("Number"),
    "subject": _("Subject"),
    "requester": _("Requester"),
    "organization": _("Organization"),
    "status": _("Status"),
    "priority": _("Priority"),
    "type": _("Type"),
    "channel": _("Channel"),
    "assignee": _("Assignee"),
    "team": _("Team"),
    "tags": _("Tags"),
    "sla_next_due_at": _("SLA"),
    "updated_at": _("Updated"),
    "created_at": _("Created"),
}
# "All tickets" (no saved view) shows these; a view shows its own.
DEFAULT_COLUMNS = ("number", "subject", "requester", "status", "priority", "assignee", "team", "sla_next_due_at",
                   "updated_at")


def view_columns(view: SavedView | None) -> list[str]:
    """The columns to show: the view's (allowlisted), number and subject always first."""
    wanted = [c for c in (view.columns if view is not None and isinstance(view.columns, list) else [])
              if isinstance(c, str) and c in COLUMNS]
    if not wanted:
        return list(DEFAULT_COLUMNS)
    return [c for c in ("number", "subject") if c not in wanted] + list(dict.fromkeys(wanted))


def all_tickets_view(*, sort: list[dict] | None = None) -> SavedView:
    """An unsaved view without conditions: "All tickets" goes through the same selector."""
    return SavedView(name=str(_("All tickets")), conditions={}, columns=list(DEFAULT_COLUMNS),
                     sort=sort or [{"field": "updated_at", "direction": "desc"}])


def with_sort(view: SavedView, sort: list[dict]) -> SavedView:
    """The same conditions in another order (an unsaved copy; the view itself is untouched)."""
    return SavedView(pk=view.pk, name=view.name, owner_id=view.owner_id, conditions=view.conditions,
                     columns=view.columns, sort=sort)


def ticket_filter_q(*, user, statuses=(), priorities=(), assignee: str = "", team: str = "", tag: str = "",
                    search: str = "") -> Q:
    """The list page's filters on top of a view's conditions."""
    q = Q()
    if statuses:
        q &= Q(status__in=list(statuses))
    if priorities:
        q &= Q(priority__in=list(priorities))
    if assignee == "me":
        q &= Q(assignee_id=user.pk)
    elif assignee == "none":
        q &= Q(assignee__isnull=True)
    elif assignee:
        q &= Q(assignee_id=int(assignee))
    if team == "none":
        q &= Q(team__isnull=True)
    elif team:
        q &= Q(team_id=int(team))
    if tag:
        q &= Q(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), tag__name=tag.strip().lower())))
    if search:
        q &= search_q(search)
    return q


def ticket_page(*, view: SavedView, user, q: Q, after: str = "", page_size: int = PAGE_SIZE) -> TicketPage:
    """One page of ``view``'s tickets narrowed by ``q`` (rows carry tickets-core's row data:
    people, team, tags, SLA timers).

    Raises ``InvalidCursor`` for a cursor the view did not issue and ValidationError for
    stored conditions that no longer validate.
    """
    def narrow(queryset):
        return queryset.filter(q)

    return view_ticket_page(view=view, user=user, after=after or None, limit=page_size, queryset_hook=narrow)


def ticket_rows(*, view: SavedView, user, q: Q, ids: list[int]) -> list[Ticket]:
    """Those of ``ids`` that are in ``view`` narrowed by ``q`` now, with the list's row data,
    in the view's order: what the list page swaps in when tickets it shows change. The same
    queries whatever the number of ids; the tenant's default manager leaves other tenants'
    ids out. Raises ValidationError for stored conditions that no longer validate."""
    return list(view_tickets(view=view, user=user).filter(q, pk__in=ids))


# --- people and choices --------------------------------------------------------------------


def assignable_members() -> list[Membership]:
    """The tenant's active agents (and admins) who can be assignees, by name."""
    members = (Membership.objects.filter(is_active=True, role__in=ASSIGNABLE_ROLES, user__is_active=True)
               .select_related("user"))
    return sorted(members, key=lambda m: (m.user.get_full_name() or m.user.email).lower())


def teams() -> list[Team]:
    return list(Team.objects.order_by("name", "id"))


def contact_reasons() -> list[ContactReason]:
    return list(ContactReason.objects.filter(is_active=True).select_related("parent")
                .order_by("parent__position", "parent__name", "position", "name"))


def custom_fields() -> list[CustomField]:
    return list(CustomField.objects.filter(is_active=True).order_by("position", "key"))


def macros_for(*, user) -> list[Macro]:
    return list(macro_list(user=user))


# --- the ticket page ----------------------------------------------------------------------------


def with_detail(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Everything the ticket page shows of the ticket itself, in a fixed number of queries:
    tickets-core's detail data plus the requester card's identities and the followers."""
    return (ticket_detail_queryset(tenant=require_tenant(), queryset=queryset)
            .select_related("requester__organization", "contact_reason__parent")
            .prefetch_related(Prefetch("followers", queryset=TicketFollower.objects.select_related("user")
                                       .order_by("created_at", "id")),
                              Prefetch("requester__identities", to_attr="card_identities",
                                       queryset=ContactIdentity.objects.order_by("-is_primary", "kind", "id"))))


def conversation(*, ticket: Ticket, limit: int = MAX_MESSAGES, after_id: int | None = None) -> tuple[list[Message], bool]:
    """The ticket's main conversation, oldest first: the latest ``limit`` entries (and whether
    there are earlier ones), or only those after ``after_id``."""
    qs = ticket_conversation(ticket=ticket)
    if after_id is not None:
        return list(qs.filter(id__gt=after_id)[:limit]), False
    latest = list(qs.order_by("-created_at", "-id")[: limit + 1])
    earlier = len(latest) > limit
    return list(reversed(latest[:limit])), earlier


def requester_other_tickets(*, ticket: Ticket, limit: int = OTHER_TICKETS) -> list[Ticket]:
    return requester_tickets(ticket=ticket, limit=limit)


def recent_time_entries(*, ticket: Ticket, limit: int = 5) -> list[TimeEntry]:
    return list(time_entries(ticket=ticket)[:limit])


def is_following(*, ticket: Ticket, user) -> bool:
    """From the prefetched followers (no query)."""
    return any(f.user_id == user.pk for f in ticket.followers.all())


def ticket_relations(*, ticket: Ticket) -> dict:
    """Side conversations, links and CCs of the ticket page (a fixed number of queries)."""
    return {
        "side_conversations": list(side_conversations(ticket=ticket)),
        "links": ticket_links(ticket=ticket),
        "ccs": list(ticket_ccs(ticket=ticket)),
    }
