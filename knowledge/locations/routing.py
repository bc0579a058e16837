"""Where a request or a chat started from a location's page goes, and in which hours.

The request portal (``channels_hub``) and the later live chat call these; the help center
(this app) cannot import them, so the direction of the dependency is theirs.

Tickets take a team and tags at creation; the SLA takes its business hours from the policy
that matches the ticket (``tickets.sla``: policies match on conditions such as the team or
a tag and carry one calendar each). A location's ticket therefore gets the location's team
and the tag ``location-<slug>``: an SLA policy whose conditions name that team (or tag) and
whose business hours are the location's calendar times it in the location's hours.
``location_routing`` hands the same calendar to a chat (is the team in its hours?).
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
    calendar: BusinessCalendar | None


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
    return LocationRoute(team=team, tags=(location_tag(location),), calendar=calendar)
