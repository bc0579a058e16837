"""What every help-center page shares: the tenant's host, the page's language, who is
looking, the visitor's self-service session cookie, and the page frame (the request portal's
base template, so the help center and the portal are one site).

Languages: the URL's locale is the content language; interface strings follow it when we ship
them (``settings.LANGUAGES``), else the tenant's default. ``/hc/`` negotiates: ``?lang=``,
the remembered choice (the site's language cookie, written by the switcher and by every page
in a language), ``Accept-Language``, the tenant's default — among the languages the tenant
enabled.

The self-service session (``hc_session`` cookie: random, HttpOnly, SameSite=Lax, one year)
ties a visitor's searches, article views and the request they may file afterwards together
(``knowledge.services.listening``). The request portal reads the same cookie, and the
"Contact us" link also carries it (``hc_session=``) with the search query (``q=``) and the
article (``article=``).
"""
from __future__ import annotations

import re
import secrets
import zoneinfo

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from knowledge.audience import Audience, audience_for_request
from knowledge.locales import enabled_locales, fallback_chain, hc_settings, negotiate_locale
from knowledge.locations.selectors import has_public_locations
from knowledge.services.listening import valid_session_key

SESSION_COOKIE = "hc_session"
SESSION_MAX_AGE = 365 * 24 * 3600
LANGUAGE_MAX_AGE = 365 * 24 * 3600
UI_LANGUAGES = {code for code, _name in settings.LANGUAGES}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_BRAND_COLOR = "#1f6feb"

# Query parameters of the "Contact us" link (read by the request portal's form).
CONTACT_QUERY_PARAM = "q"
CONTACT_SESSION_PARAM = "hc_session"
CONTACT_ARTICLE_PARAM = "article"


def visitor_session_key(request) -> str | None:
    """The visitor's self-service session key from the ``hc_session`` cookie, if valid."""
    return valid_session_key(request.COOKIES.get(SESSION_COOKIE))


def new_session_key() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]


def set_session_cookie(response: HttpResponse, key: str) -> None:
    response.set_cookie(SESSION_COOKIE, key, max_age=SESSION_MAX_AGE, path="/hc/", httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def language_name(code: str) -> str:
    """A language's name in itself ("Türkçe", "English"), or its code when Django has none."""
    for candidate in (code, code.split("-")[0]):
        try:
            return translation.get_language_info(candidate)["name_local"].capitalize()
        except KeyError:
            continue
    return code


def ui_language_for(locale: str, tenant) -> str:
    """The interface language of a page in ``locale`` (we ship en and tr)."""
    for candidate in (locale, locale.split("-")[0], tenant.default_locale):
        if candidate in UI_LANGUAGES:
            return candidate
    return settings.LANGUAGE_CODE


def contact_url(*, query: str = "", session_key: str | None = None, article_id: int | None = None) -> str:
    params = {}
    if query:
        params[CONTACT_QUERY_PARAM] = query[:200]
    if session_key:
        params[CONTACT_SESSION_PARAM] = session_key
    if article_id:
        params[CONTACT_ARTICLE_PARAM] = article_id
    url = reverse("portal:request_new")
    return f"{url}?{urlencode(params)}" if params else url


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@method_decorator(never_cache, name="dispatch")
@method_decorator(vary_on_headers("Accept-Language", "Cookie"), name="dispatch")
class HelpCenterView(View):
    """Base of the help center's pages: tenant host and help center on (else 404), the page's
    locale (``self.locale``; ``self.locale_offered`` is False when the URL's locale is not
    one the tenant offers: pages then redirect to the same page in ``self.locale`` after
    finding their object, so another tenant's id is a 404 whatever the locale), who is
    looking (``self.audience``), the session key (``self.session_key``)."""

    # The model of the object in the path, for the isolation harness (tests/core/test_isolation.py).
    model = None
    allow_disabled = False

    def dispatch(self, request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or getattr(request, "is_platform_host", True):
            raise Http404
        self.tenant = tenant
        self.hc = hc_settings(tenant)
        if not self.hc.is_enabled and not self.allow_disabled:
            raise Http404
        self.locales = enabled_locales(tenant, self.hc)
        requested = kwargs.get("locale")
        self.locale_offered = requested is None or requested in self.locales
        self.locale = requested if requested in self.locales else self.negotiated_locale()
        self.chain = fallback_chain(tenant, self.locale)
        self.audience: Audience = audience_for_request(request)
        self.session_key = visitor_session_key(request)
        self.new_session = self.session_key is None
        if self.new_session:
            self.session_key = new_session_key()
        self.ui_language = ui_language_for(self.locale, tenant)
        self.item = None  # the page's object once found
        with translation.override(self.ui_language), timezone.override(_zone(tenant.timezone)):
            try:
                response = super().dispatch(request, *args, **kwargs)
            except Http404:
                response = self.page("helpcenter/not_found.html", status=404)
            if hasattr(response, "render") and callable(response.render):
                response.render()
        if self.new_session:
            set_session_cookie(response, self.session_key)
        if requested in self.locales and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != requested \
                and response.status_code == 200:
            # Remember the reader's language for /hc/, the request portal and the console's sign-in.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, requested, max_age=LANGUAGE_MAX_AGE,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        response.headers.setdefault("Content-Language", self.locale)
        return response

    def negotiated_locale(self) -> str:
        request = self.request
        return negotiate_locale(
            offered=self.locales,
            requested=request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
            accept_language=request.META.get("HTTP_ACCEPT_LANGUAGE", ""))

    # --- links of this page in other languages (the switcher) ----------------------------

    def url_in(self, locale: str) -> str:
        """This page in ``locale`` (pages with an object override it; before the object is
        found, or on a 404, the switcher links to the homes)."""
        return reverse("helpcenter:home", kwargs={"locale": locale})

    def to_offered_locale(self) -> HttpResponseRedirect:
        query = self.request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(self.url_in(self.locale) + (f"?{query}" if query else ""))

    # --- rendering -----------------------------------------------------------------------

    def has_locations(self) -> bool:
        """For the navigation's "Find a store" link: one EXISTS per request, and only when a
        template asks (the template engine calls it)."""
        if not hasattr(self, "_has_locations"):
            self._has_locations = has_public_locations(tenant=self.tenant)
        return self._has_locations

    def contact_link(self, *, query: str = "", article_id: int | None = None) -> str:
        return contact_url(query=query, session_key=self.session_key, article_id=article_id)

    def page(self, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
        color = self.tenant.brand_color or ""
        switcher = []
        for code in self.locales:
            switcher.append({"code": code, "name": language_name(code), "url": self.url_in(code),
                             "current": code == self.locale})
        base = {
            "tenant": self.tenant, "brand_color": color if _COLOR.match(color) else DEFAULT_BRAND_COLOR,
            "account": self.audience.contact_id is not None, "is_agent": self.audience.is_agent,
            "LANGUAGE_CODE": self.locale, "hc_locale": self.locale, "hc_languages": switcher,
            "home_url": reverse("helpcenter:home", kwargs={"locale": self.locale}),
            "search_url": reverse("helpcenter:search", kwargs={"locale": self.locale}),
            "suggest_url": reverse("helpcenter:suggest", kwargs={"locale": self.locale}),
            "contact_url": self.contact_link(),
            "has_locations": self.has_locations,
            "signin_next": self.request.path if self.request.method == "GET" else "",
        }
        return render(self.request, template, {**base, **(context or {})}, status=status)
