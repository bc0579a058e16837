"""API shapes of triggers, automations and notifications: strict input, output that never queries.

Conditions and actions are validated by the services (``tickets.automation``), which name
each problem with its position (``actions[1]: ...``); here they only need to be JSON of
the right outer type.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from tickets.automation.actions import MAX_ACTIONS
from tickets.automation.triggers import TRIGGER_EVENTS
from tickets.models import Automation, Notification, NotificationKind, Trigger

_CONDITIONS_HELP = _('{"all": [{"field", "operator", "value"}], "any": [...]} (see the condition language).')
_ACTIONS_HELP = _('[{"field": ..., "value": ...}]: status, priority, type, assignee_id, team_id, contact_reason_id, '
                  'custom_fields.<key>, add_tags, remove_tags, notify, email_requester, webhook.')


def _conditions(**kwargs):
    return serializers.JSONField(help_text=_CONDITIONS_HELP, **kwargs)


def _actions(**kwargs):
    return serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=MAX_ACTIONS,
                                 help_text=_ACTIONS_HELP, **kwargs)


class TriggerCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=TRIGGER_EVENTS), min_length=1,
                                   max_length=len(TRIGGER_EVENTS))
    conditions = _conditions(required=False)
    actions = _actions()
    once_per_ticket = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class TriggerUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=TRIGGER_EVENTS), min_length=1,
                                   max_length=len(TRIGGER_EVENTS), required=False)
    conditions = _conditions(required=False)
    actions = _actions(required=False)
    once_per_ticket = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class TriggerOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField())
    conditions = serializers.JSONField()
    actions = serializers.ListField(child=serializers.JSONField())

    class Meta:
        model = Trigger
        fields = ["id", "name", "description", "position", "events", "conditions", "actions", "once_per_ticket",
                  "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class AutomationCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    conditions = _conditions()
    actions = _actions()
    is_active = serializers.BooleanField(required=False)


class AutomationUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    conditions = _conditions(required=False)
    actions = _actions(required=False)
    is_active = serializers.BooleanField(required=False)


class AutomationOutput(serializers.ModelSerializer):
    conditions = serializers.JSONField()
    actions = serializers.ListField(child=serializers.JSONField())

    class Meta:
        model = Automation
        fields = ["id", "name", "description", "position", "conditions", "actions", "is_active", "created_at",
                  "updated_at"]
        read_only_fields = fields


class NotificationOutput(serializers.ModelSerializer):
    """Needs ``ticket`` selected (``number``)."""

    ticket_number = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "ticket_id", "ticket_number", "created_at", "read_at"]
        read_only_fields = fields

    def get_ticket_number(self, obj: Notification) -> int | None:
        return obj.ticket.number if obj.ticket_id else None


class MarkReadInput(StrictInputSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500,
                                help_text=_("Notifications to mark read; all unread ones when absent."))


class MarkedOutput(serializers.Serializer):
    marked = serializers.IntegerField()


class PreferenceItem(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    in_console = serializers.BooleanField()
    by_email = serializers.BooleanField()


class PreferencesInput(StrictInputSerializer):
    preferences = PreferenceItem(many=True, allow_empty=False, max_length=len(NotificationKind.values))

    def validate_preferences(self, value):
        kinds = [item["kind"] for item in value]
        if len(set(kinds)) != len(kinds):
            raise serializers.ValidationError(_("Name each kind once."))
        return value


class PreferenceOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    in_console = serializers.BooleanField()
    by_email = serializers.BooleanField()


class PreferencesOutput(serializers.Serializer):
    preferences = PreferenceOutput(many=True)
