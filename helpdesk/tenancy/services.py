"""Writes for tenants, memberships and API keys."""
from __future__ import annotations

from typing import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from helpdesk.audit.services import audit_record
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import ApiKey, Membership, Tenant
from helpdesk.tenancy.roles import ALL_SCOPES, Role

# Each app registers how a new tenant starts (default teams, views, SLA policy, macros…),
# from its AppConfig.ready(); the core imports no app.
_TENANT_DEFAULTS: list[Callable[[Tenant], None]] = []


def register_tenant_defaults(fn: Callable[[Tenant], None]) -> Callable[[Tenant], None]:
    _TENANT_DEFAULTS.append(fn)
    return fn


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    owner_name: str = "",
    timezone_name: str = "UTC",
    default_locale: str = "en",
) -> Tenant:
    """Create a tenant with its owner and the best-practice defaults every app registers.

    The owner is an existing user with that email, or a new one with ``owner_password``.
    """
    tenant = Tenant(slug=slug, name=name, timezone=timezone_name, default_locale=default_locale)
    tenant.full_clean()
    tenant.save()
    User = get_user_model()
    email = User.objects.normalize_email(owner_email).lower()
    owner = User.objects.filter(email=email).first()
    if owner is None:
        owner = User.objects.create_user(email=email, password=owner_password, full_name=owner_name,
                                         locale=default_locale)
    with tenant_scope(tenant):
        Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
        for apply_defaults in _TENANT_DEFAULTS:
            apply_defaults(tenant)
        audit_record(tenant=tenant, action="tenant.created", actor=owner, obj=tenant,
                     after={"slug": slug, "name": name})
        event_emit(tenant=tenant, type="tenant.created", subject=tenant, actor=owner,
                   payload={"slug": tenant.slug, "name": tenant.name})
    return tenant


@transaction.atomic
def membership_add(*, tenant: Tenant, user, role: str = Role.AGENT, actor=None) -> Membership:
    with tenant_scope(tenant):
        membership, created = Membership.objects.get_or_create(tenant=tenant, user=user,
                                                               defaults={"role": role})
        if not created and (membership.role != role or not membership.is_active):
            before = {"role": membership.role, "is_active": membership.is_active}
            membership.role = role
            membership.is_active = True
            membership.save(update_fields=["role", "is_active"])
            audit_record(tenant=tenant, action="membership.changed", actor=actor, obj=membership, before=before,
                         after={"role": role, "is_active": True})
            event_emit(tenant=tenant, type="membership.changed", subject=membership, actor=actor,
                       payload={"user_id": user.pk, "email": user.email, "role": role, "before": before})
        elif created:
            audit_record(tenant=tenant, action="membership.created", actor=actor, obj=membership,
                         after={"user": user.email, "role": role})
            event_emit(tenant=tenant, type="membership.created", subject=membership, actor=actor,
                       payload={"user_id": user.pk, "email": user.email, "role": role})
    return membership


@transaction.atomic
def api_key_create(
    *, tenant: Tenant, name: str, scopes: Iterable[str] | None = None, created_by=None
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is shown once and never stored."""
    scope_list = sorted(set(scopes)) if scopes is not None else sorted(ALL_SCOPES)
    unknown = set(scope_list) - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    raw, prefix, key_hash = ApiKey.generate()
    with tenant_scope(tenant):
        key = ApiKey.objects.create(tenant=tenant, name=name, prefix=prefix, key_hash=key_hash,
                                    scopes=scope_list, created_by=created_by)
        audit_record(tenant=tenant, action="api_key.created", actor=created_by, obj=key,
                     after={"name": name, "scopes": scope_list})
        event_emit(tenant=tenant, type="api_key.created", subject=key, actor=created_by,
                   payload={"name": name, "prefix": prefix, "scopes": scope_list})
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    with tenant_scope(key.tenant):
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(tenant=key.tenant, action="api_key.revoked", actor=actor, obj=key)
        event_emit(tenant=key.tenant, type="api_key.revoked", subject=key, actor=actor,
                   payload={"name": key.name, "prefix": key.prefix})
    return key
