"""Connector channels: a bridge (SMS, WhatsApp, a social network, anything it can reach)
delivers customers' messages here and receives agents' replies as signed webhook calls.

In, the same shape as inbound mail:

1. ``connector_inbound_store`` keeps the message exactly as the bridge sent it (one
   INSERT; the same ``external_id`` again returns the first row) and queues processing
   after commit: nothing accepted is lost, a retried delivery is no duplicate.
2. ``connector_inbound_process`` resolves the sender to a contact by identity, finds the
   conversation's ticket (or opens one; a closed one continues in its follow-up) and adds
   the message with its attachments. ``connector_inbound_stuck`` feeds the sweep.

Out, the same shape as the outbox and the tenant webhooks:

3. ``connector_reply_consumer`` (``ticket.message_added``) writes a ``ConnectorDelivery``
   for each public reply by an agent on a ticket with a conversation, and queues the send.
4. ``connector_delivery_send`` claims the row (a conditional UPDATE: of two workers one
   sends), POSTs the signed JSON outside any transaction, and records the outcome: 2xx
   sent, 5xx/timeouts/network trouble retried with backoff by the sweep
   (``connector_deliveries_due``), other 4xx failed at once with the reason.

Attachments of replies travel as signed, expiring links (``attachment_link``) that the
bridge fetches without a session. Attachments of inbound messages come as base64; URLs
are never fetched (no request to a place the bridge names), they are listed in the
message for the agent instead.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_hub.models import (
    Channel,
    ChannelKind,
    ConnectorConversation,
    ConnectorDelivery,
    ConnectorInbound,
    ConnectorStatus,
    OutboundStatus,
)
from helpdesk.console.links import platform_absolute_url
from helpdesk.db.durability import commit_without_waiting_for_disk
from helpdesk.events import webhooks
from helpdesk.events.services import backoff_seconds
from channels_hub.services.live import connector_delivery_changed
from channels_hub.services.queueing import publish, unprocessed
from helpdesk.people.models import IdentityKind
from helpdesk.people.services import contact_resolve
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from tickets.models import Attachment, Message, MessageKind, Via
from tickets.models import Channel as TicketChannel
from tickets.services import attachments as attachment_services
from tickets.services.content import MAX_BODY_CHARS
from tickets.services.messages import message_add
from tickets.services.tickets import SUBJECT_MAX_LENGTH, ticket_create

logger = logging.getLogger(__name__)

SENDER_KINDS = (IdentityKind.PHONE, IdentityKind.SOCIAL, IdentityKind.EMAIL, IdentityKind.EXTERNAL)
# Identities that only mean something on one platform carry the channel's provider.
PLATFORM_KINDS = (IdentityKind.SOCIAL, IdentityKind.EXTERNAL)
EXTERNAL_ID_MAX = 200  # + the channel key, it fits the message's 255-character external id
ERROR_KEEP_CHARS = 4000
MAX_PROCESS_ATTEMPTS = 5
REPROCESS_GRACE_SECONDS = 120
# A queued delivery whose task was lost is sent by the sweep this long after it was due.
SWEEP_GRACE_SECONDS = 20
CLAIM_MARGIN_SECONDS = 30
ATTACHMENT_LINK_SALT = "channels_hub.connector.attachment"
USER_AGENT = "Helpdesk-Connector/1.0"


def max_attempts() -> int:
    return int(getattr(settings, "CONNECTOR_MAX_ATTEMPTS", 8))


def timeout_seconds() -> float:
    """Short on purpose: a bridge answers at once and sends to its platform on its own time."""
    return float(getattr(settings, "CONNECTOR_TIMEOUT_SECONDS", 10))


def attachment_link_seconds() -> int:
    return int(getattr(settings, "CONNECTOR_ATTACHMENT_LINK_SECONDS", 24 * 3600))


def max_request_bytes() -> int:
    """The inbound endpoint's body limit: one attachment at the ticket limit, base64
    encoded (4/3), plus room for the rest of the message."""
    return attachment_services.max_bytes() * 4 // 3 + 1024 * 1024


def message_external_id(channel: Channel, external_id: str) -> str:
    """The ticket message's external id: per channel, as two bridges may reuse ids."""
    return f"{channel.key}:{external_id}"


# --- 1. store ------------------------------------------------------------------------------

