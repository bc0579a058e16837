"""The case (Ticket) and its conversation (Message), with what hangs off them."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.people.models import Contact, Organization, Team
from helpdesk.tenancy.models import TenantOwned, tenant_key


class Status(models.TextChoices):
    """SPEC.md §1. ``closed`` is set by the system only."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


UNSOLVED_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    TASK = "task", _("Task")
    COMPLAINT = "complaint", _("Complaint")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    SOCIAL = "social", _("Social")
    CONSOLE = "console", _("Agent console")


class Via(models.TextChoices):
    """Who or what made a change: automations and triggers never count as agent replies."""

    CONSOLE = "console", _("Console")
    API = "api", _("API")
    # An agent answering by email (a reply to a notification or to the customer's thread).
    EMAIL = "email", _("Email")
    CUSTOMER = "customer", _("Customer")
    TRIGGER = "trigger", _("Trigger")
    AUTOMATION = "automation", _("Automation")
    SYSTEM = "system", _("System")


class TicketCounter(TenantOwned):
    """The last ticket number of a tenant. Incremented under a row lock: no gaps, no repeats."""

    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="ticketcounter_one_per_tenant")]


SOLVED_TO_CLOSED_DAYS_DEFAULT = 4
SOLVED_TO_CLOSED_DAYS_MIN = 1
SOLVED_TO_CLOSED_DAYS_MAX = 28


class TicketSettings(TenantOwned):
    """A tenant's ticket settings (one row per tenant, created on first change).

    Kept here rather than on ``Tenant`` (the core's) so the tickets app owns its knobs.
    Without a row the defaults apply.
    """

    solved_to_closed_days = models.PositiveSmallIntegerField(
        _("days from solved to closed"), default=SOLVED_TO_CLOSED_DAYS_DEFAULT,
        validators=[MinValueValidator(SOLVED_TO_CLOSED_DAYS_MIN), MaxValueValidator(SOLVED_TO_CLOSED_DAYS_MAX)],
        help_text=_("Solved tickets with no activity are closed after this many days (1-28)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ticket settings")
        verbose_name_plural = _("ticket settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="ticketsettings_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(solved_to_closed_days__gte=SOLVED_TO_CLOSED_DAYS_MIN,
                            solved_to_closed_days__lte=SOLVED_TO_CLOSED_DAYS_MAX),
                name="ticketsettings_close_days_range"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ContactReason(TenantOwned):
    """Two-level taxonomy of why customers get in touch (root cause of complaints)."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("contact reason")
        verbose_name_plural = _("contact reasons")
        constraints = [models.UniqueConstraint(fields=["tenant", "parent", "name"], name="contactreason_unique")]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Tag(TenantOwned):
    name = models.CharField(_("name"), max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class CustomFieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    DROPDOWN = "dropdown", _("Drop-down")
    CHECKBOX = "checkbox", _("Checkbox")
    MULTI_SELECT = "multi_select", _("Multi-select")


class CustomField(TenantOwned):
    """A typed ticket field defined by the tenant; values live in ``Ticket.custom_fields[key]``."""

    key = models.SlugField(_("key"), max_length=64)
    label = models.CharField(_("label"), max_length=120)
    label_translations = models.JSONField(default=dict, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CustomFieldKind.choices)
    # For drop-down and multi-select: [{"value": "refund", "label": "Refund", "labels": {"tr": "İade"}}]
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    customer_visible = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="customfield_unique_key")]

    def __str__(self) -> str:
        return self.label


class Ticket(TenantOwned):
    """The case. Columns that lists need (last activity, SLA due, counts) are stored and kept
    current by ``tickets.services``, never computed per row."""

    number = models.PositiveBigIntegerField(_("number"))
    subject = models.CharField(_("subject"), max_length=250)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, default=TicketType.QUESTION)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(_("language"), max_length=10, default="en")

    # Indexes: every one costs every ticket write (``updated_at`` changes, so no update is
    # HOT). Foreign keys served by a composite index leading with tenant_id (queries carry
    # the tenant: the default manager and row-level security add it) have no index of their
    # own; the rarely set self-links have small partial ones.
    tenant = tenant_key(db_index=False)
    requester = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="tickets")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_tickets")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
                             db_index=False)
    contact_reason = models.ForeignKey(ContactReason, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="tickets")
    custom_fields = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, through="TicketTag", related_name="tickets", blank=True)

    # Relations between cases.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_tickets", db_index=False)
    follow_up_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="follow_ups", db_index=False)
    problem = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="incidents", help_text=_("The problem this incident belongs to."),
                                db_index=False)

    # Stored derived values (kept by services).
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, help_text=_("Incremented on every change (stale-reply guard)."))
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    public_agent_reply_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    handle_seconds = models.PositiveIntegerField(default=0)
    # SLA: the policy that applies and the earliest due instant of its running timers.
    sla_policy = models.ForeignKey("tickets.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="tickets")
    sla_next_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    # Business hours of this ticket instead of those of its SLA policy (a request sent from a
    # service location's page runs in the location's hours); None: the policy's.
    business_hours = models.ForeignKey("calendars.BusinessCalendar", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+", db_index=False,
                                       verbose_name=_("business hours"))
    created_via = models.CharField(max_length=16, choices=Via.choices, default=Via.CONSOLE)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="ticket_unique_number"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-updated_at", "-id"], name="ticket_tenant_status_upd"),
            models.Index(fields=["tenant", "assignee", "status", "-updated_at"], name="ticket_tenant_assignee"),
            models.Index(fields=["tenant", "team", "status", "-updated_at"], name="ticket_tenant_team"),
            models.Index(fields=["tenant", "requester", "-created_at"], name="ticket_tenant_requester"),
            models.Index(fields=["tenant", "-updated_at", "-id"], name="ticket_tenant_updated"),
            models.Index(fields=["tenant", "sla_next_due_at"], name="ticket_tenant_sla_due",
                         condition=Q(sla_next_due_at__isnull=False)),
            models.Index(fields=["status", "solved_at"], name="ticket_solved_to_close",
                         condition=Q(status="solved")),
            # The default "Unassigned tickets" view: its rows in its order, nothing else.
            models.Index(fields=["tenant", "-updated_at", "-id"], name="ticket_tenant_unassigned",
                         condition=Q(assignee__isnull=True, status__in=list(UNSOLVED_STATUSES))),
            models.Index(fields=["tenant", "problem"], name="ticket_tenant_problem",
                         condition=Q(problem__isnull=False)),
            models.Index(fields=["tenant", "merged_into"], name="ticket_tenant_merged_into",
                         condition=Q(merged_into__isnull=False)),
            models.Index(fields=["tenant", "follow_up_of"], name="ticket_tenant_follow_up_of",
                         condition=Q(follow_up_of__isnull=False)),
            models.Index(fields=["tenant", "business_hours"], name="ticket_tenant_business_hours",
                         condition=Q(business_hours__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED


class TicketTag(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ticket_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="ticket_tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket", "tag"], name="tickettag_unique")]
        indexes = [models.Index(fields=["tenant", "tag", "ticket"], name="tickettag_tenant_tag")]


class TicketFollower(TenantOwned):
    """An agent who follows a ticket (notified of replies)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_tickets")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket", "user"], name="ticketfollower_unique")]


