"""The ways in and out: channels (an email mailbox, a connector for a messaging bridge),
the raw mail they receive (stored before anything else happens), the Message-IDs that
thread replies back, and the outbox every outgoing mail goes through.
"""
from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from helpdesk.crypto import EncryptedTextField
from helpdesk.tenancy.models import TenantOwned

CHANNEL_KEY_PREFIX = "ch"
CHANNEL_SECRET_PREFIX = "chs"


def hash_channel_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _channel_key() -> str:
    return f"{CHANNEL_KEY_PREFIX}_{secrets.token_hex(10)}"


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    CONNECTOR = "connector", _("Connector")


class MailSecurity(models.TextChoices):
    NONE = "none", _("None")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS")


class Channel(TenantOwned):
    """One way customers reach the tenant: a support mailbox, or a bridge to a messaging platform.

    ``key`` is public (it names the channel in URLs); the secret that authenticates a
    bridge or an inbound-mail hook is shown once and stored as a SHA-256 hash.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=40, unique=True, default=_channel_key, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # --- email -------------------------------------------------------------------------
    address = models.EmailField(_("support address"), blank=True, default="")
    from_name = models.CharField(_("sender name"), max_length=100, blank=True, default="")
    # The tenant's default mailbox answers tickets that came in another way (portal, API).
    is_default = models.BooleanField(_("default for outgoing mail"), default=False)
    token_prefix = models.CharField(_("ticket token prefix"), max_length=10, default="#")
    acknowledge = models.BooleanField(_("acknowledge new requests"), default=True)
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True, default="")
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(_("SMTP security"), max_length=10, choices=MailSecurity.choices,
                                     default=MailSecurity.STARTTLS)
    smtp_username = models.CharField(_("SMTP user"), max_length=255, blank=True, default="")
    smtp_password = EncryptedTextField(_("SMTP password"), blank=True, default="")
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True, default="")
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP security"), max_length=10, choices=MailSecurity.choices,
                                     default=MailSecurity.SSL)
    imap_username = models.CharField(_("IMAP user"), max_length=255, blank=True, default="")
    imap_password = EncryptedTextField(_("IMAP password"), blank=True, default="")
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    imap_interval_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=60)
    imap_next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    imap_last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    imap_last_error = models.CharField(max_length=300, blank=True, default="", editable=False)
    # Noise control: a sender or the whole channel above these rates is stored but not
    # turned into tickets (a mail storm, a loop with another robot).
    sender_hourly_limit = models.PositiveIntegerField(_("messages per sender per hour"), default=30)
    channel_hourly_limit = models.PositiveIntegerField(_("messages per hour"), default=2000)
    # Addresses or "@domain" entries. With an allow list, only those senders make tickets.
    blocked_senders = models.JSONField(_("blocked senders"), default=list, blank=True)
    allowed_senders = models.JSONField(_("allowed senders"), default=list, blank=True)

    # --- connector ---------------------------------------------------------------------
    provider = models.CharField(_("platform"), max_length=50, blank=True, default="",
                                help_text=_("whatsapp, sms, twitter, … (shown to agents)."))
    webhook_url = models.URLField(_("reply webhook URL"), max_length=500, blank=True, default="")
    # Signs the reply webhooks (HMAC-SHA256), so the bridge knows they are ours. Shown once.
    signing_secret = EncryptedTextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="channel_unique_name"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(is_default=True, kind="email"),
                                    name="channel_one_default_email"),
        ]
        indexes = [
            # The poll sweep crosses tenants: mailboxes due a poll, nothing else.
            models.Index(fields=["imap_next_poll_at"], name="channel_imap_due",
                         condition=Q(kind="email", is_active=True) & ~Q(imap_host="")),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def generate_secret() -> tuple[str, str]:
        """Return (raw secret, hash). The raw secret is shown once and never stored."""
        raw = f"{CHANNEL_SECRET_PREFIX}_{secrets.token_urlsafe(32)}"
        return raw, hash_channel_secret(raw)

    @property
    def sends_own_smtp(self) -> bool:
        return bool(self.smtp_host)

    @property
    def polls_imap(self) -> bool:
        return self.kind == ChannelKind.EMAIL and bool(self.imap_host)


class InboundSource(models.TextChoices):
    IMAP = "imap", _("IMAP")
    HOOK = "hook", _("Inbound hook")
    PIPE = "pipe", _("MTA pipe")


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class InboundEmail(TenantOwned):
    """A mail exactly as it arrived, stored before it is parsed: nothing accepted is lost,
    and any of them can be processed again."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="inbound_emails")
    source = models.CharField(max_length=8, choices=InboundSource.choices)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    # Why an ignored mail made no ticket ("blocked", "rate-limited", "bounce", "loop", …).
    reason = models.CharField(max_length=40, blank=True, default="")
    error = models.TextField(blank=True, default="")
    malformed = models.BooleanField(default=False)
    message_id = models.CharField(max_length=255, blank=True, default="")
    sender = models.CharField(max_length=320, blank=True, default="")
    subject = models.CharField(max_length=250, blank=True, default="")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)
    ticket_message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        indexes = [
            models.Index(fields=["tenant", "channel", "-received_at"], name="inbound_tenant_channel"),
            models.Index(fields=["tenant", "message_id"], name="inbound_tenant_message_id"),
            # The sweep finds mail whose processing task was lost: only unprocessed rows.
            models.Index(fields=["received_at"], name="inbound_unprocessed",
                         condition=Q(status="received")),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id or f"#{self.pk}"


class ThreadDirection(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class EmailThreadRef(TenantOwned):
    """A Message-ID we received or sent, and the ticket (or side conversation) it belongs
    to: the index that ``In-Reply-To``/``References`` are matched against (SPEC §6)."""

    message_id = models.CharField(max_length=255)
    direction = models.CharField(max_length=3, choices=ThreadDirection.choices)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False)
    side_conversation = models.ForeignKey("tickets.SideConversation", null=True, blank=True,
                                          on_delete=models.CASCADE, related_name="+", db_index=False)
    ticket_message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    # The mail's own References (space separated): a reply to it references these too.
    references = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("email thread reference")
        verbose_name_plural = _("email thread references")
        constraints = [models.UniqueConstraint(fields=["tenant", "message_id"], name="threadref_unique_id")]
        indexes = [models.Index(fields=["tenant", "ticket", "-created_at"], name="threadref_tenant_ticket")]

    def __str__(self) -> str:
        return self.message_id


class OutboundKind(models.TextChoices):
    # A noun (the mail of an agent's reply), not the "Reply" button: Turkish has two words.
    REPLY = "reply", pgettext_lazy("message kind", "Reply")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    NOTIFICATION = "notification", _("Notification")
    AUTOMATION = "automation", _("Trigger or automation")
    SIDE_CONVERSATION = "side", _("Side conversation")
    PORTAL = "portal", _("Portal")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # A state ("was sent"), not the "Sent" box of the mail log: Turkish has two words.
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class OutboundEmail(TenantOwned):
    """One mail we send, from queued to sent (or failed, or bounced), with its threading
    headers. The row is written in the transaction of what caused it; a Celery task sends
    it after commit, and a sweep retries what is due."""

    kind = models.CharField(max_length=16, choices=OutboundKind.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                db_index=False)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+", db_index=False)
    ticket_message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    side_conversation = models.ForeignKey("tickets.SideConversation", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+", db_index=False)
    from_email = models.CharField(max_length=400)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    message_id = models.CharField(max_length=255)
    in_reply_to = models.CharField(max_length=255, blank=True, default="")
    references = models.TextField(blank=True, default="")
    # "auto-replied" / "auto-generated" for automatic mail (SPEC §6): sent with an empty
    # envelope sender, and never answered by other robots.
    auto_submitted = models.CharField(max_length=20, blank=True, default="")
    attachment_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "message_id"], name="outbound_unique_message_id"),
            # One mail of each kind per conversation entry: the event consumer that queues
            # replies can run twice without sending twice.
            models.UniqueConstraint(fields=["tenant", "ticket_message", "kind"], name="outbound_unique_message_kind",
                                    condition=Q(ticket_message__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["tenant", "ticket", "-created_at"], name="outbound_tenant_ticket"),
            models.Index(fields=["next_attempt_at"], name="outbound_due", condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return self.subject


# --- connector channels --------------------------------------------------------------------

class ConnectorStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")


class ConnectorInbound(TenantOwned):
    """A message a bridge delivered, stored as sent before it is processed; ``external_id``
    per channel makes a retried delivery a no-op."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="connector_inbound")
    external_id = models.CharField(max_length=255)
    conversation_id = models.CharField(max_length=255)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=ConnectorStatus.choices, default=ConnectorStatus.RECEIVED)
    error = models.TextField(blank=True, default="")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)
    ticket_message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", db_index=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("connector message")
        verbose_name_plural = _("connector messages")
        constraints = [models.UniqueConstraint(fields=["tenant", "channel", "external_id"],
                                               name="connector_inbound_unique")]
        indexes = [models.Index(fields=["received_at"], name="connector_unprocessed",
                                condition=Q(status="received"))]


class ConnectorConversation(TenantOwned):
    """A conversation on the bridged platform and the ticket it continues in. ``is_public``:
    a public post or mention, so agents see that their reply will be public too."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    conversation_id = models.CharField(max_length=255)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False)
    contact = models.ForeignKey("people.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    is_public = models.BooleanField(_("public post or mention"), default=False)
    public_url = models.URLField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("connector conversation")
        verbose_name_plural = _("connector conversations")
        constraints = [models.UniqueConstraint(fields=["tenant", "channel", "conversation_id"],
                                               name="connector_conversation_unique")]
        indexes = [models.Index(fields=["tenant", "ticket"], name="connector_conv_ticket")]


class ConnectorDelivery(TenantOwned):
    """An agent's reply on its way to the bridge as a signed webhook call, with its state."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    conversation = models.ForeignKey(ConnectorConversation, on_delete=models.CASCADE, related_name="deliveries")
    ticket_message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE, related_name="+",
                                       db_index=False)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # The platform's id for the sent message, when the bridge answers with one.
    external_id = models.CharField(max_length=255, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("connector delivery")
        verbose_name_plural = _("connector deliveries")
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket_message"],
                                               name="connector_delivery_unique")]
        indexes = [models.Index(fields=["next_attempt_at"], name="connector_delivery_due",
                                condition=Q(status="queued"))]


# --- request portal ------------------------------------------------------------------------

class PortalSettings(TenantOwned):
    """How the tenant's request portal behaves (one row per tenant, made with defaults)."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="portal_settings")
    enabled = models.BooleanField(_("request portal enabled"), default=True)
    # Customers see the requests of everyone in their organization.
    organization_requests = models.BooleanField(_("show organization's requests"), default=False)
    passwords = models.BooleanField(_("customers may set a password"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")


class PortalAccount(TenantOwned):
    """A customer's sign-in to the portal: magic links always; a password when they set one."""

    contact = models.OneToOneField("people.Contact", on_delete=models.CASCADE, related_name="portal_account")
    email = models.EmailField()
    password = models.CharField(max_length=200, blank=True, default="")
    last_login_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="portal_account_unique_email")]


class PortalLink(TenantOwned):
    """A magic sign-in link: only its hash is stored; it works once, until it expires."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    next_url = models.CharField(max_length=300, blank=True, default="")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("portal sign-in link")
        verbose_name_plural = _("portal sign-in links")
        indexes = [models.Index(fields=["tenant", "account", "-created_at"], name="portal_link_account")]
