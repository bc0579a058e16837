"""Bulk updates: the same field changes on up to 100 tickets, each through ``ticket_update``.

Every ticket gets its own transaction (and so its own system entry, events, hooks and
audit, exactly as if it had been changed alone): one ticket refusing a change (closed,
or a rule of the lifecycle) does not undo the others, and no lock is held across the
whole batch. Ids are looked up inside the tenant: another tenant's id is reported as
``not_found``, like an id that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from tickets.models import Ticket
from tickets.productivity.actions import actions_to_fields, clean_changes

MAX_BULK = 100


class BulkOutcome:
    UPDATED = "updated"
    NOT_FOUND = "not_found"
    INVALID = "invalid"


@dataclass
class BulkResult:
    id: Any
    outcome: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    ticket: Ticket | None = None


def clean_ticket_ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ValidationError({"ids": [_("A non-empty list of ticket ids.")]})
    if len(value) > MAX_BULK:
        raise ValidationError({"ids": [_("At most %(n)d tickets per call.") % {"n": MAX_BULK}]})
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2 ** 63:
            raise ValidationError({"ids": [_("Ticket ids are positive whole numbers.")]})
        if item not in ids:
            ids.append(item)
    return ids


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in messages] for key, messages in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def tickets_bulk_update(
    *,
    tenant: Tenant,
    actor: Any,
    ticket_ids: list[int],
    changes: dict[str, Any],
    via: str,
) -> list[BulkResult]:
    """Apply ``changes`` (named as in a ticket PATCH: status, priority, type, assignee_id
    (an id, "me" or null), team_id, contact_reason_id, tags (the whole set), add_tags,
    remove_tags, custom_fields) to each of ``ticket_ids`` of ``tenant``; one result per
    distinct id, in the order given.

    Raises ValidationError before touching anything when the ids or the changes are
    malformed. Per ticket, a refused change is reported as ``invalid`` with its errors.
    """
    from tickets.services.tickets import ticket_update

    ids = clean_ticket_ids(ticket_ids)
    actions = clean_changes(changes, tenant=tenant)
    # Resolve ids and "me" once for the batch (ValidationError here stops the whole call).
    fields = actions_to_fields(actions, tenant=tenant, actor=actor)
    tickets = {t.pk: t for t in Ticket.objects.filter(tenant=tenant, pk__in=ids).select_related("tenant")}
    results: list[BulkResult] = []
    for pk in ids:
        ticket = tickets.get(pk)
        if ticket is None:
            results.append(BulkResult(id=pk, outcome=BulkOutcome.NOT_FOUND))
            continue
        try:
            # Its own transaction: locks the row, checks the lifecycle, records the change.
            ticket = ticket_update(ticket=ticket, actor=actor, via=via, **fields)
        except ValidationError as exc:
            results.append(BulkResult(id=pk, outcome=BulkOutcome.INVALID, errors=_messages(exc)))
        except PermissionDenied as exc:
            results.append(BulkResult(id=pk, outcome=BulkOutcome.INVALID,
                                      errors={"non_field_errors": [str(exc) or _("Not allowed.")]}))
        else:
            results.append(BulkResult(id=pk, outcome=BulkOutcome.UPDATED, ticket=ticket))
    return results
