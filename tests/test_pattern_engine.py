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
from weak_supervision.pattern_engine import fold, match_patterns, prefilter_literals

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
