"""Writes of SLA policies and their targets (API and console share these).

A policy's targets are replaced as a whole when given. Tickets take a changed policy at
their next change (the hook re-matches policies and re-targets running timers from their
start, keeping paused time); nothing is recomputed in bulk here.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.models import Metric, Priority, SlaPolicy, SlaTarget, SlaTimer, Status, Ticket, TimerStatus
from tickets.services.common import require_settings_manage
from tickets.sla.policy_cache import sla_policies_changed

# Statuses a timer may pause in: the unsolved ones (solved and closed stop every timer).
PAUSABLE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
DEFAULT_PAUSE_STATUSES = [Status.PENDING.value, Status.ON_HOLD.value]
MAX_WARNING_MINUTES = 7 * 24 * 60
MAX_TARGET_MINUTES = 365 * 24 * 60
MAX_POSITION = 10_000


def clean_conditions(conditions: Any) -> dict:
    from tickets.conditions import validate_conditions

    try:
        return validate_conditions(conditions)
    except ValidationError as exc:
        raise ValidationError({"conditions": exc.messages}) from None


def clean_pause_statuses(values: Any) -> list[str]:
    if not isinstance(values, (list, tuple)):
        raise ValidationError({"pause_statuses": [_("Give a list of statuses.")]})
    unknown = [v for v in values if v not in PAUSABLE_STATUSES]
    if unknown:
        raise ValidationError({"pause_statuses": [_("Unknown or not pausable status: %(values)s. Use any of: "
                                                    "%(allowed)s.") % {
            "values": ", ".join(map(str, unknown)), "allowed": ", ".join(PAUSABLE_STATUSES)}]})
    return sorted(set(values), key=list(PAUSABLE_STATUSES).index)


def clean_targets(targets: Any) -> list[tuple[str, str, int]]:
    if not isinstance(targets, (list, tuple)):
        raise ValidationError({"targets": [_("Give a list of {metric, priority, minutes}.")]})
    out: list[tuple[str, str, int]] = []
    seen: dict[tuple[str, str], int] = {}
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(targets):
        key = f"targets.{index}"
        if not isinstance(item, Mapping):
            errors[key] = [_("Each target is {metric, priority, minutes}.")]
            continue
        metric, priority, minutes = item.get("metric"), item.get("priority"), item.get("minutes")
        if metric not in Metric.values:
            errors[f"{key}.metric"] = [_("Unknown metric: %(value)s. Use one of: %(allowed)s.") % {
                "value": metric, "allowed": ", ".join(Metric.values)}]
            continue
        if priority not in Priority.values:
            errors[f"{key}.priority"] = [_("Unknown priority: %(value)s. Use one of: %(allowed)s.") % {
                "value": priority, "allowed": ", ".join(Priority.values)}]
            continue
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_MINUTES:
            errors[f"{key}.minutes"] = [_("A whole number of minutes from 1 to %(max)d.") % {
                "max": MAX_TARGET_MINUTES}]
            continue
        if (metric, priority) in seen:
            errors[key] = [_("Duplicate target: %(metric)s for %(priority)s priority is already item %(index)d.")
                           % {"metric": metric, "priority": priority, "index": seen[(metric, priority)]}]
            continue
        seen[(metric, priority)] = index
        out.append((metric, priority, minutes))
    if errors:
        raise ValidationError(errors)
    return out


def _clean_name(name: Any) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 120:
        raise ValidationError({"name": [_("Give a name of 1 to 120 characters.")]})
    return name


def _clean_int(field: str, value: Any, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationError({field: [_("A whole number from 0 to %(max)d.") % {"max": maximum}]})
    return value


def _clean_calendar(calendar: BusinessCalendar | None, tenant: Tenant) -> BusinessCalendar | None:
    if calendar is not None and calendar.tenant_id != tenant.pk:
        raise ValidationError({"business_hours_id": [_("Unknown business hours.")]})
    return calendar


def policy_data(policy: SlaPolicy) -> dict[str, Any]:
    """What audit entries and events say about a policy (reads prefetched targets)."""
    return {
        "id": policy.pk, "name": policy.name, "position": policy.position, "conditions": policy.conditions,
        "business_hours_id": policy.calendar_id, "pause_statuses": list(policy.pause_statuses),
        "warning_minutes": policy.warning_minutes, "is_active": policy.is_active,
        "targets": sorted(({"metric": t.metric, "priority": t.priority, "minutes": t.minutes}
                           for t in policy.targets.all()), key=lambda t: (t["metric"], t["priority"])),
    }


def _set_targets(policy: SlaPolicy, targets: Iterable[tuple[str, str, int]]) -> None:
    SlaTarget.objects.filter(policy=policy).delete()
    SlaTarget.objects.bulk_create([SlaTarget(tenant_id=policy.tenant_id, policy=policy, metric=m, priority=p,
                                             minutes=n) for m, p, n in targets])
    sla_policies_changed(policy.tenant_id)  # bulk_create sends no signal


def _refresh(policy: SlaPolicy) -> SlaPolicy:
    from tickets.sla.selectors import policy_list

    return policy_list().get(pk=policy.pk)


def sla_policy_create(*, tenant: Tenant, actor: Any, name: str, targets: list, position: int = 0,
                      conditions: Any = None, calendar: BusinessCalendar | None = None,
                      pause_statuses: Any = None, warning_minutes: int = 15, description: str = "",
                      is_active: bool = True, audit_meta: Mapping[str, Any] | None = None) -> SlaPolicy:
    """Create a policy; ``calendar`` None counts calendar hours."""
    require_settings_manage(tenant=tenant, actor=actor)
    values = {
        "name": _clean_name(name),
        "description": (description or "")[:2000],
        "position": _clean_int("position", position, MAX_POSITION),
        "conditions": clean_conditions(conditions),
        "calendar": _clean_calendar(calendar, tenant),
        "pause_statuses": clean_pause_statuses(DEFAULT_PAUSE_STATUSES if pause_statuses is None else pause_statuses),
        "warning_minutes": _clean_int("warning_minutes", warning_minutes, MAX_WARNING_MINUTES),
        "is_active": bool(is_active),
    }
    cleaned_targets = clean_targets(targets)
    with transaction.atomic(), tenant_scope(tenant):
        policy = SlaPolicy.objects.create(tenant=tenant, **values)
        _set_targets(policy, cleaned_targets)
        policy = _refresh(policy)
        data = policy_data(policy)
        audit_record(tenant=tenant, action="sla_policy.created", actor=actor, obj=policy, after=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="sla_policy.created", subject=policy, actor=actor, payload=data)
    return policy


_UNSET = object()


def sla_policy_update(*, policy: SlaPolicy, actor: Any, name: Any = None, targets: Any = None,
                      position: Any = None, conditions: Any = None, calendar: Any = _UNSET,
                      pause_statuses: Any = None, warning_minutes: Any = None, description: Any = None,
                      is_active: Any = None, audit_meta: Mapping[str, Any] | None = None) -> SlaPolicy:
    """Change what is given (None leaves a field alone; ``calendar=None`` means calendar hours)."""
    require_settings_manage(tenant=policy.tenant, actor=actor)
    tenant = policy.tenant
    updates: dict[str, Any] = {}
    if name is not None:
        updates["name"] = _clean_name(name)
    if description is not None:
        updates["description"] = str(description)[:2000]
    if position is not None:
        updates["position"] = _clean_int("position", position, MAX_POSITION)
    if conditions is not None:
        updates["conditions"] = clean_conditions(conditions)
    if calendar is not _UNSET:
        updates["calendar"] = _clean_calendar(calendar, tenant)
    if pause_statuses is not None:
        updates["pause_statuses"] = clean_pause_statuses(pause_statuses)
    if warning_minutes is not None:
        updates["warning_minutes"] = _clean_int("warning_minutes", warning_minutes, MAX_WARNING_MINUTES)
    if is_active is not None:
        updates["is_active"] = bool(is_active)
    cleaned_targets = clean_targets(targets) if targets is not None else None
    with transaction.atomic(), tenant_scope(tenant):
        stored = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        before = policy_data(_refresh(stored))
        for field, value in updates.items():
            setattr(stored, field, value)
        if updates:
            stored.save()
        if cleaned_targets is not None:
            _set_targets(stored, cleaned_targets)
        policy = _refresh(stored)
        after = policy_data(policy)
        if after != before:
            audit_record(tenant=tenant, action="sla_policy.updated", actor=actor, obj=policy, before=before,
                         after=after, **(audit_meta or {}))
            event_emit(tenant=tenant, type="sla_policy.updated", subject=policy, actor=actor, payload=after)
    return policy


def sla_policy_delete(*, policy: SlaPolicy, actor: Any, audit_meta: Mapping[str, Any] | None = None) -> None:
    """Delete a policy. Its finished and breached timers stay for the reports (``policy``
    becomes null); its running ones stop, so the sweep does not flag targets nobody sets
    any more. Tickets that used it match the remaining policies at their next change."""
    require_settings_manage(tenant=policy.tenant, actor=actor)
    tenant = policy.tenant
    with transaction.atomic(), tenant_scope(tenant):
        data = policy_data(_refresh(policy))
        SlaTimer.objects.filter(policy=policy, fulfilled_at__isnull=True,
                                status__in=[TimerStatus.ACTIVE, TimerStatus.PAUSED]).delete()
        Ticket.objects.filter(sla_policy=policy).update(sla_next_due_at=None)
        policy.delete()
        audit_record(tenant=tenant, action="sla_policy.deleted", actor=actor, before=data, **(audit_meta or {}))
        event_emit(tenant=tenant, type="sla_policy.deleted", actor=actor, payload=data)
