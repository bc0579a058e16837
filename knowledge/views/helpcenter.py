"""The public help center's pages: home, category, section, article (with "Was this helpful?"),
the article attachments, the sitemap, and ``/hc/`` itself (language negotiation).

Thin: parse, call a selector in ``knowledge.selectors.helpcenter`` (which applies the
visibility rule to every read) or a service, render. Anything the visitor may not read is a
404 whatever the reason (another tenant's, internal, another organization's, unpublished),
so nothing tells that it exists.

A page in a language an item has no translation in shows the tenant's default language with a
notice (the interface stays in the visitor's language; the page's canonical link points at
the translation that exists). Wrong or old slugs are a 301 to the current one.

Article views are counted for customers and anonymous visitors; agents' visits (reading,
checking their own edits) are not counted, so the content reports and the deflection figures
measure self-service only.
"""
from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from helpdesk.console.ratelimit import client_ip, window_count
from helpdesk.people.models import Contact
from knowledge.downloads import article_attachment_response
from knowledge.links import article_path, category_path, section_path, slug_for
from knowledge.models import Article, ArticleAttachment, Category, SearchEvent, SearchSource, Section, Visibility
from knowledge.selectors import helpcenter as selectors
from knowledge.services.content import article_vote
from knowledge.services.listening import article_view_record, search_click
from knowledge.views.helpcenter_base import HelpCenterView, language_name

QUOTE = {'"': "&quot;"}


def _permanent(url: str, request) -> HttpResponsePermanentRedirect:
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(url + (f"?{query}" if query else ""))


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


class RootView(HelpCenterView):
    """``/hc/`` (and ``/`` on a tenant host): the home in the visitor's language. With the help
    center switched off: agents go to the console, customers to the request form."""

    allow_disabled = True

    def get(self, request):
        if not self.hc.is_enabled:
            return HttpResponseRedirect(reverse("console:home") if self.audience.is_agent
                                        else reverse("portal:request_new"))
        return HttpResponseRedirect(reverse("helpcenter:home", kwargs={"locale": self.locale}))


class HomeView(HelpCenterView):
    def get(self, request, locale: str):
        if not self.locale_offered:
            return self.to_offered_locale()
        categories = selectors.hc_home(tenant=self.tenant, audience=self.audience, locale=self.locale,
                                       chain=self.chain)
        promoted = selectors.hc_promoted(tenant=self.tenant, audience=self.audience, locale=self.locale,
                                         chain=self.chain)
        return self.page("helpcenter/home.html", {"categories": categories, "promoted": promoted})


class CategoryView(HelpCenterView):
    model = Category

    def url_in(self, locale: str) -> str:
        if self.item is None:
            return super().url_in(locale)
        return category_path(locale=locale, category_id=self.item.id, name=self.item.name if locale == self.locale
                             else "")

    def get(self, request, locale: str, pk: int, slug: str | None = None):
        self.item = selectors.hc_category(tenant=self.tenant, audience=self.audience, locale=self.locale,
                                          chain=self.chain, category_id=pk)
        if self.item is None:
            raise Http404
        if not self.locale_offered:
            return self.to_offered_locale()
        if slug != slug_for(self.item.name):
            return _permanent(self.item.url, request)
        return self.page("helpcenter/category.html", {"category": self.item})


class SectionView(HelpCenterView):
    model = Section

    def url_in(self, locale: str) -> str:
        if self.item is None:
            return super().url_in(locale)
        return section_path(locale=locale, section_id=self.item.section.id,
                            name=self.item.section.name if locale == self.locale else "")

    def get(self, request, locale: str, pk: int, slug: str | None = None):
        page = _page_number(request)
        self.item = selectors.hc_section(tenant=self.tenant, audience=self.audience, locale=self.locale,
                                         chain=self.chain, section_id=pk, page=page)
        if self.item is None or (page > 1 and not self.item.section.articles):
            raise Http404
        if not self.locale_offered:
            return self.to_offered_locale()
        if slug != slug_for(self.item.section.name):
            return _permanent(self.item.section.url, request)
        return self.page("helpcenter/section.html", {
            "section": self.item.section, "category": self.item.category, "crumbs": self.item.crumbs,
            "page_number": page, "has_next": self.item.has_next, "has_previous": page > 1})


# --- articles ----------------------------------------------------------------------------

def voter_key(audience, session_key: str | None) -> str:
    """One vote per person: the customer, the agent, else a hash of the visitor's session."""
    if audience.contact_id is not None:
        return f"contact:{audience.contact_id}"
    if session_key:
        return "session:" + hashlib.sha256(session_key.encode()).hexdigest()[:40]
    return ""


def _agent_voter_key(request) -> str:
    return f"user:{request.user.pk}"


