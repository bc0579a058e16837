"""Tags, typed custom fields and the contact-reason taxonomy: definitions and validation."""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.models import ContactReason, CustomField, CustomFieldKind, Tag, TicketTag
from tickets.services.common import actor_label, require_capability
from helpdesk.tenancy.roles import Cap, Scope

TAG_MAX_LENGTH = 80
MAX_TAGS_PER_TICKET = 50
TEXT_MAX_LENGTH = 10_000
MAX_OPTIONS = 500
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG_BAD = re.compile(r"[\s,]+")


# --- tags --------------------------------------------------------------------------------

def normalize_tag(name: Any) -> str:
    """Tags are lower-case words: spaces and commas become hyphens (``"VIP customer"`` → ``vip-customer``)."""
    if not isinstance(name, str):
        raise ValidationError({"tags": [_("A tag is a string.")]})
    # Turkish dotted capital I lower-cases to "i" + a combining dot otherwise.
    value = _TAG_BAD.sub("-", name.replace("İ", "i").strip().lower()).strip("-")
    if not value:
        raise ValidationError({"tags": [_("A tag cannot be empty.")]})
    if len(value) > TAG_MAX_LENGTH:
        raise ValidationError({"tags": [_("A tag has at most %(max)d characters.") % {"max": TAG_MAX_LENGTH}]})
    if any(not ch.isprintable() for ch in value):
        raise ValidationError({"tags": [_("A tag cannot contain control characters.")]})
    return value


def normalize_tags(names: Iterable[Any]) -> list[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise ValidationError({"tags": [_("Tags are a list of strings.")]})
    out: list[str] = []
    for name in names:
        tag = normalize_tag(name)
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS_PER_TICKET:
        raise ValidationError({"tags": [_("A ticket has at most %(max)d tags.") % {"max": MAX_TAGS_PER_TICKET}]})
    return out


def tags_ensure(*, tenant: Tenant, names: Iterable[str]) -> dict[str, Tag]:
    """The Tag rows for ``names`` (normalised already), created when missing."""
    names = list(names)
    if not names:
        return {}
    found = {t.name: t for t in Tag.objects.filter(tenant=tenant, name__in=names)}
    for name in names:
        if name not in found:
            try:
                with transaction.atomic():
                    found[name] = Tag.objects.create(tenant=tenant, name=name)
            except IntegrityError:  # created concurrently
                found[name] = Tag.objects.get(tenant=tenant, name=name)
    return found


@transaction.atomic
def tag_create(*, tenant: Tenant, name: str, actor=None) -> Tag:
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via="system")
        name = normalize_tag(name)
        if Tag.objects.filter(tenant=tenant, name=name).exists():
            raise ValidationError({"name": [_("A tag with this name exists already.")]})
        tag = Tag.objects.create(tenant=tenant, name=name)
        audit_record(tenant=tenant, action="tag.created", actor=actor, actor_label=actor_label(actor), obj=tag,
                     after={"name": name})
    return tag


@transaction.atomic
def tag_rename(*, tag: Tag, name: str, actor=None) -> Tag:
    """Rename a tag everywhere it is used (tickets point at the row, not the text)."""
    tenant = tag.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        name = normalize_tag(name)
        if name == tag.name:
            return tag
        if Tag.objects.filter(tenant=tenant, name=name).exclude(pk=tag.pk).exists():
            raise ValidationError({"name": [_("A tag with this name exists already.")]})
        before = tag.name
        tag.name = name
        tag.save(update_fields=["name"])
        audit_record(tenant=tenant, action="tag.renamed", actor=actor, actor_label=actor_label(actor), obj=tag,
                     before={"name": before}, after={"name": name})
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor=None) -> None:
    """Remove the tag from every ticket and delete it (no system entry on each ticket)."""
    tenant = tag.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        used = TicketTag.objects.filter(tag=tag).count()
        audit_record(tenant=tenant, action="tag.deleted", actor=actor, actor_label=actor_label(actor), obj=tag,
                     before={"name": tag.name, "tickets": used})
        tag.delete()


# --- custom fields -----------------------------------------------------------------------