def connector_inbound_store(*, channel: Channel, data: dict[str, Any]) -> tuple[ConnectorInbound, bool]:
    """Keep a validated inbound message (``data`` as the API serializer cleaned it) and
    queue its processing after commit. Returns ``(row, created)``: the same
    ``external_id`` on this channel again returns the first row, unchanged."""
    if channel.kind != ChannelKind.CONNECTOR:
        raise ValueError("not a connector channel")
    external_id = data["external_id"]
    with transaction.atomic(), tenant_scope(channel.tenant):
        existing = ConnectorInbound.objects.filter(tenant_id=channel.tenant_id, channel=channel,
                                                   external_id=external_id).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                inbound = ConnectorInbound.objects.create(
                    tenant_id=channel.tenant_id, channel=channel, external_id=external_id,
                    conversation_id=data["conversation_id"],
                    payload=json.loads(json.dumps(data, cls=DjangoJSONEncoder)))  # dates as ISO text
        except IntegrityError:
            # The same message arrived twice at once: the first one won.
            return ConnectorInbound.objects.get(tenant_id=channel.tenant_id, channel=channel,
                                                external_id=external_id), False
        tenant_id, inbound_id = channel.tenant_id, inbound.pk
        transaction.on_commit(lambda: queue_process(tenant_id, inbound_id), robust=True)
    return inbound, True


def queue_process(tenant_id: int, inbound_id: int) -> None:
    publish("connector_process_inbound", tenant_id, inbound_id, what="connector message")


def connector_inbound_stuck(*, now=None, limit: int = 200) -> list[tuple[int, int]]:
    """Messages still unprocessed after the grace period (their task was lost)."""
    return unprocessed(ConnectorInbound, status=ConnectorStatus.RECEIVED, grace_seconds=REPROCESS_GRACE_SECONDS,
                       max_attempts=MAX_PROCESS_ATTEMPTS, now=now, limit=limit)


# --- 2. process ----------------------------------------------------------------------------

def connector_inbound_process(*, inbound_id: int, force: bool = False) -> ConnectorInbound | None:
    """Process one stored message, in its tenant's scope. Idempotent: a processed row is
    left alone (``force`` processes it again; the message's external id still prevents a
    second copy in the conversation). Input a retry cannot fix (a sender whose identity no
    longer validates, an empty message) marks the row failed at once; anything else is
    counted and raised, and the sweep tries again up to ``MAX_PROCESS_ATTEMPTS``."""
    try:
        with transaction.atomic():
            commit_without_waiting_for_disk()  # repeatable: the message is stored (helpdesk.db.durability)
            inbound = (ConnectorInbound.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("channel", "channel__tenant").filter(pk=inbound_id).first())
            if inbound is None or (inbound.status != ConnectorStatus.RECEIVED and not force):
                return inbound
            try:
                with transaction.atomic():
                    message = _process(inbound)
            except ValidationError as exc:
                inbound.status = ConnectorStatus.FAILED
                inbound.error = _validation_text(exc)[:ERROR_KEEP_CHARS]
                inbound.attempts += 1
                inbound.processed_at = timezone.now()
                inbound.save(update_fields=["status", "error", "attempts", "processed_at"])
                return inbound
            inbound.status = ConnectorStatus.PROCESSED
            inbound.ticket_id = message.ticket_id
            inbound.ticket_message = message
            inbound.processed_at = timezone.now()
            inbound.attempts += 1
            inbound.error = ""
            inbound.save(update_fields=["status", "ticket", "ticket_message", "processed_at", "attempts", "error"])
            return inbound
    except Exception as exc:
        logger.exception("connector message %s could not be processed", inbound_id)
        _record_failure(inbound_id, exc)
        raise


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def _record_failure(inbound_id: int, exc: Exception) -> None:
    with transaction.atomic():
        inbound = ConnectorInbound.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None:
            return
        inbound.attempts += 1
        inbound.error = f"{type(exc).__name__}: {exc}"[:ERROR_KEEP_CHARS]
        if inbound.attempts >= MAX_PROCESS_ATTEMPTS:
            inbound.status = ConnectorStatus.FAILED
        inbound.save(update_fields=["attempts", "error", "status"])


class _Upload(ContentFile):
    def __init__(self, content: bytes, *, name: str, content_type: str):
        super().__init__(content, name=name)
        self.content_type = content_type


