"""Broker messages queued by one commit's hooks, coalesced: one per kind, not one per row.

Each ``transaction.on_commit`` callback that publishes a Celery message costs a broker round
trip (about a millisecond of CPU): a new ticket from a new customer writes two events, so it
published two dispatch messages. While our PostgreSQL backend runs a commit's hooks it holds
a ``CommitBatch``: ``add_to_commit_batch`` files an item under a key, and after the last hook
each key's ``flush`` runs once with all its items (``dispatch_events`` with both event ids).

The callbacks themselves are unchanged (one per row, registered and discarded by Django's own
savepoint rules), so exactly the same items are published. Where no batch is held (SQLite in
embedded mode, callbacks a test runs itself with ``captureOnCommitCallbacks``) ``flush`` runs
at once with the one item.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Hashable

from django.db import transaction

logger = logging.getLogger(__name__)

Flush = Callable[[Any, list], None]


class CommitBatch:
    """Items filed by the hooks of one commit, by key, in the order they came."""

    def __init__(self) -> None:
        self._items: dict[Hashable, tuple[Flush, list]] = {}

    def add(self, key: Hashable, item: Any, flush: Flush) -> None:
        entry = self._items.get(key)
        if entry is None:
            self._items[key] = (flush, [item])
        else:
            entry[1].append(item)

    def flush(self) -> None:
        """Each key's flush, once; one failing (a broker outage) does not stop the others."""
        for key, (flush, items) in self._items.items():
            try:
                flush(key, items)
            except Exception:  # noqa: BLE001 - the commit stands; the row's sweep takes the items
                logger.exception("after-commit batch %r of %d item(s) failed", key, len(items))
        self._items = {}


def add_to_commit_batch(key: Hashable, item: Any, flush: Flush) -> None:
    """From an on-commit callback: ``flush(key, [item, …])`` after the commit's last hook,
    together with the other items filed under ``key`` (at once where no batch is held)."""
    batch = getattr(transaction.get_connection(), "commit_batch", None)
    if batch is None:
        flush(key, [item])
    else:
        batch.add(key, item, flush)
