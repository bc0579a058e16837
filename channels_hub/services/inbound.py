"""Inbound mail, one pipeline for IMAP, the inbound hook and MTA pipes.

1. ``inbound_store`` keeps the raw message (one INSERT) and queues processing after
   commit: nothing accepted is lost, and any message can be processed again.
2. ``inbound_process`` parses it and, in one transaction, decides: duplicate, bounce,
   blocked/limited noise, a reply threaded into its ticket (or side conversation), or a
   new ticket (with an acknowledgement when the mail was written by a person).
"""
from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from channels_hub.email import ParsedAttachment, ParsedEmail, normalize_message_id, parse_email, subject_token
from channels_hub.email.headers import decode_subject, parse_sender
from channels_hub.models import (
    Channel,
    EmailThreadRef,
    InboundEmail,
    InboundSource,
    InboundStatus,
    OutboundEmail,
    OutboundStatus,
    ThreadDirection,
)
from channels_hub.services import acknowledgements
from channels_hub.services.channels import sender_matches
from channels_hub.services.live import email_delivery_changed
from channels_hub.services.queueing import publish, unprocessed
from helpdesk.console.ratelimit import window_count
from helpdesk.db.compiled import CompiledQuery
from helpdesk.db.durability import commit_without_waiting_for_disk
from helpdesk.people.identities import normalize_email
from helpdesk.people.models import ContactIdentity, IdentityKind
from helpdesk.tenancy.context import current_tenant_id, tenant_scope
from helpdesk.tenancy.models import Membership
from tickets.models import Channel as TicketChannel
from tickets.models import Message, SideConversation, Ticket, TicketCC, TicketFollower, Via
from tickets.services import attachments as attachment_services
from tickets.services.common import system_message
from tickets.services.content import MAX_BODY_CHARS, html_to_text, text_to_html
from tickets.services.messages import message_add
from tickets.services.participants import ticket_ccs_add
from tickets.services.side_conversations import side_conversation_receive
from tickets.services.tickets import contact_for_email, ticket_create

logger = logging.getLogger(__name__)

MAX_CC_ADDED = 10
ERROR_KEEP_CHARS = 4000
REPROCESS_GRACE_SECONDS = 120
MAX_PROCESS_ATTEMPTS = 5


class MessageTooLarge(ValueError):
    pass


def max_inbound_bytes() -> int:
    return settings.EMAIL_INBOUND_MAX_BYTES


# --- 1. store ------------------------------------------------------------------------------

