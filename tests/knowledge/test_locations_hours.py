"""knowledge.locations.hours: open now, closing and next opening, exceptions, DST (pure)."""
from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings, strategies as st

from knowledge.locations import hours

IST = zoneinfo.ZoneInfo("Europe/Istanbul")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NINE_TO_SIX = ((540, 1080),)
WEEKDAYS = tuple([NINE_TO_SIX] * 5 + [(), ()])


def at(zone, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def shop(exceptions=None, weekly=WEEKDAYS, zone="Europe/Istanbul") -> hours.OpeningHours:
    return hours.OpeningHours(timezone=zone, weekly=weekly, exceptions=exceptions or {})


def test_open_during_hours_with_closing_time():
    state = hours.open_state(shop(), at(IST, 2025, 6, 2, 10, 30))  # a Monday
    assert state.is_open
    assert state.closes_at == at(IST, 2025, 6, 2, 18, 0)


def test_half_open_intervals():
    assert hours.is_open(shop(), at(IST, 2025, 6, 2, 9, 0))
    assert not hours.is_open(shop(), at(IST, 2025, 6, 2, 18, 0))
    assert hours.is_open(shop(), at(IST, 2025, 6, 2, 17, 59, 59))
    assert not hours.is_open(shop(), at(IST, 2025, 6, 2, 8, 59, 59))


def test_closed_before_opening_says_when_it_opens_today():
    state = hours.open_state(shop(), at(IST, 2025, 6, 2, 7, 0))
    assert not state.is_open and state.opens_at == at(IST, 2025, 6, 2, 9, 0)


def test_closed_on_the_weekend_opens_on_monday():
    state = hours.open_state(shop(), at(IST, 2025, 6, 7, 12, 0))  # Saturday
    assert not state.is_open and state.opens_at == at(IST, 2025, 6, 9, 9, 0)


def test_a_holiday_closes_the_day_and_the_next_opening_skips_it():
    holiday = {dt.date(2025, 6, 2): ()}
    state = hours.open_state(shop(holiday), at(IST, 2025, 6, 2, 10, 0))
    assert not state.is_open and state.exception_today
    assert state.opens_at == at(IST, 2025, 6, 3, 9, 0)


def test_special_hours_replace_the_weekday():
    special = {dt.date(2025, 6, 7): ((600, 840),)}  # Saturday 10:00-14:00
    assert hours.is_open(shop(special), at(IST, 2025, 6, 7, 11, 0))
    state = hours.open_state(shop(special), at(IST, 2025, 6, 7, 8, 0))
    assert state.opens_at == at(IST, 2025, 6, 7, 10, 0)


def test_open_past_midnight_is_one_opening():
    late = tuple([((1080, 1440), (0, 120))] * 7)  # 18:00-02:00 every day
    state = hours.open_state(shop(weekly=late), at(IST, 2025, 6, 2, 23, 0))
    assert state.is_open and state.closes_at == at(IST, 2025, 6, 3, 2, 0)


def test_around_the_clock_has_no_closing_time():
    always = tuple([((0, 1440),)] * 7)
    state = hours.open_state(shop(weekly=always), at(IST, 2025, 6, 2, 3, 0))
    assert state.is_open and state.closes_at is None


def test_never_open_has_no_opening():
    state = hours.open_state(shop(weekly=((),) * 7), at(IST, 2025, 6, 2, 3, 0))
    assert not state.is_open and state.opens_at is None


def test_a_long_closure_still_says_when_it_opens():
    closed = {dt.date(2025, 6, 1) + dt.timedelta(days=n): () for n in range(120)}
    state = hours.open_state(shop(closed), at(IST, 2025, 6, 2, 10, 0))
    assert state.opens_at == at(IST, 2025, 9, 29, 9, 0)  # the Monday after the closure


def test_local_time_of_the_location_not_of_the_visitor():
    # 07:30 UTC is 10:30 in Istanbul (open) and 09:30 in Berlin summer time (open), but 06:30
    # UTC is 09:30 in Istanbul and 08:30 in Berlin (closed).
    instant = dt.datetime(2025, 6, 2, 6, 30, tzinfo=dt.timezone.utc)
    assert hours.is_open(shop(zone="Europe/Istanbul"), instant)
    assert not hours.is_open(shop(zone="Europe/Berlin"), instant)


def test_dst_change_day():
    # Berlin springs forward on 2025-03-30 (02:00 → 03:00); a Sunday shop open 01:00-04:00 is
    # open two real hours that night.
    weekly = ((),) * 6 + (((60, 240),),)
    opening = list(hours.openings(shop(weekly=weekly, zone="Europe/Berlin"), dt.date(2025, 3, 30), 1))
    assert opening == [(dt.datetime(2025, 3, 30, 0, 0, tzinfo=dt.timezone.utc),
                        dt.datetime(2025, 3, 30, 2, 0, tzinfo=dt.timezone.utc))]


def test_naive_instant_refused():
    with pytest.raises(ValueError):
        hours.open_state(shop(), dt.datetime(2025, 6, 2, 10, 0))


@pytest.mark.parametrize("value,minutes", [("00:00", 0), ("09:30", 570), ("24:00", 1440)])
def test_parse_hhmm(value, minutes):
    assert hours.parse_hhmm(value) == minutes


@pytest.mark.parametrize("value", ["9:30", "24:01", "25:00", "12:60", "ab:cd", "", None])
def test_parse_hhmm_refuses(value):
    with pytest.raises((ValueError, TypeError)):
        hours.parse_hhmm(value)


def test_overlapping_intervals_refused():
    with pytest.raises(ValueError):
        shop(weekly=(((540, 720), (700, 800)),) + ((),) * 6)


# --- properties --------------------------------------------------------------------------------

minute = st.integers(min_value=0, max_value=1439)


@st.composite
def day_intervals(draw):
    points = sorted(set(draw(st.lists(st.integers(min_value=0, max_value=1440), min_size=0, max_size=6))))
    if len(points) % 2:
        points = points[:-1]
    return tuple((points[i], points[i + 1]) for i in range(0, len(points), 2))


weeks = st.tuples(*[day_intervals()] * 7)
instants = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31),
                        timezones=st.just(dt.timezone.utc))
