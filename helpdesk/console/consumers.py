"""The console tab's live connection: ``/ws/console/``.

One socket per browser tab, authenticated by the session cookie (``AuthMiddlewareStack``
in ``helpdesk.asgi``). The tenant is resolved like ``TenantMiddleware`` does for HTTP: by
host, or on platform hosts by the session's chosen tenant. Anonymous visitors are closed
with 4401, people who are not members of the tenant (or still must enrol in two-factor
sign-in) and sockets opened from another origin with 4403; the browser does not reconnect after either.

Members join ``agents_group(tenant)`` and ``user_group(tenant, user)``. Anything in the
tenant that should reach open consoles sends, after its transaction committed::

    channel_layer.group_send(agents_group(tenant_id), {"type": "event.push", "event": {...}})

``event`` is a JSON-serialisable dict (say ``{"id", "type", "message", "data"}``); the
browser gets ``{"type": "event", "event": {...}}`` and shows ``event["message"]`` (or its
type) as a toast. The browser may send ``{"type": "ping"}`` and gets ``{"type": "pong"}``.
"""
from __future__ import annotations

from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from helpdesk.events.realtime import agents_group, user_group
from helpdesk.tenancy.resolution import SESSION_TENANT_KEY, is_platform_host, membership_for, tenant_for_host

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _header(scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return ""


def _host(scope) -> str:
    return _header(scope, b"host")


def same_origin(scope) -> bool:
    """The page that opened the socket was served by this very host.

    ``AllowedHostsOriginValidator`` accepts any origin while ALLOWED_HOSTS is ``*`` (the
    tenant middleware checks hosts instead), so a page on another site could otherwise
    open a socket with the visitor's cookies.
    """
    origin = urlparse(_header(scope, b"origin"))
    host = _host(scope).lower()
    return bool(host) and origin.scheme in ("http", "https") and origin.netloc.lower() == host


@database_sync_to_async
def _resolve_membership(scope):
    """(membership or None) for the scope's user on the scope's tenant, like the HTTP middleware."""
    from helpdesk.tenancy.models import Tenant

    user = scope.get("user")
    host = _host(scope)
    if is_platform_host(host):
        session = scope.get("session")
        tenant_id = session.get(SESSION_TENANT_KEY) if session is not None else None
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first() if tenant_id else None
    else:
        tenant = tenant_for_host(host)
    membership = membership_for(user, tenant)
    if membership is None or not membership.is_active:
        return None
    if tenant.blocks_without_two_factor(user):
        return None
    return membership


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    groups: list[str] = []

    async def connect(self):
        user = self.scope.get("user")
        # Accept first so the close code reaches the browser (a refused handshake has none).
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not same_origin(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        membership = await _resolve_membership(self.scope)
        if membership is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.tenant_id = membership.tenant_id
        self.joined = [agents_group(membership.tenant_id), user_group(membership.tenant_id, user.pk)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "hello", "tenant": membership.tenant.slug})

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # a malformed frame is ignored, not a crash

    async def event_push(self, message):
        event = message.get("event")
        if event is None:
            event = {key: value for key, value in message.items() if key != "type"}
        await self.send_json({"type": "event", "event": event})
