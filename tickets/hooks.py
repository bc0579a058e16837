"""In-transaction hooks run after every ticket change (SLA recomputation, routing).

``tickets.services`` calls ``run_ticket_hooks(change)`` inside the transaction that made the
change, so what a hook writes (SLA timers, an assignee chosen by routing) commits or rolls
back with it. Work that may wait until after commit (triggers, notifications, webhooks)
listens to events instead. Hooks are registered from ``TicketsConfig.ready()`` in order.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from tickets.models import Message, Ticket


@dataclass
class TicketChange:
    ticket: Ticket
    actor: Any  # a User, an ApiKeyUser, or None (system)
    via: str  # tickets.models.Via
    at: dt.datetime
    created: bool = False
    # {"field": (before, after)} for the ticket's own fields (status, priority, assignee_id, ...).
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    message: Message | None = None  # the message this change added, if any

    def changed(self, name: str) -> bool:
        return name in self.changes


Hook = Callable[[TicketChange], None]
_HOOKS: list[tuple[int, str, Hook]] = []


def register_ticket_hook(name: str, fn: Hook, *, order: int = 100) -> None:
    """Add (or replace, by name) a hook; lower ``order`` runs first (routing 10, SLA 50)."""
    global _HOOKS
    _HOOKS = sorted([h for h in _HOOKS if h[1] != name] + [(order, name, fn)], key=lambda h: (h[0], h[1]))


def run_ticket_hooks(change: TicketChange) -> None:
    for _order, _name, fn in _HOOKS:
        fn(change)
