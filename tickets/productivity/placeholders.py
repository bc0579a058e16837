"""Macro reply placeholders: a small ``{{ name }}`` substitution over an allowlist.

Macro texts are written by tenant users, so they are never handed to Django's template
engine (``{% load %}``, ``{{ request }}`` and filters would reach far more than a reply
needs). The only thing that happens to a text is a single regular-expression pass that
replaces ``{{ allowed.name }}`` with a plain value; everything else, including unknown
placeholders and template tags, stays literal. The pass is not recursive: a value that
itself looks like a placeholder (a requester called ``{{ agent.name }}``) is inserted as
text and not expanded again.

Pure functions only; ``placeholder_context`` reads attributes that the caller has loaded.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# name -> label (for pickers in the console and the API docs)
PLACEHOLDERS: dict[str, Any] = {
    "requester.first_name": _("Requester's first name"),
    "requester.name": _("Requester's name"),
    "ticket.number": _("Ticket number"),
    "ticket.subject": _("Ticket subject"),
    "agent.first_name": _("Your first name"),
    "agent.name": _("Your name"),
    "tenant.name": _("Company name"),
}

# ``{{ name }}`` with optional spaces; the name is lower-case words joined by dots.
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")

MAX_REPLY_LENGTH = 20_000


def placeholders_in(text: str) -> list[str]:
    """Every ``{{ name }}`` in ``text``, in order of appearance (known or not)."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text or "")]


def unknown_placeholders(text: str) -> list[str]:
    """The placeholder names in ``text`` that are not in the allowlist (deduplicated, in order)."""
    seen: list[str] = []
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def render_placeholders(text: str, values: Mapping[str, Any]) -> str:
    """Replace allowlisted placeholders with ``values[name]`` (missing or None -> "").

    Anything that is not an allowlisted placeholder is left exactly as written.
    """

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name)
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(substitute, text or "")


def _first_word(text: str | None) -> str:
    parts = (text or "").split()
    return parts[0] if parts else ""


def placeholder_context(*, ticket: Any, agent: Any = None, tenant: Any = None) -> dict[str, str]:
    """Values for the allowlist from a ticket (with ``requester`` loaded), the acting agent
    (a User, or None/an API key for no person) and the tenant.

    Agents are named by ``full_name`` only: a reply never falls back to the agent's email.
    """
    requester = getattr(ticket, "requester", None)
    requester_name = (getattr(requester, "name", "") or "").strip()
    agent_name = (getattr(agent, "full_name", "") or "").strip() if getattr(agent, "pk", None) else ""
    tenant = tenant if tenant is not None else getattr(ticket, "tenant", None)
    tenant_name = ""
    if tenant is not None:
        tenant_name = getattr(tenant, "display_name", "") or getattr(tenant, "name", "")
    return {
        "requester.first_name": _first_word(requester_name),
        "requester.name": requester_name,
        "ticket.number": "" if getattr(ticket, "number", None) is None else str(ticket.number),
        "ticket.subject": getattr(ticket, "subject", "") or "",
        "agent.first_name": _first_word(agent_name),
        "agent.name": agent_name,
        "tenant.name": tenant_name,
    }


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _base(code: str | None) -> str:
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def choose_language(texts: Mapping[str, str], preferred: Iterable[str | None]) -> str | None:
    """The language of ``texts`` to use: the first of ``preferred`` that has a non-empty
    text (``tr-TR`` matches ``tr``), else any non-empty one (in the order of
    ``settings.LANGUAGES``, then alphabetical), else None."""
    available = {code: value for code, value in texts.items() if isinstance(value, str) and value.strip()}
    if not available:
        return None
    by_base = {_base(code): code for code in available}
    for code in preferred:
        if code in available:
            return code
        if _base(code) in by_base:
            return by_base[_base(code)]
    ordered = [code for code in language_codes() if code in available]
    return ordered[0] if ordered else sorted(available)[0]
