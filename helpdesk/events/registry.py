"""Who consumes committed events: a registry apps add to from ``AppConfig.ready()``.

A consumer is a named callable ``handle(event)``. The dispatcher runs each consumer in
its own savepoint inside the transaction that holds the event's row lock, and records
the consumer's name on the event when it succeeds, so a re-dispatch (the sweep, a
duplicated Celery message) never runs a consumer twice for one event. The name is
stored in the database: never rename a registered consumer.

Consumers must not assume they run exactly once anyway (a crash after a side effect
outside the database, such as a channel-layer send, and before the commit repeats it);
they are written to be idempotent, e.g. webhook fan-out through the unique
(subscription, event) delivery row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from helpdesk.events.models import Event

Handler = Callable[["Event"], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    handle: Handler
    # None: every type; otherwise only these types.
    event_types: frozenset[str] | None = None

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


_CONSUMERS: dict[str, Consumer] = {}


def register_consumer(name: str, handle: Handler, *, event_types: Iterable[str] | None = None) -> Consumer:
    """Add a consumer; registering the same name with another handler is a configuration error."""
    if not name or len(name) > 50:
        raise ImproperlyConfigured(f"invalid consumer name {name!r}")
    consumer = Consumer(name=name, handle=handle,
                        event_types=frozenset(event_types) if event_types is not None else None)
    existing = _CONSUMERS.get(name)
    if existing is not None and existing != consumer:
        raise ImproperlyConfigured(f"event consumer {name!r} is already registered")
    _CONSUMERS[name] = consumer
    return consumer


def unregister_consumer(name: str) -> None:
    """For tests that add a temporary consumer."""
    _CONSUMERS.pop(name, None)


def consumers_for(event_type: str) -> list[Consumer]:
    """The consumers of ``event_type``, in registration order."""
    return [c for c in _CONSUMERS.values() if c.wants(event_type)]
