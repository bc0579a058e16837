"""The search's language rules as pure functions: case folding per language, accent folding,
Turkish roots, query parsing, synonyms, typo distance (no database)."""
from __future__ import annotations

import re

from hypothesis import given, strategies as st

from knowledge.search.simple import snippet
from knowledge.search.text import (
    apply_synonyms,
    highlight_terms,
    highlighter,
    best_corrections,
    edit_distance,
    fold,
    fold_accents,
    fold_case,
    loose_pattern,
    parse_query,
    root,
    stem_config,
    suggestion_words,
    surface_config,
    term_key,
)


def test_case_is_folded_the_languages_way():
    assert fold_case("IŞIK İADE", "tr") == "ışık iade"
    assert fold_case("IŞIK İADE", "az") == "ışık iade"
    assert fold_case("IT İstanbul", "en") == "it istanbul"  # no combining dot left behind
    assert len(fold_case("İ", "en")) == 1


def test_accents_fold_one_letter_for_one():
    assert fold_accents("ışık şifre ÇÖĞÜ café") == "isik sifre COGU cafe"
    assert fold("IŞIK", "tr") == fold("isik", "tr") == fold("ışık", "en") == "isik"


@given(st.text(max_size=40))
def test_folding_keeps_the_length(text):
    assert len(fold_accents(text)) == len(text)


def test_turkish_roots():
    cases = {"siparişlerim": "sipariş", "iadesi": "iade", "kargom": "kargo", "kargoya": "kargo",
             "teslimatı": "teslimat", "ürünlerim": "ürün", "kapıda": "kapı", "değiştirmek": "değiştir",
             "iade": "iade", "iptali": "iptal", "siparişe": "sipariş"}
    assert {word: root(word, "tr") for word in cases} == cases


def test_english_roots():
    assert [root(w, "en") for w in ("refunds", "policies", "address", "status", "bus")] == \
        ["refund", "policy", "address", "status", "bus"]


def test_configurations_per_locale():
    assert (stem_config("en"), stem_config("tr"), stem_config("pt-br"), stem_config("ja")) == \
        ("english", "turkish", "portuguese", "simple")
    assert surface_config("tr") == "kb_surface_turkish" and surface_config("xx") == "kb_surface_simple"


def test_query_parsing():
    groups = parse_query('How do I get a "money back" -shipping or Refunds İADE!', "en")
    assert [(g.words, g.phrase, g.negated, g.or_next) for g in groups] == [
        (["get"], False, False, False), (["money", "back"], True, False, False),
        (["shipping"], False, True, False), (["refunds"], False, False, False), (["iade"], False, False, False)]
    or_groups = parse_query("café or password", "en")
    assert or_groups[0].or_next and not or_groups[1].or_next
    assert parse_query("-alone", "en") == []
    assert parse_query("the of and", "en") == []
    assert [g.word for g in parse_query("şifre için ne", "tr")] == ["şifre"]
    assert [g.word for g in parse_query("sifre icin", "tr")] == ["sifre"]  # stop words typed without accents
    assert len(parse_query(" ".join(f"w{n}" for n in range(30)), "en")) == 10
    assert parse_query("<script>alert('x')</script>", "en")[0].word == "script"


def test_synonyms_expand_words_and_runs_of_words():
    sets = [["refund", "money back", "reimbursement"]]
    groups = apply_synonyms(parse_query("refunds for my order", "en"), sets, "en")
    assert groups[0].words == ["refunds"] and groups[0].synonyms == [["money", "back"], ["reimbursement"]]
    groups = apply_synonyms(parse_query("money back order", "en"), sets, "en")
    assert groups[0].words == ["money", "back"] and groups[0].phrase
    assert groups[0].synonyms == [["refund"], ["reimbursement"]] and groups[1].word == "order"
    assert term_key("Siparişlerim", "tr") == term_key("siparis", "tr")
    groups = apply_synonyms(parse_query("SİPARİŞLERİM", "tr"), [["sipariş", "order"]], "tr")
    assert groups[0].synonyms == [["order"]]


def test_typo_distance_and_corrections():
    assert edit_distance("refnud", "refund") == 1  # a swap is one edit
    assert edit_distance("pasword", "password") == 1
    assert edit_distance("kitten", "sitting") == 3
    assert best_corrections("refnud", [("refund", 0.27), ("refer", 0.3), ("rented", 0.1)]) == ["refund"]
    assert best_corrections("shiping", [("shipping", 0.6), ("shopping", 0.4)]) == ["shipping", "shopping"]
    assert best_corrections("xyz", [("abc", 0.0)]) == []


def test_suggestion_words_drop_greetings_and_stop_words():
    text = "Merhaba, siparişim 3 gündür gelmedi!! Teşekkürler, iyi günler"
    assert suggestion_words(text, "tr") == "siparişim gündür gelmedi"
    assert suggestion_words("Hello team, thanks! My refund is late.", "en") == "refund late"


def test_loose_pattern_matches_case_and_accents_both_ways():
    pattern = re.compile(loose_pattern("sipariş"), re.IGNORECASE)
    for text in ("SİPARİŞ", "siparis", "Siparişlerim", "SIPARIS"):
        assert pattern.search(text), text
    assert not pattern.search("sipar")
    assert re.compile(loose_pattern("a.b")).fullmatch("a.b") and not re.compile(loose_pattern("a.b")).fullmatch("axb")


def test_highlighting_marks_whole_words_starting_like_the_query():
    marks = highlighter(highlight_terms(parse_query("isik siparişlerim", "tr"), "tr"))
    html = snippet("IŞIK ve ışıklar ayarlanır; Siparişiniz <b>yolda</b>, ön-sipariş değil: kısipariş.", marks)
    assert "<mark>IŞIK</mark>" in html and "<mark>ışıklar</mark>" in html and "<mark>Siparişiniz</mark>" in html
    assert "&lt;b&gt;yolda&lt;/b&gt;" in html and "kısipariş" in html and "<mark>kı" not in html
    assert snippet("No match here at all.", highlighter([])) == "No match here at all."
    long = " ".join(f"w{n}" for n in range(200)) + " refund " + " ".join(f"x{n}" for n in range(50))
    cut = snippet(long, highlighter(["refund"]))
    assert cut.startswith("… ") and "<mark>refund</mark>" in cut and cut.endswith(" …")
