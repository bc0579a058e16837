"""Recording what self-service visitors do: searches, clicks on results, article views, and
whether the visit ended in a ticket or a chat (deflection). Reports read these rows
(``knowledge.selectors.reports``).

Every function is cheap and safe to call on a page view: one or two statements, no locks
held beyond the row it touches. The session key is random per visitor (cookie or widget
storage); an unknown key starts a session.
"""
from __future__ import annotations

import re
import unicodedata

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.tenancy.models import Tenant
from knowledge.models import (
    Article,
    ArticleView,
    SearchEvent,
    SearchSource,
    SelfServiceSession,
    SessionOutcome,
)

_SPACES = re.compile(r"\s+")
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def normalize_query(query: str, locale: str) -> str:
    """The form searches are grouped by in reports: case folded the language's way (Turkish
    ``I`` → ``ı``, ``İ`` → ``i``), accents and punctuation at the ends dropped, spaces collapsed."""
    text = unicodedata.normalize("NFC", query or "")
    if locale.split("-")[0] in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    text = text.lower()
    text = _SPACES.sub(" ", text).strip(" \t\n?!.,;:\"'")
    return text[:200]


def valid_session_key(key: str | None) -> str | None:
    return key if key and _KEY.match(key) else None


def session_touch(*, tenant: Tenant, key: str | None, source: str = SearchSource.PORTAL, locale: str = "",
                  contact_id: int | None = None, searches: int = 0, views: int = 0) -> SelfServiceSession | None:
    """The visitor's session (created on first use), its counters moved by ``searches``/``views``."""
    key = valid_session_key(key)
    if key is None:
        return None
    session, created = SelfServiceSession.objects.get_or_create(
        tenant=tenant, key=key, defaults={"source": source, "locale": locale, "contact_id": contact_id,
                                          "search_count": searches, "view_count": views})
    if not created:
        changes = {"last_seen_at": timezone.now()}
        if searches:
            changes["search_count"] = F("search_count") + searches
        if views:
            changes["view_count"] = F("view_count") + views
        if contact_id and not session.contact_id:
            changes["contact_id"] = contact_id
        SelfServiceSession.objects.filter(pk=session.pk).update(**changes)
    return session


@transaction.atomic
def search_record(*, tenant: Tenant, query: str, locale: str, source: str, result_count: int,
                  session_key: str | None = None, contact_id: int | None = None,
                  user_id: int | None = None) -> SearchEvent:
    session = session_touch(tenant=tenant, key=session_key, source=source, locale=locale,
                            contact_id=contact_id, searches=1)
    return SearchEvent.objects.create(
        tenant=tenant, session=session, query=(query or "")[:200], normalized_query=normalize_query(query, locale),
        locale=locale, source=source, result_count=result_count, contact_id=contact_id, user_id=user_id)


def search_click(*, tenant: Tenant, search_id: int, article_id: int) -> bool:
    """The result a searcher opened (the first click counts for click-through)."""
    return bool(SearchEvent.objects.filter(tenant=tenant, pk=search_id, clicked_article__isnull=True)
                .update(clicked_article_id=article_id, clicked_at=timezone.now()))


@transaction.atomic
def article_view_record(*, tenant: Tenant, article: Article, locale: str, source: str = SearchSource.PORTAL,
                        session_key: str | None = None, contact_id: int | None = None,
                        search_id: int | None = None) -> ArticleView:
    session = session_touch(tenant=tenant, key=session_key, source=source, locale=locale,
                            contact_id=contact_id, views=1)
    if search_id is not None and not SearchEvent.objects.filter(tenant=tenant, pk=search_id).exists():
        search_id = None
    now = timezone.now()
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)
    return ArticleView.objects.create(tenant=tenant, article=article, locale=locale, source=source,
                                      session=session, contact_id=contact_id, search_id=search_id)


def session_outcome_record(*, tenant: Tenant, session_key: str | None, outcome: str, ticket_id: int | None = None,
                           contact_id: int | None = None) -> bool:
    """The visit ended in a ticket or a chat (not deflected). Only sessions that searched or
    read count as self-service sessions; the first outcome stays."""
    key = valid_session_key(session_key)
    if key is None or outcome not in (SessionOutcome.TICKET, SessionOutcome.CHAT):
        return False
    changes = {"outcome": outcome, "ticket_id": ticket_id, "outcome_at": timezone.now()}
    if contact_id:
        changes["contact_id"] = contact_id
    recorded = bool(SelfServiceSession.objects.filter(tenant=tenant, key=key, outcome=SessionOutcome.NONE)
                    .update(**changes))
    if contact_id:
        session_contact_link(tenant=tenant, session_key=key, contact_id=contact_id)
    return recorded


def session_contact_link(*, tenant: Tenant, session_key: str, contact_id: int) -> None:
    """The visit turned out to be this contact's: its searches and article views so far join the
    contact's timeline ("what they looked for before they wrote"). Bounded by one visit's rows."""
    session = SelfServiceSession.objects.filter(tenant=tenant, key=session_key).only("pk", "contact_id").first()
    if session is None:
        return
    if session.contact_id is None:
        SelfServiceSession.objects.filter(pk=session.pk).update(contact_id=contact_id)
    SearchEvent.objects.filter(tenant=tenant, session=session, contact__isnull=True).update(contact_id=contact_id)
    ArticleView.objects.filter(tenant=tenant, session=session, contact__isnull=True).update(contact_id=contact_id)
