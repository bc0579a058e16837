"""One timeline per contact, across every channel: a registry that apps fill.

An app registers a *source* from its ``AppConfig.ready()``::

    from helpdesk.people import timeline
    timeline.register_source("tickets", tickets_timeline)

A source is ``fn(tenant, contact, before, limit) -> list[TimelineEntry]``: at most ``limit``
of the contact's entries that come strictly *before* the cursor ``before`` (``None``: from
the newest), newest first. Entries are ordered by ``(at, kind, id)`` descending, so a
cursor is exact even when two entries share an instant. ``cursor_q`` builds the filter
for a source whose rows are all of one kind.

``contact_timeline`` asks every source for one more entry than a page, merges, and
returns the page with the cursor of its last entry when more follow. Its cost is one
bounded query or two per source, whatever the history's length.

The core knows no app (DESIGN.md): tickets, chats, calls, surveys and help-center
searches register themselves.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import heapq
import logging
from dataclasses import asdict, dataclass
from typing import Any, Callable, NamedTuple

from django.db.models import Q

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Cursor(NamedTuple):
    at: dt.datetime
    kind: str
    id: int


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: dt.datetime
    title: str
    url: str = ""
    summary: str = ""
    id: int = 0

    @property
    def key(self) -> Cursor:
        return Cursor(self.at, self.kind, self.id)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Source = Callable[[Any, Any, "Cursor | None", int], "list[TimelineEntry]"]

_SOURCES: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    """Add (or replace, by ``name``) a timeline source."""
    _SOURCES[name] = source


def unregister_source(name: str) -> None:
    _SOURCES.pop(name, None)


def sources() -> dict[str, Source]:
    return dict(_SOURCES)


# --- cursors -----------------------------------------------------------------------------------


def encode_cursor(cursor: Cursor) -> str:
    raw = f"{cursor.at.isoformat()}|{cursor.kind}|{cursor.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """The cursor ``encode_cursor`` wrote, or ValueError."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, kind, pk = raw.split("|")
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None or not kind:
            raise ValueError("naive or empty")
        return Cursor(moment, kind, int(pk))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ValueError("invalid timeline cursor") from exc


def cursor_q(before: Cursor | None, *, kind: str, at_field: str = "created_at", id_field: str = "id") -> Q:
    """Rows of ``kind`` strictly older than ``before`` in (at, kind, id) order (all rows if None)."""
    if before is None:
        return Q()
    earlier = Q(**{f"{at_field}__lt": before.at})
    if kind < before.kind:
        return earlier | Q(**{at_field: before.at})
    if kind > before.kind:
        return earlier
    return earlier | Q(**{at_field: before.at, f"{id_field}__lt": before.id})


def _is_before(entry: TimelineEntry, before: Cursor | None) -> bool:
    return before is None or entry.key < before


# --- the merged timeline ---------------------------------------------------------------------


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def contact_timeline(*, tenant, contact, before: Cursor | None = None, limit: int = DEFAULT_LIMIT) -> TimelinePage:
    """The contact's entries newest first, ``limit`` at a time, from every registered source.

    A source that fails is logged and left out (the rest of the page still shows)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    gathered: list[list[TimelineEntry]] = []
    for name, source in sorted(_SOURCES.items()):
        try:
            rows = source(tenant, contact, before, limit + 1)
        except Exception:  # one app's bug must not hide the whole history
            logger.exception("timeline source %r failed for contact %s", name, getattr(contact, "pk", None))
            continue
        gathered.append(sorted((e for e in rows if _is_before(e, before)), key=lambda e: e.key, reverse=True))
    merged = list(heapq.merge(*gathered, key=lambda e: e.key, reverse=True))
    page = merged[:limit]
    next_cursor = encode_cursor(page[-1].key) if len(merged) > limit and page else None
    return TimelinePage(entries=page, next_cursor=next_cursor)
