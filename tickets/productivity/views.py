"""Saved views: services (create/update/delete) and selectors (which views, their tickets,
their counts).

A view is conditions (``tickets.conditions``), columns and a sort, all from allowlists.
Its ticket list is paged by key ("after" the last row's sort values and id), never by
offset, and ordered so the ticket indexes serve it: the default sort
``updated_at desc, id desc`` follows ``(tenant_id, status, -updated_at, -id)`` and
``(tenant_id, -updated_at, -id)``; ``sla_next_due_at asc`` follows the partial index
``(tenant_id, sla_next_due_at)``. Side-panel counts are capped (``99+``) with a LIMIT-ed
count so a busy tenant is never counted in full on every page.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.models import Tenant
from tickets.conditions import conditions_q, validate_conditions
from tickets.models import Priority, SavedView, Status, Ticket
from tickets.productivity import access
from tickets.selectors import with_row_data

# --- allowlists -------------------------------------------------------------------------

COLUMNS: tuple[str, ...] = (
    "number", "subject", "requester", "status", "priority", "type", "assignee", "team", "tags",
    "updated_at", "created_at", "sla_next_due_at", "organization", "channel",
)
DEFAULT_COLUMNS: list[str] = ["number", "subject", "requester", "status", "priority", "assignee", "updated_at"]
MAX_SORT_KEYS = 3
DIRECTIONS = ("asc", "desc")

_PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
_STATUS_ORDER = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED]


@dataclass(frozen=True)
class SortField:
    name: str
    kind: str  # datetime | int
    nullable: bool = False
    # The queryset name ordered on: the column, or an annotation added by ``_annotate``.
    expr: str = ""

    @property
    def key(self) -> str:
        return self.expr or self.name


SORT_FIELDS: dict[str, SortField] = {
    f.name: f for f in (
        SortField("updated_at", "datetime"),
        SortField("created_at", "datetime"),
        SortField("number", "int"),
        SortField("sla_next_due_at", "datetime", nullable=True),
        SortField("solved_at", "datetime", nullable=True),
        SortField("last_activity_at", "datetime", nullable=True),
        # By rank, not alphabetically: low < normal < high < urgent; new < open < ... < closed.
        SortField("priority", "int", expr="sort_priority_rank"),
        SortField("status", "int", expr="sort_status_rank"),
    )
}
DEFAULT_SORT: list[dict] = [{"field": "updated_at", "direction": "desc"}]
COUNT_CAP = 99
MAX_PAGE_SIZE = 200


# --- validation (pure) ------------------------------------------------------------------


def clean_columns(value: Any) -> list[str]:
    if value in (None, []):
        return list(DEFAULT_COLUMNS)
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ValidationError({"columns": [_("Columns must be a list of column names.")]})
    unknown = [c for c in value if c not in COLUMNS]
    if unknown:
        raise ValidationError({"columns": [_("Unknown columns: %(unknown)s. Allowed: %(allowed)s.")
                                           % {"unknown": ", ".join(unknown), "allowed": ", ".join(COLUMNS)}]})
    if len(set(value)) != len(value):
        raise ValidationError({"columns": [_("Each column may appear once.")]})
    return list(value)


def clean_sort(value: Any) -> list[dict]:
    if value in (None, []):
        return [dict(item) for item in DEFAULT_SORT]
    if not isinstance(value, list) or len(value) > MAX_SORT_KEYS:
        raise ValidationError({"sort": [_("Sort must be a list of at most %(n)d {\"field\", \"direction\"} items.")
                                        % {"n": MAX_SORT_KEYS}]})
    result, seen = [], set()
    for item in value:
        if not isinstance(item, dict) or set(item) - {"field", "direction"} or "field" not in item:
            raise ValidationError({"sort": [_('Each sort item is {"field", "direction"}.')]})
        field, direction = item["field"], item.get("direction", "asc")
        if not isinstance(field, str) or field not in SORT_FIELDS:
            raise ValidationError({"sort": [_("Cannot sort by %(field)s. Allowed: %(allowed)s.")
                                            % {"field": field, "allowed": ", ".join(SORT_FIELDS)}]})
        if direction not in DIRECTIONS:
            raise ValidationError({"sort": [_('Sort direction is "asc" or "desc".')]})
        if field in seen:
            raise ValidationError({"sort": [_("Each sort field may appear once.")]})
        seen.add(field)
        result.append({"field": field, "direction": direction})
    return result


def check_storable(value: Any, *, field: str) -> None:
    """Refuse strings PostgreSQL cannot store (NUL, lone surrogates) anywhere in ``value``:
    the API's parser already does, this covers every other caller (console forms, imports)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError({field: [_("The text contains characters that cannot be stored.")]}) from None
            if "\x00" in item:
                raise ValidationError({field: [_("The text contains characters that cannot be stored.")]})


