"""The period a report covers: whole days in the tenant's time zone, both ends included.

Reports are read in the tenant's calendar (a "day" is the tenant's day, not UTC's), so the
period is turned into a half-open UTC range ``[start_at, end_at)`` once, here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

DEFAULT_DAYS = 30
MAX_DAYS = 366


class PeriodError(ValueError):
    """A period that cannot be read; the message is for the person who asked."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    tz: ZoneInfo

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1


def tenant_zone(tenant) -> ZoneInfo:
    try:
        return ZoneInfo(tenant.timezone or "UTC")
    except Exception:  # noqa: BLE001 - a bad stored zone must not break reports
        return ZoneInfo("UTC")


def tenant_today(tenant, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tenant_zone(tenant)).date()


def _parse_day(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PeriodError(_("%(field)s must be a date such as 2025-01-31.") % {"field": label}) from None


def period_parse(*, tenant, start: str | None, end: str | None, now: datetime | None = None) -> Period:
    """``from``/``to`` as ISO dates (either may be missing: the last ``DEFAULT_DAYS`` days up
    to today). Raises ``PeriodError`` for unreadable dates, a start after the end, or more
    than ``MAX_DAYS`` days."""
    tz = tenant_zone(tenant)
    today = tenant_today(tenant, now)
    end_day = _parse_day(end, _("“To”")) if end else today
    start_day = _parse_day(start, _("“From”")) if start else end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise PeriodError(_("The period starts after it ends."))
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise PeriodError(_("A report covers at most %(days)d days.") % {"days": MAX_DAYS})
    return Period(start=start_day, end=end_day, tz=tz)
