"""Which failed searches are "the same question": the grouping key of a query.

Pure functions, no database. The key is the query's meaningful words, folded and cut to a
stem-like prefix, sorted: ``"İade nasıl yapılır?"``, ``"iade nasil yapilir"`` and
``"yapılır iade"`` share the key ``iade``; ``"refunds for my order"`` and ``"order
refund"`` share ``order refun``. It is deliberately coarse — it groups what customers asked,
it does not search — and on PostgreSQL a query whose key is new still joins an existing gap
whose key is similar enough by trigram similarity (``iade`` and ``iades`` do), which the
exact key cannot catch. Embedded mode (SQLite) groups by the exact key only.
"""
from __future__ import annotations

import re
import unicodedata

# Letters kept of each word: long enough to keep words apart, short enough that plural and
# possessive endings fall off ("refunds"/"refund" → "refun", "siparişim"/"sipariş" → "sipar").
STEM_CHARS = 5
# Above this pg_trgm similarity of keys, a new query joins an existing gap.
SIMILARITY = 0.5

# Words that carry no topic, folded (see ``fold``). Only languages the product ships
# interface strings for; other languages keep all their words (still grouped by key).
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        a an the my your our i me we you it its is are was be been am do does did can could
        how what where when why which who whom to of on in at for from with by about into
        and or not no yes please help need want get there this that these those
        """.split()),
    "tr": frozenset("""
        ve ile veya bir bu su o ne neden nicin nasil nedir nerede nereden hangi kim
        mi mu icin gibi daha cok en ben benim bana beni sen senin biz bizim siz sizin
        da de ki ya yapilir yapabilirim yapmak yaparim edilir etmek ederim olur olmak oldu
        var yok istiyorum lutfen yardim
        """.split()),
}

_TURKISH_FOLD = str.maketrans({"ı": "i", "ş": "s", "ğ": "g", "ç": "c", "ö": "o", "ü": "u", "â": "a", "î": "i",
                               "û": "u"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str, locale: str = "en") -> str:
    """Lower case the language's way, then drop accents and Turkish letter forms, so the
    ways people type the same word (with or without Turkish characters) meet."""
    text = unicodedata.normalize("NFC", text or "")
    if locale.split("-")[0] in ("tr", "az"):
        text = text.replace("I", "ı").replace("İ", "i")
    text = text.lower().translate(_TURKISH_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def query_words(query: str, locale: str) -> list[str]:
    """The query's folded words without stop words (all words when only stop words remain)."""
    words = _WORD.findall(fold(query, locale))
    stop = STOP_WORDS.get(locale.split("-")[0], frozenset())
    kept = [w for w in words if w not in stop]
    return kept or words


def gap_key(query: str, locale: str) -> str:
    """The grouping key: distinct word stems, sorted, at most 200 characters ("" for a query
    with no letters or digits)."""
    stems = sorted({w[:STEM_CHARS] for w in query_words(query, locale)})
    return " ".join(stems)[:200]


def title_from_query(query: str, locale: str) -> str:
    """A draft article's title from a search: the query with its first letter in capitals
    (Turkish ``i`` → ``İ``)."""
    text = " ".join((query or "").split())[:255]
    if not text:
        return text
    first = text[0]
    if locale.split("-")[0] in ("tr", "az") and first == "i":
        upper = "İ"
    else:
        upper = first.upper()
    return upper + text[1:]