def clean_conditions(value: Any) -> dict:
    try:
        cleaned = validate_conditions(value)
    except ValidationError as exc:
        raise ValidationError({"conditions": exc.messages}) from None
    check_storable(cleaned, field="conditions")
    return cleaned


def clean_position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
        raise ValidationError({"position": [_("Position is a whole number from 0 to 32767.")]})
    return value


def clean_is_active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"is_active": [_("Must be true or false.")]})
    return value


def clean_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    check_storable(name, field="name")
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(name) > 120:
        raise ValidationError({"name": [_("At most 120 characters.")]})
    return name


# --- services ---------------------------------------------------------------------------


def _snapshot(view: SavedView) -> dict:
    return {"name": view.name, "owner_id": view.owner_id, "conditions": view.conditions, "columns": view.columns,
            "sort": view.sort, "position": view.position, "is_active": view.is_active}


@transaction.atomic
def saved_view_create(
    *,
    tenant: Tenant,
    actor: Any,
    name: str,
    conditions: Any = None,
    columns: Any = None,
    sort: Any = None,
    personal: bool = True,
    position: int = 0,
    is_active: bool = True,
    key: str = "",
) -> SavedView:
    """Create a personal view of ``actor`` or (``personal=False``) a shared one.

    Raises ValidationError (field -> messages) for bad input and PermissionDenied when a
    non-admin creates a shared view.
    """
    owner = access.person(actor) if personal else None
    if personal and owner is None:
        raise ValidationError({"personal": [_("Only a person can own a personal view; create a shared one.")]})
    access.check_can_change(tenant=tenant, actor=actor, owner_id=owner.pk if owner else None)
    view = SavedView(
        tenant=tenant, owner=owner, name=clean_name(name), conditions=clean_conditions(conditions),
        columns=clean_columns(columns), sort=clean_sort(sort), position=clean_position(position),
        is_active=clean_is_active(is_active), key=key,
    )
    view.save()
    audit_record(tenant=tenant, action="saved_view.created", actor=actor, obj=view, after=_snapshot(view))
    return view


_UPDATABLE = {"name": clean_name, "conditions": clean_conditions, "columns": clean_columns, "sort": clean_sort,
              "position": clean_position, "is_active": clean_is_active}


@transaction.atomic
def saved_view_update(*, view: SavedView, actor: Any, **changes: Any) -> SavedView:
    """Change ``name``, ``conditions``, ``columns``, ``sort``, ``position`` or ``is_active``."""
    unknown = set(changes) - set(_UPDATABLE)
    if unknown:
        raise TypeError(f"saved_view_update() got unexpected fields: {', '.join(sorted(unknown))}")
    tenant = view.tenant
    access.check_can_change(tenant=tenant, actor=actor, owner_id=view.owner_id)
    before = _snapshot(view)
    for field, value in changes.items():
        setattr(view, field, _UPDATABLE[field](value))
    view.save()
    audit_record(tenant=tenant, action="saved_view.updated", actor=actor, obj=view, before=before,
                 after=_snapshot(view))
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: Any) -> None:
    tenant = view.tenant
    access.check_can_change(tenant=tenant, actor=actor, owner_id=view.owner_id)
    before = _snapshot(view)
    audit_record(tenant=tenant, action="saved_view.deleted", actor=actor, obj=view, before=before)
    view.delete()


