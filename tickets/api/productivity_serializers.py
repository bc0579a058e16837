"""API shapes of saved views, macros, apply-macro and bulk updates.

Input serializers check shapes and types; the services validate meaning (conditions,
action values, placeholders) and their ValidationErrors come back as 400s naming the
field. Output serializers never query.
"""
from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from tickets.models import Macro, SavedView
from tickets.productivity.actions import ACTION_FIELDS, CHANGE_FIELDS
from tickets.productivity.bulk import MAX_BULK
from tickets.productivity.placeholders import MAX_REPLY_LENGTH, PLACEHOLDERS
from tickets.productivity.views import COLUMNS, DIRECTIONS, MAX_SORT_KEYS, SORT_FIELDS

_CONDITIONS_HELP = _('{"all": [{"field", "operator", "value"}], "any": [...]}; "me" is the caller for assignee_id.')
_PERSONAL_HELP = _("Personal (only you see it) or shared with the whole helpdesk (administrators and API keys "
                   "only). Defaults to personal for people and shared for API keys.")
_ACTIONS_HELP = format_lazy(
    "{} {}", _('Field changes, e.g. [{"field": "status", "value": "pending"}, {"field": "add_tags", "value": '
               '["refund"]}]; "assignee" takes a user id, "me" or null. Fields:'), ", ".join(ACTION_FIELDS))
_REPLY_HELP = format_lazy(
    "{} {}", _('Reply text per language, e.g. {"en": "Hi {{ requester.first_name }}", "tr": "Merhaba …"}. '
               "Placeholders:"), ", ".join("{{ %s }}" % name for name in PLACEHOLDERS))


# --- saved views ------------------------------------------------------------------------


class SortItemInput(StrictInputSerializer):
    field = serializers.ChoiceField(choices=list(SORT_FIELDS))
    direction = serializers.ChoiceField(choices=list(DIRECTIONS), default="asc")


class SavedViewUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    conditions = serializers.JSONField(required=False, help_text=_CONDITIONS_HELP)
    columns = serializers.ListField(child=serializers.ChoiceField(choices=list(COLUMNS)), required=False,
                                    max_length=len(COLUMNS))
    sort = SortItemInput(many=True, required=False, max_length=MAX_SORT_KEYS)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    is_active = serializers.BooleanField(required=False)


class SavedViewCreateInput(SavedViewUpdateInput):
    name = serializers.CharField(max_length=120)
    personal = serializers.BooleanField(required=False, help_text=_PERSONAL_HELP)


class SavedViewOutput(serializers.ModelSerializer):
    personal = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "personal", "owner_id", "key", "conditions", "columns", "sort", "position",
                  "is_active", "created_at", "updated_at"]
        read_only_fields = fields

    def get_personal(self, view: SavedView) -> bool:
        return view.owner_id is not None


class ViewCountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    count = serializers.IntegerField(help_text=_("Tickets in the view, up to the cap."))
    capped = serializers.BooleanField(help_text=_("True when there are more than the cap (show \"99+\")."))
    display = serializers.CharField()


# --- macros -----------------------------------------------------------------------------


class MacroActionInput(StrictInputSerializer):
    field = serializers.ChoiceField(choices=list(ACTION_FIELDS))
    value = serializers.JSONField(allow_null=True)


class MacroUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=250, required=False, allow_blank=True)
    actions = MacroActionInput(many=True, required=False, max_length=len(ACTION_FIELDS), help_text=_ACTIONS_HELP)
    reply = serializers.DictField(child=serializers.CharField(max_length=MAX_REPLY_LENGTH, allow_blank=True,
                                                              trim_whitespace=False),
                                  required=False, help_text=_REPLY_HELP)
    reply_public = serializers.BooleanField(required=False,
                                            help_text=_("Post the reply publicly (true) or as an internal note."))
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    is_active = serializers.BooleanField(required=False)


class MacroCreateInput(MacroUpdateInput):
    name = serializers.CharField(max_length=120)
    personal = serializers.BooleanField(required=False, help_text=_PERSONAL_HELP)


class MacroOutput(serializers.ModelSerializer):
    personal = serializers.SerializerMethodField()

    class Meta:
        model = Macro
        fields = ["id", "name", "description", "personal", "owner_id", "actions", "reply", "reply_public",
                  "position", "is_active", "usage_count", "created_at", "updated_at"]
        read_only_fields = fields

    def get_personal(self, macro: Macro) -> bool:
        return macro.owner_id is not None


class ApplyMacroInput(StrictInputSerializer):
    macro_id = serializers.IntegerField(min_value=1, max_value=2 ** 63 - 1)
    send = serializers.BooleanField(default=False, help_text=_(
        "false: return the rendered reply for the reply box; true: also post it (public or note, as the macro "
        "says)."))
    expected_version = serializers.IntegerField(min_value=1, max_value=2 ** 31 - 1, required=False, help_text=_(
        "The ticket version you looked at; if the ticket changed since, nothing is applied (409)."))


class RenderedReplyOutput(serializers.Serializer):
    text = serializers.CharField()
    language = serializers.CharField()
    public = serializers.BooleanField()


# --- bulk -------------------------------------------------------------------------------


class BulkUpdateInput(StrictInputSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2 ** 63 - 1), min_length=1,
                                max_length=MAX_BULK, help_text=_("Ticket ids (at most 100)."))
    changes = serializers.DictField(child=serializers.JSONField(allow_null=True), help_text=format_lazy(
        "{} {}", _('The changes, named as in PATCH /api/v1/tickets/{id}/ ("assignee_id" also takes "me"), e.g. '
                   '{"status": "solved", "assignee_id": "me", "add_tags": ["vip"]}. Fields:'),
        ", ".join(CHANGE_FIELDS)))


class BulkResultOutput(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["updated", "not_found", "invalid"])
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    version = serializers.IntegerField(allow_null=True, help_text=_("The ticket's version after the update."))

