"""Fixtures of the SLA tests: the hook registered, a controllable clock, policies."""
from __future__ import annotations

import datetime as dt

import pytest

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory
from tickets.models import SlaPolicy, SlaTarget

UTC = dt.timezone.utc


@pytest.fixture(autouse=True, scope="session")
def _sla_registered():
    """``TicketsConfig.ready()`` calls this; saying it here keeps these tests independent
    of the order in which the apps wire themselves (it is idempotent)."""
    from tickets.sla import register

    register()


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> dt.datetime:
        self.now = now
        return now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """``timezone.now()`` (and so ``auto_now``) answers the clock's instant."""
    from django.utils import timezone

    clock = Clock(dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC))  # a Monday
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def requester(tenant):
    return ContactFactory(tenant=tenant, name="Ayşe Yılmaz")


@pytest.fixture
def make_policy(tenant):
    def make(*, targets: dict, name="Policy", position=0, conditions=None, calendar=None,
             pause_statuses=("pending", "on_hold"), warning_minutes=15, of=None):
        owner = of or tenant
        with tenant_scope(owner):
            policy = SlaPolicy.objects.create(tenant=owner, name=name, position=position,
                                              conditions=conditions or {}, calendar=calendar,
                                              pause_statuses=list(pause_statuses), warning_minutes=warning_minutes)
            SlaTarget.objects.bulk_create([
                SlaTarget(tenant=owner, policy=policy, metric=metric, priority=priority, minutes=minutes)
                for (metric, priority), minutes in targets.items()
            ])
        return policy

    return make


def targets_for(minutes_by_metric: dict, priorities=("low", "normal", "high", "urgent")) -> dict:
    return {(metric, p): minutes for metric, minutes in minutes_by_metric.items() for p in priorities}


@pytest.fixture
def calendar_9_to_17(tenant):
    with tenant_scope(tenant):
        return BusinessCalendar.objects.create(
            tenant=tenant, name="Istanbul office", timezone="Europe/Istanbul",
            weekly_hours={d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
