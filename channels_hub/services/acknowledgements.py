"""The automatic reply to a new request: the ticket number and when to expect an answer.

Only to mail a person wrote (SPEC §6: never to auto-submitted, list or bounce mail; the
caller checks the headers) and at most a few per sender per hour, so two robots cannot
keep each other busy.
"""
from __future__ import annotations

from typing import Any, Iterable

from helpdesk.console.ratelimit import window_count
from django.utils import formats, timezone
from django.utils import translation

from channels_hub.models import Channel, OutboundEmail, OutboundKind
from channels_hub.services.outbox import AUTO_REPLIED, outbound_queue
from channels_hub.services.rendering import customer_language, render_customer_email
from knowledge.services.answering import acknowledgement_articles
from tickets.models import Channel as TicketChannel
from tickets.models import Ticket
from tickets.models.sla import Metric
from tickets.sla.selectors import ticket_timers

ACKS_PER_SENDER_PER_HOUR = 3


def expected_first_reply(ticket: Ticket):
    """The first-reply due instant of the ticket's SLA, or None (no policy, paused).

    Reads ``ticket_timers``: the SLA hook of the change that created the ticket leaves its
    timers on it, so the acknowledgement costs no query here."""
    timers = [t for t in ticket_timers(ticket) if t.metric == Metric.FIRST_REPLY and t.due_at is not None
              and t.fulfilled_at is None]
    return max(timers, key=lambda t: t.cycle).due_at if timers else None


def _under_sender_limit(tenant_id: int, address: str) -> bool:
    key = f"ack-rate:{tenant_id}:{address.lower()}:{timezone.now():%Y%m%d%H}"
    return window_count(key, 3700) <= ACKS_PER_SENDER_PER_HOUR


def acknowledgement_queue(*, ticket: Ticket, to: str, channel: Channel | None = None, in_reply_to: str = "",
                          references: Iterable[str] = (), suggest_articles: bool | None = None,
                          to_deliverable: bool | None = None) -> OutboundEmail | None:
    """Queue the acknowledgement (None when the sender's hourly allowance is used up or
    the address is undeliverable). Precondition: in the transaction that created ``ticket``.

    ``suggest_articles``: whether the tenant lists help-center articles in it, when the caller
    read it already (inbound mail reads it with the mail's row); None: ask the help center.
    ``to_deliverable``: whether ``to`` can take mail, when the caller has just read or made its
    identity (inbound mail, through ``contact_resolve``); None: the outbox looks it up."""
    tenant = ticket.tenant
    if to_deliverable is False or not _under_sender_limit(tenant.pk, to):
        return None
    requester = ticket.requester
    language = customer_language(tenant=tenant, ticket=ticket, contact=requester)
    due = expected_first_reply(ticket)
    expected = ""
    if due is not None:
        with translation.override(language):
            local = timezone.localtime(due, timezone=_zone(requester.timezone or tenant.timezone))
            expected = f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"
    # Answering first (tenant option): the best-matching public articles, for email requests.
    articles = (acknowledgement_articles(ticket=ticket)
                if ticket.channel == TicketChannel.EMAIL and suggest_articles is not False else [])
    rendered = render_customer_email("acknowledgement", tenant=tenant, language=language, context={
        "ticket": ticket, "requester_name": requester.name, "expected_reply": expected, "articles": articles})
    return outbound_queue(tenant=tenant, kind=OutboundKind.ACKNOWLEDGEMENT, to=[to], subject=rendered.subject,
                          text=rendered.text, html=rendered.html, ticket=ticket, channel=channel,
                          in_reply_to=in_reply_to, references=list(references), auto_submitted=AUTO_REPLIED,
                          known_deliverable=[to] if to_deliverable else ())


def _zone(name: str) -> Any:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
