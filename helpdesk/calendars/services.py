from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.tenancy.models import Tenant

DEFAULT_WEEKLY_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def calendar_create_default(tenant: Tenant) -> BusinessCalendar:
    """A new tenant's business hours: Monday-Friday 09:00-18:00 in the tenant's time zone,
    named in the tenant's language. Called in the tenant's scope by ``tenant_create``."""
    with translation.override(tenant.default_locale):
        name = _("Business hours")
    calendar, _created = BusinessCalendar.objects.get_or_create(
        tenant=tenant, is_default=True,
        defaults={"name": name, "timezone": tenant.timezone, "weekly_hours": DEFAULT_WEEKLY_HOURS},
    )
    return calendar
