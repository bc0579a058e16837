"""Fixtures for the channels_hub tests: a real IMAP server (Dovecot), see imap_server.py."""
from __future__ import annotations

import pytest

from tests.channels_hub.imap_server import DovecotServer, find_dovecot


@pytest.fixture(scope="session")
def dovecot_server():
    """The session's private Dovecot, started on first use. Prefer ``imap_server``."""
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; scripts/test installs it as root)")
    server = DovecotServer(binary)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_server(dovecot_server):
    """The running Dovecot with an empty mailbox (restarted if a test left it stopped)."""
    dovecot_server.start()
    dovecot_server.reset()
    yield dovecot_server
    dovecot_server.start()
