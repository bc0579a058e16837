"""Triggers: rules run on ticket events (created, updated, message added).

When an event arrives, the tenant's active triggers for its type are checked in position
order against the ticket and the event's changes. A trigger whose conditions hold fires:
its actions are applied (``actions.actions_apply``) and a ``TriggerRun`` is recorded with
the event's id. After a trigger changed the ticket, checking starts again from the top
with the changes so far, and every trigger fires at most once per originating event (the
visited set): a cycle ends after at most as many firings as there are triggers.

The changes triggers make are recorded with ``via=trigger``; their own ``ticket.updated``
events are not checked again (they were checked within the cycle that caused them), so
two triggers that undo each other stop after one round instead of ping-ponging.
``once_per_ticket`` triggers fire at most once per ticket, ever.

Trigger conditions are the shared condition language (``tickets.conditions``, with
``changed.<field>``) plus three trigger-only fields:
- ``message.kind``  is / is_not  public | note | system  (ticket.message_added only);
- ``message.author``  is / is_not  customer | agent | system  (ticket.message_added only);
- ``event.via``  is / is_not / in / not_in  console | api | customer | automation | system.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.models import Tenant
from tickets.automation.actions import RuleRef, actions_apply, ticket_tag_names, validate_actions
from tickets.automation.rules import rule_delete, rule_update
from tickets.conditions import conditions_match, validate_conditions
from tickets.models import Message, MessageKind, Ticket, Trigger, TriggerRun, Via
from tickets.services.common import require_settings_manage

logger = logging.getLogger(__name__)

TRIGGER_EVENTS = ("ticket.created", "ticket.updated", "ticket.message_added")
MESSAGE_KINDS = tuple(MessageKind.values)
MESSAGE_AUTHORS = ("customer", "agent", "system")
EVENT_VIAS = tuple(v for v in Via.values if v != Via.TRIGGER)
_PSEUDO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # field: (operators, allowed values)
    "message.kind": (("is", "is_not"), MESSAGE_KINDS),
    "message.author": (("is", "is_not"), MESSAGE_AUTHORS),
    "event.via": (("is", "is_not", "in", "not_in"), EVENT_VIAS),
}
MAX_TRIGGERS_PER_TENANT = 200


# --- conditions -------------------------------------------------------------------------


def _validate_pseudo(item: dict) -> dict:
    if set(item) - {"field", "operator", "value"}:
        raise ValidationError(_('Each condition is {"field", "operator", "value"}.'))
    operators, values = _PSEUDO[item["field"]]
    operator, value = item.get("operator"), item.get("value")
    if operator not in operators:
        raise ValidationError(_("Operator %(op)s does not apply to %(field)s (use one of: %(ops)s).")
                              % {"op": operator, "field": item["field"], "ops": ", ".join(operators)})
    many = operator in ("in", "not_in")
    items = value if many else [value]
    if many and (not isinstance(value, list) or not value):
        raise ValidationError(_("%(field)s %(op)s needs a non-empty list.") % {"field": item["field"], "op": operator})
    for v in items:
        if v not in values:
            raise ValidationError(_("Not a valid value for %(field)s: %(value)r (use one of: %(values)s).")
                                  % {"field": item["field"], "value": v, "values": ", ".join(values)})
    return {"field": item["field"], "operator": operator, "value": value}


def _is_pseudo(item: Any) -> bool:
    return isinstance(item, dict) and item.get("field") in _PSEUDO


def validate_trigger_conditions(data: Any) -> dict:
    """The shared language with ``changed.<field>`` plus the trigger-only fields above."""
    return validate_conditions(data, allow_changes=True,
                               extra_fields={name: _validate_pseudo for name in _PSEUDO})


def _message_author(message: Message) -> str:
    if message.kind == MessageKind.SYSTEM or message.via in (Via.SYSTEM, Via.TRIGGER, Via.AUTOMATION):
        return "system"
    if message.author_contact_id is not None or message.via == Via.CUSTOMER:
        return "customer"
    return "agent"


def _pseudo_match(item: dict, *, message: Message | None, via: str) -> bool:
    field, operator, value = item["field"], item["operator"], item["value"]
    if field == "event.via":
        actual = via
    elif message is None:
        return False
    elif field == "message.kind":
        actual = message.kind
    else:
        actual = _message_author(message)
    if operator == "is":
        return actual == value
    if operator == "is_not":
        return actual != value
    if operator == "in":
        return actual in value
    return actual not in value


def trigger_conditions_match(ticket: Ticket, conditions: Mapping, *, tags: list[str],
                             changes: Mapping[str, tuple[Any, Any]], message: Message | None, via: str,
                             now=None) -> bool:
    now = now or timezone.now()

    def check(item: dict) -> bool:
        if _is_pseudo(item):
            return _pseudo_match(item, message=message, via=via)
        return conditions_match(ticket, {"all": [item]}, tags=tags, changes=dict(changes), now=now)

    all_items = conditions.get("all") or []
    any_items = conditions.get("any") or []
    if not all(check(i) for i in all_items):
        return False
    return not any_items or any(check(i) for i in any_items)


# --- running ----------------------------------------------------------------------------


def _event_changes(payload: Mapping) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for name, pair in (payload.get("changes") or {}).items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            changes[str(name)] = (pair[0], pair[1])
    return changes


def triggers_run(*, ticket: Ticket, event_type: str, event_id: int | None, via: str,
                 changes: Mapping[str, tuple[Any, Any]] | None = None,
                 message: Message | None = None) -> list[int]:
    """Run the cycle for one originating event; return the ids of the triggers that fired,
    in firing order.

    Precondition: inside a transaction, in the ticket's tenant scope.
    """
    triggers = [t for t in Trigger.objects.filter(is_active=True).order_by("position", "pk")
                if isinstance(t.events, list) and event_type in t.events]
    if not triggers or ticket.is_closed:
        return []
    runs = TriggerRun.objects.filter(ticket=ticket, trigger_id__in=[t.pk for t in triggers])
    once_done = set(runs.filter(trigger__once_per_ticket=True).values_list("trigger_id", flat=True))
    # A re-dispatched event must not fire again what already fired for it.
    fired: list[int] = list(runs.filter(event_id=event_id).values_list("trigger_id", flat=True)) \
        if event_id is not None else []
    cycle_changes: dict[str, tuple[Any, Any]] = dict(changes or {})
    tags = ticket_tag_names(ticket)
    now = timezone.now()
    newly_fired: list[int] = []
    restart = True
    while restart:
        restart = False
        for trigger in triggers:
            if trigger.pk in fired or trigger.pk in once_done:
                continue
            if not trigger_conditions_match(ticket, trigger.conditions or {}, tags=tags, changes=cycle_changes,
                                            message=message, via=via, now=now):
                continue
            fired.append(trigger.pk)
            newly_fired.append(trigger.pk)
            TriggerRun.objects.create(tenant_id=ticket.tenant_id, trigger=trigger, ticket=ticket, event_id=event_id)
            rule = RuleRef(kind="trigger", id=trigger.pk, name=trigger.name, event_id=event_id)
            ticket, made = actions_apply(ticket=ticket, actions=trigger.actions or [], rule=rule)
            if made:
                for name, (before, after) in made.items():
                    first_before = cycle_changes[name][0] if name in cycle_changes else before
                    cycle_changes[name] = (first_before, after)
                tags = ticket_tag_names(ticket)
                restart = True  # re-check from the top against the changed ticket
                break
            if ticket.is_closed:
                return newly_fired
    return newly_fired


def trigger_consumer(event) -> None:
    """Event consumer for ``TRIGGER_EVENTS``: runs the tenant's triggers for the event."""
    payload = event.payload or {}
    via = payload.get("via") or ""
    if via == Via.TRIGGER:
        return  # checked within the cycle that made it (see the module docstring)
    ticket_data = payload.get("ticket") if isinstance(payload.get("ticket"), dict) else {}
    ticket_id = ticket_data.get("id") or payload.get("ticket_id")
    if not isinstance(ticket_id, int) and event.subject_type == "tickets.ticket" and event.subject_id.isdigit():
        ticket_id = int(event.subject_id)
    if not isinstance(ticket_id, int):
        return
    ticket = Ticket.objects.select_related("tenant", "requester").filter(pk=ticket_id).first()
    if ticket is None:
        return
    message = None
    if event.type == "ticket.message_added":
        message_id = payload.get("message_id")
        if isinstance(message_id, int):
            message = Message.objects.filter(pk=message_id, ticket=ticket).first()
    triggers_run(ticket=ticket, event_type=event.type, event_id=event.pk, via=via,
                 changes=_event_changes(payload), message=message)


