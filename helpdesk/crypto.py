"""Secrets at rest (TOTP seeds, webhook secrets, mailbox passwords): Fernet-encrypted fields.

The key comes from ``FIELD_ENCRYPTION_KEY`` (a Fernet key; several comma-separated keys
rotate, the first encrypts) or, when unset, is derived from ``SECRET_KEY``.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    configured = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    if not configured:
        digest = hashlib.sha256(b"helpdesk-field-encryption:" + settings.SECRET_KEY.encode()).digest()
        configured = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode()) for k in configured])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python sees the plain text. Not searchable by value."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken:
            raise ValueError("cannot decrypt field: FIELD_ENCRYPTION_KEY does not match") from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
