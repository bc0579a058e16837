"""Answering first: articles offered while a question is being asked, and answers turned into
articles.

- The request portal's form asks for suggestions while a customer writes
  (``request_form_suggest``); what they open is a click on that search
  (``request_form_click``), and a visit that then files no request counts as deflected (the
  portal records the ticket on the visitor's self-service session when they do submit).
- A new email request's acknowledgement can list the best-matching public articles
  (``acknowledgement_articles``, tenant option ``suggest_in_acknowledgement``).
- The ticket page shows articles matching the ticket (``ticket_suggestions``) and lets agents
  search for others (``console_search``) and insert a link or the text into a reply
  (``article_reply_text``).
- An agent turns a solved ticket's answer into a draft article (``article_from_ticket``).

Everything a customer can be shown goes through ``knowledge.search`` with the customer's
audience (published translations, ``visible_articles_q``); the agents' side uses ``AGENTS``
and marks internal articles.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from knowledge.audience import AGENTS, ANONYMOUS, Audience
from knowledge.html import sanitize_article_html
from knowledge.locales import enabled_locales, fallback_chain, pick_translation
from knowledge.models import (
    Article,
    ArticleTranslation,
    HelpCenterSettings,
    SearchEvent,
    SearchSource,
    Section,
    TranslationStatus,
    Visibility,
)
from knowledge.search.service import kb_search, kb_suggest
from knowledge.services.content import TranslationInput, article_create
from knowledge.services.listening import normalize_query, search_click, search_record, valid_session_key
from tickets.models import Message, MessageKind, Status, Ticket

# What a suggestion is computed from: enough for a subject and the start of a description.
SUGGEST_MAX_CHARS = 2000
# Shorter than this, a request form's text says too little to look anything up.
SUGGEST_MIN_CHARS = 3
FORM_SUGGESTIONS = 5
ACKNOWLEDGEMENT_ARTICLES = 3
TICKET_SUGGESTIONS = 5
CONSOLE_RESULTS = 8
ANSWERABLE = (Status.SOLVED, Status.CLOSED)
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|ynt|ilt)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SuggestedArticle:
    """An article as an answering surface shows it. ``url`` is the help-center address (the
    search's path, made absolute on the tenant's host where a mail needs it); ``internal``
    marks agents-only articles on the agents' side."""

    article_id: int
    title: str
    url: str
    snippet_html: str = ""
    locale: str = ""
    visibility: str = Visibility.PUBLIC

    @property
    def internal(self) -> bool:
        return self.visibility == Visibility.INTERNAL


def clean_snippet(value: str) -> str:
    """A search snippet as HTML that can go into a page: text escaped, ``<mark>`` kept."""
    return nh3.clean(value or "", tags={"mark"}, attributes={}, strip_comments=True)


def suggestion_text(*parts: str) -> str:
    """Subject and body as one text for ``kb_suggest``: spaces collapsed, bounded."""
    return _SPACES.sub(" ", " ".join(p for p in parts if p)).strip()[:SUGGEST_MAX_CHARS]


def content_locale(tenant: Tenant, language: str, settings_row: HelpCenterSettings | None = None) -> str:
    """The help-center locale to answer ``language`` in: itself or its base language when the
    tenant offers it, else the tenant's default."""
    offered = enabled_locales(tenant, settings_row)
    code = (language or "").strip().replace("_", "-").lower()
    for candidate in (code, code.split("-")[0]):
        if candidate in offered:
            return candidate
    return offered[0]


def _absolute(tenant: Tenant, url: str, host: str | None = None) -> str:
    if url.startswith("/"):
        return tenant.absolute_url(url) if host is None else f"{host}{url}"
    return url


def _hits_as_articles(hits: Sequence) -> list[SuggestedArticle]:
    return [SuggestedArticle(article_id=hit.article_id, title=hit.title, url=hit.url,
                             snippet_html=clean_snippet(getattr(hit, "snippet_html", "")), locale=hit.locale,
                             visibility=getattr(hit, "visibility", Visibility.PUBLIC))
            for hit in hits]


def _first_message_text(ticket: Ticket) -> str:
    created = getattr(ticket, "created_message", None)  # left by ``ticket_create``: no query
    if created is not None and created.kind == MessageKind.PUBLIC:
        return created.body_text or ""
    return (Message.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, kind=MessageKind.PUBLIC,
                                   side_conversation__isnull=True)
            .order_by("created_at", "id").values_list("body_text", flat=True).first()) or ""


