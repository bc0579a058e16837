"""Agents' public replies and side-conversation messages, out by email (event consumers).

They run after the change committed (``ticket.message_added``,
``ticket.side_message_added``); the outbox row's unique (message, kind) makes a second
run a no-op, so a redelivered event never mails twice.
"""
from __future__ import annotations

from channels_hub.models import OutboundEmail, OutboundKind
from channels_hub.services.outbox import outbound_queue, thread_headers
from channels_hub.services.rendering import customer_language, render_customer_email
from helpdesk.people.models import ContactIdentity, IdentityKind
from tickets.models import Channel as TicketChannel
from tickets.models import Message, SideConversationKind, TicketCC

# Conversations that continue where they started (a chat widget, a bridge): no email.
NOT_BY_EMAIL = (TicketChannel.CHAT, TicketChannel.SOCIAL)


def contact_emails(*, tenant_id: int, contact_ids: list[int]) -> dict[int, str]:
    """The address to write to for each contact: its primary email identity, else its
    oldest one (one query)."""
    found: dict[int, str] = {}
    rows = (ContactIdentity.objects.filter(tenant_id=tenant_id, contact_id__in=contact_ids, kind=IdentityKind.EMAIL)
            .order_by("contact_id", "-is_primary", "created_at", "id").values_list("contact_id", "value"))
    for contact_id, value in rows:
        found.setdefault(contact_id, value)
    return found


def _author_name(message: Message) -> str:
    user = message.author_user
    if user is None:
        return message.ticket.tenant.brand_name or message.ticket.tenant.name
    return user.get_short_name() if not user.full_name else user.full_name


def reply_email_queue(*, message: Message) -> OutboundEmail | None:
    """Mail a public reply to the requester and CCs, threaded (None: nothing to send)."""
    ticket = message.ticket
    if (message.kind != "public" or message.author_contact_id or message.side_conversation_id
            or ticket.channel in NOT_BY_EMAIL):
        return None
    if OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_message=message,
                                    kind=OutboundKind.REPLY).exists():
        return None
    cc_ids = list(TicketCC.objects.filter(ticket=ticket).values_list("contact_id", flat=True))
    emails = contact_emails(tenant_id=ticket.tenant_id, contact_ids=[ticket.requester_id, *cc_ids])
    to = emails.get(ticket.requester_id)
    cc = [emails[c] for c in cc_ids if c in emails]
    if not to and not cc:
        return None
    tenant = ticket.tenant
    headers = thread_headers(ticket=ticket)
    attachments = list(message.attachments.all())
    rendered = render_customer_email("reply", tenant=tenant, language=customer_language(tenant=tenant, ticket=ticket),
                                     subject=_reply_subject(ticket.subject, headers.in_reply_to), context={
                                         "ticket": ticket, "body_html": message.body_html,
                                         "body_text": message.body_text, "author_name": _author_name(message),
                                         "attachments": attachments})
    return outbound_queue(tenant=tenant, kind=OutboundKind.REPLY, to=[to] if to else cc[:1],
                          cc=cc if to else cc[1:], subject=rendered.subject, text=rendered.text, html=rendered.html,
                          ticket=ticket, ticket_message=message, channel=headers.channel,
                          in_reply_to=headers.in_reply_to, references=headers.references,
                          attachment_ids=[a.pk for a in attachments])