def _attachments(items: list[dict]) -> tuple[list[_Upload], list[str]]:
    """Uploads from base64 content, and a line for each attachment that is not stored: a
    link (never fetched) or one the tenant's limits refuse now (the API checked them on
    the way in; limits may have changed since)."""
    uploads: list[_Upload] = []
    lines: list[str] = []
    for item in items or []:
        filename = attachment_services.clean_filename(item.get("filename"))
        if not item.get("content_base64"):
            if item.get("url"):
                lines.append(_("%(name)s (not downloaded): %(url)s") % {"name": filename, "url": item["url"]})
            continue
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            lines.append(_("%(name)s: the content was not valid base64.") % {"name": filename})
            continue
        upload = _Upload(content, name=filename, content_type=item.get("content_type") or "")
        if len(uploads) >= attachment_services.max_per_message():
            lines.append(_("%(name)s: too many attachments.") % {"name": filename})
            continue
        try:
            attachment_services.check_upload(upload)
        except ValidationError as exc:
            lines.extend(str(m) for messages in exc.message_dict.values() for m in messages)
            continue
        uploads.append(upload)
    return uploads, lines


def _body(text: str, lines: list[str]) -> str:
    body = (text or "").strip()
    if lines:
        body = (body + "\n\n" if body else "") + _("Attachments not stored:") + "\n" + "\n".join(
            f"- {line}" for line in lines)
    return body[:MAX_BODY_CHARS]


