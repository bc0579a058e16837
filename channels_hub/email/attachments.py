"""Attachment names that are safe to show and to download, and winmail.dat unpacking.

A filename in a mail is whatever the sender typed or forged: ``../../etc/passwd``,
control characters that rewrite a terminal line, a right-to-left override that
turns ``invoice‮fdp.exe`` into "invoiceexe.pdf" on screen, 300 characters that
break a download header. Names are cleaned once here, so nothing downstream has
to remember to.
"""
from __future__ import annotations

import mimetypes
import os
import re
import unicodedata

from .parsed import ParsedAttachment

MAX_FILENAME_CHARS = 150
MAX_FILENAME_BYTES = 240  # UTF-8; under every common filesystem's 255-byte limit

_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "image/jpeg": ".jpg",
    "application/octet-stream": ".bin",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat",
    "text/rfc822-headers": ".txt",
}
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)
_EXTENSION = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9_+-]{0,15}$")
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


def guess_extension(content_type: str) -> str:
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    try:
        return mimetypes.guess_extension(content_type, strict=False) or ""
    except Exception:  # noqa: BLE001
        return ""


def guess_type(filename: str) -> str:
    try:
        guessed, _ = mimetypes.guess_type(filename, strict=False)
    except Exception:  # noqa: BLE001
        guessed = None
    return guessed or "application/octet-stream"


def safe_filename(name: str | None, content_type: str = "application/octet-stream") -> str:
    """A display/download name: last path segment only, no control or format
    characters (bidi overrides included), no characters Windows forbids, no leading
    dots, at most 150 characters with the extension kept; ``attachment.<ext>`` when
    nothing usable is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    text = _RESERVED.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip().rstrip(". ")
    if not text or not text.strip("_ "):
        return "attachment" + guess_extension(content_type)
    if _WINDOWS_DEVICES.match(text):
        text = "_" + text
    stem, extension = os.path.splitext(text)
    if not _EXTENSION.match(extension) or not stem:
        stem, extension = text, ""
    while stem and (
        len(stem) + len(extension) > MAX_FILENAME_CHARS or len((stem + extension).encode()) > MAX_FILENAME_BYTES
    ):
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    if not stem:
        return ("attachment" + extension)[:MAX_FILENAME_CHARS]
    return stem + extension


def expand_tnef(data: bytes) -> tuple[list[ParsedAttachment], str, str | None]:
    """Unpack a winmail.dat: its files, its plain-text body if any, and a defect
    message when it could not be read (the caller then keeps the .dat as it is)."""
    try:
        from tnefparse.tnef import TNEF
    except ImportError:  # pragma: no cover - tnefparse is in requirements.txt
        return [], "", "winmail.dat kept as is: tnefparse is not installed"
    try:
        tnef = TNEF(data, do_checksum=False)
        files = []
        for item in tnef.attachments:
            content = item.data if isinstance(item.data, bytes) else b""
            if not content:
                continue
            try:
                raw_name = item.long_filename() or item.name
            except Exception:  # noqa: BLE001
                raw_name = ""
            if isinstance(raw_name, bytes):
                raw_name = raw_name.decode("cp1252", "replace")
            raw_name = str(raw_name).strip("\x00")
            kind = guess_type(raw_name)
            files.append(
                ParsedAttachment(
                    filename=safe_filename(raw_name, kind),
                    content_type=kind,
                    content=content,
                    size=len(content),
                )
            )
        body = tnef.body
        if isinstance(body, bytes):
            body = body.decode("cp1252", "replace")
        return files, (body or "").replace("\x00", "").strip(), None
    except Exception as exc:  # noqa: BLE001 - a corrupt winmail.dat is kept, not fatal
        return [], "", f"winmail.dat kept as is: not readable TNEF ({type(exc).__name__})"
