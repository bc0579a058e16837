"""The field changes a macro (or a bulk update) may make, validated from an allowlist and
turned into one ``ticket_update`` call.

An action is ``{"field": <name>, "value": <value>}``; each field appears once:

- ``status``: open, pending, on_hold, solved (new and closed are not an agent's to set)
- ``priority``, ``type``: their choices
- ``assignee``: the user id of an assignable member (agent, admin, owner), ``"me"`` (the
  person applying it) or null (unassign)
- ``team``, ``contact_reason``: an id in the tenant, or null
- ``add_tags``, ``remove_tags``, ``set_tags``: lists of tag names, normalised as tickets do
  (``set_tags`` alone)
- ``custom_fields``: ``{key: value}`` for the tenant's active custom fields (merged)
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.people.models import Team
from helpdesk.tenancy.models import Membership, Tenant
from tickets.models import ContactReason, Priority, Status, TicketType
from tickets.productivity import access
from tickets.productivity.views import check_storable
from tickets.services.common import ASSIGNABLE_ROLES
from tickets.services.taxonomy import clean_custom_value, custom_field_definitions, normalize_tags

ME = "me"
ACTION_FIELDS: tuple[str, ...] = (
    "status", "priority", "type", "assignee", "team", "add_tags", "remove_tags", "set_tags", "custom_fields",
    "contact_reason",
)
SETTABLE_STATUSES: tuple[str, ...] = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)
MAX_ACTIONS = len(ACTION_FIELDS)
MAX_TAGS = 20


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 63


def _assignable(tenant: Tenant, user_id: int) -> bool:
    return Membership.objects.filter(tenant=tenant, user_id=user_id, is_active=True, role__in=ASSIGNABLE_ROLES,
                                     user__is_active=True).exists()


def _clean_tags(field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise _err(field, _("A list of at most %(n)d tag names.") % {"n": MAX_TAGS})
    try:
        return normalize_tags(value)
    except ValidationError as exc:
        raise _err(field, " ".join(exc.messages)) from None


def _clean_custom_fields(tenant: Tenant, value: Any) -> dict:
    """``{key: typed value}`` (None kept: applying it clears the field)."""
    if not isinstance(value, dict) or not value or len(value) > 100:
        raise _err("custom_fields", _("An object of custom field keys and values."))
    definitions = custom_field_definitions(tenant=tenant)
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        field = definitions.get(key) if isinstance(key, str) else None
        if field is None:
            raise _err("custom_fields", _("Unknown custom field: %(key)s") % {"key": key})
        try:
            cleaned[key] = clean_custom_value(field, item)
        except ValidationError as exc:
            raise _err("custom_fields", f"{key}: {' '.join(exc.messages)}") from None
    return cleaned


def _clean_value(tenant: Tenant, field: str, value: Any) -> Any:
    if field == "status":
        if value not in SETTABLE_STATUSES:
            raise _err(field, _("Status is one of: %(allowed)s.") % {"allowed": ", ".join(SETTABLE_STATUSES)})
        return value
    if field == "priority":
        if value not in Priority.values:
            raise _err(field, _("Priority is one of: %(allowed)s.") % {"allowed": ", ".join(Priority.values)})
        return value
    if field == "type":
        if value not in TicketType.values:
            raise _err(field, _("Type is one of: %(allowed)s.") % {"allowed": ", ".join(TicketType.values)})
        return value
    if field == "assignee":
        if value is None or value == ME:
            return value
        if not _is_id(value) or not _assignable(tenant, value):
            raise _err(field, _('Assignee is the id of an agent of this helpdesk, "me" or null.'))
        return value
    if field == "team":
        if value is None:
            return None
        if not _is_id(value) or not Team.objects.filter(tenant=tenant, pk=value).exists():
            raise _err(field, _("No such team."))
        return value
    if field == "contact_reason":
        if value is None:
            return None
        if not _is_id(value) or not ContactReason.objects.filter(tenant=tenant, pk=value, is_active=True).exists():
            raise _err(field, _("No such contact reason."))
        return value
    if field in ("add_tags", "remove_tags", "set_tags"):
        return _clean_tags(field, value)
    if field == "custom_fields":
        return _clean_custom_fields(tenant, value)
    raise _err(field, _("Unknown action."))  # unreachable: the field was checked


def clean_actions(value: Any, *, tenant: Tenant, error_key: str = "actions") -> list[dict]:
    """Validate a list of ``{"field", "value"}`` actions; ValidationError names the problem."""
    if value in (None, []):
        return []
    if not isinstance(value, list) or len(value) > MAX_ACTIONS:
        raise _err(error_key, _('A list of at most %(n)d {"field", "value"} actions.') % {"n": MAX_ACTIONS})
    result: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"field", "value"}:
            raise _err(error_key, _('Each action is {"field", "value"}.'))
        field = item["field"]
        if not isinstance(field, str) or field not in ACTION_FIELDS:
            raise _err(error_key, _("Unknown action field \"%(field)s\". Allowed: %(allowed)s.")
                       % {"field": field, "allowed": ", ".join(ACTION_FIELDS)})
        if field in seen:
            raise _err(error_key, _("Each action field may appear once (%(field)s).") % {"field": field})
        seen.add(field)
        try:
            cleaned = _clean_value(tenant, field, item["value"])
        except ValidationError as exc:
            raise ValidationError({error_key: [f"{field}: {m}" for m in exc.messages]}) from None
        result.append({"field": field, "value": cleaned})
    check_storable(result, field=error_key)
    if "set_tags" in seen and seen & {"add_tags", "remove_tags"}:
        raise _err(error_key, _("Use set_tags alone, or add_tags/remove_tags."))
    return result


# A bulk update names its changes as ``PATCH /api/v1/tickets/{id}/`` does.
CHANGE_FIELDS: dict[str, str] = {
    "status": "status", "priority": "priority", "type": "type", "assignee_id": "assignee", "team_id": "team",
    "contact_reason_id": "contact_reason", "tags": "set_tags", "add_tags": "add_tags",
    "remove_tags": "remove_tags", "custom_fields": "custom_fields",
}


def clean_changes(value: Any, *, tenant: Tenant) -> list[dict]:
    """A bulk update's ``{"status": ..., "assignee_id": "me", "add_tags": [...]}`` (the
    ticket PATCH names) as validated actions."""
    if not isinstance(value, dict) or not value:
        raise _err("changes", _("Name at least one change, e.g. {\"status\": \"solved\"}."))
    unknown = [str(k) for k in value if k not in CHANGE_FIELDS]
    if unknown:
        raise _err("changes", _("Unknown changes: %(unknown)s. Allowed: %(allowed)s.")
                   % {"unknown": ", ".join(unknown), "allowed": ", ".join(CHANGE_FIELDS)})
    actions = [{"field": CHANGE_FIELDS[k], "value": v} for k, v in value.items()]
    try:
        return clean_actions(actions, tenant=tenant, error_key="changes")
    except ValidationError as exc:
        names = {action: change for change, action in CHANGE_FIELDS.items()}
        messages = []
        for message in exc.messages:
            field, sep, rest = message.partition(": ")
            messages.append(f"{names[field]}: {rest}" if sep and field in names else message)
        raise ValidationError({"changes": messages}) from None


def actions_to_fields(actions: list[dict], *, tenant: Tenant, actor: Any) -> dict[str, Any]:
    """``ticket_update`` keyword arguments for validated ``actions``, with ids resolved to
    rows of ``tenant`` (looked up again: an agent may have left or a team been removed
    since the macro was saved)."""
    from django.contrib.auth import get_user_model

    fields: dict[str, Any] = {}
    for action in actions:
        field, value = action["field"], action["value"]
        if field == "assignee":
            if value == ME:
                user = access.person(actor)
                if user is None:
                    raise _err("assignee", _('"me" needs a person; an API key cannot be assigned tickets.'))
                value = user.pk
            if value is None:
                fields["assignee"] = None
                continue
            if not _assignable(tenant, value):
                raise _err("assignee", _("The assignee is no longer an agent of this helpdesk."))
            fields["assignee"] = get_user_model().objects.get(pk=value)
        elif field == "team":
            team = None if value is None else Team.objects.filter(tenant=tenant, pk=value).first()
            if value is not None and team is None:
                raise _err("team", _("The team no longer exists."))
            fields["team"] = team
        elif field == "contact_reason":
            reason = None if value is None else ContactReason.objects.filter(tenant=tenant, pk=value).first()
            if value is not None and reason is None:
                raise _err("contact_reason", _("The contact reason no longer exists."))
            fields["contact_reason"] = reason
        elif field == "set_tags":
            fields["tags"] = list(value)
        else:
            fields[field] = value
    return fields
