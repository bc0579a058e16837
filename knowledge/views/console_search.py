"""``/console/kb/search.json?q=&locale=``: the help-center search for agents, as JSON for the
console's pages (the ticket page's article finder, the editor's link picker).

Agents see every article, internal ones included and marked (``internal``); their searches
are logged with source ``console`` and the agent, so the listening reports can tell agents'
searches from customers'. A blank query answers an empty list (and is not logged).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from helpdesk.tenancy.roles import Cap
from helpdesk.console.views.base import ConsoleView
from knowledge.audience import AGENTS
from knowledge.locales import normalize_locale
from knowledge.models import SearchSource, Visibility
from knowledge.search.service import kb_search, search_mode
from knowledge.search.text import MAX_QUERY_CHARS

RESULTS = 10


def _edit_url(article_id: int) -> str:
    try:
        return reverse("kb:article_edit", args=[article_id])
    except NoReverseMatch:  # the editor's pages are not routed
        return ""


class ConsoleSearchView(ConsoleView):
    capability = Cap.KB_VIEW

    def get(self, request):
        query = " ".join((request.GET.get("q") or "").split())
        if len(query) > MAX_QUERY_CHARS:
            return JsonResponse({"error": _("A search can be at most 200 characters.")}, status=400)
        try:
            locale = normalize_locale(request.GET.get("locale") or self.tenant.default_locale or "en")
        except ValidationError as exc:
            return JsonResponse({"error": exc.messages[0]}, status=400)
        if not query:
            return JsonResponse({"query": "", "results": [], "mode": search_mode(), "search_id": None})
        results = kb_search(tenant=self.tenant, query=query, locale=locale, audience=AGENTS,
                            source=SearchSource.CONSOLE, limit=RESULTS, user_id=request.user.pk, record=True)
        response = JsonResponse({
            "query": query,
            "mode": results.mode,
            "search_id": results.search_id,
            "results": [{"article_id": hit.article_id, "title": hit.title, "snippet": hit.snippet_html,
                         "url": hit.url, "edit_url": _edit_url(hit.article_id), "score": hit.score,
                         "locale": hit.locale,
                         "visibility": hit.visibility, "internal": hit.visibility == Visibility.INTERNAL}
                        for hit in results.hits],
        })
        response["Cache-Control"] = "private, no-store"
        return response
