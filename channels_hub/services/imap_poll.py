"""Polling a channel's mailbox: each message is stored (committed) before the server is told
it was read, so a crash or a lost connection at any point loses nothing; a message seen
twice is a duplicate by Message-ID."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from channels_hub.email.imap import ImapCheck, ImapError, imap_check, imap_fetch
from channels_hub.models import Channel, ChannelKind, InboundSource
from channels_hub.services.inbound import MessageTooLarge, inbound_store
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope

logger = logging.getLogger(__name__)

MAX_PER_POLL = 200
SOON_SECONDS = 5
LOCK_SECONDS = 600

# ImapError codes, for people (the module itself is pure and untranslated).
ERROR_TEXTS = {
    "auth_failed": gettext_lazy("authentication failed"),
    "auth_unavailable": gettext_lazy("the server could not check the credentials right now"),
    "login_disabled": gettext_lazy("the server does not allow a password login on an unencrypted connection; "
                                   "use SSL or STARTTLS"),
    "connection_refused": gettext_lazy("connection refused"),
    "timeout": gettext_lazy("timed out"),
    "host_not_found": gettext_lazy("host not found"),
    "network": gettext_lazy("network error"),
    "connection_lost": gettext_lazy("the connection was lost"),
    "tls_certificate": gettext_lazy("the server's TLS certificate could not be verified"),
    "tls": gettext_lazy("the TLS handshake failed"),
    "starttls_unsupported": gettext_lazy("the server does not support STARTTLS"),
    "folder_not_found": gettext_lazy("folder not found"),
    "protocol": gettext_lazy("unexpected response from the server"),
    "bad_settings": gettext_lazy("invalid connection settings"),
}


def imap_error_text(error: ImapError) -> str:
    return str(ERROR_TEXTS.get(error.code, ERROR_TEXTS["protocol"]))


def _settings(channel: Channel, **extra) -> dict:
    return {"host": channel.imap_host, "port": channel.imap_port, "security": channel.imap_security,
            "username": channel.imap_username, "password": channel.imap_password, "folder": channel.imap_folder,
            **extra}


def channel_imap_check(*, channel: Channel, **extra) -> ImapCheck:
    """Try the channel's mailbox settings (the console's "test connection")."""
    return imap_check(**_settings(channel, **extra))


def channels_due_for_poll(*, now=None, limit: int = 500) -> list[tuple[int, int]]:
    """(tenant id, channel id) of mailboxes due a poll, across tenants (partial index)."""
    from django.db.models import Q

    now = now or timezone.now()
    with dangerously_unscoped():
        return list(Channel.unscoped.filter(kind=ChannelKind.EMAIL, is_active=True, tenant__is_active=True)
                    .exclude(imap_host="").filter(Q(imap_next_poll_at__isnull=True) | Q(imap_next_poll_at__lte=now))
                    .order_by("imap_next_poll_at").values_list("tenant_id", "pk")[:limit])


def channel_poll(*, channel: Channel, **extra) -> dict:
    """Fetch what is waiting in the channel's mailbox (in the tenant's scope). One poll of a
    mailbox at a time (a cache lock); returns counts, or {"skipped": True}."""
    lock = f"imap-poll:{channel.pk}"
    if not cache.add(lock, 1, timeout=LOCK_SECONDS):
        return {"skipped": True}
    try:
        with tenant_scope(channel.tenant):
            return _poll(channel, **extra)
    finally:
        cache.delete(lock)


def _poll(channel: Channel, **extra) -> dict:
    def store(raw: bytes) -> None:
        try:
            inbound_store(channel=channel, raw=raw, source=InboundSource.IMAP)
        except MessageTooLarge:
            # Too big to take: leave it unseen in the mailbox for a person to deal with.
            raise ValueError(_("message larger than the inbound limit")) from None

    now = timezone.now()
    error = ""
    result = None
    try:
        result = imap_fetch(**_settings(channel, **extra), store=store, max_messages=MAX_PER_POLL)
    except ImapError as exc:
        error = imap_error_text(exc)
        result = exc.result
        logger.info("IMAP poll of channel %s failed: %s", channel.pk, exc.code)
    interval = SOON_SECONDS if result is not None and result.more_waiting and not error else \
        channel.imap_interval_seconds
    Channel.objects.filter(pk=channel.pk).update(imap_last_polled_at=now, imap_last_error=error[:300],
                                                 imap_next_poll_at=now + timedelta(seconds=interval))
    return {"stored": result.stored if result else 0, "failed": result.failed if result else 0,
            "remaining": result.remaining if result else 0, "error": error}
