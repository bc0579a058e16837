"""Ticket API shapes. Input serializers are strict; output serializers never query (the
selectors prefetch what they read: ``tickets.selectors.with_row_data``, ``conversation``)."""
from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from tickets.models import (
    Attachment,
    Channel,
    ContactReason,
    CustomField,
    CustomFieldKind,
    LinkKind,
    Message,
    MessageKind,
    Metric,
    Priority,
    SideConversation,
    SideConversationKind,
    Status,
    Tag,
    Ticket,
    TicketType,
    TimeEntry,
    Via,
)
from tickets.models.ticket import SOLVED_TO_CLOSED_DAYS_MAX, SOLVED_TO_CLOSED_DAYS_MIN
from tickets.services.attachments import DEFAULT_MAX_PER_MESSAGE
from tickets.services.content import MAX_BODY_CHARS
from tickets.services.merge import MAX_MERGE_SOURCES
from tickets.selectors import ticket_tags
from tickets.services.taxonomy import MAX_TAGS_PER_TICKET, TAG_MAX_LENGTH

_SETTABLE_STATUSES = [s for s in Status.values if s not in (Status.NEW, Status.CLOSED)]


def sla_entries(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's ``sla`` list from the SLA package (prefetched timers); [] without it."""
    try:
        from tickets.sla.selectors import sla_summary
    except ImportError:  # pragma: no cover - the SLA package is optional for this module
        try:
            from tickets.sla.services import sla_summary  # type: ignore[no-redef]
        except ImportError:
            return []
    return sla_summary(ticket)


# --- output ------------------------------------------------------------------------------

class RequesterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.SerializerMethodField()

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_email(self, contact) -> str | None:
        return requester_email(contact)


def requester_email(contact) -> str | None:
    """The contact's primary email: from ``email_identities`` (prefetched by
    ``with_row_data``), else one query."""
    identities = getattr(contact, "email_identities", None)
    if identities is None:
        identity = contact.identities.filter(kind="email").order_by("-is_primary", "id").first()
        return identity.value if identity else None
    return identities[0].value if identities else None


class SlaEntryOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    status = serializers.CharField(help_text=_("active, paused, achieved or breached"))
    due_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True, required=False)
    fulfilled_at = serializers.DateTimeField(allow_null=True, required=False)
    policy_id = serializers.IntegerField(allow_null=True, required=False)


class TicketOutput(serializers.ModelSerializer):
    """A ticket. Needs ``tickets.selectors.with_row_data`` (or ``ticket_list_prefetch``)."""

    requester = RequesterOutput()
    tags = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    custom_fields = serializers.DictField()

    class Meta:
        model = Ticket
        fields = ["id", "number", "subject", "status", "priority", "type", "channel", "language", "requester",
                  "organization_id", "assignee_id", "team_id", "contact_reason_id", "tags", "custom_fields",
                  "sla", "problem_id", "merged_into_id", "follow_up_of_id", "version", "message_count",
                  "reopen_count", "first_reply_at", "last_agent_reply_at", "last_customer_message_at",
                  "last_activity_at", "solved_at", "closed_at", "sla_next_due_at", "sla_breached",
                  "handle_seconds", "created_via", "created_at", "updated_at"]
        read_only_fields = fields

    def get_tags(self, ticket) -> list[str]:
        return [tag.name for tag in ticket_tags(ticket)]

    @extend_schema_field(SlaEntryOutput(many=True))
    def get_sla(self, ticket) -> list[dict]:
        return SlaEntryOutput(sla_entries(ticket), many=True).data

    def to_representation(self, ticket: Ticket) -> dict[str, Any]:
        """The fields above, built directly: DRF's generic walk over 35 fields cost about
        0.4 ms a ticket, most of a 50-row list. ``tests/tickets/test_api_tickets.py`` holds
        this equal to the generic output (``super().to_representation``) field by field."""
        return ticket_representation(ticket)


