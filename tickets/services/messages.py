"""Adding to the conversation: public replies, internal notes, customer messages."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.people.models import Contact
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Cap
from tickets.models import Channel, Message, MessageKind, Status, Ticket, TicketCC, Via
from tickets.services import attachments as attachment_services
from tickets.services.common import (
    AGENT_VIAS,
    TicketClosed,
    emit_ticket_event,
    is_user,
    record_change,
    require_capability,
)
from tickets.services.content import Mentionable, find_mentions, prepare_body
from tickets.services.tickets import _check_body_length, apply_changes, check_version, lock_ticket, ticket_create

# A message from the requester or a CC on these statuses reopens the ticket (SPEC.md §1).
REOPENED_BY_CUSTOMER = (Status.PENDING, Status.ON_HOLD, Status.SOLVED)


def _existing(*, tenant_id: int, channel: str, external_id: str) -> Message | None:
    if not external_id:
        return None
    return Message.objects.filter(tenant_id=tenant_id, channel=channel, external_id=external_id).first()


def mentionable_members(*, tenant) -> list[Mentionable]:
    rows = (Membership.objects.filter(tenant=tenant, is_active=True, user__is_active=True)
            .values_list("user_id", "user__email", "user__full_name"))
    return [Mentionable(user_id=uid, email=email, full_name=name or "") for uid, email, name in rows]


def message_add(
    *,
    ticket: Ticket,
    actor: Any,
    via: str,
    body: str,
    public: bool,
    author_contact: Contact | None = None,
    channel: str | None = None,
    external_id: str = "",
    attachments: Iterable[Any] = (),
    expected_version: int | None = None,
    audit_meta: Mapping[str, Any] | None = None,
) -> Message:
    """Add a public reply, an internal note, or (with ``author_contact``) a customer message.

    - Agents need ``tickets.reply`` for public replies and ``tickets.note`` for notes (light
      agents: notes only); API keys need ``tickets:write``. Customers write public messages.
    - ``(channel, external_id)`` makes it idempotent: the same id again returns the first
      message and changes nothing.
    - The requester or a CC writing on a pending, on-hold or solved ticket reopens it
      (``reopen_count`` counts reopened solves). A customer writing on a closed ticket
      starts a follow-up ticket; the message returned is then the follow-up's first one. On a
      ticket closed by a merge, the message goes to the ticket it was merged into instead.
    - A public reply by an agent (console or API, not a trigger or automation) is a reply
      for the stored counters, and the first agent action on a new ticket (→ open).
    - ``expected_version``: the stale-reply guard (``StaleTicket``).
    """
    tenant = ticket.tenant
    customer = author_contact is not None
    if customer:
        via = Via.CUSTOMER if via in AGENT_VIAS else via
        if not public:
            raise ValidationError({"public": [_("Customers write public messages only.")]})
    channel = channel or (Channel.API if via == Via.API else Channel.CONSOLE if via == Via.CONSOLE else Channel.WEB)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    _check_body_length(body)
    if len(external_id or "") > 255:
        raise ValidationError({"external_id": [_("Use at most 255 characters.")]})
    with tenant_scope(tenant):
        existing = _existing(tenant_id=tenant.pk, channel=channel, external_id=external_id)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return _message_add(ticket=ticket, actor=actor, via=via, body=body, public=public,
                                    author_contact=author_contact, channel=channel, external_id=external_id,
                                    attachments=attachments, expected_version=expected_version,
                                    audit_meta=audit_meta)
        except IntegrityError:
            # The same (channel, external_id) arrived twice at once: the first one won.
            existing = _existing(tenant_id=tenant.pk, channel=channel, external_id=external_id)
            if existing is None:
                raise
            return existing


def _message_add(*, ticket, actor, via, body, public, author_contact, channel, external_id, attachments,
                 expected_version, audit_meta) -> Message:
    tenant = ticket.tenant
    customer = author_contact is not None
    if customer:
        if author_contact.tenant_id != tenant.pk:
            raise ValidationError({"author_contact": [_("Unknown contact.")]})
    else:
        require_capability(tenant=tenant, actor=actor, via=via,
                           capability=Cap.TICKETS_REPLY if public else Cap.TICKETS_NOTE)
    locked = lock_ticket(ticket)
    if locked.status == Status.CLOSED:
        if customer:
            survivor = _merge_survivor(locked)
            if survivor is not None:
                # The conversation goes on where the merge put it, not in a follow-up of a
                # ticket nobody works on (the requester became a CC of the survivor).
                return _message_add(ticket=survivor, actor=actor, via=via, body=body, public=public,
                                    author_contact=author_contact, channel=channel, external_id=external_id,
                                    attachments=attachments, expected_version=None, audit_meta=audit_meta)
            return _follow_up(closed=locked, actor=actor, via=via, body=body, author_contact=author_contact,
                              channel=channel, external_id=external_id, attachments=attachments)
        raise TicketClosed(locked)
    check_version(locked, expected_version)

    uploads = attachment_services.check_uploads(attachments)
    content = prepare_body(body, content_ids=attachment_services.checked_content_ids(uploads))
    if not content.text and not uploads:
        raise ValidationError({"body": [_("Write a message or attach a file.")]})
    mentions = [] if public or customer else find_mentions(content.text, mentionable_members(tenant=tenant))

    now = timezone.now()
    locked.version += 1
    message = Message.objects.create(
        tenant=tenant, ticket=locked, kind=MessageKind.PUBLIC if public else MessageKind.NOTE,
        author_user=actor if is_user(actor) and not customer else None, author_contact=author_contact,
        via=via, channel=channel, external_id=external_id or "", body_html=content.html, body_text=content.text,
        mentions=mentions, ticket_version=locked.version,
    )
    stored = attachment_services.attachments_store(ticket=locked, message=message,
                                                   uploads=[u[0] for u in uploads], uploaded_by=actor)

    locked.message_count += 1
    locked.last_activity_at = now
    agent_reply = public and not customer and via in AGENT_VIAS
    status_fields: dict[str, Any] = {}
    if customer:
        locked.last_customer_message_at = now
        participant = (author_contact.pk == locked.requester_id
                       or TicketCC.objects.filter(ticket=locked, contact=author_contact).exists())
        if participant and locked.status in REOPENED_BY_CUSTOMER:
            status_fields["status"] = Status.OPEN
    elif agent_reply:
        locked.first_reply_at = locked.first_reply_at or now
        locked.last_agent_reply_at = now
        locked.public_agent_reply_count += 1
        if locked.status == Status.NEW:
            status_fields["status"] = Status.OPEN
    locked.save()

    emit_ticket_event(ticket=locked, type="ticket.message_added", actor=actor, via=via, payload={
        "message_id": message.pk, "kind": message.kind, "public": public,
        "author_user_id": message.author_user_id, "author_contact_id": message.author_contact_id,
        "mentions": mentions, "agent_reply": agent_reply, "attachments": len(stored),
    })
    if status_fields:
        # The status change is its own system entry, in the version the message made.
        apply_changes(ticket=locked, actor=actor, via=via, fields=status_fields, message=message, now=now,
                      bump_version=False, audit_meta=audit_meta)
    else:
        record_change(ticket=locked, actor=actor, via=via, at=now, changes={}, readable_changes={},
                      message=message)
    _copy_ticket_state(source=locked, target=ticket)
    return message


def _copy_ticket_state(*, source: Ticket, target: Ticket) -> None:
    """Let the caller's instance see the new state (it holds no lock; this is for display)."""
    if source is target:
        return
    for field in Ticket._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


