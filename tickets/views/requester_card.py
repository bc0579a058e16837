"""The requester card of the ticket page: who the customer is and what they asked before.

Identities, organization and custom attributes come with the ticket (``queries.with_detail``
selects and prefetches them); open and recent tickets on every channel are two bounded
queries, and whether the integration panel shows is one ``EXISTS``: the card costs the same
queries whatever the customer's history. The integrations themselves are called later, by
the panel's own fragment (``helpdesk.console.views.integrations``), so a slow shop never
slows the ticket page.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from helpdesk.people.models import Contact, CustomerDataIntegration
from helpdesk.tenancy.roles import Cap, role_has
from tickets.models import Channel, Status, Ticket
from tickets.models.ticket import UNSOLVED_STATUSES

OPEN_TICKETS = 10
RECENT_TICKETS = 5
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_CHARS = 300
# The console's icon sprite (templates/console/_icons.html) for each channel.
CHANNEL_ICONS = {
    Channel.EMAIL: "inbox",
    Channel.WEB: "link",
    Channel.CHAT: "chat",
    Channel.PHONE: "phone",
    Channel.API: "key",
    Channel.SOCIAL: "users",
    Channel.CONSOLE: "user",
}


@dataclass(frozen=True)
class CardTicket:
    ticket: Ticket
    icon: str


def attribute_rows(attributes: Any) -> list[tuple[str, str]]:
    """``(key, shown value)`` of a contact's custom attributes, by key; text only (the
    template escapes it). Lists join with commas, objects show as compact JSON."""
    if not isinstance(attributes, dict):
        return []
    rows = []
    for key in sorted(attributes, key=lambda k: str(k).lower())[:MAX_ATTRIBUTES]:
        value = attributes[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, bool):
            shown = gettext("Yes") if value else gettext("No")
        elif isinstance(value, list):
            shown = ", ".join(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
                              for v in value)
        elif isinstance(value, dict):
            shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            shown = str(value)
        if len(shown) > MAX_ATTRIBUTE_CHARS:
            shown = shown[:MAX_ATTRIBUTE_CHARS - 1] + "…"
        rows.append((str(key), shown))
    return rows


def _card_tickets(tickets) -> list[CardTicket]:
    return [CardTicket(ticket=t, icon=CHANNEL_ICONS.get(t.channel, "link")) for t in tickets]


def requester_tickets(*, ticket: Ticket) -> tuple[list[CardTicket], list[CardTicket]]:
    """(open, recent): the requester's other unsolved tickets, most recently active first, and
    their latest solved or closed ones. Two queries, whatever the history."""
    others = (Ticket.objects.filter(requester_id=ticket.requester_id).exclude(pk=ticket.pk)
              .only("id", "number", "subject", "status", "channel", "updated_at", "created_at", "tenant_id",
                    "requester_id"))
    open_tickets = list(others.filter(status__in=UNSOLVED_STATUSES).order_by("-updated_at", "-id")[:OPEN_TICKETS])
    recent = list(others.filter(status__in=(Status.SOLVED, Status.CLOSED))
                  .order_by("-updated_at", "-id")[:RECENT_TICKETS])
    return _card_tickets(open_tickets), _card_tickets(recent)


def integrations_url(*, requester: Contact, role: str | None) -> str:
    """Where the panel loads from, or "" when there is nothing to show (no active integration,
    or a role that may not see contacts). One ``EXISTS`` query."""
    if not role_has(role, Cap.CONTACTS_VIEW):
        return ""
    if not CustomerDataIntegration.objects.filter(is_active=True).exists():
        return ""
    return reverse("console:contact_integrations", args=[requester.pk])


def requester_card(*, ticket: Ticket, role: str | None) -> dict:
    """The card's context. Needs ``requester__organization`` selected and the identities
    prefetched as ``requester.card_identities`` (``queries.with_detail``)."""
    requester = ticket.requester
    open_tickets, recent_tickets = requester_tickets(ticket=ticket)
    return {
        "requester": requester,
        "identities": requester.card_identities,
        "attributes": attribute_rows(requester.attributes),
        "open_tickets": open_tickets,
        "recent_tickets": recent_tickets,
        "integrations_url": integrations_url(requester=requester, role=role),
    }