def _instant(value, zone) -> str | None:
    """DRF's ``DateTimeField`` output: in the current time zone, ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_PLAIN_FIELDS = ("id", "number", "subject", "status", "priority", "type", "channel", "language")
_ID_FIELDS = ("organization_id", "assignee_id", "team_id", "contact_reason_id")
_LATER_ID_FIELDS = ("problem_id", "merged_into_id", "follow_up_of_id", "version", "message_count",
                    "reopen_count")
_INSTANT_FIELDS = ("first_reply_at", "last_agent_reply_at", "last_customer_message_at", "last_activity_at",
                   "solved_at", "closed_at", "sla_next_due_at")


def ticket_representation(ticket: Ticket) -> dict[str, Any]:
    zone = timezone.get_current_timezone()  # once: each lookup goes through asgiref's Local
    out: dict[str, Any] = {name: getattr(ticket, name) for name in _PLAIN_FIELDS}
    requester = ticket.requester
    out["requester"] = None if requester is None else {
        "id": requester.pk, "name": requester.name, "email": requester_email(requester)}
    for name in _ID_FIELDS:
        out[name] = getattr(ticket, name)
    out["tags"] = [tag.name for tag in ticket_tags(ticket)]
    custom = ticket.custom_fields
    out["custom_fields"] = None if custom is None else {str(key): value for key, value in custom.items()}
    out["sla"] = [
        {"metric": entry["metric"], "status": entry["status"], "due_at": _instant(entry["due_at"], zone),
         "breached_at": _instant(entry["breached_at"], zone), "fulfilled_at": _instant(entry["fulfilled_at"], zone),
         "policy_id": entry["policy_id"]}
        for entry in sla_entries(ticket)
    ]
    for name in _LATER_ID_FIELDS:
        out[name] = getattr(ticket, name)
    for name in _INSTANT_FIELDS:
        out[name] = _instant(getattr(ticket, name), zone)
    out["sla_breached"] = ticket.sla_breached
    out["handle_seconds"] = ticket.handle_seconds
    out["created_via"] = ticket.created_via
    out["created_at"] = _instant(ticket.created_at, zone)
    out["updated_at"] = _instant(ticket.updated_at, zone)
    return out


class AttachmentOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("Download link (needs tickets:read)."))

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "inline", "content_id", "url", "created_at"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.token}/"


class AuthorOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["agent", "customer", "system"])
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class MessageOutput(serializers.ModelSerializer):
    """A conversation entry. Needs ``author_user``/``author_contact`` selected and
    ``attachments`` prefetched (``tickets.selectors.conversation``)."""

    public = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    attachments = AttachmentOutput(many=True)
    body = serializers.CharField(source="body_html", help_text=_("Sanitised HTML."))

    class Meta:
        model = Message
        fields = ["id", "ticket_id", "kind", "public", "author", "via", "channel", "external_id", "body",
                  "body_text", "changes", "mentions", "attachments", "ticket_version", "created_at"]
        read_only_fields = fields

    def get_public(self, message) -> bool:
        return message.kind == MessageKind.PUBLIC

    @extend_schema_field(AuthorOutput)
    def get_author(self, message) -> dict:
        if message.author_user_id:
            return {"kind": "agent", "id": message.author_user_id, "name": message.author_user.get_full_name()}
        if message.author_contact_id:
            return {"kind": "customer", "id": message.author_contact_id, "name": message.author_contact.name}
        return {"kind": "system", "id": None, "name": str(Via(message.via).label)}


class TagOutput(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "created_at"]
        read_only_fields = fields


class CustomFieldOutput(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["id", "key", "label", "label_translations", "kind", "options", "required", "customer_visible",
                  "position", "is_active", "created_at"]
        read_only_fields = fields


class ContactReasonOutput(serializers.ModelSerializer):
    class Meta:
        model = ContactReason
        fields = ["id", "name", "parent_id", "position", "is_active"]
        read_only_fields = fields


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    member_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_member_ids(self, team) -> list[int]:
        return [m.user_id for m in team.members.all()]


class AgentOutput(serializers.Serializer):
    """An assignable member with availability (``tickets.selectors.agent_list``)."""

    id = serializers.IntegerField(source="user_id", help_text=_("The user id (what assignee_id refers to)."))
    email = serializers.EmailField(source="user.email")
    name = serializers.SerializerMethodField()
    role = serializers.CharField()
    status = serializers.SerializerMethodField()
    capacity = serializers.SerializerMethodField()
    skills = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()
    team_ids = serializers.SerializerMethodField()

    def _profile(self, membership):
        # ``profiles`` and ``tenant_teams`` are prefetched onto the user (``selectors.agent_list``).
        profiles = getattr(membership.user, "profiles", None) or []
        return profiles[0] if profiles else None

    def get_name(self, membership) -> str:
        return membership.user.get_full_name()

    def get_status(self, membership) -> str:
        profile = self._profile(membership)
        return profile.status if profile else "offline"

    def get_capacity(self, membership) -> int:
        profile = self._profile(membership)
        return profile.capacity if profile else 20

    def get_skills(self, membership) -> list[str]:
        profile = self._profile(membership)
        return list(profile.skills) if profile else []

    def get_languages(self, membership) -> list[str]:
        profile = self._profile(membership)
        return list(profile.languages) if profile else []

    def get_team_ids(self, membership) -> list[int]:
        return [m.team_id for m in getattr(membership.user, "tenant_teams", [])]


class LinkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    ticket_id = serializers.IntegerField()
    ticket_number = serializers.IntegerField()
    ticket_subject = serializers.CharField()
    created_at = serializers.DateTimeField()


class TimeEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = ["id", "user_id", "seconds", "source", "note", "created_at"]
        read_only_fields = fields


class SideMessageOutput(serializers.ModelSerializer):
    author_id = serializers.IntegerField(source="author_user_id", allow_null=True)
    body = serializers.CharField(source="body_html")
    attachments = AttachmentOutput(many=True)

    class Meta:
        model = Message
        fields = ["id", "author_id", "body", "body_text", "attachments", "created_at"]
        read_only_fields = fields


class SideConversationOutput(serializers.ModelSerializer):
    messages = SideMessageOutput(many=True)

    class Meta:
        model = SideConversation
        fields = ["id", "kind", "subject", "participants", "is_open", "created_by_id", "created_at", "messages"]
        read_only_fields = fields


class StaleTicketOutput(serializers.Serializer):
    """The 409 body of the stale-reply guard: the error plus what changed."""

    error = serializers.DictField()
    ticket = TicketOutput()
    messages = MessageOutput(many=True)


class TicketSettingsOutput(serializers.Serializer):
    solved_to_closed_days = serializers.IntegerField()


# --- input -------------------------------------------------------------------------------

class RequesterInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TicketCreateInput(StrictInputSerializer):
    subject = serializers.CharField(max_length=250)
    description = serializers.CharField(max_length=MAX_BODY_CHARS, required=False, allow_blank=True,
                                        trim_whitespace=False,
                                        help_text=_("The first message (text, or HTML that is sanitised)."))
    requester = RequesterInput(required=False, help_text=_("Found by email, or created."))
    requester_id = serializers.IntegerField(required=False, min_value=1)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False,
                                 max_length=MAX_TAGS_PER_TICKET)
    custom_fields = serializers.DictField(required=False, help_text=_("{key: value}, typed by the field's kind."))
    assignee_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    team_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    contact_reason_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    language = serializers.CharField(required=False, max_length=10)
    public = serializers.BooleanField(required=False, default=True,
                                      help_text=_("false: the description is an internal note."))

    def validate(self, data):
        if ("requester" in data) == ("requester_id" in data):
            raise serializers.ValidationError({"requester": [_("Give either requester or requester_id.")]})
        return data


class TicketUpdateInput(StrictInputSerializer):
    subject = serializers.CharField(max_length=250, required=False)
    status = serializers.ChoiceField(choices=[(s, Status(s).label) for s in _SETTABLE_STATUSES], required=False,
                                     help_text=_("new and closed are not settable: closed is the system's."))
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    assignee_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    team_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    contact_reason_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    problem_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False,
                                 max_length=MAX_TAGS_PER_TICKET, help_text=_("The whole set."))
    add_tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False,
                                     max_length=MAX_TAGS_PER_TICKET)
    remove_tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False,
                                        max_length=MAX_TAGS_PER_TICKET)
    custom_fields = serializers.DictField(required=False, help_text=_("Merged; null removes a value."))
    language = serializers.CharField(required=False, max_length=10)
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                                help_text=_("The version you saw: 409 if the ticket changed since."))


class MessageCreateInput(StrictInputSerializer):
    body = serializers.CharField(max_length=MAX_BODY_CHARS, allow_blank=True, trim_whitespace=False,
                                 help_text=_("Text, or HTML that is sanitised."))
    public = serializers.BooleanField(help_text=_("true: a reply to the customer; false: an internal note."))
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    attachments = serializers.ListField(child=serializers.FileField(allow_empty_file=True), required=False,
                                        max_length=DEFAULT_MAX_PER_MESSAGE,
                                        help_text=_("Files (multipart/form-data only)."))


class MergeInput(StrictInputSerializer):
    ticket_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                       max_length=MAX_MERGE_SOURCES,
                                       help_text=_("The tickets merged into this one (which survives)."))


class SplitInput(StrictInputSerializer):
    message_id = serializers.IntegerField(min_value=1)
    subject = serializers.CharField(max_length=250, required=False)


class LinkInput(StrictInputSerializer):
    ticket_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=LinkKind.choices, required=False, default=LinkKind.RELATED)


class CcInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class FollowerInput(StrictInputSerializer):
    user_id = serializers.IntegerField(min_value=1)


class TimeEntryInput(StrictInputSerializer):
    seconds = serializers.IntegerField(min_value=1, max_value=24 * 3600)
    note = serializers.CharField(max_length=250, required=False, allow_blank=True)


class SideConversationInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=SideConversationKind.choices)
    subject = serializers.CharField(max_length=250)
    body = serializers.CharField(max_length=MAX_BODY_CHARS, trim_whitespace=False)
    participants = serializers.ListField(child=serializers.EmailField(max_length=254), required=False,
                                         max_length=20)


class SideMessageInput(StrictInputSerializer):
    body = serializers.CharField(max_length=MAX_BODY_CHARS, trim_whitespace=False)


class TagInput(StrictInputSerializer):
    name = serializers.CharField(max_length=TAG_MAX_LENGTH)


_OPTION_HELP = _('For drop-down and multi-select: ["value", ...] or [{"value", "label", "labels": {"tr": "…"}}].')


class CustomFieldCreateInput(StrictInputSerializer):
    key = serializers.CharField(max_length=64)
    label = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=CustomFieldKind.choices)
    options = serializers.ListField(child=serializers.JSONField(), required=False, max_length=500,
                                    help_text=_OPTION_HELP)
    required = serializers.BooleanField(required=False, default=False)
    customer_visible = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)
    label_translations = serializers.DictField(child=serializers.CharField(max_length=120), required=False)


class CustomFieldUpdateInput(StrictInputSerializer):
    label = serializers.CharField(max_length=120, required=False)
    options = serializers.ListField(child=serializers.JSONField(), required=False, max_length=500,
                                    help_text=_OPTION_HELP)
    required = serializers.BooleanField(required=False)
    customer_visible = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    is_active = serializers.BooleanField(required=False)
    label_translations = serializers.DictField(child=serializers.CharField(max_length=120), required=False)


class ContactReasonCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    parent_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)


class ContactReasonUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    parent_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    is_active = serializers.BooleanField(required=False)


class TeamCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    member_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)


class TeamUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    member_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)


class AgentUpdateInput(StrictInputSerializer):
    status = serializers.ChoiceField(choices=["online", "away", "offline"], required=False)
    capacity = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    skills = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    languages = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)


class TicketSettingsInput(StrictInputSerializer):
    solved_to_closed_days = serializers.IntegerField(min_value=SOLVED_TO_CLOSED_DAYS_MIN,
                                                     max_value=SOLVED_TO_CLOSED_DAYS_MAX)


class TicketListParams(serializers.Serializer):
    """Query parameters of ``GET /tickets/`` (validated: a bad value is a 400 naming it;
    parameters it does not know are ignored, as query strings go)."""

    status = serializers.CharField(required=False, help_text=_("One or more statuses, comma-separated."))
    priority = serializers.CharField(required=False, help_text=_("One or more priorities, comma-separated."))
    type = serializers.CharField(required=False)
    assignee_id = serializers.CharField(required=False, help_text=_('A user id, or "none" for unassigned.'))
    team_id = serializers.IntegerField(required=False, min_value=1)
    requester_id = serializers.IntegerField(required=False, min_value=1)
    organization_id = serializers.IntegerField(required=False, min_value=1)
    tag = serializers.CharField(required=False, max_length=400, help_text=_("Tickets with every tag (comma-separated)."))
    updated_since = serializers.DateTimeField(required=False)
    q = serializers.CharField(required=False, max_length=200, allow_blank=True,
                              help_text=_("Number, subject, requester name or email."))
    ordering = serializers.ChoiceField(required=False, choices=["-updated_at", "updated_at", "-created_at",
                                                                "created_at", "-number", "number"])
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @staticmethod
    def _multi(value: str, choices, name: str) -> list[str]:
        items = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in choices.values]
        if bad or not items:
            raise serializers.ValidationError({name: [_("Choose from: %(values)s.") % {
                "values": ", ".join(choices.values)}]})
        return items

    def validate(self, data):
        for name, choices in (("status", Status), ("priority", Priority), ("type", TicketType)):
            if name in data:
                data[name] = self._multi(data[name], choices, name)
        if "assignee_id" in data:
            raw = data["assignee_id"].strip().lower()
            if raw in ("none", "null"):
                data["unassigned"] = True
                del data["assignee_id"]
            elif raw.isdigit() and 0 < int(raw) < 2**63:
                data["assignee_id"] = int(raw)
            else:
                raise serializers.ValidationError({"assignee_id": [_('Enter a user id or "none".')]})
        return data


__all__ = [name for name in dir() if name.endswith(("Input", "Output", "Params"))] + ["sla_entries"]