def _field_error(key: str, message: str) -> ValidationError:
    return ValidationError({f"custom_fields.{key}": [message]})


def _option_values(field: CustomField) -> list[str]:
    return [str(o.get("value")) for o in field.options if isinstance(o, Mapping)]


def clean_custom_value(field: CustomField, value: Any) -> Any:
    """``value`` typed for ``field.kind`` (JSON-friendly), or a ValidationError naming the field.

    ``None`` (and "" for text) means "no value" and is returned as None.
    """
    key, kind = field.key, field.kind
    if value is None:
        return None
    if kind == CustomFieldKind.TEXT:
        if not isinstance(value, str):
            raise _field_error(key, _("Enter text."))
        value = value.strip()
        if len(value) > TEXT_MAX_LENGTH:
            raise _field_error(key, _("Use at most %(max)d characters.") % {"max": TEXT_MAX_LENGTH})
        return value or None
    if kind == CustomFieldKind.NUMBER:
        if isinstance(value, bool):
            raise _field_error(key, _("Enter a number."))
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise _field_error(key, _("Enter a number.")) from None
            if not number.is_finite():
                raise _field_error(key, _("Enter a number."))
            value = int(number) if number == number.to_integral_value() else float(number)
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise _field_error(key, _("Enter a number."))
        if abs(value) > 1e15:
            raise _field_error(key, _("The number is too large."))
        return value
    if kind == CustomFieldKind.DATE:
        if not isinstance(value, str):
            raise _field_error(key, _("Enter a date as YYYY-MM-DD."))
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise _field_error(key, _("Enter a date as YYYY-MM-DD.")) from None
    if kind == CustomFieldKind.CHECKBOX:
        if not isinstance(value, bool):
            raise _field_error(key, _("Enter true or false."))
        return value
    if kind == CustomFieldKind.DROPDOWN:
        if not isinstance(value, str) or value not in _option_values(field):
            raise _field_error(key, _("Choose one of: %(options)s.") % {"options": ", ".join(_option_values(field))})
        return value
    if kind == CustomFieldKind.MULTI_SELECT:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _field_error(key, _("Enter a list of option values."))
        allowed = _option_values(field)
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _field_error(key, _("Unknown options: %(unknown)s. Choose from: %(options)s.") % {
                "unknown": ", ".join(unknown), "options": ", ".join(allowed)})
        cleaned = [v for v in allowed if v in value]  # option order, no repeats
        return cleaned or None
    raise _field_error(key, _("This field cannot be set."))


def custom_field_definitions(*, tenant: Tenant) -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.filter(tenant=tenant, is_active=True)}


def clean_custom_fields(*, tenant: Tenant, values: Any, current: Mapping[str, Any] | None = None,
                        definitions: Mapping[str, CustomField] | None = None) -> dict[str, Any]:
    """``current`` merged with ``values`` (a None value removes the key), each typed and
    checked against the tenant's active definitions. Unknown keys are errors."""
    if values is None:
        return dict(current or {})
    if not isinstance(values, Mapping):
        raise ValidationError({"custom_fields": [_("Custom fields are an object of key: value.")]})
    if not values:
        return dict(current or {})  # nothing to check: no need to read the definitions
    definitions = definitions if definitions is not None else custom_field_definitions(tenant=tenant)
    merged = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = definitions.get(key) if isinstance(key, str) else None
        if field is None:
            errors[f"custom_fields.{key}"] = [_("Unknown custom field.")]
            continue
        try:
            cleaned = clean_custom_value(field, value)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
            continue
        if cleaned is None:
            merged.pop(key, None)
        else:
            merged[key] = cleaned
    if errors:
        raise ValidationError(errors)
    return merged


def missing_required_fields(*, tenant: Tenant, values: Mapping[str, Any]) -> list[CustomField]:
    return [f for f in CustomField.objects.filter(tenant=tenant, is_active=True, required=True)
            if values.get(f.key) in (None, "", [])]


