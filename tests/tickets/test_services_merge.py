"""Merge, split, link; followers, CCs, side conversations, time entries, availability."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory
from tests.tickets.core_helpers import light_agent, make_ticket, requester, second_agent  # noqa: F401
from tickets.models import (
    AgentProfile,
    LinkKind,
    Message,
    MessageKind,
    SideConversationKind,
    Status,
    Ticket,
    TicketCC,
    TicketFollower,
    TicketLink,
    TimeEntry,
    Via,
)
from tickets.services import (
    TicketClosed,
    agent_availability_set,
    message_add,
    side_conversation_close,
    side_conversation_create,
    side_conversation_reply,
    ticket_cc_add,
    ticket_cc_remove,
    ticket_follow,
    ticket_link,
    ticket_merge,
    ticket_split,
    ticket_unfollow,
    ticket_unlink,
    ticket_update,
    time_entry_add,
    time_entry_delete,
)

pytestmark = pytest.mark.django_db


def test_merge_moves_messages_and_closes_the_merged_ticket(tenant, agent, make_ticket, requester):
    other_requester = ContactFactory(tenant=tenant)
    target = make_ticket(subject="Order 1001 missing")
    source = make_ticket(subject="Where is my order?", requester=other_requester)
    message_add(ticket=source, actor=agent, via=Via.CONSOLE, body="Internal: duplicate", public=False)
    ticket_follow(ticket=source, user=agent, actor=agent, via=Via.CONSOLE)
    survivor = ticket_merge(target=target, sources=[source], actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        source.refresh_from_db()
        assert source.status == Status.CLOSED and source.merged_into_id == target.pk
        assert source.closed_at is not None
        assert survivor.message_count == 3
        assert Message.objects.filter(ticket=target).exclude(kind=MessageKind.SYSTEM).count() == 3
        # The source keeps only its history: system entries.
        assert set(Message.objects.filter(ticket=source).values_list("kind", flat=True)) == {MessageKind.SYSTEM}
        closing = Message.objects.filter(ticket=source, kind=MessageKind.SYSTEM).latest("id")
        assert closing.changes["status"][1] == "closed"
        assert "Merged into" in closing.body_text
        merged_entry = Message.objects.filter(ticket=target, kind=MessageKind.SYSTEM).latest("id")
        assert merged_entry.changes == {"merged": [None, [f"#{source.number}"]]}
        assert TicketCC.objects.filter(ticket=target, contact=other_requester).exists()
        assert TicketFollower.objects.filter(ticket=target, user=agent).exists()
        assert Event.objects.filter(type="ticket.merged", subject_id=str(source.pk)).exists()
    assert survivor.version == target.version + 1


def test_merge_refuses_itself_closed_and_other_tenants(tenant, other_tenant, agent, make_ticket):
    target, source = make_ticket(), make_ticket()
    with pytest.raises(ValidationError):
        ticket_merge(target=target, sources=[target], actor=agent, via=Via.CONSOLE)
    ticket_merge(target=target, sources=[source], actor=agent, via=Via.CONSOLE)
    with pytest.raises(TicketClosed):
        ticket_merge(target=target, sources=[source], actor=agent, via=Via.CONSOLE)
    from tests.tickets.factories import TicketFactory

    foreign = TicketFactory(tenant=other_tenant)
    with pytest.raises(ValidationError):
        ticket_merge(target=target, sources=[foreign], actor=agent, via=Via.CONSOLE)


def test_a_customer_writing_on_a_merged_ticket_reaches_the_survivor(tenant, agent, make_ticket, requester):
    other_requester = ContactFactory(tenant=tenant)
    target = make_ticket(subject="Order 1001 missing")
    source = make_ticket(subject="Where is my order?", requester=other_requester)
    ticket_update(ticket=target, actor=agent, via=Via.CONSOLE, status=Status.PENDING)
    ticket_merge(target=target, sources=[source], actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        tickets_before = Ticket.objects.count()
    message = message_add(ticket=source, actor=None, via=Via.CUSTOMER, author_contact=other_requester,
                          body="Any news?", public=True, channel="email", external_id="<news@example.org>")
    with tenant_scope(tenant):
        target.refresh_from_db()
        source.refresh_from_db()
        assert Ticket.objects.count() == tickets_before  # no follow-up
    assert message.ticket_id == target.pk and message.author_contact_id == other_requester.pk
    # The merged ticket's requester is a CC of the survivor, so writing reopens it.
    assert target.status == Status.OPEN
    assert source.status == Status.CLOSED and source.message_count == 0
    # Agents still cannot write on the merged ticket.
    with pytest.raises(TicketClosed):
        message_add(ticket=source, actor=agent, via=Via.CONSOLE, body="Note", public=False)


def test_merged_into_a_ticket_merged_or_closed_later(tenant, agent, make_ticket, requester):
    first, second, third = make_ticket(), make_ticket(), make_ticket()
    ticket_merge(target=second, sources=[first], actor=agent, via=Via.CONSOLE)
    ticket_merge(target=third, sources=[second], actor=agent, via=Via.CONSOLE)
    reached = message_add(ticket=first, actor=None, via=Via.CUSTOMER, author_contact=requester, body="Hello?",
                          public=True)
    assert reached.ticket_id == third.pk  # along the chain of merges
    ticket_update(ticket=third, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    from tests.tickets.test_services_messages import _close

    _close(tenant, third)
    again = message_add(ticket=first, actor=None, via=Via.CUSTOMER, author_contact=requester, body="Again",
                        public=True)
    with tenant_scope(tenant):
        follow_up = Ticket.objects.get(pk=again.ticket_id)
    assert follow_up.follow_up_of_id == third.pk  # the survivor is closed: its follow-up


def test_light_agents_cannot_merge(tenant, light_agent, make_ticket):
    with pytest.raises(PermissionDenied):
        ticket_merge(target=make_ticket(), sources=[make_ticket()], actor=light_agent, via=Via.CONSOLE)


def test_split_moves_one_message_to_a_new_linked_ticket(tenant, agent, make_ticket, requester):
    original = make_ticket()
    second = message_add(ticket=original, actor=None, via=Via.CUSTOMER, author_contact=requester,
                         body="Also, my invoice is wrong", public=True)
    new = ticket_split(message=second, actor=agent, via=Via.CONSOLE, subject="Invoice is wrong")
    with tenant_scope(tenant):
        second.refresh_from_db()
        original.refresh_from_db()
        assert second.ticket_id == new.pk
        assert new.subject == "Invoice is wrong" and new.requester_id == requester.pk
        assert new.message_count == 1 and original.message_count == 1
        assert TicketLink.objects.filter(source=original, target=new).exists()
        assert Message.objects.filter(ticket=original, kind=MessageKind.SYSTEM).exists()
    with pytest.raises(ValidationError):  # the only message cannot be split off
        ticket_split(message=second, actor=agent, via=Via.CONSOLE)


def test_links_are_idempotent_and_symmetric_for_related(tenant, agent, make_ticket):
    a, b = make_ticket(), make_ticket()
    link = ticket_link(source=a, target=b, actor=agent, via=Via.CONSOLE)
    assert ticket_link(source=b, target=a, actor=agent, via=Via.CONSOLE).pk == link.pk
    dup = ticket_link(source=a, target=b, actor=agent, via=Via.CONSOLE, kind=LinkKind.DUPLICATE)
    assert dup.pk != link.pk
    with pytest.raises(ValidationError):
        ticket_link(source=a, target=a, actor=agent, via=Via.CONSOLE)
    ticket_unlink(link=link, actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        assert TicketLink.objects.count() == 1


def test_followers_and_ccs(tenant, agent, light_agent, make_ticket, requester):
    ticket = make_ticket()
    ticket_follow(ticket=ticket, user=light_agent, actor=light_agent, via=Via.CONSOLE)
    ticket_follow(ticket=ticket, user=light_agent, actor=light_agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        assert TicketFollower.objects.filter(ticket=ticket).count() == 1
    with pytest.raises(PermissionDenied):  # following for someone else is editing the ticket
        ticket_follow(ticket=ticket, user=agent, actor=light_agent, via=Via.CONSOLE)
    ticket_unfollow(ticket=ticket, user=light_agent, actor=light_agent, via=Via.CONSOLE)

    cc = ContactFactory(tenant=tenant, name="Boss")
    ticket_cc_add(ticket=ticket, contact=cc, actor=agent, via=Via.CONSOLE)
    ticket_cc_add(ticket=ticket, contact=cc, actor=agent, via=Via.CONSOLE)
    with pytest.raises(ValidationError):
        ticket_cc_add(ticket=ticket, contact=requester, actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.version == 2
        assert ticket.messages.get(kind=MessageKind.SYSTEM).changes == {"cc": [None, "Boss"]}
    ticket_cc_remove(ticket=ticket, contact=cc, actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        assert not TicketCC.objects.filter(ticket=ticket).exists()


def test_side_conversations_stay_out_of_the_conversation(tenant, agent, make_ticket):
    ticket = make_ticket()
    side = side_conversation_create(ticket=ticket, actor=agent, via=Via.CONSOLE, kind=SideConversationKind.EMAIL,
                                    subject="Ask the courier", body="Where is parcel 1001?",
                                    participants=["Ops@Courier.example"])
    assert side.participants == ["ops@courier.example"]
    side_conversation_reply(side_conversation=side, actor=agent, via=Via.CONSOLE, body="Following up")
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert side.messages.count() == 2
    assert ticket.message_count == 1 and ticket.version == 1
    side_conversation_close(side_conversation=side, actor=agent, via=Via.CONSOLE)
    with pytest.raises(ValidationError):
        side_conversation_reply(side_conversation=side, actor=agent, via=Via.CONSOLE, body="More")
    with pytest.raises(ValidationError):
        side_conversation_create(ticket=ticket, actor=agent, via=Via.CONSOLE, kind=SideConversationKind.INTERNAL,
                                 subject="x", body="y", participants=["a@b.example"])


def test_time_entries_keep_handle_seconds_current(tenant, agent, make_ticket):
    ticket = make_ticket()
    first = time_entry_add(ticket=ticket, actor=agent, via=Via.CONSOLE, seconds=300, note="Called courier")
    time_entry_add(ticket=ticket, actor=agent, via=Via.CONSOLE, seconds=120, source=TimeEntry.Source.AUTO)
    assert ticket.handle_seconds == 420
    time_entry_delete(entry=first, actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.handle_seconds == 120
    for bad in (0, -5, 10**6, True, "60"):
        with pytest.raises(ValidationError):
            time_entry_add(ticket=ticket, actor=agent, via=Via.CONSOLE, seconds=bad)


def test_agent_availability(tenant, agent, owner, light_agent):
    profile = agent_availability_set(tenant=tenant, user=agent, actor=agent, status="away", capacity=5,
                                     skills=["Billing", "billing", "Returns"], languages=["tr", "en"])
    assert (profile.status, profile.capacity, profile.skills) == ("away", 5, ["billing", "returns"])
    with tenant_scope(tenant):
        assert AgentProfile.objects.get(user=agent).status_changed_at is not None
        assert Event.objects.filter(type="agent.availability_changed").count() == 1
    with pytest.raises(PermissionDenied):
        agent_availability_set(tenant=tenant, user=owner, actor=agent, status="away")
    agent_availability_set(tenant=tenant, user=agent, actor=owner, status="online")
    with pytest.raises(ValidationError):
        agent_availability_set(tenant=tenant, user=agent, actor=agent, status="sleeping")
    with pytest.raises(ValidationError):
        agent_availability_set(tenant=tenant, user=light_agent, actor=owner, status="online")


def test_merge_and_split_run_in_one_transaction_each(tenant, agent, make_ticket, monkeypatch):
    """A failure half-way through a merge leaves both tickets as they were."""
    target, source = make_ticket(), make_ticket()
    from tickets.services import merge as merge_module

    def boom(**kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(merge_module, "ticket_close", boom)
    with pytest.raises(IntegrityError):
        ticket_merge(target=target, sources=[source], actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        assert Message.objects.filter(ticket=source).count() == 1
        assert Ticket.objects.get(pk=source.pk).status == Status.NEW


def test_problem_incidents_listing(tenant, agent, make_ticket):
    from tickets.models import TicketType
    from tickets.services.merge import incidents_of

    problem = make_ticket(type=TicketType.PROBLEM)
    incidents = [make_ticket(type=TicketType.INCIDENT) for _ in range(2)]
    for incident in incidents:
        ticket_update(ticket=incident, actor=agent, via=Via.CONSOLE, problem=problem)
    with tenant_scope(tenant):
        assert [t.pk for t in incidents_of(problem)] == [t.pk for t in incidents]


def test_solving_a_problem_solves_its_unsolved_incidents_once(tenant, agent, make_ticket,
                                                              django_capture_on_commit_callbacks):
    """Through the real event pipeline (eager Celery): the consumer solves the incidents,
    each with a system entry naming the problem; a closed incident stays closed."""
    from tickets.models import TicketType

    problem = make_ticket(type=TicketType.PROBLEM)
    open_incident, pending_incident, closed_incident = (make_ticket(type=TicketType.INCIDENT) for _ in range(3))
    for incident in (open_incident, pending_incident, closed_incident):
        ticket_update(ticket=incident, actor=agent, via=Via.CONSOLE, problem=problem)
    ticket_update(ticket=pending_incident, actor=agent, via=Via.CONSOLE, status=Status.PENDING)
    ticket_update(ticket=closed_incident, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    with tenant_scope(tenant):
        Ticket.objects.filter(pk=closed_incident.pk).update(status=Status.CLOSED)
        unrelated = make_ticket(type=TicketType.INCIDENT)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=problem, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)

    with tenant_scope(tenant):
        statuses = dict(Ticket.objects.filter(pk__in=[open_incident.pk, pending_incident.pk, closed_incident.pk,
                                                       unrelated.pk]).values_list("pk", "status"))
        assert statuses == {open_incident.pk: Status.SOLVED, pending_incident.pk: Status.SOLVED,
                            closed_incident.pk: Status.CLOSED, unrelated.pk: unrelated.status}
        entry = Message.objects.filter(ticket=open_incident, kind=MessageKind.SYSTEM).order_by("-pk").first()
        assert f"#{problem.number}" in entry.body_text and entry.changes["status"][1] == Status.SOLVED
        problem.refresh_from_db()
        assert problem.assignee_id is not None  # solving needs an assignee; unassigned incidents take it
        assert Ticket.objects.get(pk=open_incident.pk).assignee_id in (problem.assignee_id, agent.pk)
        entries_before = Message.objects.filter(ticket=open_incident).count()

    from tickets.services.merge import problem_solve_incidents
    assert problem_solve_incidents(problem=problem) == []  # nothing solved twice
    with tenant_scope(tenant):
        assert Message.objects.filter(ticket=open_incident).count() == entries_before


def test_solving_an_incident_or_question_touches_nothing_else(tenant, agent, make_ticket,
                                                              django_capture_on_commit_callbacks):
    from tickets.models import TicketType

    problem = make_ticket(type=TicketType.PROBLEM)
    first, second = (make_ticket(type=TicketType.INCIDENT) for _ in range(2))
    for incident in (first, second):
        ticket_update(ticket=incident, actor=agent, via=Via.CONSOLE, problem=problem)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=first, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=second.pk).status != Status.SOLVED
        assert Ticket.objects.get(pk=problem.pk).status != Status.SOLVED
