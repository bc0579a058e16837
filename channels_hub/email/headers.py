"""Reading the envelope-ish headers: ids for threading, addresses, subject, date.

Values are taken raw (``Message.raw_items``) and decoded here rather than through
the stdlib's header objects, because those raise or give up on exactly the input
a helpdesk meets: encoded words in unknown charsets, raw cp1254 bytes, 100 KB
References, half-quoted display names.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from email.utils import getaddresses, parsedate_to_datetime

from .charsets import decode_header_text
from .parsed import Address

MAX_REFERENCES = 100  # RFC 5322 §3.6.4 trimming: keep the thread root and the newest
MAX_IN_REPLY_TO = 20
MAX_ADDRESSES = 500  # per header
MAX_ADDRESS_HEADER_CHARS = 100_000
MAX_SUBJECT_CHARS = 998  # the RFC 5322 line limit; longer is an attack or a bug

_ID = re.compile(r"<([^<>\s]{1,998})>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BARE_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]{1,200}@[^\s<>\"'(),;:@]{1,255}")
_LOCAL_ONLY = re.compile(r"^[A-Za-z0-9._+=-]{1,64}$")
_BARE_ID = re.compile(r"[^@\s<>]{1,500}@[^@\s<>]{1,500}")


def normalize_message_id(value: str) -> str:
    """A Message-ID as stored and compared: no angle brackets, no whitespace. Takes
    the first ``<...>`` when the value has extra text (comments, several ids)."""
    if not value:
        return ""
    value = _CONTROL.sub("", str(value)).strip()
    match = _ID.search(value)
    if match:
        return match.group(1)
    tokens = value.replace("<", " ").replace(">", " ").split()  # a broken "<id" or "id>"
    return tokens[0] if tokens else ""


def message_ids(value: str | None) -> list[str]:
    """All ids in an In-Reply-To/References value, in header order, duplicates
    dropped; bare ids (no brackets) are accepted from sloppy clients when they look
    like ``x@y``."""
    if not value:
        return []
    found = _ID.findall(value)
    if not found:
        # Brackets inside a broken token are separators too ("0<@" is no id).
        found = [token for token in re.split(r"[\s,;<>]+", value) if _BARE_ID.fullmatch(token)]
    seen: set[str] = set()
    ids = []
    for item in found:
        item = _CONTROL.sub("", item)
        if item and item not in seen:
            seen.add(item)
            ids.append(item)
    return ids


def trim_references(ids: list[str], defects: list[str]) -> list[str]:
    if len(ids) <= MAX_REFERENCES:
        return ids
    defects.append(f"References header has {len(ids)} ids; kept the first and the newest {MAX_REFERENCES - 1}")
    return ids[:1] + ids[-(MAX_REFERENCES - 1) :]


def clean_line(text: str) -> str:
    """One line of display text: control characters dropped, whitespace collapsed."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(text.split())


def decode_subject(raw: str | None, defects: list[str]) -> str:
    if not raw:
        return ""
    raw = raw[: MAX_SUBJECT_CHARS * 20]  # encoded words take room; far beyond any real subject
    subject = clean_line(decode_header_text(raw, what="Subject", defects=defects))
    if len(subject) > MAX_SUBJECT_CHARS:
        defects.append(f"Subject of {len(subject)} characters truncated to {MAX_SUBJECT_CHARS}")
        subject = subject[:MAX_SUBJECT_CHARS]
    return subject


def clean_address(value: str) -> str:
    """``local@domain`` with the domain lower-cased (local parts are case-sensitive by
    RFC, so they are kept); a bare local name such as ``MAILER-DAEMON`` is kept; ''
    for anything that is not an address."""
    value = _CONTROL.sub("", value or "").strip().strip("<>").strip()
    if not value or any(ch.isspace() for ch in value) or len(value) > 320:
        return ""
    if "@" not in value:
        return value if _LOCAL_ONLY.match(value) else ""
    local, _, domain = value.rpartition("@")
    domain = domain.strip(".").lower()
    if not local or not domain or "<" in value or ">" in value:
        return ""
    return f"{local}@{domain}"


def parse_addresses(values: list[str], defects: list[str], *, what: str) -> list[Address]:
    """Mailboxes from every occurrence of an address header; display names decoded
    after the address list is split (encoded words may hide commas otherwise)."""
    addresses: list[Address] = []
    for value in values:
        if len(value) > MAX_ADDRESS_HEADER_CHARS:
            defects.append(f"{what} header too long; only its start was read")
            value = value[:MAX_ADDRESS_HEADER_CHARS]
        try:
            pairs = getaddresses([value])
        except Exception:  # noqa: BLE001
            pairs = [("", found) for found in _BARE_ADDRESS.findall(value)]
            defects.append(f"{what} header could not be parsed as an address list")
        for name, address in pairs:
            name = clean_line(decode_header_text(name or "", what=what, defects=defects)).strip("\"' ")
            address = clean_address(address)
            if not name and not address:
                continue
            addresses.append(Address(name=name, address=address))
            if len(addresses) >= MAX_ADDRESSES:
                defects.append(f"{what} header lists more than {MAX_ADDRESSES} addresses; the rest were ignored")
                return addresses
    return addresses


def parse_sender(values: list[str], defects: list[str]) -> Address:
    """The From mailbox. When the header is too broken for the address parser, a bare
    ``x@y`` in it is still better than no requester."""
    addresses = parse_addresses(values[:1], defects, what="From")
    for address in addresses:
        if address.address:
            return address
    for value in values[:1]:
        found = _BARE_ADDRESS.search(value[:MAX_ADDRESS_HEADER_CHARS])
        if found:
            defects.append("From header malformed; address recovered from its text")
            name = addresses[0].name if addresses else ""
            return Address(name=name, address=clean_address(found.group(0)))
    return addresses[0] if addresses else Address("", "")


def parse_date(raw: str | None, defects: list[str]) -> datetime | None:
    """The Date header as an aware UTC datetime; a date without zone (``-0000`` or
    none) is taken as UTC."""
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    except Exception:  # noqa: BLE001
        defects.append(f"unreadable Date header {raw[:60]!r}")
        return None
