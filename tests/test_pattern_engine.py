"""The vectorized engine equals the row-by-row semantics, on generated text full of edge cases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textgen import random_texts

from labelfns import keyword_lf, regex_lf
from weak_supervision.pattern_engine import (
    _RUN_CAP,
    PatternMatcher,
    fold,
    match_patterns,
    prefilter_literals,
    window_plan,
)

LFS = [
    keyword_lf("kw_dog", ["dog", "kitten"], 0),
    keyword_lf("kw_sub", ["dog"], 0, whole_word=False),
    keyword_lf("kw_case", ["Dogs", "CAFÉ"], 0, case_sensitive=True),
    keyword_lf("kw_phrase", ["gift card", "not for my dog", "money back"], 0),
    keyword_lf("kw_symbols", ["c++", "5-star", "e-mail"], 0),
    keyword_lf("kw_unicode", ["café", "straße", "日本"], 0),
    keyword_lf("kw_stars", ["stars"], 0),  # matches "ſtars" under IGNORECASE
    regex_lf("rx_size", r"\b\d+ ?(?:oz|lbs?)\b", 0),
    regex_lf("rx_refund", r"refund(ed)?", 0),
    regex_lf("rx_nolit", r"\d\d", 0),
    regex_lf("rx_cs", re.compile(r"İstanbul|ılık"), 0),
    regex_lf("rx_start", r"^dog", 0),
    regex_lf("rx_look", r"(?<=gift )card", 0),
    regex_lf("rx_alt", r"(?:not|money)\s+(?:for|back)", 0),
]


def rowwise(lfs, texts):
    return np.array([[lf.raw({"text": t}) != -1 for lf in lfs] for t in texts], dtype=bool)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_equals_rowwise_on_generated_text(seed):
    texts = random_texts(600, seed)
    got = match_patterns(LFS, pd.DataFrame({"text": texts}))
    want = rowwise(LFS, texts)
    bad = np.argwhere(got != want)
    assert not len(bad), [(texts[r], LFS[j].name) for r, j in bad[:5]]
    assert want.any(axis=0).all(), "every LF should fire at least once in the generated text"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("dogDOGſKk cafÉé+-_\n\x00İı12oz!")),
                        max_size=30), min_size=1, max_size=8))
def test_engine_equals_rowwise_property(texts):
    assert (match_patterns(LFS, {"text": texts}) == rowwise(LFS, texts)).all()


def test_fold_keeps_length_and_maps_case_like_re():
    for text in ["Straße", "İı", "\u212a", "ſ", "日本—x", "a\x00b"]:
        assert len(fold(text)) == len(text)
    assert fold("\u212a") == "k" and fold("ſ") == "s" and fold("—") == " "


def test_prefilter_is_none_without_literals():
    assert prefilter_literals(regex_lf("r", r"\d+", 0)) is None
    plan = prefilter_literals(regex_lf("r", r"\bnot (good|great)", 0))
    assert plan is not None and plan.alternatives == ((" not ", "ood"), (" not ", "reat"))
    plan = prefilter_literals(regex_lf("r", r"(good|great)\s+deal", 0))
    assert plan is not None and set(plan.alternatives) == {("ood", " deal"), ("reat", " deal")}


def test_multiple_fields_any_match():
    lf = keyword_lf("kw", ["lego"], 0, fields=["title", "text"])
    df = pd.DataFrame({"title": ["LEGO", None, "x"], "text": ["", "a lego set", None]})
    assert match_patterns([lf], df)[:, 0].tolist() == [True, True, False]


# -- windowed confirmation -----------------------------------------------------------------------
WINDOWED = [
    regex_lf("rx_pet", r"\bmy\s+(?:dog|cat)s?\b", 0),  # unbounded \s+: capped runs
    regex_lf("rx_weight", r"\b\d+(?:\.\d+)?\s?(?:oz|lbs?)\b", 0),  # unbounded \d+ before the literal
    regex_lf("rx_end", r"dog$", 0),  # $ reads past the match: the cut must not fake a match
    regex_lf("rx_end_ml", re.compile(r"dog$", re.MULTILINE | re.IGNORECASE), 0),
    regex_lf("rx_z", r"card\Z", 0),
    regex_lf("rx_ahead", r"gift(?=\s\w{3})", 0),  # a bounded look-ahead
    regex_lf("rx_not_ahead", r"\bgift(?!\s*card)", 0),  # unbounded look-ahead: no windows
    regex_lf("rx_behind", r"(?<=my )dog", 0),
    regex_lf("rx_start", r"^my dog", 0),
    regex_lf("rx_nb", r"dog\B", 0),
    regex_lf("rx_overlap", r"abab", 0),
    regex_lf("rx_kelvin", r"\bkitten\b", 0),  # matches "\u212aitten" under IGNORECASE
    regex_lf("rx_cs", re.compile(r"Straße\b"), 0),
    regex_lf("rx_lazy", r"my\s+?dog", 0),
    regex_lf("rx_word_run", r"\bgo+d\b", 0),
    regex_lf("rx_cut", r"dog\w*$", 0),  # a window's end would fake the $
    regex_lf("rx_lbs", r"\b\d+ ?lbs\b", 0),  # the match starts a full width before the literal
    keyword_lf("kw_phrase", ["gift card", "money back"], 0),
    keyword_lf("kw_sub_phrase", ["gift card"], 0, whole_word=False),
]
PAD = st.sampled_from(["", " ", "x", "1", "é", "\n", " " * 12, "7" * 12, "a" * 20, "日本"])
PIECE = st.sampled_from(["my", "MY", " ", "\t", "\n", "dog", "Dogs", "cat", "12", "3.5", "oz",
                         "lbs", "gift", "card", "money", "back", "abab", "ab", "\u212aitten",
                         "kitten", "ſ", "Straße", "STRASSE", "go", "oo", "d", "_", "—", "ü", "!"])


def _long_texts():
    return st.lists(st.tuples(PAD, st.lists(PIECE, max_size=14), PAD), min_size=1, max_size=6).map(
        lambda rows: [a * 3 + "".join(body) + b * 4 for a, body, b in rows])


@settings(max_examples=300, deadline=None)
@given(_long_texts())
def test_windowed_confirmation_equals_rowwise_property(texts):
    got = match_patterns(WINDOWED, {"text": texts})
    assert (got == rowwise(WINDOWED, texts)).all()


@pytest.mark.parametrize("text, name, want", [
    ("my dog", "rx_pet", True),  # at the very start and end
    ("xmy dog", "rx_pet", False),
    ("my dogx", "rx_pet", False),
    ("q" * 80 + " my" + " " * 30 + "dog " + "q" * 80, "rx_pet", True),  # a run longer than the cap
    ("q" * 80 + " my" + " " * 30 + "dogq" + "q" * 80, "rx_pet", False),
    ("weight: " + "9" * 40 + " lbs, " + "x" * 90, "rx_weight", True),  # digits reach far left
    ("weight: " + "9" * 40 + " lbsx" + "x" * 90, "rx_weight", False),
    ("a dog" + " " * 60 + "\n", "rx_end", False),
    ("hot dog\n", "rx_end", True),
    ("a dog\n" + "z" * 90, "rx_end", False),
    ("a dog\n" + "z" * 90, "rx_end_ml", True),
    ("gift card", "rx_z", True),
    ("gift card" + " " * 90, "rx_z", False),
    ("a gift box" + "." * 90, "rx_ahead", True),
    ("a gift bo" + "." * 90, "rx_ahead", False),
    ("gift" + " " * 50 + "card", "rx_not_ahead", False),
    ("my dog", "rx_behind", True),
    ("me dog" + " my dog" * 0 + " " * 50, "rx_behind", False),
    ("my dog", "rx_start", True),
    (" my dog", "rx_start", False),
    ("dogs", "rx_nb", True),
    ("dog!", "rx_nb", False),
    ("xababx", "rx_overlap", True),
    ("x" * 50 + "aba" + "bab" + "x" * 50, "rx_overlap", True),
    ("a \u212aitten!", "rx_kelvin", True),
    ("a \u212aittens", "rx_kelvin", False),
    ("die Straße", "rx_cs", True),
    ("die STRASSE", "rx_cs", False),
    ("ü" * 70 + " my\u3000\u3000dog " + "ü" * 70, "rx_lazy", True),
    ("x g" + "o" * 40 + "d x", "rx_word_run", True),
    ("x g" + "o" * 40 + "dd x", "rx_word_run", False),
    ("hot dog" + "a" * 40 + "!", "rx_cut", False),
    ("hot dog" + "a" * 40, "rx_cut", True),
    ("wxyz " * 20 + "1" * _RUN_CAP + " lbs" + " pad" * 20, "rx_lbs", True),
    ("wxyz " * 20 + "x" + "1" * _RUN_CAP + " lbs" + " pad" * 20, "rx_lbs", False),
    ("a gift\n\n  card", "kw_phrase", True),
    ("a gift cards", "kw_phrase", False),
    ("agift cardz", "kw_sub_phrase", True),
])
def test_windowed_confirmation_edge_cases(text, name, want):
    lf = next(lf for lf in WINDOWED if lf.name == name)
    assert lf.raw({"text": text}) != -1 if want else lf.raw({"text": text}) == -1  # the premise
    others = ["padding row " * 5, text, "my dog " * 3]  # several rows: offsets must not leak
    assert match_patterns([lf], {"text": others})[1, 0] == want
    assert match_patterns(WINDOWED, {"text": others})[1, WINDOWED.index(lf)] == want


def test_window_plan_bounds_and_refusals():
    plan = window_plan(re.compile(r"\bmy\s+dogs?\b"))
    assert (plan.width, plan.ahead) == (2 + _RUN_CAP + 4, 0)
    assert plan.runs.search("my" + " " * (_RUN_CAP + 1)) is not None
    assert plan.runs.search("my" + " " * _RUN_CAP + "dog") is None
    assert window_plan(re.compile(r"abc(?=de)")).ahead == 2
    assert window_plan(re.compile(r"(?:ab)+c")) is None  # unbounded repeat of two characters
    assert window_plan(re.compile(r"(a)b\1")) is None  # back-reference
    assert window_plan(re.compile(r"a(?=b+)")) is None  # unbounded look-ahead
    assert window_plan(re.compile(r"(?i:a+)b")) is None  # scoped flags
    assert window_plan(re.compile(r"x{600}")) is None  # too wide to be worth it


def test_prefilter_drops_alternatives_that_need_more_than_another():
    plan = prefilter_literals(regex_lf("r", r"\bmoisturi[sz](er|ing)\b", 0))
    assert plan is not None and plan.alternatives == ((" moisturi",),)


def test_matcher_reuses_its_automata_across_batches():
    lfs = [regex_lf("rx", r"\bmy\s+dog\b", 0), keyword_lf("kw", ["cat"], 0)]
    matcher = PatternMatcher(lfs)
    for texts in (["my dog", "a cat"], ["my  dogs", "cats", "my\ndog cat"]):
        assert (matcher.match({"text": texts}) == rowwise(lfs, texts)).all()
