"""Reads of channels_hub that more than one place needs: the ticket page's delivery panels,
rendered in the page by template tags and refreshed live by fragment views
(``channels_hub.views.ticket_panels``). One query per list, whatever its length.

The panels load only the columns they show: a channel's secrets (the bridge's signing
secret, mailbox passwords) are never read into them.
"""
from __future__ import annotations

from dataclasses import dataclass

from channels_hub.models import ConnectorConversation, ConnectorDelivery, OutboundEmail
from tickets.models import Ticket

# The panels show the latest rows; older ones are in the mail log and the API.
RECENT_EMAILS = 10
RECENT_DELIVERIES = 20


def ticket_email_deliveries(*, ticket: Ticket) -> list[OutboundEmail]:
    """The ticket's latest outgoing mails, newest first (one query, at most ``RECENT_EMAILS``)."""
    return list(OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
                .only("id", "kind", "status", "to", "cc", "attempts", "last_error", "created_at",
                      "ticket_message_id")
                .order_by("-created_at", "-id")[:RECENT_EMAILS])


@dataclass(frozen=True)
class ReplyTarget:
    conversation: ConnectorConversation
    deliveries: list[ConnectorDelivery]

    @property
    def provider(self) -> str:
        return self.conversation.channel.provider or self.conversation.channel.name


def ticket_reply_target(*, ticket: Ticket) -> ReplyTarget | None:
    """Where replies on ``ticket`` go, and the state of its latest deliveries (two queries;
    one when the ticket has no bridged conversation)."""
    conversation = (ConnectorConversation.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
                    .select_related("channel")
                    .only("id", "conversation_id", "is_public", "public_url", "updated_at", "channel_id",
                          "channel__id", "channel__provider", "channel__name")
                    .order_by("-updated_at", "-id").first())
    if conversation is None:
        return None
    deliveries = list(ConnectorDelivery.objects.filter(tenant_id=ticket.tenant_id, ticket_message__ticket_id=ticket.pk)
                      .only("id", "status", "attempts", "last_error", "created_at", "ticket_message_id")
                      .order_by("-created_at", "-id")[:RECENT_DELIVERIES])
    return ReplyTarget(conversation=conversation, deliveries=deliveries)
