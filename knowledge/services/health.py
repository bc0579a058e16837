"""The weekly content-health notice: each article owner hears, once a week and in their own
language, how many of their published articles were never viewed, were voted unhelpful, are
past their review date, or have translations that need an update.

It goes through the agents' notification machinery (``tickets.automation.notifications.notify``:
stored, shown in the console, emailed through the email channel's outbox, as the person's
preferences for the "content health" kind say). ``ContentHealthNotice`` is the ledger: one
row per owner and week (the tenant's week, Monday first), so running the job again — a
retry, a second beat, a manual run — tells nobody twice.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _, ngettext

from helpdesk.tenancy.models import Membership, Tenant
from knowledge.models import ContentHealthNotice
from knowledge.reports.health import health_counts_by_owner
from knowledge.reports.period import tenant_today


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def health_notice_text(counts: dict[str, int], *, url: str) -> str:
    """The notice in the active language, e.g. "Your help-center articles need attention: 2
    never viewed, 1 voted unhelpful. Review them: <url>"."""
    parts = []
    if counts.get("never_viewed"):
        n = counts["never_viewed"]
        parts.append(ngettext("%(n)d never viewed", "%(n)d never viewed", n) % {"n": n})
    if counts.get("unhelpful"):
        n = counts["unhelpful"]
        parts.append(ngettext("%(n)d voted unhelpful", "%(n)d voted unhelpful", n) % {"n": n})
    if counts.get("stale"):
        n = counts["stale"]
        parts.append(ngettext("%(n)d past its review date", "%(n)d past their review date", n) % {"n": n})
    if counts.get("needs_update"):
        n = counts["needs_update"]
        parts.append(ngettext("%(n)d translation needs an update", "%(n)d translations need an update", n)
                     % {"n": n})
    return _("Your help-center articles need attention: %(items)s. Review them: %(url)s") % {
        "items": ", ".join(parts), "url": url}


def content_health_notify(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Notify this week's owners who have something to look at and were not told yet this
    week; returns how many were notified. Precondition: in ``tenant``'s scope. Each owner in
    its own transaction (one failure does not stop the others; the ledger row and the
    notification commit together)."""
    from tickets.automation.notifications import notify
    from tickets.models import NotificationKind

    now = now or timezone.now()
    week = week_of(tenant_today(tenant, now))
    by_owner = health_counts_by_owner(tenant=tenant, now=now)
    if not by_owner:
        return 0
    told = set(ContentHealthNotice.objects.filter(tenant=tenant, week=week, user_id__in=list(by_owner))
               .values_list("user_id", flat=True))
    members = set(Membership.objects.filter(tenant=tenant, is_active=True, user_id__in=list(by_owner))
                  .values_list("user_id", flat=True))
    owners = get_user_model().objects.filter(pk__in=[u for u in by_owner if u not in told and u in members],
                                             is_active=True).order_by("pk")
    sent = 0
    for user in owners:
        counts = by_owner[user.pk]
        url = tenant.absolute_url(reverse("kb:reports_health") + f"?owner={user.pk}")
        try:
            with transaction.atomic():
                notice = ContentHealthNotice.objects.create(tenant=tenant, user=user, week=week, counts=counts)
                with translation.override(user.locale or tenant.default_locale or "en"):
                    text = health_notice_text(counts, url=url)
                notice.notification = notify(tenant=tenant, user=user, kind=NotificationKind.KB_HEALTH,
                                             ticket=None, text=text)
                notice.save(update_fields=["notification"])
        except IntegrityError:
            continue  # told by a run at the same time
        sent += 1
    return sent


def content_health_notify_all(*, now: datetime | None = None) -> int:
    """Every tenant with article owners (beat): crosses tenants by design, each in its own scope."""
    from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
    from knowledge.models import Article

    with dangerously_unscoped():
        tenant_ids = sorted(set(Article.unscoped.filter(owner__isnull=False).order_by()
                                .values_list("tenant_id", flat=True).distinct()))
    sent = 0
    for tenant_id in tenant_ids:
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
        if tenant is None:
            continue
        with tenant_scope(tenant):
            sent += content_health_notify(tenant=tenant, now=now)
    return sent