MAX_MERGE_HOPS = 10


def _merge_survivor(closed: Ticket) -> Ticket | None:
    """The ticket a closed, merged ticket lives on in: its ``merged_into``, followed while
    that one was merged away too (at most ``MAX_MERGE_HOPS``), in the same tenant. ``None``
    when ``closed`` was closed without a merge."""
    survivor, hops = None, 0
    next_id = closed.merged_into_id
    while next_id is not None and hops < MAX_MERGE_HOPS:
        found = (Ticket.objects.filter(tenant_id=closed.tenant_id, pk=next_id)
                 .only("id", "tenant_id", "status", "merged_into_id").first())
        if found is None:
            break
        survivor, hops = found, hops + 1
        next_id = found.merged_into_id if found.status == Status.CLOSED else None
    if survivor is not None:
        survivor.tenant = closed.tenant
    return survivor


def _follow_up(*, closed: Ticket, actor, via, body, author_contact, channel, external_id, attachments) -> Message:
    follow_up = ticket_create(
        tenant=closed.tenant, actor=None if not isinstance(actor, ApiKeyUser) else actor, via=via,
        subject=closed.subject, description=body, requester=author_contact, priority=closed.priority,
        type=closed.type, channel=channel, language=closed.language, follow_up_of=closed,
        external_id=external_id, attachments=attachments,
    )
    message = follow_up.messages.order_by("id").first()
    if message is None:
        raise ValidationError({"body": [_("Write a message or attach a file.")]})
    return message

