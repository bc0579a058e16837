"""Shared by the benchmarks: Django set-up and a throwaway database.

Benchmarks never touch the database you work with: they create Django's test database
(``test_<name>`` on PostgreSQL, in memory on SQLite), run migrations, and drop it after.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def django_setup(**env_defaults: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    for key, value in env_defaults.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from helpdesk.tenancy.context import dangerously_unscoped

    setup_test_environment()
    with dangerously_unscoped():
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        with dangerously_unscoped():
            connection.creation.destroy_test_db(name, verbosity=0)
        teardown_test_environment()


def loop_seconds(additions: int) -> float:
    """CPU seconds of a fixed pure-Python loop of ``additions`` additions, best of three.
    Standard library only: ``scripts/_bootstrap.sh`` runs it in each candidate interpreter
    before anything is installed, to pick the fastest."""
    import time

    best = float("inf")
    for _attempt in range(3):
        started = time.process_time()
        total = 0
        for i in range(additions):
            total += i
        best = min(best, time.process_time() - started)
    return best


def machine_reference() -> str:
    """One line that says how fast this machine's CPU is right now: ``loop_seconds`` of 10
    million additions. Figures from two runs compare only after this one is compared: a VM
    here has run the same loop at 0.6 s and at 1.5 s within two hours, and at 0.28 and 0.68 s
    within minutes."""
    return (f"{'machine reference':<34} {loop_seconds(10_000_000):9.2f} s  "
            "(10 million additions in pure Python, best of 3)")


def describe(label: str, seconds: list[float], *, rate: bool = True) -> str:
    """One line of figures for per-operation durations (seconds); ``rate``: operations per second
    if they ran one after another."""
    ordered = sorted(seconds)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] * 1000

    total = sum(ordered)
    per_second = f"{n / total:>9.1f}/s  " if rate else ""
    return (f"{label:<34} n={n:<6} {per_second}mean {statistics.fmean(ordered) * 1000:7.3f} ms  "
            f"p50 {pct(0.50):7.3f}  p95 {pct(0.95):7.3f}  p99 {pct(0.99):7.3f} ms")
