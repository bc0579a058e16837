"""Forms of the request portal: parse and check what a customer sends; services decide."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.models import CustomField, CustomFieldKind
from tickets.services import attachments as attachment_services
from tickets.services.tickets import SUBJECT_MAX_LENGTH

HONEYPOT = "website"
STAMP = "stamp"
CUSTOM_PREFIX = "cf_"
DESCRIPTION_MAX = 20_000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); checked against the ticket
    attachment limits here so a bad file is a clear error before anything is written."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = [single(d, initial) for d in data] if isinstance(data, (list, tuple)) else (
            [single(data, initial)] if data else [])
        files = [f for f in files if f]
        try:
            attachment_services.check_uploads(files)
        except ValidationError as exc:
            raise ValidationError([m for messages in exc.message_dict.values() for m in messages]) from None
        return files


def _label(field: CustomField, language: str) -> str:
    return (field.label_translations or {}).get(language) or field.label


def _options(field: CustomField, language: str) -> list[tuple[str, str]]:
    out = []
    for option in field.options or []:
        if isinstance(option, dict) and option.get("value") is not None:
            label = (option.get("labels") or {}).get(language) or option.get("label") or option["value"]
            out.append((str(option["value"]), str(label)))
    return out


def custom_field_display(field: CustomField, value: Any, language: str) -> str:
    """A stored value as the customer reads it: option labels in their language, yes/no."""
    if value in (None, "", []):
        return ""
    if field.kind == CustomFieldKind.CHECKBOX:
        return str(_("Yes") if value else _("No"))
    labels = dict(_options(field, language))
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def custom_form_field(field: CustomField, language: str) -> forms.Field:
    """A typed input for a customer-visible custom field."""
    common = {"label": _label(field, language), "required": field.required}
    if field.kind == CustomFieldKind.NUMBER:
        return forms.DecimalField(max_digits=30, decimal_places=10, **common)
    if field.kind == CustomFieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"], **common)
    if field.kind == CustomFieldKind.DROPDOWN:
        return forms.ChoiceField(choices=[("", "—")] + _options(field, language), **common)
    if field.kind == CustomFieldKind.MULTI_SELECT:
        return forms.MultipleChoiceField(choices=_options(field, language), widget=forms.CheckboxSelectMultiple,
                                         **common)
    if field.kind == CustomFieldKind.CHECKBOX:
        # Unticked is an answer too: a required checkbox is not "must tick".
        return forms.BooleanField(label=common["label"], required=False)
    return forms.CharField(max_length=1000, **common)


def custom_value(field: CustomField, value: Any) -> Any:
    """The form's value in the JSON shape ``clean_custom_fields`` takes (None: no value)."""
    if field.kind == CustomFieldKind.CHECKBOX:
        return bool(value)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class RequestForm(forms.Form):
    """A new request. ``signed_in``: name and email come from the account (shown, not taken)."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email address"), max_length=254)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH)
    description = forms.CharField(label=_("How can we help?"), widget=forms.Textarea(attrs={"rows": 8}),
                                  max_length=DESCRIPTION_MAX)
    attachments = MultipleFileField(label=_("Attachments"))
    # The honeypot: people never see it (off screen, skipped by keyboard and screen readers).
    website = forms.CharField(label=_("Leave this field empty"), required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))
    stamp = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, custom_fields: Iterable[CustomField] = (), language: str = "en",
                 signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_definitions = {f.key: f for f in custom_fields}
        for key, definition in self.custom_definitions.items():
            self.fields[CUSTOM_PREFIX + key] = custom_form_field(definition, language)
        self.signed_in = signed_in
        if signed_in:
            for name in ("name", "email"):
                self.fields[name].required = False
                self.fields[name].disabled = True
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    @property
    def custom_bound_fields(self):
        return [self[CUSTOM_PREFIX + key] for key in self.custom_definitions]

    def custom_values(self) -> dict[str, Any]:
        values = {}
        for key, definition in self.custom_definitions.items():
            value = custom_value(definition, self.cleaned_data.get(CUSTOM_PREFIX + key))
            if value is not None:
                values[key] = value
        return values

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ``ValidationError`` on the fields it names."""
        names = {"requester.email": "email", "body": "description", "description": "description"}
        for key, messages in (exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]):
            field = names.get(key, key)
            if key.startswith("custom_fields."):
                field = CUSTOM_PREFIX + key.split(".", 1)[1]
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6}), max_length=DESCRIPTION_MAX,
                           required=False)
    attachments = MultipleFileField(label=_("Attachments"))

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachments") and not self.errors:
            raise ValidationError(_("Write a message or attach a file."))
        return data


class SigninLinkForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=300)


class SigninPasswordForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=300)


class PasswordForm(forms.Form):
    current_password = forms.CharField(label=_("Current password"), strip=False, required=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    password = forms.CharField(label=_("New password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label=_("New password again"), strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, has_password: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_password:
            del self.fields["current_password"]

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords do not match."))
        return data
