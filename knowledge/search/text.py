"""Language rules of the help-center search, as pure functions (no database).

Case and accents
    Case is folded the language's way before anything is indexed or looked up: in Turkish
    (and Azerbaijani) ``I`` is the capital of ``ı`` and ``İ`` of ``i``; everywhere else ``I``
    is ``i``, and ``İ`` becomes ``i`` too (Python would give ``i`` + a combining dot, which
    PostgreSQL's parser splits into two tokens). Accent folding then maps ``ş→s``, ``ğ→g``,
    ``ç→c``, ``ö→o``, ``ü→u``, ``é→e``… and **both ``ı`` and ``i`` to ``i``**: a search typed
    without Turkish letters ("siparis", "sifre", "IADE" with the caps lock of an English
    keyboard) finds the Turkish words, and "ışık", "isik", "IŞIK" all find each other. This is
    deliberate; the price is that ı/i minimal pairs are not told apart in search.

Stems and roots
    PostgreSQL's Snowball stemmer does the linguistic work on the case-folded text, but the
    Turkish one is uneven across suffixes (``iade`` → ``ia``, ``iadesi`` → ``iades``,
    ``iadeler`` → ``iade``). Every query word therefore also gets a *root*: the word with its
    common inflectional suffixes stripped (plural, possessive, case, a few verb endings), at
    least four letters long, which is matched as a *prefix* of the accent-folded surface words
    of the articles ("siparişlerim" → ``siparis:*`` finds "sipariş", "siparişiniz"…;
    "iadesi" → ``iade:*`` finds "iade"). English gets a light plural strip.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# PostgreSQL text-search configurations (Snowball stemmers shipped with PostgreSQL 13+), by
# language code. Any other language is searched with the ``simple`` configuration (no
# stemming, no stop words). The ``search_index`` migration creates a ``kb_surface_<name>``
# configuration (unaccent + lower-case, the language's stop words) for each of these.
STEM_CONFIGS: dict[str, str] = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch",
    "en": "english", "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}
TURKIC = frozenset({"tr", "az"})

MAX_QUERY_CHARS = 200
MAX_GROUPS = 10
MIN_TURKISH_ROOT = 4
MIN_ROOT = 3

# Stop words of the two shipped languages, accent-folded (PostgreSQL's lists, which it applies
# itself to the stemmed part; these catch them when typed without accents: "icin", "cunku").
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
        her hers herself it its itself they them their theirs themselves what which who whom this that
        these those am is are was were be been being have has had having do does did doing a an the and
        but if or because as until while of at by for with about against between into through during
        before after above below to from up down in out on off over under again further then once here
        there when where why how all any both each few more most other some such no nor not only own same
        so than too very s t can will just don should now""".split()),
    "tr": frozenset("""
        acaba ama aslinda az bazi belki biri birkac birsey biz bu cok cunku da daha de defa diye eger en
        gibi hem hep hepsi her hic icin ile ise kez ki kim mi mu nasil ne neden nerde nerede nereye nicin
        niye o sanki sey siz su tum ve veya ya yani""".split()),
}
# Words that say nothing about a request's subject (greetings, thanks, filler), dropped from a
# longer text before its terms are picked (``kb_suggest``).
FILLER_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""hi hello hey dear thanks thank thx regards best kind please pls help team support
        sir madam ok okay yes get got would could also still""".split()),
    "tr": frozenset("""merhaba merhabalar selam selamlar iyi gunler gun aksamlar tesekkur tesekkurler ederim
        ederiz lutfen rica saygilar saygilarimla kolay gelsin sayin bey hanim yardim destek ekibi
        bir var yok olarak olan""".split()),
}

# Turkish inflectional suffixes, accent-folded, longest first (stripped from the end of a word,
# at most three times, while the root keeps MIN_TURKISH_ROOT letters).
_TR_SUFFIXES = tuple(sorted(set("""
    lerimiz larimiz leriniz lariniz lerin larin leri lari ler lar
    imiz umuz iniz unuz siniz sunuz miz muz niz nuz
    ndan nden dan den tan ten nda nde da de ta te nin nun in un im um si su yi yu ye ya yle yla ile le la
    mek mak me ma medi madi
    """.split()), key=len, reverse=True))
# Single-vowel endings (accusative, dative, possessive) are stripped after a consonant only.
_TR_VOWEL_SUFFIXES = frozenset("aeiu")
_TR_VOWELS = frozenset("aeiou")
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)"?|(-?)([^\W_]+)')
_FOLD_ONE = str.maketrans({"ı": "i", "ß": "s", "ø": "o", "æ": "a", "œ": "o", "đ": "d", "ł": "l", "þ": "t"})


def language(locale: str) -> str:
    return (locale or "").split("-")[0].lower()


def stem_config(locale: str) -> str:
    """The PostgreSQL configuration that stems ``locale``'s text (``simple`` if none does)."""
    return STEM_CONFIGS.get(language(locale), "simple")


