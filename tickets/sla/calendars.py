"""Writes of business-hours calendars as the SLA settings show them (API and console).

The calendar itself is the core's ``helpdesk.calendars`` model (weekly hours as JSON plus
``Holiday`` rows); this module speaks the settings' shape: ``intervals`` of
``{"weekday": 0-6 (Monday 0), "start": "09:00", "end": "18:00"}``, explicit ``holidays``
and a country whose public holidays (the ``holidays`` package, this year and next, in
the calendar's time zone) become ``Holiday`` rows.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.calendars.models import WEEKDAYS, BusinessCalendar, Holiday
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.services.common import require_settings_manage
from tickets.sla.policy_cache import sla_policies_changed

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_HOLIDAYS = 500
MAX_INTERVALS_PER_DAY = 6


# --- validation ----------------------------------------------------------------------------


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def clean_intervals(intervals: Any) -> dict[str, list[list[str]]]:
    """``[{"weekday", "start", "end"}]`` → the calendar's ``weekly_hours``; refuses bad times,
    empty or reversed intervals and overlaps on a day, naming the offending item."""
    if not isinstance(intervals, list):
        raise ValidationError({"intervals": [_("Give a list of {weekday, start, end}.")]})
    by_day: dict[int, list[tuple[int, int, int]]] = {}
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(intervals):
        key = f"intervals.{index}"
        if not isinstance(item, Mapping) or set(item) != {"weekday", "start", "end"}:
            errors[key] = [_("Each interval is {weekday, start, end}.")]
            continue
        weekday, start, end = item["weekday"], item["start"], item["end"]
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors[key] = [_("weekday is 0 (Monday) to 6 (Sunday).")]
            continue
        if not all(isinstance(v, str) and _HHMM.match(v) for v in (start, end)):
            errors[key] = [_("Times are HH:MM, from 00:00 to 24:00.")]
            continue
        if _minutes(start) >= _minutes(end):
            errors[key] = [_("The interval must end after it starts.")]
            continue
        by_day.setdefault(weekday, []).append((_minutes(start), _minutes(end), index))
    for weekday, items in by_day.items():
        items.sort()
        if len(items) > MAX_INTERVALS_PER_DAY:
            errors["intervals"] = [_("At most %(n)d intervals a day.") % {"n": MAX_INTERVALS_PER_DAY}]
        for (s1, e1, _i1), (s2, _e2, i2) in zip(items, items[1:]):
            if s2 < e1:
                errors[f"intervals.{i2}"] = [_("This interval overlaps another on the same day.")]
    if errors:
        raise ValidationError(errors)
    weekly: dict[str, list[list[str]]] = {}
    for weekday, items in sorted(by_day.items()):
        weekly[WEEKDAYS[weekday]] = [[_hhmm(s), _hhmm(e)] for s, e, _i in items]
    return weekly


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekly_to_intervals(weekly_hours: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The calendar's ``weekly_hours`` in the API's shape (Monday first)."""
    out = []
    for weekday, day in enumerate(WEEKDAYS):
        for start, end in sorted(weekly_hours.get(day, [])):
            out.append({"weekday": weekday, "start": start, "end": end})
    return out


def clean_timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": [_("Unknown time zone: %(value)s. Use an IANA name such as "
                                              "Europe/Istanbul.") % {"value": value}]})
    return value


def clean_holidays(holidays: Any) -> dict[dt.date, str]:
    if not isinstance(holidays, list):
        raise ValidationError({"holidays": [_("Give a list of {date, name}.")]})
    if len(holidays) > MAX_HOLIDAYS:
        raise ValidationError({"holidays": [_("At most %(n)d holidays.") % {"n": MAX_HOLIDAYS}]})
    out: dict[dt.date, str] = {}
    for index, item in enumerate(holidays):
        date = item.get("date") if isinstance(item, Mapping) else None
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                date = None
        if not isinstance(date, dt.date):
            raise ValidationError({f"holidays.{index}.date": [_("Use a date such as 2025-12-25.")]})
        name = str(item.get("name") or "")[:100]
        out[date] = name
    return out


def country_holiday_dates(country: str, *, zone: str, today: dt.date | None = None) -> dict[dt.date, str]:
    """Public holidays of ``country`` (ISO 3166-1 alpha-2) for this year and next."""
    import holidays as holidays_lib

    code = (country or "").strip().upper()
    supported = holidays_lib.list_supported_countries()
    if code not in supported:
        raise ValidationError({"country_holidays": [_("Unknown country code: %(value)s. Use a two-letter code "
                                                      "such as TR or DE.") % {"value": country}]})
    today = today or timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    found = holidays_lib.country_holidays(code, years=[today.year, today.year + 1])
    return {date: str(name)[:100] for date, name in sorted(found.items())}


# --- writes ---------------------------------------------------------------------------------


def business_hours_data(calendar: BusinessCalendar) -> dict[str, Any]:
    """What audit entries and events say about a calendar (reads prefetched holidays)."""
    return {
        "id": calendar.pk, "name": calendar.name, "timezone": calendar.timezone,
        "is_default": calendar.is_default, "intervals": weekly_to_intervals(calendar.weekly_hours),
        "holidays": [{"date": h.date.isoformat(), "name": h.name} for h in calendar.holidays.all()],
    }


def _set_holidays(calendar: BusinessCalendar, dates: Mapping[dt.date, str]) -> None:
    Holiday.objects.filter(calendar=calendar).delete()
    Holiday.objects.bulk_create([Holiday(tenant_id=calendar.tenant_id, calendar=calendar, date=d, name=n)
                                 for d, n in sorted(dates.items())])
    sla_policies_changed(calendar.tenant_id)  # bulk_create sends no signal


