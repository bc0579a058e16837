import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from helpdesk.calendars.business_time import add_business
from helpdesk.calendars.models import BusinessCalendar, Holiday, validate_weekly_hours
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create

pytestmark = pytest.mark.django_db


def test_a_new_tenant_gets_default_business_hours_in_its_language_and_zone():
    tenant = tenant_create(slug="kahve", name="Kahve AŞ", owner_email="sahip@kahve.test",
                           owner_password="x-pass-12345", timezone_name="Europe/Istanbul", default_locale="tr")
    with tenant_scope(tenant):
        calendar = BusinessCalendar.objects.get()
    assert calendar.name == "Çalışma saatleri"
    assert calendar.timezone == "Europe/Istanbul"
    assert calendar.is_default
    assert calendar.weekly_hours["mon"] == [["09:00", "18:00"]]
    assert "sat" not in calendar.weekly_hours


def test_calendar_schedule_includes_holidays(in_tenant):
    calendar = BusinessCalendar.objects.create(
        tenant=in_tenant, name="Berlin", timezone="Europe/Berlin",
        weekly_hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    Holiday.objects.create(tenant=in_tenant, calendar=calendar, date=dt.date(2025, 12, 25), name="Weihnachten")
    Holiday.objects.create(tenant=in_tenant, calendar=calendar, date=dt.date(2025, 12, 26))
    start = dt.datetime(2025, 12, 24, 15, 0, tzinfo=dt.timezone.utc)  # 16:00 Berlin
    assert add_business(calendar.schedule(), start, 240) == dt.datetime(2025, 12, 29, 10, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("bad", [
    {"monday": [["09:00", "17:00"]]},
    {"mon": [["17:00", "09:00"]]},
    {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
    {"mon": [["09:00", "25:00"]]},
    {"mon": "09-17"},
    [],
])
def test_bad_opening_hours_are_refused(bad):
    with pytest.raises(ValidationError):
        validate_weekly_hours(bad)
