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