def _peek_headers(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender and subject for lists, read cheaply (headers only); never raises."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:256 * 1024], headersonly=True)
        defects: list[str] = []
        message_id = normalize_message_id(str(headers.get("Message-ID", "") or ""))[:255]
        sender = parse_sender([str(v) for v in headers.get_all("From", [])], defects).address[:320]
        subject = decode_subject(headers.get("Subject"), defects)[:250]
        return message_id, sender, subject
    except Exception:  # noqa: BLE001 - a broken header block is the parser's business, later
        return "", "", ""


def inbound_store(*, channel: Channel, raw: bytes, source: str) -> InboundEmail:
    """Keep ``raw`` exactly as received and queue its processing after commit."""
    if source not in InboundSource.values:
        raise ValueError(f"unknown source {source!r}")
    if not raw:
        raise ValidationError({"message": [_("The message is empty.")]})
    if len(raw) > max_inbound_bytes():
        raise MessageTooLarge(len(raw))
    message_id, sender, subject = _peek_headers(raw)
    with transaction.atomic(), tenant_scope(channel.tenant):
        inbound = InboundEmail.objects.create(tenant_id=channel.tenant_id, channel=channel, source=source,
                                              raw=raw, size=len(raw), message_id=message_id, sender=sender,
                                              subject=subject)
        tenant_id, inbound_id = channel.tenant_id, inbound.pk
        transaction.on_commit(lambda: queue_process(tenant_id, inbound_id))
    return inbound


def queue_process(tenant_id: int, inbound_id: int) -> None:
    publish("process_inbound", tenant_id, inbound_id, what="inbound email")


def inbound_stuck(*, now=None, limit: int = 200) -> list[tuple[int, int]]:
    """Mail still unprocessed after the grace period (its task was lost)."""
    return unprocessed(InboundEmail, status=InboundStatus.RECEIVED, grace_seconds=REPROCESS_GRACE_SECONDS,
                       max_attempts=MAX_PROCESS_ATTEMPTS, now=now, limit=limit)


# --- 2. process ----------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str
    reason: str = ""
    ticket: Ticket | None = None
    message: Message | None = None
    ticket_id: int | None = None  # instead of ``ticket`` where only the id is at hand


def inbound_process(*, inbound_id: int, force: bool = False) -> InboundEmail | None:
    """Process one stored mail (in its tenant's scope). Idempotent: a processed mail is left
    alone unless ``force`` (reprocessing by an admin; duplicates are still recognised)."""
    try:
        with transaction.atomic():
            commit_without_waiting_for_disk()  # repeatable: the raw mail is stored (helpdesk.db.durability)
            tenant_id = current_tenant_id()
            found = [] if tenant_id is None else _INBOUND_ROW.fetch(tenant_id=tenant_id, pk=inbound_id)
            inbound = found[0] if found else None
            if inbound is None or (inbound.status != InboundStatus.RECEIVED and not force):
                return inbound
            outcome = _process(inbound)
            inbound.status = outcome.status
            inbound.reason = outcome.reason
            if outcome.ticket is not None or outcome.ticket_id is None:
                inbound.ticket = outcome.ticket
            else:
                inbound.ticket_id = outcome.ticket_id
            inbound.ticket_message = outcome.message
            inbound.processed_at = timezone.now()
            inbound.attempts += 1
            inbound.error = ""
            inbound.save(update_fields=["status", "reason", "ticket", "ticket_message", "processed_at", "attempts",
                                        "error", "malformed", "message_id", "sender", "subject"])
            return inbound
    except Exception as exc:
        # Kept, flagged and counted; the raw message stays for a fix and a reprocess.
        logger.exception("inbound email %s could not be processed", inbound_id)
        _record_failure(inbound_id, exc)
        raise


# The mail's row, locked (a second worker skips it), with what processing asks of its channel
# and tenant: compiled once per process (helpdesk.db.compiled), its building cost more than running it.
_INBOUND_ROW = CompiledQuery(
    lambda tenant_id, pk: (InboundEmail.unscoped.select_for_update(skip_locked=True, of=("self",))
                           .select_related("channel", "channel__tenant").filter(tenant_id=tenant_id, pk=pk)
                           .annotate(**_tenant_facts_annotation())[:1]),
    tenant_id=int, pk=int)


def _record_failure(inbound_id: int, exc: Exception) -> None:
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None:
            return
        inbound.attempts += 1
        inbound.error = f"{type(exc).__name__}: {exc}"[:ERROR_KEEP_CHARS]
        if inbound.attempts >= MAX_PROCESS_ATTEMPTS:
            inbound.status = InboundStatus.FAILED
        inbound.save(update_fields=["attempts", "error", "status"])


def _tenant_facts_annotation() -> dict:
    """On PostgreSQL what processing asks of the tenant comes with the mail's own row: its
    channel addresses (``_Tenancy.own_addresses``, the loop check of almost every mail),
    whether acknowledgements list articles, whether an organization assigns by domain. One
    query less each. Elsewhere ``_Tenancy`` and the services ask when needed."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    return {"own_channel_addresses": _own_addresses_subquery(),
            "suggests_articles": _suggests_articles_subquery(),
            "assigning_organizations": _assigning_organizations_subquery()}


@functools.cache
def _suggests_articles_subquery():
    """Whether the tenant's acknowledgements list help-center articles (off by default): with
    the mail's row, so a tenant without the option spends no query on it per new ticket."""
    from django.db.models import Exists, OuterRef

    from knowledge.models import HelpCenterSettings

    return Exists(HelpCenterSettings.unscoped.filter(tenant_id=OuterRef("tenant_id"), is_enabled=True,
                                                     suggest_in_acknowledgement=True))


@functools.cache
def _assigning_organizations_subquery():
    """Whether any organization of the tenant takes new contacts by their email domain: with
    the mail's row, so a new customer of a tenant without one costs no organization query."""
    from django.db.models import Exists, OuterRef

    from helpdesk.people.models import Organization

    return Exists(Organization.unscoped.filter(tenant_id=OuterRef("tenant_id"), auto_assign=True))


@functools.cache
def _own_addresses_subquery():
    """Built once per process (a queryset and its subquery cost more to build than to run):
    Django resolves a copy for each query, so the expression itself never changes. Not the
    tenant-scoped manager, whose filter would be the first caller's tenant: ``OuterRef``
    binds it to the mail's tenant (and row-level security to the tenant in context)."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import OuterRef

    return ArraySubquery(Channel.unscoped.filter(tenant_id=OuterRef("tenant_id")).exclude(address="")
                         .values("address"))


class _Tenancy:
    """What one mail's processing asks about the tenant more than once, asked once."""

    def __init__(self, tenant_id: int, *, own_addresses: list[str] | None = None,
                 assigning_organizations: bool | None = None):
        self.tenant_id = tenant_id
        self.assigning_organizations = assigning_organizations  # None: not read with the mail
        self._own: set[str] | None = None if own_addresses is None else {a.lower() for a in own_addresses}
        self._agents: set[str] | None = None

    @property
    def own_addresses(self) -> set[str]:
        if self._own is None:
            rows = Channel.objects.filter(tenant_id=self.tenant_id).exclude(address="").values_list("address", flat=True)
            self._own = {a.lower() for a in rows}
        return self._own

    @property
    def agent_addresses(self) -> set[str]:
        if self._agents is None:
            rows = Membership.objects.filter(tenant_id=self.tenant_id, is_active=True).values_list("user__email",
                                                                                                   flat=True)
            self._agents = {a.lower() for a in rows}
        return self._agents


def _process(inbound: InboundEmail) -> Outcome:
    channel = inbound.channel
    parsed = parse_email(bytes(inbound.raw), max_attachment_bytes=attachment_services.max_bytes(),
                         max_attachments=attachment_services.max_per_message())
    inbound.malformed = parsed.malformed
    # A mail without a Message-ID still needs an identity: its content's digest.
    message_id = parsed.message_id or f"sha256-{hashlib.sha256(bytes(inbound.raw)).hexdigest()[:40]}@inbound.invalid"
    inbound.message_id = message_id[:255]
    inbound.sender = parsed.sender.address[:320]
    inbound.subject = parsed.subject[:250]
    tenancy = _Tenancy(inbound.tenant_id, own_addresses=getattr(inbound, "own_channel_addresses", None),
                       assigning_organizations=getattr(inbound, "assigning_organizations", None))

    known, thread = _known_and_thread(inbound, parsed)
    if known is not None:
        reason = "own-mail" if known.direction == ThreadDirection.OUTBOUND else ""
        return Outcome(InboundStatus.DUPLICATE, reason, ticket_id=known.ticket_id)
    if parsed.bounce is not None:
        return _bounce(inbound, parsed)
    sender = parsed.sender.address.lower()
    if not sender or "@" not in sender:
        return Outcome(InboundStatus.IGNORED, "no-sender")
    try:
        sender = normalize_email(sender)
    except ValidationError:  # "x@y" that is no address anyone can answer: kept, not a ticket
        return Outcome(InboundStatus.IGNORED, "invalid-sender")
    if sender in tenancy.own_addresses:
        return Outcome(InboundStatus.IGNORED, "loop")
    if channel.blocked_senders and sender_matches(sender, channel.blocked_senders):
        return Outcome(InboundStatus.IGNORED, "blocked")
    if channel.allowed_senders and not sender_matches(sender, channel.allowed_senders):
        return Outcome(InboundStatus.IGNORED, "not-allowed")
    if _over_limit(channel, sender):
        return Outcome(InboundStatus.IGNORED, "rate-limited")

    if thread is not None and thread.side_conversation_id:
        return _side_reply(inbound, parsed, thread)
    ticket = thread.ticket if thread is not None else _token_ticket(inbound, parsed, sender)
    if ticket is not None and ticket.tenant_id == channel.tenant_id:
        ticket.tenant = channel.tenant  # the row read with the mail: the services need not read it again
    uploads, refused = _uploads(parsed.attachments)
    body = _body(parsed, refused, new_thread=thread is None and ticket is None)
    if ticket is not None and sender in tenancy.agent_addresses:
        return _agent_reply(inbound, parsed, ticket=ticket, sender=sender, body=body, uploads=uploads)
    contact = contact_for_email(tenant=channel.tenant, email=sender, name=parsed.sender.name,
                                assigning_organizations=tenancy.assigning_organizations)
    if ticket is not None:
        message = message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, body=body, public=True,
                              author_contact=contact, channel=TicketChannel.EMAIL, external_id=inbound.message_id,
                              attachments=uploads)
        target = message.ticket
        merged = target.pk != ticket.pk and ticket.merged_into_id is not None and target.follow_up_of_id != ticket.pk
        if target.pk == ticket.pk or merged:
            _copy_participants(ticket=target, parsed=parsed, tenancy=tenancy, sender_contact=contact)
        _remember(inbound, parsed, ticket=target, message=message)
        reason = "reply" if target.pk == ticket.pk else "merged" if merged else "follow-up"
        return Outcome(InboundStatus.PROCESSED, reason, ticket=target, message=message)
    ticket = ticket_create(tenant=channel.tenant, actor=None, via=Via.CUSTOMER,
                           subject=parsed.subject.strip() or _("(no subject)"), description=body,
                           requester=contact, channel=TicketChannel.EMAIL, external_id=inbound.message_id,
                           attachments=uploads, ccs=_cc_contacts(channel.tenant, _other_recipients(parsed, tenancy),
                                                                 tenancy))
    message = ticket.created_message or Message.objects.filter(ticket=ticket).order_by("id").first()
    _remember(inbound, parsed, ticket=ticket, message=message)
    if channel.acknowledge and not parsed.auto_submitted:
        acknowledgements.acknowledgement_queue(ticket=ticket, channel=channel, to=sender,
                                               to_deliverable=_known_deliverable(contact, sender),
                                               in_reply_to=inbound.message_id,
                                               references=[*parsed.references, inbound.message_id],
                                               suggest_articles=getattr(inbound, "suggests_articles", None))
    return Outcome(InboundStatus.PROCESSED, "new-ticket", ticket=ticket, message=message)


