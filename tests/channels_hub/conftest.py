"""Fixtures for the channels_hub tests: a real IMAP server (Dovecot), see imap_server.py, and
a real connector bridge (bridge.py)."""
from __future__ import annotations

import pytest

from channels_hub.services.channels import channel_create
from tests.channels_hub.bridge import Bridge
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


@pytest.fixture
def bridge(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the bridge listens on loopback here
    server = Bridge()
    yield server
    server.close()


@pytest.fixture
def connector(tenant, owner, bridge):
    """(channel, secret) of a WhatsApp bridge whose replies go to the local server."""
    return channel_create(tenant=tenant, actor=owner, kind="connector",
                          values={"name": "WhatsApp", "provider": "whatsapp", "webhook_url": bridge.url})