zones = st.sampled_from(["Europe/Istanbul", "Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"])


@settings(max_examples=200, deadline=None)
@given(weeks, instants, zones, st.dictionaries(st.dates(dt.date(2024, 1, 1), dt.date(2028, 1, 10)),
                                               day_intervals(), max_size=5))
def test_state_agrees_with_its_own_times(weekly, instant, zone, exceptions):
    opening = hours.OpeningHours(timezone=zone, weekly=weekly, exceptions=exceptions)
    state = hours.open_state(opening, instant)
    second = dt.timedelta(seconds=1)
    if state.is_open:
        assert state.opens_at is None
        if state.closes_at is not None:
            assert state.closes_at > instant
            assert hours.is_open(opening, state.closes_at - second)
            assert not hours.is_open(opening, state.closes_at)
    else:
        assert state.closes_at is None
        if state.opens_at is not None:
            assert state.opens_at > instant
            assert hours.is_open(opening, state.opens_at)
            assert not hours.is_open(opening, state.opens_at - second)


@settings(max_examples=200, deadline=None)
@given(weeks, instants, zones)
def test_open_exactly_inside_a_local_interval(weekly, instant, zone):
    """Brute force: open iff the local wall time falls in one of the day's intervals (away from
    DST transitions, where local times repeat or do not exist)."""
    opening = hours.OpeningHours(timezone=zone, weekly=weekly)
    local = instant.astimezone(zoneinfo.ZoneInfo(zone))
    if local.utcoffset() != (local - dt.timedelta(hours=3)).utcoffset() or \
            local.utcoffset() != (local + dt.timedelta(hours=3)).utcoffset():
        return
    minute_of_day = local.hour * 60 + local.minute + local.second / 60
    expected = any(s <= minute_of_day < e for s, e in weekly[local.weekday()])
    assert hours.is_open(opening, instant) == expected
