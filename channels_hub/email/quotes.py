"""Folding quoted history and signatures out of a reply, so a ticket shows what the
customer just wrote instead of the whole thread again under every entry.

Works on plain text (HTML-only mail arrives here through ``html_to_text``, which
renders ``<blockquote>`` as ``>`` lines). Heuristic by nature, so it errs on the
side of keeping text: forwarded mail is never folded (the forwarded content is
what the sender is passing on), quotes interleaved with answers are kept (the
answers mean nothing without their questions), and if folding would leave nothing
the full text is returned.
"""
from __future__ import annotations

import re

# "On Mon, 15 Jan 2024 at 10:00, Ayşe <a@x> wrote:" and its translations; Turkish
# clients put the verb last: "15 Oca 2024 Pzt, saat 10:00 tarihinde Ayşe <a@x> şunu yazdı:".
_ATTRIBUTION_END = re.compile(
    r"(wrote|writes|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef|skrev|napisał|yazdı)\s*:\s*$", re.I
)
_ATTRIBUTION_START = re.compile(r"^(On|Am|Le|El|Il|Op|Em|Den|W\s+dniu)\s", re.I)
_TURKISH_ATTRIBUTION = re.compile(r"tarihinde|şunu\s+yazdı|şunları\s+yazdı", re.I)
_DIGIT = re.compile(r"\d")

_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(Original\s+Message|Orijinal\s+(İleti|Ileti|Mesaj)|Özgün\s+(İleti|ileti)|Asıl\s+İleti"
    r"|Ursprüngliche\s+Nachricht|Message\s+d'origine|Mensaje\s+original|Messaggio\s+originale"
    r"|Oorspronkelijk\s+bericht)\s*-{2,}\s*$",
    re.I,
)
_HEADER_FROM = re.compile(r"^\s*\*?(From|Kimden|Von|De|Da|Van|Från)\s*:\*?\s*\S", re.I)
_HEADER_DATE = re.compile(
    r"^\s*\*?(Sent|Date|Gönderildi|Gönderilme\s+Tarihi|Tarih|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato"
    r"|Verzonden|Skickat)\s*:",
    re.I,
)
_HEADER_SUBJECT = re.compile(r"^\s*\*?(Subject|Konu|Betreff|Objet|Asunto|Oggetto|Onderwerp|Ämne)\s*:", re.I)
_SEPARATOR_LINE = re.compile(r"^\s*(_{10,}|-{3,})\s*$")  # Outlook's rule above the header block

_FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(Forwarded\s+message|İletilen\s+(ileti|mesaj)|Iletilen\s+(ileti|mesaj)"
    r"|Weitergeleitete\s+Nachricht|Message\s+transféré|Mensaje\s+reenviado)\s*-{2,}"
    r"|Begin\s+forwarded\s+message\s*:|İletilen\s+ileti\s+başlangıcı\s*:)\s*$",
    re.I,
)

_SIGNATURE_DELIMITER = "-- "
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent\s+from\s+my\s+\S.*|Sent\s+from\s+(Mail|Outlook|Yahoo\s+Mail|Gmail|my\s+mobile)\b.*"
    r"|Get\s+Outlook\s+for\s+\S.*|Sent\s+(via|with)\s+\S.*"
    r"|(iPhone|iPad|Android)['’](umdan|imden|dan|den)\s+gönderildi\.?"
    r"|.{1,60}\s+(için\s+)?Outlook['’](tan|ten)\s+gönderildi\.?"
    r"|.{1,60}\s+akıllı\s+telefonumdan\s+gönderildi\.?"
    r"|Von\s+meinem\s+\S+\s+gesendet\.?|Envoyé\s+de\s+mon\s+\S+\.?|Enviado\s+desde\s+mi\s+\S+\.?)\s*$",
    re.I,
)

_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|ilt|wg|rv)\s*:", re.I)


def is_forward_subject(subject: str) -> bool:
    """A subject whose outermost prefix says forward ("Fwd:", Turkish Outlook's "İLT:")."""
    return bool(_FORWARD_SUBJECT.match(subject.replace("İ", "I")))


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_follows(lines: list[str], end: int) -> bool:
    for line in lines[end + 1 : end + 4]:
        if line.strip():
            return _is_quote(line)
    return False


