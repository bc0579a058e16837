"""Writes of service locations: create, change, delete, translations and hours exceptions.

Every write is one transaction that checks who is asking (people need ``kb.publish``, API keys
``kb:write``, the system may), validates everything before writing anything, keeps the
folded ``search_text`` current, and leaves an audit entry and an event.

Values come in the service's own shape (the API and the console convert theirs):
``opening_hours`` is the calendars' JSON (``{"mon": [["09:00", "18:00"]], ...}``, a missing
day is closed), ``exceptions`` a list of ``{"date", "closed", "hours": [["10:00", "14:00"]],
"note", "note_translations": {"tr": "..."}}`` and ``translations`` a list of ``{"locale",
"name", "description", "services", "directions_note"}``; both lists replace what is stored.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.events.services import event_emit
from helpdesk.people.identities import normalize_phone
from helpdesk.people.models import Team
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import Cap, Scope
from knowledge.locales import normalize_locale
from knowledge.locations import hours as hours_lib
from knowledge.locations.geo import fold, fold_postcode
from knowledge.models import Location, LocationException, LocationKind, LocationTranslation
from tickets.models import Via
from tickets.services.common import require_capability

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_SERVICES = 30
SERVICE_MAX_LENGTH = 100
MAX_EXCEPTIONS = 500
MAX_TRANSLATIONS = 30
MAX_INTERVALS_PER_DAY = 6
TEXT_MAX = 5000
# Fields a caller may set (``team`` and ``calendar`` as objects of the tenant, or None).
FIELDS = ("kind", "name", "slug", "address", "city", "postcode", "country", "latitude", "longitude", "phone",
          "email", "timezone", "opening_hours", "services", "description", "directions_note", "team", "calendar",
          "is_active")


def require_locations_edit(*, tenant: Tenant, actor: Any) -> None:
    """People need ``kb.publish`` (administrators and owners: a location routes requests to a
    team), API keys ``kb:write``; the system may."""
    require_capability(tenant=tenant, actor=actor, capability=Cap.KB_PUBLISH, via=Via.SYSTEM, scope=Scope.KB_WRITE)


# --- cleaning (pure apart from the tenant look-ups) -----------------------------------------


def _text(values: Mapping[str, Any], key: str, *, max_length: int, required: bool = False) -> str:
    value = values.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({key: [_("Give a text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({key: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationError({key: [_("At most %(n)d characters.") % {"n": max_length}]})
    return value


def _coordinate(value: Any, *, key: str, limit: float) -> float:
    if isinstance(value, bool):
        value = None
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValidationError({key: [_("Give a number such as 41.0082.")]}) from None
    if number != number or not -limit <= number <= limit:  # NaN or out of range
        raise ValidationError({key: [_("Give a number from %(min)s to %(max)s.") % {"min": -limit, "max": limit}]})
    return number


def clean_day_intervals(pairs: Any, *, key: str) -> list[list[str]]:
    """``[["09:00", "12:00"], ["13:00", "18:00"]]`` (or ``{"start", "end"}`` items) of one day,
    sorted; refuses bad times, reversed or overlapping intervals."""
    if not isinstance(pairs, list):
        raise ValidationError({key: [_("Give a list of opening intervals.")]})
    if len(pairs) > MAX_INTERVALS_PER_DAY:
        raise ValidationError({key: [_("At most %(n)d intervals a day.") % {"n": MAX_INTERVALS_PER_DAY}]})
    minutes = []
    for item in pairs:
        if isinstance(item, Mapping):
            item = [item.get("start"), item.get("end")]
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValidationError({key: [_("Each interval is a start and an end, such as 09:00-18:00.")]})
        try:
            start, end = hours_lib.parse_hhmm(item[0]), hours_lib.parse_hhmm(item[1])
        except ValueError:
            raise ValidationError({key: [_("Times are HH:MM, from 00:00 to 24:00.")]}) from None
        if start >= end:
            raise ValidationError({key: [_("An interval must end after it starts (%(start)s-%(end)s).")
                                         % {"start": item[0], "end": item[1]}]})
        minutes.append((start, end))
    minutes.sort()
    for (_s1, e1), (s2, _e2) in zip(minutes, minutes[1:]):
        if s2 < e1:
            raise ValidationError({key: [_("Two intervals of the same day overlap.")]})
    return [[hours_lib.hhmm(s), hours_lib.hhmm(e)] for s, e in minutes]


def clean_opening_hours(value: Any) -> dict[str, list[list[str]]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or set(value) - set(WEEKDAYS):
        raise ValidationError({"opening_hours": [_("Use the days mon, tue, wed, thu, fri, sat and sun.")]})
    out = {}
    for day in WEEKDAYS:
        if value.get(day):
            out[day] = clean_day_intervals(value[day], key=f"opening_hours.{day}")
    return out


def clean_services(value: Any, *, key: str = "services") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValidationError({key: [_("Give a list of services.")]})
    out: list[str] = []
    for raw in value:
        service = " ".join(raw.split())
        if not service or service in out:
            continue
        if len(service) > SERVICE_MAX_LENGTH:
            raise ValidationError({key: [_("A service has at most %(n)d characters.") % {"n": SERVICE_MAX_LENGTH}]})
        out.append(service)
    if len(out) > MAX_SERVICES:
        raise ValidationError({key: [_("At most %(n)d services.") % {"n": MAX_SERVICES}]})
    return out


def _clean_team(tenant: Tenant, team: Any) -> Team | None:
    if team is None:
        return None
    if not isinstance(team, Team) or team.tenant_id != tenant.pk:
        raise ValidationError({"team": [_("No such team.")]})
    return team


def _clean_calendar(tenant: Tenant, calendar: Any) -> BusinessCalendar | None:
    if calendar is None:
        return None
    if not isinstance(calendar, BusinessCalendar) or calendar.tenant_id != tenant.pk:
        raise ValidationError({"calendar": [_("No such business-hours calendar.")]})
    return calendar


def _clean_slug(tenant: Tenant, value: str, *, exclude_pk: int | None) -> str:
    if not SLUG_RE.match(value):
        raise ValidationError({"slug": [_("Use lower-case letters, digits and hyphens (at most 80), no hyphen at "
                                          "either end.")]})
    clash = Location.objects.filter(tenant=tenant, slug=value)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"slug": [_("Another location already has this address.")]})
    return value


def slug_for(tenant: Tenant, name: str, *, exclude_pk: int | None = None) -> str:
    """A free slug from the name: "Kadıköy Store" → ``kadikoy-store`` (then ``-2``, ``-3``…)."""
    base = slugify(fold(name))[:70].strip("-") or "location"
    taken = set(Location.objects.filter(tenant=tenant, slug__startswith=base).exclude(pk=exclude_pk)
                .values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def clean_values(*, tenant: Tenant, values: Mapping[str, Any], current: Location | None = None) -> dict[str, Any]:
    """The given fields, checked and normalised; all errors of the call together."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    creating = current is None

    def attempt(key: str, fn) -> None:
        try:
            out[key] = fn()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)

    if creating or "name" in values:
        attempt("name", lambda: _text(values, "name", max_length=200, required=True))
    if "kind" in values or creating:
        def kind():
            value = values.get("kind") or LocationKind.STORE
            if value not in LocationKind.values:
                raise ValidationError({"kind": [_("Choose one of: %(values)s.")
                                                % {"values": ", ".join(LocationKind.values)}]})
            return value
        attempt("kind", kind)
    for key, limit in (("address", 1000), ("city", 100), ("postcode", 20), ("description", TEXT_MAX),
                       ("directions_note", TEXT_MAX)):
        if key in values:
            attempt(key, lambda key=key, limit=limit: _text(values, key, max_length=limit))
    if "country" in values:
        def country():
            value = _text(values, "country", max_length=2).upper()
            if value and not re.fullmatch(r"[A-Z]{2}", value):
                raise ValidationError({"country": [_("Use a two-letter country code such as TR.")]})
            return value
        attempt("country", country)
    for key, limit in (("latitude", 90.0), ("longitude", 180.0)):
        if key in values or creating:
            if values.get(key) is None and creating:
                errors.setdefault(key, []).append(_("This field is required."))
            elif key in values:
                attempt(key, lambda key=key, limit=limit: _coordinate(values[key], key=key, limit=limit))
    if "phone" in values:
        def phone():
            raw = _text(values, "phone", max_length=40)
            if not raw:
                return ""
            region = out.get("country") or (current.country if current else "") or None
            try:
                return normalize_phone(raw, region)
            except ValidationError:
                raise ValidationError({"phone": [_("“%(value)s” is not a phone number (write it with the country "
                                                   "code, such as +90 212 555 0000, or give the country).")
                                                 % {"value": raw}]}) from None
        attempt("phone", phone)
    if "email" in values:
        def email():
            raw = _text(values, "email", max_length=254)
            if raw:
                try:
                    validate_email(raw)
                except ValidationError:
                    raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
            return raw.lower()
        attempt("email", email)
    if "timezone" in values or creating:
        def zone():
            value = values.get("timezone") or (current.timezone if current else "") or tenant.timezone
            if not isinstance(value, str) or value not in zoneinfo.available_timezones():
                raise ValidationError({"timezone": [_("Unknown time zone: %(value)s. Use an IANA name such as "
                                                      "Europe/Istanbul.") % {"value": value}]})
            return value
        attempt("timezone", zone)
    if "opening_hours" in values:
        attempt("opening_hours", lambda: clean_opening_hours(values["opening_hours"]))
    if "services" in values:
        attempt("services", lambda: clean_services(values["services"]))
    if "team" in values:
        attempt("team", lambda: _clean_team(tenant, values["team"]))
    if "calendar" in values:
        attempt("calendar", lambda: _clean_calendar(tenant, values["calendar"]))
    if "is_active" in values:
        if not isinstance(values["is_active"], bool):
            errors.setdefault("is_active", []).append(_("Give true or false."))
        else:
            out["is_active"] = values["is_active"]
    if values.get("slug"):
        attempt("slug", lambda: _clean_slug(tenant, str(values["slug"]).strip().lower(),
                                            exclude_pk=current.pk if current else None))
    if errors:
        raise ValidationError(errors)
    return out


