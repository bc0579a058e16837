"""HTML bodies: an allowlist sanitiser for showing them, and a text rendering for
HTML-only mail (the plain text that quote folding, search and previews work on).

The sanitiser is the inbound half of "sanitised on the way in, escaped on the way
out" (STYLE.md): mail HTML comes from anyone, so anything that can run code, load
a frame, submit a form, read the page, or restyle the console is removed here,
once, before it is stored.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from tickets.inline_images import IMAGE_ATTRIBUTES, image_attribute, images_without_cid_dropped

_TAGS = (set(nh3.ALLOWED_TAGS) - {"area", "map"}) | {"font"}

_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": set(IMAGE_ATTRIBUTES),
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor", "summary"},
    "tr": {"bgcolor", "valign"},
    "td": {"colspan", "rowspan", "width", "height", "bgcolor", "valign", "nowrap"},
    "th": {"colspan", "rowspan", "width", "height", "bgcolor", "valign", "scope"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "hr": {"width", "size", "noshade"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "time": {"datetime"},
}

# Dropped with everything inside them: their content is code, metadata or another
# document, never the customer's words. SVG and MathML can carry script.
_CLEAN_CONTENT = {
    "script", "style", "title", "noscript", "template", "svg", "math", "iframe", "frame",
    "frameset", "object", "embed", "applet", "xml", "select", "textarea",
}

# Presentational CSS only: no positioning (overlays that mimic the console), no
# url() carriers (background, list-style-image) that would load remote content.
_STYLE_PROPERTIES = {
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight",
    "font-variant", "text-align", "text-decoration", "text-indent", "text-transform",
    "line-height", "letter-spacing", "word-spacing", "white-space", "vertical-align",
    "direction", "width", "max-width", "min-width", "height", "max-height", "min-height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-color", "border-style", "border-width", "border-collapse", "border-spacing",
    "border-radius", "list-style-type", "table-layout",
}

_DANGEROUS_STYLE = re.compile(r"expression|url\s*\(|javascript|vbscript|@import|behavio(u)?r|-moz-binding|\\", re.I)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Per-attribute rules nh3's scheme allowlist cannot express: an image shows only a
    file of the message itself (``cid:``, with an alt text and numeric dimensions, no
    style), ``cid:`` is for images only, and a style that smuggles code or remote loads
    loses the whole attribute."""
    if tag == "img":
        return image_attribute(attribute, value)
    if attribute in ("href", "cite") and value.strip().lower().startswith("cid:"):
        return None
    if attribute == "style" and _DANGEROUS_STYLE.search(value):
        return None
    return value


MAX_HTML_NESTING = 2000
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]{0,30})")
# Elements that never stay open (void) or close themselves implicitly: they do not
# deepen the parser's stack of open elements.
_FLAT = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "rb", "rt", "rtc", "rp", "tr", "td", "th",
    "tbody", "thead", "tfoot", "colgroup", "caption",
}


def nesting_depth(html: str) -> int:
    """An upper estimate of how deep ``html`` nests. The HTML5 tree builder behind
    nh3 spends time proportional to the depth on every tag, so 100,000 nested
    ``<div>`` take minutes: such input is refused before it gets there. Counted per
    tag name, so stray end tags of other names cannot hide depth."""
    open_counts: dict[str, int] = {}
    depth = deepest = 0
    for closing, name in _TAG.findall(html):
        name = name.lower()
        if name in _FLAT:
            continue
        if closing:
            if open_counts.get(name):
                open_counts[name] -= 1
                depth -= 1
        else:
            open_counts[name] = open_counts.get(name, 0) + 1
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def sanitize_html(html: str, defects: list[str] | None = None) -> str:
    """Return ``html`` reduced to a safe allowlist; ``''`` when nothing is left or the
    input cannot be processed safely (the caller still has the text rendering)."""
    if not html or not html.strip():
        return ""
    depth = nesting_depth(html)
    if depth > MAX_HTML_NESTING:
        if defects is not None:
            defects.append(f"HTML nested {depth} levels deep; only its text is kept")
        return ""
    try:
        cleaned = nh3.clean(
            html.replace("\x00", ""),
            tags=_TAGS,
            clean_content_tags=_CLEAN_CONTENT,
            attributes=_ATTRIBUTES,
            attribute_filter=_filter_attribute,
            url_schemes={"http", "https", "mailto", "tel", "cid"},
            url_relative="deny",
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
            filter_style_properties=_STYLE_PROPERTIES,
        )
    except Exception:  # noqa: BLE001 - a sanitiser failure must never break intake
        if defects is not None:
            defects.append("HTML could not be sanitised; only its text is kept")
        return ""
    return images_without_cid_dropped(cleaned).strip()


