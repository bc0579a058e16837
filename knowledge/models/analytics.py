"""Listening: what customers (and agents) search for, what they open, and whether a
self-service visit ended in a ticket or a chat anyway (the deflection figures).

A *self-service session* is one visitor's visit (portal, widget) identified by a random
key the visitor carries (cookie or the widget's storage); every search and article view
of the visit points to it, and a ticket or chat started in it is recorded on it. A
session with activity and neither is a deflected one.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned, tenant_key


class SearchSource(models.TextChoices):
    PORTAL = "portal", _("Help center")
    REQUEST_FORM = "request_form", _("Request form")
    WIDGET = "widget", _("Widget")
    CONSOLE = "console", _("Agent console")
    API = "api", _("API")


class SessionOutcome(models.TextChoices):
    NONE = "none", _("Self-service only")
    TICKET = "ticket", _("Filed a ticket")
    CHAT = "chat", _("Started a chat")


class SelfServiceSession(TenantOwned):
    tenant = tenant_key(db_index=False)
    key = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=SearchSource.choices, default=SearchSource.PORTAL)
    locale = models.CharField(max_length=10, blank=True, default="")
    contact = models.ForeignKey("people.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    search_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=8, choices=SessionOutcome.choices, default=SessionOutcome.NONE)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("self-service session")
        verbose_name_plural = _("self-service sessions")
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="kb_session_unique_key")]
        indexes = [models.Index(fields=["tenant", "started_at"], name="kb_session_tenant_started")]


class SearchEvent(TenantOwned):
    """One search as someone typed it (the final query of an autocomplete burst, not every
    keystroke), with what came of it."""

    tenant = tenant_key(db_index=False)
    session = models.ForeignKey(SelfServiceSession, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="searches")
    query = models.CharField(max_length=200)
    normalized_query = models.CharField(max_length=200)
    locale = models.CharField(max_length=10)
    source = models.CharField(max_length=16, choices=SearchSource.choices)
    result_count = models.PositiveIntegerField(default=0)
    clicked_article = models.ForeignKey("knowledge.Article", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    clicked_at = models.DateTimeField(null=True, blank=True)
    contact = models.ForeignKey("people.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("search")
        verbose_name_plural = _("searches")
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="kb_search_tenant_created"),
            models.Index(fields=["tenant", "normalized_query"], name="kb_search_tenant_query"),
            # The contact timeline; the sessions' rows (linking a visit to its contact).
            models.Index(fields=["tenant", "contact", "-created_at"], name="kb_search_tenant_contact"),
            models.Index(fields=["tenant", "session"], name="kb_search_tenant_session"),
        ]


class ArticleView(TenantOwned):
    tenant = tenant_key(db_index=False)
    article = models.ForeignKey("knowledge.Article", on_delete=models.CASCADE, related_name="+")
    locale = models.CharField(max_length=10)
    source = models.CharField(max_length=16, choices=SearchSource.choices, default=SearchSource.PORTAL)
    session = models.ForeignKey(SelfServiceSession, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="views")
    search = models.ForeignKey(SearchEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("people.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("article view")
        verbose_name_plural = _("article views")
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="kb_view_tenant_created"),
            models.Index(fields=["tenant", "article", "created_at"], name="kb_view_tenant_article"),
            models.Index(fields=["tenant", "contact", "-created_at"], name="kb_view_tenant_contact"),
            models.Index(fields=["tenant", "session"], name="kb_view_tenant_session"),
        ]
