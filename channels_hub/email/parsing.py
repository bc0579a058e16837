"""Inbound mail → ``ParsedEmail``: the pure first step of the email channel.

No ORM and no Django here: the intake pipeline (threading, contacts, tickets)
works on the result, and this layer can be tested and fuzzed on bytes alone.
``parse_email`` never raises: mail comes from the whole internet, and one broken
message must become a recorded, inspectable problem (``defects``/``malformed``),
never a stuck queue.

Parsing uses the stdlib's modern policy first and falls back to ``compat32`` (and
then to headers only) when the modern one cannot cope with the input.
"""
from __future__ import annotations

import re
import threading
from email import errors
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy, Policy, compat32

from .autoreply import detect_auto_submitted
from .charsets import decode_surrogates
from .body import Body, Walker, finish_attachments
from .bounces import find_bounce
from .headers import (
    MAX_IN_REPLY_TO,
    decode_subject,
    message_ids,
    normalize_message_id,
    parse_addresses,
    parse_date,
    parse_sender,
    trim_references,
)
from .html import html_to_text, sanitize_html
from .mime import content_type, iter_parts, param, unfold
from .parsed import Address, Bounce, ParsedAttachment, ParsedEmail
from .quotes import extract_reply, is_forward_subject
from .subjects import subject_token, subject_with_token

__all__ = [
    "Address",
    "Bounce",
    "ParsedAttachment",
    "ParsedEmail",
    "normalize_message_id",
    "parse_email",
    "subject_token",
    "subject_with_token",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_ATTACHMENTS = 50

# Raw header values kept on the message for audit ("why was this treated as
# automatic?", "which id did it claim?"), in their canonical spelling.
AUDIT_HEADERS = (
    "Message-ID", "From", "To", "Cc", "Subject", "Date", "Auto-Submitted", "Precedence",
    "X-Loop", "Return-Path", "List-Id",
)
MAX_AUDIT_VALUE_CHARS = 4000
FAST_PARSE_DELIMITERS = 1000
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Stdlib defects, worded for a person, and whether each means the message could
# only be partly understood (True) or was read fine despite it (False).
_STDLIB_DEFECTS: dict[type, tuple[str, bool]] = {
    errors.NoBoundaryInMultipartDefect: ("multipart without a boundary parameter", True),
    errors.StartBoundaryNotFoundDefect: ("multipart boundary never appears in the body", True),
    errors.CloseBoundaryNotFoundDefect: ("multipart not closed: the message looks truncated", True),
    errors.FirstHeaderLineIsContinuationDefect: ("first header line is a continuation line", True),
    errors.MissingHeaderBodySeparatorDefect: ("text where headers were expected (missing headers or blank line)", True),
    errors.MultipartInvariantViolationDefect: ("declared multipart but has no parts", True),
    errors.InvalidBase64CharactersDefect: ("invalid characters in base64 content", True),
    errors.InvalidBase64LengthDefect: ("base64 content has an impossible length (truncated?)", True),
    errors.InvalidMultipartContentTransferEncodingDefect: ("multipart with a transfer encoding", False),
    errors.InvalidBase64PaddingDefect: ("base64 content with missing padding", False),
    errors.MisplacedEnvelopeHeaderDefect: ("mbox 'From ' line among the headers", False),
    errors.UndecodableBytesDefect: ("undecodable bytes in a header", False),
}


_memo = threading.local()  # the header values parsed for the message being parsed in this thread


class _MemoizedPolicy(EmailPolicy):
    """The stdlib's modern policy (``email.policy.default``), parsing each distinct header
    value once per message.

    ``EmailPolicy.header_fetch_parse`` runs the header grammar on every read, and the
    stdlib parser and our walk read a part's Content-Type a dozen times: two thirds of the
    parse time went there. The result depends only on the header's name and raw value, and
    header objects are immutable, so while ``parse_email`` reads one message equal reads
    share one.
    """

    def header_fetch_parse(self, name, value):
        seen = getattr(_memo, "headers", None)
        if seen is None or type(name) is not str or type(value) is not str:
            return super().header_fetch_parse(name, value)
        parsed = seen.get((name, value))
        if parsed is None:
            parsed = seen[(name, value)] = super().header_fetch_parse(name, value)
        return parsed


MODERN_POLICY = _MemoizedPolicy()


def parse_email(
    raw: bytes,
    *,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
) -> ParsedEmail:
    """Parse one raw RFC 5322 message. Never raises for any input: what could not be
    read is listed in ``defects`` and ``malformed`` says the result is partial.
    Attachments over ``max_attachment_bytes``, or beyond ``max_attachments``, are
    dropped and named in ``defects``."""
    outer, _memo.headers = getattr(_memo, "headers", None), {}
    try:
        data = _as_bytes(raw)
        return _parse(data, max_attachment_bytes=max_attachment_bytes, max_attachments=max_attachments)
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises" (RecursionError included)
        return ParsedEmail(defects=[f"message could not be parsed ({type(exc).__name__})"], malformed=True)
    finally:
        _memo.headers = outer


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _load(data: bytes, defects: list[str]) -> tuple[Message, bool]:
    """The parsed message and whether a fallback was needed (which makes it malformed)."""
    attempts: list[tuple[Policy, bool]] = [(MODERN_POLICY, False), (compat32, False), (compat32, True)]
    if data.count(b"\n--") > FAST_PARSE_DELIMITERS:
        # The modern policy parses every part's headers eagerly and is ~15x slower:
        # thousands of parts would hold a worker for seconds. Only MAX_PARTS are read.
        defects.append("thousands of MIME delimiters; parsed with the faster compat32 policy")
        attempts = attempts[1:]
    for index, (policy, headers_only) in enumerate(attempts):
        try:
            message = BytesParser(policy=policy).parsebytes(data, headersonly=headers_only)
        except Exception:  # noqa: BLE001
            continue
        if headers_only:
            defects.append("body could not be parsed; headers only")
        elif index:
            defects.append("modern parser failed; parsed with compat32")
        return message, index > 0
    defects.append("message could not be parsed at all")
    return Message(policy=compat32), True


def _parse(data: bytes, *, max_attachment_bytes: int, max_attachments: int) -> ParsedEmail:
    defects: list[str] = []
    result = ParsedEmail(defects=defects)
    if not data.strip():
        defects.append("empty message")
        result.malformed = True
        return result
    message, fell_back = _load(data, defects)
    malformed = fell_back
    headers: dict[str, list[str]] = {}
    try:
        headers = _headers_by_name(message)
        _read_headers(headers, result)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"headers could not be read ({type(exc).__name__})")
        malformed = True
    try:
        body = Body()
        walker = Walker(defects)
        walker.walk(message, body)
        malformed = malformed or walker.limit_hit
        _assemble_body(result, body, max_attachment_bytes=max_attachment_bytes, max_attachments=max_attachments)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"body could not be read ({type(exc).__name__})")
        malformed = True
    try:
        _classify(message, headers, result)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"automatic-mail detection failed ({type(exc).__name__})")
        malformed = True
    try:
        serious = _collect_stdlib_defects(message, defects)
    except Exception:  # noqa: BLE001
        serious = True
    if not result.sender.address:
        defects.append("no usable From address")
        malformed = True
    if not result.message_id:
        defects.append("no Message-ID")
    result.malformed = malformed or serious
    return result


