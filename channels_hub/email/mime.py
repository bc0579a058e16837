"""Defensive access to a parsed ``email.message.Message``.

The stdlib parser accepts anything, but reading what it built can still raise on
hostile input (a header the policy's grammar chokes on, a payload of the wrong
type, a codec lookup). Every accessor here answers with a safe default instead, so
the layers above can stay readable.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from .charsets import decode_bytes, decode_surrogates

MAX_DEPTH = 20  # nesting of multiparts and attached messages; real mail stays under 10
MAX_PARTS = 500  # parts walked per message; more is an attack or a broken generator

_CONTENT_TYPE = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)/([!#$%&'*+.^_`|~0-9A-Za-z-]+)")
_FOLD = re.compile(r"\r?\n[ \t]*")


def raw_header(message: Message, name: str) -> str | None:
    """First value of header ``name`` as sent (unfolded, encoded words left as they
    are, raw 8-bit bytes decoded), or None when absent."""
    values = raw_headers(message, name)
    return values[0] if values else None


def raw_headers(message: Message, name: str) -> list[str]:
    wanted = name.lower()
    values: list[str] = []
    try:
        items = list(message.raw_items())
    except Exception:  # noqa: BLE001
        return values
    for key, value in items:
        if str(key).lower() == wanted:
            values.append(unfold(decode_surrogates(str(value))))
    return values


def unfold(value: str) -> str:
    return _FOLD.sub(" ", value).strip()


def content_type(part: Message) -> str:
    """``maintype/subtype`` in lower case; ``text/plain`` when missing or unreadable
    (RFC 2045's default), ``message/rfc822`` parts inside a digest aside."""
    try:
        value = part.get_content_type()
        if value and "/" in value:
            return value.lower()
    except Exception:  # noqa: BLE001
        pass
    raw = raw_header(part, "content-type")
    if raw:
        match = _CONTENT_TYPE.match(raw)
        if match:
            return f"{match.group(1)}/{match.group(2)}".lower()
    return "text/plain"


def param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A parameter of a MIME header (RFC 2231 continuations and charsets handled by
    the stdlib), or None."""
    try:
        value = part.get_param(name, header=header)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    if isinstance(value, tuple):  # compat32 returns RFC 2231 values undecoded
        try:
            from email.utils import collapse_rfc2231_value

            return collapse_rfc2231_value(value)
        except Exception:  # noqa: BLE001
            return str(value[2])
    return str(value)


def disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:  # noqa: BLE001
        raw = raw_header(part, "content-disposition")
        value = raw.split(";", 1)[0].strip().lower() if raw else None
    return value or None


def is_container(part: Message) -> bool:
    try:
        return part.is_multipart() and isinstance(part.get_payload(), list)
    except Exception:  # noqa: BLE001
        return False


def children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return []
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return []


def payload_bytes(part: Message) -> bytes:
    """The decoded body of a leaf part (base64/quoted-printable undone); raw bytes when
    the transfer encoding is unknown; ``b''`` when there is nothing readable."""
    try:
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            return data
    except Exception:  # noqa: BLE001
        pass
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return b""
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    if isinstance(payload, bytes):
        return payload
    return b""


def part_text(part: Message, defects: list[str], *, what: str) -> str:
    """The decoded text of a ``text/*`` leaf, newlines normalised, NULs removed (the
    database cannot store them)."""
    data = payload_bytes(part)
    text, problem = decode_bytes(data, param(part, "charset"), what=what)
    if problem:
        defects.append(problem)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def iter_parts(message: Message, *, max_depth: int = MAX_DEPTH) -> Iterator[tuple[Message, int]]:
    """Every part, depth first, with its depth; stops descending at ``max_depth`` and
    after ``MAX_PARTS`` parts so a bomb of nested multiparts cannot stall intake."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part, depth
        if depth < max_depth:
            stack.extend((child, depth + 1) for child in reversed(children(part)))
