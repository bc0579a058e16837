"""Notifications: preferences, storage, live push, email, and where they come from."""
from __future__ import annotations

import asyncio

import pytest
from django.core import mail

from helpdesk.events.realtime import user_group
from helpdesk.events.services import event_emit
from helpdesk.tenancy.context import tenant_scope
from tests.factories import TeamMemberFactory, UserFactory, agent_in
from tests.tickets.factories import NotificationPreferenceFactory, TicketFactory, TicketFollowerFactory
from tickets.automation.notifications import (
    notification_mark_read,
    notification_preferences,
    notification_preferences_set,
    notify,
)
from tickets.models import Notification, NotificationKind, Via

pytestmark = pytest.mark.django_db


def test_notify_stores_pushes_after_commit_and_emails_in_the_persons_language(
        tenant, agent, listen, run_events):
    agent.locale = "tr"
    agent.save()
    ticket = TicketFactory(tenant=tenant, subject="Kargo gecikti")
    receive = listen(user_group(tenant.pk, agent.pk))
    with tenant_scope(tenant):
        with run_events():
            notification = notify(tenant=tenant, user=agent, kind=NotificationKind.ASSIGNED, ticket=ticket,
                                  text="Ticket assigned")
        notification.refresh_from_db()
        assert notification.emailed_at is not None and notification.read_at is None
    message = receive()
    assert message["type"] == "event.push"
    assert message["event"]["type"] == "notification" and message["event"]["message"] == "Ticket assigned"
    assert message["event"]["data"] == {"notification_id": notification.pk, "kind": "assigned",
                                        "ticket_id": ticket.pk, "ticket_number": ticket.number}
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [agent.email] and "Ticket assigned" in email.subject
    assert email.body.startswith("Merhaba ")  # the person's language, not the tenant's (en)
    assert f"#{ticket.number}" in email.body and "/console/" in email.body
    assert "Kargo gecikti" in email.alternatives[0][0]


def test_nothing_is_pushed_or_emailed_before_the_commit(tenant, agent, django_capture_on_commit_callbacks,
                                                        monkeypatch, run_events):
    from tickets.automation import notifications

    pushed = []
    monkeypatch.setattr(notifications, "_push", lambda *args: pushed.append(args))
    with tenant_scope(tenant):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notify(tenant=tenant, user=agent, kind=NotificationKind.ASSIGNED, ticket=None, text="x")
        assert pushed == [] and mail.outbox == []
        with run_events():  # the email goes through the outbox, itself queued on commit
            for callback in callbacks:
                callback()
    assert len(pushed) == 1 and pushed[0][:2] == (tenant.pk, agent.pk)
    assert len(mail.outbox) == 1


def test_preferences_decide_the_channels(tenant, agent, listen, run_events):
    receive = listen(user_group(tenant.pk, agent.pk))
    NotificationPreferenceFactory(tenant=tenant, user=agent, kind=NotificationKind.MENTIONED,
                                  in_console=False, by_email=True)
    NotificationPreferenceFactory(tenant=tenant, user=agent, kind=NotificationKind.SLA_WARNING,
                                  in_console=False, by_email=False)
    with tenant_scope(tenant), run_events():
        assert notify(tenant=tenant, user=agent, kind=NotificationKind.SLA_WARNING, ticket=None, text="x") is None
        emailed = notify(tenant=tenant, user=agent, kind=NotificationKind.MENTIONED, ticket=None, text="hi")
    assert emailed is not None and len(mail.outbox) == 1
    with pytest.raises(asyncio.TimeoutError):
        receive(0.3)


def test_people_outside_the_tenant_are_not_notified(tenant, other_agent):
    with tenant_scope(tenant):
        assert notify(tenant=tenant, user=other_agent, kind="assigned", ticket=None, text="x") is None
        assert notify(tenant=tenant, user=None, kind="assigned", ticket=None, text="x") is None
        assert not Notification.objects.exists()


def test_preferences_list_defaults_and_set(tenant, agent):
    with tenant_scope(tenant):
        rows = notification_preferences(tenant=tenant, user=agent)
        assert [r["kind"] for r in rows] == list(NotificationKind.values)
        assert all(r["in_console"] and r["by_email"] for r in rows)
        rows = notification_preferences_set(tenant=tenant, user=agent, preferences=[
            {"kind": "sla_warning", "in_console": True, "by_email": False}])
        assert {r["kind"]: r["by_email"] for r in rows}["sla_warning"] is False
        assert {r["kind"]: r["by_email"] for r in rows}["assigned"] is True


