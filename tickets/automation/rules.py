"""What triggers and automations share as stored rules: validated update and audited delete."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from helpdesk.audit.services import audit_record
from tickets.services.common import require_settings_manage


def rule_update(*, rule, actor: Any, fields: Mapping[str, Any], updatable: tuple[str, ...],
                clean: Callable[..., dict], public_data: Callable[[Any], dict], service: str, action: str,
                audit_meta: Mapping[str, Any] | None = None):
    """Change ``fields`` of a trigger or automation. Precondition: inside ``transaction.atomic``."""
    unknown = set(fields) - set(updatable)
    if unknown:
        raise TypeError(f"{service} got unknown fields {sorted(unknown)}")
    tenant = rule.tenant
    require_settings_manage(tenant=tenant, actor=actor)
    cleaned = clean(tenant=tenant, fields=dict(fields))
    rule = type(rule).objects.select_for_update().get(pk=rule.pk)
    before = public_data(rule)
    for name, value in cleaned.items():
        setattr(rule, name, value.strip() if name == "name" else value)
    rule.save()
    audit_record(tenant=tenant, action=action, actor=actor, obj=rule, before=before,
                 after=public_data(rule), **(audit_meta or {}))
    return rule


def rule_delete(*, rule, actor: Any, public_data: Callable[[Any], dict], action: str,
                audit_meta: Mapping[str, Any] | None = None) -> None:
    """Precondition: inside ``transaction.atomic``."""
    require_settings_manage(tenant=rule.tenant, actor=actor)
    audit_record(tenant=rule.tenant, action=action, actor=actor, obj=rule, before=public_data(rule),
                 **(audit_meta or {}))
    rule.delete()
