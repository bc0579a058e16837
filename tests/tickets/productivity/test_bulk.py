"""Bulk updates: each ticket through ticket_update, tenant-scoped, bounded, per-id results."""
import pytest
from django.core.exceptions import ValidationError

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import TeamFactory, agent_in
from tests.tickets.factories import TagFactory, TicketFactory, TicketTagFactory
from tickets.models import Message, MessageKind, Ticket, Via
from tickets.productivity.bulk import MAX_BULK, tickets_bulk_update

pytestmark = pytest.mark.django_db


def test_each_ticket_changes_on_its_own_and_reports(tenant, other_tenant, agent, in_tenant):
    first = TicketFactory(tenant=tenant, status="open")
    second = TicketFactory(tenant=tenant, status="pending")
    closed = TicketFactory(tenant=tenant, status="closed")
    foreign = TicketFactory(tenant=other_tenant, status="open")
    results = tickets_bulk_update(tenant=tenant, actor=agent, via=Via.CONSOLE,
                                  ticket_ids=[second.pk, first.pk, closed.pk, foreign.pk, 10 ** 12, first.pk],
                                  changes={"status": "solved", "assignee_id": "me", "add_tags": ["Bulk"]})
    assert [(r.id, r.outcome) for r in results] == [
        (second.pk, "updated"), (first.pk, "updated"), (closed.pk, "invalid"), (foreign.pk, "not_found"),
        (10 ** 12, "not_found")]
    assert results[2].errors
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == ("solved", agent)
        assert list(ticket.tags.values_list("name", flat=True)) == ["bulk"]
        assert Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).count() == 1
    closed.refresh_from_db()
    assert closed.status == "closed"
    with pytest.raises(Ticket.DoesNotExist):
        Ticket.objects.get(pk=foreign.pk)  # still invisible, and untouched below
    with tenant_scope(other_tenant):
        assert Ticket.objects.get(pk=foreign.pk).status == "open"


@pytest.mark.parametrize("ids, changes, field", [
    ([], {"status": "open"}, "ids"),
    (list(range(1, MAX_BULK + 2)), {"status": "open"}, "ids"),
    (["1"], {"status": "open"}, "ids"),
    ([True], {"status": "open"}, "ids"),
    ([1], {}, "changes"),
    ([1], {"status": "closed"}, "changes"),
    ([1], {"subject": "x"}, "changes"),
    ([1], {"assignee_id": 10 ** 9}, "changes"),
    ([1], {"assignee": "me"}, "changes"),  # the PATCH names: assignee_id
])
def test_malformed_calls_change_nothing(tenant, agent, in_tenant, ids, changes, field):
    ticket = TicketFactory(tenant=tenant, status="open")
    with pytest.raises(ValidationError) as info:
        tickets_bulk_update(tenant=tenant, actor=agent, via=Via.CONSOLE, ticket_ids=ids or [ticket.pk] * 0,
                            changes=changes)
    assert field in info.value.message_dict
    ticket.refresh_from_db()
    assert ticket.version == 1


def test_changes_use_the_ticket_patch_names(tenant, owner, in_tenant):
    team = TeamFactory(tenant=tenant)
    ticket = TicketFactory(tenant=tenant, status="open")
    TicketTagFactory(tenant=tenant, ticket=ticket, tag=TagFactory(tenant=tenant, name="old"))
    [result] = tickets_bulk_update(tenant=tenant, actor=owner, via=Via.CONSOLE, ticket_ids=[ticket.pk], changes={
        "team_id": team.pk, "assignee_id": owner.pk, "tags": ["new", "Newer"], "type": "incident"})
    assert result.outcome == "updated"
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee, ticket.type) == (team, owner, "incident")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["new", "newer"]
    with pytest.raises(ValidationError) as info:
        tickets_bulk_update(tenant=tenant, actor=owner, via=Via.CONSOLE, ticket_ids=[ticket.pk],
                            changes={"team_id": 10 ** 9})
    assert info.value.message_dict["changes"][0].startswith("team_id: ")


def test_a_person_without_edit_rights_changes_nothing(tenant, in_tenant):
    light = agent_in(tenant, role=Role.LIGHT_AGENT)
    ticket = TicketFactory(tenant=tenant, status="open")
    results = tickets_bulk_update(tenant=tenant, actor=light, via=Via.CONSOLE, ticket_ids=[ticket.pk],
                                  changes={"priority": "urgent"})
    assert results[0].outcome == "invalid"
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