def surface_config(locale: str) -> str:
    """Accent-folded, lower-cased words without stemming (the language's stop words dropped)."""
    return f"kb_surface_{stem_config(locale)}"


def fold_case(text: str, locale: str) -> str:
    """Lower case the language's way (see the module's docstring)."""
    text = unicodedata.normalize("NFC", text or "")
    if language(locale) in TURKIC:
        text = text.replace("I", "ı").replace("İ", "i")
    else:
        text = text.replace("İ", "i")
    return text.lower()


def fold_accents(text: str) -> str:
    """``ş→s``, ``ı→i``, ``é→e``… one letter for one letter (so a cut made on the folded form
    can be applied to the original)."""
    out = []
    for char in text.translate(_FOLD_ONE):
        if ord(char) < 128:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        out.append(base if base and not unicodedata.combining(base) else char)
    return "".join(out)


def fold(text: str, locale: str) -> str:
    """Case and accents folded: the form words are compared in (synonyms, vocabulary, embedded mode)."""
    return fold_accents(fold_case(text, locale))


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


def is_stop_word(word: str, locale: str) -> bool:
    return fold(word, locale) in STOP_WORDS.get(language(locale), frozenset())


def root(word: str, locale: str) -> str:
    """The word (case-folded, accents kept) without its common inflectional suffixes."""
    lang = language(locale)
    if lang in TURKIC:
        folded = fold_accents(word)
        cut = len(folded)
        for _round in range(3):
            stem = folded[:cut]
            for suffix in _TR_SUFFIXES:
                if stem.endswith(suffix) and cut - len(suffix) >= MIN_TURKISH_ROOT:
                    cut -= len(suffix)
                    break
            else:
                # A bare possessive -m / -n after a vowel ("kargom", "kargon"), or a
                # single-vowel case ending after a consonant ("teslimatı", "siparişe").
                if len(stem) > MIN_TURKISH_ROOT and (
                        (stem[-1] in "mn" and stem[-2] in _TR_VOWELS)
                        or (stem[-1] in _TR_VOWEL_SUFFIXES and stem[-2] not in _TR_VOWELS)):
                    cut -= 1
                    continue
                break
        return word[:cut]
    if lang == "en":
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) > 4 and word.endswith("ies"):
            return word[:-3] + "y"
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word[:-1]
    return word


def prefix_root(word: str, locale: str) -> str | None:
    """The root to match as a prefix of surface words, or None when it would be too short to
    say anything (every word starting with "ka"…)."""
    found = root(word, locale)
    minimum = MIN_TURKISH_ROOT if language(locale) in TURKIC else MIN_ROOT
    return found if len(found) >= minimum else None


def term_key(term: str, locale: str) -> tuple[str, ...]:
    """How a synonym term and the words of a query are compared: folded roots, word by word
    ("Refunds" and "refund" are the same key; so are "Siparişlerim" and "siparis")."""
    return tuple(fold_accents(root(w, locale)) for w in words(fold_case(term, locale)))


# --- parsed queries ----------------------------------------------------------------------

@dataclass
class Group:
    """One thing the query asks for: a word (with its synonyms and corrections), or a
    "quoted phrase", or a word to exclude (``-word``). Groups are ANDed unless ``or_next``."""

    words: list[str]
    phrase: bool = False
    negated: bool = False
    or_next: bool = False
    synonyms: list[list[str]] = field(default_factory=list)  # each: the words of one term
    corrections: list[str] = field(default_factory=list)     # vocabulary words (PostgreSQL lexemes)

    @property
    def word(self) -> str:
        return self.words[0]


def parse_query(query: str, locale: str) -> list[Group]:
    """Web-search syntax: words, "quoted phrases", ``-excluded`` words and ``or`` between two
    parts; everything else (punctuation, operators of other syntaxes) is ignored. Stop words
    are dropped; case is folded the language's way."""
    text = fold_case((query or "")[:MAX_QUERY_CHARS], locale)
    groups: list[Group] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        phrase, minus, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            items = [w for w in words(phrase) if not is_stop_word(w, locale)]
            if not items:
                continue
            group = Group(words=items[:8], phrase=len(items) > 1)
        else:
            if word == "or" and groups and not minus:
                pending_or = True
                continue
            if is_stop_word(word, locale) or len(word) > 60:
                continue
            group = Group(words=[word], negated=bool(minus))
        if pending_or and groups and not group.negated and not groups[-1].negated:
            groups[-1].or_next = True
        pending_or = False
        groups.append(group)
        if len(groups) >= MAX_GROUPS:
            break
    if groups and all(g.negated for g in groups):
        return []  # "-foo" alone asks for everything but foo: not a search
    return groups


