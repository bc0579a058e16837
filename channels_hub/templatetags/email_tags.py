"""The email channel's fragment on the ticket page: what was mailed on this ticket and what
became of it (queued, sent, failed with the reason, bounced), in a container the page
refreshes live. Tickets (left of channels_hub) cannot import it, so its template renders
this tag (DESIGN.md, dependencies)."""
from __future__ import annotations

from django import template

from channels_hub.views.ticket_panels import EMAIL

register = template.Library()


@register.inclusion_tag("console/tickets/_live_panel.html")
def email_deliveries(ticket) -> dict:
    """The ticket's latest outgoing mails, newest first (one query,
    ``selectors.ticket_email_deliveries``)."""
    return EMAIL.shell(ticket)
