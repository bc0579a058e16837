"""Automations: hourly, time-based, applied at most once per ticket per automation."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from tests.tickets.factories import TicketFactory
from tests.queries import QueryCounter
from tickets.automation.automations import automation_create, automations_run
from tickets.models import AutomationRun, Message, MessageKind, Status, Ticket, Via

pytestmark = pytest.mark.django_db

PENDING_3_DAYS = {"all": [{"field": "status", "operator": "is", "value": "pending"},
                          {"field": "hours_since_status_changed", "operator": "gte", "value": 72}]}
PENDING_7_DAYS = {"all": [{"field": "status", "operator": "is", "value": "pending"},
                          {"field": "hours_since_status_changed", "operator": "gte", "value": 168}]}


@pytest.fixture
def pending_rules(tenant):
    with tenant_scope(tenant):
        remind = automation_create(
            tenant=tenant, actor=None, name="Remind", conditions=PENDING_3_DAYS,
            actions=[{"field": "email_requester", "value": {
                "subject": "Still there? #{{ ticket.number }}", "body": "Hello {{ requester.first_name }}"}}])
        solve = automation_create(tenant=tenant, actor=None, name="Solve", conditions=PENDING_7_DAYS,
                                  actions=[{"field": "status", "value": "solved"},
                                           {"field": "add_tags", "value": ["auto_solved"]}])
    return remind, solve


def test_pending_3_days_reminds_7_days_solves_and_each_applies_once(tenant, pending_rules, make_ticket, agent,
                                                                     run_events):
    from tickets.services.tickets import ticket_update

    remind, solve = pending_rules
    ticket = make_ticket(assignee=agent)
    with tenant_scope(tenant):
        ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="pending")
        start = ticket.status_changed_at
        with run_events():
            assert automations_run(tenant=tenant, now=start + dt.timedelta(hours=71)) == {remind.pk: 0, solve.pk: 0}
        assert mail.outbox == []

        with run_events():
            assert automations_run(tenant=tenant, now=start + dt.timedelta(hours=73)) == {remind.pk: 1, solve.pk: 0}
        # Through the email channel's outbox: the ticket token is appended so answers thread back.
        assert [m.subject for m in mail.outbox] == [f"Still there? #{ticket.number} [#{ticket.number}]"]
        assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"
        with run_events():
            assert automations_run(tenant=tenant, now=start + dt.timedelta(hours=100)) == {remind.pk: 0, solve.pk: 0}
        assert len(mail.outbox) == 1

        with run_events():
            assert automations_run(tenant=tenant, now=start + dt.timedelta(days=7, hours=1)) == {
                remind.pk: 0, solve.pk: 1}
        ticket.refresh_from_db()
        assert ticket.status == Status.SOLVED
        entry = Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).latest("id")
        assert entry.via == Via.AUTOMATION and entry.author_user_id is None
        assert set(AutomationRun.objects.values_list("automation_id", "ticket_id")) == {
            (remind.pk, ticket.pk), (solve.pk, ticket.pk)}

        # A second run applies nothing, even when the ticket matches again later.
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status="pending")
        with run_events():
            assert automations_run(tenant=tenant, now=timezone.now() + dt.timedelta(days=30)) == {
                remind.pk: 0, solve.pk: 0}
        assert len(mail.outbox) == 1


def test_the_hourly_task_runs_every_tenant_in_its_own_scope(tenant, other_tenant, pending_rules, agent,
                                                             run_events):
    from tickets.tasks_automation import run_all_automations

    long_ago = timezone.now() - dt.timedelta(days=8)
    mine = TicketFactory(tenant=tenant, status=Status.PENDING, status_changed_at=long_ago, assignee=agent)
    theirs = TicketFactory(tenant=other_tenant, status=Status.PENDING, status_changed_at=long_ago)
    with run_events():
        assert run_all_automations() == 1  # only tenants with active automations
    with tenant_scope(tenant):
        mine.refresh_from_db()
        assert mine.status == Status.SOLVED
    with tenant_scope(other_tenant):
        theirs.refresh_from_db()
        assert theirs.status == Status.PENDING


def test_closed_and_inactive_are_skipped_and_batches_are_bounded(tenant, pending_rules, agent):
    remind, solve = pending_rules
    long_ago = timezone.now() - dt.timedelta(days=4)
    with tenant_scope(tenant):
        solve.is_active = False
        solve.save()
    tickets = [TicketFactory(tenant=tenant, status=Status.PENDING, status_changed_at=long_ago, assignee=agent)
               for _ in range(5)]
    TicketFactory(tenant=tenant, status=Status.CLOSED, status_changed_at=long_ago)
    with tenant_scope(tenant):
        assert automations_run(tenant=tenant, batch_size=2, max_per_automation=3) == {remind.pk: 3}
        assert automations_run(tenant=tenant, batch_size=2, max_per_automation=3) == {remind.pk: 2}
        assert automations_run(tenant=tenant, batch_size=2) == {remind.pk: 0}
        assert AutomationRun.objects.filter(automation=remind).count() == len(tickets)


def test_finding_candidates_costs_the_same_whatever_the_tickets_that_do_not_match(tenant, pending_rules):
    def queries_for_a_run():
        with tenant_scope(tenant), QueryCounter(connection) as queries:
            automations_run(tenant=tenant)
        return len(queries)

    TicketFactory(tenant=tenant, status=Status.OPEN)
    few = queries_for_a_run()
    for _ in range(30):
        TicketFactory(tenant=tenant, status=Status.OPEN)
        TicketFactory(tenant=tenant, status=Status.PENDING, status_changed_at=timezone.now())
    assert queries_for_a_run() == few


def test_an_automation_needs_a_time_condition(tenant):
    with tenant_scope(tenant), pytest.raises(ValidationError) as exc:
        automation_create(tenant=tenant, actor=None, name="Everything",
                          conditions={"all": [{"field": "status", "operator": "is", "value": "open"}]},
                          actions=[{"field": "priority", "value": "low"}])
    assert "time condition" in exc.value.message_dict["conditions"][0]


def test_two_runs_at_once_apply_once(tenant, pending_rules, agent):
    """The run row is inserted before the actions: a second insert for the same pair fails."""
    from tickets.automation.automations import automation_apply

    remind, _solve = pending_rules
    ticket = TicketFactory(tenant=tenant, status=Status.PENDING, assignee=agent,
                           status_changed_at=timezone.now() - dt.timedelta(days=4))
    with tenant_scope(tenant):
        ticket = Ticket.objects.select_related("tenant", "requester").get(pk=ticket.pk)
        assert automation_apply(automation=remind, ticket=ticket) is True
        assert automation_apply(automation=remind, ticket=ticket) is False
        assert AutomationRun.objects.filter(automation=remind, ticket=ticket).count() == 1


def test_an_automation_the_database_cannot_run_does_not_stop_the_others(tenant, pending_rules, agent,
                                                                          monkeypatch):
    from django.db import DataError

    from tickets.automation import automations

    remind, solve = pending_rules
    real = automations.automation_candidates

    def candidates(*, automation, **kwargs):
        if automation.pk == remind.pk:
            raise DataError("integer out of range")
        return real(automation=automation, **kwargs)

    monkeypatch.setattr(automations, "automation_candidates", candidates)
    TicketFactory(tenant=tenant, status=Status.PENDING, assignee=agent,
                  status_changed_at=timezone.now() - dt.timedelta(days=8))
    with tenant_scope(tenant):
        assert automations_run(tenant=tenant) == {remind.pk: 0, solve.pk: 1}
