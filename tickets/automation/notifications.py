"""Agent notifications: stored, pushed live to the person's console tabs, and emailed.

``notify`` is the one way in. What to tell whom comes from event consumers
(``notification_consumer``): assignment, @mention, a reply on a followed ticket, SLA
warnings and breaches. Preferences are per person and kind; a missing row means both
channels on (``DEFAULT_PREFERENCE``), so a new agent is notified without setup.
"""
from __future__ import annotations

from dataclasses import dataclass

import logging
from typing import Any, Iterable

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from helpdesk.events.realtime import user_group
from helpdesk.events.services import event_emit
from helpdesk.people.models import TeamMember
from helpdesk.tenancy.models import Membership, Tenant
from tickets.models import Message, MessageKind, Notification, NotificationKind, NotificationPreference, Ticket

logger = logging.getLogger(__name__)

DEFAULT_PREFERENCE = {"in_console": True, "by_email": True}
MAX_TEXT = 300


# --- preferences --------------------------------------------------------------------------


def notification_preferences(*, tenant: Tenant, user) -> list[dict[str, Any]]:
    """Every kind with the person's choice (defaults filled in), in the kinds' order."""
    stored = {p.kind: p for p in NotificationPreference.objects.filter(tenant=tenant, user=user)}
    rows = []
    for kind in NotificationKind:
        pref = stored.get(kind.value)
        rows.append({
            "kind": kind.value,
            "label": str(kind.label),
            "in_console": pref.in_console if pref else DEFAULT_PREFERENCE["in_console"],
            "by_email": pref.by_email if pref else DEFAULT_PREFERENCE["by_email"],
        })
    return rows


@transaction.atomic
def notification_preferences_set(*, tenant: Tenant, user, preferences: Iterable[dict[str, Any]]) -> list[dict]:
    """Store the given kinds' choices (others keep theirs); return the full list.

    ``preferences``: ``[{"kind", "in_console", "by_email"}]`` with known kinds (validated by
    the caller's serializer; an unknown kind here is a programming error).
    """
    valid = set(NotificationKind.values)
    for item in preferences:
        if item["kind"] not in valid:
            raise ValueError(f"unknown notification kind {item['kind']!r}")
        NotificationPreference.objects.update_or_create(
            tenant=tenant, user=user, kind=item["kind"],
            defaults={"in_console": bool(item["in_console"]), "by_email": bool(item["by_email"])},
        )
    return notification_preferences(tenant=tenant, user=user)


def _preference(*, tenant: Tenant, user, kind: str) -> dict[str, bool]:
    pref = NotificationPreference.objects.filter(tenant=tenant, user=user, kind=kind).first()
    if pref is None:
        return dict(DEFAULT_PREFERENCE)
    return {"in_console": pref.in_console, "by_email": pref.by_email}


# --- notify -------------------------------------------------------------------------------


def push_payload(notification: Notification, ticket: Ticket | None) -> dict:
    """The channel-layer message for the person's console tabs (a toast)."""
    return {
        "type": "event.push",
        "event": {
            "type": "notification",
            "id": notification.pk,
            "kind": notification.kind,
            "message": notification.text,
            "data": {
                "notification_id": notification.pk,
                "kind": notification.kind,
                "ticket_id": notification.ticket_id,
                "ticket_number": ticket.number if ticket is not None else None,
            },
        },
    }


def _push(tenant_id: int, user_id: int, message: dict) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(tenant_id, user_id), message)
    except Exception:  # noqa: BLE001 - a live push is best effort; the row is stored
        logger.warning("could not push notification to user %s of tenant %s", user_id, tenant_id, exc_info=True)


@transaction.atomic
def notify(*, tenant: Tenant, user, kind: str, ticket: Ticket | None, text: str) -> Notification | None:
    """Tell an agent something, as their preferences for ``kind`` say; None when they said no
    (or are not an active member of ``tenant``).

    The notification is stored in the caller's transaction; the live push and the email
    are sent after commit (a rolled-back change notifies nobody).
    """
    if user is None or not getattr(user, "pk", None) or not getattr(user, "is_active", False):
        return None
    if not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
        return None
    pref = _preference(tenant=tenant, user=user, kind=kind)
    if not pref["in_console"] and not pref["by_email"]:
        return None
    text = " ".join((text or "").split())[:MAX_TEXT]
    notification = Notification.objects.create(tenant=tenant, user=user, kind=kind, ticket=ticket, text=text)
    # ``by_email``: the email channel's consumer of this event queues the mail in its outbox
    # (delivery state, retries), so the email goes out once, after commit.
    event_emit(tenant=tenant, type="notification.created", subject=notification, payload={
        "id": notification.pk, "user_id": user.pk, "kind": kind,
        "ticket_id": ticket.pk if ticket is not None else None, "text": text, "by_email": pref["by_email"],
    })
    if pref["in_console"]:
        message = push_payload(notification, ticket)
        transaction.on_commit(lambda: _push(tenant.pk, user.pk, message), robust=True)
    return notification