def _known_deliverable(contact, address: str) -> bool | None:
    """Whether mail can go to ``address``, known from the identity the contact was just
    reached at (``contact_resolve``); None when that is another address."""
    identity = getattr(contact, "resolved_identity", None)
    if identity is None or identity.value != address:
        return None
    return identity.undeliverable_at is None


def _agent_reply(inbound: InboundEmail, parsed: ParsedEmail, *, ticket: Ticket, sender: str, body: str,
                 uploads: list) -> Outcome:
    """An agent answering by email (to a notification, or copied on the customer's thread):
    a public reply by that agent, mailed on to the customer like one from the console; an
    internal note when their role may only write notes. A closed ticket takes nothing."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from tickets.services.common import TicketClosed

    user = (get_user_model().objects.filter(email__iexact=sender, is_active=True,
                                            memberships__tenant_id=inbound.tenant_id,
                                            memberships__is_active=True).first())
    if user is None:
        return Outcome(InboundStatus.IGNORED, "agent-unknown", ticket=ticket)
    message = None
    for public in (True, False):
        try:
            with transaction.atomic():
                message = message_add(ticket=ticket, actor=user, via=Via.EMAIL, body=body, public=public,
                                      channel=TicketChannel.EMAIL, external_id=inbound.message_id,
                                      attachments=uploads)
            break
        except PermissionDenied:
            continue
        except TicketClosed:
            return Outcome(InboundStatus.IGNORED, "ticket-closed", ticket=ticket)
    if message is None:
        return Outcome(InboundStatus.IGNORED, "not-allowed", ticket=ticket)
    _remember(inbound, parsed, ticket=ticket, message=message)
    return Outcome(InboundStatus.PROCESSED, "agent-reply", ticket=ticket, message=message)


def _remember(inbound: InboundEmail, parsed: ParsedEmail, *, ticket: Ticket, message: Message | None,
              side_conversation: SideConversation | None = None) -> None:
    # One statement: a concurrent copy of the same mail that got here first keeps its row
    # (the unique (tenant, message_id) decides; this one is then a duplicate in effect).
    EmailThreadRef.objects.bulk_create([EmailThreadRef(
        tenant_id=inbound.tenant_id, message_id=inbound.message_id, direction=ThreadDirection.INBOUND,
        ticket=ticket, ticket_message=message, side_conversation=side_conversation, channel=inbound.channel,
        references=" ".join(parsed.references[-20:]))], ignore_conflicts=True)


def _known_and_thread(inbound: InboundEmail, parsed: ParsedEmail) -> tuple[EmailThreadRef | None,
                                                                          EmailThreadRef | None]:
    """One query: the mail's own id (a duplicate when we have it) and SPEC §6 step 1, its
    In-Reply-To, then References newest first, against the ids we stored or sent."""
    candidates = [*parsed.in_reply_to, *reversed(parsed.references)]
    candidates = list(dict.fromkeys(c[:255] for c in candidates if c and c[:255] != inbound.message_id))[:50]
    ids = [inbound.message_id, *candidates]
    found = _thread_refs_query(len(ids)).fetch(tenant_id=inbound.tenant_id, **{f"id{i}": v for i, v in enumerate(ids)})
    refs = {r.message_id: r for r in found}
    known = refs.get(inbound.message_id)
    thread = next((refs[c] for c in candidates if c in refs), None)
    return known, thread


@functools.cache
def _thread_refs_query(count: int) -> CompiledQuery:
    """The thread refs of ``count`` message ids (``_known_and_thread``), compiled once per
    count (helpdesk.db.compiled). With ids to follow, their ticket comes along (a new mail
    only checks its own id)."""
    def build(tenant_id, **ids):
        queryset = EmailThreadRef.unscoped.filter(tenant_id=tenant_id, message_id__in=list(ids.values()))
        return queryset.select_related("ticket", "side_conversation") if count > 1 else queryset

    return CompiledQuery(build, tenant_id=int, **{f"id{i}": str for i in range(count)})


def _token_ticket(inbound: InboundEmail, parsed: ParsedEmail, sender: str) -> Ticket | None:
    """SPEC §6 step 2: the subject's token, only when the sender is a participant of that
    ticket (requester, CC, follower or agent); a stranger's token starts a new ticket."""
    number = subject_token(parsed.subject, inbound.channel.token_prefix)
    if number is None:
        return None
    ticket = Ticket.objects.filter(tenant_id=inbound.tenant_id, number=number).first()
    if ticket is None:
        return None
    contact_ids = set(ContactIdentity.objects.filter(tenant_id=inbound.tenant_id, kind=IdentityKind.EMAIL,
                                                     value=sender).values_list("contact_id", flat=True))
    if ticket.requester_id in contact_ids:
        return ticket
    if contact_ids and TicketCC.objects.filter(ticket=ticket, contact_id__in=contact_ids).exists():
        return ticket
    if TicketFollower.objects.filter(ticket=ticket, user__email__iexact=sender).exists():
        return ticket
    if Membership.objects.filter(tenant_id=inbound.tenant_id, is_active=True, user__email__iexact=sender).exists():
        return ticket
    return None


