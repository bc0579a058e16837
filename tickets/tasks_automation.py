"""Celery tasks of triggers, automations and notifications: thin, named, tenant id first.

Retry policy: database trouble is retried with backoff (as in ``helpdesk.events.tasks``);
mail-server trouble (``OSError``/``SMTPException``) too, a few times, since a notification
email is worth a retry but not an unbounded one. The hourly automations run is its own
safety net: what one run misses the next one finds.
"""
from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant

logger = logging.getLogger(__name__)

_DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 5, "retry_backoff_max": 300,
             "retry_jitter": True, "max_retries": 5}
_MAIL_RETRY = {"autoretry_for": (OperationalError, InterfaceError, OSError, smtplib.SMTPException),
               "retry_backoff": 30, "retry_backoff_max": 1800, "retry_jitter": True, "max_retries": 5}


def _tenant(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


@shared_task(name="automations.run_all", ignore_result=True, **_DB_RETRY)
def run_all_automations() -> int:
    """Beat, hourly: queue one run per tenant that has an active automation."""
    from tickets.models import Automation

    # The beat job is for the whole deployment: it lists tenants across the boundary and
    # hands each one to a task that runs inside that tenant's scope.
    with dangerously_unscoped():
        tenant_ids = sorted(set(Automation.unscoped.filter(is_active=True, tenant__is_active=True)
                                .values_list("tenant_id", flat=True)))
    for tenant_id in tenant_ids:
        run_tenant_automations.delay(tenant_id)
    return len(tenant_ids)


@shared_task(name="automations.run_tenant", ignore_result=True, **_DB_RETRY)
def run_tenant_automations(tenant_id: int) -> dict:
    from tickets.automation.automations import automations_run

    tenant = _tenant(tenant_id)
    if tenant is None:
        return {}
    with tenant_scope(tenant):
        return automations_run(tenant=tenant)


@shared_task(name="notifications.send_email", ignore_result=True, **_MAIL_RETRY)
def send_notification_email(tenant_id: int, notification_id: int) -> bool:
    from tickets.automation.notifications import notification_email_send

    tenant = _tenant(tenant_id)
    if tenant is None:
        return False
    with tenant_scope(tenant):
        return notification_email_send(notification_id=notification_id)


@shared_task(name="automations.email_requester", ignore_result=True, **_MAIL_RETRY)
def send_requester_email(tenant_id: int, ticket_id: int, address: str, subject: str, body: str) -> None:
    """A trigger's or automation's email to the requester, sent as rendered when queued.

    Kept only for tasks queued before the email channel's outbox took these mails (the
    ``email_requester`` action now emits ``ticket.email_requested``, which the outbox
    threads into the ticket). Not idempotent across a retry after the server accepted the
    message (SMTP gives no way to know); the retry is for refused connections.
    """
    from django.core.mail import send_mail

    tenant = _tenant(tenant_id)
    if tenant is None:
        return
    from_email = settings.DEFAULT_FROM_EMAIL
    send_mail(subject=subject, message=body, from_email=from_email, recipient_list=[address])
    logger.info("rule email for ticket %s of tenant %s sent", ticket_id, tenant_id)
