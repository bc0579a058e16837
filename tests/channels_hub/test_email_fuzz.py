"""parse_email must never raise, whatever bytes arrive: random bytes, corpus messages
with bytes flipped, cut or inserted, and random header soup. Each result must still
be a well-formed ParsedEmail, flagged malformed when it could not be understood.
Pure Python: no database."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_hub.email import (
    Address,
    Bounce,
    ParsedAttachment,
    ParsedEmail,
    parse_email,
    subject_token,
    subject_with_token,
)
from channels_hub.email.html import html_to_text, sanitize_html
from channels_hub.email.quotes import extract_reply

CORPUS = sorted((Path(__file__).parent / "email_corpus").glob("*.eml"))
CORPUS_BYTES = {path.name: path.read_bytes() for path in CORPUS}
FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def assert_well_formed(parsed: ParsedEmail) -> None:
    assert isinstance(parsed, ParsedEmail)
    assert isinstance(parsed.message_id, str) and parsed.message_id == parsed.message_id.strip()
    assert "<" not in parsed.message_id and ">" not in parsed.message_id
    for ids in (parsed.in_reply_to, parsed.references):
        assert all(isinstance(i, str) and i and "<" not in i and ">" not in i for i in ids)
    assert len(parsed.references) <= 100
    assert isinstance(parsed.subject, str) and "\n" not in parsed.subject and "\x00" not in parsed.subject
    for address in [parsed.sender, *parsed.reply_to, *parsed.to, *parsed.cc]:
        assert isinstance(address, Address)
        assert isinstance(address.name, str) and isinstance(address.address, str)
        assert not any(ch.isspace() for ch in address.address)
        if "@" in address.address:
            domain = address.address.rpartition("@")[2]
            assert domain == domain.lower()
    assert parsed.date is None or parsed.date.utcoffset() == timedelta(0)
    for text in (parsed.text, parsed.reply_text):
        assert isinstance(text, str) and not _CONTROL.search(text)
    assert bool(parsed.reply_text.strip()) == bool(parsed.text.strip())
    assert isinstance(parsed.html, str) and "<script" not in parsed.html.lower() and "\x00" not in parsed.html
    for attachment in parsed.attachments:
        assert isinstance(attachment, ParsedAttachment)
        assert attachment.filename and len(attachment.filename) <= 150
        assert not re.search(r"[/\\\x00-\x1f\x7f]", attachment.filename)
        assert not attachment.filename.startswith(".")
        assert attachment.size == len(attachment.content)
        assert "/" in attachment.content_type
        assert "<" not in attachment.content_id
        assert isinstance(attachment.inline, bool) and not any(ch.isspace() for ch in attachment.content_id)
    if parsed.bounce is not None:
        assert isinstance(parsed.bounce, Bounce)
        assert isinstance(parsed.bounce.status, str) and isinstance(parsed.bounce.permanent, bool)
        assert all(isinstance(r, str) for r in parsed.bounce.recipients)
    assert isinstance(parsed.auto_submitted, bool) and (parsed.auto_reason != "") == parsed.auto_submitted
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in parsed.headers.items())
    assert all(isinstance(defect, str) and defect for defect in parsed.defects)
    if not parsed.sender.address:
        assert parsed.malformed
    if parsed.malformed:
        assert parsed.defects


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(raw):
    parsed = parse_email(raw)
    assert_well_formed(parsed)
    if b"from:" not in raw.lower():
        assert parsed.malformed


_INSERTIONS = [b"\n", b"\r\n", b"--", b"=?utf-8?B?", b"?=", b"\x00", b"\xff\xfe", b"<", b">", b";", b'"', b"=", b"\n\n"]


@st.composite
def mutated_corpus_message(draw):
    name = draw(st.sampled_from(sorted(CORPUS_BYTES)))
    data = bytearray(CORPUS_BYTES[name])
    for _ in range(draw(st.integers(0, 12))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "duplicate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.sampled_from(_INSERTIONS))
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 200))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(mutated_corpus_message())
def test_mutated_corpus_messages(raw):
    assert_well_formed(parse_email(raw))


_HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Content-Transfer-Encoding", "Content-Disposition", "Content-ID", "MIME-Version", "Auto-Submitted", "Precedence",
    "X-Loop", "Return-Path", "List-Id", "List-Unsubscribe", "X-Auto-Response-Suppress", "X-Autoreply", "Received",
]
_VALUE_PIECES = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "=?utf-8?B?xZ/Fn8WfIMSww6fDp8Onw7w=?=", "=?windows-1254?Q?=DE=FD=F0?=", "=?x-bogus?Q?=FF?=", "=?utf-8?B?!!!?=",
        "<a@b.example>", "<>", "<<@@>>", '"quoted, name" <q@x.example>', "multipart/mixed; boundary=", "boundary=\"x\"",
        "text/plain; charset=", "utf-8", "x-unknown", "base64", "quoted-printable", "filename*=utf-8''%C3%A7%FF",
        "auto-replied", "bulk", "All", "Mon, 32 Foo 99999 25:61:61 +9999", "Tue, 16 Jan 2024 09:12:00 +0300",
        "(comment (nested)", "\\", ";", ",", ":", "\t", "group:;",
    ]),
)


@st.composite
def header_soup(draw):
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        name = draw(st.one_of(st.sampled_from(_HEADER_NAMES), st.from_regex(r"[A-Za-z-]{1,20}", fullmatch=True)))
        value = "".join(draw(st.lists(_VALUE_PIECES, max_size=6)))
        lines.append(f"{name}: {value}")
        if draw(st.booleans()):
            lines.append(" " + draw(st.text(max_size=20)))  # a continuation line
    head = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    text_body = st.text(max_size=512).map(lambda t: t.encode("utf-8", "surrogatepass"))
    body = draw(st.one_of(st.binary(max_size=512), text_body))
    return head + draw(st.sampled_from([b"\r\n\r\n", b"\n\n", b"\n"])) + body


@FUZZ
@given(header_soup())
def test_header_soup(raw):
    assert_well_formed(parse_email(raw))


@FUZZ
@given(st.text(max_size=300), st.integers(1, 10**12), st.sampled_from(["#", "HD-", "", "ACME "]))
def test_subject_token_round_trip(subject, number, prefix):
    tagged = subject_with_token(subject, number, prefix=prefix)
    assert subject_with_token(tagged, number, prefix=prefix) == tagged  # never twice
    untokened = "Re: " + subject.replace("[", "(")
    assert subject_token(subject_with_token(untokened, number, prefix=prefix), prefix=prefix) == number


@FUZZ
@given(st.text(max_size=2000))
def test_text_helpers_never_raise(text):
    reply = extract_reply(text)
    assert isinstance(reply, str)
    assert bool(reply.strip()) == bool(text.strip())
    assert "<script" not in sanitize_html(text).lower()
    assert isinstance(html_to_text(text), str)
