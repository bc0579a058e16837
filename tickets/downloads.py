"""One answer for every attachment download (console, API, portal, connector links):
always a download, never rendered: ``Content-Disposition: attachment``, sniffing off, a
sandboxing CSP, not cached by shared caches. A file missing from storage is a 404."""
from __future__ import annotations

from django.http import FileResponse, Http404

from tickets.models import Attachment
from tickets.services.attachments import download_content_type


def attachment_download(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type=download_content_type(attachment))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
