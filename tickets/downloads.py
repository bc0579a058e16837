"""One answer for every attachment download (console, API, portal, connector links): a
download that never renders (``Content-Disposition: attachment``), sniffing off, a sandboxing
CSP, not cached by shared caches. A file missing from storage is a 404.

The one exception is an image a message body shows (``inline=True``, asked for with
``?inline=1``): served inline only when the stored bytes really are the PNG, JPEG, GIF or
WebP the file is declared as; anything else (SVG, HTML, a page renamed ``.png``) is the
ordinary download.
"""
from __future__ import annotations

from django.http import FileResponse, Http404

from tickets.inline_images import INLINE_IMAGE_TYPES, SIGNATURE_BYTES, image_signature_matches
from tickets.models import Attachment
from tickets.services.attachments import download_content_type


def attachment_download(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    content_type = download_content_type(attachment)
    if inline and content_type in INLINE_IMAGE_TYPES:
        inline = image_signature_matches(handle.read(SIGNATURE_BYTES), content_type)
        handle.seek(0)
    else:
        inline = False
    response = FileResponse(handle, as_attachment=not inline, filename=attachment.filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response
