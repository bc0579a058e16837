"""IMAP polling of a channel's mailbox: the pure transport step, no ORM and no Django.

``imap_fetch`` takes every unseen message of one folder and hands its raw bytes to
``store``; a message is marked ``\\Seen`` (or deleted) only after ``store`` returned, so a
crash, a failing ``store`` or a dropped connection leaves it unseen and the next poll takes
it again: nothing accepted is lost. The price is at-least-once delivery — when the
connection drops between ``store`` and the flag update, the next poll hands the same
message over again, so ``store`` (the intake pipeline) must recognise duplicates (it does,
by Message-ID; SPEC.md).

Messages are fetched with ``BODY.PEEK[]`` so reading never sets ``\\Seen`` by itself, and
searched with ``UNSEEN UNDELETED`` so a message flagged ``\\Deleted`` but not yet expunged
(delete mode interrupted before EXPUNGE) is not taken twice.

Failures to reach or use the server raise ``ImapError``, whose ``code`` is stable (for
translated UI text and metrics) and whose English message is safe to show an admin: it
never contains the password or raw server output.
"""
from __future__ import annotations

import base64
import contextlib
import errno
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ImapCheck", "ImapError", "ImapResult", "imap_check", "imap_fetch"]

logger = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "none"]
AfterStore = Literal["seen", "delete"]
SECURITY_CHOICES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}

# code → admin-safe English message. The codes are the contract; callers translate them.
MESSAGES = {
    "auth_failed": "authentication failed",
    "auth_unavailable": "the server could not check the credentials right now",
    "login_disabled": "the server does not allow a password login on an unencrypted connection; use SSL or STARTTLS",
    "connection_refused": "connection refused",
    "timeout": "timed out",
    "host_not_found": "host not found",
    "network": "network error",
    "connection_lost": "the connection was lost",
    "tls_certificate": "the server's TLS certificate could not be verified",
    "tls": "the TLS handshake failed",
    "starttls_unsupported": "the server does not support STARTTLS",
    "folder_not_found": "folder not found",
    "protocol": "unexpected response from the server",
    "bad_settings": "invalid connection settings",
}


class ImapError(Exception):
    """A mailbox that cannot be reached or used. ``str(error)`` is safe to show an admin;
    ``code`` is one of ``MESSAGES``; ``result`` holds what a fetch did before failing
    (messages already stored stay stored; ``None`` when it failed before fetching)."""

    def __init__(self, code: str, message: str | None = None, *, result: ImapResult | None = None) -> None:
        self.code = code
        self.result = result
        super().__init__(message or MESSAGES.get(code, MESSAGES["protocol"]))


@dataclass
class ImapResult:
    """One poll. ``remaining`` counts unseen messages left for the next poll because of
    ``max_messages`` (poll again soon when it is > 0); messages whose ``store`` failed
    (``failed``) or that vanished while we worked (``vanished``) are not included."""

    fetched: int = 0
    stored: int = 0
    failed: int = 0
    vanished: int = 0
    remaining: int = 0
    failed_uids: list[int] = field(default_factory=list)

    @property
    def more_waiting(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True)
class ImapCheck:
    """A successful credentials test: the folder's size and unseen count."""

    messages: int
    unseen: int
    capabilities: tuple[str, ...]


def imap_fetch(
    *,
    host: str,
    port: int | None = None,
    security: Security = "ssl",
    username: str,
    password: str,
    folder: str = "INBOX",
    store: Callable[[bytes], None],
    max_messages: int = 100,
    timeout: float = 30,
    after_store: AfterStore = "seen",
    ssl_context: ssl.SSLContext | None = None,
) -> ImapResult:
    """Hand each unseen message of ``folder`` (oldest first, at most ``max_messages``) to
    ``store(raw_bytes)``; after ``store`` returns, mark it ``\\Seen`` (``after_store="seen"``)
    or delete and expunge it (``"delete"``). A ``store`` that raises is logged and counted
    in ``failed``; the message stays unseen for the next poll and the others go on.
    Raises ``ImapError`` when the server cannot be reached, logged into or used."""
    if after_store not in ("seen", "delete"):
        raise ImapError("bad_settings", "after_store must be 'seen' or 'delete'")
    if max_messages < 1:
        raise ImapError("bad_settings", "max_messages must be at least 1")
    result = ImapResult()
    try:
        with _session(host, port, security, username, password, timeout, ssl_context) as conn:
            _select(conn, folder, readonly=False)
            uids = _search_unseen(conn)
            batch, result.remaining = uids[:max_messages], max(0, len(uids) - max_messages)
            taken: list[int] = []
            for uid in batch:
                raw = _fetch_raw(conn, uid)
                if raw is None:
                    result.vanished += 1
                    continue
                result.fetched += 1
                try:
                    store(raw)
                except Exception:  # noqa: BLE001 - any store failure: keep the message unseen
                    logger.exception("imap: storing message uid=%s of %s@%s failed; it stays unseen", uid, username, host)
                    result.failed += 1
                    result.failed_uids.append(uid)
                    continue
                result.stored += 1
                flags = r"(\Seen \Deleted)" if after_store == "delete" else r"(\Seen)"
                _ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", flags), "protocol")
                taken.append(uid)
            if after_store == "delete" and taken:
                _expunge(conn, taken)
    except ImapError as error:
        error.result = result
        raise
    return result


