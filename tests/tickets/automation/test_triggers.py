"""Triggers: conditions on events and their changes, actions, the loop guard, once per ticket."""
from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from helpdesk.events.models import Event, WebhookDelivery
from helpdesk.tenancy.context import tenant_scope
from tests.factories import WebhookSubscriptionFactory
from tests.tickets.factories import TriggerFactory
from tickets.automation.triggers import trigger_create, trigger_update, validate_trigger_conditions
from tickets.models import Message, MessageKind, Notification, NotificationKind, Priority, TriggerRun, Via

pytestmark = pytest.mark.django_db


def tags_of(ticket):
    return sorted(ticket.ticket_tags.values_list("tag__name", flat=True))


def make_trigger(tenant, **kwargs):
    kwargs.setdefault("events", ["ticket.created"])
    kwargs.setdefault("conditions", {})
    kwargs.setdefault("name", "A trigger")
    with tenant_scope(tenant):
        return trigger_create(tenant=tenant, actor=None, **kwargs)


def test_a_matching_trigger_changes_the_new_ticket_via_trigger(tenant, make_ticket, run_events):
    trigger = make_trigger(
        tenant, conditions={"all": [{"field": "subject", "operator": "contains", "value": "refund"}]},
        actions=[{"field": "priority", "value": "high"}, {"field": "add_tags", "value": ["refund"]}])
    with run_events():
        refund = make_ticket(subject="I want a refund")
        other = make_ticket(subject="Where is my parcel?")
    with tenant_scope(tenant):
        refund.refresh_from_db()
        other.refresh_from_db()
        assert refund.priority == Priority.HIGH and tags_of(refund) == ["refund"]
        assert other.priority == Priority.NORMAL and tags_of(other) == []
        entry = Message.objects.filter(ticket=refund, kind=MessageKind.SYSTEM).latest("id")
        assert entry.via == Via.TRIGGER and entry.author_user_id is None
        created = Event.objects.get(type="ticket.created", subject_id=str(refund.pk))
        run = TriggerRun.objects.get(trigger=trigger)
        assert run.ticket_id == refund.pk and run.event_id == created.pk


def test_two_triggers_that_undo_each_other_stop(tenant, make_ticket, run_events, owner):
    from tickets.services.tickets import ticket_update

    both = ["ticket.created", "ticket.updated"]
    a = make_trigger(tenant, name="y to x", events=both,
                     conditions={"all": [{"field": "tags", "operator": "contains", "value": "y"}]},
                     actions=[{"field": "remove_tags", "value": ["y"]}, {"field": "add_tags", "value": ["x"]}])
    b = make_trigger(tenant, name="x to y", events=both,
                     conditions={"all": [{"field": "tags", "operator": "contains", "value": "x"}]},
                     actions=[{"field": "remove_tags", "value": ["x"]}, {"field": "add_tags", "value": ["y"]}])
    with run_events():
        ticket = make_ticket(tags=["y"])
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert tags_of(ticket) == ["y"]  # y → x (A) → y (B), then each has fired once: stop
        created = Event.objects.get(type="ticket.created", subject_id=str(ticket.pk))
        runs = list(TriggerRun.objects.filter(ticket=ticket).order_by("id").values_list("trigger_id", "event_id"))
        assert runs == [(a.pk, created.pk), (b.pk, created.pk)]
        trigger_updates = Event.objects.filter(type="ticket.updated", subject_id=str(ticket.pk),
                                               payload__via=Via.TRIGGER).count()
        assert trigger_updates == 2
        # An agent's change is a new originating event: one more round, and it stops again.
        with run_events():
            ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, priority="high")
        assert TriggerRun.objects.filter(ticket=ticket).count() == 4
        assert Event.objects.filter(type="ticket.updated", subject_id=str(ticket.pk)).count() == 5
        assert all(e.dispatched_at for e in Event.objects.filter(subject_id=str(ticket.pk)))


def test_a_trigger_does_not_see_its_own_changes_as_a_new_event(tenant, make_ticket, run_events):
    # "Whenever the ticket is updated, add a tag" would run forever without the guard.
    trigger = make_trigger(tenant, events=["ticket.created", "ticket.updated"],
                           conditions={"all": [{"field": "priority", "operator": "is", "value": "normal"}]},
                           actions=[{"field": "add_tags", "value": ["seen"]}, {"field": "priority", "value": "low"}])
    with run_events():
        ticket = make_ticket()
    with tenant_scope(tenant):
        assert TriggerRun.objects.filter(trigger=trigger, ticket=ticket).count() == 1


