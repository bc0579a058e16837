"""The tenant of the current request or task, held in a context variable.

Querysets of tenant-owned models read it (``TenantManager``) and so does the PostgreSQL
backend (row-level security). Code that must cross tenants says so with
``dangerously_unscoped()``.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from helpdesk.tenancy.models import Tenant

_tenant: ContextVar["Tenant | None"] = ContextVar("helpdesk_tenant", default=None)
_unscoped: ContextVar[bool] = ContextVar("helpdesk_unscoped", default=False)


class NoTenant(RuntimeError):
    """Raised when tenant-owned data is touched without a tenant in context."""


def current_tenant() -> "Tenant | None":
    return _tenant.get()


def current_tenant_id() -> int | None:
    tenant = _tenant.get()
    return tenant.pk if tenant is not None else None


def require_tenant() -> "Tenant":
    tenant = _tenant.get()
    if tenant is None:
        raise NoTenant("no tenant in context")
    return tenant


def is_unscoped() -> bool:
    return _unscoped.get()


def rls_settings() -> tuple[str, str]:
    """Values for ``app.tenant_id`` and ``app.rls_bypass`` in the current context."""
    tenant_id = current_tenant_id()
    return ("" if tenant_id is None else str(tenant_id), "on" if _unscoped.get() else "off")


@contextlib.contextmanager
def tenant_scope(tenant: "Tenant | None") -> Iterator["Tenant | None"]:
    """Run the block as ``tenant`` (and not unscoped, even inside an unscoped block)."""
    token = _tenant.set(tenant)
    unscoped_token = _unscoped.set(False)
    try:
        yield tenant
    finally:
        _unscoped.reset(unscoped_token)
        _tenant.reset(token)


@contextlib.contextmanager
def dangerously_unscoped() -> Iterator[None]:
    """Cross-tenant access for platform code (sweeps, key lookup, superuser admin).

    Every use must be justified where it is written: it lifts both the queryset filter
    and the row-level security policies for the block.
    """
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)


def set_request_tenant(tenant: "Tenant | None", *, unscoped: bool = False) -> None:
    """Set the context for the rest of a request (the middleware's own context)."""
    _tenant.set(tenant)
    _unscoped.set(unscoped)
