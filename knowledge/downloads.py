"""One answer for every download of an article's file (the console's and the help center's):
raster images of a few safe types are shown as images; anything else is a download. Always
``X-Content-Type-Options: nosniff`` and a sandboxing CSP, so a file never runs as a page.
A file missing from storage is a 404."""
from __future__ import annotations

from django.http import FileResponse, Http404

from knowledge.models import ArticleAttachment
from knowledge.services.attachments import is_inline_image, served_content_type


def article_attachment_response(attachment: ArticleAttachment, *, cache_seconds: int = 0) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    inline = is_inline_image(attachment)
    response = FileResponse(handle, as_attachment=not inline, filename=attachment.filename,
                            content_type=served_content_type(attachment))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = f"private, max-age={cache_seconds}" if cache_seconds else "private, no-store"
    return response
