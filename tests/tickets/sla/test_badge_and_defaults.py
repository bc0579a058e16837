"""The console SLA badge fragment and the new-tenant default policy."""
from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from helpdesk.calendars.models import BusinessCalendar
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create
from tests.tickets.factories import SlaTimerFactory, TicketFactory
from tickets.models import SlaPolicy, Ticket
from tickets.sla.selectors import with_sla

UTC = dt.timezone.utc
M = dt.timedelta(minutes=1)

pytestmark = pytest.mark.django_db


def render_badge(tenant, ticket):
    with tenant_scope(tenant):
        ticket = with_sla(Ticket.objects.filter(pk=ticket.pk)).get()
        return render_to_string("console/tickets/_sla_badge.html", {"ticket": ticket})


@pytest.fixture
def now(clock):
    return clock.set(dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC))


def test_badge_counts_down_to_the_nearest_due_metric(tenant, now):
    ticket = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=ticket, metric="resolution", due_at=now + 300 * M,
                    warn_at=now + 285 * M)
    SlaTimerFactory(tenant=tenant, ticket=ticket, metric="first_reply", due_at=now + 80 * M, warn_at=now + 65 * M)
    html = render_badge(tenant, ticket)
    assert 'class="sla-badge sla-normal"' in html
    assert 'data-metric="first_reply"' in html
    assert f'data-due-at="{(now + 80 * M).isoformat()}"' in html
    assert f'data-warn-at="{(now + 65 * M).isoformat()}"' in html
    assert "First reply" in html and "1 h 20 min left" in html


def test_badge_colours_by_urgency(tenant, now):
    warning = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=warning, due_at=now + 10 * M, warn_at=now - 5 * M)
    assert "sla-badge sla-warning" in render_badge(tenant, warning)
    breached = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=breached, status="breached", due_at=now - 125 * M,
                    breached_at=now - 125 * M)
    html = render_badge(tenant, breached)
    assert "sla-badge sla-breached" in html and "2 h 5 min overdue" in html and "data-breached" in html
    paused = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=paused, status="paused", due_at=None, warn_at=None, paused_at=now)
    html = render_badge(tenant, paused)
    assert "sla-badge sla-paused" in html and "data-due-at" not in html and "Paused" in html
    done = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=done, status="achieved", due_at=now, fulfilled_at=now - M)
    assert "sla-badge" not in render_badge(tenant, done)


def test_badge_is_translated(tenant, now):
    """Needs the Turkish catalogue to carry the badge's strings (the lead's locale/)."""
    ticket = TicketFactory(tenant=tenant)
    SlaTimerFactory(tenant=tenant, ticket=ticket, status="paused", due_at=None, warn_at=None, paused_at=now)
    english = render_badge(tenant, ticket)
    with translation.override("tr"):
        turkish = render_badge(tenant, ticket)
    assert "Paused" in english and "First reply" in english
    assert "Paused" not in turkish and "First reply" not in turkish


def test_a_new_tenant_gets_the_standard_policy_on_its_business_hours():
    tenant = tenant_create(slug="newco", name="NewCo", owner_email="owner@newco.test", owner_password="x" * 12,
                           timezone_name="Europe/Istanbul")
    with tenant_scope(tenant):
        [policy] = SlaPolicy.objects.prefetch_related("targets")
        calendar = BusinessCalendar.objects.get(is_default=True)
        targets = {(t.metric, t.priority): t.minutes for t in policy.targets.all()}
    assert (policy.name, policy.position, policy.calendar_id, policy.warning_minutes) == ("Standard", 0,
                                                                                          calendar.pk, 15)
    assert policy.pause_statuses == ["pending", "on_hold"]
    assert policy.conditions == {"all": [], "any": []}
    assert targets == {
        ("first_reply", "urgent"): 60, ("first_reply", "high"): 240, ("first_reply", "normal"): 480,
        ("first_reply", "low"): 1440,
        ("next_reply", "urgent"): 60, ("next_reply", "high"): 240, ("next_reply", "normal"): 480,
        ("next_reply", "low"): 1440,
        ("resolution", "urgent"): 480, ("resolution", "high"): 1440, ("resolution", "normal"): 2880,
        ("resolution", "low"): 5760,
    }


def test_a_turkish_tenant_gets_standart():
    tenant = tenant_create(slug="yeni", name="Yeni A.Ş.", owner_email="sahip@yeni.test", owner_password="x" * 12,
                           timezone_name="Europe/Istanbul", default_locale="tr")
    with tenant_scope(tenant):
        assert SlaPolicy.objects.get().name == "Standart"


def test_defaults_are_idempotent(tenant):
    from tickets.sla.defaults import sla_defaults_create

    with tenant_scope(tenant):
        assert sla_defaults_create(tenant) is not None
        assert sla_defaults_create(tenant) is None
        assert SlaPolicy.objects.count() == 1