def test_mark_read(tenant, agent, owner):
    with tenant_scope(tenant):
        first = notify(tenant=tenant, user=agent, kind="assigned", ticket=None, text="1")
        notify(tenant=tenant, user=agent, kind="assigned", ticket=None, text="2")
        notify(tenant=tenant, user=owner, kind="assigned", ticket=None, text="3")
        assert notification_mark_read(tenant=tenant, user=agent, ids=[first.pk]) == 1
        assert notification_mark_read(tenant=tenant, user=agent) == 1
        assert Notification.objects.filter(read_at__isnull=True).count() == 1  # the owner's


# --- sources --------------------------------------------------------------------------------


def kinds_for(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_assignment_notifies_the_new_assignee_but_not_who_assigned_themselves(
        tenant, make_ticket, agent, owner, run_events):
    from tickets.services.tickets import ticket_update

    ticket = make_ticket()
    with tenant_scope(tenant):
        with run_events():
            ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, assignee=agent)
        assert kinds_for(agent) == ["assigned"]
        assert f"#{ticket.number}" in Notification.objects.get(user=agent).text
        with run_events():
            ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, assignee=owner)
        assert kinds_for(owner) == []


def test_a_ticket_created_with_an_assignee_notifies_them(tenant, make_ticket, agent, run_events):
    with run_events():
        make_ticket(assignee=agent)
    with tenant_scope(tenant):
        assert kinds_for(agent) == ["assigned"]


def test_routing_notifies_the_chosen_agent(tenant, routed_team, make_agent, make_ticket, run_events):
    chosen = make_agent(team=routed_team)
    with run_events():
        make_ticket(team=routed_team)
    with tenant_scope(tenant):
        assert kinds_for(chosen) == ["assigned"]


def test_mentions_and_followers(tenant, make_ticket, agent, owner, requester, run_events):
    from tickets.services.messages import message_add

    follower = agent_in(tenant, email="follower@acme.test")
    ticket = make_ticket()
    TicketFollowerFactory(tenant=tenant, ticket=ticket, user=follower)
    TicketFollowerFactory(tenant=tenant, ticket=ticket, user=agent)
    TicketFollowerFactory(tenant=tenant, ticket=ticket, user=owner)
    with tenant_scope(tenant):
        with run_events():
            message_add(ticket=ticket, actor=owner, via=Via.CONSOLE, public=False,
                        body="@agent@acme.test can you check the courier?")
        assert kinds_for(agent) == ["mentioned"]  # mentioned followers hear once
        assert kinds_for(follower) == ["followed_reply"]
        assert kinds_for(owner) == []  # the author
        with run_events():
            message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, public=True, body="Thanks!",
                        author_contact=requester)
        assert kinds_for(follower) == ["followed_reply", "followed_reply"]
        assert "customer replied" in Notification.objects.filter(user=follower).latest("id").text


def test_sla_events_go_to_the_assignee_or_else_the_team(tenant, team, agent, owner, run_events):
    member = agent_in(tenant, email="member@acme.test")
    TeamMemberFactory(tenant=tenant, team=team, user=member)
    TeamMemberFactory(tenant=tenant, team=team, user=owner)
    assigned = TicketFactory(tenant=tenant, assignee=agent, team=team)
    unassigned = TicketFactory(tenant=tenant, team=team)
    with tenant_scope(tenant), run_events():
        event_emit(tenant=tenant, type="sla.warning", subject=assigned,
                   payload={"ticket_id": assigned.pk, "metric": "first_reply"})
        event_emit(tenant=tenant, type="sla.breach", subject=unassigned,
                   payload={"ticket_id": unassigned.pk, "metric": "resolution"})
    with tenant_scope(tenant):
        assert kinds_for(agent) == ["sla_warning"]
        assert "First reply" in Notification.objects.get(user=agent).text
        assert kinds_for(member) == ["sla_breach"] and kinds_for(owner) == ["sla_breach"]


def test_inactive_people_are_skipped(tenant, make_ticket, owner, run_events):
    from tickets.services.tickets import ticket_update

    gone = agent_in(tenant, email="gone@acme.test")
    ticket = make_ticket()
    with tenant_scope(tenant):
        ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, assignee=gone)
    gone.is_active = False
    gone.save()
    with tenant_scope(tenant):
        assert notify(tenant=tenant, user=gone, kind="assigned", ticket=ticket, text="x") is None
    stranger = UserFactory()
    with tenant_scope(tenant):
        assert notify(tenant=tenant, user=stranger, kind="assigned", ticket=ticket, text="x") is None
