"""The outbox: every mail we send is a row first (queued, in the transaction of what caused
it), then a Celery task sends it after commit; failures are retried with backoff by the
task and by a sweep, and the row says what happened (sent, failed with the reason, bounced).

Threading (SPEC §6): our own Message-ID on every mail, ``In-Reply-To`` the mail answered,
``References`` its references plus its id, and the ticket token in the subject. Each id
sent is recorded in ``EmailThreadRef`` so the customer's reply finds its ticket.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from channels_hub.email import normalize_message_id, subject_with_token
from channels_hub.models import (
    Channel,
    ChannelKind,
    EmailThreadRef,
    MailSecurity,
    OutboundEmail,
    OutboundStatus,
    ThreadDirection,
)
from channels_hub.services.channels import default_email_channel
from channels_hub.services.live import email_delivery_changed
from channels_hub.services.queueing import publish
from helpdesk.people.models import ContactIdentity, IdentityKind
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Seconds before attempt n+1 (n = attempts so far): 1 min, 5 min, 15 min, 1 h, then every 3 h.
BACKOFF = (60, 300, 900, 3600, 10800)
MAX_REFERENCES = 20
# The send task normally runs right after commit; the sweep takes a row only after this.
SWEEP_GRACE = 60
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"


def backoff_seconds(attempts: int) -> int:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


# --- addresses and threading ---------------------------------------------------------------

def from_address(*, tenant: Tenant, channel: Channel | None) -> str:
    if channel is not None and channel.address:
        return formataddr((channel.from_name or tenant.brand_name or tenant.name, channel.address))
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((tenant.brand_name or tenant.name or name, address))


def new_message_id(from_email: str) -> str:
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "helpdesk.invalid"
    return normalize_message_id(make_msgid(domain=domain))


def deliverable(*, tenant: Tenant, addresses: Iterable[str], known: Iterable[str] = ()) -> list[str]:
    """``addresses`` minus those no mail can be addressed to (what a broken From header
    leaves, say) and those a permanent bounce marked undeliverable (one query, none when
    every address is among ``known``: ones the caller has just found deliverable)."""
    wanted = []
    for address in addresses:
        address = (address or "").strip().lower()
        if address and address not in wanted and _addressable(address):
            wanted.append(address)
    if not wanted or set(wanted) <= {a.lower() for a in known}:
        return wanted
    dead = set(ContactIdentity.objects.filter(tenant=tenant, kind=IdentityKind.EMAIL, value__in=wanted,
                                              undeliverable_at__isnull=False).values_list("value", flat=True))
    return [a for a in wanted if a not in dead]


def _addressable(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


@dataclass(frozen=True)
class ThreadHeaders:
    in_reply_to: str
    references: list[str]
    channel: Channel | None


def thread_headers(*, ticket: Any, side_conversation: Any = None) -> ThreadHeaders:
    """Headers for the next mail on a ticket (or side conversation): answer the latest mail
    received on it, else continue from the latest one sent."""
    refs = (EmailThreadRef.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket,
                                          side_conversation=side_conversation)
            .select_related("channel").order_by("-created_at", "-id"))
    latest = refs.filter(direction=ThreadDirection.INBOUND).first() or refs.first()
    if latest is None:
        return ThreadHeaders(in_reply_to="", references=[], channel=None)
    references = [r for r in latest.references.split() if r] + [latest.message_id]
    return ThreadHeaders(in_reply_to=latest.message_id, references=references[-MAX_REFERENCES:],
                         channel=latest.channel if latest.channel and latest.channel.is_active else None)


# --- queue ---------------------------------------------------------------------------------

def outbound_queue(*, tenant: Tenant, kind: str, to: Iterable[str], subject: str, text: str, html: str = "",
                   cc: Iterable[str] = (), ticket: Any = None, ticket_message: Any = None,
                   side_conversation: Any = None, channel: Channel | None = None, in_reply_to: str = "",
                   references: Iterable[str] = (), auto_submitted: str = "", token: bool = True,
                   attachment_ids: Iterable[int] = (), known_deliverable: Iterable[str] = ()) -> OutboundEmail | None:
    """Queue one mail; None when no recipient is deliverable. Precondition: inside the
    transaction of the change that causes it (the send is queued for after commit).
    ``known_deliverable``: addresses the caller has just found deliverable (``deliverable``)."""
    recipients = deliverable(tenant=tenant, addresses=to, known=known_deliverable)
    copies = [a for a in deliverable(tenant=tenant, addresses=cc) if a not in recipients]
    if not recipients:
        return None
    if channel is None or channel.kind != ChannelKind.EMAIL or not channel.is_active:
        channel = default_email_channel(tenant=tenant)
    sender = from_address(tenant=tenant, channel=channel)
    if ticket is not None and token:
        subject = subject_with_token(subject, ticket.number, channel.token_prefix if channel else "#")
    outbound = OutboundEmail.objects.create(
        tenant=tenant, kind=kind, channel=channel, ticket=ticket, ticket_message=ticket_message,
        side_conversation=side_conversation, from_email=sender, to=recipients, cc=copies,
        subject=" ".join(subject.split())[:300], body_text=text, body_html=html,
        message_id=new_message_id(sender), in_reply_to=in_reply_to,
        references=" ".join(list(references)[-MAX_REFERENCES:]), auto_submitted=auto_submitted,
        attachment_ids=list(attachment_ids), next_attempt_at=timezone.now() + timedelta(seconds=SWEEP_GRACE),
    )
    if ticket is not None:
        EmailThreadRef.objects.create(
            tenant=tenant, message_id=outbound.message_id, direction=ThreadDirection.OUTBOUND, ticket=ticket,
            side_conversation=side_conversation, ticket_message=ticket_message, channel=channel,
            references=outbound.references)
    tenant_id, outbound_id = tenant.pk, outbound.pk
    transaction.on_commit(lambda: queue_send(tenant_id, outbound_id))
    return outbound


def queue_send(tenant_id: int, outbound_id: int) -> None:
    publish("send_outbound", tenant_id, outbound_id, what="outbound email")


# --- send ----------------------------------------------------------------------------------

def _bracket(message_id: str) -> str:
    return f"<{message_id}>" if message_id else ""


def build_message(outbound: OutboundEmail, *, connection=None) -> EmailMultiAlternatives:
    headers = {"Message-ID": _bracket(outbound.message_id)}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = _bracket(outbound.in_reply_to)
    refs = [r for r in outbound.references.split() if r]
    if refs:
        headers["References"] = " ".join(_bracket(r) for r in refs)
    if outbound.auto_submitted:
        headers["Auto-Submitted"] = outbound.auto_submitted
        headers["X-Auto-Response-Suppress"] = "All"
    if outbound.ticket_id:
        headers["X-Helpdesk-Ticket"] = str(outbound.ticket.number)
    message = EmailMultiAlternatives(subject=outbound.subject, body=outbound.body_text,
                                     from_email=outbound.from_email, to=list(outbound.to), cc=list(outbound.cc),
                                     headers=headers, connection=connection)
    if outbound.body_html:
        message.attach_alternative(outbound.body_html, "text/html")
    if outbound.attachment_ids:
        from tickets.models import Attachment

        for attachment in Attachment.objects.filter(tenant_id=outbound.tenant_id, pk__in=outbound.attachment_ids):
            with attachment.file.open("rb") as handle:
                message.attach(attachment.filename, handle.read(), attachment.content_type)
    return message


@dataclass(frozen=True)
class SmtpParams:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: int = 30


def smtp_params(channel: Channel | None) -> SmtpParams | None:
    """The channel's own server, else the deployment's SMTP server, else None (Django's
    configured backend: files in embedded mode, memory in tests)."""
    if channel is not None and channel.smtp_host:
        return SmtpParams(channel.smtp_host, channel.smtp_port, channel.smtp_security, channel.smtp_username,
                          channel.smtp_password)
    if settings.EMAIL_BACKEND == SMTP_BACKEND and settings.EMAIL_HOST:
        security = (MailSecurity.SSL if settings.EMAIL_USE_SSL else
                    MailSecurity.STARTTLS if settings.EMAIL_USE_TLS else MailSecurity.NONE)
        return SmtpParams(settings.EMAIL_HOST, settings.EMAIL_PORT, security, settings.EMAIL_HOST_USER,
                          settings.EMAIL_HOST_PASSWORD, settings.EMAIL_TIMEOUT or 30)
    return None


def smtp_send(params: SmtpParams, *, envelope_from: str, recipients: list[str], data: bytes) -> None:
    """Deliver one message; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
    context = ssl.create_default_context()
    if params.security == MailSecurity.SSL:
        client: smtplib.SMTP = smtplib.SMTP_SSL(params.host, params.port, timeout=params.timeout, context=context)
    else:
        client = smtplib.SMTP(params.host, params.port, timeout=params.timeout)
    try:
        if params.security == MailSecurity.STARTTLS:
            client.starttls(context=context)
        if params.username:
            client.login(params.username, params.password)
        client.sendmail(envelope_from, recipients, data)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "smtp_code", None)
    detail = getattr(exc, "smtp_error", b"")
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{rcpt}: {code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
                 for rcpt, (code, msg) in exc.recipients.items()]
        return ("recipients refused: " + "; ".join(parts))[:500]
    text = f"{code} {detail}".strip() if code else (str(exc) or type(exc).__name__)
    return text[:500]