def _clean_options(kind: str, options: Any) -> list[dict]:
    if kind not in (CustomFieldKind.DROPDOWN, CustomFieldKind.MULTI_SELECT):
        if options:
            raise ValidationError({"options": [_("Only drop-down and multi-select fields have options.")]})
        return []
    if not isinstance(options, list) or not options:
        raise ValidationError({"options": [_("List at least one option.")]})
    if len(options) > MAX_OPTIONS:
        raise ValidationError({"options": [_("Use at most %(max)d options.") % {"max": MAX_OPTIONS}]})
    cleaned, seen = [], set()
    for index, option in enumerate(options):
        if isinstance(option, str):
            option = {"value": option, "label": option}
        if not isinstance(option, Mapping):
            raise ValidationError({f"options.{index}": [_("An option is {\"value\", \"label\"}.")]})
        value, label = option.get("value"), option.get("label", option.get("value"))
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise ValidationError({f"options.{index}.value": [_("Enter a value of 1-100 characters.")]})
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise ValidationError({f"options.{index}.label": [_("Enter a label of 1-200 characters.")]})
        if value in seen:
            raise ValidationError({f"options.{index}.value": [_("Option values must be unique.")]})
        seen.add(value)
        labels = option.get("labels") or {}
        if not isinstance(labels, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                        for k, v in labels.items()):
            raise ValidationError({f"options.{index}.labels": [_("Translations are {\"tr\": \"…\"}.")]})
        cleaned.append({"value": value.strip(), "label": label.strip(), "labels": dict(labels)})
    return cleaned


def _clean_translations(value: Any) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and len(v) <= 120
                                                 for k, v in value.items()):
        raise ValidationError({"label_translations": [_("Translations are {\"tr\": \"…\"} (120 characters at most).")]})
    return dict(value)


@transaction.atomic
def custom_field_create(*, tenant: Tenant, key: str, label: str, kind: str, options: Any = None,
                        required: bool = False, customer_visible: bool = False, position: int = 0,
                        label_translations: Any = None, actor=None) -> CustomField:
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise ValidationError({"key": [_("Use a lower-case letter, then letters, digits or underscores "
                                             "(64 at most).")]})
        if kind not in CustomFieldKind.values:
            raise ValidationError({"kind": [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(CustomFieldKind.values)}]})
        if CustomField.objects.filter(tenant=tenant, key=key).exists():
            raise ValidationError({"key": [_("A custom field with this key exists already.")]})
        field = CustomField(tenant=tenant, key=key, label=(label or "").strip(), kind=kind,
                            options=_clean_options(kind, options), required=bool(required),
                            customer_visible=bool(customer_visible), position=position,
                            label_translations=_clean_translations(label_translations))
        if not field.label:
            raise ValidationError({"label": [_("Enter a label.")]})
        field.full_clean(exclude=["tenant"])
        field.save()
        audit_record(tenant=tenant, action="custom_field.created", actor=actor, actor_label=actor_label(actor),
                     obj=field, after={"key": key, "kind": kind, "required": field.required})
    return field


