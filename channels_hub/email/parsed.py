"""What parsing an inbound mail produces: plain values with no ORM in them, so the
intake pipeline, the tests and anything else can use them without a database."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """A mailbox: display name (decoded) and address (domain lower-cased, '' if none)."""

    name: str
    address: str


@dataclass
class ParsedAttachment:
    """One attachment or inline image. ``filename`` is safe to show and to use as a
    download name: no path, no control characters, at most 150 characters, never empty."""

    filename: str
    content_type: str
    content: bytes
    size: int
    content_id: str = ""
    inline: bool = False


@dataclass
class Bounce:
    """A delivery failure report about a message we sent."""

    original_message_id: str  # without <>, '' when the report does not say
    status: str  # RFC 3463 enhanced status ("5.1.1"), '' when unknown
    permanent: bool
    recipients: list[str] = field(default_factory=list)
    diagnostic: str = ""


@dataclass
class ParsedEmail:
    """Everything the intake pipeline needs from one raw message."""

    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: Address = field(default_factory=lambda: Address("", ""))
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    reply_text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_submitted: bool = False
    auto_reason: str = ""
    bounce: Bounce | None = None
    headers: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    malformed: bool = False
