"""The help center's part of a contact's timeline (``helpdesk.people.timeline``): the searches
and article views of the contact — including those of an anonymous visit that the contact's
later ticket or sign-in tied to them (``listening`` copies the contact onto the visit's rows).
One bounded query per kind, on an index leading with (tenant, contact)."""
from __future__ import annotations

from django.utils.translation import gettext as _

from helpdesk.people.timeline import Cursor, TimelineEntry, cursor_q, register_source
from knowledge.links import article_path
from knowledge.models import ArticleTranslation, ArticleView, SearchEvent


def help_center_timeline(tenant, contact, before: Cursor | None, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    searches = (SearchEvent.objects.filter(tenant=tenant, contact=contact)
                .filter(cursor_q(before, kind="kb_search"))
                .order_by("-created_at", "-id")
                .only("id", "created_at", "query", "result_count", "source", "clicked_article_id")[:limit])
    for search in searches:
        entries.append(TimelineEntry(
            kind="kb_search", at=search.created_at, id=search.pk,
            title=_("Searched the help center for “%(query)s”") % {"query": search.query},
            summary=_("%(count)s results · %(source)s") % {"count": search.result_count,
                                                          "source": search.get_source_display()}))
    views = list(ArticleView.objects.filter(tenant=tenant, contact=contact)
                 .filter(cursor_q(before, kind="kb_view"))
                 .order_by("-created_at", "-id").only("id", "created_at", "article_id", "locale")[:limit])
    titles = {(t.article_id, t.locale): t.title for t in ArticleTranslation.objects.filter(
        tenant=tenant, article_id__in={v.article_id for v in views}).only("article_id", "locale", "title")}
    for view in views:
        title = titles.get((view.article_id, view.locale)) or _("article %(id)s") % {"id": view.article_id}
        entries.append(TimelineEntry(
            kind="kb_view", at=view.created_at, id=view.pk,
            url=article_path(locale=view.locale, article_id=view.article_id, title=title),
            title=_("Read “%(title)s”") % {"title": title}, summary=view.locale))
    return entries


def register() -> None:
    register_source("help_center", help_center_timeline)
