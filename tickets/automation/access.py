"""Who is behind an actor of the rule services. Changing triggers and automations is
administrators' work: ``tickets.services.common.require_settings_manage``."""
from __future__ import annotations

from typing import Any


def person(actor: Any):
    """The User behind ``actor``, or None for an API key or the system."""
    if actor is None or getattr(actor, "api_key", None) is not None or not getattr(actor, "pk", None):
        return None
    return actor
