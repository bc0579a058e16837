"""Channel settings in the console: list, create, change, test, rotate the secret, delete.

Administrators only (``settings.manage``, as every settings page; others get the console's
403 page) and the services check it again. Another tenant's channel is a 404 (the guarded
base). A secret is shown once: in the answer to the POST that made it, never stored in the
session or a message, with ``Cache-Control: no-store``.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic.detail import SingleObjectMixin

from channels_hub.email.imap import ImapError
from channels_hub.models import Channel, ChannelKind, OutboundKind
from channels_hub.services import channels as channel_services
from channels_hub.services.imap_poll import channel_imap_check, imap_error_text
from channels_hub.services.outbox import outbound_queue
from channels_hub.views import queries
from channels_hub.views.forms import ConnectorChannelForm, EmailChannelForm, RotateSecretForm
from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap


class SettingsView(ConsoleView):
    capability = Cap.SETTINGS_MANAGE


class ChannelObjectView(TenantObjectMixin, SettingsView, SingleObjectMixin):
    model = Channel
    context_object_name = "channel"


def form_class(kind: str):
    return EmailChannelForm if kind == ChannelKind.EMAIL else ConnectorChannelForm


def connection_details(request, channel: Channel) -> dict:
    """How mail or messages reach the channel: its key, the absolute hook URL, the pipe line."""
    if channel.kind == ChannelKind.EMAIL:
        hook = reverse("api:channel-email-inbound", args=[channel.key])
        pipe = f"python manage.py receive_email --channel {channel.key}"
    else:
        hook = reverse("api:channel-connector-messages", args=[channel.key])
        pipe = ""
    return {"key": channel.key, "hook_url": request.build_absolute_uri(hook), "pipe_command": pipe}


def _no_store(response):
    response["Cache-Control"] = "private, no-store"
    return response


class ChannelListView(SettingsView):
    def get(self, request):
        from channels_hub.portal.services import portal_settings_get

        return TemplateResponse(request, "console/channels/list.html", {
            "channels": queries.channel_list(tenant=self.tenant),
            "portal": portal_settings_get(tenant=self.tenant),
            "portal_url": self.tenant.absolute_url(reverse("portal:requests")),
        })


class PortalSettingsView(SettingsView):
    """The request portal's switches, on the channels page (POST only)."""

    def post(self, request):
        from channels_hub.portal.services import PORTAL_SETTING_FIELDS, portal_settings_update

        portal_settings_update(tenant=self.tenant, actor=request.user,
                               values={name: request.POST.get(name) == "on" for name in PORTAL_SETTING_FIELDS})
        messages.success(request, _("Portal settings saved."))
        return HttpResponseRedirect(reverse("channels:list") + "#portal")


class ChannelCreateView(SettingsView):
    """``/new/email/`` and ``/new/connector/``; the answer to a successful POST shows the secret."""

    kind: str = ChannelKind.EMAIL

    def initial(self) -> dict:
        if self.kind == ChannelKind.CONNECTOR:
            return {"is_active": True}
        defaults = {field.name: field.get_default() for field in Channel._meta.fields}
        initial = {name: defaults[name] for name in EmailChannelForm.base_fields if name in defaults}
        initial.update(blocked_senders="", allowed_senders="", smtp_password="", imap_password="",
                       is_default=not Channel.objects.filter(tenant=self.tenant, kind=ChannelKind.EMAIL,
                                                             is_default=True).exists())
        return initial

    def get(self, request):
        return self.render(form_class(self.kind)(initial=self.initial()))

    def post(self, request):
        form = form_class(self.kind)(request.POST)
        if form.is_valid():
            try:
                channel, secret = channel_services.channel_create(
                    tenant=self.tenant, actor=request.user, kind=self.kind, values=form.service_values())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return _no_store(TemplateResponse(request, "console/channels/secret.html", {
                    "channel": channel, "secret": secret, "created": True,
                    "signing_secret": channel.signing_secret if channel.kind == ChannelKind.CONNECTOR else "",
                    **connection_details(request, channel),
                }, status=201))
        return self.render(form, status=400)

    def render(self, form, status=200):
        return TemplateResponse(self.request, "console/channels/form.html",
                                {"form": form, "channel": None, "kind": self.kind}, status=status)