def subject_from_text(text: str, *, fallback: str) -> str:
    """The first line of the text with words in it, cut to the subject's limit."""
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line:
            if len(line) > SUBJECT_MAX_LENGTH:
                line = line[:SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
            return line
    return fallback


def _sender_contact(channel: Channel, sender: dict):
    kind = sender["kind"]
    provider = sender.get("provider") or (channel.provider if kind in PLATFORM_KINDS else "")
    return contact_resolve(tenant=channel.tenant, kind=kind, value=sender["value"], provider=provider,
                           name=sender.get("name") or "")


def _process(inbound: ConnectorInbound) -> Message:
    """Precondition: inside a transaction holding ``inbound``'s row lock."""
    channel = inbound.channel
    payload = inbound.payload or {}
    contact = _sender_contact(channel, payload.get("sender") or {})
    uploads, lines = _attachments(payload.get("attachments") or [])
    text = payload.get("text") or ""
    body = _body(text, lines)
    external_id = message_external_id(channel, inbound.external_id)
    public = payload.get("public")
    public_url = payload.get("public_url") or ""

    conversation = _conversation(inbound, lock=False)
    if conversation is None:
        # A new conversation: one ticket for it even when two of its first messages are
        # processed at once (the channel row lock serialises only this rare path).
        Channel.objects.select_for_update().filter(pk=channel.pk).first()
        conversation = _conversation(inbound, lock=True)
    if conversation is None:
        ticket = ticket_create(
            tenant=channel.tenant, actor=None, via=Via.CUSTOMER, channel=TicketChannel.SOCIAL,
            subject=subject_from_text(text, fallback=_("Message from %(name)s") % {"name": contact.name}),
            description=body, requester=contact, external_id=external_id, attachments=uploads)
        message = ticket.messages.filter(kind=MessageKind.PUBLIC).order_by("id").first()
        if message is None:
            raise ValidationError({"text": [_("Write a message or attach a file.")]})
        ConnectorConversation.objects.create(
            tenant_id=channel.tenant_id, channel=channel, conversation_id=inbound.conversation_id, ticket=ticket,
            contact=contact, is_public=bool(public), public_url=public_url)
        return message

    message = message_add(ticket=conversation.ticket, actor=None, via=Via.CUSTOMER, body=body, public=True,
                          author_contact=contact, channel=TicketChannel.SOCIAL, external_id=external_id,
                          attachments=uploads)
    changed = []
    if message.ticket_id != conversation.ticket_id:
        # The ticket was closed: the conversation continues in the follow-up.
        conversation.ticket_id = message.ticket_id
        changed.append("ticket")
    if public is not None and bool(public) != conversation.is_public:
        conversation.is_public = bool(public)
        changed.append("is_public")
    if public_url and public_url != conversation.public_url:
        conversation.public_url = public_url
        changed.append("public_url")
    if conversation.contact_id is None:
        conversation.contact = contact
        changed.append("contact")
    if changed:
        conversation.save(update_fields=[*changed, "updated_at"])
    return message


def _conversation(inbound: ConnectorInbound, *, lock: bool) -> ConnectorConversation | None:
    rows = ConnectorConversation.objects.filter(tenant_id=inbound.tenant_id, channel_id=inbound.channel_id,
                                                conversation_id=inbound.conversation_id)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.select_related("ticket", "ticket__tenant").first()


# --- 3. replies out: queue -----------------------------------------------------------------

def connector_delivery_queue(*, message: Message) -> ConnectorDelivery | None:
    """A delivery for an agent's public reply on a ticket that continues a bridged
    conversation (None: nothing to deliver). Idempotent by the unique message row.
    Precondition: inside the transaction of the caller (the send is queued after commit)."""
    if (message.kind != MessageKind.PUBLIC or message.author_contact_id or message.side_conversation_id):
        return None
    conversation = (ConnectorConversation.objects.filter(tenant_id=message.tenant_id, ticket_id=message.ticket_id)
                    .order_by("-updated_at", "-id").first())
    if conversation is None:
        return None
    delivery, created = ConnectorDelivery.objects.get_or_create(
        tenant_id=message.tenant_id, ticket_message=message,
        defaults={"channel_id": conversation.channel_id, "conversation": conversation,
                  "next_attempt_at": timezone.now()})
    if created:
        tenant_id, delivery_id = message.tenant_id, delivery.pk
        transaction.on_commit(lambda: queue_send(tenant_id, delivery_id), robust=True)
    return delivery


def queue_send(tenant_id: int, delivery_id: int) -> None:
    publish("connector_send_delivery", tenant_id, delivery_id, what="connector delivery")


def connector_reply_consumer(event) -> None:
    """``ticket.message_added``: public replies not written by a customer."""
    payload = event.payload or {}
    if not payload.get("public") or payload.get("author_contact_id") or not payload.get("message_id"):
        return
    message = Message.objects.filter(tenant_id=event.tenant_id, pk=payload["message_id"]).first()
    if message is not None:
        connector_delivery_queue(message=message)


# --- 4. replies out: send ------------------------------------------------------------------

def attachment_token(*, channel: Channel, attachment: Attachment) -> str:
    return signing.dumps([channel.pk, attachment.pk], salt=ATTACHMENT_LINK_SALT, compress=False)


def attachment_link(*, channel: Channel, attachment: Attachment) -> str:
    """An absolute download link for the bridge: signed with the deployment's key (the
    bridge cannot make one for another file), bound to the channel, valid for
    ``attachment_link_seconds()``."""
    path = reverse("api:channel-connector-attachment",
                   kwargs={"key": channel.key, "token": attachment_token(channel=channel, attachment=attachment)})
    return platform_absolute_url(path)


def attachment_from_link(*, channel: Channel, token: str) -> Attachment | None:
    """The attachment a link names, when the link is ours, for this channel and not expired.
    Precondition: in ``channel.tenant``'s scope."""
    try:
        channel_id, attachment_id = signing.loads(token, salt=ATTACHMENT_LINK_SALT,
                                                  max_age=attachment_link_seconds())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if channel_id != channel.pk or not isinstance(attachment_id, int):
        return None
    return Attachment.objects.filter(tenant_id=channel.tenant_id, pk=attachment_id).first()


def delivery_body(delivery: ConnectorDelivery) -> bytes:
    """The exact bytes POSTed and signed."""
    message = delivery.ticket_message
    ticket = message.ticket
    channel = delivery.channel
    document = {
        "type": "message",
        "delivery_id": delivery.pk,
        "channel": channel.key,
        "provider": channel.provider,
        "conversation_id": delivery.conversation.conversation_id,
        "public": delivery.conversation.is_public,
        "ticket": {"id": ticket.pk, "number": ticket.number},
        "message": {
            "id": message.pk,
            "text": message.body_text,
            "html": message.body_html,
            "created_at": message.created_at.isoformat(),
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                             "url": attachment_link(channel=channel, attachment=a)}
                            for a in message.attachments.all()],
        },
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def delivery_headers(*, delivery: ConnectorDelivery, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        webhooks.SIGNATURE_HEADER: webhooks.sign(delivery.channel.signing_secret, body),
        "X-Delivery-Id": str(delivery.pk),
        "X-Delivery-Attempt": str(delivery.attempts + 1),
        "X-Channel-Key": delivery.channel.key,
    }