def test_changed_conditions_see_the_events_changes(tenant, make_ticket, run_events, owner, agent):
    from tickets.services.tickets import ticket_update

    make_trigger(tenant, events=["ticket.updated"],
                 conditions={"all": [{"field": "changed.status", "operator": "to", "value": "pending"}]},
                 actions=[{"field": "add_tags", "value": ["waiting"]}])
    ticket = make_ticket(assignee=agent)
    with tenant_scope(tenant), run_events():
        ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, priority="high")
    with tenant_scope(tenant):
        assert tags_of(ticket) == []
    with tenant_scope(tenant), run_events():
        ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, status="pending")
    with tenant_scope(tenant):
        assert tags_of(ticket) == ["waiting"]


def test_a_later_trigger_sees_the_changes_of_an_earlier_one(tenant, make_ticket, run_events):
    make_trigger(tenant, name="second", events=["ticket.created"], position=2,
                 conditions={"all": [{"field": "changed.priority", "operator": "to", "value": "urgent"}]},
                 actions=[{"field": "add_tags", "value": ["escalated"]}])
    make_trigger(tenant, name="first", events=["ticket.created"], position=1,
                 conditions={"all": [{"field": "subject", "operator": "contains", "value": "outage"}]},
                 actions=[{"field": "priority", "value": "urgent"}])
    with run_events():
        ticket = make_ticket(subject="Total outage")
    with tenant_scope(tenant):
        assert tags_of(ticket) == ["escalated"]


def test_once_per_ticket_fires_once_ever(tenant, make_ticket, run_events, owner):
    from tickets.services.tickets import ticket_update

    trigger = make_trigger(tenant, events=["ticket.updated"], once_per_ticket=True,
                           conditions={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
                           actions=[{"field": "notify", "value": {"to": "user", "user_id": owner.pk,
                                                                  "text": "#{{ ticket.number }} is urgent"}}])
    ticket = make_ticket()
    with tenant_scope(tenant):
        for subject in ("First", "Second", "Third"):
            with run_events():
                ticket_update(ticket=ticket, actor=owner, via=Via.CONSOLE, priority="urgent", subject=subject)
        assert TriggerRun.objects.filter(trigger=trigger).count() == 1
        notes = list(Notification.objects.filter(user=owner, kind=NotificationKind.RULE))
        assert [n.text for n in notes] == [f"#{ticket.number} is urgent"]


def test_inactive_triggers_and_other_event_types_do_not_fire(tenant, make_ticket, run_events):
    make_trigger(tenant, is_active=False, actions=[{"field": "add_tags", "value": ["inactive"]}])
    make_trigger(tenant, events=["ticket.message_added"], actions=[{"field": "add_tags", "value": ["message"]}])
    with run_events():
        ticket = make_ticket()
    with tenant_scope(tenant):
        assert tags_of(ticket) == []


def test_message_conditions_pick_customer_replies(tenant, make_ticket, run_events, requester, agent, owner):
    from tickets.services.messages import message_add

    make_trigger(tenant, events=["ticket.message_added"], conditions={"all": [
        {"field": "message.kind", "operator": "is", "value": "public"},
        {"field": "message.author", "operator": "is", "value": "customer"},
        {"field": "is_assigned", "operator": "is", "value": True},
    ]}, actions=[{"field": "notify", "value": {"to": "assignee", "text": "{{ requester.name }} wrote"}}])
    ticket = make_ticket(assignee=agent)
    with tenant_scope(tenant):
        with run_events():
            message_add(ticket=ticket, actor=owner, via=Via.CONSOLE, body="Note @agent@acme.test", public=False)
            message_add(ticket=ticket, actor=owner, via=Via.CONSOLE, body="We are on it", public=True)
        assert not Notification.objects.filter(user=agent, kind=NotificationKind.RULE).exists()
        with run_events():
            message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, body="Any news?", public=True,
                        author_contact=requester)
        assert list(Notification.objects.filter(user=agent, kind=NotificationKind.RULE)
                    .values_list("text", flat=True)) == ["Ayşe Yılmaz wrote"]


