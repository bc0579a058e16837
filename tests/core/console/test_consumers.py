"""The console tab's websocket: session auth, tenant by host or session, group pushes."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.asgi import application
from helpdesk.console.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from helpdesk.events.realtime import agents_group, user_group
from tests.factories import MembershipFactory, UserFactory

# Consumers reach the database from worker threads: data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user, host: str) -> str:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    if host == "localhost":
        client.get("/console/")  # the platform host picks the person's tenant into the session
    return client.cookies["sessionid"].value


def communicator(host: str, cookie: str | None = None, origin: bool = True) -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", f"http://{host}".encode()))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/console/", headers=headers)


def run(coro_fn, *args):
    return async_to_sync(coro_fn)(*args)


async def _expect_close(comm, code):
    connected, _ = await comm.connect()
    assert connected
    message = await comm.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": code}
    await comm.wait()


def test_anonymous_is_closed_with_4401(tenant):
    run(_expect_close, communicator("acme.localhost"), CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize("origin", [None, "http://evil.example", "http://globex.localhost", "null"])
def test_sockets_opened_from_another_origin_are_closed(tenant, agent, origin):
    cookie = session_cookie(agent, "acme.localhost")
    headers = [(b"host", b"acme.localhost"), (b"cookie", f"sessionid={cookie}".encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    comm = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    run(_expect_close, comm, CLOSE_FORBIDDEN)


def test_non_member_is_closed_with_4403(tenant, other_agent):
    cookie = session_cookie(other_agent, "acme.localhost")
    run(_expect_close, communicator("acme.localhost", cookie), CLOSE_FORBIDDEN)


def test_member_who_must_enrol_in_two_factor_is_closed_with_4403(tenant, agent):
    tenant.require_two_factor = True
    tenant.save()
    run(_expect_close, communicator("acme.localhost", session_cookie(agent, "acme.localhost")), CLOSE_FORBIDDEN)


def test_member_joins_and_receives_pushes_and_pongs(tenant, agent):
    cookie = session_cookie(agent, "acme.localhost")

    async def scenario():
        comm = communicator("acme.localhost", cookie)
        connected, _ = await comm.connect()
        assert connected
        assert await comm.receive_json_from(timeout=5) == {"type": "hello", "tenant": "acme"}
        layer = get_channel_layer()
        await layer.group_send(agents_group(tenant.pk), {
            "type": "event.push", "event": {"id": 7, "type": "ticket.created", "message": "New ticket #7"}})
        assert await comm.receive_json_from(timeout=5) == {
            "type": "event", "event": {"id": 7, "type": "ticket.created", "message": "New ticket #7"}}
        await layer.group_send(user_group(tenant.pk, agent.pk), {
            "type": "event.push", "event": {"type": "ticket.assigned", "message": "Assigned to you"}})
        assert (await comm.receive_json_from(timeout=5))["event"]["message"] == "Assigned to you"
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        await comm.send_to(text_data="not json")  # ignored, the socket stays up
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
        await comm.disconnect()
    run(scenario)


def test_a_member_of_tenant_b_does_not_receive_tenant_a_pushes(tenant, other_tenant, agent, other_agent):
    a_cookie = session_cookie(agent, "acme.localhost")
    b_cookie = session_cookie(other_agent, "globex.localhost")

    async def scenario():
        a = communicator("acme.localhost", a_cookie)
        b = communicator("globex.localhost", b_cookie)
        assert (await a.connect())[0] and (await b.connect())[0]
        assert (await a.receive_json_from(timeout=5))["tenant"] == "acme"
        assert (await b.receive_json_from(timeout=5))["tenant"] == "globex"
        layer = get_channel_layer()
        await layer.group_send(agents_group(tenant.pk), {"type": "event.push", "event": {"message": "A only"}})
        await layer.group_send(user_group(tenant.pk, other_agent.pk),
                               {"type": "event.push", "event": {"message": "A only, B's user id"}})
        assert (await a.receive_json_from(timeout=5))["event"]["message"] == "A only"
        assert await b.receive_nothing(timeout=0.5)
        await layer.group_send(agents_group(other_tenant.pk), {"type": "event.push", "event": {"message": "B"}})
        assert (await b.receive_json_from(timeout=5))["event"]["message"] == "B"
        assert await a.receive_nothing(timeout=0.3)
        await a.disconnect()
        await b.disconnect()
    run(scenario)


def test_platform_host_uses_the_tenant_chosen_in_the_session(tenant, other_tenant):
    user = UserFactory(email="both@example.com")
    MembershipFactory(tenant=tenant, user=user)
    MembershipFactory(tenant=other_tenant, user=user)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    client.get("/console/")
    client.post("/console/tenant/", {"tenant": other_tenant.pk})
    cookie = client.cookies["sessionid"].value

    async def scenario():
        comm = communicator("localhost", cookie)
        assert (await comm.connect())[0]
        assert (await comm.receive_json_from(timeout=5))["tenant"] == "globex"
        await get_channel_layer().group_send(agents_group(other_tenant.pk),
                                             {"type": "event.push", "event": {"message": "hi"}})
        assert (await comm.receive_json_from(timeout=5))["event"]["message"] == "hi"
        await comm.disconnect()
    run(scenario)


def test_platform_host_without_a_chosen_tenant_is_closed(tenant, agent):
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)  # no console page visited: no tenant in the session yet
    run(_expect_close, communicator("localhost", client.cookies["sessionid"].value), CLOSE_FORBIDDEN)
