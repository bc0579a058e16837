"""Collision detection: the ticket page's websocket (who is viewing, who is replying) and the
ticket's live changes pushed to it."""
from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.asgi import application
from helpdesk.console.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from helpdesk.events.models import Event
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from tests.factories import agent_in
from tests.tickets.factories import TicketFactory
from tickets.consumers import CLOSE_NOT_FOUND, PRESENCE_TTL_SECONDS, push_to_ticket_page

# Consumers reach the database from worker threads: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
HOST = "acme.localhost"


def cookie_for(user, host: str = HOST) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client.cookies["sessionid"].value


def communicator(ticket_id, *, cookie: str | None = None, host: str = HOST, origin: str | None = "same"):
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", (f"http://{host}" if origin == "same" else origin).encode()))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/tickets/{ticket_id}/", headers=headers)


async def closed_with(comm) -> int:
    connected, _ = await comm.connect()
    assert connected
    message = await comm.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await comm.wait()
    return message["code"]


async def receive(comm, wanted: str, timeout: float = 5) -> dict:
    """The next frame of type ``wanted`` (skipping others)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        frame = await comm.receive_json_from(timeout=max(left, 0.01))
        if frame.get("type") == wanted:
            return frame


@pytest.fixture
def ticket(tenant):
    return TicketFactory(tenant=tenant)


def test_anonymous_visitors_are_closed_with_4401(ticket):
    assert async_to_sync(closed_with)(communicator(ticket.pk)) == CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize("origin", [None, "http://evil.example", "http://globex.localhost"])
def test_sockets_from_another_origin_are_closed_with_4403(agent, ticket, origin):
    comm = communicator(ticket.pk, cookie=cookie_for(agent), origin=origin)
    assert async_to_sync(closed_with)(comm) == CLOSE_FORBIDDEN


def test_roles_without_tickets_view_are_closed_with_4403(tenant, ticket):
    analyst = agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test")
    assert async_to_sync(closed_with)(communicator(ticket.pk, cookie=cookie_for(analyst))) == CLOSE_FORBIDDEN


def test_another_tenants_ticket_is_closed_like_a_missing_one(tenant, other_tenant, agent, other_agent, ticket):
    theirs = TicketFactory(tenant=other_tenant)
    # An agent of acme asks for globex's ticket id on acme's host: not found.
    assert async_to_sync(closed_with)(communicator(theirs.pk, cookie=cookie_for(agent))) == CLOSE_NOT_FOUND
    # Globex's agent on globex's host asks for acme's ticket: the same answer as a missing id.
    comm = communicator(ticket.pk, cookie=cookie_for(other_agent, "globex.localhost"), host="globex.localhost")
    assert async_to_sync(closed_with)(comm) == CLOSE_NOT_FOUND
    assert async_to_sync(closed_with)(communicator(10**9, cookie=cookie_for(agent))) == CLOSE_NOT_FOUND
    # A member of globex on acme's host is not a member there.
    comm = communicator(ticket.pk, cookie=cookie_for(other_agent))
    assert async_to_sync(closed_with)(comm) == CLOSE_FORBIDDEN


def test_two_agents_see_each_other_viewing_typing_and_leaving(tenant, agent, ticket):
    second = agent_in(tenant, role=Role.LIGHT_AGENT, email="second@acme.test")
    second.full_name = "Second Person"
    second.save()
    first_cookie, second_cookie = cookie_for(agent), cookie_for(second)

    async def scenario():
        one = communicator(ticket.pk, cookie=first_cookie)
        assert (await one.connect())[0]
        hello = await receive(one, "hello")
        assert hello["ticket"] == ticket.pk and hello["ttl"] == PRESENCE_TTL_SECONDS
        assert hello["user"]["id"] == agent.pk

        two = communicator(ticket.pk, cookie=second_cookie)
        assert (await two.connect())[0]
        await receive(two, "hello")
        # The first page hears the newcomer...
        seen = await receive(one, "presence")
        assert seen["user"] == {"id": second.pk, "name": "Second Person"} and seen["state"] == "viewing"
        # ...and the newcomer hears, in answer to its question, who was there already.
        there = await receive(two, "presence")
        assert there["user"]["id"] == agent.pk and there["state"] == "viewing"

        await two.send_json_to({"type": "typing", "state": True})
        typing = await receive(one, "presence")
        assert typing["user"]["id"] == second.pk and typing["state"] == "typing"
        # Who someone is comes from the session, whatever the frame says.
        await two.send_json_to({"type": "typing", "state": False, "user": {"id": agent.pk, "name": "Forged"}})
        viewing = await receive(one, "presence")
        assert viewing["user"]["id"] == second.pk and viewing["state"] == "viewing"

        await two.send_json_to({"type": "heartbeat"})
        assert (await receive(one, "presence"))["user"]["id"] == second.pk
        await two.send_to(text_data="{not json")
        await two.send_json_to({"type": "ping"})
        assert await receive(two, "pong") == {"type": "pong"}

        await two.disconnect()
        left = await receive(one, "presence")
        assert left["user"]["id"] == second.pk and left["state"] == "left"
        await one.disconnect()

    async_to_sync(scenario)()


def test_the_tickets_committed_changes_reach_its_pages(tenant, agent, ticket):
    other_ticket = TicketFactory(tenant=tenant)
    cookie = cookie_for(agent)
    with tenant_scope(tenant):
        event = Event.objects.create(tenant=tenant, type="ticket.message_added", subject_type="tickets.ticket",
                                     subject_id=str(ticket.pk), payload={"message_id": 5, "public": True})
        unrelated = Event.objects.create(tenant=tenant, type="ticket.updated", subject_type="tickets.ticket",
                                         subject_id=str(other_ticket.pk), payload={})

    async def scenario():
        comm = communicator(ticket.pk, cookie=cookie)
        assert (await comm.connect())[0]
        await receive(comm, "hello")
        await asyncio.get_running_loop().run_in_executor(None, push_to_ticket_page, unrelated)
        await asyncio.get_running_loop().run_in_executor(None, push_to_ticket_page, event)
        frame = await receive(comm, "event")
        assert frame["event"]["id"] == event.pk  # the other ticket's change did not come here
        assert frame["event"]["type"] == "ticket.message_added"
        assert frame["event"]["subject_id"] == str(ticket.pk)
        assert frame["event"]["data"] == {"message_id": 5, "public": True}
        await comm.disconnect()

    async_to_sync(scenario)()
