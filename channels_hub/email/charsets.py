"""Turning mail bytes into text whatever charset the sender claimed.

Mail in the wild lies about its charset: ``us-ascii`` bodies full of UTF-8,
``iso-8859-1`` labels on Turkish Windows text, labels no codec knows
(``x-unknown``, ``win-1254``), UTF-8 with a few broken bytes. A helpdesk must still
show the customer's words, so decoding never fails here: it walks a fallback chain
(declared → UTF-8 → windows-1254 → latin-1) and reports what it had to guess, so the
caller can record a defect. windows-1254 comes before latin-1 because this helpdesk's
customers are largely Turkish: the two agree on most bytes, but only cp1254 maps the
bytes of ğ, ş, ı, İ, Ş, Ğ to those letters.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import re

# Labels seen in real mail that Python's codec registry does not know, mapped to the
# codec the sender meant (or a superset of it).
_ALIASES = {
    "win-1254": "cp1254",
    "cp-1254": "cp1254",
    "windows1254": "cp1254",
    "x-cp1254": "cp1254",
    "win-1252": "cp1252",
    "cp-1252": "cp1252",
    "x-cp1252": "cp1252",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-8-e": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "x-mac-turkish": "mac-turkish",
    "x-mac-roman": "mac-roman",
    "gb2312": "gb18030",  # senders label GBK/GB18030 text as gb2312
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "utf8mb4": "utf-8",
    "x-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "tis-620": "cp874",
    "windows-874": "cp874",
}

# Codecs that exist in Python but are not charsets a mail can be written in: decoding
# with them would interpret escape sequences or punycode in customer text.
_BLOCKED = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "mbcs", "oem"}

# Single-byte charsets: any byte string decodes, so a strict decode proves nothing.
# When text labelled with one of these is valid UTF-8 with non-ASCII in it, it is
# almost certainly mislabelled UTF-8 (such byte pairs are vanishingly rare in real
# single-byte text).
_SINGLE_BYTE = re.compile(r"^(ascii|latin-1|iso8859-\d+|cp125\d|mac-\w+|koi8-\w)$")

FALLBACK_CHAIN = ("utf-8", "cp1254", "latin-1")


def normalize_charset(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when unknown/unusable."""
    if not label:
        return None
    label = str(label).strip().strip("\"'").strip().lower()
    if not label or len(label) > 40:
        return None
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
        b"".decode(name)  # rejects non-text codecs such as rot13 or base64
    except (LookupError, ValueError, TypeError):
        return None
    if name in _BLOCKED:
        return None
    return name


def _lenient_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken bytes: keep it (with U+FFFD) when most of the non-ASCII
    text is valid UTF-8; otherwise None, as the text is some single-byte charset."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good > 0 and bad <= good:
        return text
    return None


def decode_bytes(data: bytes, declared: str | None, *, what: str = "text") -> tuple[str, str | None]:
    """Decode ``data`` that claims charset ``declared``; never raises.

    Returns the text and a human-readable defect when the declared charset was
    unknown, wrong or broken (None when the bytes were what they claimed)."""
    if not data:
        return "", None
    codec = normalize_charset(declared)
    if codec is not None:
        if _SINGLE_BYTE.match(codec) and _is_non_ascii_utf8(data):
            return data.decode("utf-8"), f"{what}: declared charset {declared!r} but the content is UTF-8"
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
        if codec == "utf-8":
            text = _lenient_utf8(data)
            if text is not None:
                return text, f"{what}: invalid UTF-8 bytes replaced"
        problem = f"{what}: content is not valid {declared!r}"
    elif declared:
        problem = f"{what}: unknown charset {str(declared)[:40]!r}"
    else:
        problem = None
    try:
        text = data.decode("ascii")
        return text, problem
    except UnicodeDecodeError:
        pass
    if declared is None or not str(declared).strip():
        problem = f"{what}: 8-bit content without a charset"
    for name in FALLBACK_CHAIN:
        if name == codec:
            continue
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            if name == "utf-8":
                lenient = _lenient_utf8(data)
                if lenient is not None:
                    return lenient, f"{problem}; decoded as UTF-8 with invalid bytes replaced"
            continue
        return text, f"{problem}; decoded as {name}"
    return data.decode("latin-1"), problem  # unreachable: latin-1 decodes every byte


def _is_non_ascii_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def decode_surrogates(value: str, *, what: str = "header", defects: list[str] | None = None) -> str:
    """Headers read from bytes keep raw 8-bit bytes as surrogate escapes (senders that
    put UTF-8 or cp1254 straight into a header); turn them back into real letters."""
    if value.isascii() or not _SURROGATE_ESCAPE.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    text, problem = decode_bytes(data, None, what=what)
    # RFC 6532 allows raw UTF-8 in headers: only a guess at another charset is a defect.
    if problem and defects is not None and not problem.endswith("decoded as utf-8"):
        defects.append(problem)
    return text


# An RFC 2047 encoded word. Broken senders put spaces inside the text, so the text
# is anything up to the next "?" rather than the RFC grammar; possessive, so a
# header full of unterminated "=?x?b?" cannot make the search quadratic.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*+)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _b_decode(text: str) -> bytes:
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned)
    except (binascii.Error, ValueError):
        return b""


def _q_decode(text: str) -> bytes:
    data = text.replace("_", " ").encode("ascii", "surrogateescape").replace(b"\r", b"").replace(b"\n", b"")
    return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def decode_header_text(value: str, *, what: str = "header", defects: list[str] | None = None) -> str:
    """Decode RFC 2047 encoded words (any charset, split multi-byte characters across
    adjacent words included) and raw 8-bit bytes in a header value; never raises."""
    if not value:
        return ""
    # (charset, pieces): charset None for plain text (str pieces), else bytes pieces.
    # Adjacent words in one charset are joined before decoding, as senders split a
    # multi-byte character across two words.
    segments: list[tuple[str | None, list]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        previous_is_word = bool(segments) and segments[-1][0] is not None
        if between and not (previous_is_word and not between.strip()):
            segments.append((None, [between]))
        label = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: utf-8*tr
        payload = _b_decode(match.group(3)) if match.group(2) in "bB" else _q_decode(match.group(3))
        previous = segments[-1][0] if segments else None
        if previous is not None and previous.lower() == label.lower():
            segments[-1][1].append(payload)
        else:
            segments.append((label, [payload]))
        pos = match.end()
    if pos < len(value):
        segments.append((None, [value[pos:]]))
    parts: list[str] = []
    for charset, pieces in segments:
        if charset is None:
            parts.append(decode_surrogates("".join(pieces), what=what, defects=defects))
        else:
            text, problem = decode_bytes(b"".join(pieces), charset, what=what)
            if problem and defects is not None:
                defects.append(problem)
            parts.append(text)
    return "".join(parts)
