"""How a location's hours, state and distance read to a person (in the active language).

Times are the location's local times: a visitor in another zone reads the shop's clock, as
the shop's door sign does.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from knowledge.locations import hours as hours_lib
from knowledge.models import Location, LocationException


@dataclass(frozen=True)
class StateText:
    is_open: bool
    label: str  # "Open now" / "Closed"
    detail: str  # "closes at 18:00" / "opens tomorrow at 09:00" / ""


def _time(value: dt.datetime) -> str:
    return value.strftime("%H:%M")


def describe_state(state: hours_lib.OpenState) -> StateText:
    if state.is_open:
        if state.closes_at is None:
            return StateText(True, _("Open now"), _("open 24 hours"))
        if state.closes_at.date() == state.at.date():
            return StateText(True, _("Open now"), _("closes at %(time)s") % {"time": _time(state.closes_at)})
        return StateText(True, _("Open now"), _("closes %(day)s at %(time)s") % {
            "day": formats.date_format(state.closes_at, "l"), "time": _time(state.closes_at)})
    opens = state.opens_at
    if opens is None:
        return StateText(False, _("Closed"), "")
    days = (opens.date() - state.at.date()).days
    if days == 0:
        detail = _("opens at %(time)s") % {"time": _time(opens)}
    elif days == 1:
        detail = _("opens tomorrow at %(time)s") % {"time": _time(opens)}
    elif days < 7:
        detail = _("opens %(day)s at %(time)s") % {"day": formats.date_format(opens, "l"), "time": _time(opens)}
    else:
        detail = _("opens on %(date)s at %(time)s") % {"date": formats.date_format(opens, "j F"),
                                                        "time": _time(opens)}
    return StateText(False, _("Closed"), detail)


def day_text(intervals) -> str:
    """``((540, 1080),)`` → ``09:00–18:00``; none → "Closed"."""
    if not intervals:
        return _("Closed")
    return ", ".join(f"{hours_lib.hhmm(s)}–{hours_lib.hhmm(e)}" for s, e in intervals)


def weekly_rows(opening_hours: dict) -> list[tuple[str, str]]:
    """(weekday name, hours) Monday first."""
    weekly = hours_lib.weekly_from_json(opening_hours or {})
    return [(str(WEEKDAYS[index]), day_text(weekly[index])) for index in range(7)]


def exception_rows(exceptions: list[LocationException], *, locale: str, today: dt.date,
                   days: int = 60) -> list[dict]:
    rows = []
    for exception in exceptions:
        if not today <= exception.date <= today + dt.timedelta(days=days):
            continue
        note = (exception.note_translations or {}).get(locale) or exception.note
        hours = () if exception.closed else hours_lib.intervals_from_json(exception.hours)
        rows.append({"date": exception.date, "hours": day_text(hours), "closed": exception.closed, "note": note})
    return rows


def distance_text(km: float | None) -> str:
    if km is None:
        return ""
    if km < 1:
        return _("%(metres)s m") % {"metres": formats.number_format(max(10, round(km * 1000, -1)), 0)}
    if km < 10:
        return _("%(km)s km") % {"km": formats.number_format(km, 1)}
    return _("%(km)s km") % {"km": formats.number_format(km, 0)}


def kind_label(location: Location) -> str:
    return str(location.get_kind_display())
