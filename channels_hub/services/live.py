"""The ticket page's delivery panels, live: when the outbox or the connector records what
became of a delivery (sent, failed, bounced, or an attempt that will be retried), the pages
of its ticket hear of it after commit and fetch the panel again
(``channels_hub.views.ticket_panels``). Queueing pushes nothing: the first attempt follows
at once, and a new delivery shows with its outcome.

A frame says which delivery changed and its status, nothing more: no content, addresses or
errors. Every page of the ticket receives it, and the page fetches what it shows through
the fragment view's own permission checks. Pushes are best effort
(``tickets.consumers.push_to_ticket_page_after_commit``): a channel layer that is down
never fails a delivery; the panel is right on the next load.
"""
from __future__ import annotations

from channels_hub.models import ConnectorDelivery, OutboundEmail
from tickets.consumers import push_to_ticket_page_after_commit
from tickets.models import Ticket

EMAIL_DELIVERY_CHANGED = "email.delivery_changed"
CONNECTOR_DELIVERY_CHANGED = "connector.delivery_changed"


def delivery_frame(*, kind: str, ticket: Ticket, delivery_id: int, status: str) -> dict:
    """Shaped like the ticket's other live events (``subject_id`` is the ticket's id)."""
    return {
        "type": kind,
        "subject_type": "tickets.ticket",
        "subject_id": str(ticket.pk),
        "data": {"ticket": {"id": ticket.pk, "number": ticket.number}, "delivery_id": delivery_id,
                 "status": status},
    }


def _push(*, kind: str, ticket: Ticket, delivery_id: int, status: str) -> None:
    push_to_ticket_page_after_commit(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, event=delivery_frame(
        kind=kind, ticket=ticket, delivery_id=delivery_id, status=status))


def email_delivery_changed(outbound: OutboundEmail) -> None:
    """Precondition: inside the transaction that changed ``outbound`` (its ticket loaded
    with it). Mail of no ticket (to an agent, say) has no page to tell."""
    if outbound.ticket_id is not None:
        _push(kind=EMAIL_DELIVERY_CHANGED, ticket=outbound.ticket, delivery_id=outbound.pk, status=outbound.status)


def connector_delivery_changed(delivery: ConnectorDelivery, *, ticket: Ticket) -> None:
    """Precondition: inside the transaction that changed ``delivery``; ``ticket`` is its
    message's ticket."""
    _push(kind=CONNECTOR_DELIVERY_CHANGED, ticket=ticket, delivery_id=delivery.pk, status=delivery.status)
