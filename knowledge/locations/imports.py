"""CSV import of service locations through the shared import machinery (``helpdesk.people.imports``:
upload check, batches, progress, per-row errors, the console's progress page).

Columns (any order, any case): ``name, slug, kind, address, city, postcode, country, latitude,
longitude, phone, email, timezone, team, calendar, services, description, directions_note,
active``, the weekly hours ``mon`` … ``sun`` (``09:00-18:00``, several intervals separated by
spaces or commas, ``closed`` or empty for a closed day) and translations as ``<field>:<locale>``
(``name:tr``, ``description:tr``, ``services:tr``, ``directions_note:tr``). ``services`` are
separated by ``;``; ``team`` and ``calendar`` are names. A row updates the location with the
same ``slug`` (or, without a slug column, the same name in the same city) or creates one.
"""
from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _, gettext_lazy

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.people.imports import ImportHandler, register_import_kind
from helpdesk.people.models import ImportKind, Team
from helpdesk.tenancy.models import Tenant
from knowledge.locales import normalize_locale
from knowledge.locations import services
from knowledge.locations.geo import fold
from knowledge.models import Location, LocationKind

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COLUMNS = ("name", "slug", "kind", "address", "city", "postcode", "country", "latitude", "longitude", "phone",
           "email", "timezone", "team", "calendar", "services", "description", "directions_note", "active", *DAYS)
TRANSLATED = ("name", "description", "services", "directions_note")
_TRANSLATION_COLUMN = re.compile(r"^(name|description|services|directions_note):([a-z]{2,3}(?:[-_][a-z0-9]{2,8})?)$")
_INTERVAL = re.compile(r"(\d{1,2}[:.]\d{2})\s*[-–]\s*(\d{1,2}[:.]\d{2})")
_CLOSED = {"", "closed", "kapalı", "kapali", "-", "—"}
_TRUE = {"1", "true", "yes", "y", "evet", "e", "x"}
_FALSE = {"0", "false", "no", "n", "hayır", "hayir"}
# Kinds as people write them in a spreadsheet, in English and Turkish.
_KINDS = {
    "store": LocationKind.STORE, "shop": LocationKind.STORE, "mağaza": LocationKind.STORE,
    "magaza": LocationKind.STORE, "service_centre": LocationKind.SERVICE_CENTRE,
    "service centre": LocationKind.SERVICE_CENTRE, "service center": LocationKind.SERVICE_CENTRE,
    "servis": LocationKind.SERVICE_CENTRE, "servis merkezi": LocationKind.SERVICE_CENTRE,
    "pickup_point": LocationKind.PICKUP_POINT, "pick-up point": LocationKind.PICKUP_POINT,
    "pickup point": LocationKind.PICKUP_POINT, "teslim noktası": LocationKind.PICKUP_POINT,
    "teslim noktasi": LocationKind.PICKUP_POINT,
}


def _hhmm(text: str) -> str:
    hours, minutes = re.split(r"[:.]", text)
    return f"{int(hours):02d}:{minutes}"


def parse_day(text: str, *, column: str) -> list[list[str]]:
    """``"09:00-12:00, 13:00-18:00"`` → ``[["09:00", "12:00"], ["13:00", "18:00"]]``; closed → ``[]``."""
    value = (text or "").strip().lower()
    if value in _CLOSED:
        return []
    pairs = _INTERVAL.findall(value)
    leftover = _INTERVAL.sub("", value).replace(",", " ").replace(";", " ").strip()
    if not pairs or leftover:
        raise ValidationError({column: [_("“%(value)s” is not opening hours such as 09:00-18:00.") % {"value": text}]})
    return services.clean_day_intervals([[_hhmm(a), _hhmm(b)] for a, b in pairs], key=column)


def _cell(record: dict, name: str) -> str:
    return (record.get(name) or "").strip()


def _translation_column(name: str) -> bool:
    return bool(_TRANSLATION_COLUMN.match(name))


def prepare(*, tenant: Tenant) -> dict[str, Any]:
    """What every row needs, read once: teams and calendars by name, locations by slug and by
    name in city (kept current as rows create locations)."""
    by_name: dict[tuple[str, str], list[int]] = {}
    by_slug: dict[str, int] = {}
    for pk, slug, name, city in Location.objects.filter(tenant=tenant).values_list("pk", "slug", "name", "city"):
        by_slug[slug] = pk
        by_name.setdefault((fold(name), fold(city)), []).append(pk)
    return {
        "teams": {team.name.lower(): team for team in Team.objects.filter(tenant=tenant)},
        "calendars": {c.name.lower(): c for c in BusinessCalendar.objects.filter(tenant=tenant)},
        "by_slug": by_slug, "by_name": by_name,
    }


