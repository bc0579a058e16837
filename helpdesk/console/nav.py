"""The console's side navigation: a registry that every app fills from ``AppConfig.ready()``.

    from helpdesk.console import nav
    nav.register(key="tickets", label=_("Tickets"), url_name="tickets:list",
                 capability=Cap.TICKETS_VIEW, icon="inbox", order=10)

Only entries whose capability the member's role grants are shown (default-deny: an
entry without a capability cannot be registered). A system check (``console.E001``)
fails start-up when an entry names a URL that does not resolve, so the frame never
links to a page that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core import checks
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

from helpdesk.tenancy.roles import Cap, role_has

# Icons available in templates/console/_icons.html (the inline SVG sprite).
ICONS = frozenset({"home", "inbox", "users", "book", "chart", "star", "settings", "key", "chat", "phone",
                   "user", "bell", "link"})


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    capability: str
    icon: str = "link"
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_REGISTRY: dict[str, NavEntry] = {}


def register(*, key: str, label: str | Promise, url_name: str, capability: str, icon: str = "link",
             order: int = 100) -> NavEntry:
    """Add (or replace, by ``key``) one side-navigation entry.

    ``label`` should be a lazy translation; ``capability`` a ``roles.Cap`` value.
    """
    if capability not in Cap.values:
        raise ValueError(f"nav entry {key!r}: unknown capability {capability!r}")
    if icon not in ICONS:
        raise ValueError(f"nav entry {key!r}: unknown icon {icon!r} (known: {', '.join(sorted(ICONS))})")
    entry = NavEntry(key=key, label=label, url_name=url_name, capability=capability, icon=icon, order=order)
    _REGISTRY[key] = entry
    return entry


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def all_entries() -> list[NavEntry]:
    return sorted(_REGISTRY.values(), key=lambda e: (e.order, e.key))


def entries_for(role: str | None) -> list[NavEntry]:
    """The entries a member with ``role`` may see, in display order."""
    return [entry for entry in all_entries() if role_has(role, entry.capability)]


@checks.register(checks.Tags.urls)
def check_nav_urls(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for entry in all_entries():
        try:
            reverse(entry.url_name)
        except NoReverseMatch:
            errors.append(checks.Error(
                f"Console nav entry {entry.key!r} links to {entry.url_name!r}, which does not resolve.",
                hint="Register nav entries only for URL names without arguments that exist.",
                id="console.E001",
            ))
    return errors