def _side_reply(inbound: InboundEmail, parsed: ParsedEmail, thread: EmailThreadRef) -> Outcome:
    contact = contact_for_email(tenant=inbound.channel.tenant, email=parsed.sender.address, name=parsed.sender.name)
    uploads, refused = _uploads(parsed.attachments)
    message = side_conversation_receive(side_conversation=thread.side_conversation, author_contact=contact,
                                        body=_body(parsed, refused, new_thread=False), external_id=inbound.message_id,
                                        attachments=uploads)
    _remember(inbound, parsed, ticket=thread.ticket, message=message, side_conversation=thread.side_conversation)
    return Outcome(InboundStatus.PROCESSED, "side-conversation", ticket=thread.ticket, message=message)


def _other_recipients(parsed: ParsedEmail, tenancy: _Tenancy) -> list:
    """To/Cc people other than the sender, our own addresses and agents."""
    out, seen = [], {parsed.sender.address.lower()}
    for address in [*parsed.to, *parsed.cc]:
        value = address.address.lower()
        if value and value not in seen and value not in tenancy.own_addresses and value not in tenancy.agent_addresses:
            seen.add(value)
            out.append(address)
    return out[:MAX_CC_ADDED]


def _cc_contacts(tenant, recipients: list, tenancy: _Tenancy) -> list:
    contacts = []
    for address in recipients:
        try:
            contacts.append(contact_for_email(tenant=tenant, email=address.address, name=address.name,
                                              assigning_organizations=tenancy.assigning_organizations))
        except ValidationError:
            continue
    return contacts