MAX_QUOTE_DEPTH = 20  # deeper <blockquote> nesting is rendered at this depth

_SKIP = {"script", "style", "title", "noscript", "template", "svg", "math", "xml", "object", "iframe", "select"}
_BLOCK = {
    "address", "article", "aside", "center", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "tfoot", "thead", "tr", "ul", "caption",
}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "dl"}
_WHITESPACE = re.compile(r"[ \t\r\n\f\v\xa0]+")


class _TextRenderer(HTMLParser):
    """Renders HTML as mail-style plain text: one line per block, blank lines between
    paragraphs, list items bulleted, ``<blockquote>`` lines prefixed with ``> `` (so
    the quote folder treats HTML-only replies like plain ones)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str, bool]] = []  # (quote depth, text, preformatted)
        self._current: list[str] = []
        self._current_depth = 0
        self._ends_with_space = False
        self._quote_depth = 0
        self._skip: list[str] = []
        self._pre = 0
        self._lists: list[list[int | None]] = []  # [counter or None for <ul>]

    # line assembly -------------------------------------------------------------
    def _emit(self, text: str) -> None:
        if not self._current:
            self._current_depth = self._quote_depth
        self._current.append(text)
        self._ends_with_space = text.endswith(" ")

    def _break(self, kind: str = "block") -> None:
        """End the current line. ``br`` keeps even an empty line (``<br><br>`` is a
        blank line); ``para`` also leaves one blank line after the block."""
        line = "".join(self._current)
        self._current = []
        self._ends_with_space = False
        if line.strip() or kind == "br":
            self.lines.append((self._current_depth if line.strip() else self._quote_depth, line, self._pre > 0))
        if kind == "para" and self.lines and self.lines[-1][1].strip():
            self.lines.append((self._quote_depth, "", False))

    # parser callbacks ------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip.clear()  # an unclosed <title>/<style> in the head ends here
            return
        if self._skip:
            if tag in _SKIP:
                self._skip.append(tag)
            return
        if tag in _SKIP:
            self._skip.append(tag)
            return
        if tag == "br":
            self._break("br")
        elif tag == "blockquote":
            self._break()
            self._quote_depth += 1
        elif tag in ("ul", "ol"):
            self._break("block" if self._lists else "para")
            self._lists.append([0 if tag == "ol" else None])
        elif tag == "li":
            self._break()
            bullet = "- "
            if self._lists and self._lists[-1][0] is not None:
                self._lists[-1][0] = int(self._lists[-1][0]) + 1
                bullet = f"{self._lists[-1][0]}. "
            self._emit(bullet)
        elif tag in ("td", "th"):
            if self._current and not self._ends_with_space:
                self._emit(" ")
        elif tag in _BLOCK:
            self._break("para" if tag in _PARAGRAPH else "block")
            if tag == "pre":
                self._pre += 1
            elif tag == "hr":
                self._emit("---")
                self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") and not self._skip:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if tag == "blockquote":
            self._break()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._break("block" if self._lists else "para")
        elif tag in _BLOCK:
            self._break("para" if tag in _PARAGRAPH else "block")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip or not data:
            return
        if self._pre:
            chunks = data.replace("\r\n", "\n").split("\n")
            for index, chunk in enumerate(chunks):
                if index:
                    self._break("br")
                if chunk:
                    self._emit(chunk)
            return
        text = _WHITESPACE.sub(" ", data)
        if not self._current:
            text = text.lstrip()
        elif self._ends_with_space:
            text = text.lstrip(" ")
        if text:
            self._emit(text)

    def render(self) -> str:
        self._break()
        out: list[str] = []
        for depth, line, preformatted in self.lines:
            line = line.replace("\xa0", " ").rstrip()
            if not preformatted:
                line = line.strip()
            if depth:
                line = (">" * min(depth, MAX_QUOTE_DEPTH) + " " + line).rstrip()
            out.append(line)
        text = "\n".join(out)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip("\n")


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (for HTML-only mail); never raises. Entities are
    decoded, ``<style>``/``<script>`` content dropped, block elements and ``<br>``
    become line breaks."""
    if not html:
        return ""
    renderer = _TextRenderer()
    try:
        renderer.feed(html.replace("\x00", ""))
        renderer.close()
    except Exception:  # noqa: BLE001 - the stdlib parser on hostile input: keep what was read
        pass
    try:
        return renderer.render()
    except Exception:  # noqa: BLE001
        return _WHITESPACE.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