def notification_mark_read(*, tenant: Tenant, user, ids: Iterable[int] | None = None) -> int:
    """Mark the person's notifications read (all unread when ``ids`` is None); return how many."""
    qs = Notification.objects.filter(tenant=tenant, user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- email --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationEmail:
    to: str
    subject: str
    text: str
    html: str


def notification_email_claim(*, notification_id: int) -> NotificationEmail | None:
    """Claim one stored notification for email and render it in the person's language;
    None when it was claimed before (idempotent: ``emailed_at``, a conditional UPDATE, so two
    workers holding the same event mail it once). Precondition: in its tenant's scope."""
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=now)
    if not claimed:
        return None
    return _render_email(Notification.objects.select_related("user", "ticket", "tenant").get(pk=notification_id))


def notification_email_send(*, notification_id: int) -> bool:
    """Email one stored notification directly (the task queued before notifications went
    through the email channel's outbox; kept for messages still in a queue)."""
    from django.core.mail import EmailMultiAlternatives

    rendered = notification_email_claim(notification_id=notification_id)
    if rendered is None:
        return False
    message = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text, to=[rendered.to])
    message.attach_alternative(rendered.html, "text/html")
    try:
        message.send()
    except Exception:
        # Let the task retry: release the claim so the next attempt can send.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


def _render_email(notification: Notification) -> NotificationEmail:
    from django.conf import settings
    from django.template import loader

    user, tenant, ticket = notification.user, notification.tenant, notification.ticket
    language = user.locale or tenant.default_locale or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "user": user,
            "tenant": tenant,
            "site_name": tenant.brand_name or tenant.name,
            "notification": notification,
            "kind_label": NotificationKind(notification.kind).label,
            "ticket": ticket,
            "ticket_url": ticket_console_url(ticket) if ticket is not None else tenant.absolute_url("/console/"),
            "preferences_url": tenant.absolute_url("/console/notifications/"),
        }
        subject = " ".join(loader.render_to_string("emails/notification.subject.txt", context).split())
        body = loader.render_to_string("emails/notification.txt", context)
        html = loader.render_to_string("emails/notification.html", context)
    return NotificationEmail(to=user.email, subject=subject[:200], text=body, html=html)


