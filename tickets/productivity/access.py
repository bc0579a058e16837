"""Who may see and change saved views and macros.

- Personal ones (``owner`` set) belong to that person: only they see, change or use them.
- Shared ones (``owner`` null) are seen by everyone in the tenant and changed by people
  whose role has ``Cap.SETTINGS_MANAGE`` (admins, owners), by API keys with the
  ``settings:write`` scope and by the system (``None``, e.g. the defaults of a new tenant).
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Membership, Tenant
from helpdesk.tenancy.roles import Cap, Scope, role_has, scope_granted


def is_api_key(actor: Any) -> bool:
    return getattr(actor, "api_key", None) is not None


def person(actor: Any):
    """The User behind ``actor``, or None for an API key or the system."""
    if actor is None or is_api_key(actor) or not getattr(actor, "pk", None):
        return None
    return actor


def visible_q(actor: Any) -> Q:
    """Rows of a Macro/SavedView queryset that ``actor`` may see: shared, and their own."""
    user = person(actor)
    if user is None:
        return Q(owner__isnull=True)
    return Q(owner__isnull=True) | Q(owner_id=user.pk)


def can_manage_shared(*, tenant: Tenant, actor: Any) -> bool:
    if actor is None:
        return True
    if is_api_key(actor):
        return actor.api_key.tenant_id == tenant.pk and scope_granted(actor.api_key.scopes, Scope.SETTINGS_WRITE)
    user = person(actor)
    if user is None:
        return False
    membership = Membership.objects.filter(tenant=tenant, user_id=user.pk, is_active=True).only("role").first()
    return membership is not None and role_has(membership.role, Cap.SETTINGS_MANAGE)


def check_can_change(*, tenant: Tenant, actor: Any, owner_id: int | None) -> None:
    """Raise PermissionDenied unless ``actor`` may create/change/delete a row owned by
    ``owner_id`` (None: shared)."""
    if owner_id is None:
        if not can_manage_shared(tenant=tenant, actor=actor):
            raise PermissionDenied(_("Only administrators can change shared items."))
        return
    user = person(actor)
    if user is None or user.pk != owner_id:
        raise PermissionDenied(_("Personal items can only be changed by their owner."))


def check_can_use(*, actor: Any, owner_id: int | None) -> None:
    """Personal items are used by their owner only; shared ones by anyone in the tenant."""
    if owner_id is None:
        return
    user = person(actor)
    if user is None or user.pk != owner_id:
        raise PermissionDenied(_("This personal item belongs to someone else."))