class ArticleView(HelpCenterView):
    model = Article

    def url_in(self, locale: str) -> str:
        if self.item is None:
            return super().url_in(locale)
        titles = {t.locale: t.title for t in self.item.translations}
        return article_path(locale=locale, article_id=self.item.article.pk,
                            title=titles.get(locale) or self.item.translation.title)

    def voter(self) -> str:
        if self.audience.is_agent:
            return _agent_voter_key(self.request)
        return voter_key(self.audience, self.session_key)

    def get(self, request, locale: str, pk: int, slug: str | None = None):
        self.item = selectors.hc_article(tenant=self.tenant, audience=self.audience, article_id=pk,
                                         chain=self.chain, locale=self.locale, offered=self.locales)
        if self.item is None:
            raise Http404
        if not self.locale_offered:
            return self.to_offered_locale()
        shown = self.item.translation
        if slug != slug_for(shown.title):
            return _permanent(self.url_in(self.locale), request)
        search = self.search_of_visitor(request.GET.get("search"))
        # Not counted: agents, HEAD requests, and the page a no-script vote comes back to.
        if request.method == "GET" and not self.audience.is_agent and "voted" not in request.GET:
            if search is not None:
                search_click(tenant=self.tenant, search_id=search["id"], article_id=self.item.article.pk)
            article_view_record(tenant=self.tenant, article=self.item.article, locale=shown.locale,
                                source=SearchSource.PORTAL, session_key=self.session_key,
                                contact_id=self.audience.contact_id, search_id=search["id"] if search else None)
        return self.render_article(search_query=search["query"] if search else "")

    def search_of_visitor(self, value: str | None) -> dict | None:
        """The search this visit came from (``?search=``), only if it is this visitor's own."""
        if not value or not value.isdigit() or self.new_session or len(value) > 18:
            return None
        return (SearchEvent.objects.filter(tenant=self.tenant, pk=int(value), session__key=self.session_key)
                .values("id", "query").first())

    def render_article(self, *, search_query: str = "", status: int = 200) -> HttpResponse:
        page, shown = self.item, self.item.translation
        related = selectors.hc_related(tenant=self.tenant, audience=self.audience, article=page.article,
                                       locale=self.locale, chain=self.chain)
        vote = selectors.hc_vote_of(article=page.article, voter_key=self.voter())
        canonical = self.request.build_absolute_uri(article_path(locale=shown.locale, article_id=page.article.pk,
                                                                 title=shown.title))
        alternates = [(t.locale, self.request.build_absolute_uri(
            article_path(locale=t.locale, article_id=page.article.pk, title=t.title))) for t in page.translations]
        return self.page("helpcenter/article.html", {
            "page": page, "article": page.article, "translation": shown, "crumbs": page.crumbs,
            "is_fallback": shown.locale != self.locale,
            "page_language": language_name(self.locale), "shown_language": language_name(shown.locale),
            "related": related, "vote": vote, "vote_url": self.vote_url(),
            "canonical": canonical, "alternates": alternates if len(alternates) > 1 else [],
            "noindex": shown.locale != self.locale or page.article.visibility != Visibility.PUBLIC,
            "visibility_label": Visibility(page.article.visibility).label,
            "contact_url": self.contact_link(query=search_query, article_id=page.article.pk),
            "attachments": [{"name": a.filename, "size": a.size,
                             "url": reverse("helpcenter:attachment", kwargs={"token": a.token,
                                                                             "filename": a.filename})}
                            for a in page.attachments],
        }, status=status)

    def vote_url(self) -> str:
        return reverse("helpcenter:vote", kwargs={"locale": self.locale, "pk": self.item.article.pk})


