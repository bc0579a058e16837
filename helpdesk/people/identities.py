"""Normalising identity values so the same person matches the same row (pure functions)."""
from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def normalize_email(value: str) -> str:
    value = value.strip()
    validate_email(value)
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """Return E.164 (``+905321234567``) or raise ValidationError."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Not a phone number: %(value)s") % {"value": value}) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("Not a phone number: %(value)s") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_handle(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(_("A handle cannot be empty."))
    return value.lstrip("@").lower()


def normalize_identity(kind: str, value: str, *, default_region: str | None = None) -> str:
    if kind == "email":
        return normalize_email(value)
    if kind == "phone":
        return normalize_phone(value, default_region)
    if kind == "social":
        return normalize_handle(value)
    value = value.strip()
    if not value:
        raise ValidationError(_("An external id cannot be empty."))
    return value
