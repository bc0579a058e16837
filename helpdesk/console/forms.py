"""Forms of the console shell: sign-in, second factor, password reset, profile, switchers."""
from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from helpdesk.console import totp
from helpdesk.console.links import absolute_url_for
from helpdesk.tenancy.context import dangerously_unscoped
from helpdesk.tenancy.models import Membership


class LoginForm(auth_forms.AuthenticationForm):
    """Django's AuthenticationForm (``username`` is the email) with our labels and messages."""

    username = auth_forms.UsernameField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("The email or password is not right. Both are checked together."),
        "inactive": _("This account is switched off."),
    }

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().lower()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Two-factor code"), max_length=12,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"[0-9 \-]*",
            "autofocus": True, "spellcheck": "false",
        }),
    )

    def __init__(self, *args, autofocus: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not autofocus:
            self.fields["code"].widget.attrs.pop("autofocus", None)

    def clean_code(self) -> str:
        code = totp.normalize_code(self.cleaned_data["code"])
        if not totp.CODE_RE.match(code):
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return code


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, but the link is built from a trusted host, never the Host header.

    On a tenant host only that tenant's members get mail (to everyone else the page says
    the same, so it reveals nothing). The mail is in the person's language.
    """

    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))

    def __init__(self, *args, tenant=None, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)

    def get_users(self, email):
        users = super().get_users(email)
        if self.tenant is None:
            yield from users
            return
        with dangerously_unscoped():  # membership rows of this one tenant, read before sign-in
            member_ids = set(Membership.unscoped.filter(tenant=self.tenant, is_active=True)
                             .values_list("user_id", flat=True))
        for user in users:
            if user.pk in member_ids:
                yield user

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        user = context["user"]
        language = user.locale or (self.tenant.default_locale if self.tenant else translation.get_language())
        path = context["reset_path"]
        with translation.override(language):
            context = {**context, "reset_url": absolute_url_for(self.tenant, path),
                       "site_name": self.tenant.display_name if self.tenant else _("Helpdesk")}
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
            body = loader.render_to_string(email_template_name, context)
            message = EmailMultiAlternatives(subject, body, from_email, [to_email])
            if html_email_template_name:
                message.attach_alternative(loader.render_to_string(html_email_template_name, context), "text/html")
        message.send()

    def save(self, *, request=None, **kwargs):
        from django.urls import reverse
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        # Same as Django's save(), but the context carries a path and never the Host header.
        email = self.cleaned_data["email"]
        email_field_name = get_user_model().get_email_field_name()
        token_generator = kwargs.get("token_generator") or auth_forms.default_token_generator
        for user in self.get_users(email):
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = token_generator.make_token(user)
            context = {
                "email": getattr(user, email_field_name),
                "user": user,
                "uid": uid,
                "token": token,
                "reset_path": reverse("console:password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            }
            self.send_mail(
                kwargs.get("subject_template_name", "emails/password_reset_subject.txt"),
                kwargs.get("email_template_name", "emails/password_reset.txt"),
                context, kwargs.get("from_email"), getattr(user, email_field_name),
                html_email_template_name=kwargs.get("html_email_template_name", "emails/password_reset.html"),
            )


class SetPasswordForm(auth_forms.SetPasswordForm):
    new_password1 = forms.CharField(
        label=_("New password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    names = sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC")
    return [(name, name.replace("_", " ")) for name in names]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    locale = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[], help_text=_(
        "Times in the console are shown in this zone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=2000)


class TenantSwitchForm(forms.Form):
    tenant = forms.IntegerField(label=_("Helpdesk"), min_value=1)