# --- the request portal's form -------------------------------------------------------------

@dataclass(frozen=True)
class FormSuggestions:
    articles: list[SuggestedArticle]
    search_id: int | None


def request_form_suggest(*, tenant: Tenant, text: str, locale: str, audience: Audience,
                         session_key: str | None, previous_search_id: int | None = None,
                         contact_id: int | None = None, limit: int = FORM_SUGGESTIONS) -> FormSuggestions:
    """Articles for a request being written, and the search that records it (source
    ``request_form``).

    One request form is one search, refined as the customer types: a follow-up call that names
    the visit's previous, not yet clicked search (``previous_search_id``, same session) updates
    it instead of logging every pause in typing as a search of its own. Without a valid
    session key nothing is recorded (there is no visit to count it in)."""
    text = suggestion_text(text)
    if len(text) < SUGGEST_MIN_CHARS:
        return FormSuggestions(articles=[], search_id=None)
    hits = kb_suggest(tenant=tenant, text=text, locale=locale, audience=audience, limit=limit)
    articles = _hits_as_articles(hits)
    key = valid_session_key(session_key)
    if key is None:
        return FormSuggestions(articles=articles, search_id=None)
    query = text[:200]
    if previous_search_id is not None:
        updated = SearchEvent.objects.filter(
            tenant=tenant, pk=previous_search_id, session__key=key, source=SearchSource.REQUEST_FORM,
            clicked_article__isnull=True,
        ).update(query=query, normalized_query=normalize_query(query, locale), locale=locale,
                 result_count=len(articles))
        if updated:
            return FormSuggestions(articles=articles, search_id=previous_search_id)
    event = search_record(tenant=tenant, query=query, locale=locale, source=SearchSource.REQUEST_FORM,
                          result_count=len(articles), session_key=key, contact_id=contact_id)
    return FormSuggestions(articles=articles, search_id=event.pk)


def request_form_click(*, tenant: Tenant, search_id: int, article_id: int, session_key: str | None) -> bool:
    """The customer opened a suggestion. Counted only on the visit's own request-form search
    (a forged id of another visit's search changes nothing); the first click counts."""
    key = valid_session_key(session_key)
    if key is None:
        return False
    if not SearchEvent.objects.filter(tenant=tenant, pk=search_id, session__key=key,
                                      source=SearchSource.REQUEST_FORM).exists():
        return False
    if not Article.objects.filter(tenant=tenant, pk=article_id).exists():
        return False
    return search_click(tenant=tenant, search_id=search_id, article_id=article_id)


# --- the acknowledgement mail --------------------------------------------------------------

def acknowledgement_articles(*, ticket: Ticket, limit: int = ACKNOWLEDGEMENT_ARTICLES) -> list[SuggestedArticle]:
    """The best-matching published public articles for a new request, in the ticket's language,
    with absolute links on the tenant's host; empty unless the tenant turned the option on.

    Costs one query when the option is off. Precondition: in the tenant's scope."""
    tenant = ticket.tenant
    row = HelpCenterSettings.objects.filter(tenant=tenant).first()  # read only: no row is "off"
    if row is None or not (row.is_enabled and row.suggest_in_acknowledgement):
        return []
    text = suggestion_text(ticket.subject, _first_message_text(ticket))
    if len(text) < SUGGEST_MIN_CHARS:
        return []
    locale = content_locale(tenant, ticket.language, row)
    hits = kb_suggest(tenant=tenant, text=text, locale=locale, audience=ANONYMOUS, limit=limit)
    if not hits:
        return []
    # A mail leaves the building: check again that each one is public and published in the
    # language the mail names it in (one query), whatever the search returned.
    ok = set(ArticleTranslation.objects.filter(
        tenant=tenant, pk__in=[hit.translation_id for hit in hits], status=TranslationStatus.PUBLISHED,
        article__visibility=Visibility.PUBLIC, locale=locale).values_list("pk", flat=True))
    kept = [hit for hit in hits if hit.translation_id in ok][:limit]
    if not kept:
        return []
    host = tenant.absolute_url("")
    return [SuggestedArticle(article_id=hit.article_id, title=hit.title, url=_absolute(tenant, hit.url, host),
                             locale=hit.locale) for hit in kept]


# --- beside a ticket -----------------------------------------------------------------------

