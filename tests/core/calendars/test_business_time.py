"""SPEC.md §2.3: business-time arithmetic, examples and properties."""
import datetime as dt
import zoneinfo

from hypothesis import given, settings, strategies as st

from helpdesk.calendars.business_time import (
    Schedule,
    add_business,
    business_minutes_between,
    is_open,
    next_open,
)

UTC = dt.timezone.utc
IST = zoneinfo.ZoneInfo("Europe/Istanbul")
BER = zoneinfo.ZoneInfo("Europe/Berlin")
NY = zoneinfo.ZoneInfo("America/New_York")

istanbul = Schedule.weekdays("Europe/Istanbul", "09:00", "18:00")


def test_istanbul_friday_evening_rolls_to_monday():
    start = dt.datetime(2025, 3, 7, 17, 30, tzinfo=IST)  # a Friday
    assert add_business(istanbul, start, 120) == dt.datetime(2025, 3, 10, 10, 30, tzinfo=IST)
    assert add_business(Schedule.always_open(), start, 120) == dt.datetime(2025, 3, 7, 19, 30, tzinfo=IST)


def test_berlin_christmas_holidays_are_skipped():
    berlin = Schedule.weekdays("Europe/Berlin", "09:00", "18:00",
                               holidays=[dt.date(2025, 12, 25), dt.date(2025, 12, 26)])
    start = dt.datetime(2025, 12, 24, 16, 0, tzinfo=BER)
    assert add_business(berlin, start, 240) == dt.datetime(2025, 12, 29, 11, 0, tzinfo=BER)


def test_new_york_across_the_dst_change():
    ny = Schedule.weekdays("America/New_York", "09:00", "17:00")
    start = dt.datetime(2025, 3, 7, 16, 0, tzinfo=NY)  # EST
    due = add_business(ny, start, 120)
    assert due == dt.datetime(2025, 3, 10, 14, 0, tzinfo=UTC)
    assert due.astimezone(NY).hour == 10  # EDT


def test_paused_span_is_not_counted():
    start = dt.datetime(2025, 3, 3, 9, 0, tzinfo=IST)  # Monday
    paused = [(dt.datetime(2025, 3, 3, 10, 0, tzinfo=IST), dt.datetime(2025, 3, 4, 10, 0, tzinfo=IST))]
    assert add_business(istanbul, start, 240, paused) == dt.datetime(2025, 3, 4, 13, 0, tzinfo=IST)
    assert business_minutes_between(istanbul, start, dt.datetime(2025, 3, 4, 13, 0, tzinfo=IST), paused) == 240


def test_start_outside_hours_moves_to_next_opening_and_zero_minutes_stays():
    saturday = dt.datetime(2025, 3, 8, 12, 0, tzinfo=IST)
    assert next_open(istanbul, saturday) == dt.datetime(2025, 3, 10, 9, 0, tzinfo=IST)
    assert add_business(istanbul, saturday, 0) == saturday
    assert add_business(istanbul, saturday, 1) == dt.datetime(2025, 3, 10, 9, 1, tzinfo=IST)


def test_consuming_the_last_minute_of_a_day_ends_at_closing_time():
    start = dt.datetime(2025, 3, 7, 17, 0, tzinfo=IST)
    due = add_business(istanbul, start, 60)
    assert due == dt.datetime(2025, 3, 7, 18, 0, tzinfo=IST)
    assert is_open(istanbul, due)


def test_a_schedule_without_open_time_is_refused():
    import pytest

    closed = Schedule(timezone="UTC", weekly=((),) * 7)
    with pytest.raises(ValueError):
        add_business(closed, dt.datetime(2025, 1, 1, tzinfo=UTC), 10)


zones = st.sampled_from(["Europe/Istanbul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"])
hours = st.tuples(st.integers(0, 22), st.integers(1, 12)).map(lambda t: (t[0] * 60, min(24 * 60, (t[0] + t[1]) * 60)))
schedules = st.builds(
    lambda tz, interval, days, holidays: Schedule(
        timezone=tz,
        weekly=tuple((interval,) if d in days else () for d in range(7)),
        holidays=frozenset(holidays),
    ),
    zones,
    hours,
    st.sets(st.integers(0, 6), min_size=1),
    st.sets(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)), max_size=5),
)
instants = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 6, 30), timezones=st.just(UTC))
minutes = st.integers(0, 5000)


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes, minutes)
def test_adding_a_then_b_equals_adding_a_plus_b(schedule, start, a, b):
    assert add_business(schedule, add_business(schedule, start, a), b) == add_business(schedule, start, a + b)


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes)
def test_minutes_between_start_and_result_equal_the_minutes_added(schedule, start, m):
    end = add_business(schedule, start, m)
    assert abs(business_minutes_between(schedule, start, end) - m) < 1e-6


@settings(max_examples=150, deadline=None)
@given(schedules, instants, st.integers(1, 5000))
def test_the_result_is_never_in_closed_time(schedule, start, m):
    assert is_open(schedule, add_business(schedule, start, m))
