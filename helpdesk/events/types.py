"""The event types the helpdesk emits: one registry, read by webhooks and the API.

Each app registers the types it emits, with a translatable description, from its
``AppConfig.ready()`` (the core's are registered below, at import). Webhook
subscriptions may only name registered types (or ``"*"``), so an integrator learns
about a typo when subscribing rather than by never receiving anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

WILDCARD = "*"
PING = "webhook.ping"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str | Promise
    # Pushed to the tenant's agents' console tabs (``realtime.agents_group``) when dispatched.
    push_to_agents: bool = True


_REGISTRY: dict[str, EventType] = {}


def register_event_type(name: str, description: str | Promise, *, push_to_agents: bool = True) -> EventType:
    """Declare an event type. Registering the same name twice with a different meaning is an error."""
    if not name or name == WILDCARD or any(c.isspace() for c in name) or len(name) > 100:
        raise ImproperlyConfigured(f"invalid event type name {name!r}")
    event_type = EventType(name=name, description=description, push_to_agents=push_to_agents)
    existing = _REGISTRY.get(name)
    if existing is not None and (existing.push_to_agents != push_to_agents
                                 or str(existing.description) != str(description)):
        raise ImproperlyConfigured(f"event type {name!r} is already registered differently")
    _REGISTRY[name] = event_type
    return event_type


def get_event_type(name: str) -> EventType | None:
    return _REGISTRY.get(name)


def is_registered(name: str) -> bool:
    return name in _REGISTRY


def event_types() -> list[EventType]:
    """Every registered type, sorted by name."""
    return sorted(_REGISTRY.values(), key=lambda t: t.name)


def event_type_names() -> list[str]:
    return sorted(_REGISTRY)


def unknown_event_types(names: list[str]) -> list[str]:
    """The names that are neither registered nor the wildcard, in the order given."""
    return [n for n in names if n != WILDCARD and n not in _REGISTRY]


# --- the core's types ---------------------------------------------------------------------
register_event_type("tenant.created", _("A helpdesk account (tenant) was created."))
register_event_type("membership.created", _("A person was added to the helpdesk."))
register_event_type("membership.changed", _("A person's role or access changed."))
register_event_type("api_key.created", _("An API key was created."))
register_event_type("api_key.revoked", _("An API key was revoked."))
register_event_type("webhook.created", _("A webhook was created."))
register_event_type("webhook.updated", _("A webhook was changed."))
register_event_type("webhook.deleted", _("A webhook was deleted."))
register_event_type(PING, _("A test delivery sent on request to one webhook."), push_to_agents=False)
