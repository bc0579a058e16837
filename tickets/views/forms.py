"""Forms of the console's ticket pages: they parse and bound what the browser sends.

Choices (assignees, teams, reasons, custom-field options) come from the tenant's own rows,
so an id of another tenant is simply not a valid choice. The services check again.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_lazy as _

from tickets.models import CustomField, CustomFieldKind, Priority, Status, TicketType
from tickets.selectors import ticket_tags
from tickets.views.queries import SORTS

MAX_BODY = 50_000
MAX_TAGS = 50
MAX_BULK = 100
MAX_FILES = 10
ASSIGNEE_ME = "me"
NONE = "none"
# Statuses an agent may set: new is where tickets start, closed is the system's.
AGENT_STATUSES = [(v, label) for v, label in Status.choices if v not in (Status.NEW, Status.CLOSED)]


def _member_choices(members, *, blank_label) -> list[tuple[str, str]]:
    return [("", blank_label)] + [(str(m.user_id), m.user.get_full_name() or m.user.email) for m in members]


def _team_choices(teams, *, blank_label) -> list[tuple[str, str]]:
    return [("", blank_label)] + [(str(t.pk), t.name) for t in teams]


def parse_tags(text: str) -> list[str]:
    """``"refund, VIP  shipping"`` -> ``["refund", "vip", "shipping"]`` (order kept, no repeats)."""
    names = [part.strip().lower() for chunk in (text or "").split(",") for part in chunk.split()]
    names = list(dict.fromkeys(n for n in names if n))
    if len(names) > MAX_TAGS:
        raise ValidationError(_("At most %(n)d tags.") % {"n": MAX_TAGS})
    if any(len(n) > 80 for n in names):
        raise ValidationError(_("A tag is at most 80 characters long."))
    return names


class TagsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def clean(self, value):
        return parse_tags(super().clean(value))


class TicketFilterForm(forms.Form):
    """The list page's query string. Unknown values are errors (a 400), not silently ignored."""

    view = forms.CharField(required=False, max_length=20)
    status = forms.MultipleChoiceField(label=_("Status"), choices=Status.choices, required=False)
    priority = forms.MultipleChoiceField(label=_("Priority"), choices=Priority.choices, required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=80)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[(k, s.label) for k, s in SORTS.items()])
    after = forms.CharField(required=False, max_length=400)

    def __init__(self, *args, members, teams, views, **kwargs):
        super().__init__(*args, **kwargs)
        self.views = {str(v.pk): v for v in views}
        self.fields["assignee"].choices = (
            [("", _("Anyone")), (ASSIGNEE_ME, _("Me")), (NONE, _("Unassigned"))]
            + _member_choices(members, blank_label="")[1:]
        )
        self.fields["team"].choices = [("", _("Any team")), (NONE, _("No team"))] + _team_choices(teams,
                                                                                            blank_label="")[1:]

    def clean_view(self):
        value = self.cleaned_data["view"]
        if value and value not in self.views:
            raise ValidationError(_("That view does not exist or is not shared with you."))
        return self.views.get(value)

    def has_filters(self) -> bool:
        data = self.cleaned_data
        return any(data.get(name) for name in ("status", "priority", "assignee", "team", "tag", "q"))


