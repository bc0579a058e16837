"""Closing the listening loop: content gaps and the owners' weekly content-health notice.

A *content gap* is a group of similar failed searches (no results, or results nobody
opened) in one language: what customers look for and the help center does not answer.
An editor turns a gap into a draft article with an owner in one click; once the article
is published the gap is resolved and its searches are measured again (before/after).

Gaps are built incrementally from the searches recorded since the last refresh
(``ContentGapState.last_search_id``), so a refresh costs what came in, not the history.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned, tenant_key


class GapStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DRAFTED = "drafted", _("Article drafted")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


class ContentGap(TenantOwned):
    """Similar failed searches in one language. ``key`` is the grouping key of the query that
    opened the gap (``knowledge.reports.grouping.gap_key``); later queries join it by the same
    key or, on PostgreSQL, by trigram similarity. Counters are kept by the refresh."""

    tenant = tenant_key(db_index=False)
    locale = models.CharField(_("language"), max_length=10)
    key = models.CharField(max_length=200)
    representative_query = models.CharField(_("query"), max_length=200)
    search_count = models.PositiveIntegerField(_("failed searches"), default=0)
    no_result_count = models.PositiveIntegerField(_("searches with no results"), default=0)
    first_searched_at = models.DateTimeField(null=True, blank=True)
    last_searched_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=GapStatus.choices, default=GapStatus.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    article = models.ForeignKey("knowledge.Article", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("article"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    drafted_at = models.DateTimeField(null=True, blank=True)
    # When the gap's article was first published: the "after" of the before/after measure.
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = _("content gap")
        verbose_name_plural = _("content gaps")
        constraints = [models.UniqueConstraint(fields=["tenant", "locale", "key"], name="kb_gap_unique_key")]
        indexes = [
            models.Index(fields=["tenant", "status", "-search_count"], name="kb_gap_tenant_status"),
            models.Index(fields=["tenant", "article"], name="kb_gap_tenant_article"),
        ]

    def __str__(self) -> str:
        return self.representative_query


class ContentGapQuery(TenantOwned):
    """One normalized query of a gap with its failed searches. A query belongs to one gap
    per language (the unique constraint is also the refresh's lookup of known queries)."""

    tenant = tenant_key(db_index=False)
    gap = models.ForeignKey(ContentGap, on_delete=models.CASCADE, related_name="queries")
    locale = models.CharField(max_length=10)
    normalized_query = models.CharField(max_length=200)
    search_count = models.PositiveIntegerField(default=0)
    no_result_count = models.PositiveIntegerField(default=0)
    last_searched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("content gap query")
        verbose_name_plural = _("content gap queries")
        constraints = [models.UniqueConstraint(fields=["tenant", "locale", "normalized_query"],
                                               name="kb_gap_query_unique")]
        indexes = [models.Index(fields=["tenant", "gap", "-search_count"], name="kb_gap_query_tenant_gap")]

    def __str__(self) -> str:
        return self.normalized_query


class ContentGapState(TenantOwned):
    """Per tenant: how far the gap refresh has read the searches, and the section that drafts
    made from gaps go to when the editor picks none."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    last_search_id = models.BigIntegerField(default=0)
    # ``created_at`` of that search: the refresh reads by the (tenant, created_at) index of
    # searches from a little before it, then keeps the ids above ``last_search_id``.
    last_search_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    drafts_section = models.ForeignKey("knowledge.Section", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        verbose_name = _("content gap state")
        verbose_name_plural = _("content gap states")

    def __str__(self) -> str:
        return f"gaps read up to search {self.last_search_id}"


class ContentHealthNotice(TenantOwned):
    """The weekly content-health notice sent to one article owner: at most one per owner and
    week (the unique constraint is the job's idempotency ledger)."""

    tenant = tenant_key(db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()  # the Monday of the week, in the tenant's time zone
    counts = models.JSONField(default=dict, blank=True)
    notification = models.ForeignKey("tickets.Notification", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("content health notice")
        verbose_name_plural = _("content health notices")
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "week"], name="kb_health_notice_once")]

    def __str__(self) -> str:
        return f"content health {self.week}"