def test_email_to_the_requester_is_sent_in_the_tickets_language(tenant, make_ticket, run_events):
    make_trigger(tenant, actions=[{"field": "email_requester", "value": {
        "subject": {"en": "We got it: #{{ ticket.number }}", "tr": "Aldık: #{{ ticket.number }}"},
        "body": {"en": "Hello {{ requester.first_name }}", "tr": "Merhaba {{ requester.first_name }}"}}}])
    with run_events():
        ticket = make_ticket(language="tr")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Aldık: #{ticket.number} [#{ticket.number}]"
    assert mail.outbox[0].body == "Merhaba Ayşe" and mail.outbox[0].to == ["ayse@example.org"]
    assert "Merhaba Ayşe" in mail.outbox[0].alternatives[0][0]  # the branded HTML version


def test_the_webhook_action_emits_an_event_and_targets_the_named_webhook(tenant, make_ticket, run_events):
    named = WebhookSubscriptionFactory(tenant=tenant, events=["ticket.merged"])
    WebhookSubscriptionFactory(tenant=tenant, events=["ticket.merged"])  # neither named nor subscribed
    trigger = make_trigger(tenant, actions=[{"field": "webhook", "value": {"webhook_id": named.pk}}])
    with run_events():
        ticket = make_ticket()
    with tenant_scope(tenant):
        event = Event.objects.get(type="ticket.rule_webhook")
        assert event.payload["rule"] == {"kind": "trigger", "id": trigger.pk, "name": "A trigger"}
        assert event.payload["ticket"]["id"] == ticket.pk
        assert list(WebhookDelivery.objects.filter(event=event).values_list("subscription_id", flat=True)) == [named.pk]


def test_a_refused_change_is_logged_and_the_other_actions_still_run(tenant, make_ticket, run_events, owner):
    # Solving needs an assignee: the field change is refused, the notification still goes.
    make_trigger(tenant, actions=[{"field": "status", "value": "solved"},
                                  {"field": "notify", "value": {"to": "user", "user_id": owner.pk, "text": "hi"}}])
    with run_events():
        ticket = make_ticket()
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.status == "new"
        assert Notification.objects.filter(user=owner, ticket=ticket).count() == 1


def test_trigger_validation_names_the_problems(tenant):
    with pytest.raises(ValidationError) as exc:
        make_trigger(tenant, events=["ticket.deleted"],
                     conditions={"all": [{"field": "message.kind", "operator": "is", "value": "email"},
                                         {"field": "nope", "operator": "is", "value": 1}]},
                     actions=[{"field": "status", "value": "closed"}])
    errors = exc.value.message_dict
    assert "Unknown events: ticket.deleted" in errors["events"][0]
    assert errors["conditions"][0].startswith("all[0]: Not a valid value for message.kind")
    assert errors["conditions"][1] == "all[1]: Unknown field: nope"
    assert errors["actions"][0].startswith("actions[0]: status can be set to one of")


def test_trigger_conditions_accept_the_shared_language_and_changes():
    data = validate_trigger_conditions({"any": [
        {"field": "changed.assignee_id", "operator": "is_true"},
        {"field": "event.via", "operator": "in", "value": ["api", "console"]},
        {"field": "priority", "operator": "gte", "value": "high"},
    ]})
    assert len(data["any"]) == 3 and data["all"] == []


def test_trigger_update_revalidates(tenant):
    trigger = make_trigger(tenant, actions=[{"field": "add_tags", "value": ["a"]}])
    with tenant_scope(tenant):
        with pytest.raises(ValidationError):
            trigger_update(trigger=trigger, actor=None, actions=[])
        updated = trigger_update(trigger=trigger, actor=None, is_active=False, name=" Renamed ")
    assert updated.name == "Renamed" and updated.is_active is False


def test_triggers_of_another_tenant_never_fire(tenant, other_tenant, make_ticket, run_events):
    TriggerFactory(tenant=other_tenant, events=["ticket.created"], actions=[{"field": "add_tags", "value": ["x"]}])
    with run_events():
        ticket = make_ticket()
    with tenant_scope(tenant):
        assert tags_of(ticket) == [] and not TriggerRun.objects.exists()
