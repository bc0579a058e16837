"""Where a request or a chat started from a location's page goes, and in which hours.

The request portal (``channels_hub``) and the later live chat call these; the help center
(this app) cannot import them, so the direction of the dependency is theirs.

A location's ticket gets the location's team, the tag ``location-<slug>`` and, when the
location has business hours of its own, those hours: the ticket's SLA policy (matched as for
any ticket, by its conditions) then counts its targets in the location's hours instead of the
policy's calendar (``Ticket.business_hours``). ``location_routing`` hands the same calendar
(else the tenant's default) to a chat (is the team in its hours?).
"""
from __future__ import annotations

from dataclasses import dataclass

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.people.models import Team
from knowledge.models import Location

TAG_PREFIX = "location-"


@dataclass(frozen=True)
class LocationRoute:
    """What a ticket created from a location's page carries."""

    team: Team | None
    tags: tuple[str, ...]
    calendar: BusinessCalendar | None  # the location's hours, else the tenant's default
    business_hours: BusinessCalendar | None  # the location's own hours only: the ticket's


def location_tag(location: Location) -> str:
    return f"{TAG_PREFIX}{location.slug}"[:80]


def location_routing(*, location: Location) -> tuple[Team | None, BusinessCalendar | None]:
    """The location's team and business hours (its own calendar, else the tenant's default).
    Reads ``team`` and ``calendar`` (select them with the location for lists)."""
    calendar = location.calendar
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(tenant_id=location.tenant_id, is_default=True).first()
    return location.team, calendar


def location_route(location: Location) -> LocationRoute:
    team, calendar = location_routing(location=location)
    return LocationRoute(team=team, tags=(location_tag(location),), calendar=calendar,
                         business_hours=location.calendar)
