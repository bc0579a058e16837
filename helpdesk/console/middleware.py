"""Language and time zone of each request: the person's choice, else the tenant's default."""
from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def request_language(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "locale", "") in SUPPORTED:
        return user.locale
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in SUPPORTED:
        return cookie
    tenant = getattr(request, "tenant", None)
    accepted = translation.get_language_from_request(request, check_path=False)
    if tenant is not None and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return tenant.default_locale
    return accepted if accepted in SUPPORTED else (tenant.default_locale if tenant else settings.LANGUAGE_CODE)


LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def set_language_cookie(response, language: str) -> None:
    """Remember the language for the pages before sign-in (login, password reset)."""
    if language in SUPPORTED:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=LANGUAGE_COOKIE_MAX_AGE,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)


class UserLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.headers.get("Vary", "")
        if "Accept-Language" not in patch_vary:
            response.headers["Vary"] = ", ".join(v for v in (patch_vary, "Accept-Language, Cookie") if v)
        translation.deactivate()
        return response


class UserTimezoneMiddleware:
    """Show times in the viewer's zone (their setting, else the tenant's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = getattr(user, "timezone", "") or ""
        tenant = getattr(request, "tenant", None)
        if not name and tenant is not None:
            name = tenant.timezone
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