def ticket_locale(ticket: Ticket) -> str:
    return content_locale(ticket.tenant, ticket.language)


def ticket_suggestions(*, ticket: Ticket, limit: int = TICKET_SUGGESTIONS) -> list[SuggestedArticle]:
    """Articles matching the ticket's subject and first message, in its language, internal ones
    included (marked). A constant number of queries whatever the number of hits."""
    tenant = ticket.tenant
    text = suggestion_text(ticket.subject, _first_message_text(ticket))
    if len(text) < SUGGEST_MIN_CHARS:
        return []
    hits = kb_suggest(tenant=tenant, text=text, locale=ticket_locale(ticket), audience=AGENTS, limit=limit)
    return _hits_as_articles(hits)


def console_search(*, tenant: Tenant, query: str, locale: str, user_id: int | None,
                   limit: int = CONSOLE_RESULTS) -> tuple[list[SuggestedArticle], int | None]:
    """An agent's search beside a ticket (recorded, source ``console``)."""
    results = kb_search(tenant=tenant, query=query[:200], locale=locale, audience=AGENTS,
                        source=SearchSource.CONSOLE, limit=limit, user_id=user_id)
    return _hits_as_articles(results.hits), results.search_id


@dataclass(frozen=True)
class ReplyText:
    article_id: int
    title: str
    url: str
    text: str
    locale: str
    internal: bool


def article_reply_text(*, article: Article, locale: str, link: str | None = None) -> ReplyText | None:
    """What an agent inserts into a reply: the published translation along the locale's
    fallback chain (title, plain text, public address), or None when none is published.
    ``link(translation) -> url`` builds the public address (the caller knows the host)."""
    translations = [t for t in article.translations.all() if t.status == TranslationStatus.PUBLISHED]
    chosen = pick_translation(translations, fallback_chain(article.tenant, locale))
    if chosen is None:
        return None
    return ReplyText(article_id=article.pk, title=chosen.title, url=link(chosen) if link else "",
                     text=chosen.body_text, locale=chosen.locale,
                     internal=article.visibility == Visibility.INTERNAL)


def console_search_click(*, tenant: Tenant, search_id: int | None, article_id: int, user_id: int | None) -> bool:
    """An agent used a result of their own search beside a ticket."""
    if search_id is None or not SearchEvent.objects.filter(tenant=tenant, pk=search_id, user_id=user_id,
                                                           source=SearchSource.CONSOLE).exists():
        return False
    return search_click(tenant=tenant, search_id=search_id, article_id=article_id)


# --- an article from a solved ticket -------------------------------------------------------

def clean_subject(subject: str) -> str:
    """A ticket subject as an article title: reply and forward prefixes dropped."""
    return _REPLY_PREFIX.sub("", subject or "").strip()[:255]


def last_public_answer(ticket: Ticket) -> Message | None:
    """The latest public reply an agent wrote on the ticket (not a customer's, not a note)."""
    return (Message.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, kind=MessageKind.PUBLIC,
                                   author_user__isnull=False, side_conversation__isnull=True)
            .order_by("-created_at", "-id").first())


@transaction.atomic
def article_from_ticket(*, ticket: Ticket, actor, section: Section, title: str = "",
                        locale: str = "") -> Article:
    """A draft article from a solved (or closed) ticket's answer: titled after the ticket,
    its body the agent's last public reply (sanitised again with the article allowlist), owned
    by ``actor``, pointing back at the ticket. Callers check ``kb.edit``; it is a draft, so
    nobody outside the team sees it until it is published."""
    if ticket.status not in ANSWERABLE:
        raise ValidationError({"ticket": [_("Only a solved or closed ticket's answer can become an article.")]})
    if section.tenant_id != ticket.tenant_id:
        raise ValidationError({"section": [_("Choose a section of this help center.")]})
    answer = last_public_answer(ticket)
    if answer is None:
        raise ValidationError({"ticket": [_("This ticket has no public reply from an agent to start from.")]})
    body_html = sanitize_article_html(answer.body_html or "")
    return article_create(
        tenant=ticket.tenant, actor=actor, section=section, owner=actor, source_ticket=ticket,
        visibility=Visibility.PUBLIC, can_publish=False,
        translations=[TranslationInput(locale=locale or ticket_locale(ticket),
                                       title=(title or "").strip() or clean_subject(ticket.subject) or _("Untitled"),
                                       body_html=body_html, status=TranslationStatus.DRAFT)])
