"""Walking the MIME tree: which parts are the body (plain and HTML) and which are
attachments, with the limits that keep a hostile message from exhausting intake."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from tickets.inline_images import content_id_key, referenced_content_ids

from .attachments import TNEF_TYPES, expand_tnef, safe_filename
from .charsets import decode_header_text, decode_surrogates
from .headers import clean_line, normalize_message_id
from .mime import (
    MAX_DEPTH,
    MAX_PARTS,
    children,
    content_type,
    disposition,
    is_container,
    param,
    part_text,
    payload_bytes,
    raw_header,
)
from .parsed import ParsedAttachment

_ATTACHED_MESSAGE = {"message/rfc822", "message/global"}
# Machine-readable halves of reports: read by the bounce detector, not shown as files.
_REPORT_PARTS = {
    "message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
    "text/rfc822-headers", "message/rfc822-headers", "message/global-headers",
}
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.M)


@dataclass
class _Candidate:
    attachment: ParsedAttachment
    disposition: str | None


@dataclass
class Body:
    """What the walk found. ``plain``/``html`` are lists because real mail splits its
    body (Apple Mail puts text, image, text in a multipart/mixed)."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    tnef_text: str = ""
    parts_seen: int = 0


def unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (Thunderbird, Apple Mail), keeping
    each paragraph's quote depth, so quotes and paragraphs read as the sender wrote them."""
    out: list[str] = []
    pending: list[str] = []  # pieces of the paragraph being joined
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pending and pending_depth != depth:
            out.append(_quoted(pending_depth, "".join(pending)))
            pending = []
        if content.endswith(" ") and content != "-- ":  # a soft break: the paragraph goes on
            pending.append(content[:-1] if delsp else content)
            pending_depth = depth
        else:
            pending.append(content)
            out.append(_quoted(depth, "".join(pending)))
            pending = []
    if pending:
        out.append(_quoted(pending_depth, "".join(pending)))
    return "\n".join(out)


def _quoted(depth: int, content: str) -> str:
    return (">" * depth + " " + content) if depth else content


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if name is None:
        name = param(part, "name")
    if not name:
        return ""
    name = decode_surrogates(str(name), what="attachment name")
    if "=?" in name:
        name = decode_header_text(name, what="attachment name")
    return name


def _message_bytes(message: Message) -> bytes:
    """An attached message as bytes, regenerated faithfully (compat32 does not refold
    headers or re-encode bodies the way the modern policy would)."""
    try:
        buffer = io.BytesIO()
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(message)
        return buffer.getvalue()
    except Exception:  # noqa: BLE001
        pass
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001
        return str(message).encode("utf-8", "surrogateescape")


