"""Article HTML: sanitised with an allowlist on save (editors paste from anywhere), with the
plain text kept beside it for snippets, suggestions and search. Wider than a ticket message's
allowlist: headings, figures, images (our own attachment links or https), code blocks."""
from __future__ import annotations

import nh3

from tickets.services.content import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, DROP_WITH_CONTENT, html_to_text

ARTICLE_TAGS = frozenset(ALLOWED_TAGS | {"img", "figure", "figcaption", "caption", "colgroup", "col", "mark",
                                         "details", "summary", "section", "article", "aside", "cite"})
ARTICLE_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
    "details": {"open"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_ARTICLE_CHARS = 500_000


def sanitize_article_html(value: str) -> str:
    return nh3.clean((value or "").replace("\x00", ""), tags=set(ARTICLE_TAGS),
                     clean_content_tags=set(DROP_WITH_CONTENT), attributes=ARTICLE_ATTRIBUTES,
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer", strip_comments=True)


def article_text(clean_html: str) -> str:
    return html_to_text(clean_html)