def _attribution_start(lines: list[str], end: int) -> int | None:
    """Index of the first line of an attribution ending at ``end`` (Gmail wraps long
    ones over two or three lines), or None when the line is not one. A sentence such
    as "On Monday my colleague wrote:" in the customer's own text is not one: an
    attribution introduces ``>`` lines, or names a date and an address."""
    if not _ATTRIBUTION_END.search(lines[end]) or _is_quote(lines[end]):
        return None
    for start in range(end, max(-1, end - 3), -1):
        if start < end and (not lines[start].strip() or _is_quote(lines[start])):
            break
        joined = " ".join(line.strip() for line in lines[start : end + 1])
        if len(joined) > 500:
            break
        if _ATTRIBUTION_START.match(joined) or _TURKISH_ATTRIBUTION.search(joined):
            if _quote_follows(lines, end) or (_DIGIT.search(joined) and "@" in joined):
                return start
            return None
    return None


def _outlook_header_at(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    window = lines[index + 1 : index + 7]
    return any(_HEADER_DATE.match(line) for line in window[:4]) and any(_HEADER_SUBJECT.match(line) for line in window)


def _history_start(lines: list[str]) -> tuple[int, str] | None:
    """Where quoted history begins and what announced it: ``attribution`` (followed by
    ``>`` lines), ``block`` (Outlook-style, history below unprefixed) or ``forward``."""
    for index, line in enumerate(lines):
        if _is_quote(line):
            continue
        if _FORWARD_MARKER.match(line):
            return index, "forward"
        if _ORIGINAL_MESSAGE.match(line):
            return index, "block"
        if _outlook_header_at(lines, index):
            start = index
            while start > 0 and not lines[start - 1].strip():
                start -= 1
            if start > 0 and _SEPARATOR_LINE.match(lines[start - 1]):
                start -= 1
            return start, "block"
        attribution = _attribution_start(lines, index)
        if attribution is not None:
            return attribution, "attribution"
    return None


def _strip_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _fold_quote_edges(lines: list[str]) -> list[str]:
    """Drop ``>`` blocks at the start and end (with the attribution line above a
    trailing one); interleaved ones stay (see module doc). Index-based: a message
    of 200,000 quoted lines must not take quadratic time."""
    start, end = 0, len(lines)
    while True:
        while end > start and not lines[end - 1].strip():
            end -= 1
        if end > start and _is_quote(lines[end - 1]):
            while end > start and (_is_quote(lines[end - 1]) or not lines[end - 1].strip()):
                end -= 1
            if end > start:
                attribution = _attribution_start(lines, end - 1)
                if attribution is not None and attribution >= start:
                    end = attribution
            continue
        break
    while start < end and (not lines[start].strip() or _is_quote(lines[start])):
        start += 1
    return lines[start:end]


def _fold_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line == _SIGNATURE_DELIMITER or (line.rstrip() == "--" and len(lines) - index <= 10):
            lines = lines[:index]
            break
    end = len(lines)
    while end:
        if not lines[end - 1].strip() or _MOBILE_SIGNATURE.match(lines[end - 1]):
            end -= 1
        else:
            break
    return _strip_blank_edges(lines[:end])


def extract_reply(text: str, *, forward: bool = False) -> str:
    """The new part of a reply: ``text`` without quoted history and signature.

    ``forward`` (the subject says it is a forward) folds nothing. Returns ``text``
    itself, unchanged, when there is nothing to fold or folding would leave nothing."""
    if forward or not text or not text.strip():
        return text
    lines = text.split("\n")
    kept = lines
    found = _history_start(lines)
    if found is not None:
        index, kind = found
        if kind == "forward":
            return text
        head = _strip_blank_edges(lines[:index])
        if any(line.strip() and not _is_quote(line) for line in head):
            kept = head
        elif kind == "attribution":
            # Bottom-posted: the answer follows the quoted block.
            first = index
            while first < len(lines) and lines[first].strip() and not _is_quote(lines[first]):
                first += 1
            kept = lines[first:]
        else:
            kept = []
    kept = _fold_signature(_fold_quote_edges(kept))
    if not any(line.strip() for line in kept):
        return text
    result = "\n".join(line.rstrip() for line in kept)
    if result == "\n".join(line.rstrip() for line in _strip_blank_edges(lines)):
        return text  # only whitespace would change: nothing was folded
    return result