def imap_check(
    *,
    host: str,
    port: int | None = None,
    security: Security = "ssl",
    username: str,
    password: str,
    folder: str = "INBOX",
    timeout: float = 15,
    ssl_context: ssl.SSLContext | None = None,
) -> ImapCheck:
    """Connect, log in and open ``folder`` read-only (changes nothing): the "test
    connection" button. Raises ``ImapError`` with the reason."""
    with _session(host, port, security, username, password, timeout, ssl_context) as conn:
        exists = _select(conn, folder, readonly=True)
        unseen = len(_search_unseen(conn))
        return ImapCheck(messages=exists, unseen=unseen, capabilities=tuple(conn.capabilities))


# ---------------------------------------------------------------- connection


@contextlib.contextmanager
def _session(
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection; every network or protocol failure inside (including the
    caller's block) comes out as ``ImapError``."""
    if security not in SECURITY_CHOICES:
        raise ImapError("bad_settings", "security must be 'ssl', 'starttls' or 'none'")
    if not host or not username:
        raise ImapError("bad_settings", "host and username are required")
    port = port or DEFAULT_PORTS[security]
    conn: imaplib.IMAP4 | None = None
    try:
        try:
            if security == "ssl":
                conn = imaplib.IMAP4_SSL(
                    host, port, ssl_context=ssl_context or ssl.create_default_context(), timeout=timeout
                )
            else:
                conn = imaplib.IMAP4(host, port, timeout=timeout)
            if security == "starttls":
                if "STARTTLS" not in conn.capabilities:
                    raise ImapError("starttls_unsupported")
                conn.starttls(ssl_context or ssl.create_default_context())
            _login(conn, username, password)
            yield conn
        except ImapError:
            raise
        except imaplib.IMAP4.abort as error:
            raise _network_error(error) from None
        except imaplib.IMAP4.error as error:
            logger.info("imap: protocol error with %s:%s: %s", host, port, error)
            raise ImapError("protocol") from None
        except (OSError, EOFError) as error:
            raise _network_error(error) from None
    finally:
        if conn is not None:
            _close(conn)


def _login(conn: imaplib.IMAP4, username: str, password: str) -> None:
    if "LOGINDISABLED" in conn.capabilities:
        raise ImapError("login_disabled")
    try:
        if (username + password).isascii():
            conn.login(username, password)
        else:
            # LOGIN takes ASCII only in imaplib; SASL PLAIN carries UTF-8 (RFC 4616).
            token = f"\0{username}\0{password}".encode()
            conn.authenticate("PLAIN", lambda _challenge: token)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        text = str(error).upper()
        if "UNAVAILABLE" in text or "TEMPORARY" in text:
            raise ImapError("auth_unavailable") from None
        raise ImapError("auth_failed") from None


def _close(conn: imaplib.IMAP4) -> None:
    # LOGOUT, not CLOSE: CLOSE would expunge whatever the mailbox's users flagged \Deleted.
    try:
        conn.logout()
    except Exception:  # noqa: BLE001 - the work is done or already failed; just let go
        with contextlib.suppress(Exception):
            conn.shutdown()


def _network_error(error: BaseException) -> ImapError:
    if isinstance(error, ssl.SSLCertVerificationError):
        return ImapError("tls_certificate")
    if isinstance(error, ssl.SSLError):
        return ImapError("tls")
    if isinstance(error, (TimeoutError, socket.timeout)):
        return ImapError("timeout")
    if isinstance(error, ConnectionRefusedError):
        return ImapError("connection_refused")
    if isinstance(error, socket.gaierror):
        return ImapError("host_not_found")
    if isinstance(error, imaplib.IMAP4.abort):
        # imaplib wraps socket errors of reads in abort("socket error: ...").
        text = str(error).lower()
        if "timed out" in text:
            return ImapError("timeout")
        return ImapError("connection_lost")
    if isinstance(error, (ConnectionResetError, BrokenPipeError, EOFError)):
        return ImapError("connection_lost")
    if isinstance(error, OSError) and error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return ImapError("network", "host unreachable")
    return ImapError("network")


# ---------------------------------------------------------------- commands


def _ok(response: tuple[str, list], code: str) -> list:
    typ, data = response
    if typ != "OK":
        logger.info("imap: command failed: %s %s", typ, data)
        raise ImapError(code)
    return data


def _select(conn: imaplib.IMAP4, folder: str, *, readonly: bool) -> int:
    typ, data = conn.select(quote_mailbox(folder), readonly=readonly)
    if typ != "OK":
        raise ImapError("folder_not_found")
    try:
        return int(data[0])
    except (TypeError, ValueError, IndexError):
        return 0


def _search_unseen(conn: imaplib.IMAP4) -> list[int]:
    data = _ok(conn.uid("SEARCH", None, "UNSEEN UNDELETED"), "protocol")
    uids: set[int] = set()
    for line in data:
        if isinstance(line, bytes):
            uids.update(int(token) for token in line.split() if token.isdigit())
    return sorted(uids)


def _fetch_raw(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The raw message, or ``None`` when the server has no body for it (expunged by
    another client meanwhile)."""
    data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), "protocol")
    return parse_fetch_body(data, uid)


_BODY_LITERAL = re.compile(rb"BODY\[\]\s*(?:<0>)?\s*\{\d+\+?\}\s*$", re.IGNORECASE)
_UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)
_BODY_QUOTED = re.compile(rb'BODY\[\]\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE)


def parse_fetch_body(data: list, uid: int) -> bytes | None:
    """Pick the ``BODY[]`` of message ``uid`` out of imaplib's FETCH response data.

    Servers differ: the data may carry unsolicited FETCH responses for other messages
    (flag changes by other clients), put ``UID`` before or after ``BODY[]``, omit ``UID``
    altogether, answer with a quoted string instead of a literal for a tiny body, with
    ``NIL`` or nothing for a message that was just expunged, or split the item list so
    the ``UID`` comes after the literal (it then arrives as the next bytes element)."""
    candidates: list[tuple[int | None, bytes]] = []
    items = list(data or [])
    for index, item in enumerate(items):
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[0], bytes):
            head, body = item[0], item[1]
            if not _BODY_LITERAL.search(head) or not isinstance(body, bytes):
                continue
            match = _UID.search(head)
            if match is None and index + 1 < len(items) and isinstance(items[index + 1], bytes):
                match = _UID.search(items[index + 1])  # "... BODY[] {n}" literal " UID 7)"
            candidates.append((int(match.group(1)) if match else None, body))
        elif isinstance(item, bytes):
            quoted = _BODY_QUOTED.search(item)
            if quoted:
                match = _UID.search(item)
                body = re.sub(rb"\\(.)", rb"\1", quoted.group(1))
                candidates.append((int(match.group(1)) if match else None, body))
    for found_uid, body in candidates:
        if found_uid == uid:
            return body
    anonymous = [body for found_uid, body in candidates if found_uid is None]
    if len(anonymous) == 1:
        return anonymous[0]
    return None


def _expunge(conn: imaplib.IMAP4, uids: list[int]) -> None:
    """Remove exactly our messages when the server has UIDPLUS; otherwise a plain
    EXPUNGE (which also removes anything else flagged ``\\Deleted`` in the folder)."""
    if "UIDPLUS" in conn.capabilities:
        _ok(conn.uid("EXPUNGE", _uid_set(uids)), "protocol")
    else:
        _ok(conn.expunge(), "protocol")


def _uid_set(uids: list[int]) -> str:
    """``1,2,3,7`` → ``1:3,7``: a short command line even for a large batch."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = previous = ordered[0]
    for uid in ordered[1:] + [None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        ranges.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(ranges)


# ---------------------------------------------------------------- mailbox names


def quote_mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string in modified UTF-7 (RFC 3501 5.1.3), so
    "Destek/Çağrılar" and names with spaces work (imaplib sends names as given)."""
    encoded = encode_mailbox(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_mailbox(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
