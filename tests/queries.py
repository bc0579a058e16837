"""Counting the queries a request makes, for the constant-query-count tests.

Transaction control is not counted: views run in one transaction (``ATOMIC_REQUESTS``), which
inside a test's transaction shows up as ``SAVEPOINT`` / ``RELEASE SAVEPOINT`` around every
view, and services nest savepoints of their own. They are not N+1 material; queries are.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")


def is_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_CONTROL)


class QueryCounter(CaptureQueriesContext):
    """``CaptureQueriesContext`` that leaves out transaction control."""

    @property
    def captured_queries(self):
        return [q for q in super().captured_queries if not is_control(q["sql"])]


@contextlib.contextmanager
def assert_num_queries(num: int, *, exact: bool = True, info: str | None = None) -> Iterator[QueryCounter]:
    with QueryCounter(connection) as context:
        yield context
    performed = len(context)
    if (performed != num) if exact else (performed > num):
        sqls = "\n\n".join(q["sql"] for q in context.captured_queries)
        pytest.fail(f"Expected to perform {num} queries{'' if exact else ' or less'} but {performed} were done"
                    + (f"\n{info}" if info else "") + f"\n\nQueries:\n========\n\n{sqls}")