class PropertiesForm(forms.Form):
    """The properties panel. Custom fields are added per the tenant's definitions (``cf_<key>``)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(label=_("Status"), choices=AGENT_STATUSES)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    tags = TagsField(label=_("Tags"), help_text=_("Separate tags with commas or spaces."))
    contact_reason = forms.ChoiceField(label=_("Contact reason"), required=False)

    def __init__(self, *args, ticket, members, teams, reasons, fields: list[CustomField], **kwargs):
        initial = {
            "expected_version": ticket.version,
            "status": ticket.status,
            "priority": ticket.priority,
            "type": ticket.type,
            "assignee": str(ticket.assignee_id or ""),
            "team": str(ticket.team_id or ""),
            "tags": ", ".join(t.name for t in ticket_tags(ticket)),
            "contact_reason": str(ticket.contact_reason_id or ""),
        }
        values = ticket.custom_fields or {}
        for field in fields:
            initial[f"cf_{field.key}"] = values.get(field.key)
        kwargs.setdefault("initial", initial)
        kwargs.setdefault("auto_id", "prop-%s")
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.custom = fields
        self.fields["assignee"].choices = _member_choices(members, blank_label=_("Unassigned"))
        self.fields["team"].choices = _team_choices(teams, blank_label=_("No team"))
        self.fields["contact_reason"].choices = [("", _("None"))] + [(str(r.pk), str(r)) for r in reasons]
        if ticket.status in (Status.NEW, Status.CLOSED):
            # A new ticket may stay new until someone acts on it; closed ones are read-only
            # (the choice is there only so the panel renders).
            self.fields["status"].choices = [(ticket.status, Status(ticket.status).label)] + AGENT_STATUSES
        for field in fields:
            self.fields[f"cf_{field.key}"] = custom_form_field(field)

    def custom_bound_fields(self):
        return [self[f"cf_{field.key}"] for field in self.custom]

    def changes(self) -> dict:
        """The service's keyword arguments for what differs from the ticket (nothing else)."""
        data, ticket = self.cleaned_data, self.ticket
        changes: dict = {}
        for name in ("status", "priority", "type"):
            if data[name] != getattr(ticket, name):
                changes[name] = data[name]
        for name, attr in (("assignee", "assignee_id"), ("team", "team_id"), ("contact_reason", "contact_reason_id")):
            value = int(data[name]) if data[name] else None
            if value != getattr(ticket, attr):
                changes[name] = value
        current_tags = sorted(t.name for t in ticket_tags(ticket))
        if sorted(data["tags"]) != current_tags:
            changes["tags"] = data["tags"]
        values = ticket.custom_fields or {}
        custom = {}
        for field in self.custom:
            value = data.get(f"cf_{field.key}")
            if _custom_differs(values.get(field.key), value):
                custom[field.key] = value
        if custom:
            changes["custom_fields"] = custom
        return changes


def _custom_differs(before, after) -> bool:
    empty = (None, "", [], False)
    if before in empty and after in empty:
        return False
    return before != after


def _option_choices(field: CustomField) -> list[tuple[str, str]]:
    language = (get_language() or "en").split("-")[0]
    choices = []
    for option in field.options if isinstance(field.options, list) else []:
        if isinstance(option, dict) and isinstance(option.get("value"), str):
            labels = option.get("labels") if isinstance(option.get("labels"), dict) else {}
            choices.append((option["value"], str(labels.get(language) or option.get("label") or option["value"])))
    return choices


class _JsonNumberField(forms.DecimalField):
    def clean(self, value):
        number = super().clean(value)
        if number is None:
            return None
        return int(number) if number == number.to_integral_value() else float(number)


class _IsoDateField(forms.DateField):
    def prepare_value(self, value):
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        return super().prepare_value(value)

    def clean(self, value):
        date = super().clean(value)
        return date.isoformat() if date else None


def custom_form_field(field: CustomField) -> forms.Field:
    language = (get_language() or "en").split("-")[0]
    translations = field.label_translations if isinstance(field.label_translations, dict) else {}
    label = str(translations.get(language) or field.label)
    common = {"label": label, "required": False}
    if field.kind == CustomFieldKind.NUMBER:
        return _JsonNumberField(max_digits=20, decimal_places=6, min_value=Decimal("-1e12"),
                                max_value=Decimal("1e12"), **common)
    if field.kind == CustomFieldKind.DATE:
        return _IsoDateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if field.kind == CustomFieldKind.DROPDOWN:
        return forms.ChoiceField(choices=[("", "—")] + _option_choices(field), **common)
    if field.kind == CustomFieldKind.CHECKBOX:
        return forms.BooleanField(**common)
    if field.kind == CustomFieldKind.MULTI_SELECT:
        return forms.MultipleChoiceField(choices=_option_choices(field), widget=forms.CheckboxSelectMultiple,
                                         **common)
    return forms.CharField(max_length=1000, **common)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most %(n)d files at once.") % {"n": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ReplyForm(forms.Form):
    PUBLIC, NOTE = "public", "note"

    body = forms.CharField(label=_("Message"), max_length=MAX_BODY, required=False,
                           widget=forms.Textarea(attrs={"rows": 6}))
    kind = forms.ChoiceField(label=_("Send as"), choices=[(PUBLIC, _("Public reply")), (NOTE, _("Internal note"))],
                             widget=forms.RadioSelect)
    status = forms.ChoiceField(label=_("Then set status to"), required=False,
                               choices=[("", _("Keep the status"))] + AGENT_STATUSES)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    last_message_id = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, can_reply: bool, **kwargs):
        kwargs.setdefault("auto_id", "reply-%s")
        super().__init__(*args, **kwargs)
        self.can_reply = can_reply
        if not can_reply:
            self.fields["kind"].choices = [(self.NOTE, _("Internal note"))]
            self.fields["kind"].initial = self.NOTE

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments") and "body" not in self.errors:
            self.add_error("body", _("Write a message first."))
        return data


