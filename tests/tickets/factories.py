"""Factories of the tickets app (found by the isolation harness like tests/factories.py)."""
from __future__ import annotations

import datetime

import factory

from tests.factories import ContactFactory, TeamFactory, TenantOwnedFactory, UserFactory
from tickets import models as m

now = lambda: datetime.datetime.now(datetime.timezone.utc)  # noqa: E731
SAME_TENANT = factory.SelfAttribute("..tenant")


class TicketCounterFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketCounter
        django_get_or_create = ("tenant",)


class TicketSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketSettings
        django_get_or_create = ("tenant",)


class ContactReasonFactory(TenantOwnedFactory):
    class Meta:
        model = m.ContactReason

    name = factory.Sequence(lambda n: f"Reason {n}")


class TagFactory(TenantOwnedFactory):
    class Meta:
        model = m.Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class CustomFieldFactory(TenantOwnedFactory):
    class Meta:
        model = m.CustomField

    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Order number {n}")
    kind = m.CustomFieldKind.TEXT


class TicketFactory(TenantOwnedFactory):
    class Meta:
        model = m.Ticket

    number = factory.Sequence(lambda n: 100000 + n)
    subject = factory.Sequence(lambda n: f"My order {n} has not arrived")
    requester = factory.SubFactory(ContactFactory, tenant=SAME_TENANT)


class TicketTagFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketTag

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    tag = factory.SubFactory(TagFactory, tenant=SAME_TENANT)


class TicketFollowerFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketFollower

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    user = factory.SubFactory(UserFactory)


class TicketCCFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketCC

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    contact = factory.SubFactory(ContactFactory, tenant=SAME_TENANT)


class TicketLinkFactory(TenantOwnedFactory):
    class Meta:
        model = m.TicketLink

    source = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    target = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)


class SideConversationFactory(TenantOwnedFactory):
    class Meta:
        model = m.SideConversation

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    kind = m.SideConversationKind.INTERNAL
    subject = factory.Sequence(lambda n: f"Ask the warehouse about shipment {n}")


class MessageFactory(TenantOwnedFactory):
    class Meta:
        model = m.Message

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    kind = m.MessageKind.PUBLIC
    body_text = factory.Sequence(lambda n: f"Hello, this is message number {n} about my order.")


class AttachmentFactory(TenantOwnedFactory):
    class Meta:
        model = m.Attachment

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    file = factory.django.FileField(filename="invoice.pdf", data=b"%PDF-1.4 test")
    filename = "invoice.pdf"
    content_type = "application/pdf"
    size = 13


class TimeEntryFactory(TenantOwnedFactory):
    class Meta:
        model = m.TimeEntry

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    seconds = 300
    note = "Checked the courier's tracking page"


class SlaPolicyFactory(TenantOwnedFactory):
    class Meta:
        model = m.SlaPolicy

    name = factory.Sequence(lambda n: f"Standard support {n}")
    pause_statuses = factory.LazyFunction(lambda: ["pending", "on_hold"])


class SlaTargetFactory(TenantOwnedFactory):
    class Meta:
        model = m.SlaTarget

    policy = factory.SubFactory(SlaPolicyFactory, tenant=SAME_TENANT)
    metric = m.Metric.FIRST_REPLY
    priority = "normal"
    minutes = 120


class SlaTimerFactory(TenantOwnedFactory):
    class Meta:
        model = m.SlaTimer

    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)
    metric = m.Metric.FIRST_REPLY
    target_minutes = 120
    started_at = factory.LazyFunction(now)


class MacroFactory(TenantOwnedFactory):
    class Meta:
        model = m.Macro

    name = factory.Sequence(lambda n: f"Ask for the order number {n}")
    reply = factory.LazyFunction(lambda: {"en": "Hi {{ requester.first_name }}, could you send your order number?"})


class SavedViewFactory(TenantOwnedFactory):
    class Meta:
        model = m.SavedView

    name = factory.Sequence(lambda n: f"Waiting on the warehouse {n}")
    conditions = factory.LazyFunction(lambda: {"all": [{"field": "status", "operator": "is", "value": "open"}]})


class TriggerFactory(TenantOwnedFactory):
    class Meta:
        model = m.Trigger

    name = factory.Sequence(lambda n: f"Tag refund requests {n}")
    events = factory.LazyFunction(lambda: ["ticket.created"])


class TriggerRunFactory(TenantOwnedFactory):
    class Meta:
        model = m.TriggerRun

    trigger = factory.SubFactory(TriggerFactory, tenant=SAME_TENANT)
    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)


class AutomationFactory(TenantOwnedFactory):
    class Meta:
        model = m.Automation

    name = factory.Sequence(lambda n: f"Solve pending after a week {n}")


class AutomationRunFactory(TenantOwnedFactory):
    class Meta:
        model = m.AutomationRun

    automation = factory.SubFactory(AutomationFactory, tenant=SAME_TENANT)
    ticket = factory.SubFactory(TicketFactory, tenant=SAME_TENANT)


class NotificationFactory(TenantOwnedFactory):
    class Meta:
        model = m.Notification

    user = factory.SubFactory(UserFactory)
    kind = m.NotificationKind.ASSIGNED
    text = factory.Sequence(lambda n: f"Ticket #{n} was assigned to you by a colleague")


class NotificationPreferenceFactory(TenantOwnedFactory):
    class Meta:
        model = m.NotificationPreference

    user = factory.SubFactory(UserFactory)
    kind = m.NotificationKind.MENTIONED


class AgentProfileFactory(TenantOwnedFactory):
    class Meta:
        model = m.AgentProfile

    user = factory.SubFactory(UserFactory)


class TeamRoutingFactory(TenantOwnedFactory):
    class Meta:
        model = m.TeamRouting

    team = factory.SubFactory(TeamFactory, tenant=SAME_TENANT)
