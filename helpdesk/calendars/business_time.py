"""Business-time arithmetic: pure functions, no ORM (SPEC.md §2.3).

A ``Schedule`` is weekly opening hours in an IANA time zone plus holiday dates. Local
time is resolved per instant, so DST changes are handled; instants in and out are aware
datetimes (any zone), results are UTC.

Open intervals are closed at both ends for the purpose of "is this instant open": the
closing instant (18:00) is the last open instant, so a due time that consumes the final
minute of a day is 18:00 that day, not the next opening.

``paused`` spans (UTC ``(start, end)`` pairs) are removed from the open time: SLA
timers pause while a ticket waits on the customer.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

UTC = dt.timezone.utc
MINUTES_PER_DAY = 24 * 60
# A schedule with no open time would loop forever; no real calendar is closed this long.
MAX_SCAN_DAYS = 366 * 3

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Schedule:
    """Weekly hours: ``weekly[weekday]`` (0 = Monday) is a tuple of (start, end) minutes
    after local midnight, ``0 <= start < end <= 1440``; ``holidays`` are local dates."""

    timezone: str
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs seven days, Monday first")
        for day in self.weekly:
            last_end = -1
            for start, end in sorted(day):
                if not (0 <= start < end <= MINUTES_PER_DAY) or start < last_end:
                    raise ValueError(f"bad or overlapping interval {start}-{end}")
                last_end = end
        zoneinfo.ZoneInfo(self.timezone)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def weekdays(cls, timezone: str, start: str = "09:00", end: str = "17:00",
                 days: Iterable[int] = range(5), holidays: Iterable[dt.date] = ()) -> "Schedule":
        """The common case: the same hours on the given weekdays (default Monday-Friday)."""
        interval = (parse_hhmm(start), parse_hhmm(end))
        chosen = set(days)
        weekly = tuple((interval,) if d in chosen else () for d in range(7))
        return cls(timezone=timezone, weekly=weekly, holidays=frozenset(holidays))

    @classmethod
    def always_open(cls) -> "Schedule":
        """Calendar hours: every minute counts."""
        return cls(timezone="UTC", weekly=tuple(((0, MINUTES_PER_DAY),) for _ in range(7)))

    @property
    def is_always_open(self) -> bool:
        return not self.holidays and all(day == ((0, MINUTES_PER_DAY),) for day in self.weekly)


def parse_hhmm(value: str) -> int:
    hours, _sep, minutes = value.partition(":")
    total = int(hours) * 60 + int(minutes or 0)
    if not 0 <= total <= MINUTES_PER_DAY:
        raise ValueError(f"time out of range: {value}")
    return total


def _local_instant(day: dt.date, minute: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def open_intervals(schedule: Schedule, start: dt.datetime) -> Iterator[Interval]:
    """Open intervals (UTC) from ``start`` on, in order, clipped to begin at ``start``."""
    start = _aware(start)
    if schedule.is_always_open:
        yield start, dt.datetime.max.replace(tzinfo=UTC) - dt.timedelta(days=2)
        return
    zone = schedule.zone
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    for _ in range(MAX_SCAN_DAYS):
        if day not in schedule.holidays:
            for begin_min, end_min in sorted(schedule.weekly[day.weekday()]):
                begin = _local_instant(day, begin_min, zone)
                end = _local_instant(day, end_min, zone)
                if end < start or end <= begin:
                    continue
                yield max(begin, start), end
        day += dt.timedelta(days=1)
    raise ValueError("the schedule has no open time in the next three years")


def _subtract(intervals: Iterator[Interval], paused: Sequence[Interval]) -> Iterator[Interval]:
    """Remove paused spans (sorted, merged) from a stream of sorted intervals."""
    for begin, end in intervals:
        cursor = begin
        for p_start, p_end in paused:
            if p_end <= cursor or p_start >= end:
                continue
            if p_start > cursor:
                yield cursor, p_start
            cursor = max(cursor, p_end)
            if cursor >= end:
                break
        if cursor < end:
            yield cursor, end


def merge_spans(spans: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted((_aware(a), _aware(b)) for a, b in spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def add_business(schedule: Schedule, start: dt.datetime, minutes: float,
                 paused: Iterable[Interval] = ()) -> dt.datetime:
    """The instant ``minutes`` of open, unpaused time after ``start`` (UTC).

    A start outside hours moves to the next open instant; ``minutes == 0`` returns
    ``start`` unchanged.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _aware(start).astimezone(UTC)
    if minutes == 0:
        return start
    remaining = dt.timedelta(minutes=minutes)
    for begin, end in _subtract(open_intervals(schedule, start), merge_spans(paused)):
        length = end - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise AssertionError("unreachable: open_intervals raises when exhausted")


def business_seconds_between(schedule: Schedule, start: dt.datetime, end: dt.datetime,
                             paused: Iterable[Interval] = ()) -> float:
    """Open, unpaused seconds in ``[start, end]`` (0 when end <= start)."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return 0.0
    total = dt.timedelta()
    for begin, stop in _subtract(open_intervals(schedule, start), merge_spans(paused)):
        if begin >= end:
            break
        total += min(stop, end) - begin
    return total.total_seconds()


def business_minutes_between(schedule: Schedule, start: dt.datetime, end: dt.datetime,
                             paused: Iterable[Interval] = ()) -> float:
    return business_seconds_between(schedule, start, end, paused) / 60


def is_open(schedule: Schedule, instant: dt.datetime) -> bool:
    instant = _aware(instant).astimezone(UTC)
    first = next(open_intervals(schedule, instant))
    return first[0] <= instant <= first[1]


def next_open(schedule: Schedule, instant: dt.datetime) -> dt.datetime:
    """``instant`` itself when open, else the next opening (UTC)."""
    instant = _aware(instant).astimezone(UTC)
    return next(open_intervals(schedule, instant))[0]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    return value
