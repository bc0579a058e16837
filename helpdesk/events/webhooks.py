"""Outbound webhook plumbing without the ORM: signing, the SSRF guard, one HTTP POST.

The guard runs twice: when a subscription is saved (a clear 400) and at every delivery,
where the host is resolved once, every address is checked, and the connection goes to
an address that passed: a DNS answer that changes between the check and the connect
(rebinding) cannot redirect the request inside the network. Redirects are never
followed; only http and https are spoken; no proxy from the environment is used.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "Helpdesk-Webhooks/1.0"
SIGNATURE_HEADER = "X-Signature"
# What is kept of a receiver's answer: enough to debug, never a large page.
RESPONSE_READ_LIMIT = 64 * 1024
RESPONSE_KEEP_CHARS = 2000
ERROR_KEEP_CHARS = 1000
# Status codes that a retry may fix although they are 4xx.
RETRYABLE_4XX = frozenset({408, 429})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not be delivered to; the message says why, for the integrator."""


class TargetUnresolvable(TargetRefused):
    """The host name does not resolve (now): at delivery time a retry may fix that."""


def sign(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature or "")


# --- the guard ------------------------------------------------------------------------


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is.

    IPv4 addresses embedded in IPv6 (mapped ``::ffff:a.b.c.d``, 6to4, Teredo) are judged
    by the IPv4 address they carry, so ``::ffff:127.0.0.1`` is loopback.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            reason = address_refusal(embedded)
            if reason:
                return reason
    checks = (
        ("is_loopback", _("a loopback address")),
        ("is_link_local", _("a link-local address")),
        ("is_multicast", _("a multicast address")),
        ("is_unspecified", _("an unspecified address")),
        ("is_reserved", _("a reserved address")),
        ("is_private", _("a private address")),
    )
    for attribute, label in checks:
        if getattr(address, attribute):
            return label
    if not address.is_global:  # shared address space (100.64/10) and the like
        return _("a non-public address")
    return None


def parse_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a deliverable URL, or ``TargetRefused``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("The URL is not valid.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(_("Only http and https URLs can receive webhooks."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(_("Credentials in the URL are not supported; verify the X-Signature header instead."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused(_("The URL has no host name."))
    if port is None:
        port = 443 if scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port, path


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal IP resolves to itself), de-duplicated."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_addresses(host: str, port: int, *, allow_private: bool | None = None) -> list[IPAddress]:
    """Resolve ``host`` and refuse it when any address it has is not public.

    Every address is checked, not only the first: a name with one public and one private
    record would otherwise reach the private one on a later connect.
    """
    if allow_private is None:
        allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError, ValueError):
        raise TargetUnresolvable(_("The host name %(host)s could not be resolved.") % {"host": host}) from None
    if not addresses:
        raise TargetUnresolvable(_("The host name %(host)s could not be resolved.") % {"host": host})
    if not allow_private:
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise TargetRefused(
                    _("Webhooks cannot be sent to %(host)s: it resolves to %(reason)s (%(address)s).")
                    % {"host": host, "reason": reason, "address": address}
                )
    return addresses


def check_target(url: str, *, allow_private: bool | None = None) -> None:
    """Validate a subscription URL: scheme, host, and where the host resolves to now."""
    _scheme, host, port, _path = parse_target(url)
    checked_addresses(host, port, allow_private=allow_private)


# --- delivery -------------------------------------------------------------------------


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"


@dataclass
class AttemptResult:
    outcome: Outcome
    response_status: int | None = None
    response_body: str = ""
    error: str = ""
    duration_ms: int = 0
    # Seconds the receiver asked us to wait (Retry-After on 429/503), when it said.
    retry_after: float | None = None


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SUCCEEDED
    if status >= 500 or status in RETRYABLE_4XX:
        return Outcome.RETRY
    # 4xx: the receiver refuses this request and will refuse it again; 3xx: never followed.
    return Outcome.FAILED


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
    return seconds if seconds >= 0 else None


def _pinned_connection(scheme: str, host: str, port: int, addresses: list[IPAddress],
                       timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to ``host`` that connects only to ``addresses``.

    ``Host`` and TLS (SNI and certificate check) use the name; the TCP connection goes to
    the addresses checked by the guard, never to a fresh DNS answer.
    """
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def create_connection(_address, timeout=timeout, source_address=None):
        last_error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((str(address), port), timeout, source_address)
            except OSError as exc:
                last_error = exc
        raise last_error or OSError("no address to connect to")

    conn._create_connection = create_connection  # type: ignore[attr-defined]
    return conn


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None,
         allow_private: bool | None = None) -> AttemptResult:
    """POST ``body`` to ``url`` once and say what to do next. Never raises for network trouble."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, path = parse_target(url)
        addresses = checked_addresses(host, port, allow_private=allow_private)
    except TargetRefused as exc:
        # A refused target stays refused; a name that does not resolve is network trouble.
        unresolved = isinstance(exc, TargetUnresolvable)
        return AttemptResult(outcome=Outcome.RETRY if unresolved else Outcome.FAILED,
                             error=str(exc)[:ERROR_KEEP_CHARS], duration_ms=elapsed())

    conn = _pinned_connection(scheme, host, port, addresses, timeout)
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        raw = response.read(RESPONSE_READ_LIMIT)
        status = response.status
        result = AttemptResult(
            outcome=classify(status),
            response_status=status,
            response_body=raw.decode("utf-8", errors="replace")[:RESPONSE_KEEP_CHARS],
            duration_ms=elapsed(),
            retry_after=_retry_after(response.getheader("Retry-After")),
        )
        if 300 <= status < 400:
            result.error = _("Redirects are not followed; point the webhook at the final URL.")
        return result
    except socket.timeout:
        return AttemptResult(outcome=Outcome.RETRY, duration_ms=elapsed(),
                             error=_("Timed out after %(seconds)s s.") % {"seconds": timeout})
    except (OSError, http.client.HTTPException) as exc:
        message = f"{type(exc).__name__}: {exc}"
        return AttemptResult(outcome=Outcome.RETRY, error=message[:ERROR_KEEP_CHARS], duration_ms=elapsed())
    finally:
        conn.close()
