"""The benchmark scripts in ``bench/`` stay runnable: each one starts and prints its usage.

They run outside the suite (README, Benchmarks), so nothing else notices when a change to
``bench/_setup.py`` breaks one of them; one did, for a session, when ``describe`` went missing.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from django.conf import settings

BENCH = settings.BASE_DIR / "bench"
SCRIPTS = sorted(path.name for path in BENCH.glob("[a-z]*.py"))


def test_there_are_benchmarks_to_check():
    assert "email_ingest.py" in SCRIPTS and len(SCRIPTS) >= 5


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_benchmark_starts_and_prints_its_usage(script):
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=settings.BASE_DIR)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")


def test_describe_gives_count_rate_and_percentiles():
    sys.path.insert(0, str(BENCH))
    try:
        from _setup import describe
    finally:
        sys.path.remove(str(BENCH))
    line = describe("mails", [0.010] * 90 + [0.050] * 10)
    assert line.startswith("mails") and "n=100" in line
    assert "71.4/s" in line         # 100 operations, 1.4 s in all
    assert "p50  10.000" in line and "p95  50.000" in line
    assert "/s" not in describe("latency", [0.001], rate=False)