# --- CRUD services ----------------------------------------------------------------------


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": [_("Name at least one event: %(names)s.")
                                          % {"names": ", ".join(TRIGGER_EVENTS)}]})
    unknown = [e for e in events if e not in TRIGGER_EVENTS]
    if unknown:
        raise ValidationError({"events": [_("Unknown events: %(unknown)s (use: %(names)s).")
                                          % {"unknown": ", ".join(unknown), "names": ", ".join(TRIGGER_EVENTS)}]})
    return [e for e in TRIGGER_EVENTS if e in events]


def _clean(*, tenant: Tenant, fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    if "events" in fields:
        try:
            cleaned["events"] = _clean_events(fields["events"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "conditions" in fields:
        try:
            cleaned["conditions"] = validate_trigger_conditions(fields["conditions"])
        except ValidationError as exc:
            errors["conditions"] = exc.messages
    if "actions" in fields:
        try:
            cleaned["actions"] = validate_actions(fields["actions"], tenant=tenant)
        except ValidationError as exc:
            errors["actions"] = exc.messages
    if "name" in fields and not str(fields["name"] or "").strip():
        errors["name"] = [_("Give the trigger a name.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def trigger_public_data(trigger: Trigger) -> dict:
    return {"name": trigger.name, "position": trigger.position, "events": trigger.events,
            "conditions": trigger.conditions, "actions": trigger.actions,
            "once_per_ticket": trigger.once_per_ticket, "is_active": trigger.is_active}


@transaction.atomic
def trigger_create(*, tenant: Tenant, actor: Any, name: str, events: list[str], actions: list[dict],
                   conditions: dict | None = None, description: str = "", position: int | None = None,
                   once_per_ticket: bool = False, is_active: bool = True,
                   audit_meta: Mapping[str, Any] | None = None) -> Trigger:
    """Validate and store a trigger (appended after the others unless ``position`` is given)."""
    require_settings_manage(tenant=tenant, actor=actor)
    cleaned = _clean(tenant=tenant, fields={"name": name, "events": events, "conditions": {} if conditions is None else conditions,
                                            "actions": actions})
    if Trigger.objects.filter(tenant=tenant).count() >= MAX_TRIGGERS_PER_TENANT:
        raise ValidationError(_("A helpdesk can have at most %(count)d triggers.") % {"count": MAX_TRIGGERS_PER_TENANT})
    if position is None:
        position = (Trigger.objects.filter(tenant=tenant).aggregate(m=Max("position"))["m"] or 0) + 1
    trigger = Trigger.objects.create(
        tenant=tenant, name=cleaned["name"].strip(), description=description or "", position=position,
        events=cleaned["events"], conditions=cleaned["conditions"], actions=cleaned["actions"],
        once_per_ticket=once_per_ticket, is_active=is_active)
    audit_record(tenant=tenant, action="trigger.created", actor=actor, obj=trigger,
                 after=trigger_public_data(trigger), **(audit_meta or {}))
    return trigger


UPDATABLE = ("name", "description", "position", "events", "conditions", "actions", "once_per_ticket", "is_active")


@transaction.atomic
def trigger_update(*, trigger: Trigger, actor: Any, audit_meta: Mapping[str, Any] | None = None,
                   **fields: Any) -> Trigger:
    """Change the given fields (validated like ``trigger_create``)."""
    return rule_update(rule=trigger, actor=actor, fields=fields, updatable=UPDATABLE, clean=_clean,
                       public_data=trigger_public_data, service="trigger_update", action="trigger.updated",
                       audit_meta=audit_meta)


@transaction.atomic
def trigger_delete(*, trigger: Trigger, actor: Any, audit_meta: Mapping[str, Any] | None = None) -> None:
    rule_delete(rule=trigger, actor=actor, public_data=trigger_public_data, action="trigger.deleted",
                audit_meta=audit_meta)
