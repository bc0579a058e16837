"""Commits that do not wait for the disk, for work that can be done again.

PostgreSQL's ``COMMIT`` waits until the transaction's WAL is flushed (``synchronous_commit``),
about a millisecond or more on this kind of disk, and whatever the transaction locked stays
locked meanwhile. Processing a stored inbound message is repeatable by design: the raw message
was committed durably first, processing is idempotent, and a row left unprocessed is picked up
again by its sweep. If the server crashed within the WAL writer's delay (``wal_writer_delay``,
200 ms by default) after such a commit, the processing is lost and done again, never the
message. So those transactions commit without the wait (``SET LOCAL synchronous_commit = off``,
PostgreSQL's documented per-transaction switch); nothing else changes: the data is as
consistent as ever, only the last fraction of a second may need redoing after a crash.
"""
from __future__ import annotations

from django.db import connection


def commit_without_waiting_for_disk() -> None:
    """This transaction's commit does not wait for its WAL flush. Precondition: inside
    ``transaction.atomic()`` (the setting ends with the transaction). On PostgreSQL it
    travels with the tenant's settings at the transaction's first statement (no round trip
    of its own, ``helpdesk.db.postgresql``); elsewhere a no-op."""
    relax = getattr(connection, "commit_without_waiting_for_disk", None)
    if relax is not None:
        relax()
