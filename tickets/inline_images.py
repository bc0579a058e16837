"""Inline images of message bodies: ``<img src="cid:…">`` showing a file of the same message.

The only image a body ever keeps is one that names a file sent with it by its Content-ID
(RFC 2392): remote images track the reader, ``data:`` URLs carry anything. The body stores
the ``cid:`` reference; the page that shows it points it at that message's own file, and
only when the file is a raster image whose bytes say so (``image_signature_matches``).

Pure functions, no Django: the email parser (``channels_hub.email``), the sanitisers and the
presenters share them. They read HTML as nh3 serialises it (every attribute value double
quoted, ``" < > &`` escaped), which is what every caller holds after its allowlist.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote

# Raster images a browser shows as pictures and never runs: no SVG (it can carry script).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
IMAGE_ATTRIBUTES = frozenset({"src", "alt", "width", "height"})
MAX_DIMENSION_DIGITS = 5

_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
SIGNATURE_BYTES = 16  # enough of a file's head for every signature above

_IMG = re.compile(r'<img((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*)\s*/?>', re.I)
_ATTRIBUTE = re.compile(r'([^\s"\'>/=]+)(?:="([^"]*)")?')
_REFERENCE = re.compile(r"""cid:([^"'\s>)]+)""", re.I)


def image_signature_matches(head: bytes, declared: str) -> bool:
    """Whether a file's first bytes are those of the raster image type it is declared as."""
    signatures = _SIGNATURES.get((declared or "").lower())
    if not signatures or not any(head.startswith(signature) for signature in signatures):
        return False
    return declared.lower() != "image/webp" or head[8:12] == b"WEBP"


def cid_of(src: str) -> str:
    """The Content-ID a ``cid:`` URL names (percent-decoded, RFC 2392), ``''`` for any other URL."""
    value = (src or "").strip()
    if value[:4].lower() != "cid:":
        return ""
    return unquote(value[4:]).strip()


def content_id_key(content_id: str) -> str:
    """How Content-IDs are compared: mailers disagree on the case of the same id."""
    return content_id.strip().lower()


def referenced_content_ids(html_text: str) -> set[str]:
    """The comparison keys of every Content-ID that ``html_text`` refers to through ``cid:``."""
    return {content_id_key(unquote(found)) for found in _REFERENCE.findall(html_text or "")}


def image_attribute(attribute: str, value: str) -> str | None:
    """The nh3 attribute filter's rule for ``<img>``: a ``cid:`` source, an alt text and
    numeric dimensions; nothing else (no style, no other URL, no handler)."""
    if attribute == "src":
        return value.strip() if cid_of(value) else None
    if attribute in ("width", "height"):
        digits = value.strip()
        return digits if digits.isdigit() and len(digits) <= MAX_DIMENSION_DIGITS else None
    if attribute == "alt":
        return value
    return None


def _attributes(serialised: str) -> dict[str, str]:
    """Attribute values of one serialised tag, entity-decoded."""
    return {name.lower(): html.unescape(value or "") for name, value in _ATTRIBUTE.findall(serialised)}


def images_without_cid_dropped(html_text: str) -> str:
    """``html_text`` without the ``<img>`` tags that show no ``cid:`` source (the allowlist
    already removed their remote or ``data:`` sources; an image with no source shows nothing)."""
    return _IMG.sub(lambda match: match.group(0) if cid_of(_attributes(match.group(1)).get("src", "")) else "",
                    html_text)


def images_with_files(html_text: str, content_ids: Iterable[str]) -> str:
    """``html_text`` keeping only the ``<img>`` tags whose Content-ID is one of ``content_ids``
    (the files stored with the body); any other image is replaced by its alt text, so no body
    is stored, or mailed on, pointing at a file that is not there."""
    keys = {content_id_key(content_id) for content_id in content_ids if content_id}

    def keep(match: re.Match) -> str:
        attributes = _attributes(match.group(1))
        if content_id_key(cid_of(attributes.get("src", ""))) in keys:
            return match.group(0)
        return html.escape(attributes.get("alt", ""))

    return _IMG.sub(keep, html_text)


def images_resolved(html_text: str, src_for: Callable[[str], str | None]) -> str:
    """``html_text`` with every ``<img>`` pointed at ``src_for(content id)``. An image whose
    Content-ID ``src_for`` does not resolve (``None``) is replaced by its alt text."""
    def resolve(match: re.Match) -> str:
        attributes = _attributes(match.group(1))
        content_id = cid_of(attributes.get("src", ""))
        src = src_for(content_id) if content_id else None
        if src is None:
            return html.escape(attributes.get("alt", ""))
        kept = [("src", src)] + [(name, attributes[name]) for name in ("alt", "width", "height")
                                 if name in attributes]
        return "<img " + " ".join(f'{name}="{html.escape(value)}"' for name, value in kept) + ">"

    return _IMG.sub(resolve, html_text)
