"""Business-hours calendars and their holidays, per tenant (SLA policies point at one)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.calendars.business_time import Schedule, parse_hhmm
from helpdesk.tenancy.models import TenantOwned, validate_timezone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def validate_weekly_hours(value) -> None:
    """``{"mon": [["09:00", "18:00"]], ...}``; missing days are closed."""
    if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
        raise ValidationError(_("Use the keys mon, tue, wed, thu, fri, sat, sun."))
    try:
        weekly_to_schedule("UTC", value, ())
    except (ValueError, TypeError) as exc:
        raise ValidationError(_("Opening hours are not valid: %(error)s"), params={"error": exc}) from exc


def weekly_to_schedule(timezone: str, weekly_hours: dict, holidays) -> Schedule:
    weekly = []
    for day in WEEKDAYS:
        intervals = []
        for start, end in weekly_hours.get(day, []):
            intervals.append((parse_hhmm(start), parse_hhmm(end)))
        weekly.append(tuple(sorted(intervals)))
    return Schedule(timezone=timezone, weekly=tuple(weekly), holidays=frozenset(holidays))


class BusinessCalendar(TenantOwned):
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    weekly_hours = models.JSONField(_("opening hours"), default=dict, validators=[validate_weekly_hours])
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="calendar_unique_name"),
            models.UniqueConstraint(fields=["tenant"], condition=models.Q(is_default=True),
                                    name="calendar_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        """The pure-function view of this calendar (reads its holidays: prefetch them for lists)."""
        return weekly_to_schedule(self.timezone, self.weekly_hours, (h.date for h in self.holidays.all()))


class Holiday(TenantOwned):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["tenant", "calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
