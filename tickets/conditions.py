"""One safe condition language for views, SLA policies, triggers, automations, routing and
QA sampling.

A condition set is ``{"all": [cond, ...], "any": [cond, ...]}``; a ticket matches when every
``all`` condition holds and, if ``any`` is not empty, at least one ``any`` condition holds.
A condition is ``{"field", "operator", "value"}``. Fields and operators come from the
allowlist below and compile to ORM ``Q`` objects (``conditions_q``) or are evaluated on a
ticket instance (``conditions_match``) with the same meaning. Nothing a user writes ever
becomes SQL text: custom-field keys are checked against a slug pattern and values are
always query parameters.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from tickets.models import Channel, Priority, Status, TicketTag, TicketType

ME = "me"
CUSTOM_PREFIX = "custom_fields."
CHANGED_PREFIX = "changed."
_CUSTOM_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_CONDITIONS = 50


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    kind: str  # choice | fk | tags | text | hours_since | minutes_until | bool | custom | changed
    operators: tuple[str, ...]
    choices: tuple[str, ...] = ()
    column: str = ""


_CHOICE_OPS = ("is", "is_not", "in", "not_in")
_FK_OPS = ("is", "is_not", "in", "not_in", "is_set", "is_not_set")
_NUMBER_OPS = ("gt", "gte", "lt", "lte")

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("status", gettext_lazy("Status"), "choice", _CHOICE_OPS, tuple(Status.values), "status"),
        FieldSpec("priority", gettext_lazy("Priority"), "choice", _CHOICE_OPS + _NUMBER_OPS,
                  tuple(Priority.values), "priority"),
        FieldSpec("type", gettext_lazy("Type"), "choice", _CHOICE_OPS, tuple(TicketType.values), "type"),
        FieldSpec("channel", gettext_lazy("Channel"), "choice", _CHOICE_OPS, tuple(Channel.values), "channel"),
        FieldSpec("language", gettext_lazy("Language"), "text", ("is", "is_not", "in", "not_in"), (), "language"),
        FieldSpec("assignee_id", gettext_lazy("Assignee"), "fk", _FK_OPS, (), "assignee_id"),
        FieldSpec("team_id", gettext_lazy("Team"), "fk", _FK_OPS, (), "team_id"),
        FieldSpec("requester_id", gettext_lazy("Requester"), "fk", _FK_OPS, (), "requester_id"),
        FieldSpec("organization_id", gettext_lazy("Organization"), "fk", _FK_OPS, (), "organization_id"),
        FieldSpec("contact_reason_id", gettext_lazy("Contact reason"), "fk", _FK_OPS, (), "contact_reason_id"),
        FieldSpec("sla_policy_id", gettext_lazy("SLA policy"), "fk", _FK_OPS, (), "sla_policy_id"),
        FieldSpec("tags", gettext_lazy("Tags"), "tags", ("contains", "not_contains", "contains_any",
                                                          "contains_none")),
        FieldSpec("subject", gettext_lazy("Subject"), "text", ("is", "is_not", "contains", "not_contains",
                                                                 "starts_with"), (), "subject"),
        FieldSpec("is_assigned", gettext_lazy("Assigned"), "bool", ("is",), (), "assignee_id"),
        FieldSpec("sla_breached", gettext_lazy("SLA breached"), "bool", ("is",), (), "sla_breached"),
        FieldSpec("hours_since_created", gettext_lazy("Hours since created"), "hours_since", _NUMBER_OPS,
                  (), "created_at"),
        FieldSpec("hours_since_updated", gettext_lazy("Hours since updated"), "hours_since", _NUMBER_OPS,
                  (), "updated_at"),
        FieldSpec("hours_since_status_changed", gettext_lazy("Hours since the status changed"), "hours_since",
                  _NUMBER_OPS, (), "status_changed_at"),
        FieldSpec("hours_since_solved", gettext_lazy("Hours since solved"), "hours_since", _NUMBER_OPS,
                  (), "solved_at"),
        FieldSpec("minutes_to_sla_due", gettext_lazy("Minutes until the next SLA target"), "minutes_until",
                  _NUMBER_OPS, (), "sla_next_due_at"),
    )
}
_CUSTOM_OPS = ("is", "is_not", "contains", "not_contains", "gt", "gte", "lt", "lte", "is_set", "is_not_set")
# Triggers only: what the event changed. ``changed.status`` with ``is_true``, ``to`` or ``from``.
_CHANGED_OPS = ("is_true", "to", "from")
_CHANGEABLE = ("status", "priority", "type", "assignee_id", "team_id", "tags", "subject", "contact_reason_id")
_PRIORITY_RANK = {p: i for i, p in enumerate(Priority.values)}


def _spec(field: str) -> FieldSpec | None:
    if field in FIELDS:
        return FIELDS[field]
    if field.startswith(CUSTOM_PREFIX) and _CUSTOM_KEY.match(field[len(CUSTOM_PREFIX):]):
        return FieldSpec(field, field, "custom", _CUSTOM_OPS)
    if field.startswith(CHANGED_PREFIX) and field[len(CHANGED_PREFIX):] in _CHANGEABLE:
        return FieldSpec(field, field, "changed", _CHANGED_OPS)
    return None


# --- validation -------------------------------------------------------------------------


def validate_conditions(data: Any, *, allow_changes: bool = False,
                        extra_fields: dict[str, Callable[[dict], dict]] | None = None) -> dict:
    """Return the normalised condition set or raise ValidationError naming what is wrong.

    ``allow_changes``: accept ``changed.<field>`` (triggers, which see an event's changes).
    ``extra_fields``: field name -> validator for fields only one caller understands (the
    trigger-only ``message.kind``…); the caller evaluates them itself.
    """
    if data in (None, "", {}):
        return {"all": [], "any": []}
    if not isinstance(data, dict) or set(data) - {"all", "any"}:
        raise ValidationError(_('Conditions must be an object with "all" and/or "any" lists.'))
    result: dict[str, list] = {"all": [], "any": []}
    errors: list[str] = []
    for group in ("all", "any"):
        items = data.get(group, [])
        if not isinstance(items, list):
            errors.append(_('"%(group)s" must be a list.') % {"group": group})
            continue
        for index, item in enumerate(items):
            try:
                extra = (extra_fields or {}).get(item.get("field")) if isinstance(item, dict) else None
                result[group].append(extra(item) if extra else _validate_one(item, allow_changes=allow_changes))
            except ValidationError as exc:
                errors.extend(f"{group}[{index}]: {m}" for m in exc.messages)
    if len(result["all"]) + len(result["any"]) > MAX_CONDITIONS:
        errors.append(_("At most %(n)d conditions.") % {"n": MAX_CONDITIONS})
    if errors:
        raise ValidationError(errors)
    return result


def _validate_one(item: Any, *, allow_changes: bool) -> dict:
    if not isinstance(item, dict) or not {"field", "operator"} <= set(item) or set(item) - {"field", "operator",
                                                                                               "value"}:
        raise ValidationError(_('Each condition is {"field", "operator", "value"}.'))
    field, operator, value = item["field"], item["operator"], item.get("value")
    spec = _spec(field) if isinstance(field, str) else None
    if spec is None or (spec.kind == "changed" and not allow_changes):
        raise ValidationError(_("Unknown field: %(field)s") % {"field": field})
    if operator not in spec.operators:
        raise ValidationError(_("Operator %(op)s does not apply to %(field)s (use one of: %(ops)s).")
                              % {"op": operator, "field": field, "ops": ", ".join(spec.operators)})
    return {"field": field, "operator": operator, "value": _validate_value(spec, operator, value)}


def _validate_value(spec: FieldSpec, operator: str, value: Any) -> Any:
    if operator in ("is_set", "is_not_set", "is_true"):
        return None
    many = operator in ("in", "not_in", "contains_any", "contains_none")
    values = value if many else [value]
    if many and (not isinstance(value, list) or not value or len(value) > 200):
        raise ValidationError(_("%(field)s %(op)s needs a non-empty list.") % {"field": spec.name, "op": operator})
    checked = [_check_scalar(spec, operator, v) for v in values]
    return checked if many else checked[0]


def _check_scalar(spec: FieldSpec, operator: str, value: Any) -> Any:
    bad = ValidationError(_("Not a valid value for %(field)s: %(value)r") % {"field": spec.name, "value": value})
    if spec.kind == "choice":
        if value not in spec.choices:
            raise bad
        return value
    if spec.kind == "fk":
        if value == ME and spec.name == "assignee_id":
            return ME
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise bad
        return value
    if spec.kind in ("tags", "text", "changed"):
        if value is None and spec.kind == "changed":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or len(str(value)) > 250:
            raise bad
        return value.strip().lower() if spec.kind == "tags" and isinstance(value, str) else value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if spec.kind in ("hours_since", "minutes_until"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e7 < value < 1e7:
            raise bad
        return value
    if spec.kind == "custom":
        if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 250):
            raise bad
        return value
    raise bad


# --- compile to ORM ---------------------------------------------------------------------


def conditions_q(data: Any, *, user=None, now: dt.datetime | None = None) -> Q:
    """A ``Q`` for Ticket querysets. ``user`` resolves "me"; ``now`` anchors relative times."""
    data = validate_conditions(data)
    now = now or timezone.now()
    q = Q()
    for item in data["all"]:
        q &= _q_one(item, user=user, now=now)
    if data["any"]:
        any_q = Q(pk__in=[])
        for item in data["any"]:
            any_q |= _q_one(item, user=user, now=now)
        q &= any_q
    return q


def _resolve(value, user):
    if value == ME:
        return getattr(user, "pk", None) or -1  # nobody is "me" without a person
    return value


def _q_one(item: dict, *, user, now) -> Q:
    field, op, value = item["field"], item["operator"], item["value"]
    spec = _spec(field)
    if spec.kind == "changed":
        raise ValidationError(_("%(field)s only applies to triggers.") % {"field": field})
    if spec.kind == "tags":
        def has(tag):
            return Q(Exists(TicketTag.objects.filter(ticket=OuterRef("pk"), tag__name=tag)))
        if op == "contains":
            return has(value)
        if op == "not_contains":
            return ~has(value)
        combined = Q(pk__in=[])
        for tag in value:
            combined |= has(tag)
        return combined if op == "contains_any" else ~combined
    if spec.kind == "custom":
        column = "custom_fields__" + field[len(CUSTOM_PREFIX):]
    else:
        column = spec.column
    if spec.kind == "bool":
        if spec.name == "is_assigned":
            return Q(assignee_id__isnull=not value)
        return Q(**{column: value})
    if spec.kind == "hours_since":
        # hours since X > N  <=>  X < now - N hours
        edge = now - dt.timedelta(hours=value)
        lookup = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}[op]
        return Q(**{f"{column}__{lookup}": edge})
    if spec.kind == "minutes_until":
        edge = now + dt.timedelta(minutes=value)
        return Q(**{f"{column}__{op}": edge})
    if spec.name == "priority" and op in _NUMBER_OPS:
        rank = _PRIORITY_RANK[value]
        keep = [p for p, r in _PRIORITY_RANK.items() if _compare(r, op, rank)]
        return Q(priority__in=keep)
    # A custom field a ticket does not have "is not" anything and "does not contain" anything
    # (as an unassigned ticket's assignee "is not" Ada); SQL would say NULL, so say it.
    missing = Q(**{f"{column}__isnull": True}) if spec.kind == "custom" else Q(pk__in=[])
    if op == "is":
        return Q(**{column: _resolve(value, user)})
    if op == "is_not":
        return ~Q(**{column: _resolve(value, user)}) | missing
    if op == "in":
        return Q(**{f"{column}__in": [_resolve(v, user) for v in value]})
    if op == "not_in":
        return ~Q(**{f"{column}__in": [_resolve(v, user) for v in value]})
    if op == "is_set":
        return Q(**{f"{column}__isnull": False}) & ~Q(**{column: ""}) if spec.kind == "custom" \
            else Q(**{f"{column}__isnull": False})
    if op == "is_not_set":
        return Q(**{f"{column}__isnull": True}) | (Q(**{column: ""}) if spec.kind == "custom" else Q(pk__in=[]))
    if op == "contains":
        return Q(**{f"{column}__icontains": value})
    if op == "not_contains":
        return ~Q(**{f"{column}__icontains": value}) | missing
    if op == "starts_with":
        return Q(**{f"{column}__istartswith": value})
    if op in _NUMBER_OPS:
        return Q(**{f"{column}__{op}": value})
    raise ValidationError(_("Unsupported condition."))  # unreachable after validation


# --- evaluate in Python -----------------------------------------------------------------


def conditions_match(ticket, data: Any, *, tags: Iterable[str] | None = None, user=None,
                     now: dt.datetime | None = None, changes: dict | None = None) -> bool:
    """Evaluate on an instance with the same meaning as ``conditions_q``.

    ``tags``: the ticket's tag names (else read from ``ticket.tags``); ``changes``: the
    event's ``{field: (before, after)}`` for ``changed.<field>`` conditions.
    """
    data = validate_conditions(data, allow_changes=True)
    now = now or timezone.now()
    tag_names = None if tags is None else {t.lower() for t in tags}

    def tags_of():
        nonlocal tag_names
        if tag_names is None:
            tag_names = {t.name.lower() for t in ticket.tags.all()}
        return tag_names

    def check(item):
        return _match_one(ticket, item, tags_of=tags_of, user=user, now=now, changes=changes or {})

    if not all(check(item) for item in data["all"]):
        return False
    return not data["any"] or any(check(item) for item in data["any"])


def _compare(left, op: str, right) -> bool:
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
    except TypeError:
        return False


def _match_one(ticket, item: dict, *, tags_of, user, now, changes) -> bool:
    field, op, value = item["field"], item["operator"], item["value"]
    spec = _spec(field)
    if spec.kind == "changed":
        name = field[len(CHANGED_PREFIX):]
        if name not in changes:
            return False
        before, after = changes[name]
        return op == "is_true" or (op == "to" and after == value) or (op == "from" and before == value)
    if spec.kind == "tags":
        names = tags_of()
        if op == "contains":
            return value in names
        if op == "not_contains":
            return value not in names
        hit = any(v in names for v in value)
        return hit if op == "contains_any" else not hit
    if spec.kind == "custom":
        actual = (ticket.custom_fields or {}).get(field[len(CUSTOM_PREFIX):])
    elif spec.kind in ("hours_since", "minutes_until"):
        instant = getattr(ticket, spec.column)
        if instant is None:
            return False
        actual = ((now - instant).total_seconds() / 3600 if spec.kind == "hours_since"
                  else (instant - now).total_seconds() / 60)
        return _compare(actual, op, value)
    else:
        actual = getattr(ticket, spec.column)
    if spec.kind == "bool":
        return (actual is not None if spec.name == "is_assigned" else bool(actual)) == value
    if spec.name == "priority" and op in _NUMBER_OPS:
        return _compare(_PRIORITY_RANK.get(actual), op, _PRIORITY_RANK[value])
    resolved = _resolve(value, user) if not isinstance(value, list) else [_resolve(v, user) for v in value]
    if op == "is":
        return actual == resolved
    if op == "is_not":
        return actual != resolved
    if op == "in":
        return actual in resolved
    if op == "not_in":
        return actual not in resolved
    if op == "is_set":
        return actual not in (None, "")
    if op == "is_not_set":
        return actual in (None, "")
    if op in ("contains", "not_contains", "starts_with"):
        text, needle = str(actual or "").lower(), str(value).lower()
        if op == "starts_with":
            return text.startswith(needle)
        return (needle in text) == (op == "contains")
    if op in _NUMBER_OPS:
        return _compare(actual, op, value)
    return False
