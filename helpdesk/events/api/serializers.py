"""Webhook API shapes: input serializers validate the request, output ones never query."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.events.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from helpdesk.events.services import MAX_EVENT_TYPES_PER_WEBHOOK, SECRET_MIN_LENGTH


_EVENTS_HELP = _('Event types to receive (see GET /api/v1/webhooks/event-types/), or ["*"] for all.')


class WebhookCreateInput(StrictInputSerializer):
    url = serializers.URLField(max_length=2000, help_text=_("An http or https URL on the public internet."))
    events = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1,
                                   max_length=MAX_EVENT_TYPES_PER_WEBHOOK, help_text=_EVENTS_HELP)
    secret = serializers.CharField(required=False, min_length=SECRET_MIN_LENGTH, max_length=200,
                                   trim_whitespace=False, write_only=True,
                                   help_text=_("Signing secret; generated when absent. Returned once."))
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class WebhookUpdateInput(StrictInputSerializer):
    url = serializers.URLField(required=False, max_length=2000)
    events = serializers.ListField(child=serializers.CharField(max_length=100), required=False, min_length=1,
                                   max_length=MAX_EVENT_TYPES_PER_WEBHOOK, help_text=_EVENTS_HELP)
    is_active = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class WebhookOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "description", "is_active", "created_at"]
        read_only_fields = fields


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(help_text=_("The signing secret. It is shown only in this response."))

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]
        read_only_fields = fields


class DeliveryEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeliveryAttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDeliveryAttempt
        fields = ["number", "started_at", "response_status", "response_body", "error", "duration_ms"]
        read_only_fields = fields


class DeliveryOutput(serializers.ModelSerializer):
    """Needs ``event`` selected and ``attempt_log`` prefetched (``selectors.delivery_list``)."""

    event = DeliveryEventOutput()
    attempt_log = DeliveryAttemptOutput(many=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempts", "next_attempt_at", "response_status", "response_body",
                  "error", "duration_ms", "created_at", "delivered_at", "attempt_log"]
        read_only_fields = fields


class EventTypeOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
