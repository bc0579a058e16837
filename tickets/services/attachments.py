"""Attachments: checked against the size and type limits, stored through Django storage.

Limits live in settings for now (``TICKET_ATTACHMENT_MAX_BYTES``,
``TICKET_ATTACHMENT_MAX_PER_MESSAGE``, ``TICKET_ATTACHMENT_ALLOWED_TYPES`` — empty means
any type not denied — and ``TICKET_ATTACHMENT_DENIED_EXTENSIONS``). Files are served only
as downloads (``tickets.api.attachments``), so their content never runs in a browser.
"""
from __future__ import annotations

import mimetypes
import os
import re
import unicodedata
from typing import Any, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tickets.models import Attachment, Message, Ticket
from tickets.models.ticket import CONTENT_ID_MAX_LENGTH

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PER_MESSAGE = 20
# Programs and scripts a double-click would run; refused whatever the allowlist says.
DEFAULT_DENIED_EXTENSIONS = (
    "exe", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "dll", "sys", "vbs", "vbe", "js", "jse",
    "wsf", "wsh", "ps1", "psm1", "hta", "jar", "lnk", "reg", "app", "apk", "dmg", "pkg", "deb", "rpm", "sh",
    "iso", "gadget", "appx", "msix",
)
# Served as application/octet-stream whatever they are: a browser would render or run them.
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                          "text/javascript", "application/javascript", "application/x-shockwave-flash"})
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def max_bytes() -> int:
    return int(getattr(settings, "TICKET_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_per_message() -> int:
    return int(getattr(settings, "TICKET_ATTACHMENT_MAX_PER_MESSAGE", DEFAULT_MAX_PER_MESSAGE))


def allowed_types() -> frozenset[str]:
    return frozenset(t.lower() for t in getattr(settings, "TICKET_ATTACHMENT_ALLOWED_TYPES", ()) or ())


def denied_extensions() -> frozenset[str]:
    return frozenset(e.lower().lstrip(".") for e in getattr(settings, "TICKET_ATTACHMENT_DENIED_EXTENSIONS",
                                                             DEFAULT_DENIED_EXTENSIONS))


def clean_filename(name: Any) -> str:
    """A safe display and storage name: no path, no control characters, 150 characters at most."""
    name = os.path.basename(str(name or "").replace("\\", "/"))
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/\\|?*').strip().strip(".")
    if not name:
        name = "attachment"
    stem, ext = os.path.splitext(name)
    if len(name) > 150:
        name = stem[: 150 - len(ext)] + ext
    return name


def content_type_for(filename: str, declared: str | None) -> str:
    """The type from the file name's extension; the client's claim only when that is unknown."""
    guessed, _encoding = mimetypes.guess_type(filename, strict=False)
    if guessed:
        return guessed.lower()
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and _CONTENT_TYPE.match(declared):
        return declared
    return "application/octet-stream"


def check_upload(upload: Any) -> tuple[str, str, int]:
    """(filename, content type, size) of an acceptable upload, or a ValidationError saying why."""
    filename = clean_filename(getattr(upload, "name", ""))
    size = getattr(upload, "size", None)
    if size is None:
        raise ValidationError({"attachments": [_("%(name)s: unreadable upload.") % {"name": filename}]})
    limit = max_bytes()
    if size > limit:
        raise ValidationError({"attachments": [_("%(name)s is %(size)s; the limit is %(limit)s.") % {
            "name": filename, "size": filesizeformat(size), "limit": filesizeformat(limit)}]})
    if size == 0:
        raise ValidationError({"attachments": [_("%(name)s is empty.") % {"name": filename}]})
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    if extension in denied_extensions():
        raise ValidationError({"attachments": [_("%(name)s: files of type .%(ext)s are not accepted.") % {
            "name": filename, "ext": extension}]})
    content_type = content_type_for(filename, getattr(upload, "content_type", None))
    allowed = allowed_types()
    if allowed and content_type not in allowed and f"{content_type.split('/')[0]}/*" not in allowed:
        raise ValidationError({"attachments": [_("%(name)s: files of type %(type)s are not accepted.") % {
            "name": filename, "type": content_type}]})
    return filename, content_type, size


def check_uploads(uploads: Iterable[Any]) -> list[tuple[Any, str, str, int]]:
    uploads = list(uploads or ())
    if len(uploads) > max_per_message():
        raise ValidationError({"attachments": [_("Attach at most %(max)d files to one message.") % {
            "max": max_per_message()}]})
    return [(upload, *check_upload(upload)) for upload in uploads]


def upload_content_id(upload: Any) -> str:
    """The Content-ID an upload from a mail stores; one too long to store is dropped rather
    than cut, so it can never name another file."""
    content_id = str(getattr(upload, "content_id", "") or "")
    return content_id if len(content_id) <= CONTENT_ID_MAX_LENGTH else ""


def checked_content_ids(checked: Iterable[tuple[Any, str, str, int]]) -> list[str]:
    """The Content-IDs of ``check_uploads``' result: what a body's images may name."""
    return [upload_content_id(upload) for upload, *_rest in checked]


def attachments_store(*, ticket: Ticket, message: Message | None, uploads: Iterable[Any],
                      uploaded_by: Any = None) -> list[Attachment]:
    """Store checked uploads on ``message``. An upload from a mail may carry its part's
    ``content_id`` and ``inline`` (``channels_hub.services.inbound``); a Content-ID too long
    to store is dropped rather than cut, so it can never name another file. Precondition:
    inside the caller's transaction (a file written before a rollback stays orphaned in
    storage; the row does not)."""
    stored = []
    for upload, filename, content_type, size in check_uploads(uploads):
        attachment = Attachment(tenant_id=ticket.tenant_id, ticket=ticket, message=message, filename=filename,
                                content_type=content_type, size=size, content_id=upload_content_id(upload),
                                inline=bool(getattr(upload, "inline", False)),
                                uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None)
        if hasattr(upload, "seek"):
            upload.seek(0)
        attachment.file.save(filename, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def download_content_type(attachment: Attachment) -> str:
    content_type = (attachment.content_type or "").lower()
    if content_type in ACTIVE_TYPES or not _CONTENT_TYPE.match(content_type):
        return "application/octet-stream"
    return content_type