def clean_translations(value: Any, *, default_locale: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError({"translations": [_("Give a list of translations.")]})
    if len(value) > MAX_TRANSLATIONS:
        raise ValidationError({"translations": [_("At most %(n)d translations.") % {"n": MAX_TRANSLATIONS}]})
    out: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    seen = set()
    allowed = {"locale", "name", "description", "services", "directions_note"}
    for index, item in enumerate(value):
        key = f"translations.{index}"
        if not isinstance(item, Mapping) or not item.get("locale") or set(item) - allowed:
            errors[key] = [_("Each translation is {locale, name, description, services, directions_note}.")]
            continue
        try:
            locale = normalize_locale(str(item["locale"]))
            if locale in seen:
                raise ValidationError({"locale": [_("This language is given twice.")]})
            seen.add(locale)
            row = {"locale": locale, "name": _text(item, "name", max_length=200),
                   "description": _text(item, "description", max_length=TEXT_MAX),
                   "services": clean_services(item.get("services")),
                   "directions_note": _text(item, "directions_note", max_length=TEXT_MAX)}
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"locale": exc.messages}
            for field, texts in messages.items():
                errors[f"{key}.{field}"] = list(texts)
            continue
        if locale != default_locale or any(row[k] for k in ("name", "description", "services", "directions_note")):
            out.append(row)
    if errors:
        raise ValidationError(errors)
    return out