class TicketCC(TenantOwned):
    """A customer copied on a ticket (receives public replies, may reply)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ccs")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="cc_tickets")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "ticket", "contact"], name="ticketcc_unique")]


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE = "duplicate", _("Duplicate")


class TicketLink(TenantOwned):
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=16, choices=LinkKind.choices, default=LinkKind.RELATED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "target", "kind"], name="ticketlink_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="ticketlink_not_self"),
        ]


class SideConversationKind(models.TextChoices):
    EMAIL = "email", _("Email thread")
    INTERNAL = "internal", _("Agents only")


class SideConversation(TenantOwned):
    """A separate thread inside a ticket (a supplier by email, or agents only)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="side_conversations")
    kind = models.CharField(max_length=16, choices=SideConversationKind.choices)
    subject = models.CharField(max_length=250)
    participants = models.JSONField(default=list, blank=True, help_text=_("Email addresses (email threads)."))
    is_open = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket"], name="sideconv_tenant_ticket")]


class MessageKind(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System entry")


class Message(TenantOwned):
    """One entry of the conversation: a public reply, an internal note, or a system entry."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    side_conversation = models.ForeignKey(SideConversation, null=True, blank=True, on_delete=models.CASCADE,
                                          related_name="messages")
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    author_contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=16, choices=Via.choices, default=Via.CONSOLE)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.CONSOLE)
    # The channel's id (email Message-ID, chat client id, call id): a retry is not a duplicate.
    external_id = models.CharField(max_length=255, blank=True, default="")
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text=_("Sanitised HTML (allowlist)."))
    # System entries: what changed, {"field": [before, after]}.
    changes = models.JSONField(default=dict, blank=True)
    mentions = models.JSONField(default=list, blank=True)
    # The ticket's ``version`` this message brought it to: a stale-reply guard answers with
    # the messages newer than the version the client saw.
    ticket_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "channel", "external_id"], name="message_unique_external",
                                    condition=~Q(external_id="")),
        ]
        indexes = [models.Index(fields=["tenant", "ticket", "created_at", "id"], name="message_tenant_ticket")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == MessageKind.PUBLIC


def _attachment_token() -> str:
    return secrets.token_urlsafe(24)


def _attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.tenant_id}/{instance.token}/{filename}"


CONTENT_ID_MAX_LENGTH = 255


class Attachment(TenantOwned):
    """A file on a message, served as a download through an unguessable link. A mail's inline
    image keeps its ``content_id`` (without ``<>``), by which the message's body shows it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=64, default=_attachment_token, editable=False)
    file = models.FileField(upload_to=_attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=CONTENT_ID_MAX_LENGTH, blank=True, default="", help_text=_(
        "The mail part's Content-ID, without <>: the message's HTML shows the file as cid:<Content-ID>."))
    inline = models.BooleanField(default=False, help_text=_("Sent to be shown in the message rather than as a file."))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "token"], name="attachment_unique_token")]
        indexes = [models.Index(fields=["tenant", "ticket"], name="attachment_tenant_ticket")]

    def __str__(self) -> str:
        return self.filename


class TimeEntry(TenantOwned):
    """Time an agent spent on a ticket (manual, or measured while the ticket was open)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        AUTO = "auto", _("Measured")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    seconds = models.PositiveIntegerField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "ticket"], name="timeentry_tenant_ticket"),
                   models.Index(fields=["tenant", "user", "created_at"], name="timeentry_tenant_user")]
