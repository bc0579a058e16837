"""Message bodies (sanitised HTML + plain text) and @mentions: pure functions, no ORM."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Iterable

import nh3

from tickets.inline_images import IMAGE_ATTRIBUTES, image_attribute, images_with_files

# The allowlist: formatting, lists, quotes, tables, links, and the images a mail carries
# itself (``cid:``, ``tickets.inline_images``). No other images or media (remote images
# track the reader), no styles, no forms, no scripts, no event handlers.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": set(IMAGE_ATTRIBUTES),
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
# ``cid`` passes the scheme check for images only (``filter_attribute``).
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
# Dropped with their content, not just their tags.
DROP_WITH_CONTENT = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object",
                               "svg", "math", "textarea", "select"})
MAX_BODY_CHARS = 200_000
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|&[a-zA-Z#0-9]+;")
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
               "table", "ul", "ol", "dl", "dt", "dd"}


def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: images keep a ``cid:`` source, alt text and numeric sizes; a
    link never points at ``cid:``."""
    if tag == "img":
        return image_attribute(attribute, value)
    if value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(value: str) -> str:
    """The allowlist. Its ``<img>`` tags may still lack a source: ``prepare_body`` keeps only
    those that name a file of the message (``images_with_files``)."""
    return nh3.clean(
        value, tags=set(ALLOWED_TAGS), clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()}, attribute_filter=filter_attribute,
        url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow", strip_comments=True)


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(value: str) -> str:
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def text_to_html(value: str) -> str:
    """Plain text as paragraphs with line breaks, escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", value.strip()) if p.strip()]
    return "".join("<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs)


@dataclass(frozen=True)
class Body:
    html: str
    text: str


def prepare_body(value: str, *, content_ids: Iterable[str] = ()) -> Body:
    """A message body as sanitised HTML and plain text. Text without markup is taken as
    text (escaped, paragraphs kept); anything that looks like HTML goes through the allowlist.
    An image stays only when it names one of ``content_ids``, the Content-IDs of the files
    stored with the body (a mail's inline images); any other shows its alt text."""
    value = (value or "").replace("\r\n", "\n").replace("\x00", "")
    if _LOOKS_LIKE_HTML.search(value):
        clean = images_with_files(sanitize_html(value), content_ids)
        return Body(html=clean, text=html_to_text(clean))
    text = value.strip()
    return Body(html=text_to_html(text), text=text)


# --- @mentions ---------------------------------------------------------------------------

_MENTION_EMAIL = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_MENTION_NAME = re.compile(r"(?<![\w@])@\[([^\[\]\n]{1,200})\]")


@dataclass(frozen=True)
class Mentionable:
    user_id: int
    email: str
    full_name: str


def find_mentions(text: str, people: Iterable[Mentionable]) -> list[int]:
    """User ids mentioned in ``text`` as ``@email`` or ``@[Full Name]`` (case-insensitive),
    in order of first mention; unknown names are ignored."""
    by_email: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    for person in people:
        by_email[person.email.lower()] = person.user_id
        name = " ".join(person.full_name.split()).casefold()
        if name:
            # Two people with one name: ambiguous, mention neither (use the email).
            by_name[name] = None if name in by_name and by_name[name] != person.user_id else person.user_id
    found: list[tuple[int, int]] = []
    for match in _MENTION_EMAIL.finditer(text):
        user_id = by_email.get(match.group(1).rstrip(".").lower())
        if user_id is not None:
            found.append((match.start(), user_id))
    for match in _MENTION_NAME.finditer(text):
        user_id = by_name.get(" ".join(match.group(1).split()).casefold())
        if user_id is not None:
            found.append((match.start(), user_id))
    out: list[int] = []
    for _pos, user_id in sorted(found):
        if user_id not in out:
            out.append(user_id)
    return out