def clean_exceptions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError({"exceptions": [_("Give a list of dates.")]})
    if len(value) > MAX_EXCEPTIONS:
        raise ValidationError({"exceptions": [_("At most %(n)d dates.") % {"n": MAX_EXCEPTIONS}]})
    out: dict[dt.date, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(value):
        key = f"exceptions.{index}"
        if not isinstance(item, Mapping) or set(item) - {"date", "closed", "hours", "note", "note_translations"}:
            errors[key] = [_("Each date is {date, closed, hours, note, note_translations}.")]
            continue
        date = item.get("date")
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date.strip())
            except ValueError:
                date = None
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            errors[f"{key}.date"] = [_("Use a date such as 2025-12-25.")]
            continue
        if date in out:
            errors[f"{key}.date"] = [_("This date is given twice.")]
            continue
        hours = item.get("hours") or []
        closed = item.get("closed")
        if closed is None:
            closed = not hours
        if not isinstance(closed, bool):
            errors[f"{key}.closed"] = [_("Give true or false.")]
            continue
        try:
            intervals = [] if closed else clean_day_intervals(hours, key=f"{key}.hours")
            if not closed and not intervals:
                raise ValidationError({f"{key}.hours": [_("Give the special hours, or mark the day closed.")]})
            note = _text(item, "note", max_length=200)
            translations = item.get("note_translations") or {}
            if not isinstance(translations, Mapping) or not all(isinstance(v, str) for v in translations.values()):
                raise ValidationError({f"{key}.note_translations": [_("Give texts by language, such as "
                                                                      "{\"tr\": \"…\"}.")]})
            notes = {normalize_locale(k): " ".join(v.split())[:200] for k, v in translations.items() if v.strip()}
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {f"{key}.note_translations": exc.messages}
            for field, texts in messages.items():
                errors[field if field.startswith(key) else f"{key}.{field}"] = list(texts)
            continue
        out[date] = {"date": date, "closed": closed, "hours": intervals, "note": note, "note_translations": notes}
    if errors:
        raise ValidationError(errors)
    return [out[d] for d in sorted(out)]