def ticket_console_url(ticket: Ticket) -> str:
    """The ticket's page in the console (absolute, on the tenant's host)."""
    from django.urls import NoReverseMatch, reverse

    for name, kwargs in (("tickets:detail", {"number": ticket.number}), ("tickets:detail", {"pk": ticket.pk})):
        try:
            return ticket.tenant.absolute_url(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return ticket.tenant.absolute_url(f"/console/tickets/{ticket.number}/")


# --- the event consumer: what to tell whom ------------------------------------------------


def _users(ids: Iterable[int]) -> list:
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids:
        return []
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _ticket_label(ticket: Ticket) -> str:
    return f"#{ticket.number} {ticket.subject}"


def _assignment_recipient(event) -> int | None:
    payload = event.payload or {}
    if event.type == "ticket.created":
        assignee_id = payload.get("assignee_id")
        if assignee_id is None and isinstance(payload.get("ticket"), dict):
            assignee_id = payload["ticket"].get("assignee_id")
        return assignee_id
    change = (payload.get("changes") or {}).get("assignee_id")
    if isinstance(change, (list, tuple)) and len(change) == 2 and change[1]:
        return change[1]
    return None


def notification_consumer(event) -> None:
    """Event consumer: turn ticket and SLA events into notifications.

    Runs in the event's tenant scope inside the dispatcher's savepoint; the dispatcher's
    ledger (``Event.handled_by``) keeps a re-dispatch from notifying twice.
    """
    assignee_id = None
    if event.type in ("ticket.created", "ticket.updated"):
        assignee_id = _assignment_recipient(event)
        if not isinstance(assignee_id, int) or assignee_id == event.actor_id:
            return  # most updates: nothing to tell anyone, and no query spent finding out
    ticket_id = _ticket_id(event)
    if ticket_id is None:
        return
    ticket = Ticket.objects.select_related("tenant").filter(pk=ticket_id).first()
    if ticket is None:
        return
    tenant = ticket.tenant
    if assignee_id is not None:
        if assignee_id != ticket.assignee_id:
            return  # reassigned again since: the later event tells the later assignee
        for user in _users([assignee_id]):
            with translation.override(_language(user, tenant)):
                text = _("Ticket %(ticket)s was assigned to you.") % {"ticket": _ticket_label(ticket)}
            notify(tenant=tenant, user=user, kind=NotificationKind.ASSIGNED, ticket=ticket, text=text)
    elif event.type == "ticket.message_added":
        _message_notifications(event=event, ticket=ticket, tenant=tenant)
    elif event.type in ("sla.warning", "sla.breach"):
        _sla_notifications(event=event, ticket=ticket, tenant=tenant)


def _ticket_id(event) -> int | None:
    payload = event.payload or {}
    for candidate in (payload.get("ticket_id"), (payload.get("ticket") or {}).get("id")
                      if isinstance(payload.get("ticket"), dict) else None):
        if isinstance(candidate, int):
            return candidate
    if event.subject_type == "tickets.ticket" and str(event.subject_id).isdigit():
        return int(event.subject_id)
    return None


def _language(user, tenant) -> str:
    return user.locale or tenant.default_locale or "en"


def _message_notifications(*, event, ticket: Ticket, tenant: Tenant) -> None:
    from tickets.models import TicketFollower

    message_id = (event.payload or {}).get("message_id") or (event.payload or {}).get("id")
    message = Message.objects.filter(pk=message_id, ticket=ticket).first() if isinstance(message_id, int) else None
    if message is None or message.kind == MessageKind.SYSTEM:
        return
    author_id = message.author_user_id
    mentioned: set[int] = set()
    if message.kind == MessageKind.NOTE:
        mention_ids = [m if isinstance(m, int) else (m.get("user_id") or m.get("id"))
                       for m in (message.mentions or []) if isinstance(m, (int, dict))]
        for user in _users(i for i in mention_ids if isinstance(i, int) and i != author_id):
            with translation.override(_language(user, tenant)):
                text = _("You were mentioned on ticket %(ticket)s.") % {"ticket": _ticket_label(ticket)}
            notify(tenant=tenant, user=user, kind=NotificationKind.MENTIONED, ticket=ticket, text=text)
            # Mentioned followers hear once (or not at all, when they turned mentions off).
            mentioned.add(user.pk)
    follower_ids = TicketFollower.objects.filter(ticket=ticket).values_list("user_id", flat=True)
    for user in _users(i for i in follower_ids if i != author_id and i not in mentioned):
        with translation.override(_language(user, tenant)):
            if message.kind == MessageKind.PUBLIC and message.author_contact_id:
                text = _("The customer replied on ticket %(ticket)s.") % {"ticket": _ticket_label(ticket)}
            elif message.kind == MessageKind.PUBLIC:
                text = _("A reply was sent on ticket %(ticket)s.") % {"ticket": _ticket_label(ticket)}
            else:
                text = _("A note was added on ticket %(ticket)s.") % {"ticket": _ticket_label(ticket)}
        notify(tenant=tenant, user=user, kind=NotificationKind.FOLLOWED_REPLY, ticket=ticket, text=text)


def _sla_notifications(*, event, ticket: Ticket, tenant: Tenant) -> None:
    from tickets.models import Metric

    kind = NotificationKind.SLA_WARNING if event.type == "sla.warning" else NotificationKind.SLA_BREACH
    metric = (event.payload or {}).get("metric", "")
    if ticket.assignee_id:
        recipients = [ticket.assignee_id]
    elif ticket.team_id:
        recipients = list(TeamMember.objects.filter(team_id=ticket.team_id).values_list("user_id", flat=True))
    else:
        recipients = []
    for user in _users(recipients):
        with translation.override(_language(user, tenant)):
            metric_label = Metric(metric).label if metric in Metric.values else metric
            params = {"ticket": _ticket_label(ticket), "metric": metric_label}
            if kind == NotificationKind.SLA_WARNING:
                text = _("SLA target %(metric)s is about to be missed on ticket %(ticket)s.") % params
            else:
                text = _("SLA target %(metric)s was missed on ticket %(ticket)s.") % params
        notify(tenant=tenant, user=user, kind=kind, ticket=ticket, text=text)
