"""Absolute links for mail and cross-host redirects, from trusted configuration only.

A link in an email must never come from the request's Host header (an attacker could
ask for a reset of someone else's account with ``Host: evil.example`` and harvest the
token); it is built from the tenant's canonical host or the platform host.
"""
from __future__ import annotations

from django.conf import settings

from helpdesk.tenancy.models import Tenant


def platform_absolute_url(path: str = "/") -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"


def absolute_url_for(tenant: Tenant | None, path: str = "/") -> str:
    return tenant.absolute_url(path) if tenant is not None else platform_absolute_url(path)