def outbound_send(*, outbound_id: int, now=None) -> str | None:
    """Send one queued mail (in the tenant's scope); returns its new status, or None when
    there was nothing to do (already sent, or another worker is sending it). The ticket's
    pages hear of every attempt after commit (``services.live``)."""
    with transaction.atomic():
        outbound = (OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("channel", "ticket").filter(pk=outbound_id, status=OutboundStatus.QUEUED).first())
        if outbound is None:
            return None
        now = now or timezone.now()
        try:
            params = smtp_params(outbound.channel)
            if params is None:
                build_message(outbound, connection=get_connection(fail_silently=False)).send()
            else:
                message = build_message(outbound)
                envelope = "" if outbound.auto_submitted else parseaddr(outbound.from_email)[1]
                smtp_send(params, envelope_from=envelope, recipients=message.recipients(),
                          data=message.message().as_bytes(linesep="\r\n"))
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            # ValueError (UnicodeError among them): a header or address no mail can carry; no
            # retry will change it.
            outbound.attempts += 1
            outbound.last_error = _error_text(exc)
            if _is_permanent(exc) or isinstance(exc, ValueError) or outbound.attempts >= MAX_ATTEMPTS:
                outbound.status = OutboundStatus.FAILED
                outbound.next_attempt_at = None
            else:
                outbound.next_attempt_at = now + timedelta(seconds=backoff_seconds(outbound.attempts))
            outbound.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"])
            email_delivery_changed(outbound)
            logger.info("outbound email %s: %s (attempt %s)", outbound.pk, outbound.last_error, outbound.attempts)
            return outbound.status
        outbound.attempts += 1
        outbound.status = OutboundStatus.SENT
        outbound.sent_at = now
        outbound.next_attempt_at = None
        outbound.last_error = ""
        outbound.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at", "last_error", "updated_at"])
        email_delivery_changed(outbound)
        return outbound.status


def outbound_due(*, now=None, limit: int = 200) -> list[tuple[int, int]]:
    """(tenant id, outbound id) of queued mail whose next attempt is due, across tenants
    (the retry sweep; the partial index ``outbound_due`` makes it a range scan)."""
    from helpdesk.tenancy.context import dangerously_unscoped

    now = now or timezone.now()
    with dangerously_unscoped():
        return list(OutboundEmail.unscoped.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
                    .order_by("next_attempt_at").values_list("tenant_id", "pk")[:limit])
