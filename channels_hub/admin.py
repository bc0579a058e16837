"""Admin of channels (writes through the channel services; secrets never shown, passwords
write-only), the stored incoming mail (read-only; the original is a download, never shown
inline; "process again"), the outbox (read-only; "retry now") and the threading index.

Scoped to the admin's tenant like every admin here (``TenantScopedAdmin``).
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy as _, ngettext, pgettext_lazy

from channels_hub.models import (
    Channel,
    ChannelKind,
    EmailThreadRef,
    InboundEmail,
    OutboundEmail,
    OutboundStatus,
)
from channels_hub.services import channels as channel_services
from channels_hub.services.inbound import inbound_process
from channels_hub.views.mail_log import REPROCESSABLE, eml_response
from helpdesk.tenancy.admin_base import ACTIONS, TenantScopedAdmin, TenantScopedForm, admin_audit
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap

PASSWORDS = ("smtp_password", "imap_password")
SENDER_LISTS = ("blocked_senders", "allowed_senders")
# Set through declared form fields, never copied onto the row by the model form.
WRITE_ONLY = PASSWORDS + SENDER_LISTS


def _password_field(label):
    return forms.CharField(label=label, required=False, strip=False, max_length=500,
                           widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                           help_text=_("Stored encrypted and never shown. Leave blank to keep the stored one."))


def _senders_field(label):
    return forms.CharField(label=label, required=False, max_length=40_000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("One address or @domain per line."))


class ChannelAdminForm(TenantScopedForm):
    smtp_password = _password_field(_("SMTP password"))
    imap_password = _password_field(_("IMAP password"))
    blocked_senders = _senders_field(_("blocked senders"))
    allowed_senders = _senders_field(_("allowed senders"))
    webhook_url = forms.URLField(label=_("reply webhook URL"), max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Channel
        exclude = ("tenant", *WRITE_ONLY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SENDER_LISTS:
            if self.instance.pk:
                self.initial[name] = "\n".join(getattr(self.instance, name) or [])

    def kind(self) -> str:
        return self.instance.kind if self.instance.pk else (self.cleaned_data.get("kind") or "")

    def service_values(self) -> dict:
        """The cleaned input the channel services take for this kind of channel."""
        allowed = (channel_services.EMAIL_FIELDS if self.kind() == ChannelKind.EMAIL
                   else channel_services.CONNECTOR_FIELDS)
        values = {name: self.cleaned_data[name] for name in allowed if name in self.cleaned_data}
        for name in PASSWORDS:
            if not values.get(name):
                values.pop(name, None)
        return values

    def clean(self):
        cleaned = super().clean()
        if self.kind() not in ChannelKind.values:
            return cleaned
        try:
            # The services' own checks, run here so they show as form errors (the admin
            # cannot show an error raised while saving). They run again on save.
            channel_services._clean(self.kind(), self.service_values())
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return cleaned

    def _get_validation_exclusions(self):
        # One default mailbox per tenant: the service moves the flag, so the constraint
        # must not refuse the switch here.
        exclude = super()._get_validation_exclusions()
        exclude.add("is_default")
        return exclude


@admin.register(Channel)
class ChannelAdmin(TenantScopedAdmin):
    form = ChannelAdminForm
    capabilities = {action: Cap.SETTINGS_MANAGE for action in ACTIONS}
    audit_writes = False  # the services audit
    list_display = ("name", "kind", "address", "provider", "is_active", "is_default", "imap_last_polled_at",
                    "short_imap_error")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "address", "provider", "key")
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("kind", "name", "key", "is_active")}),
        (_("Email: address"), {"fields": ("address", "from_name", "is_default", "acknowledge", "token_prefix")}),
        (_("Email: sending (SMTP)"), {"fields": ("smtp_host", "smtp_port", "smtp_security", "smtp_username",
                                                "smtp_password")}),
        (_("Email: receiving (IMAP)"), {"fields": ("imap_host", "imap_port", "imap_security", "imap_username",
                                                  "imap_password", "imap_folder", "imap_interval_seconds",
                                                  "imap_last_polled_at", "imap_last_error")}),
        (_("Email: noise control"), {"fields": ("sender_hourly_limit", "channel_hourly_limit", "blocked_senders",
                                               "allowed_senders")}),
        (_("Connector"), {"fields": ("provider", "webhook_url")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["key", "imap_last_polled_at", "imap_last_error", *super().get_readonly_fields(request, obj)]
        if obj is not None:
            readonly.append("kind")
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The write-only fields are the form's own; kept out of the model form's field list
        # so a blank password can never be copied onto the row.
        fieldsets = self.get_fieldsets(request, obj)
        readonly = set(self.get_readonly_fields(request, obj))
        kwargs["fields"] = [name for _title, options in fieldsets for name in options["fields"]
                            if name not in readonly and name not in WRITE_ONLY and name != "tenant_choice"]
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("IMAP error"))
    def short_imap_error(self, obj):
        return Truncator(obj.imap_last_error).chars(60)

    def save_model(self, request, obj, form, change):
        values = form.service_values()
        if change:
            # A fresh row: the form's instance may carry what the model form copied onto it.
            with tenant_scope(obj.tenant):
                fresh = Channel.objects.get(pk=obj.pk)
            stored = channel_services.channel_update(channel=fresh, actor=request.user, values=values)
        else:
            tenant = form.target_tenant() or request.tenant
            stored, secret = channel_services.channel_create(tenant=tenant, actor=request.user,
                                                             kind=form.cleaned_data["kind"], values=values)
            text = gettext("Copy the channel's secret now; it is not shown again:")
            messages.warning(request, format_html('{} <code class="channel-secret">{}</code>', text, secret))
            if stored.kind == ChannelKind.CONNECTOR:
                messages.warning(request, format_html(
                    '{} <code class="channel-secret">{}</code>',
                    gettext("Copy the signing secret of its reply webhooks now; it is not shown again:"),
                    stored.signing_secret))
        obj.pk = stored.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        channel_services.channel_delete(channel=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for channel in queryset.select_related("tenant"):
            channel_services.channel_delete(channel=channel, actor=request.user)


# --- incoming mail -------------------------------------------------------------------------------


@admin.register(InboundEmail)
class InboundEmailAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.SETTINGS_MANAGE, "reprocess": Cap.SETTINGS_MANAGE}
    list_display = ("received_at", "channel", "sender", "subject", "status", "reason", "malformed", "ticket_link")
    list_filter = ("status", "malformed", "source")
    list_select_related = ("channel", "ticket")
    search_fields = ("sender", "subject", "message_id")
    ordering = ("-received_at", "-id")
    fields = ("channel", "source", "received_at", "processed_at", "status", "reason", "error", "malformed",
              "attempts", "message_id", "sender", "subject", "size", "ticket_link", "original")
    readonly_fields = fields
    actions = ["reprocess"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw")

    def get_urls(self):
        view = self.admin_site.admin_view(self.raw_view)
        view.model_admin = self  # names the model behind the URL (the isolation harness reads it)
        info = (self.opts.app_label, self.opts.model_name)
        return [path("<path:object_id>/original.eml", view, name="%s_%s_raw" % info), *super().get_urls()]

    def raw_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return eml_response(obj)  # the deferred raw message loads for this one row

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj):
        if obj.ticket_id is None:
            return "—"
        return format_html('<a href="{}">#{}</a>', reverse("tickets:detail", args=[obj.ticket.number]),
                           obj.ticket.number)

    @admin.display(description=_("original"))
    def original(self, obj):
        url = reverse("admin:channels_hub_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}" download>{}</a> ({} B)', url, gettext("Download original (.eml)"), obj.size)

    def has_reprocess_permission(self, request):
        return self._allowed(request, "reprocess")

    @admin.action(description=_("Process the selected mail again"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        done = failed = skipped = 0
        for inbound in queryset.select_related(None).select_related("tenant").defer("raw"):
            if inbound.status not in REPROCESSABLE:
                skipped += 1
                continue
            try:
                with tenant_scope(inbound.tenant):
                    inbound_process(inbound_id=inbound.pk, force=True)
                    admin_audit(request, inbound, "reprocessed", label="inbound_email")
                done += 1
            except Exception:  # recorded on the row by the service
                failed += 1
        if done:
            self.message_user(request, ngettext("%(count)d mail processed again.", "%(count)d mails processed again.",
                                                done) % {"count": done}, messages.SUCCESS)
        if failed:
            self.message_user(request, ngettext("%(count)d mail failed again; see its error.",
                                                "%(count)d mails failed again; see their errors.", failed)
                              % {"count": failed}, messages.ERROR)
        if skipped:
            self.message_user(request, ngettext("%(count)d mail was skipped: it was already processed.",
                                                "%(count)d mails were skipped: they were already processed.", skipped)
                              % {"count": skipped}, messages.WARNING)


# --- outgoing mail -------------------------------------------------------------------------------


@admin.register(OutboundEmail)
class OutboundEmailAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.SETTINGS_MANAGE, "retry": Cap.SETTINGS_MANAGE}
    list_display = ("created_at", "channel", "recipients", "subject", "kind", "status", "attempts", "short_error")
    list_filter = ("status", "kind")
    list_select_related = ("channel",)
    search_fields = ("subject", "message_id")
    ordering = ("-created_at", "-id")
    fields = ("kind", "channel", "ticket", "from_email", "to", "cc", "subject", "body_text", "message_id",
              "in_reply_to", "references", "auto_submitted", "status", "attempts", "last_error", "next_attempt_at",
              "sent_at", "bounced_at", "created_at")
    readonly_fields = fields
    actions = ["retry_now"]

    @admin.display(description=pgettext_lazy("recipients of a mail", "to"))
    def recipients(self, obj):
        return Truncator(", ".join(obj.to or [])).chars(80)

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return Truncator(obj.last_error).chars(60)

    def has_retry_permission(self, request):
        return self._allowed(request, "retry")

    @admin.action(description=_("Retry the selected now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        # The sweep would send them within a minute; queueing the send task now is the outbox's
        # own after-commit hook (it tolerates a broker outage: the sweep remains).
        from channels_hub.services.outbox import queue_send

        now = timezone.now()
        due = list(queryset.filter(Q(status=OutboundStatus.FAILED) | Q(status=OutboundStatus.QUEUED))
                   .select_related(None).select_related("tenant"))
        for outbound in due:
            with tenant_scope(outbound.tenant):
                OutboundEmail.objects.filter(pk=outbound.pk).update(status=OutboundStatus.QUEUED, next_attempt_at=now,
                                                                   updated_at=now)
                admin_audit(request, outbound, "retried", label="outbound_email")
            tenant_id, outbound_id = outbound.tenant_id, outbound.pk
            transaction.on_commit(lambda t=tenant_id, o=outbound_id: queue_send(t, o))
        skipped = queryset.count() - len(due)
        if due:
            self.message_user(request, ngettext("%(count)d mail queued to be sent now.",
                                                "%(count)d mails queued to be sent now.", len(due))
                              % {"count": len(due)}, messages.SUCCESS)
        if skipped:
            self.message_user(request, ngettext("%(count)d mail was skipped: only failed or queued mail is retried.",
                                                "%(count)d mails were skipped: only failed or queued mail is retried.",
                                                skipped) % {"count": skipped}, messages.WARNING)


@admin.register(EmailThreadRef)
class EmailThreadRefAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.SETTINGS_MANAGE}
    list_display = ("created_at", "message_id", "direction", "ticket", "channel")
    list_filter = ("direction",)
    list_select_related = ("ticket", "channel")
    search_fields = ("message_id",)
    ordering = ("-created_at", "-id")
    fields = ("message_id", "direction", "ticket", "side_conversation", "ticket_message", "channel", "references",
              "created_at")
    readonly_fields = fields
