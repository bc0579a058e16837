"""The help center's search: the results page and the as-you-type suggestions.

Searches are recorded (``kb_search(record=True)``) for customers and anonymous visitors, with
their self-service session; agents' searches are not (as their article views are not). A
result's link carries the search's id (``?search=``): the article page then records the click
(``search_click``) and the view with its search (``article_view_record(search_id=…)``) — for
the visitor whose search it was only.

A suggestion picked from the list goes through the results page (``?q=<typed>&pick=<id>``), which
records the typed text as the search (the final query of the burst, not every keystroke) and
redirects to the article with the search's id.
"""
from __future__ import annotations

import nh3
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from knowledge.links import article_path
from knowledge.models import SearchSource
from knowledge.views.helpcenter_base import HelpCenterView

MAX_QUERY = 200
RESULTS = 20
SUGGESTIONS = 8


def _query(request) -> str:
    return " ".join((request.GET.get("q") or "").split())[:MAX_QUERY]


def _snippet(html: str) -> str:
    """The search's snippet keeps only its ``<mark>`` highlights (it is escaped already; this is
    the second lock)."""
    return mark_safe(nh3.clean(html or "", tags={"mark"}, attributes={}))  # noqa: S308 - sanitised just here


class SearchView(HelpCenterView):
    def url_in(self, locale: str) -> str:
        url = reverse("helpcenter:search", kwargs={"locale": locale})
        query = _query(self.request)
        return f"{url}?{urlencode({'q': query})}" if query else url

    def get(self, request, locale: str):
        if not self.locale_offered:
            return self.to_offered_locale()
        query = _query(request)
        if not query:
            return self.page("helpcenter/search.html", {"query": "", "hits": [], "searched": False})
        from knowledge.search.service import kb_search

        results = kb_search(tenant=self.tenant, query=query, locale=self.locale, audience=self.audience,
                            source=SearchSource.PORTAL, limit=RESULTS, session_key=self.session_key,
                            contact_id=self.audience.contact_id, record=not self.audience.is_agent)
        search_id = results.search_id.pk if hasattr(results.search_id, "pk") else results.search_id
        suffix = f"?{urlencode({'search': search_id})}" if search_id else ""
        pick = request.GET.get("pick", "")
        if pick.isdigit() and len(pick) < 19:
            return HttpResponseRedirect(article_path(locale=self.locale, article_id=int(pick)) + suffix)
        hits = [{"title": hit.title, "locale": hit.locale, "snippet": _snippet(hit.snippet_html),
                 "url": article_path(locale=self.locale, article_id=hit.article_id, title=hit.title) + suffix}
                for hit in results.hits]
        return self.page("helpcenter/search.html", {
            "query": query, "hits": hits, "searched": True, "simple": results.mode == "simple",
            "contact_url": self.contact_link(query=query)})


class SuggestView(HelpCenterView):
    """``suggest.json?q=``: up to eight titles for the search box's list (not recorded)."""

    def get(self, request, locale: str):
        query = _query(request)
        if len(query) < 2:
            return JsonResponse({"query": query, "results": []})
        from knowledge.search.service import kb_autocomplete

        hits = kb_autocomplete(tenant=self.tenant, prefix=query, locale=self.locale, audience=self.audience,
                               limit=SUGGESTIONS)
        search = reverse("helpcenter:search", kwargs={"locale": self.locale})
        return JsonResponse({"query": query, "results": [
            {"title": hit.title, "locale": hit.locale,
             "url": f"{search}?{urlencode({'q': query, 'pick': hit.article_id})}"} for hit in hits]})
