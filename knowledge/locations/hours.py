"""Opening hours of a location and "open now": pure functions, no ORM, no clock.

A location has weekly hours (Monday first, intervals of minutes after local midnight,
``0 <= start < end <= 1440``, the calendars' JSON shape) and dated exceptions: a date whose
intervals replace the weekday's (special hours) or are empty (closed, a holiday). Times are
local to the location's time zone, resolved per instant, so DST changes are handled.

Intervals are half-open: a shop open 09:00-18:00 is open at 09:00 and closed at 18:00. An
interval ending at 24:00 that meets one starting at 00:00 the next day is one opening (a
late shop open past midnight, a pick-up point open around the clock).
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MINUTES_PER_DAY = 24 * 60
# How far ahead "opens at" looks (a location closed for a season still says when it opens).
MAX_SCAN_DAYS = 400
# An opening still running this long after now is "open 24 hours" (no closing time to show).
ROUND_THE_CLOCK_DAYS = 8
UTC = dt.timezone.utc

Interval = tuple[int, int]


@dataclass(frozen=True)
class OpeningHours:
    timezone: str
    weekly: tuple[tuple[Interval, ...], ...]
    exceptions: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs seven days, Monday first")
        for day in [*self.weekly, *self.exceptions.values()]:
            check_intervals(day)
        zoneinfo.ZoneInfo(self.timezone)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def day(self, date: dt.date) -> tuple[Interval, ...]:
        """The intervals of a local date: its exception if it has one, else its weekday's."""
        if date in self.exceptions:
            return tuple(sorted(self.exceptions[date]))
        return tuple(sorted(self.weekly[date.weekday()]))

    @property
    def is_never_open(self) -> bool:
        return not any(self.weekly) and not any(self.exceptions.values())


@dataclass(frozen=True)
class OpenState:
    """What a visitor wants to know at ``at``. Instants are aware, in the location's zone."""

    is_open: bool
    at: dt.datetime
    closes_at: dt.datetime | None = None  # open: when it closes (None: open around the clock)
    opens_at: dt.datetime | None = None  # closed: the next opening (None: none within a year)
    exception_today: bool = False  # today's hours are an exception (holiday, special hours)


def check_intervals(intervals) -> None:
    last_end = -1
    for start, end in sorted(intervals):
        if not (0 <= start < end <= MINUTES_PER_DAY) or start < last_end:
            raise ValueError(f"bad or overlapping interval {start}-{end}")
        last_end = end


def parse_hhmm(value: str) -> int:
    """``"09:30"`` → 570; ``"24:00"`` → 1440; ValueError otherwise."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError(f"use HH:MM, not {value!r}")
    hours, minutes = int(value[:2]), int(value[3:])
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > MINUTES_PER_DAY:
        raise ValueError(f"time out of range: {value}")
    return hours * 60 + minutes


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _instant(day: dt.date, minute: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def openings(hours: OpeningHours, start_day: dt.date, days: int) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Open intervals (UTC) of ``days`` local days from ``start_day``, in order, with
    intervals that meet or overlap (across midnight, or a DST fold) merged into one."""
    zone = hours.zone
    pending: tuple[dt.datetime, dt.datetime] | None = None
    for offset in range(days):
        day = start_day + dt.timedelta(days=offset)
        for begin_min, end_min in hours.day(day):
            begin, end = _instant(day, begin_min, zone), _instant(day, end_min, zone)
            if end <= begin:
                continue  # an interval a DST change swallowed
            if pending is not None and begin <= pending[1]:
                pending = (pending[0], max(pending[1], end))
                continue
            if pending is not None:
                yield pending
            pending = (begin, end)
    if pending is not None:
        yield pending


def open_state(hours: OpeningHours, at: dt.datetime) -> OpenState:
    """Open or closed at ``at`` (aware), with the closing or next opening time."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    zone = hours.zone
    local = at.astimezone(zone)
    today = local.date()
    exception_today = today in hours.exceptions
    utc = at.astimezone(UTC)
    horizon = utc + dt.timedelta(days=ROUND_THE_CLOCK_DAYS)
    yesterday = today - dt.timedelta(days=1)
    if not any(hours.weekly) and not any(v for d, v in hours.exceptions.items() if d >= yesterday):
        return OpenState(is_open=False, at=local, exception_today=exception_today)  # never opens again
    for begin, end in openings(hours, yesterday, MAX_SCAN_DAYS):
        if end <= utc:
            continue
        if begin <= utc:
            closes = None if end >= horizon else end.astimezone(zone)
            return OpenState(is_open=True, at=local, closes_at=closes, exception_today=exception_today)
        return OpenState(is_open=False, at=local, opens_at=begin.astimezone(zone), exception_today=exception_today)
    return OpenState(is_open=False, at=local, exception_today=exception_today)


def is_open(hours: OpeningHours, at: dt.datetime) -> bool:
    """``open_state(...).is_open`` without looking for the closing or next opening time: the
    intervals of the local day (and its neighbours, for DST folds) are enough."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    utc = at.astimezone(UTC)
    today = at.astimezone(hours.zone).date()
    return any(begin <= utc < end for begin, end in openings(hours, today - dt.timedelta(days=1), 3))


def weekly_from_json(weekly_hours: Mapping[str, list]) -> tuple[tuple[Interval, ...], ...]:
    """The calendars' JSON shape (``{"mon": [["09:00", "18:00"]]}``) as minutes, Monday first."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = []
    for day in days:
        intervals = tuple(sorted((parse_hhmm(s), parse_hhmm(e)) for s, e in (weekly_hours or {}).get(day, [])))
        check_intervals(intervals)
        out.append(intervals)
    return tuple(out)


def intervals_from_json(pairs: list) -> tuple[Interval, ...]:
    intervals = tuple(sorted((parse_hhmm(s), parse_hhmm(e)) for s, e in (pairs or [])))
    check_intervals(intervals)
    return intervals
