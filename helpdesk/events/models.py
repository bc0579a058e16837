"""The transactional outbox (Event) and outbound webhooks (subscriptions, deliveries)."""
from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from helpdesk.tenancy.models import TenantOwned, tenant_key


class Event(TenantOwned):
    """Something that happened, written in the same transaction as the change it records.

    ``dispatched_at`` is set once the dispatcher handed the event to every consumer; the
    re-dispatch sweep picks up rows still null after a grace period (partial index).
    ``handled_by`` lists the consumers that have succeeded, so a re-dispatch runs only the
    ones that have not; ``dispatch_error`` keeps the last failure of the others.
    """

    tenant = tenant_key(db_index=False)  # event_tenant_created leads with it
    type = models.CharField(_("type"), max_length=100)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_attempts = models.PositiveIntegerField(default=0)
    handled_by = models.JSONField(_("handled by"), default=list, blank=True)
    dispatch_error = models.TextField(_("dispatch error"), blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_created"),
            models.Index(fields=["tenant", "subject_type", "subject_id"], name="event_tenant_subject"),
            # The sweep crosses tenants by design: small partial index over the undelivered.
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class WebhookSubscription(TenantOwned):
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("event types"), default=list, help_text=_('Event types, or ["*"] for all.'))
    secret = EncryptedTextField(editable=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_tenant_active")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(TenantOwned):
    """One event to one subscription; every attempt's outcome is kept on the row."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="delivery_unique_event"),
        ]
        indexes = [
            models.Index(fields=["tenant", "subscription", "-created_at"], name="delivery_tenant_sub"),
            # The retry sweep's range scan: only deliveries still to be attempted are in it.
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["pending", "retrying"]),
                         name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription_id} ({self.status})"


class WebhookDeliveryAttempt(TenantOwned):
    """One HTTP attempt of a delivery: the log integrators read when a receiver misbehaves."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery attempt")
        verbose_name_plural = _("webhook delivery attempts")
        indexes = [models.Index(fields=["tenant", "delivery", "started_at"], name="delivery_attempt_tenant")]

    def __str__(self) -> str:
        return f"#{self.number} {self.response_status or self.error[:40]}"
