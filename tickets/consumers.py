"""Collision detection on the ticket page: ``/ws/tickets/<ticket id>/``.

One socket per open ticket page, authenticated by the session cookie like the console's
own socket (``helpdesk.console.consumers``): anonymous visitors are closed with 4401,
another origin, a non-member or a role without ``tickets.view`` with 4403, and a ticket
that is not the tenant's (missing, or another tenant's: the same answer) with 4404.

Members join the ticket's group (``realtime.ticket_group``). Presence is announced to the
group, never stored: each page says who it is when it joins, repeats it every
``HEARTBEAT_SECONDS`` and when its typing state changes, and says goodbye when it leaves;
browsers forget a peer that has not been heard of for ``PRESENCE_TTL_SECONDS`` (a tab that
crashed, a laptop closed), so presence expires without anyone cleaning up. A newcomer asks
the others to introduce themselves (``presence.sync``) and gets their answers directly.

Who someone is comes from the session, never from what the browser sends: the browser
only says "typing" or "not typing". The frames a browser may send are::

    {"type": "typing", "state": true|false}     {"type": "heartbeat"}     {"type": "ping"}

and it receives ``hello`` (its own connection id and the TTL), ``presence`` (``conn``,
``user`` {id, name}, ``state`` viewing|typing|left, ``ttl``), ``event`` (the ticket's
committed ``ticket.updated`` / ``ticket.message_added`` / ``ticket.merged`` events, pushed
by ``push_to_ticket_page``, and frames of higher apps that are no stored event, such as a
delivery's new state, pushed by ``push_to_ticket_page_after_commit``) and ``pong``.
"""
from __future__ import annotations

import asyncio
import logging
import secrets

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import transaction

from helpdesk.console.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, _resolve_membership, same_origin
from helpdesk.events.realtime import ticket_group
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap, role_has

logger = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
HEARTBEAT_SECONDS = 20
PRESENCE_TTL_SECONDS = 60
# Events of a ticket the page shows live (all committed, pushed after dispatch).
TICKET_PAGE_EVENTS = ("ticket.updated", "ticket.message_added", "ticket.merged")
VIEWING, TYPING, LEFT = "viewing", "typing", "left"
# A best-effort push (``push_to_ticket_page_after_commit``) waits no longer for the layer.
PUSH_TIMEOUT_SECONDS = 2.0


@database_sync_to_async
def _ticket_in_tenant(tenant, ticket_id: int) -> bool:
    from tickets.models import Ticket

    with tenant_scope(tenant):
        return Ticket.objects.filter(pk=ticket_id).exists()


class TicketPresenceConsumer(AsyncJsonWebsocketConsumer):
    group_name: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        await self.accept()  # first, so the close code reaches the browser
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not same_origin(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        membership = await _resolve_membership(self.scope)
        if membership is None or not role_has(membership.role, Cap.TICKETS_VIEW):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        ticket_id = self.scope["url_route"]["kwargs"]["ticket_id"]
        if not await _ticket_in_tenant(membership.tenant, ticket_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.conn = secrets.token_urlsafe(9)
        self.state = VIEWING
        self.person = {"id": user.pk, "name": user.get_full_name() or user.email}
        self.group_name = ticket_group(membership.tenant_id, ticket_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.send_json({"type": "hello", "ticket": ticket_id, "conn": self.conn, "user": self.person,
                              "ttl": PRESENCE_TTL_SECONDS, "heartbeat": HEARTBEAT_SECONDS})
        await self._announce()
        await self.channel_layer.group_send(self.group_name, {
            "type": "presence.sync", "conn": self.conn, "reply_to": self.channel_name})

    async def disconnect(self, code):
        if self.group_name is None:
            return
        self.state = LEFT
        await self._announce()
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if self.group_name is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "heartbeat":
            await self._announce()
        elif kind == "typing" and isinstance(content.get("state"), bool):
            state = TYPING if content["state"] else VIEWING
            if state != self.state:
                self.state = state
                await self._announce()

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # a malformed frame is ignored, not a crash

    # --- group messages ---------------------------------------------------------------------

    def _presence(self) -> dict:
        return {"type": "presence", "conn": self.conn, "user": self.person, "state": self.state,
                "ttl": PRESENCE_TTL_SECONDS}

    async def _announce(self) -> None:
        await self.channel_layer.group_send(self.group_name, {"type": "presence.update", "presence": self._presence()})

    async def presence_update(self, message):
        presence = message.get("presence") or {}
        if presence.get("conn") != self.conn:
            await self.send_json(presence)

    async def presence_sync(self, message):
        """A newcomer asks who is here: answer it alone."""
        if message.get("conn") == self.conn or self.state == LEFT:
            return
        await self.channel_layer.send(message["reply_to"], {"type": "presence.update",
                                                            "presence": self._presence()})

    async def ticket_event(self, message):
        event = message.get("event")
        if isinstance(event, dict):
            await self.send_json({"type": "event", "event": event})


def send_to_ticket_page(*, tenant_id: int, ticket_id: int, event: dict, timeout: float | None = None) -> None:
    """One ``event`` frame to every open page of the ticket. Raises when the channel layer
    cannot take it (or takes longer than ``timeout`` seconds)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "ticket.event", "event": event}
    group = ticket_group(tenant_id, ticket_id)

    async def send():
        await asyncio.wait_for(layer.group_send(group, message), timeout)

    async_to_sync(send)()


def push_to_ticket_page(event) -> None:
    """Event consumer: the ticket's committed change, to the pages that show that ticket."""
    from helpdesk.events.dispatch import push_message

    if not event.subject_id or not event.subject_id.isdigit():
        return
    send_to_ticket_page(tenant_id=event.tenant_id, ticket_id=int(event.subject_id),
                        event=push_message(event)["event"])


def push_to_ticket_page_after_commit(*, tenant_id: int, ticket_id: int, event: dict) -> None:
    """``event`` to the ticket's pages once the caller's transaction commits (nothing on a
    rollback), best effort: the change is stored and the page shows it on its next load,
    so a channel layer that is down or slow is logged and never fails the caller.

    For frames that are not ``Event`` rows (a delivery's state, say): they carry ids and
    states only, never content, since every page of the ticket receives them and fetches
    what it shows through its own permission checks."""
    def push() -> None:
        try:
            send_to_ticket_page(tenant_id=tenant_id, ticket_id=ticket_id, event=event,
                                timeout=PUSH_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - a live push is best effort; the change is committed
            logger.warning("could not push %s to the pages of ticket %s of tenant %s", event.get("type"),
                           ticket_id, tenant_id, exc_info=True)

    transaction.on_commit(push, robust=True)


def register_ticket_push() -> None:
    """Call from ``TicketsConfig.ready()``. The name is stored on handled events: never rename it."""
    from helpdesk.events.registry import register_consumer

    register_consumer("ticket_page", push_to_ticket_page, event_types=TICKET_PAGE_EVENTS)
