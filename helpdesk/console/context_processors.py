"""What every console template may use: tenant, membership, nav, switcher list, live socket."""
from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from helpdesk.console import nav
from helpdesk.tenancy.resolution import memberships_of


def console(request) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": membership,
        # Lazy: one query, only on pages that show the switcher.
        "console_memberships": SimpleLazyObject(lambda: memberships_of(user) if user is not None else []),
        "console_nav": nav.entries_for(membership.role) if membership is not None else [],
        "console_languages": settings.LANGUAGES,
        "console_ws_path": "/ws/console/",
    }
