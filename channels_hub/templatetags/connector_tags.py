"""The connector's fragment on the ticket page, in a container the page refreshes live:
tickets (left of channels_hub) cannot import it, so its template renders this tag, which
channels_hub serves (DESIGN.md, dependencies)."""
from __future__ import annotations

from django import template

from channels_hub.views.ticket_panels import CONNECTOR

register = template.Library()


@register.inclusion_tag("console/tickets/_live_panel.html")
def connector_reply_target(ticket) -> dict:
    """Where replies on ``ticket`` go (platform, conversation, public or not) and the
    delivery state of its latest replies; an empty container for tickets without a bridged
    conversation (a first message of one can come later). Two queries at most
    (``selectors.ticket_reply_target``)."""
    return CONNECTOR.shell(ticket)
