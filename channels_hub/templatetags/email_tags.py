"""The email channel's fragment on the ticket page: what was mailed on this ticket and what
became of it (queued, sent, failed with the reason, bounced). Tickets (left of
channels_hub) cannot import it, so its template renders this tag (DESIGN.md, dependencies)."""
from __future__ import annotations

from django import template

from channels_hub.models import OutboundEmail

register = template.Library()

SHOWN = 10


@register.inclusion_tag("console/tickets/_email_deliveries.html")
def email_deliveries(ticket) -> dict:
    """The ticket's latest outgoing mails, newest first (one query, at most ``SHOWN``)."""
    if ticket is None:
        return {"deliveries": []}
    rows = list(OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
                .only("id", "kind", "status", "to", "cc", "subject", "attempts", "last_error", "created_at",
                      "sent_at", "bounced_at", "ticket_message_id", "side_conversation_id")
                .order_by("-created_at", "-id")[:SHOWN])
    return {"deliveries": rows, "ticket": ticket}