def _copy_participants(*, ticket: Ticket, parsed: ParsedEmail, tenancy: _Tenancy, sender_contact) -> None:
    """On a reply: other people on To/Cc become CCs of the ticket, and so does a sender who
    joined the thread by replying to it (Zendesk and Zammad do the same); one change."""
    recipients = _other_recipients(parsed, tenancy)
    if sender_contact.pk == ticket.requester_id and not recipients:
        return  # the usual reply: the requester answering us alone
    contacts = [] if sender_contact.pk == ticket.requester_id else [sender_contact]
    contacts += _cc_contacts(ticket.tenant, recipients, tenancy)
    ticket_ccs_add(ticket=ticket, contacts=contacts, actor=None, via=Via.CUSTOMER)


def _over_limit(channel: Channel, sender: str) -> bool:
    """Fixed one-hour windows in the cache (Redis in full mode): a storm from one sender or
    into one mailbox is stored and marked, not turned into hundreds of tickets."""
    hour = timezone.now().strftime("%Y%m%d%H")
    keys = []
    if channel.sender_hourly_limit:
        digest = hashlib.sha256(sender.encode()).hexdigest()[:24]
        keys.append((f"mail-rate:{channel.tenant_id}:{channel.pk}:s:{digest}:{hour}", channel.sender_hourly_limit))
    if channel.channel_hourly_limit:
        keys.append((f"mail-rate:{channel.tenant_id}:{channel.pk}:c:{hour}", channel.channel_hourly_limit))
    over = False
    for key, limit in keys:
        over = window_count(key, 3700) > limit or over  # count in every window, even once over
    return over