def _merge_holidays(explicit: Mapping[dt.date, str] | None, country: str | None, zone: str,
                    current: Mapping[dt.date, str] | None = None) -> dict[dt.date, str] | None:
    if explicit is None and not country:
        return None
    merged: dict[dt.date, str] = dict(current or {}) if explicit is None else {}
    if country:
        merged.update(country_holiday_dates(country, zone=zone))
    merged.update(explicit or {})  # an explicit name wins over the country's
    if len(merged) > MAX_HOLIDAYS:
        raise ValidationError({"holidays": [_("At most %(n)d holidays.") % {"n": MAX_HOLIDAYS}]})
    return merged


def _unique_name(*, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Give a name of 1 to 100 characters.")]})
    clash = BusinessCalendar.objects.filter(name=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": [_("Another calendar already has this name.")]})
    return name


def _refresh(calendar: BusinessCalendar) -> BusinessCalendar:
    from tickets.sla.selectors import business_hours_list

    return business_hours_list().get(pk=calendar.pk)


def business_hours_create(*, tenant: Tenant, actor: Any, name: str, timezone: str, intervals: list,
                          holidays: list | None = None, country_holidays: str | None = None,
                          is_default: bool = False, audit_meta: Mapping[str, Any] | None = None,
                          ) -> BusinessCalendar:
    require_settings_manage(tenant=tenant, actor=actor)
    zone = clean_timezone(timezone)
    weekly = clean_intervals(intervals)
    explicit = clean_holidays(holidays) if holidays is not None else None
    with transaction.atomic(), tenant_scope(tenant):
        name = _unique_name(name=name)
        dates = _merge_holidays(explicit, country_holidays, zone)
        if is_default:
            BusinessCalendar.objects.filter(is_default=True).update(is_default=False)
        calendar = BusinessCalendar.objects.create(tenant=tenant, name=name, timezone=zone, weekly_hours=weekly,
                                                   is_default=bool(is_default))
        if dates:
            _set_holidays(calendar, dates)
        calendar = _refresh(calendar)
        data = business_hours_data(calendar)
        audit_record(tenant=tenant, action="business_hours.created", actor=actor, obj=calendar, after=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="business_hours.created", subject=calendar, actor=actor, payload=data)
    return calendar


def business_hours_update(*, calendar: BusinessCalendar, actor: Any, name: str | None = None,
                          timezone: str | None = None, intervals: list | None = None,
                          holidays: list | None = None, country_holidays: str | None = None,
                          is_default: bool | None = None, audit_meta: Mapping[str, Any] | None = None,
                          ) -> BusinessCalendar:
    """Change what is given. ``holidays`` replaces the list; ``country_holidays`` adds a
    country's (to the given list, or to the stored ones when no list is given).

    Running SLA timers take the new hours at their ticket's next change (their dues are
    recomputed from their start on every change).
    """
    require_settings_manage(tenant=calendar.tenant, actor=actor)
    tenant = calendar.tenant
    with transaction.atomic(), tenant_scope(tenant):
        stored = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
        before = business_hours_data(_refresh(stored))
        updates: dict[str, Any] = {}
        if name is not None:
            updates["name"] = _unique_name(name=name, exclude_pk=stored.pk)
        if timezone is not None:
            updates["timezone"] = clean_timezone(timezone)
        if intervals is not None:
            updates["weekly_hours"] = clean_intervals(intervals)
        if is_default is not None and bool(is_default) != stored.is_default:
            if is_default:
                BusinessCalendar.objects.filter(is_default=True).update(is_default=False)
            updates["is_default"] = bool(is_default)
        for field, value in updates.items():
            setattr(stored, field, value)
        if updates:
            stored.save(update_fields=list(updates))
        explicit = clean_holidays(holidays) if holidays is not None else None
        current = {dt.date.fromisoformat(h["date"]): h["name"] for h in before["holidays"]}
        dates = _merge_holidays(explicit, country_holidays, stored.timezone, current)
        if dates is not None:
            _set_holidays(stored, dates)
        calendar = _refresh(stored)
        after = business_hours_data(calendar)
        if after != before:
            audit_record(tenant=tenant, action="business_hours.updated", actor=actor, obj=calendar, before=before,
                         after=after, **(audit_meta or {}))
            event_emit(tenant=tenant, type="business_hours.updated", subject=calendar, actor=actor, payload=after)
    return calendar


def business_hours_delete(*, calendar: BusinessCalendar, actor: Any,
                          audit_meta: Mapping[str, Any] | None = None) -> None:
    """Delete a calendar no SLA policy uses (the policies must move off it first)."""
    require_settings_manage(tenant=calendar.tenant, actor=actor)
    tenant = calendar.tenant
    with transaction.atomic(), tenant_scope(tenant):
        names = list(calendar.sla_policies.values_list("name", flat=True))
        if names:
            raise ValidationError(_("SLA policies use this calendar: %(names)s. Give them other business hours "
                                    "first.") % {"names": ", ".join(names)})
        data = business_hours_data(_refresh(calendar))
        try:
            calendar.delete()
        except ProtectedError:  # a policy created meanwhile
            raise ValidationError(_("SLA policies use this calendar.")) from None
        audit_record(tenant=tenant, action="business_hours.deleted", actor=actor, before=data,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="business_hours.deleted", actor=actor, payload=data)
