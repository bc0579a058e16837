"""Reads of the channel pages: the channel list with today's counts, and the mail log pages.

Each is a fixed number of queries whatever the number of rows; log pages are keyset pages
(newest first, "Older" links carry the last row's time and id), so no page counts the table.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from channels_hub.models import Channel, ConnectorInbound, InboundEmail, OutboundEmail
from helpdesk.tenancy.models import Tenant

PAGE_SIZE = 50
# The log rows without what a list must never load (the raw message, the bodies).
INBOUND_COLUMNS = ("id", "tenant_id", "channel_id", "source", "size", "status", "reason", "error", "malformed",
                   "message_id", "sender", "subject", "ticket_id", "attempts", "received_at", "processed_at",
                   "ticket__id", "ticket__number")
OUTBOUND_COLUMNS = ("id", "tenant_id", "channel_id", "kind", "to", "cc", "subject", "status", "attempts",
                    "last_error", "next_attempt_at", "sent_at", "bounced_at", "created_at", "ticket_id",
                    "ticket__id", "ticket__number")


class InvalidCursor(ValueError):
    pass


def _start_of_today() -> datetime:
    now = timezone.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def channel_list(*, tenant: Tenant) -> list[Channel]:
    """The tenant's channels, each with ``received_today`` (mail or connector messages since
    local midnight): three queries for any number of channels."""
    channels = list(Channel.objects.filter(tenant=tenant).order_by("kind", "name", "id"))
    since = _start_of_today()
    counts: dict[int, int] = {}
    ids = [c.pk for c in channels]
    if ids:
        for model in (InboundEmail, ConnectorInbound):
            rows = (model.objects.filter(tenant=tenant, channel_id__in=ids, received_at__gte=since)
                    .values("channel_id").annotate(n=Count("id")).order_by())
            for row in rows:
                counts[row["channel_id"]] = counts.get(row["channel_id"], 0) + row["n"]
    for channel in channels:
        channel.received_today = counts.get(channel.pk, 0)
    return channels


def encode_cursor(when: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when_text, _sep, pk_text = text.partition("|")
        when, pk = datetime.fromisoformat(when_text), int(pk_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if timezone.is_naive(when) or not 0 < pk < 2**63:
        raise InvalidCursor(cursor)
    return when, pk


@dataclass
class LogPage:
    rows: list[Any]
    next_cursor: str


def _page(queryset: QuerySet, *, time_field: str, cursor: str) -> LogPage:
    if cursor:
        when, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(**{f"{time_field}__lt": when}) | Q(**{time_field: when, "pk__lt": pk}))
    rows = list(queryset.order_by(f"-{time_field}", "-id")[:PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = encode_cursor(getattr(rows[-1], time_field), rows[-1].pk) if more else ""
    return LogPage(rows=rows, next_cursor=next_cursor)


def inbound_log(*, channel: Channel, cursor: str = "") -> LogPage:
    """One page of the mail the channel received (index ``inbound_tenant_channel``)."""
    queryset = (InboundEmail.objects.filter(tenant_id=channel.tenant_id, channel=channel)
                .select_related("ticket").only(*INBOUND_COLUMNS))
    return _page(queryset, time_field="received_at", cursor=cursor)


def outbound_log(*, channel: Channel, cursor: str = "") -> LogPage:
    """One page of the mail sent through the channel."""
    queryset = (OutboundEmail.objects.filter(tenant_id=channel.tenant_id, channel=channel)
                .select_related("ticket").only(*OUTBOUND_COLUMNS))
    return _page(queryset, time_field="created_at", cursor=cursor)
