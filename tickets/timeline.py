"""The tickets' part of a contact's timeline (``helpdesk.people.timeline``).

Three kinds of entries: ``ticket`` (a ticket the contact requested, at its creation),
``ticket_cc`` (the contact was copied on a ticket, at the moment of copying) and
``message`` (the contact's own public messages). Internal notes and system entries never
show. One bounded query per kind, whatever the history's length.
"""
from __future__ import annotations

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from helpdesk.people.timeline import Cursor, TimelineEntry, cursor_q, register_source
from tickets.models import Message, MessageKind, Ticket, TicketCC

SUMMARY_CHARS = 200


def _ticket_url(number: int) -> str:
    return reverse("tickets:detail", args=[number])


def tickets_timeline(tenant, contact, before: Cursor | None, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    tickets = (Ticket.objects.filter(tenant=tenant, requester=contact)
               .filter(cursor_q(before, kind="ticket"))
               .order_by("-created_at", "-id")
               .only("id", "number", "subject", "status", "channel", "created_at")[:limit])
    for ticket in tickets:
        entries.append(TimelineEntry(
            kind="ticket", at=ticket.created_at, id=ticket.pk, url=_ticket_url(ticket.number),
            title=_("Ticket #%(number)s: %(subject)s") % {"number": ticket.number, "subject": ticket.subject},
            summary=_("%(channel)s · %(status)s") % {"channel": ticket.get_channel_display(),
                                                     "status": ticket.get_status_display()}))
    ccs = (TicketCC.objects.filter(tenant=tenant, contact=contact)
           .filter(cursor_q(before, kind="ticket_cc"))
           .select_related("ticket").order_by("-created_at", "-id")
           .only("id", "created_at", "ticket__number", "ticket__subject", "ticket__status")[:limit])
    for cc in ccs:
        entries.append(TimelineEntry(
            kind="ticket_cc", at=cc.created_at, id=cc.pk, url=_ticket_url(cc.ticket.number),
            title=_("Copied on ticket #%(number)s: %(subject)s") % {"number": cc.ticket.number,
                                                                   "subject": cc.ticket.subject},
            summary=cc.ticket.get_status_display()))
    messages = (Message.objects.filter(tenant=tenant, author_contact=contact, kind=MessageKind.PUBLIC,
                                       side_conversation__isnull=True)
                .filter(cursor_q(before, kind="message"))
                .select_related("ticket").order_by("-created_at", "-id")
                .only("id", "created_at", "channel", "body_text", "ticket__number", "ticket__subject")[:limit])
    for message in messages:
        entries.append(TimelineEntry(
            kind="message", at=message.created_at, id=message.pk,
            url=f"{_ticket_url(message.ticket.number)}#message-{message.pk}",
            title=_("Message on ticket #%(number)s (%(channel)s)") % {"number": message.ticket.number,
                                                                     "channel": message.get_channel_display()},
            summary=Truncator(" ".join(message.body_text.split())).chars(SUMMARY_CHARS)))
    return entries


def register() -> None:
    register_source("tickets", tickets_timeline)