# --- derived values -------------------------------------------------------------------------


def search_text_of(location: Location, translations: Iterable[LocationTranslation]) -> str:
    parts = [location.name, location.city, location.postcode, fold_postcode(location.postcode), location.address,
             location.get_kind_display() if location.kind in LocationKind.values else "", *location.services]
    for translation in translations:
        parts += [translation.name, *(translation.services or [])]
    return fold(" ".join(p for p in parts if p))[:4000]


def location_data(location: Location, *, translations: Iterable[LocationTranslation] = (),
                  exceptions: Iterable[LocationException] = ()) -> dict[str, Any]:
    """What audit entries and events say about a location."""
    return {
        "id": location.pk, "slug": location.slug, "kind": location.kind, "name": location.name,
        "address": location.address, "city": location.city, "postcode": location.postcode,
        "country": location.country, "latitude": location.latitude, "longitude": location.longitude,
        "phone": location.phone, "email": location.email, "timezone": location.timezone,
        "opening_hours": location.opening_hours, "services": location.services, "team_id": location.team_id,
        "calendar_id": location.calendar_id, "is_active": location.is_active,
        "translations": sorted(t.locale for t in translations),
        "exceptions": [e.date.isoformat() for e in exceptions],
    }


def _write_translations(location: Location, rows: list[dict[str, Any]]) -> list[LocationTranslation]:
    LocationTranslation.objects.filter(location=location).delete()
    return LocationTranslation.objects.bulk_create([
        LocationTranslation(tenant_id=location.tenant_id, location=location, **row) for row in rows])


def _write_exceptions(location: Location, rows: list[dict[str, Any]]) -> list[LocationException]:
    LocationException.objects.filter(location=location).delete()
    return LocationException.objects.bulk_create([
        LocationException(tenant_id=location.tenant_id, location=location, **row) for row in rows])


def _save(location: Location, **kwargs) -> None:
    try:
        with transaction.atomic():
            location.save(**kwargs)
    except IntegrityError:  # the same slug taken at the same moment
        raise ValidationError({"slug": [_("Another location already has this address.")]}) from None


