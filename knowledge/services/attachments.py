"""Files and images of help-center articles: checked, stored through Django storage, served by
token (``knowledge.views.editor_files``).

The same checks as ticket attachments (clean name, refused extensions, type from the name),
with the help center's own size limit (``KB_ATTACHMENT_MAX_BYTES``). Only raster images of a
few safe types are ever shown inline (``INLINE_IMAGE_TYPES``: no SVG, which can carry script);
everything else is served as a download with sniffing off.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from helpdesk.events.services import event_emit
from knowledge.models import Article, ArticleAttachment
from tickets.inline_images import INLINE_IMAGE_TYPES, SIGNATURE_BYTES, image_signature_matches
from tickets.services.attachments import ACTIVE_TYPES, clean_filename, content_type_for, denied_extensions

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_PER_ARTICLE = 200


def max_bytes() -> int:
    return int(getattr(settings, "KB_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def is_inline_image(attachment: ArticleAttachment) -> bool:
    return (attachment.content_type or "").lower() in INLINE_IMAGE_TYPES


def served_content_type(attachment: ArticleAttachment) -> str:
    """What the download answers with: safe images as themselves, active types never."""
    content_type = (attachment.content_type or "").lower()
    if content_type in INLINE_IMAGE_TYPES:
        return content_type
    if not content_type or content_type in ACTIVE_TYPES or content_type.startswith("image/svg"):
        return "application/octet-stream"
    return content_type


def _sniff_image(upload: Any, declared: str) -> str:
    """A file named like an image must start like one: otherwise it is stored as a plain file
    (an HTML page renamed ``.png`` is never served inline)."""
    if declared not in INLINE_IMAGE_TYPES:
        return declared
    if hasattr(upload, "seek"):
        upload.seek(0)
    head = upload.read(SIGNATURE_BYTES) if hasattr(upload, "read") else b""
    if hasattr(upload, "seek"):
        upload.seek(0)
    return declared if image_signature_matches(head, declared) else "application/octet-stream"


@transaction.atomic
def attachment_add(*, article: Article, actor, upload: Any) -> ArticleAttachment:
    """Store one uploaded file on ``article``. A file written before a rollback stays orphaned
    in storage; the row does not."""
    filename = clean_filename(getattr(upload, "name", ""))
    size = getattr(upload, "size", None)
    if size is None:
        raise ValidationError({"file": [_("%(name)s: unreadable upload.") % {"name": filename}]})
    if size == 0:
        raise ValidationError({"file": [_("%(name)s is empty.") % {"name": filename}]})
    limit = max_bytes()
    if size > limit:
        raise ValidationError({"file": [_("%(name)s is %(size)s; the limit is %(limit)s.") % {
            "name": filename, "size": filesizeformat(size), "limit": filesizeformat(limit)}]})
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in denied_extensions():
        raise ValidationError({"file": [_("%(name)s: files of type .%(ext)s are not accepted.") % {
            "name": filename, "ext": extension}]})
    if ArticleAttachment.objects.filter(article=article).count() >= MAX_PER_ARTICLE:
        raise ValidationError({"file": [_("An article keeps at most %(max)d files.") % {"max": MAX_PER_ARTICLE}]})
    content_type = _sniff_image(upload, content_type_for(filename, getattr(upload, "content_type", None)))
    attachment = ArticleAttachment(tenant_id=article.tenant_id, article=article, filename=filename,
                                   content_type=content_type, size=size,
                                   uploaded_by=actor if hasattr(actor, "email") else None)
    if hasattr(upload, "seek"):
        upload.seek(0)
    attachment.file.save(filename, upload, save=False)
    attachment.save()
    event_emit(tenant=article.tenant, type="kb.article.updated", subject=article, actor=actor,
               payload={"article_id": article.pk, "attachment_added": attachment.pk})
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: ArticleAttachment, actor) -> None:
    """Remove the row, and the file once the transaction commits (a rollback keeps both)."""
    article = attachment.article
    storage, name = attachment.file.storage, attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name) if name else None)
    event_emit(tenant=article.tenant, type="kb.article.updated", subject=article, actor=actor,
               payload={"article_id": article.pk, "attachment_deleted": True})