# --- selectors --------------------------------------------------------------------------


def saved_view_list(*, user: Any, include_inactive: bool = False) -> QuerySet[SavedView]:
    """The views ``user`` sees (shared ones, then their own), in panel order. Tenant from context."""
    queryset = SavedView.objects.filter(access.visible_q(user))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("position", "name", "id")


def _annotate(queryset: QuerySet, sort: list[dict]) -> QuerySet:
    fields = {item["field"] for item in sort}
    if "priority" in fields:
        queryset = queryset.annotate(sort_priority_rank=Case(
            *[When(priority=p, then=Value(i)) for i, p in enumerate(_PRIORITY_ORDER)],
            default=Value(len(_PRIORITY_ORDER)), output_field=IntegerField()))
    if "status" in fields:
        queryset = queryset.annotate(sort_status_rank=Case(
            *[When(status=s, then=Value(i)) for i, s in enumerate(_STATUS_ORDER)],
            default=Value(len(_STATUS_ORDER)), output_field=IntegerField()))
    return queryset


def _order_by(sort: list[dict]) -> list:
    ordering = []
    for item in sort:
        spec = SORT_FIELDS[item["field"]]
        expr = F(spec.key)
        if spec.nullable:
            # Rows without a value (no SLA running, never solved) come last either way.
            ordering.append(expr.asc(nulls_last=True) if item["direction"] == "asc" else expr.desc(nulls_last=True))
        else:
            # No NULLS clause: the plain order is the one the btree indexes are built in.
            ordering.append(expr.asc() if item["direction"] == "asc" else expr.desc())
    ordering.append("id" if _tiebreak_asc(sort) else "-id")
    return ordering


def _tiebreak_asc(sort: list[dict]) -> bool:
    return sort[0]["direction"] == "asc"


def ticket_row_queryset() -> QuerySet[Ticket]:
    """Tickets with what every view column (and the API's ticket output) needs, fetched in
    a constant number of queries: tickets-core's row data."""
    return with_row_data(Ticket.objects.all())


# --- keyset cursor ----------------------------------------------------------------------


class InvalidCursor(ValidationError):
    pass


def _signature(sort: list[dict]) -> str:
    return ",".join(f"{item['field']}:{item['direction']}" for item in sort)