def _refusal(channel: Channel) -> str:
    if not channel.is_active:
        return _("The channel is inactive.")
    if not channel.webhook_url:
        return _("The channel has no reply webhook URL.")
    if not channel.signing_secret:
        return _("The channel has no signing secret; rotate it to make one.")
    return ""


def connector_delivery_send(*, delivery_id: int) -> ConnectorDelivery | None:
    """Make one attempt of a due delivery; None when it was not ours to make (sent,
    failed, not due yet, or another worker holds it).

    Precondition: in the delivery's tenant scope, outside a transaction (the POST holds no
    database lock). The claim pushes ``next_attempt_at`` past the attempt's timeout, so of
    two workers holding the same delivery (the queued task and the sweep's) one sends.
    """
    now = timezone.now()
    lease = timedelta(seconds=timeout_seconds() + CLAIM_MARGIN_SECONDS)
    claimed = ConnectorDelivery.objects.filter(pk=delivery_id, status=OutboundStatus.QUEUED,
                                               next_attempt_at__lte=now).update(next_attempt_at=now + lease)
    if not claimed:
        return None
    delivery = (ConnectorDelivery.objects.select_related("channel", "conversation", "ticket_message",
                                                         "ticket_message__ticket")
                .prefetch_related("ticket_message__attachments").get(pk=delivery_id))
    refusal = _refusal(delivery.channel)
    if refusal:
        return _record(delivery, webhooks.AttemptResult(outcome=webhooks.Outcome.FAILED, error=refusal))
    body = delivery_body(delivery)
    result = webhooks.post(url=delivery.channel.webhook_url, body=body,
                           headers=delivery_headers(delivery=delivery, body=body), timeout=timeout_seconds())
    return _record(delivery, result)


def _returned_external_id(text: str) -> str:
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return ""
    value = data.get("external_id") if isinstance(data, dict) else None
    return str(value)[:255] if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _error_text(result: webhooks.AttemptResult) -> str:
    if result.error:
        return result.error
    if result.response_status is not None:
        detail = " ".join((result.response_body or "").split())[:300]
        return f"HTTP {result.response_status}" + (f": {detail}" if detail else "")
    return ""


@transaction.atomic
def _record(delivery: ConnectorDelivery, result: webhooks.AttemptResult) -> ConnectorDelivery:
    now = timezone.now()
    delivery.attempts += 1
    delivery.response_status = result.response_status
    if result.outcome is webhooks.Outcome.SUCCEEDED:
        delivery.status = OutboundStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.external_id = _returned_external_id(result.response_body)
    elif result.outcome is webhooks.Outcome.FAILED or delivery.attempts >= max_attempts():
        delivery.status = OutboundStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = _error_text(result)[:500]
        if result.outcome is not webhooks.Outcome.FAILED:
            delivery.last_error = (_("Gave up after %(n)d attempts.") % {"n": delivery.attempts}
                                   + " " + delivery.last_error)[:500]
    else:
        delivery.next_attempt_at = now + timedelta(
            seconds=backoff_seconds(delivery.attempts, retry_after=result.retry_after))
        delivery.last_error = _error_text(result)[:500]
    delivery.save(update_fields=["attempts", "response_status", "status", "sent_at", "next_attempt_at",
                                 "last_error", "external_id", "updated_at"])
    connector_delivery_changed(delivery, ticket=delivery.ticket_message.ticket)
    log = logger.warning if delivery.status == OutboundStatus.FAILED else logger.info
    log("connector delivery %s attempt %s: %s %s", delivery.pk, delivery.attempts,
        result.response_status or result.error, delivery.status)
    return delivery


def connector_deliveries_due(*, now=None, limit: int = 200) -> list[tuple[int, int]]:
    """(tenant id, delivery id) of queued deliveries due for an attempt, across tenants
    (the retry sweep; the partial index ``connector_delivery_due`` makes it a range scan).
    A fresh delivery is left to its own task for ``SWEEP_GRACE_SECONDS``."""
    cutoff = (now or timezone.now()) - timedelta(seconds=SWEEP_GRACE_SECONDS)
    with dangerously_unscoped():
        return list(ConnectorDelivery.unscoped.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=cutoff)
                    .order_by("next_attempt_at").values_list("tenant_id", "pk")[:limit])
