"""Channel API shapes: strict inputs, outputs that never show a secret."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from channels_hub.models import Channel, ChannelKind, InboundEmail, MailSecurity, OutboundEmail
from helpdesk.api.serializers import StrictInputSerializer


class ChannelOutput(serializers.ModelSerializer):
    smtp_password_set = serializers.SerializerMethodField()
    imap_password_set = serializers.SerializerMethodField()
    inbound_url = serializers.SerializerMethodField(help_text=_("Where an MTA or inbound-mail service POSTs raw "
                                                                "mail (email channels)."))
    messages_url = serializers.SerializerMethodField(help_text=_("Where a bridge POSTs inbound messages "
                                                                 "(connector channels)."))

    class Meta:
        model = Channel
        fields = ["id", "kind", "name", "key", "is_active", "address", "from_name", "is_default", "token_prefix",
                  "acknowledge", "smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password_set",
                  "imap_host", "imap_port", "imap_security", "imap_username", "imap_password_set", "imap_folder",
                  "imap_interval_seconds", "imap_last_polled_at", "imap_last_error", "sender_hourly_limit",
                  "channel_hourly_limit", "blocked_senders", "allowed_senders", "provider", "webhook_url",
                  "inbound_url", "messages_url", "created_at", "updated_at"]
        read_only_fields = fields

    def get_smtp_password_set(self, obj: Channel) -> bool:
        return bool(obj.smtp_password)

    def get_imap_password_set(self, obj: Channel) -> bool:
        return bool(obj.imap_password)

    def get_inbound_url(self, obj: Channel) -> str | None:
        return f"/api/v1/channels/email/{obj.key}/inbound/" if obj.kind == ChannelKind.EMAIL else None

    def get_messages_url(self, obj: Channel) -> str | None:
        return f"/api/v1/channels/{obj.key}/messages/" if obj.kind == ChannelKind.CONNECTOR else None


class ChannelCreatedOutput(ChannelOutput):
    secret = serializers.CharField(help_text=_("The channel's secret (Bearer token of its inbound endpoints). "
                                               "It is shown only in this response."))
    signing_secret = serializers.CharField(required=False, help_text=_(
        "Connector channels: the key of the HMAC-SHA256 signature on reply webhooks. Shown only in this response."))

    class Meta(ChannelOutput.Meta):
        fields = [*ChannelOutput.Meta.fields, "secret", "signing_secret"]
        read_only_fields = fields


class SigningSecretOutput(ChannelOutput):
    signing_secret = serializers.CharField(help_text=_("The new signing secret of the reply webhooks. It is shown "
                                                       "only in this response."))

    class Meta(ChannelOutput.Meta):
        fields = [*ChannelOutput.Meta.fields, "signing_secret"]
        read_only_fields = fields


class _ChannelFields(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    is_active = serializers.BooleanField(required=False)
    address = serializers.CharField(max_length=254, required=False)
    from_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)
    token_prefix = serializers.CharField(max_length=10, required=False)
    acknowledge = serializers.BooleanField(required=False)
    smtp_host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    smtp_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    smtp_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    smtp_username = serializers.CharField(max_length=255, required=False, allow_blank=True)
    smtp_password = serializers.CharField(max_length=500, required=False, allow_blank=True, write_only=True)
    imap_host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    imap_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    imap_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    imap_username = serializers.CharField(max_length=255, required=False, allow_blank=True)
    imap_password = serializers.CharField(max_length=500, required=False, allow_blank=True, write_only=True)
    imap_folder = serializers.CharField(max_length=200, required=False)
    imap_interval_seconds = serializers.IntegerField(required=False, min_value=30, max_value=86400)
    sender_hourly_limit = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    channel_hourly_limit = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    blocked_senders = serializers.ListField(child=serializers.CharField(max_length=320), required=False,
                                            max_length=500)
    allowed_senders = serializers.ListField(child=serializers.CharField(max_length=320), required=False,
                                            max_length=500)
    provider = serializers.CharField(max_length=50, required=False, allow_blank=True)
    webhook_url = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ChannelCreateInput(_ChannelFields):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=100)


class ChannelUpdateInput(_ChannelFields):
    pass


class InboundAccepted(serializers.ModelSerializer):
    class Meta:
        model = InboundEmail
        fields = ["id", "status", "message_id", "size", "received_at"]
        read_only_fields = fields


class OutboundOutput(serializers.ModelSerializer):
    class Meta:
        model = OutboundEmail
        fields = ["id", "kind", "status", "to", "cc", "subject", "message_id", "in_reply_to", "attempts",
                  "last_error", "next_attempt_at", "sent_at", "bounced_at", "created_at"]
        read_only_fields = fields