def _dump(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _load(spec: SortField, value: Any) -> Any:
    if value is None:
        if not spec.nullable:
            raise ValueError("null")
        return None
    if spec.kind == "datetime":
        if not isinstance(value, str):
            raise ValueError("datetime")
        parsed = parse_datetime(value)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError("datetime")
        return parsed
    if isinstance(value, bool) or not isinstance(value, int) or not -(2 ** 63) < value < 2 ** 63:
        raise ValueError("int")
    return value


def encode_cursor(*, sort: list[dict], ticket: Ticket) -> str:
    values = [_dump(getattr(ticket, SORT_FIELDS[item["field"]].key)) for item in sort]
    raw = json.dumps({"s": _signature(sort), "v": values, "i": ticket.pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(*, sort: list[dict], cursor: str) -> tuple[list[Any], int]:
    """The sort values and id a cursor points after. Raises InvalidCursor for anything we
    did not issue for this sort (a view whose sort changed meanwhile starts over is the
    client's call, not a guess of ours)."""
    invalid = InvalidCursor({"after": [_("Invalid cursor.")]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        if not isinstance(data, dict) or data.get("s") != _signature(sort):
            raise invalid
        raw_values, pk = data.get("v"), data.get("i")
        if not isinstance(raw_values, list) or len(raw_values) != len(sort):
            raise invalid
        if isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < 2 ** 63:
            raise invalid
        values = [_load(SORT_FIELDS[item["field"]], v) for item, v in zip(sort, raw_values)]
    except InvalidCursor:
        raise
    except (ValueError, TypeError, UnicodeError, binascii.Error, OverflowError):
        raise invalid from None
    return values, pk


def _after_q(sort: list[dict], values: list[Any], pk: int) -> Q:
    """Rows strictly after (values, pk) in the order ``_order_by(sort)`` gives."""
    result = Q(pk__in=[])
    equal = Q()
    for item, value in zip(sort, values):
        spec = SORT_FIELDS[item["field"]]
        name = spec.key
        op = "gt" if item["direction"] == "asc" else "lt"
        if value is None:  # nulls come last: nothing non-null is after a null
            strictly_after = Q(pk__in=[])
            same = Q(**{f"{name}__isnull": True})
        else:
            strictly_after = Q(**{f"{name}__{op}": value})
            if spec.nullable:
                strictly_after |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        result |= equal & strictly_after
        equal &= same
    result |= equal & Q(**{"pk__gt" if _tiebreak_asc(sort) else "pk__lt": pk})
    first = SORT_FIELDS[sort[0]["field"]]
    if not first.nullable and values[0] is not None:
        # A plain range bound on the leading key, so the planner scans the index from there.
        bound = "gte" if sort[0]["direction"] == "asc" else "lte"
        result &= Q(**{f"{first.key}__{bound}": values[0]})
    return result


# --- the ticket list of a view ----------------------------------------------------------


def view_sort(view: SavedView) -> list[dict]:
    try:
        return clean_sort(view.sort)
    except ValidationError:
        return [dict(item) for item in DEFAULT_SORT]


def view_tickets(*, view: SavedView, user: Any, after: str | None = None,
                 now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """The tickets of ``view`` as ``user`` sees them ("me" is ``user``), ordered by the
    view's sort with ``id`` as the tiebreak, starting after the ``after`` cursor.

    Slice it (``[:limit + 1]``) or use ``view_ticket_page``. Raises InvalidCursor for a
    cursor this view did not issue.
    """
    sort = view_sort(view)
    queryset = _annotate(ticket_row_queryset(), sort).filter(conditions_q(view.conditions, user=user, now=now))
    if after:
        values, pk = decode_cursor(sort=sort, cursor=after)
        queryset = queryset.filter(_after_q(sort, values, pk))
    return queryset.order_by(*_order_by(sort))


@dataclass
class TicketPage:
    tickets: list[Ticket]
    next_after: str | None


def view_ticket_page(*, view: SavedView, user: Any, after: str | None = None, limit: int = 50,
                     now: dt.datetime | None = None, queryset_hook=None) -> TicketPage:
    """One page: ``limit`` tickets (1..200) and the cursor of the next page, if any.

    ``queryset_hook(queryset) -> queryset`` may add prefetches an output serializer needs.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    queryset = view_tickets(view=view, user=user, after=after, now=now)
    if queryset_hook is not None:
        queryset = queryset_hook(queryset)
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_after = encode_cursor(sort=view_sort(view), ticket=rows[-1]) if has_more else None
    return TicketPage(tickets=rows, next_after=next_after)


@dataclass(frozen=True)
class ViewCount:
    count: int
    capped: bool

    @property
    def display(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


def view_counts(*, views: Iterable[SavedView], user: Any, cap: int = COUNT_CAP,
                now: dt.datetime | None = None) -> dict[int, ViewCount]:
    """Ticket counts for the side panel, one LIMIT-ed count per view: past ``cap`` the
    answer is "99+" and the database stops counting at ``cap + 1`` rows."""
    result: dict[int, ViewCount] = {}
    for view in views:
        rows = (Ticket.objects.filter(conditions_q(view.conditions, user=user, now=now))
                .order_by().values("pk")[: cap + 1])
        counted = rows.count()
        result[view.pk] = ViewCount(count=min(counted, cap), capped=counted > cap)
    return result
