"""Side conversations: a separate thread inside a ticket, agents-only or by email with a
third party (a supplier, another department).

Email threads are stored here with their messages; the email channel (``channels_hub``)
sends each agent message to the participants and threads their replies back with
``side_conversation_receive``.
Side messages never count in the ticket's conversation counters or SLA.
"""
from __future__ import annotations

from typing import Any, Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap
from tickets.models import Channel, Message, MessageKind, SideConversation, SideConversationKind, Status, Ticket, Via
from tickets.services import attachments as attachment_services
from tickets.services.common import TicketClosed, actor_label, emit_ticket_event, is_user, require_capability
from tickets.services.content import prepare_body
from tickets.services.tickets import _check_body_length, _clean_subject

MAX_PARTICIPANTS = 20


def _clean_participants(kind: str, participants: Iterable[Any]) -> list[str]:
    if kind == SideConversationKind.INTERNAL:
        if participants:
            raise ValidationError({"participants": [_("Agents-only threads have no outside participants.")]})
        return []
    if isinstance(participants, (str, bytes)):
        raise ValidationError({"participants": [_("List the email addresses.")]})
    out: list[str] = []
    for value in participants or ():
        if not isinstance(value, str):
            raise ValidationError({"participants": [_("Enter email addresses.")]})
        value = value.strip().lower()
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({"participants": [_("%(value)s is not an email address.") % {
                "value": value[:100]}]}) from None
        if value not in out:
            out.append(value)
    if not out:
        raise ValidationError({"participants": [_("Name at least one email address.")]})
    if len(out) > MAX_PARTICIPANTS:
        raise ValidationError({"participants": [_("At most %(max)d addresses.") % {"max": MAX_PARTICIPANTS}]})
    return out


def _add(*, side: SideConversation, actor, via, body, attachments, author_contact=None, external_id="",
         channel: str | None = None) -> Message:
    _check_body_length(body)
    content = prepare_body(body)
    uploads = attachment_services.check_uploads(attachments)
    if not content.text and not uploads:
        raise ValidationError({"body": [_("Write a message or attach a file.")]})
    ticket = side.ticket
    message = Message.objects.create(
        tenant_id=ticket.tenant_id, ticket=ticket, side_conversation=side,
        kind=MessageKind.PUBLIC if side.kind == SideConversationKind.EMAIL else MessageKind.NOTE,
        author_user=actor if is_user(actor) else None, author_contact=author_contact, via=via,
        channel=channel or Channel.CONSOLE, external_id=external_id, body_html=content.html,
        body_text=content.text, ticket_version=ticket.version,
    )
    attachment_services.attachments_store(ticket=ticket, message=message, uploads=[u[0] for u in uploads],
                                          uploaded_by=actor)
    emit_ticket_event(ticket=ticket, type="ticket.side_message_added", actor=actor, via=via, payload={
        "side_conversation_id": side.pk, "kind": side.kind, "message_id": message.pk,
        "participants": side.participants, "inbound": author_contact is not None})
    return message


def side_conversation_create(*, ticket: Ticket, actor: Any, via: str, kind: str, subject: str, body: str,
                             participants: Iterable[str] = (), attachments: Iterable[Any] = ()) -> SideConversation:
    if kind not in SideConversationKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(values)s.") % {
            "values": ", ".join(SideConversationKind.values)}]})
    tenant = ticket.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_NOTE, via=via)
        if ticket.status == Status.CLOSED:
            raise TicketClosed(ticket)
        side = SideConversation.objects.create(
            tenant=tenant, ticket=ticket, kind=kind, subject=_clean_subject(subject),
            participants=_clean_participants(kind, participants), created_by=actor if is_user(actor) else None)
        _add(side=side, actor=actor, via=via, body=body, attachments=attachments)
        audit_record(tenant=tenant, action="ticket.side_conversation_created", actor=actor,
                     actor_label=actor_label(actor), obj=ticket,
                     after={"side_conversation": side.pk, "kind": kind, "participants": side.participants})
        return side


def side_conversation_reply(*, side_conversation: SideConversation, actor: Any, via: str, body: str,
                            attachments: Iterable[Any] = ()) -> Message:
    tenant = side_conversation.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_NOTE, via=via)
        side = SideConversation.objects.select_for_update().select_related("ticket").get(pk=side_conversation.pk)
        if side.ticket.status == Status.CLOSED:
            raise TicketClosed(side.ticket)
        if not side.is_open:
            raise ValidationError({"side_conversation": [_("This side conversation is closed.")]})
        return _add(side=side, actor=actor, via=via, body=body, attachments=attachments)


def side_conversation_close(*, side_conversation: SideConversation, actor: Any, via: str) -> SideConversation:
    tenant = side_conversation.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_NOTE, via=via)
        if side_conversation.is_open:
            side_conversation.is_open = False
            side_conversation.save(update_fields=["is_open"])
            audit_record(tenant=tenant, action="ticket.side_conversation_closed", actor=actor,
                         actor_label=actor_label(actor), obj=side_conversation.ticket,
                         after={"side_conversation": side_conversation.pk})
        return side_conversation


def side_conversation_receive(*, side_conversation: SideConversation, author_contact: Any, body: str,
                              external_id: str, attachments: Iterable[Any] = ()) -> Message:
    """A participant's email reply, threaded into its side conversation (by the email channel).

    It lands even when the side conversation was closed (it is reopened: the supplier wrote
    back) or the ticket is closed: an answer from outside is never dropped. ``external_id``
    (the Message-ID) makes it idempotent.
    """
    tenant = side_conversation.tenant
    with transaction.atomic(), tenant_scope(tenant):
        existing = Message.objects.filter(tenant=tenant, channel=Channel.EMAIL, external_id=external_id).first() \
            if external_id else None
        if existing is not None:
            return existing
        side = SideConversation.objects.select_for_update().select_related("ticket").get(pk=side_conversation.pk)
        if not side.is_open:
            side.is_open = True
            side.save(update_fields=["is_open"])
        return _add(side=side, actor=None, via=Via.CUSTOMER, body=body, attachments=attachments,
                    author_contact=author_contact, external_id=external_id, channel=Channel.EMAIL)
