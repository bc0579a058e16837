"""Admin of the event outbox (read-only), webhooks (secrets never shown) and their delivery log."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from helpdesk.events import types, webhooks
from helpdesk.events.models import Event, WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from helpdesk.events.services import webhook_create, webhook_delete, webhook_redeliver, webhook_update
from helpdesk.tenancy.admin_base import TenantScopedAdmin, TenantScopedForm, TenantScopedTabularInline
from helpdesk.tenancy.roles import Cap


@admin.register(Event)
class EventAdmin(TenantScopedAdmin):
    read_only = True
    capabilities = {"view": Cap.WEBHOOKS_MANAGE}
    list_display = ("created_at", "type", "subject_type", "subject_id", "dispatched_at", "dispatch_attempts")
    list_filter = (("dispatched_at", admin.EmptyFieldListFilter), "type")
    search_fields = ("type", "subject_id")
    ordering = ("-created_at", "-id")
    fields = ("created_at", "type", "subject_type", "subject_id", "actor_id", "payload", "dispatched_at",
              "dispatch_attempts", "handled_by", "dispatch_error")
    readonly_fields = fields


# --- webhooks ---------------------------------------------------------------------------


def _event_type_choices():
    return [(types.WILDCARD, gettext("All events")), *((name, name) for name in types.event_type_names())]


class WebhookSubscriptionForm(TenantScopedForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Event types"), choices=_event_type_choices, widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "events", "description", "is_active")

    def clean_url(self):
        url = (self.cleaned_data.get("url") or "").strip()
        try:
            webhooks.check_target(url)
        except webhooks.TargetRefused as exc:
            raise ValidationError(str(exc)) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantScopedAdmin):
    """Writes go through the webhook services (checks, audit, events). The secret is never shown."""

    form = WebhookSubscriptionForm
    capabilities = {"view": Cap.WEBHOOKS_MANAGE, "add": Cap.WEBHOOKS_MANAGE, "change": Cap.WEBHOOKS_MANAGE,
                    "delete": Cap.WEBHOOKS_MANAGE}
    audit_writes = False  # the services audit
    list_display = ("url", "event_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    ordering = ("-created_at",)

    @admin.display(description=_("event types"))
    def event_list(self, obj):
        return Truncator(", ".join(obj.events)).chars(80)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_update(subscription=obj, url=data["url"], events=data["events"], is_active=data["is_active"],
                           description=data["description"], actor=request.user)
            return
        subscription, secret = webhook_create(tenant=form.target_tenant(), url=data["url"], events=data["events"],
                                              description=data["description"], actor=request.user)
        if not data.get("is_active", True):
            webhook_update(subscription=subscription, is_active=False, actor=request.user)
        obj.pk = subscription.pk
        obj.refresh_from_db()
        obj._state.adding = False
        messages.warning(request, format_html(
            '{} <code class="webhook-secret">{}</code>',
            gettext("Copy the signing secret now; it is not shown again:"), secret,
        ))

    def delete_model(self, request, obj):
        webhook_delete(subscription=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset.select_related("tenant"):
            webhook_delete(subscription=subscription, actor=request.user)


class WebhookDeliveryAttemptInline(TenantScopedTabularInline):
    model = WebhookDeliveryAttempt
    fields = ("number", "started_at", "response_status", "duration_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin):
    """The delivery log: what was sent where, how often, and what came back."""

    read_only = True
    capabilities = {"view": Cap.WEBHOOKS_MANAGE, "redeliver": Cap.WEBHOOKS_MANAGE}
    list_display = ("created_at", "subscription", "event_type", "status", "attempts", "response_status",
                    "short_error", "delivered_at")
    list_filter = ("status",)
    list_select_related = ("subscription", "event")
    search_fields = ("subscription__url", "event__type")
    ordering = ("-created_at", "-id")
    fields = ("subscription", "event", "status", "attempts", "next_attempt_at", "response_status",
              "response_body", "error", "duration_ms", "created_at", "delivered_at")
    readonly_fields = fields
    inlines = [WebhookDeliveryAttemptInline]
    actions = ["redeliver"]

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return Truncator(obj.error).chars(60)

    def has_redeliver_permission(self, request):
        return self._allowed(request, "redeliver")

    @admin.action(description=_("Deliver the selected again"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        done, refused = 0, 0
        for delivery in queryset.select_related("subscription", "tenant"):
            try:
                webhook_redeliver(delivery=delivery, actor=request.user)
                done += 1
            except ValidationError:
                refused += 1
        if done:
            self.message_user(request, ngettext("%(count)d delivery queued again.",
                                                "%(count)d deliveries queued again.", done) % {"count": done},
                              messages.SUCCESS)
        if refused:
            self.message_user(request, ngettext(
                "%(count)d delivery was skipped: still in progress, or its webhook is inactive.",
                "%(count)d deliveries were skipped: still in progress, or their webhook is inactive.", refused,
            ) % {"count": refused}, messages.WARNING)