def side_email_queue(*, message: Message) -> OutboundEmail | None:
    """Mail an agent's side-conversation message to its participants, in the side
    conversation's own thread (no ticket token: replies thread by Message-ID)."""
    side = message.side_conversation
    if side is None or side.kind != SideConversationKind.EMAIL or message.author_contact_id:
        return None
    ticket = message.ticket
    if OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_message=message,
                                    kind=OutboundKind.SIDE_CONVERSATION).exists():
        return None
    headers = thread_headers(ticket=ticket, side_conversation=side)
    attachments = list(message.attachments.all())
    tenant = ticket.tenant
    rendered = render_customer_email("reply", tenant=tenant, language=customer_language(tenant=tenant, ticket=ticket),
                                     subject=_reply_subject(side.subject, headers.in_reply_to), context={
                                         "ticket": None, "body_html": message.body_html,
                                         "body_text": message.body_text, "author_name": _author_name(message),
                                         "attachments": attachments})
    return outbound_queue(tenant=tenant, kind=OutboundKind.SIDE_CONVERSATION, to=side.participants,
                          subject=rendered.subject, text=rendered.text, html=rendered.html, ticket=ticket,
                          ticket_message=message, side_conversation=side, channel=headers.channel,
                          in_reply_to=headers.in_reply_to, references=headers.references, token=False,
                          attachment_ids=[a.pk for a in attachments])


def _reply_subject(subject: str, in_reply_to: str) -> str:
    if in_reply_to and not subject.lower().startswith("re:"):
        return f"Re: {subject}"
    return subject


def _message(event) -> Message | None:
    message_id = (event.payload or {}).get("message_id")
    if not message_id:
        return None
    return (Message.objects.select_related("ticket", "ticket__tenant", "author_user", "side_conversation")
            .filter(tenant_id=event.tenant_id, pk=message_id).first())


def reply_consumer(event) -> None:
    payload = event.payload or {}
    if not payload.get("public") or payload.get("author_contact_id"):
        return
    message = _message(event)
    if message is not None:
        reply_email_queue(message=message)


def side_message_consumer(event) -> None:
    payload = event.payload or {}
    if payload.get("kind") != SideConversationKind.EMAIL or payload.get("inbound"):
        return
    message = _message(event)
    if message is not None:
        side_email_queue(message=message)


# --- automatic mail asked for by other apps ------------------------------------------------

def automation_email_consumer(event) -> None:
    """``ticket.email_requested`` (a trigger's or automation's "email the requester"):
    threaded into the ticket, marked auto-generated."""
    from channels_hub.services.outbox import AUTO_GENERATED
    from tickets.models import Ticket

    payload = event.payload or {}
    ticket = Ticket.objects.select_related("tenant").filter(
        tenant_id=event.tenant_id, pk=(payload.get("ticket") or {}).get("id")).first()
    if ticket is None or not payload.get("to"):
        return
    headers = thread_headers(ticket=ticket)
    language = payload.get("language") or customer_language(tenant=ticket.tenant, ticket=ticket)
    rendered = render_customer_email("automation", tenant=ticket.tenant, language=language,
                                     subject=payload.get("subject") or ticket.subject,
                                     context={"ticket": ticket, "body_text": payload.get("body") or ""})
    outbound_queue(tenant=ticket.tenant, kind=OutboundKind.AUTOMATION, to=[payload["to"]], subject=rendered.subject,
                   text=payload.get("body") or "", html=rendered.html, ticket=ticket, channel=headers.channel,
                   in_reply_to=headers.in_reply_to, references=headers.references,
                   auto_submitted=AUTO_GENERATED)


def notification_email_consumer(event) -> None:
    """``notification.created`` with ``by_email``: the agent's notification mail, through
    the outbox (not threaded: it is about a ticket, not part of its conversation)."""
    from channels_hub.services.outbox import AUTO_GENERATED
    from tickets.automation.notifications import notification_email_claim

    payload = event.payload or {}
    if not payload.get("by_email") or not payload.get("id"):
        return
    rendered = notification_email_claim(notification_id=payload["id"])
    if rendered is None:
        return
    from helpdesk.tenancy.models import Tenant

    tenant = Tenant.objects.get(pk=event.tenant_id)
    outbound_queue(tenant=tenant, kind=OutboundKind.NOTIFICATION, to=[rendered.to], subject=rendered.subject,
                   text=rendered.text, html=rendered.html, auto_submitted=AUTO_GENERATED, token=False)