def _headers_by_name(message: Message) -> dict[str, list[str]]:
    """Lower-cased header name → every value, unfolded, raw 8-bit bytes decoded."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).strip().lower(), []).append(unfold(decode_surrogates(str(value))))
    return headers


def _read_headers(headers: dict[str, list[str]], result: ParsedEmail) -> None:
    defects = result.defects
    first = {name: values[0] for name, values in headers.items()}
    result.message_id = normalize_message_id(first.get("message-id", ""))
    result.in_reply_to = message_ids(first.get("in-reply-to"))[:MAX_IN_REPLY_TO]
    result.references = trim_references(message_ids(" ".join(headers.get("references", []))), defects)
    result.subject = decode_subject(first.get("subject"), defects)
    result.sender = parse_sender(headers.get("from", []), defects)
    result.reply_to = parse_addresses(headers.get("reply-to", []), defects, what="Reply-To")
    result.to = parse_addresses(headers.get("to", []), defects, what="To")
    result.cc = parse_addresses(headers.get("cc", []), defects, what="Cc")
    result.date = parse_date(first.get("date"), defects)
    for name in AUDIT_HEADERS:
        value = first.get(name.lower())
        if value is not None:
            result.headers[name] = value.replace("\x00", "")[:MAX_AUDIT_VALUE_CHARS]


def _assemble_body(result: ParsedEmail, body: Body, *, max_attachment_bytes: int, max_attachments: int) -> None:
    raw_html = "\n".join(body.html)
    text = "\n".join(part.strip("\n") for part in body.plain)
    if not text.strip() and raw_html:
        text = html_to_text(raw_html)
    if not text.strip() and body.tnef_text:
        text = body.tnef_text
    # Control characters (terminal escapes, NUL that PostgreSQL rejects) are never
    # the customer's words; tabs and newlines are.
    result.text = _CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    result.reply_text = extract_reply(result.text, forward=is_forward_subject(result.subject))
    result.html = sanitize_html(raw_html, result.defects)
    result.attachments = finish_attachments(
        body.candidates, raw_html, max_bytes=max_attachment_bytes, max_count=max_attachments, defects=result.defects
    )


def _classify(message: Message, headers: dict[str, list[str]], result: ParsedEmail) -> None:
    result.bounce = find_bounce(
        message,
        sender=result.sender.address,
        sender_name=result.sender.name,
        subject=result.subject,
        text=result.text,
    )
    automatic, reason = detect_auto_submitted(headers, sender=result.sender.address, subject=result.subject)
    if not automatic and result.bounce is not None:
        automatic, reason = True, "delivery status notification (bounce)"
    if not automatic and _is_read_receipt(message):
        automatic, reason = True, "read receipt (disposition notification)"
    result.auto_submitted, result.auto_reason = automatic, reason


def _is_read_receipt(message: Message) -> bool:
    for part, _depth in iter_parts(message, max_depth=2):
        if content_type(part) == "multipart/report":
            return (param(part, "report-type") or "").strip().lower() == "disposition-notification"
    return False


def _collect_stdlib_defects(message: Message, defects: list[str]) -> bool:
    """Add the parser's own defect notes (once each) and say whether any of them
    means the message was only partly understood."""
    serious = False
    seen: set[str] = set()
    for part, _depth in iter_parts(message):
        for defect in getattr(part, "defects", ()):
            text, is_serious = _STDLIB_DEFECTS.get(type(defect), (None, False))
            if text is None:
                continue
            serious = serious or is_serious
            if text not in seen:
                seen.add(text)
                defects.append(text)
    return serious
