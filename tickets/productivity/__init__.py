"""Productivity: saved views, macros and bulk updates (issue 3, item 5).

``register()`` is called once from ``TicketsConfig.ready()``.
"""
from __future__ import annotations

_registered = False


def register() -> None:
    """Give every new tenant the default views and macros (idempotent)."""
    global _registered
    if _registered:
        return
    from helpdesk.tenancy.services import register_tenant_defaults
    from tickets.productivity.defaults import productivity_defaults_create

    register_tenant_defaults(productivity_defaults_create)
    _registered = True