class _Upload(ContentFile):
    def __init__(self, attachment: ParsedAttachment):
        super().__init__(attachment.content, name=attachment.filename)
        self.content_type = attachment.content_type
        self.content_id = attachment.content_id
        self.inline = attachment.inline


def _uploads(attachments: list[ParsedAttachment]) -> tuple[list[_Upload], list[str]]:
    """The attachments the tenant's limits accept, and a line for each refused one (the
    message is kept either way; the agent sees what was left out and why)."""
    accepted, refused = [], []
    for attachment in attachments:
        upload = _Upload(attachment)
        if len(accepted) >= attachment_services.max_per_message():
            refused.append(_("%(name)s: too many attachments.") % {"name": attachment.filename})
            continue
        try:
            attachment_services.check_upload(upload)
        except ValidationError as exc:
            refused.extend(str(m) for messages in exc.message_dict.values() for m in messages)
            continue
        accepted.append(upload)
    return accepted, refused


def _body(parsed: ParsedEmail, refused: list[str], *, new_thread: bool) -> str:
    """The message body as HTML for ``prepare_body`` (which sanitises it once more).

    A new request keeps the mail's own (sanitised) HTML when it has one: formatting, links
    and tables survive. A reply shows only what is new (quoted history and signatures
    folded away; the raw mail keeps everything), as escaped text, so "<Enter>" in a plain
    mail stays text and is never read as markup.
    """
    if new_thread and parsed.html.strip():
        body = parsed.html
    else:
        text = (parsed.reply_text or parsed.text or "").strip()
        if not text and parsed.html:
            text = html_to_text(parsed.html)
        body = text_to_html(text)
    notes = []
    if refused:
        notes.append("<p>" + escape(_("Attachments not accepted:")) + "</p><ul>"
                     + "".join(f"<li>{escape(line)}</li>" for line in refused) + "</ul>")
    if parsed.malformed:
        notes.append("<p><em>" + escape(_("(This mail was damaged; the original is kept with the ticket.)"))
                     + "</em></p>")
    return (body + "".join(notes))[:MAX_BODY_CHARS]


def _bounce(inbound: InboundEmail, parsed: ParsedEmail) -> Outcome:
    """SPEC §6: mark our original failed (bounced), note it on the ticket, and flag the
    address undeliverable on a permanent failure."""
    bounce = parsed.bounce
    original = None
    if bounce.original_message_id:
        original = (OutboundEmail.objects.select_for_update(of=("self",)).select_related("ticket")
                    .filter(tenant_id=inbound.tenant_id, message_id=bounce.original_message_id[:255]).first())
    if original is None:
        return Outcome(InboundStatus.IGNORED, "bounce-unmatched")
    now = timezone.now()
    original.status = OutboundStatus.BOUNCED
    original.bounced_at = now
    original.last_error = (f"{bounce.status} {bounce.diagnostic}".strip() or _("Bounced"))[:500]
    original.save(update_fields=["status", "bounced_at", "last_error", "updated_at"])
    email_delivery_changed(original)
    recipients = [r.lower() for r in (bounce.recipients or original.to)]
    if bounce.permanent:
        ContactIdentity.objects.filter(tenant_id=inbound.tenant_id, kind=IdentityKind.EMAIL, value__in=recipients,
                                       undeliverable_at__isnull=True) \
            .update(undeliverable_at=now, undeliverable_reason=original.last_error[:300])
    message = None
    if original.ticket is not None:
        text = (_("Mail to %(to)s bounced (%(status)s): %(diagnostic)s") % {
            "to": ", ".join(recipients), "status": bounce.status or "?",
            "diagnostic": bounce.diagnostic or _("no details")})[:2000]
        message = system_message(ticket=original.ticket, actor=None, via=Via.SYSTEM,
                                 changes={"email_delivery": (OutboundStatus.SENT, OutboundStatus.BOUNCED)}, text=text)
    return Outcome(InboundStatus.IGNORED, "bounce", ticket=original.ticket, message=message)
