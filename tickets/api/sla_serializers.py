"""Shapes of ``/api/v1/business-hours/`` and ``/api/v1/sla-policies/``.

Input serializers check types; the services (``tickets.sla.calendars``/``policies``) check
meaning (overlaps, duplicates, conditions) so the console gets the same answers. Output
serializers read prefetched rows only.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.calendars.models import BusinessCalendar
from tickets.models import Metric, Priority, SlaPolicy
from tickets.sla.calendars import MAX_HOLIDAYS, weekly_to_intervals
from tickets.sla.policies import MAX_TARGET_MINUTES, MAX_WARNING_MINUTES, PAUSABLE_STATUSES

# --- business hours ------------------------------------------------------------------------


class IntervalSerializer(StrictInputSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text=_("0 is Monday, 6 is Sunday."))
    start = serializers.CharField(max_length=5, help_text=_("Local time HH:MM."))
    end = serializers.CharField(max_length=5, help_text=_("Local time HH:MM (24:00 for midnight)."))


class HolidaySerializer(StrictInputSerializer):
    date = serializers.DateField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class BusinessHoursCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, help_text=_("IANA time zone, e.g. Europe/Istanbul."))
    intervals = serializers.ListField(child=IntervalSerializer(), max_length=7 * 6)
    holidays = serializers.ListField(child=HolidaySerializer(), required=False, max_length=MAX_HOLIDAYS)
    country_holidays = serializers.CharField(
        required=False, allow_blank=True, max_length=8,
        help_text=_("Two-letter country code: its public holidays of this year and next are added."))
    is_default = serializers.BooleanField(required=False, default=False)


class BusinessHoursUpdateInput(StrictInputSerializer):
    name = serializers.CharField(required=False, max_length=100)
    timezone = serializers.CharField(required=False, max_length=64)
    intervals = serializers.ListField(child=IntervalSerializer(), required=False, max_length=7 * 6)
    holidays = serializers.ListField(child=HolidaySerializer(), required=False, max_length=MAX_HOLIDAYS,
                                     help_text=_("Replaces the holidays."))
    country_holidays = serializers.CharField(required=False, allow_blank=True, max_length=8)
    is_default = serializers.BooleanField(required=False)


class IntervalOutput(serializers.Serializer):
    weekday = serializers.IntegerField()
    start = serializers.CharField()
    end = serializers.CharField()


class HolidayOutput(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()


class BusinessHoursOutput(serializers.ModelSerializer):
    """Needs ``holidays`` prefetched (``selectors.business_hours_list``)."""

    intervals = serializers.SerializerMethodField()
    holidays = HolidayOutput(many=True)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "is_default", "intervals", "holidays", "created_at"]
        read_only_fields = fields

    @extend_schema_field(IntervalOutput(many=True))
    def get_intervals(self, calendar: BusinessCalendar) -> list[dict]:
        return weekly_to_intervals(calendar.weekly_hours)


# --- SLA policies --------------------------------------------------------------------------


class TargetSerializer(StrictInputSerializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    minutes = serializers.IntegerField(min_value=1, max_value=MAX_TARGET_MINUTES)


class _ConditionsField(serializers.JSONField):
    """``{"all": [{"field", "operator", "value"}], "any": [...]}`` (validated by the service)."""


class SlaPolicyCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000, default=0)
    conditions = _ConditionsField(required=False, default=dict)
    business_hours_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, max_value=2**63 - 1,
        help_text=_("Null: calendar hours (every minute counts)."))
    pause_statuses = serializers.ListField(child=serializers.ChoiceField(choices=PAUSABLE_STATUSES),
                                           required=False, max_length=4)
    warning_minutes = serializers.IntegerField(required=False, min_value=0, max_value=MAX_WARNING_MINUTES,
                                               default=15)
    is_active = serializers.BooleanField(required=False, default=True)
    targets = serializers.ListField(child=TargetSerializer(), max_length=len(Metric.values) * len(Priority.values))


class SlaPolicyUpdateInput(StrictInputSerializer):
    name = serializers.CharField(required=False, max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    conditions = _ConditionsField(required=False)
    business_hours_id = serializers.IntegerField(required=False, allow_null=True, max_value=2**63 - 1)
    pause_statuses = serializers.ListField(child=serializers.ChoiceField(choices=PAUSABLE_STATUSES),
                                           required=False, max_length=4)
    warning_minutes = serializers.IntegerField(required=False, min_value=0, max_value=MAX_WARNING_MINUTES)
    is_active = serializers.BooleanField(required=False)
    targets = serializers.ListField(child=TargetSerializer(), required=False,
                                    max_length=len(Metric.values) * len(Priority.values),
                                    help_text=_("Replaces the targets."))


class TargetOutput(serializers.Serializer):
    metric = serializers.CharField()
    priority = serializers.CharField()
    minutes = serializers.IntegerField()


class SlaPolicyOutput(serializers.ModelSerializer):
    """Needs ``targets`` prefetched (``selectors.policy_list``)."""

    business_hours_id = serializers.IntegerField(source="calendar_id", allow_null=True)
    conditions = serializers.JSONField()
    pause_statuses = serializers.ListField(child=serializers.CharField())
    targets = TargetOutput(many=True)

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "description", "position", "conditions", "business_hours_id", "pause_statuses",
                  "warning_minutes", "is_active", "targets", "created_at", "updated_at"]
        read_only_fields = fields


class SlaEntryOutput(serializers.Serializer):
    """One entry of a ticket's ``sla`` list (``tickets.sla.selectors.sla_summary``)."""

    metric = serializers.ChoiceField(choices=Metric.choices)
    status = serializers.CharField(help_text=_("active, paused, achieved or breached"))
    due_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    policy_id = serializers.IntegerField(allow_null=True)
