"""A new tenant's triggers and automations, in its language, and that they work."""
from __future__ import annotations

import pytest

from helpdesk.tenancy.context import tenant_scope
from tests.factories import TenantFactory
from tickets.automation.defaults import automation_defaults_create
from tickets.models import Automation, Notification, NotificationKind, Trigger, Via

pytestmark = pytest.mark.django_db


def test_english_defaults_and_their_state(tenant):
    with tenant_scope(tenant):
        automation_defaults_create(tenant)
        automation_defaults_create(tenant)  # idempotent
        trigger = Trigger.objects.get()
        assert trigger.name == "Notify the assignee of customer replies" and trigger.is_active
        automations = list(Automation.objects.order_by("position"))
        assert [a.name for a in automations] == ["Pending for 3 days → remind the requester",
                                                 "Pending for 7 days → solved"]
        assert not any(a.is_active for a in automations)


def test_defaults_are_written_in_the_tenants_language(monkeypatch):
    from django.utils.translation import get_language

    from tickets.automation import defaults

    # Tag every string with the language active when it was translated (independent of
    # whether the Turkish catalogue is compiled yet).
    monkeypatch.setattr(defaults, "_", lambda text: f"[{get_language()}] {text}")
    tenant = TenantFactory(slug="ornek", default_locale="tr")
    with tenant_scope(tenant):
        automation_defaults_create(tenant)
        trigger = Trigger.objects.get()
        names = [trigger.name, *Automation.objects.order_by("position").values_list("name", flat=True)]
        body = Automation.objects.get(position=1).actions[0]["value"]["body"]
    assert all(name.startswith("[tr] ") for name in names)
    assert trigger.actions[0]["value"]["text"].startswith("[tr] {{ requester.name }}")
    assert body.startswith("[tr] Hello {{ requester.first_name }}")


def test_the_default_trigger_tells_the_assignee_about_a_customer_reply(tenant, make_ticket, agent, requester,
                                                                       run_events, owner):
    from tickets.services.messages import message_add

    with tenant_scope(tenant):
        automation_defaults_create(tenant)
    ticket = make_ticket(assignee=agent)
    with tenant_scope(tenant):
        with run_events():
            message_add(ticket=ticket, actor=owner, via=Via.CONSOLE, body="On it", public=True)
            message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, body="Thanks, any news?", public=True,
                        author_contact=requester)
        texts = list(Notification.objects.filter(user=agent, kind=NotificationKind.RULE)
                     .values_list("text", flat=True))
    assert texts == [f"Ayşe Yılmaz replied on ticket #{ticket.number}: {ticket.subject}"]
