"""Answering first, on the agents' side: articles beside a ticket (suggested, or searched for)
that go into a reply in one click, and an article drafted from a solved ticket's answer.

The ticket page renders only the panel's shell (``knowledge.templatetags.kb_tags``: tickets
cannot import this app); the suggestions are this view's fragment, fetched after the page so
a slow search never slows the ticket. Without JavaScript the panel's links open the same
views as pages.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_lazy as _
from django.views.generic.detail import SingleObjectMixin

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.roles import Cap, role_has
from knowledge.links import article_path
from knowledge.locales import enabled_locales, fallback_chain, pick_translation
from knowledge.models import Article, Section
from knowledge.services import answering
from tickets.models import Ticket

QUERY_MAX = 200


def _ticket_page(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.number])


class TicketArticlesView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """Articles for one ticket: suggested from its subject and first message, or found by the
    agent's search (``?q=``). ``?partial=1`` answers the panel's fragment alone."""

    capability = Cap.KB_VIEW
    model = Ticket
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "ticket"

    def safely_get_queryset(self, queryset):
        return queryset.only("id", "tenant_id", "number", "subject", "language", "status")

    def get(self, request, number: int):
        if not role_has(request.membership.role, Cap.TICKETS_VIEW):
            raise PermissionDenied
        ticket = self.get_object()
        ticket.tenant = self.tenant  # the same row (the guarded queryset is the tenant's): no second fetch
        query = " ".join(request.GET.get("q", "").split())[:QUERY_MAX]
        search_id = None
        if query:
            articles, search_id = answering.console_search(
                tenant=self.tenant, query=query, locale=answering.ticket_locale(ticket), user_id=request.user.pk)
        else:
            articles = answering.ticket_suggestions(ticket=ticket)
        host = self.tenant.absolute_url("")
        partial = request.GET.get("partial") == "1"
        rows = [{"article": a, "public_url": f"{host}{a.url}" if a.url.startswith("/") else a.url,
                 "reply_text_url": reverse("kb:article_reply_text", args=[a.article_id])
                 + f"?locale={a.locale}" + (f"&search={search_id}" if search_id else "")}
                for a in articles]
        template = ("console/kb/answering/_ticket_articles.html" if partial
                    else "console/kb/answering/ticket_articles.html")
        response = TemplateResponse(request, template, {
            "ticket": ticket, "rows": rows, "query": query, "partial": partial, "searched": bool(query)})
        response["Cache-Control"] = "private, no-store"
        return response


class ArticleReplyTextView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """What goes into a reply for one article (JSON): its title, public address and plain text,
    in the asked locale or the nearest published one."""

    capability = Cap.KB_VIEW
    model = Article

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related("translations")

    def get(self, request, pk: int):
        article = self.get_object()
        locale = (request.GET.get("locale") or "").strip().lower()[:10] or self.tenant.default_locale
        tenant = self.tenant
        found = answering.article_reply_text(article=article, locale=locale, link=lambda t: tenant.absolute_url(
            article_path(locale=t.locale, article_id=article.pk, title=t.title)))
        if found is None:
            raise Http404
        search = request.GET.get("search", "")
        if search.isdigit():
            answering.console_search_click(tenant=tenant, search_id=int(search), article_id=article.pk,
                                           user_id=request.user.pk)
        response = JsonResponse({"article_id": found.article_id, "title": found.title, "url": found.url,
                                 "text": found.text, "locale": found.locale, "internal": found.internal})
        response["Cache-Control"] = "private, no-store"
        return response


class ArticleFromTicketForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    section = forms.TypedChoiceField(label=_("Section"), coerce=int)
    locale = forms.ChoiceField(label=_("Language"))

    def __init__(self, *args, sections: list[tuple[int, str]], locales: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = sections
        self.fields["locale"].choices = [(code, code) for code in locales]


class ArticleFromTicketView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """"Create article from this answer": a small form (title, section, language), then a draft
    owned by the agent, and on to the editor."""

    capability = Cap.KB_EDIT
    model = Ticket
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "ticket"

    def safely_get_queryset(self, queryset):
        return queryset.select_related("tenant")

    def sections(self, locale: str) -> list[tuple[int, str]]:
        """(id, "Category › Section") of the help center's sections (three queries)."""
        chain = fallback_chain(self.tenant, locale)
        rows = (Section.objects.filter(tenant=self.tenant).select_related("category")
                .prefetch_related("translations", "category__translations")
                .order_by("category__position", "category_id", "position", "id"))
        out = []
        for section in rows:
            name = pick_translation(section.translations.all(), chain)
            category = pick_translation(section.category.translations.all(), chain)
            label = " › ".join(x.name for x in (category, name) if x is not None) or f"#{section.pk}"
            out.append((section.pk, label))
        return out

    def form(self, ticket: Ticket, data=None) -> ArticleFromTicketForm:
        locale = answering.ticket_locale(ticket)
        return ArticleFromTicketForm(data, sections=self.sections(locale), locales=enabled_locales(self.tenant),
                                     initial={"title": answering.clean_subject(ticket.subject), "locale": locale})

    def render(self, ticket: Ticket, form, *, status: int = 200, error: str = ""):
        answer = answering.last_public_answer(ticket)
        return TemplateResponse(self.request, "console/kb/answering/article_from_ticket.html", {
            "ticket": ticket, "form": form, "answer": answer, "answerable": ticket.status in answering.ANSWERABLE,
            "error": error}, status=status)

    def get(self, request, number: int):
        ticket = self.get_object()
        return self.render(ticket, self.form(ticket))

    def post(self, request, number: int):
        ticket = self.get_object()
        form = self.form(ticket, request.POST)
        if not form.is_valid():
            return self.render(ticket, form, status=400)
        section = Section.objects.filter(tenant=self.tenant, pk=form.cleaned_data["section"]).first()
        if section is None:
            form.add_error("section", gettext("Choose a section of this help center."))
            return self.render(ticket, form, status=400)
        try:
            article = answering.article_from_ticket(ticket=ticket, actor=request.user, section=section,
                                                    title=form.cleaned_data["title"],
                                                    locale=form.cleaned_data["locale"])
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    form.add_error(None, error)
            return self.render(ticket, form, status=400)
        messages.success(request, gettext("A draft article was made from the answer on #%(number)s.")
                         % {"number": ticket.number})
        return HttpResponseRedirect(editor_url(article) or _ticket_page(ticket))


def editor_url(article: Article) -> str:
    """Where an article is edited in the console (the editor's URL names), or ""."""
    for name in ("kb:article_edit", "kb:article"):
        try:
            return reverse(name, args=[article.pk])
        except NoReverseMatch:
            continue
    return ""
