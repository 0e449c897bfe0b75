"""Keyword/regex LF families and their row-by-row semantics."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from labelfns import ABSTAIN, LFError, keyword_lf, regex_lf
from labelfns.patterns import field_text

LABELS = ["neg", "pos"]


def row(**kw):
    return SimpleNamespace(**kw)


def test_keyword_lf_whole_word_and_case():
    lf = keyword_lf("kw", ["great"], "pos", labels=LABELS)
    assert lf(row(text="GREAT product")) == 1
    assert lf(row(text="greatest")) == ABSTAIN
    assert lf(row(text="not-great!")) == 1


def test_keyword_lf_phrase_matches_any_whitespace():
    lf = keyword_lf("kw", ["money back"], "pos", labels=LABELS)
    assert lf(row(text="money\n\t back")) == 1
    assert lf(row(text="money-back")) == ABSTAIN


def test_keyword_lf_substring_and_case_sensitive_options():
    sub = keyword_lf("kw", ["dog"], "pos", whole_word=False, labels=LABELS)
    assert sub(row(text="hotdogs")) == 1
    cs = keyword_lf("kw2", ["Dog"], "pos", case_sensitive=True, labels=LABELS)
    assert cs(row(text="dog")) == ABSTAIN and cs(row(text="Dog")) == 1


def test_keyword_lf_searches_every_field_and_treats_missing_as_empty():
    lf = keyword_lf("kw", ["lego"], "pos", fields=["title", "text"], labels=LABELS)
    assert lf(pd.Series({"title": "LEGO set", "text": None})) == 1
    assert lf(pd.Series({"title": float("nan"), "text": "nothing"})) == ABSTAIN


def test_regex_lf_default_case_insensitive_and_compiled_pattern_kept():
    lf = regex_lf("rx", r"\d+ ?lbs?", "pos", labels=LABELS)
    assert lf(row(text="weighs 12 LBS")) == 1
    cs = regex_lf("rx2", re.compile(r"ABC"), "pos", labels=LABELS)
    assert cs(row(text="abc")) == ABSTAIN


def test_family_unknown_label_named_at_bind_time():
    with pytest.raises(LFError, match=r"LF 'kw'.*unknown class 'postive'.*did you mean 'pos'"):
        keyword_lf("kw", ["x"], "postive", labels=LABELS)


@pytest.mark.parametrize("bad", [[], [""], ["  "]])
def test_keyword_lf_rejects_empty_keywords(bad):
    with pytest.raises(LFError, match="LF 'kw'"):
        keyword_lf("kw", bad, "pos")


def test_regex_lf_invalid_pattern_names_lf():
    with pytest.raises(LFError, match=r"LF 'rx'.*invalid regular expression"):
        regex_lf("rx", "(unclosed", "pos")


def test_field_text_conversions():
    assert field_text(None) == "" and field_text(float("nan")) == "" and field_text(pd.NA) == ""
    assert field_text(12) == "12" and field_text("a") == "a"


def test_fingerprint_changes_with_keywords_and_label_only():
    a = keyword_lf("kw", ["dog"], "pos", labels=LABELS)
    assert a.fingerprint() == keyword_lf("kw", ["dog"], "pos", labels=LABELS).fingerprint()
    assert a.fingerprint() != keyword_lf("kw", ["dogs"], "pos", labels=LABELS).fingerprint()
    assert a.fingerprint() != keyword_lf("kw", ["dog"], "neg", labels=LABELS).fingerprint()
