"""The answer of a customer data integration, made safe: a pure function, no I/O.

Only the documented shape survives (``{"title", "sections": [{"title", "fields": [{"label",
"value", "url"}], "table": {"columns", "rows"}}]}``), cut to the limits below; links only
when they are absolute http(s) URLs. The result holds only strings, booleans and None, so
it caches as JSON and renders safely with autoescaping alone.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# What is kept of an answer: enough for a card, never a whole report.
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 1000
MAX_URL_CHARS = 2000
MAX_SECTIONS = 20
MAX_FIELDS = 50
MAX_COLUMNS = 12
MAX_ROWS = 100


class PanelShapeError(ValueError):
    """The answer is JSON but not a panel."""


def _text(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return str(value)[:limit]
    if isinstance(value, str):
        return value.strip()[:limit]
    raise PanelShapeError("value")


def safe_url(value: Any) -> str:
    """``value`` when it is an absolute http(s) URL without spaces or control characters, else ""."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_CHARS:
        return ""
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value


def _cell(value: Any) -> dict:
    """One shown value: ``{"text", "url", "flag"}`` (``flag`` is a boolean shown as yes/no)."""
    url = ""
    if isinstance(value, dict):
        url = safe_url(value.get("url"))
        value = value.get("value")
    if isinstance(value, bool):
        return {"text": "", "url": url, "flag": value}
    try:
        text = _text(value)
    except PanelShapeError:
        text = ""  # a nested list or object where a value belongs: shown as empty
    return {"text": text, "url": url, "flag": None}


def parse_panel(document: Any) -> dict:
    """The allowlisted, size-limited panel in ``document``; ``PanelShapeError`` when it is none.

    Unknown keys are ignored; malformed fields, rows and sections are skipped; lists are cut
    to the limits above. The result holds only strings, booleans and None, so it caches as
    JSON and renders with autoescaping alone.
    """
    if not isinstance(document, dict):
        raise PanelShapeError("not an object")
    sections_in = document.get("sections", [])
    if not isinstance(sections_in, list):
        raise PanelShapeError("sections")
    try:
        title = _text(document.get("title"), MAX_TITLE_CHARS)
    except PanelShapeError:
        title = ""
    sections = []
    for raw in sections_in[:MAX_SECTIONS]:
        if not isinstance(raw, dict):
            continue
        try:
            section_title = _text(raw.get("title"), MAX_TITLE_CHARS)
        except PanelShapeError:
            section_title = ""
        fields = []
        raw_fields = raw.get("fields")
        for item in (raw_fields if isinstance(raw_fields, list) else [])[:MAX_FIELDS]:
            if not isinstance(item, dict):
                continue
            try:
                label = _text(item.get("label"), MAX_TITLE_CHARS)
            except PanelShapeError:
                continue
            cell = _cell({"value": item.get("value"), "url": item.get("url")})
            fields.append({"label": label, **cell})
        table = None
        raw_table = raw.get("table")
        if isinstance(raw_table, dict) and isinstance(raw_table.get("columns"), list):
            columns = []
            for column in raw_table["columns"][:MAX_COLUMNS]:
                try:
                    columns.append(_text(column, MAX_TITLE_CHARS))
                except PanelShapeError:
                    columns.append("")
            rows = []
            raw_rows = raw_table.get("rows")
            for row in (raw_rows if isinstance(raw_rows, list) else [])[:MAX_ROWS]:
                if not isinstance(row, list):
                    continue
                cells = [_cell(value) for value in row[:len(columns)]]
                cells += [_cell(None)] * (len(columns) - len(cells))
                rows.append(cells)
            if columns:
                table = {"columns": columns, "rows": rows}
        if section_title or fields or table:
            sections.append({"title": section_title, "fields": fields, "table": table})
    return {"title": title, "sections": sections}