@transaction.atomic
def custom_field_update(*, field: CustomField, actor=None, **changes: Any) -> CustomField:
    """Change label, options, required, customer_visible, position, is_active, label_translations.

    ``key`` and ``kind`` are fixed once created (values on tickets depend on them).
    """
    tenant = field.tenant
    allowed = {"label", "options", "required", "customer_visible", "position", "is_active", "label_translations"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        before = {}
        for name, value in changes.items():
            if name == "options":
                value = _clean_options(field.kind, value)
            elif name == "label":
                value = (value or "").strip()
                if not value:
                    raise ValidationError({"label": [_("Enter a label.")]})
            elif name == "label_translations":
                value = _clean_translations(value)
            elif name in ("required", "customer_visible", "is_active"):
                value = bool(value)
            before[name] = getattr(field, name)
            setattr(field, name, value)
        field.full_clean(exclude=["tenant"])
        field.save()
        audit_record(tenant=tenant, action="custom_field.updated", actor=actor, actor_label=actor_label(actor),
                     obj=field, before=before, after={k: getattr(field, k) for k in before})
    return field


@transaction.atomic
def custom_field_delete(*, field: CustomField, actor=None) -> None:
    """Delete the definition; values already on tickets stay in their JSON (history)."""
    tenant = field.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        audit_record(tenant=tenant, action="custom_field.deleted", actor=actor, actor_label=actor_label(actor),
                     obj=field, before={"key": field.key, "kind": field.kind})
        field.delete()


# --- contact reasons ---------------------------------------------------------------------

def validate_contact_reason(*, tenant: Tenant, reason: ContactReason | None) -> ContactReason | None:
    """A reason of this tenant, active, top-level or a leaf (the taxonomy has two levels, so
    every reason is one or the other; a top-level reason with children stands for "other")."""
    if reason is None:
        return None
    if reason.tenant_id != tenant.pk or not reason.is_active:
        raise ValidationError({"contact_reason": [_("Unknown contact reason.")]})
    return reason


def _clean_reason_parent(*, tenant: Tenant, parent: ContactReason | None, reason: ContactReason | None = None):
    if parent is None:
        return None
    if parent.tenant_id != tenant.pk:
        raise ValidationError({"parent": [_("Unknown contact reason.")]})
    if parent.parent_id is not None:
        raise ValidationError({"parent": [_("Contact reasons have two levels: the parent must be top-level.")]})
    if reason is not None and (parent.pk == reason.pk or reason.children.exists()):
        raise ValidationError({"parent": [_("A reason with sub-reasons cannot itself become a sub-reason.")]})
    return parent


@transaction.atomic
def contact_reason_create(*, tenant: Tenant, name: str, parent: ContactReason | None = None, position: int = 0,
                          actor=None) -> ContactReason:
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise ValidationError({"name": [_("Enter a name of 1-120 characters.")]})
        parent = _clean_reason_parent(tenant=tenant, parent=parent)
        if ContactReason.objects.filter(tenant=tenant, parent=parent, name=name).exists():
            raise ValidationError({"name": [_("This reason exists already at this level.")]})
        reason = ContactReason.objects.create(tenant=tenant, name=name, parent=parent, position=position)
        audit_record(tenant=tenant, action="contact_reason.created", actor=actor, actor_label=actor_label(actor),
                     obj=reason, after={"name": name, "parent": parent.pk if parent else None})
    return reason


_UNSET = object()


@transaction.atomic
def contact_reason_update(*, reason: ContactReason, name: str | None = None, parent: Any = _UNSET,
                          position: int | None = None, is_active: bool | None = None,
                          actor=None) -> ContactReason:
    tenant = reason.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        before = {"name": reason.name, "parent": reason.parent_id, "position": reason.position,
                  "is_active": reason.is_active}
        if name is not None:
            name = name.strip()
            if not name or len(name) > 120:
                raise ValidationError({"name": [_("Enter a name of 1-120 characters.")]})
            reason.name = name
        if parent is not _UNSET:
            reason.parent = _clean_reason_parent(tenant=tenant, parent=parent, reason=reason)
        if position is not None:
            reason.position = position
        if is_active is not None:
            reason.is_active = bool(is_active)
        if ContactReason.objects.filter(tenant=tenant, parent=reason.parent, name=reason.name).exclude(
                pk=reason.pk).exists():
            raise ValidationError({"name": [_("This reason exists already at this level.")]})
        reason.save()
        audit_record(tenant=tenant, action="contact_reason.updated", actor=actor, actor_label=actor_label(actor),
                     obj=reason, before=before, after={"name": reason.name, "parent": reason.parent_id,
                                                       "position": reason.position,
                                                       "is_active": reason.is_active})
    return reason


@transaction.atomic
def contact_reason_delete(*, reason: ContactReason, actor=None) -> None:
    """Delete a reason and its sub-reasons; tickets that carried one keep no reason."""
    tenant = reason.tenant
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via="system",
                           scope=Scope.SETTINGS_WRITE)
        audit_record(tenant=tenant, action="contact_reason.deleted", actor=actor, actor_label=actor_label(actor),
                     obj=reason, before={"name": reason.name, "parent": reason.parent_id})
        reason.delete()