class Walker:
    """One walk over one message; collects the body and attachment candidates and
    records defects on the way."""

    def __init__(self, defects: list[str]) -> None:
        self.defects = defects
        self.limit_hit = False

    def walk(self, part: Message, body: Body, depth: int = 0) -> None:
        body.parts_seen += 1
        if depth > MAX_DEPTH or body.parts_seen > MAX_PARTS:
            if not self.limit_hit:
                self.defects.append("MIME structure too deep or too large; the rest was ignored")
                self.limit_hit = True
            return
        kind = content_type(part)
        maintype, _, subtype = kind.partition("/")
        if kind in _ATTACHED_MESSAGE:
            self._attached_message(part, body)
            return
        if is_container(part) and maintype != "message":
            self._multipart(part, subtype, body, depth)
            return
        if is_container(part):  # other message/* the parser split into parts
            if kind not in _REPORT_PARTS:
                for child in children(part):
                    self.walk(child, body, depth + 1)
            return
        if maintype == "multipart":
            self._unsplit_multipart(part, body, depth)
            return
        self._leaf(part, kind, body)

    def _multipart(self, part: Message, subtype: str, body: Body, depth: int) -> None:
        if subtype != "alternative":
            for child in children(part):
                self.walk(child, body, depth + 1)
            return
        # The alternatives describe one body: take the text from the plain one and
        # the HTML from the richest (last) HTML one, but files from all of them.
        versions = []
        for child in children(part):
            version = Body(parts_seen=body.parts_seen)
            self.walk(child, version, depth + 1)
            body.parts_seen = version.parts_seen
            versions.append(version)
        plain = next((v for v in versions if v.plain), None)
        rich = next((v for v in reversed(versions) if v.html), None)
        if plain is not None:
            body.plain.extend(plain.plain)
        if rich is not None:
            body.html.extend(rich.html)
        for version in versions:
            body.candidates.extend(version.candidates)
            body.tnef_text = body.tnef_text or version.tnef_text

    def _unsplit_multipart(self, part: Message, body: Body, depth: int) -> None:
        """A multipart the parser could not split (no or wrong boundary): guess the
        boundary from the first ``--xyz`` line and parse again; else read it as text."""
        data = payload_bytes(part)
        found = _BOUNDARY_LINE.search(data)
        if found:
            boundary = found.group(1).decode("ascii", "replace")
            self.defects.append(f"multipart boundary missing or wrong; guessed {boundary[:40]!r}")
            header = f'Content-Type: {content_type(part)}; boundary="{boundary}"\r\n\r\n'.encode()
            try:
                reparsed = BytesParser(policy=compat32).parsebytes(header + data)
            except Exception:  # noqa: BLE001
                reparsed = None
            if reparsed is not None and children(reparsed):
                for child in children(reparsed):
                    self.walk(child, body, depth + 1)
                return
        self.defects.append("multipart without a usable boundary; read as plain text")
        body.plain.append(part_text(part, self.defects, what="body"))

    def _leaf(self, part: Message, kind: str, body: Body) -> None:
        how = disposition(part)
        filename = _filename(part)
        if kind in ("text/plain", "text/html") and how != "attachment" and not filename:
            text = part_text(part, self.defects, what=kind)
            if kind == "text/html":
                body.html.append(text)
            else:
                if (param(part, "format") or "").lower() == "flowed":
                    text = unflow(text, delsp=(param(part, "delsp") or "").lower() == "yes")
                body.plain.append(text)
            return
        if kind in _REPORT_PARTS:
            return
        content = payload_bytes(part)
        if kind in TNEF_TYPES or filename.lower() == "winmail.dat":
            files, tnef_text, problem = expand_tnef(content)
            if problem:
                self.defects.append(problem)
            if files:
                body.candidates.extend(_Candidate(item, "attachment") for item in files)
                body.tnef_text = body.tnef_text or tnef_text
                return
        cid = normalize_message_id(raw_header(part, "content-id") or "")
        body.candidates.append(
            _Candidate(
                ParsedAttachment(
                    filename=safe_filename(filename, kind),
                    content_type=kind,
                    content=content,
                    size=len(content),
                    content_id=cid,
                ),
                how,
            )
        )

    def _attached_message(self, part: Message, body: Body) -> None:
        inner = children(part)
        content = _message_bytes(inner[0]) if inner else payload_bytes(part)
        name = _filename(part)
        if not name and inner:
            subject = clean_line(decode_header_text(raw_header(inner[0], "subject") or ""))
            name = subject.replace("/", "-").replace("\\", "-")  # a subject is not a path
        name = name or "forwarded-message"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        body.candidates.append(
            _Candidate(
                ParsedAttachment(
                    filename=safe_filename(name, "message/rfc822"),
                    content_type="message/rfc822",
                    content=content,
                    size=len(content),
                ),
                "attachment",
            )
        )


def finish_attachments(
    candidates: list[_Candidate], html: str, *, max_bytes: int, max_count: int, defects: list[str]
) -> list[ParsedAttachment]:
    """Apply the size and count limits and mark the parts sent to be shown in the message:
    those with ``Content-Disposition: inline`` and those the HTML body shows through
    ``cid:``. Whether a file is listed or shown is decided when the message is rendered
    (an inline image the body does not show stays a listed file)."""
    referenced = referenced_content_ids(html)
    kept: list[ParsedAttachment] = []
    dropped_for_count = 0
    for candidate in candidates:
        item = candidate.attachment
        if item.size > max_bytes:
            defects.append(
                f"attachment {item.filename!r} dropped: {item.size} bytes is over the {max_bytes}-byte limit"
            )
            continue
        if len(kept) >= max_count:
            dropped_for_count += 1
            continue
        item.inline = candidate.disposition == "inline" or (
            bool(item.content_id) and content_id_key(item.content_id) in referenced
        )
        kept.append(item)
    if dropped_for_count:
        defects.append(f"{dropped_for_count} attachment(s) dropped: more than {max_count} in one message")
    return kept