def row(*, tenant: Tenant, record: dict, context: dict[str, Any]) -> str:
    """Create or update one location; returns "created" or "updated"."""
    values: dict[str, Any] = {}
    for column in ("name", "address", "city", "postcode", "country", "phone", "email", "timezone", "description",
                   "directions_note", "latitude", "longitude"):
        if column in record and (_cell(record, column) or column not in ("latitude", "longitude", "timezone")):
            values[column] = _cell(record, column)
    if _cell(record, "slug"):
        values["slug"] = _cell(record, "slug").lower()
    if _cell(record, "kind"):
        kind = _KINDS.get(_cell(record, "kind").lower().replace("-", " ").strip()) or \
            _KINDS.get(_cell(record, "kind").lower())
        if kind is None:
            raise ValidationError({"kind": [_("“%(value)s” is not a kind (use store, service_centre or "
                                              "pickup_point).") % {"value": _cell(record, "kind")}]})
        values["kind"] = kind
    if "services" in record:
        values["services"] = services.clean_services(_cell(record, "services"))
    if "active" in record and _cell(record, "active"):
        lowered = _cell(record, "active").lower()
        if lowered not in _TRUE | _FALSE:
            raise ValidationError({"active": [_("“%(value)s” is not yes or no.") % {"value": _cell(record, "active")}]})
        values["is_active"] = lowered in _TRUE
    for column, lookup, key in (("team", "teams", "team"), ("calendar", "calendars", "calendar")):
        if column in record:
            name = _cell(record, column)
            if not name:
                values[key] = None
                continue
            found = context[lookup].get(name.lower())
            if found is None:
                message = (_("No team named “%(name)s”.") if column == "team"
                           else _("No business-hours calendar named “%(name)s”."))
                raise ValidationError({column: [message % {"name": name}]})
            values[key] = found
    if any(day in record for day in DAYS):
        values["opening_hours"] = {day: parse_day(record.get(day) or "", column=day) for day in DAYS if day in record}
    translations = _translations(record)

    existing = _existing(record, context)
    if existing is not None:
        if "opening_hours" in values:
            values["opening_hours"] = {**(existing.opening_hours or {}), **values["opening_hours"]}
        merged = None
        if translations:
            current = {t.locale: {"locale": t.locale, "name": t.name, "description": t.description,
                                  "services": t.services, "directions_note": t.directions_note}
                       for t in existing.translations.all()}
            for item in translations:
                current[item["locale"]] = {**current.get(item["locale"], {}), **item}
            merged = list(current.values())
        services.location_update(location=existing, actor=None, values=values, translations=merged)
        return "updated"
    if "name" not in values or not values["name"]:
        raise ValidationError({"name": [_("The row has no name.")]})
    location = services.location_create(tenant=tenant, actor=None, values=values, translations=translations or None)
    context["by_slug"][location.slug] = location.pk
    context["by_name"].setdefault((fold(location.name), fold(location.city)), []).append(location.pk)
    return "created"


def _translations(record: dict) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for column, value in record.items():
        match = _TRANSLATION_COLUMN.match(column or "")
        if not match or value is None:
            continue
        field, locale = match.group(1), normalize_locale(match.group(2))
        item = found.setdefault(locale, {"locale": locale})
        item[field] = services.clean_services(value, key=column) if field == "services" else value.strip()
    return list(found.values())


def _existing(record: dict, context: dict[str, Any]) -> Location | None:
    pk = None
    if _cell(record, "slug"):
        pk = context["by_slug"].get(_cell(record, "slug").lower())
    elif "slug" not in record and _cell(record, "name"):
        matches = context["by_name"].get((fold(_cell(record, "name")), fold(_cell(record, "city"))), [])
        if len(matches) > 1:
            raise ValidationError(_("Several locations are named “%(name)s” in this city: add a slug column to "
                                    "say which.") % {"name": _cell(record, "name")})
        pk = matches[0] if matches else None
    if pk is None:
        return None
    return Location.objects.filter(pk=pk).prefetch_related("translations").first()


def register() -> None:
    register_import_kind(ImportHandler(
        kind=ImportKind.LOCATIONS, columns=COLUMNS, required=("name",),
        require=services.require_locations_edit, row=row, prepare=prepare,
        extra_column=_translation_column,
        extra_hint=gettext_lazy("<field>:<language> for translations (name:tr)"),
    ))
