"""Fixtures for the console shell: clients on a tenant host and on the platform host,
a person with two-factor sign-in, and a clean rate-limit cache."""
from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from helpdesk.console import totp

TENANT_HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"
PLATFORM_HOST = "localhost"


@pytest.fixture
def acme_client() -> Client:
    return Client(HTTP_HOST=TENANT_HOST)


@pytest.fixture
def platform_client() -> Client:
    return Client(HTTP_HOST=PLATFORM_HOST)


def enable_totp(user) -> pyotp.TOTP:
    user.totp_secret = totp.new_secret()
    user.totp_enabled = True
    user.totp_last_counter = 0
    user.save()
    return pyotp.TOTP(user.totp_secret)


@pytest.fixture
def totp_agent(agent):
    """``agent`` with two-factor sign-in on; returns (user, pyotp.TOTP)."""
    return agent, enable_totp(agent)


def login(client: Client, email: str, password: str, **extra):
    return client.post("/console/login/", {"username": email, "password": password}, **extra)


class _Inbox:
    """Messages a real SMTP server received (aiosmtpd on a free local port)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on 127.0.0.1; Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()