class TimeEntryForm(forms.Form):
    """Measured time (``seconds``, from the page's script) or a manual entry (``minutes``)."""

    AUTO, MANUAL = "auto", "manual"

    source = forms.ChoiceField(choices=[(AUTO, AUTO), (MANUAL, MANUAL)], initial=MANUAL, widget=forms.HiddenInput)
    seconds = forms.IntegerField(required=False, min_value=1, max_value=3600)
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1, max_value=24 * 60)
    note = forms.CharField(label=_("What did you do?"), required=False, max_length=250)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "time-%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("source") == self.AUTO and not data.get("seconds"):
            self.add_error("seconds", _("Measured time is missing."))
        if data.get("source") == self.MANUAL and not data.get("minutes"):
            self.add_error("minutes", _("Enter the minutes you spent."))
        return data

    @property
    def total_seconds(self) -> int:
        data = self.cleaned_data
        return data["seconds"] if data["source"] == self.AUTO else data["minutes"] * 60


class MacroForm(forms.Form):
    macro = forms.IntegerField(label=_("Macro"), min_value=1)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class IdListField(forms.Field):
    """Repeated ``name=<id>`` values: positive integers (the tenant's queryset decides which exist)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, (list, tuple)):
            value = [value]
        ids = []
        for item in value:
            try:
                number = int(str(item))
            except ValueError:
                raise ValidationError(_("Not a valid selection.")) from None
            if not 0 < number < 2**63:
                raise ValidationError(_("Not a valid selection."))
            ids.append(number)
        return ids


class BulkForm(forms.Form):
    """Selected rows and the changes to make to all of them (empty fields: leave as is)."""

    tickets = IdListField()
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Keep"))] + AGENT_STATUSES)
    priority = forms.ChoiceField(label=_("Priority"), required=False, choices=[("", _("Keep"))] + Priority.choices)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    add_tags = TagsField(label=_("Add tags"))
    remove_tags = TagsField(label=_("Remove tags"))
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, members, teams, **kwargs):
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = ([("", _("Keep")), (NONE, _("Unassigned"))]
                                           + _member_choices(members, blank_label="")[1:])
        self.fields["team"].choices = [("", _("Keep")), (NONE, _("No team"))] + _team_choices(teams, blank_label="")[1:]

    def clean_tickets(self):
        ids = list(dict.fromkeys(self.cleaned_data["tickets"]))
        if not ids:
            raise ValidationError(_("Select at least one ticket."))
        if len(ids) > MAX_BULK:
            raise ValidationError(_("At most %(n)d tickets at once.") % {"n": MAX_BULK})
        return ids

    def changes(self) -> dict:
        data = self.cleaned_data
        changes: dict = {}
        for name in ("status", "priority"):
            if data[name]:
                changes[name] = data[name]
        for name in ("assignee", "team"):
            if data[name] == NONE:
                changes[name] = None
            elif data[name]:
                changes[name] = int(data[name])
        if data["add_tags"]:
            changes["add_tags"] = data["add_tags"]
        if data["remove_tags"]:
            changes["remove_tags"] = data["remove_tags"]
        return changes

    def clean(self):
        data = super().clean()
        if not self.errors and not self.changes():
            raise ValidationError(_("Choose at least one change to make."))
        return data
