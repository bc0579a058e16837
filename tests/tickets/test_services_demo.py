"""The demo seeder: about thirty tickets with conversations in every status."""
from __future__ import annotations

import pytest

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.demo import demo_build
from tickets.models import Message, MessageKind, Status, Ticket

pytestmark = pytest.mark.django_db


def test_demo_has_tickets_with_conversations():
    demo = demo_build(password="demo-password-1")
    with tenant_scope(demo.tenant):
        tickets = Ticket.objects.all()
        assert tickets.count() >= 30
        assert set(tickets.values_list("status", flat=True)) >= {Status.NEW, Status.OPEN, Status.PENDING,
                                                                   Status.ON_HOLD, Status.SOLVED}
        assert sorted(tickets.values_list("number", flat=True)) == list(range(1, tickets.count() + 1))
        assert Message.objects.filter(kind=MessageKind.PUBLIC, author_user__isnull=False).count() >= 10
        assert Message.objects.filter(kind=MessageKind.NOTE).exclude(mentions=[]).exists()
    assert any("tickets" in note for note in demo.notes)
