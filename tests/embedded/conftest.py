"""A real embedded-mode instance for the smoke tests: its own var dir, SQLite, Celery over
SQLite, processes started the way ``scripts/run`` starts them. Nothing here uses the test
process's database, so these tests run the same whatever DATABASE_URL the caller has."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SLUG = "smoke"
OWNER_EMAIL = "owner@smoke.test"
OWNER_PASSWORD = "smoke-password-1"

# Variables that would switch the instance to full mode or change how it runs tasks.
_SCRUB = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX", "CELERY_TASK_ALWAYS_EAGER",
          "SECRET_KEY", "STATIC_ROOT", "MEDIA_ROOT", "TEST_DATABASE_NAME")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Embedded:
    var_dir: Path
    env: dict[str, str]
    port: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.var_dir / "helpdesk.sqlite3"

    @property
    def broker_url(self) -> str:
        return f"sqla+sqlite:///{self.var_dir / 'celery-broker.sqlite3'}"

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def log(self, name: str) -> str:
        path = self.var_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, name: str, *command: str) -> subprocess.Popen:
        log = open(self.var_dir / f"{name}.log", "ab")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def stop(self, name: str, timeout: float = 30) -> int | None:
        """TERM the process (Celery's warm shutdown), then its whole group; return its exit code."""
        process = self.processes.pop(name, None)
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # pool children, beat
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
        return process.returncode

    def wait_for_http(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise AssertionError(f"the web server exited:\n{self.log('web')[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the web server did not answer in {timeout}s:\n{self.log('web')[-3000:]}")


@pytest.fixture(scope="session")
def embedded(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("embedded-instance")
    env = {key: value for key, value in os.environ.items() if key not in _SCRUB}
    env.update(HELPDESK_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="helpdesk.settings", PYTHONUNBUFFERED="1",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    instance = Embedded(var_dir=var_dir, env=env)

    migrated = instance.manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    created = instance.manage("create_tenant", "--slug", SLUG, "--name", "Smoke Test Ltd",
                              "--owner-email", OWNER_EMAIL, "--owner-password", OWNER_PASSWORD)
    assert created.returncode == 0, created.stdout + created.stderr

    instance.port = free_port()
    instance.start("web", str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(instance.port),
                   "helpdesk.asgi:application")
    try:
        instance.wait_for_http()
        yield instance
    finally:
        for name in list(instance.processes):
            instance.stop(name)
