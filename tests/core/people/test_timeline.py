"""The contact timeline: sources from the registry, merged newest first, exact cursors."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from helpdesk.people import timeline
from helpdesk.people.timeline import Cursor, TimelineEntry
from tests.factories import ContactFactory
from tests.queries import assert_num_queries
from tests.tickets.factories import MessageFactory, TicketCCFactory, TicketFactory
from tickets.models import Message, MessageKind, Ticket, TicketCC

pytestmark = pytest.mark.django_db


def _at(model, pk, moment):
    model.objects.filter(pk=pk).update(created_at=moment)


@pytest.fixture
def history(in_tenant):
    """A contact with 3 tickets, 1 CC, 3 public messages and 1 internal note, some at one instant."""
    tenant = in_tenant
    contact = ContactFactory(tenant=tenant)
    base = timezone.now() - dt.timedelta(days=10)
    tickets = [TicketFactory(tenant=tenant, requester=contact) for _ in range(3)]
    for n, ticket in enumerate(tickets):
        _at(Ticket, ticket.pk, base + dt.timedelta(hours=n))
    cc = TicketCCFactory(tenant=tenant, contact=contact)
    _at(TicketCC, cc.pk, base + dt.timedelta(hours=1))  # same instant as a ticket
    messages = [MessageFactory(tenant=tenant, ticket=tickets[0], author_contact=contact, kind=MessageKind.PUBLIC)
                for _ in range(3)]
    for message in messages:
        _at(Message, message.pk, base + dt.timedelta(hours=5))  # three at one instant
    note = MessageFactory(tenant=tenant, ticket=tickets[0], author_contact=contact, kind=MessageKind.NOTE)
    _at(Message, note.pk, base + dt.timedelta(hours=6))
    TicketFactory(tenant=tenant)  # someone else's
    return contact


def test_the_timeline_pages_through_everything_once_newest_first(in_tenant, history):
    seen, cursor = [], None
    for _ in range(10):
        page = timeline.contact_timeline(tenant=in_tenant, contact=history,
                                         before=timeline.decode_cursor(cursor) if cursor else None, limit=2)
        seen.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.kind for e in seen].count("ticket") == 3
    assert [e.kind for e in seen].count("ticket_cc") == 1
    assert [e.kind for e in seen].count("message") == 3  # the internal note is not there
    assert len({(e.kind, e.id) for e in seen}) == len(seen) == 7
    assert [e.key for e in seen] == sorted((e.key for e in seen), reverse=True)
    assert seen[0].url.startswith("/console/tickets/") and "#message-" in seen[0].url


def test_the_query_count_does_not_grow_with_history(in_tenant, history):
    with assert_num_queries(5):  # one per kind: the tickets source's three, the help center's two
        page = timeline.contact_timeline(tenant=in_tenant, contact=history, limit=50)
    assert len(page.entries) == 7 and page.next_cursor is None


def test_sources_from_other_apps_merge_in_and_a_failing_one_is_left_out(in_tenant, history):
    moment = timezone.now()

    def chats(tenant, contact, before, limit):
        entries = [TimelineEntry(kind="chat", at=moment - dt.timedelta(minutes=n), title=f"Chat {n}", id=n + 1)
                   for n in range(3)]
        return [e for e in entries if before is None or e.key < before][:limit]

    def broken(tenant, contact, before, limit):
        raise RuntimeError("down")

    timeline.register_source("test-chats", chats)
    timeline.register_source("test-broken", broken)
    try:
        page = timeline.contact_timeline(tenant=in_tenant, contact=history, limit=4)
        assert [e.title for e in page.entries[:3]] == ["Chat 0", "Chat 1", "Chat 2"]
        assert page.entries[3].kind == "message"
    finally:
        timeline.unregister_source("test-chats")
        timeline.unregister_source("test-broken")


def test_cursor_round_trip_and_refusals():
    cursor = Cursor(timezone.now(), "message", 42)
    assert timeline.decode_cursor(timeline.encode_cursor(cursor)) == cursor
    for bad in ("", "!!!", "bm9wZQ", timeline.encode_cursor(cursor)[:-3]):
        with pytest.raises(ValueError):
            timeline.decode_cursor(bad)
