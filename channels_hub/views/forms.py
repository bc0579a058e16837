"""Forms of the channel settings pages. They parse and type the input; the rules (addresses,
ports, sender lists, limits) are the services', whose ValidationErrors land on these fields.
Passwords are write-only: never rendered back, and left blank they keep the stored one."""
from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from channels_hub.models import Channel, MailSecurity

# Field groups of the email form, in the order the page shows them.
EMAIL_GROUPS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("address", _("Address and sender name"), ("name", "address", "from_name", "is_default", "is_active")),
    ("smtp", _("Sending (SMTP)"), ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password")),
    ("imap", _("Receiving (IMAP)"), ("imap_host", "imap_port", "imap_security", "imap_username", "imap_password",
                                     "imap_folder", "imap_interval_seconds")),
    ("noise", _("Noise control"), ("sender_hourly_limit", "channel_hourly_limit", "blocked_senders",
                                   "allowed_senders")),
    ("replies", _("Acknowledgement and ticket token"), ("acknowledge", "token_prefix")),
)
IMAP_FIELDS = ("imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder")
PASSWORD_FIELDS = ("smtp_password", "imap_password")
CHECKBOXES = ("is_default", "is_active", "acknowledge")


def _password(label) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, strip=False, max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))


def _senders(label, help_text) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=40_000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for name, errors in exc.message_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class EmailChannelForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Shown to agents, e.g. “Support”."))
    address = forms.CharField(label=_("Support address"), max_length=254,
                              help_text=_("The address customers write to, e.g. support@example.com."))
    from_name = forms.CharField(label=_("Sender name"), max_length=100, required=False,
                                help_text=_("Shown as the sender of outgoing mail; the helpdesk's name when empty."))
    is_default = forms.BooleanField(label=_("Default for outgoing mail"), required=False,
                                    help_text=_("Answers tickets that came in another way (portal, API)."))
    is_active = forms.BooleanField(label=_("Active"), required=False)

    smtp_host = forms.CharField(label=_("SMTP host"), max_length=255, required=False,
                                help_text=_("Leave empty to send through the helpdesk's own mail server."))
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=MailSecurity.choices)
    smtp_username = forms.CharField(label=_("SMTP user"), max_length=255, required=False)
    smtp_password = _password(_("SMTP password"))

    imap_host = forms.CharField(label=_("IMAP host"), max_length=255, required=False,
                                help_text=_("Leave empty if mail arrives through the inbound hook or an MTA pipe."))
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535)
    imap_security = forms.ChoiceField(label=_("IMAP security"), choices=MailSecurity.choices)
    imap_username = forms.CharField(label=_("IMAP user"), max_length=255, required=False)
    imap_password = _password(_("IMAP password"))
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=200, required=False,
                                  help_text=_("INBOX when empty."))
    imap_interval_seconds = forms.IntegerField(label=_("Poll every (seconds)"), min_value=0, max_value=1_000_000)

    sender_hourly_limit = forms.IntegerField(
        label=_("Messages per sender per hour"), min_value=0, max_value=1_000_000,
        help_text=_("Above this, a sender's mail is kept but makes no tickets (a mail storm, a loop)."))
    channel_hourly_limit = forms.IntegerField(label=_("Messages per hour for the whole channel"), min_value=0,
                                              max_value=1_000_000)
    blocked_senders = _senders(_("Blocked senders"),
                               _("One address or @domain per line. Their mail is kept but makes no tickets."))
    allowed_senders = _senders(_("Allowed senders"),
                               _("One address or @domain per line. When not empty, only these senders make tickets."))

    acknowledge = forms.BooleanField(label=_("Acknowledge new requests"), required=False,
                                     help_text=_("Reply automatically with the ticket number and when to expect "
                                                 "an answer."))
    token_prefix = forms.CharField(label=_("Ticket token prefix"), max_length=10,
                                   help_text=_("Put in the subject of outgoing mail, e.g. [#1042]."))

    def __init__(self, *args, channel: Channel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        for name in PASSWORD_FIELDS:
            stored = bool(channel and getattr(channel, name))
            self.fields[name].help_text = (_("A password is stored. Leave blank to keep it.") if stored
                                           else _("Stored encrypted; never shown again."))

    @classmethod
    def initial_for(cls, channel: Channel) -> dict[str, Any]:
        initial = {name: getattr(channel, name) for name in cls.base_fields if name not in PASSWORD_FIELDS}
        for name in ("blocked_senders", "allowed_senders"):
            initial[name] = "\n".join(getattr(channel, name) or [])
        return initial

    def groups(self) -> list[dict]:
        return [{"key": key, "title": title, "fields": [self[name] for name in names]}
                for key, title, names in EMAIL_GROUPS]

    def service_values(self) -> dict[str, Any]:
        """What the channel services take: blank passwords dropped (the stored ones stay)."""
        values = dict(self.cleaned_data)
        for name in PASSWORD_FIELDS:
            if not values.get(name):
                values.pop(name, None)
        return values

    def imap_values(self) -> dict[str, Any] | None:
        """The IMAP settings as typed (None when one of them is invalid), for "Test connection";
        a blank password means the stored one."""
        self.is_valid()
        if any(name in self.errors for name in IMAP_FIELDS):
            return None
        data = {name: self.cleaned_data.get(name) for name in IMAP_FIELDS}
        values = {"host": (data["imap_host"] or "").strip(), "port": data["imap_port"],
                  "security": data["imap_security"], "username": (data["imap_username"] or "").strip(),
                  "folder": (data["imap_folder"] or "").strip() or "INBOX"}
        if data["imap_password"]:
            values["password"] = data["imap_password"]
        return values


class ConnectorChannelForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Shown to agents, e.g. “WhatsApp”."))
    provider = forms.CharField(label=_("Platform"), max_length=50, required=False,
                               help_text=_("whatsapp, sms, twitter, … (shown to agents)."))
    webhook_url = forms.CharField(label=_("Reply webhook URL"), max_length=500, required=False,
                                  help_text=_("Agents' replies are POSTed here, signed with the signing secret."))
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, channel: Channel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel

    @classmethod
    def initial_for(cls, channel: Channel) -> dict[str, Any]:
        return {name: getattr(channel, name) for name in cls.base_fields}

    def service_values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RotateSecretForm(forms.Form):
    which = forms.ChoiceField(choices=(("secret", "secret"), ("signing", "signing")), initial="secret")