# --- writes ---------------------------------------------------------------------------------


def location_create(*, tenant: Tenant, actor: Any, values: Mapping[str, Any],
                    translations: list | None = None, exceptions: list | None = None,
                    audit_meta: Mapping[str, Any] | None = None) -> Location:
    """A new location; ``slug`` is made from the name when not given."""
    require_locations_edit(tenant=tenant, actor=actor)
    with transaction.atomic(), tenant_scope(tenant):
        cleaned = clean_values(tenant=tenant, values=values)
        rows = clean_translations(translations, default_locale=tenant.default_locale) if translations else []
        dates = clean_exceptions(exceptions) if exceptions else []
        if not cleaned.get("slug"):
            cleaned["slug"] = slug_for(tenant, cleaned["name"])
        location = Location(tenant=tenant, **cleaned)
        _save(location)
        written = _write_translations(location, rows) if rows else []
        written_dates = _write_exceptions(location, dates) if dates else []
        location.search_text = search_text_of(location, written)
        Location.objects.filter(pk=location.pk).update(search_text=location.search_text)
        data = location_data(location, translations=written, exceptions=written_dates)
        audit_record(tenant=tenant, action="location.created", actor=actor, obj=location, after=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="location.created", subject=location, actor=actor, payload=data)
    return location


def location_update(*, location: Location, actor: Any, values: Mapping[str, Any] | None = None,
                    translations: list | None = None, exceptions: list | None = None,
                    audit_meta: Mapping[str, Any] | None = None) -> Location:
    """Change what is given; ``translations`` and ``exceptions`` (when given) replace the stored ones."""
    tenant = location.tenant
    require_locations_edit(tenant=tenant, actor=actor)
    with transaction.atomic(), tenant_scope(tenant):
        stored = Location.objects.select_for_update().get(pk=location.pk)
        old_translations = list(stored.translations.all())
        old_exceptions = list(stored.exceptions.all())
        before = location_data(stored, translations=old_translations, exceptions=old_exceptions)
        cleaned = clean_values(tenant=tenant, values=values or {}, current=stored)
        rows = clean_translations(translations, default_locale=tenant.default_locale) \
            if translations is not None else None
        dates = clean_exceptions(exceptions) if exceptions is not None else None
        for field, value in cleaned.items():
            setattr(stored, field, value)
        current_translations = _write_translations(stored, rows) if rows is not None else old_translations
        current_exceptions = _write_exceptions(stored, dates) if dates is not None else old_exceptions
        stored.search_text = search_text_of(stored, current_translations)
        _save(stored)
        after = location_data(stored, translations=current_translations, exceptions=current_exceptions)
        if after != before or rows is not None or dates is not None:
            audit_record(tenant=tenant, action="location.updated", actor=actor, obj=stored, before=before,
                         after=after, **(audit_meta or {}))
            event_emit(tenant=tenant, type="location.updated", subject=stored, actor=actor, payload=after)
    return stored


def location_delete(*, location: Location, actor: Any, audit_meta: Mapping[str, Any] | None = None) -> None:
    tenant = location.tenant
    require_locations_edit(tenant=tenant, actor=actor)
    with transaction.atomic(), tenant_scope(tenant):
        data = location_data(location)
        location.delete()
        audit_record(tenant=tenant, action="location.deleted", actor=actor, before=data, **(audit_meta or {}))
        event_emit(tenant=tenant, type="location.deleted", actor=actor, payload=data)


def register() -> None:
    """Event types (from ``KnowledgeConfig.ready``; idempotent)."""
    from django.utils.translation import gettext_lazy

    from helpdesk.events.types import get_event_type, register_event_type

    descriptions = {
        "location.created": gettext_lazy("A service location was created."),
        "location.updated": gettext_lazy("A service location was changed."),
        "location.deleted": gettext_lazy("A service location was deleted."),
    }
    for name, description in descriptions.items():
        if get_event_type(name) is None:
            register_event_type(name, description, push_to_agents=False)