def apply_synonyms(groups: list[Group], synonym_sets: list[list[str]], locale: str) -> list[Group]:
    """The query expanded with the tenant's synonyms: a query word, or a run of words, that is
    one of a set's terms becomes a group also matched by each of the set's other terms
    ("money back" in the query also finds "refund" and "reimbursement")."""
    if not synonym_sets or not groups:
        return groups
    sets = []
    for terms in synonym_sets:
        entries = [(term_key(term, locale), words(fold_case(term, locale))[:6]) for term in terms]
        entries = [(key, term_words) for key, term_words in entries if key]
        sets.append(sorted(entries, key=lambda entry: -len(entry[0])))  # the longest term first
    keys = [term_key(g.word, locale)[:1] if not (g.phrase or g.negated) else None for g in groups]
    out: list[Group] = []
    index = 0
    while index < len(groups):
        found = None
        for entries in sets:
            for key, term_words in entries:
                window = keys[index:index + len(key)]
                if len(window) == len(key) and all(k is not None for k in window) \
                        and tuple(k[0] for k in window if k) == key:
                    found = (len(key), term_words, entries)
                    break
            if found:
                break
        if found is None:
            out.append(groups[index])
            index += 1
            continue
        size, term_words, entries = found
        window = groups[index:index + size]
        merged = Group(words=[g.word for g in window], phrase=size > 1, or_next=window[-1].or_next)
        merged.synonyms = [other for key, other in entries if other != term_words]
        out.append(merged)
        index += size
    return out


def suggestion_words(text: str, locale: str) -> str:
    """A longer text (a ticket's subject and body) without greetings and filler, case folded:
    what ``kb_suggest`` hands to PostgreSQL to pick terms from."""
    filler = FILLER_WORDS.get(language(locale), frozenset())
    stop = STOP_WORDS.get(language(locale), frozenset())
    kept = [w for w in words(fold_case(text, locale))
            if len(w) >= 3 and not w.isdigit() and fold_accents(w) not in filler and fold_accents(w) not in stop]
    return " ".join(kept)


# --- embedded mode (SQLite): a regular expression per group --------------------------------

_VARIANTS = {
    "a": "aàáâäãåā", "c": "cçćč", "e": "eèéêëē", "g": "gğ", "i": "iıìíîïīİI", "n": "nñń", "o": "oòóôöõøō",
    "s": "sşśšß", "u": "uùúûüū", "y": "yýÿ", "z": "zźżž",
}


def loose_pattern(word: str) -> str:
    """A case- and accent-insensitive regular expression for ``word`` (the syntax both
    Python's ``re`` and PostgreSQL understand; run through Django's ``iregex``). Capitals are
    spelt out, as ``İ``/``ı`` do not fold the same way everywhere."""
    parts = []
    for char in fold_accents(word):
        variants = _VARIANTS.get(char)
        if variants:
            parts.append("[" + "".join(dict.fromkeys(variants + variants.upper())) + "]")
        elif char.isalnum():
            parts.append(f"[{char}{char.upper()}]" if char.upper() != char else char)
        else:
            parts.append(re.escape(char))
    return "".join(parts)


# --- typo correction ---------------------------------------------------------------------

def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters ("refnud" → "refund" is one edit) each count one."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i, char_a in enumerate(a, start=1):
        row = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def allowed_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def best_corrections(word: str, candidates: list[tuple[str, float]], *, limit: int = 3,
                     similarity: float = 0.45) -> list[str]:
    """Vocabulary words close to a misspelt ``word`` (accent-folded): within a few edits, or
    sharing most trigrams; the closest first."""
    scored = []
    for candidate, trigram in candidates:
        distance = edit_distance(word, fold_accents(candidate))
        if distance <= allowed_edits(word) or trigram >= similarity:
            scored.append((distance, -trigram, candidate))
    return [candidate for _d, _t, candidate in sorted(scored)[:limit]]


# --- highlighting ------------------------------------------------------------------------

def highlight_terms(groups: list[Group], locale: str) -> list[str]:
    """What a snippet marks: the roots of every asked word and synonym (and corrections)."""
    found: list[str] = []
    for group in groups:
        if group.negated:
            continue
        for term in [[w] for w in group.words] + group.synonyms:
            found += [prefix_root(word, locale) or word for word in term]
        found += group.corrections
    return list(dict.fromkeys(fold_accents(term) for term in found if term))


def highlighter(terms: list[str]) -> re.Pattern | None:
    """Words starting with one of ``terms``, whatever their case and accents ("isik" marks
    "IŞIK" and "ışıklar"), the whole word marked."""
    alternatives = [loose_pattern(term) for term in sorted(set(terms), key=len, reverse=True) if term]
    if not alternatives:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives[:40]) + r")[^\W_]*", re.IGNORECASE)