class ChannelUpdateView(ChannelObjectView):
    def get(self, request, pk):
        channel = self.get_object()
        form = form_class(channel.kind)(initial=form_class(channel.kind).initial_for(channel), channel=channel)
        return self.render(channel, form)

    def post(self, request, pk):
        channel = self.get_object()
        form = form_class(channel.kind)(request.POST, channel=channel)
        if form.is_valid():
            try:
                channel = channel_services.channel_update(channel=channel, actor=request.user,
                                                          values=form.service_values())
            except ValidationError as exc:
                form.add_service_errors(exc)
                channel.refresh_from_db()  # the service may have set attributes before refusing
            else:
                messages.success(request, _("Channel “%(name)s” saved.") % {"name": channel.name})
                return HttpResponseRedirect(reverse("channels:edit", args=[channel.pk]))
        return self.render(channel, form, status=400)

    def render(self, channel, form, *, status=200, imap_test=None):
        return TemplateResponse(self.request, "console/channels/form.html", {
            "form": form, "channel": channel, "kind": channel.kind, "imap_test": imap_test,
            **connection_details(self.request, channel),
        }, status=status)


class ChannelImapTestView(ChannelUpdateView):
    """"Test connection": log in with the IMAP settings as typed (a blank password means the
    stored one) and open the folder read-only. Nothing is saved; the form comes back as typed."""

    def get(self, request, pk):
        return HttpResponseRedirect(reverse("channels:edit", args=[self.get_object().pk]))

    def post(self, request, pk):
        channel = self.get_object()
        if channel.kind != ChannelKind.EMAIL:
            return HttpResponseRedirect(reverse("channels:edit", args=[pk]))
        form = EmailChannelForm(request.POST, channel=channel)
        values = form.imap_values()
        if values is None:
            return self.render(channel, form, status=400)
        if not values["host"]:
            result = {"ok": False, "text": _("Enter the IMAP host to test.")}
            return self.render(channel, form, status=400, imap_test=result)
        try:
            check = channel_imap_check(channel=channel, **values)
        except ImapError as exc:
            result = {"ok": False, "text": imap_error_text(exc)}
        else:
            result = {"ok": True, "messages": check.messages, "unseen": check.unseen}
        return self.render(channel, form, imap_test=result)


class ChannelSendTestView(ChannelObjectView):
    """Queue a real mail through the channel to the administrator; the mail log shows how it went."""

    def post(self, request, pk):
        channel = self.get_object()
        if channel.kind != ChannelKind.EMAIL or not channel.is_active:
            messages.error(request, _("Only an active email channel can send a test mail."))
            return HttpResponseRedirect(reverse("channels:edit", args=[pk]))
        with tenant_scope(self.tenant):
            outbound = outbound_queue(
                tenant=self.tenant, kind=OutboundKind.NOTIFICATION, to=[request.user.email], channel=channel,
                subject=_("Test mail from %(channel)s") % {"channel": channel.name},
                text=_("This mail was sent from the helpdesk to check the sending settings of the channel "
                       "“%(channel)s”.") % {"channel": channel.name})
        if outbound is None:
            messages.error(request, _("Your address is marked undeliverable; no test mail was queued."))
        else:
            messages.success(request, _("Test mail queued to %(address)s. Its status shows below.")
                             % {"address": request.user.email})
        return HttpResponseRedirect(reverse("channels:mail_log", args=[pk]) + "?show=sent")


class ChannelRotateSecretView(ChannelObjectView):
    def get(self, request, pk):
        return TemplateResponse(request, "console/channels/rotate.html", {"channel": self.get_object()})

    def post(self, request, pk):
        channel = self.get_object()
        form = RotateSecretForm(request.POST)
        which = form.cleaned_data["which"] if form.is_valid() else "secret"
        context = {"channel": channel, "created": False, "secret": "", "signing_secret": ""}
        try:
            if which == "signing":
                context["signing_secret"] = channel_services.channel_rotate_signing_secret(
                    channel=channel, actor=request.user)
            else:
                context["secret"] = channel_services.channel_rotate_secret(channel=channel, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse("channels:rotate_secret", args=[pk]))
        context.update(connection_details(request, channel))
        return _no_store(TemplateResponse(request, "console/channels/secret.html", context))


class ChannelDeleteView(ChannelObjectView):
    def get(self, request, pk):
        return TemplateResponse(request, "console/channels/delete.html", {"channel": self.get_object()})

    def post(self, request, pk):
        channel = self.get_object()
        name = channel.name
        channel_services.channel_delete(channel=channel, actor=request.user)
        messages.success(request, _("Channel “%(name)s” deleted.") % {"name": name})
        return HttpResponseRedirect(reverse("channels:list"))
