"""Differences between two versions of an article, word by word, for the history page."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    op: str  # "same", "added", "removed"
    text: str


def text_diff(old: str, new: str) -> list[Piece]:
    """Word-level diff of two plain texts; whitespace runs are kept so the result reads as text."""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            pieces.append(Piece("removed", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(Piece("added", "".join(b[j1:j2])))
    return [p for p in pieces if p.text]