class VoteView(ArticleView):
    """"Was this helpful?": a plain form POST (303 back to the article) or, from the page's
    script, a JSON answer with the updated feedback box. One vote per voter (a second one
    replaces the first); rate-limited per address."""

    http_method_names = ["post"]

    def post(self, request, locale: str, pk: int):
        article = selectors.hc_vote_target(tenant=self.tenant, audience=self.audience, article_id=pk)
        if article is None:
            raise Http404
        wants_json = "application/json" in request.headers.get("Accept", "")
        helpful = {"yes": True, "no": False}.get(request.POST.get("helpful", ""))
        if helpful is None:
            return self.refuse(_("Choose “Yes” or “No”."), wants_json, status=400)
        per_hour = int(getattr(settings, "HELPCENTER_VOTES_PER_IP_PER_HOUR", 60))
        digest = hashlib.sha256(f"{self.tenant.pk}\0{client_ip(request)}".encode()).hexdigest()[:40]
        if window_count(f"hc:vote:{digest}", 3600) > per_hour:
            return self.refuse(_("Too many votes were sent from here. Try again in an hour."), wants_json,
                               status=429)
        contact = (Contact.objects.filter(tenant=self.tenant, pk=self.audience.contact_id).first()
                   if self.audience.contact_id else None)
        try:
            article_vote(article=article, voter_key=self.voter(), helpful=helpful, locale=self.locale,
                         comment=request.POST.get("comment", ""), contact=contact)
        except ValidationError as exc:
            return self.refuse(" ".join(exc.messages), wants_json, status=400)
        article_url = self.article_url(article)
        if wants_json:
            vote = selectors.hc_vote_of(article=article, voter_key=self.voter())
            html = render_to_string("helpcenter/_vote.html", {
                "vote": vote, "vote_url": request.path, "just_voted": True}, request=request)
            return JsonResponse({"helpful": helpful, "html": html})
        messages.success(request, _("Thank you for your feedback."))
        return HttpResponseRedirect(article_url + "?voted=1#feedback", status=303)

    def article_url(self, article: Article) -> str:
        title = selectors.article_titles([article.pk], self.chain, tenant=self.tenant).get(article.pk)
        return article_path(locale=self.locale, article_id=article.pk, title=title.title if title else "")

    def refuse(self, message: str, wants_json: bool, status: int) -> HttpResponse:
        if wants_json:
            return JsonResponse({"error": message}, status=status)
        return self.page("helpcenter/vote_refused.html", {"message": message,
                                                          "back_url": self.request.path.rsplit("vote/", 1)[0]},
                         status=status)


# --- files and the sitemap ---------------------------------------------------------------

class AttachmentView(HelpCenterView):
    """A file of an article the visitor may read, by its token: safe images inline (articles
    show them), everything else as a download; never sniffed, sandboxed."""

    model = ArticleAttachment
    slug_field = "token"
    slug_url_kwarg = "token"

    def get(self, request, token: str, filename: str):
        attachment = selectors.hc_attachment(tenant=self.tenant, audience=self.audience, token=token)
        if attachment is None:
            raise Http404
        return article_attachment_response(attachment, cache_seconds=300)


class SitemapView(HelpCenterView):
    """``/hc/sitemap.xml``: each language's home and every public article in every offered
    language it is published in, with its other languages as hreflang alternates.

    A file holds at most ``SITEMAP_PAGE_SIZE`` URLs (the protocol's 50,000): beyond that,
    ``/hc/sitemap.xml`` is a sitemap index of ``/hc/sitemap-<n>.xml`` pages (the homes first,
    then the articles in id order). A fixed number of queries per file whatever the size."""

    def get(self, request, page: int | None = None):
        size = selectors.SITEMAP_PAGE_SIZE
        homes = len(self.locales)
        total = homes + selectors.hc_sitemap_count(tenant=self.tenant, locales=self.locales)
        pages = max(1, -(-total // size))
        origin = request.build_absolute_uri("/").rstrip("/")
        if page is None:
            if pages > 1:
                return self.index(origin, pages)
            page = 1
        if not 1 <= page <= pages:
            raise Http404
        start, end = (page - 1) * size, min(page * size, total)
        codes = self.locales[start:min(end, homes)]
        count = end - max(start, homes)
        entries = (selectors.hc_sitemap(tenant=self.tenant, locales=self.locales, offset=max(0, start - homes),
                                        limit=count) if count > 0 else [])
        return self.urlset(origin, codes, entries)

    def index(self, origin: str, pages: int) -> HttpResponse:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for number in range(1, pages + 1):
            url = origin + reverse("helpcenter:sitemap_page", kwargs={"page": number})
            lines.append(f"<sitemap><loc>{xml_escape(url)}</loc></sitemap>")
        lines.append("</sitemapindex>")
        return HttpResponse("\n".join(lines), content_type="application/xml; charset=utf-8")

    def urlset(self, origin: str, codes: list[str], entries) -> HttpResponse:
        # Written out directly: a template loop over tens of thousands of URLs is the slow part.
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                 'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
        for code in codes:
            lines.append(f"<url><loc>{xml_escape(origin + reverse('helpcenter:home', kwargs={'locale': code}))}"
                         "</loc></url>")
        for entry in entries:
            lines.append(f"<url><loc>{xml_escape(origin + entry.url)}</loc>")
            if entry.updated_at:
                lines.append(f"<lastmod>{entry.updated_at.isoformat(timespec='seconds')}</lastmod>")
            for code, url in entry.alternates:
                lines.append(f'<xhtml:link rel="alternate" hreflang="{xml_escape(code, QUOTE)}" '
                             f'href="{xml_escape(origin + url, QUOTE)}"/>')
            lines.append("</url>")
        lines.append("</urlset>")
        return HttpResponse("\n".join(lines), content_type="application/xml; charset=utf-8")
