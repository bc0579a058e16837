"""The connector's fragment on the ticket page: tickets (left of channels_hub) cannot import
it, so its template renders this tag, which channels_hub serves (DESIGN.md, dependencies)."""
from __future__ import annotations

from django import template

from channels_hub.services.connector import ticket_reply_target

register = template.Library()


@register.inclusion_tag("console/tickets/_connector_target.html")
def connector_reply_target(ticket) -> dict:
    """Where replies on ``ticket`` go (platform, conversation, public or not) and the
    delivery state of its latest replies; nothing for tickets without a bridged
    conversation. Two queries at most."""
    return {"target": ticket_reply_target(ticket=ticket) if ticket is not None else None, "ticket": ticket}
