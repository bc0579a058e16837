"""Delivery failure reports: which of our messages failed, for whom, and for good.

SPEC §6: a bounce marks the outbound message failed and, when permanent, flags the
address as undeliverable. Standard reports (RFC 3464 ``multipart/report;
report-type=delivery-status``) say all of that in fields; many servers (qmail,
older Exchange, hosted filters) still send free-text ones, which are read with
care: a free-text bounce must come from a mail system or carry the original
message, or a customer writing "your mail was undeliverable" would be taken for one.
"""
from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from .charsets import decode_bytes
from .mime import children, content_type, iter_parts, param, payload_bytes, raw_header
from .parsed import Bounce

_DELIVERY_STATUS = {"message/delivery-status", "message/global-delivery-status"}
_ATTACHED_MESSAGE = {"message/rfc822", "message/global"}
_ATTACHED_HEADERS = {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
_SYSTEM_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_SYSTEM_NAMES = re.compile(r"mail\s+delivery\s+(system|subsystem)|mailer.daemon|postmaster", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(able|ed)|delivery\s+(status\s+notification|failure|failed|has\s+failed|delayed|incomplete)"
    r"|mail\s+delivery\s+(failed|failure|subsystem)|returned\s+mail|failure\s+notice"
    r"|message\s+(not\s+delivered|delivery\s+failure)|could\s+not\s+be\s+delivered|non[\s-]?deliverable"
    r"|warning:\s+could\s+not\s+send|delayed\s+mail|iletilemedi|teslim\s+edilemedi|ulaştırılamadı"
    r"|unzustellbar|non\s+remis|nicht\s+zustellbar)",
    re.I,
)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?=[ -])")
_DELAY_WORDS = re.compile(
    r"delayed|will\s+(retry|keep\s+trying)|still\s+trying|not\s+yet\s+been\s+delivered|gecik", re.I
)
# Line patterns use [ \t] rather than \s at the start: \s crosses newlines, which
# makes a search over a million blank lines quadratic.
_MESSAGE_ID_LINE = re.compile(r"^[ \t]*Message-ID:[ \t]*<([^<>\s]{1,500})>", re.I | re.M)
_ANGLE_ADDRESS_LINE = re.compile(r"^[ \t]*<([^<>\s@]{1,200}@[^<>\s]{1,200})>[ \t]*:", re.M)
_BARE_ADDRESS_LINE = re.compile(r"^[ \t]{1,8}([^\s<>@]{1,200}@[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,})[ \t]*$", re.M)
_ORIGINAL_MARKER = re.compile(
    r"below\s+this\s+line\s+is\s+a\s+copy|original\s+message\s+(headers|follows)|this\s+is\s+a\s+copy\s+of\s+the"
    r"|(?<!-)-{3,}+[ \t]*original\s+message|included\s+below|returned\s+message",
    re.I,
)


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = None
    for line in block.split("\n"):
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            name = key.strip().lower()
            fields.setdefault(name, value.strip())
    return fields


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a ``message/delivery-status`` part: the first is about the
    message, the rest about one recipient each."""
    blocks = children(part)
    if blocks:
        text = "\n\n".join("\n".join(f"{k}: {v}" for k, v in block.raw_items()) for block in blocks)
    else:
        text, _ = decode_bytes(payload_bytes(part), param(part, "charset") or "utf-8", what="delivery status")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [_fields(chunk) for chunk in re.split(r"\n[ \t]*\n", text) if chunk.strip()]


def _after_semicolon(value: str) -> str:
    return value.split(";", 1)[-1].strip().strip("<>").strip()


def _original_id(message: Message) -> str:
    """The Message-ID of the returned message: from an attached message, from attached
    headers, or as a last resort from a ``Message-ID:`` line quoted in the text."""
    for part, _depth in iter_parts(message):
        kind = content_type(part)
        if part is not message and kind in _ATTACHED_MESSAGE:
            for inner in children(part):
                value = raw_header(inner, "message-id")
                if value:
                    return _normalize(value)
            found = _MESSAGE_ID_LINE.search(payload_bytes(part).decode("utf-8", "replace"))
            if found:
                return found.group(1)
        elif kind in _ATTACHED_HEADERS:
            data = payload_bytes(part)
            try:
                headers = BytesHeaderParser(policy=compat32).parsebytes(data)
                value = raw_header(headers, "message-id")
            except Exception:  # noqa: BLE001
                value = None
            if value:
                return _normalize(value)
            found = _MESSAGE_ID_LINE.search(data.decode("utf-8", "replace"))
            if found:
                return found.group(1)
    return ""


def _normalize(value: str) -> str:
    match = re.search(r"<([^<>]*)>", value)
    return (match.group(1) if match else value).strip().strip("<>").strip()


def _standard(message: Message, report: Message, text: str) -> Bounce | None:
    status_part = next((p for p, _ in iter_parts(report) if content_type(p) in _DELIVERY_STATUS), None)
    blocks = _status_blocks(status_part) if status_part is not None else []
    recipient_fields = {"final-recipient", "original-recipient", "action", "status"}
    recipients_blocks = [b for b in blocks[1:] if recipient_fields & b.keys()]
    if not recipients_blocks and blocks and {"final-recipient", "action", "status"} & blocks[0].keys():
        recipients_blocks = blocks  # a report with the per-message block missing
    actions = [b.get("action", "").strip().lower() for b in recipients_blocks]
    if recipients_blocks and all(a in ("delivered", "relayed", "expanded") for a in actions):
        return None  # a success notification, not a failure
    failing = [b for b in recipients_blocks if b.get("action", "").strip().lower() in ("failed", "delayed")]
    failing = failing or recipients_blocks
    first = failing[0] if failing else {}
    status_match = _STATUS.search(first.get("status", "")) or _STATUS.search(first.get("diagnostic-code", ""))
    status = status_match.group(0) if status_match else ""
    if status:
        permanent = status.startswith("5")
    elif first.get("action"):
        permanent = first["action"].strip().lower() == "failed"
    else:
        return _free_text(message, text, require_signal=False)
    recipients = []
    for block in failing:
        address = _after_semicolon(block.get("final-recipient") or block.get("original-recipient") or "")
        if address and address not in recipients:
            recipients.append(address)
    diagnostic = _after_semicolon(first.get("diagnostic-code", "")) or _first_line_with_code(text)
    return Bounce(
        original_message_id=_original_id(message),
        status=status,
        permanent=permanent,
        recipients=recipients,
        diagnostic=diagnostic[:1000],
    )


def _first_line_with_code(text: str) -> str:
    for line in text.split("\n"):
        if _STATUS.search(line) or _SMTP_CODE.search(line):
            return line.strip()[:1000]
    return ""


def _free_text(
    message: Message, text: str, *, require_signal: bool = True, sender_signal: bool = False
) -> Bounce | None:
    marker = _ORIGINAL_MARKER.search(text)
    cut = text.rfind("\n", 0, marker.start()) + 1 if marker else len(text)  # the marker's line starts the copy
    report_text = text[:cut]
    original = _original_id(message)
    if not original:
        quoted = _MESSAGE_ID_LINE.search(text, cut if marker else 0)
        original = quoted.group(1) if quoted else ""
    status_match = _STATUS.search(report_text)
    code_match = _SMTP_CODE.search(report_text)
    if require_signal and not (sender_signal or original):
        return None
    status = status_match.group(0) if status_match else ""
    if status:
        permanent = status.startswith("5")
    elif code_match:
        permanent = code_match.group(1) == "5"
    else:
        permanent = not _DELAY_WORDS.search(report_text)
    recipients: list[str] = []
    for found in list(_ANGLE_ADDRESS_LINE.finditer(report_text)) + list(_BARE_ADDRESS_LINE.finditer(report_text)):
        address = found.group(1).strip()
        if address not in recipients:
            recipients.append(address)
    return Bounce(
        original_message_id=original,
        status=status,
        permanent=permanent,
        recipients=recipients[:50],
        diagnostic=_first_line_with_code(report_text),
    )


def find_bounce(message: Message, *, sender: str, sender_name: str, subject: str, text: str) -> Bounce | None:
    """The bounce this message reports, or None when it is not a bounce.

    ``text`` is the message's readable text (the human part of a report)."""
    for part, _depth in iter_parts(message):
        if content_type(part) == "multipart/report":
            report_type = (param(part, "report-type") or "").strip().lower()
            if report_type == "delivery-status":
                return _standard(message, part, text)
    local_part = sender.rsplit("@", 1)[0].lower() if sender else ""
    from_system = local_part in _SYSTEM_SENDERS or bool(_SYSTEM_NAMES.search(sender_name or ""))
    bounce_subject = bool(_BOUNCE_SUBJECT.match(subject or ""))
    if not (from_system or bounce_subject):
        return None
    return _free_text(message, text, require_signal=True, sender_signal=from_system and bounce_subject)
