"""Automations: time-based rules checked every hour ("pending for 3 days → remind").

For each of a tenant's active automations, in position order, the tickets that match its
conditions and have not had it applied are found with one query (``conditions_q`` plus a
``NOT EXISTS`` on ``AutomationRun``), a bounded batch at a time. Each ticket is handled in
its own transaction: the ``AutomationRun`` row is inserted first (unique per automation
and ticket), so an automation is applied at most once per ticket even with two runs at
the same time, and the actions follow (``via=automation``).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.models import Tenant
from tickets.automation.actions import RuleRef, actions_apply, validate_actions
from tickets.automation.rules import rule_delete, rule_update
from tickets.conditions import conditions_q, validate_conditions
from tickets.models import Automation, AutomationRun, Status, Ticket
from tickets.services.common import require_settings_manage

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Per automation per run: the next run (an hour later) continues where this one stopped.
MAX_PER_RUN = 2000
MAX_AUTOMATIONS_PER_TENANT = 100
TIME_FIELDS = ("hours_since_created", "hours_since_updated", "hours_since_status_changed", "hours_since_solved",
               "minutes_to_sla_due")


def validate_automation_conditions(data: Any) -> dict:
    """The shared language, with at least one time condition in ``all``: an automation runs
    every hour, so without one it would be a trigger that fires late."""
    conditions = validate_conditions(data)
    if not any(item["field"] in TIME_FIELDS for item in conditions["all"]):
        raise ValidationError(_("An automation needs at least one time condition in \"all\" (one of: %(fields)s).")
                              % {"fields": ", ".join(TIME_FIELDS)})
    return conditions


def automation_candidates(*, automation: Automation, now: dt.datetime, limit: int, after_pk: int = 0):
    """The tickets ``automation`` applies to now (ids above ``after_pk``): one query on the
    ticket indexes."""
    applied = AutomationRun.objects.filter(automation=automation, ticket=OuterRef("pk"))
    return (Ticket.objects.filter(conditions_q(automation.conditions, now=now), pk__gt=after_pk)
            .exclude(status=Status.CLOSED).exclude(merged_into__isnull=False)
            .filter(~Exists(applied)).select_related("tenant", "requester").order_by("pk")[:limit])


def automation_apply(*, automation: Automation, ticket: Ticket) -> bool:
    """Apply one automation to one ticket once; False when it had already been applied."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                AutomationRun.objects.create(tenant_id=ticket.tenant_id, automation=automation, ticket=ticket)
        except IntegrityError:
            return False  # another run got there first
        rule = RuleRef(kind="automation", id=automation.pk, name=automation.name)
        actions_apply(ticket=ticket, actions=automation.actions or [], rule=rule)
    return True


def automations_run(*, tenant: Tenant, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE,
                    max_per_automation: int = MAX_PER_RUN) -> dict[int, int]:
    """Run every active automation of ``tenant`` once; return ``{automation_id: applied}``.

    Precondition: in ``tenant``'s scope, outside a transaction (each ticket commits on its
    own, so one failing ticket does not undo the others). ``now`` is fixed for the run so
    one automation's changes (``updated_at``) do not make the next match differently
    within the same hour.
    """
    now = now or timezone.now()
    result: dict[int, int] = {}
    for automation in Automation.objects.filter(tenant=tenant, is_active=True).order_by("position", "pk"):
        applied = 0
        after_pk = 0
        while applied < max_per_automation:
            try:
                batch = list(automation_candidates(automation=automation, now=now, after_pk=after_pk,
                                                   limit=min(batch_size, max_per_automation - applied)))
            except (DatabaseError, ValidationError):
                # A rule the database cannot run (say an id beyond bigint in a condition)
                # must not stop the tenant's other automations.
                logger.exception("automation %s could not select its tickets", automation.pk)
                break
            if not batch:
                break
            for ticket in batch:
                after_pk = ticket.pk
                try:
                    if automation_apply(automation=automation, ticket=ticket):
                        applied += 1
                except Exception:  # noqa: BLE001 - one ticket must not stop the run
                    logger.exception("automation %s failed on ticket %s", automation.pk, ticket.pk)
        result[automation.pk] = applied
    return result


# --- CRUD services ----------------------------------------------------------------------


def _clean(*, tenant: Tenant, fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    if "conditions" in fields:
        try:
            cleaned["conditions"] = validate_automation_conditions(fields["conditions"])
        except ValidationError as exc:
            errors["conditions"] = exc.messages
    if "actions" in fields:
        try:
            cleaned["actions"] = validate_actions(fields["actions"], tenant=tenant)
        except ValidationError as exc:
            errors["actions"] = exc.messages
    if "name" in fields and not str(fields["name"] or "").strip():
        errors["name"] = [_("Give the automation a name.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def automation_public_data(automation: Automation) -> dict:
    return {"name": automation.name, "position": automation.position, "conditions": automation.conditions,
            "actions": automation.actions, "is_active": automation.is_active}


@transaction.atomic
def automation_create(*, tenant: Tenant, actor: Any, name: str, conditions: dict, actions: list[dict],
                      description: str = "", position: int | None = None, is_active: bool = True,
                      audit_meta: Mapping[str, Any] | None = None) -> Automation:
    require_settings_manage(tenant=tenant, actor=actor)
    cleaned = _clean(tenant=tenant, fields={"name": name, "conditions": conditions, "actions": actions})
    if Automation.objects.filter(tenant=tenant).count() >= MAX_AUTOMATIONS_PER_TENANT:
        raise ValidationError(_("A helpdesk can have at most %(count)d automations.")
                              % {"count": MAX_AUTOMATIONS_PER_TENANT})
    if position is None:
        position = (Automation.objects.filter(tenant=tenant).aggregate(m=Max("position"))["m"] or 0) + 1
    automation = Automation.objects.create(
        tenant=tenant, name=cleaned["name"].strip(), description=description or "", position=position,
        conditions=cleaned["conditions"], actions=cleaned["actions"], is_active=is_active)
    audit_record(tenant=tenant, action="automation.created", actor=actor, obj=automation,
                 after=automation_public_data(automation), **(audit_meta or {}))
    return automation


UPDATABLE = ("name", "description", "position", "conditions", "actions", "is_active")


@transaction.atomic
def automation_update(*, automation: Automation, actor: Any, audit_meta: Mapping[str, Any] | None = None,
                      **fields: Any) -> Automation:
    return rule_update(rule=automation, actor=actor, fields=fields, updatable=UPDATABLE, clean=_clean,
                       public_data=automation_public_data, service="automation_update",
                       action="automation.updated", audit_meta=audit_meta)


@transaction.atomic
def automation_delete(*, automation: Automation, actor: Any, audit_meta: Mapping[str, Any] | None = None) -> None:
    rule_delete(rule=automation, actor=actor, public_data=automation_public_data, action="automation.deleted",
                audit_meta=audit_meta)
