"""labelfns.reviews: negation-aware keywords, keyword tables, class-name keywords, n-gram mining,
and the LF module writer."""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import PandasLFApplier
from textgen import random_texts

from labelfns import DataError, LFError, keyword_lf, labeling_function, load_lfs, regex_lf
from labelfns.reviews import (
    MinedLFs,
    NegatedKeywordLF,
    class_name_keywords,
    keyword_table_lfs,
    lfs_from_class_names,
    lfs_from_sample,
    negated_keyword_lf,
    wilson_lower,
    write_lf_module,
)
from weak_supervision.apply import apply_lfs
from weak_supervision.label_model import select_label_model

LABELS = ["cats", "dogs", "fish"]


def vote(lf, text):
    return lf.bind(LABELS)(SimpleNamespace(text=text))


# -- negation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "not for my dog", "Not for dogs.", "this is NOT for a dog", "I don't have a dog",
    "I don’t own a dog", "no dog would eat it", "never for your dog", "without a dog",
    "It isn't for my dog", "it's not dog food",
])
def test_negated_keyword_lf_abstains_on_negated_mentions(text):
    lf = negated_keyword_lf("kw_dog", ["dog", "dogs"], "dogs")
    assert vote(lf, text) == -1


@pytest.mark.parametrize("text", [
    "my dog loves it", "Dog", "not cheap, but my dog loves it", "Not for cats. My dog loves it",
    "no problem at all for my big old dog", "not for cats; dogs love it", "dog food, not cat food",
])
def test_negated_keyword_lf_votes_on_mentions_outside_a_negation(text):
    lf = negated_keyword_lf("kw_dog", ["dog", "dogs"], "dogs")
    assert vote(lf, text) == 1


def test_negated_keyword_lf_window_sets_the_reach_of_a_negation():
    short = negated_keyword_lf("kw", ["dog"], "dogs", window=1)
    long = negated_keyword_lf("kw", ["dog"], "dogs", window=4)
    text = "not really for a dog"
    assert vote(short, text) == 1
    assert vote(long, text) == -1


def test_negated_keyword_lf_whole_words_and_phrases():
    lf = negated_keyword_lf("kw", ["dog food"], "dogs")
    assert vote(lf, "great Dog\n food") == 1
    assert vote(lf, "hotdog food") == -1
    assert vote(lf, "no dog food here") == -1


def test_negated_keyword_lf_is_a_vectorized_pattern_family_member():
    lf = negated_keyword_lf("kw", ["dog"], "dogs", fields=["title", "text"])
    assert isinstance(lf, NegatedKeywordLF)
    assert lf.kind == "regex" and lf.fields == ("title", "text") and lf.terms == ("dog",)


def test_negated_keyword_lf_apply_lfs_equals_snorkel_row_by_row():
    texts = random_texts(600, 7) + ["not for my dog", "no dog", "not for cats, my dog", "dog"]
    df = pd.DataFrame({"text": texts, "title": list(reversed(texts))})
    lfs = [negated_keyword_lf("neg_dog", ["dog", "gift card"], "dogs", fields=["title", "text"]),
           negated_keyword_lf("neg_kitten", ["kitten", "c++"], "cats", window=2),
           negated_keyword_lf("neg_cs", ["Dogs"], "fish", case_sensitive=True)]
    got = apply_lfs(lfs, df, labels=LABELS, n_jobs=1).L
    want = PandasLFApplier([lf.bind(LABELS) for lf in lfs]).apply(df, progress_bar=False)
    np.testing.assert_array_equal(got, want)
    assert (got != -1).any(axis=0).all() and (got == -1).any(axis=0).all()


@pytest.mark.parametrize("kwargs", [{"keywords": []}, {"window": 0}, {"negations": ["no t"]},
                                    {"label": None}])
def test_negated_keyword_lf_rejects_bad_arguments(kwargs):
    args = {"keywords": ["dog"], "label": "dogs", **kwargs}
    with pytest.raises(LFError, match="kw"):
        negated_keyword_lf("kw", args.pop("keywords"), args.pop("label"), **args)


# -- keyword tables and class names ---------------------------------------------------------------
def test_keyword_table_lfs_one_lf_per_field_with_negation():
    lfs = keyword_table_lfs({"dogs": ["dog"], "fish aquatic": "aquarium"}, fields=["Title", "Text"],
                            per_field=True, negation=True, prefix="t_")
    assert [lf.name for lf in lfs] == ["t_dogs__title", "t_dogs__text", "t_fish_aquatic__title",
                                       "t_fish_aquatic__text"]
    assert [lf.fields for lf in lfs] == [("Title",), ("Text",)] * 2
    assert all(isinstance(lf, NegatedKeywordLF) for lf in lfs)


def test_keyword_table_lfs_plain_keywords_share_fields():
    (lf,) = keyword_table_lfs({"dogs": ["dog", "puppy"]}, fields=["Title", "Text"])
    assert lf.kind == "keyword" and lf.fields == ("Title", "Text") and lf.keywords == ("dog", "puppy")


def test_class_name_keywords_split_inflect_and_drop_shared_words():
    kw = class_name_keywords(["dogs", "hair care", "skin care", "bathing skin care", "candy chocolate",
                              "baby toddler toys", "building toys", "puzzles"])
    assert set(kw["dogs"]) == {"dogs", "dog"}
    assert "puzzle" in kw["puzzles"]
    assert "care" not in kw["hair care"] and "hair" in kw["hair care"]
    assert "skin" not in kw["skin care"]  # shared with "bathing skin care"
    assert "toys" not in kw["building toys"] and "building" in kw["building toys"]
    assert {"candy", "candies", "chocolate", "chocolates"} <= set(kw["candy chocolate"])
    assert "bathing" in kw["bathing skin care"] and "bathings" not in kw["bathing skin care"]


def test_lfs_from_class_names_vote_their_class():
    lfs = lfs_from_class_names(["dogs", "cats"], fields=["Title"])
    assert [lf.name for lf in lfs] == ["name_dogs", "name_cats"]
    assert lfs[0].bind(["dogs", "cats"])(SimpleNamespace(Title="Best Dog Bed")) == 0
    assert lfs[1].bind(["dogs", "cats"])(SimpleNamespace(Title="Best Dog Bed")) == -1


# -- mining n-grams -------------------------------------------------------------------------------
def sample() -> pd.DataFrame:
    rows = [
        ("squeaky dog toy", "dogs"), ("dog leash and collar", "dogs"), ("dog bed for my dog", "dogs"),
        ("puppy dog treats", "dogs"), ("chew toy for dogs", "dogs"),
        ("cat litter box", "cats"), ("cat toy mouse", "cats"), ("kitten food", "cats"),
        ("scratching post for my cat", "cats"), ("dog and cat brush", "cats"),
        ("aquarium filter", "fish"), ("fish tank heater", "fish"), ("aquarium gravel", "fish"),
        ("unlabelled dog text", None),
    ]
    return pd.DataFrame({"text": [r[0] for r in rows], "y": [r[1] for r in rows]})


def precision_on(lf, df, labels):
    bound = lf.bind(labels)
    votes = [bound(SimpleNamespace(text=t)) for t in df["text"]]
    gold = [labels.index(v) if v in labels else -2 for v in df["y"]]
    hits = [(v, g) for v, g in zip(votes, gold, strict=True) if v != -1 and g != -2]
    return sum(v == g for v, g in hits) / len(hits), len(hits)


@pytest.mark.parametrize("min_precision", [0.5, 0.7, 0.9])
def test_lfs_from_sample_respects_the_precision_threshold(min_precision):
    df = sample()
    mined = lfs_from_sample(df, LABELS, "y", min_count=2, min_precision=min_precision)
    assert isinstance(mined, MinedLFs) and len(mined) == len(mined.evidence) > 0
    for lf, ev in zip(mined.lfs, mined.evidence, strict=True):
        precision, votes = precision_on(lf, df, LABELS)
        assert precision >= min_precision
        assert (ev.precision, ev.votes) == (pytest.approx(precision), votes)
        assert ev.correct >= 2 and lf.label == ev.label
    names = {ev.ngram for ev in mined.evidence}
    # "dog" matches 5 dog rows and 1 cat row (precision 5/6 = 0.83)
    assert ("dog" in names) == (min_precision <= 5 / 6)


def test_lfs_from_sample_wilson_bound_is_stricter():
    df = sample()
    raw = lfs_from_sample(df, LABELS, "y", min_count=2, min_precision=0.6)
    wilson = lfs_from_sample(df, LABELS, "y", min_count=2, min_precision=0.6, wilson=True)
    assert len(wilson) < len(raw)
    assert all(ev.precision_low >= 0.6 for ev in wilson.evidence)
    assert wilson_lower(5, 6) == pytest.approx(0.4365, abs=1e-3)


def test_lfs_from_sample_reports_classes_without_rows_and_without_ngrams():
    df = sample()
    df = df[df["y"] != "fish"]
    mined = lfs_from_sample(df, [*LABELS, "birds"], "y", min_count=2)
    assert mined.missing_classes == ("fish", "birds")
    assert mined.class_counts == {"cats": 5, "dogs": 5, "fish": 0, "birds": 0}
    assert {lf.label for lf in mined.lfs} <= {"cats", "dogs"}
    strict = lfs_from_sample(df, LABELS, "y", min_count=5)
    assert len(strict) == 0 and strict.unmined_classes == ("cats", "dogs")
    assert strict.to_dict()["missing_classes"] == ["fish"]


def test_lfs_from_sample_rejects_classes_outside_the_label_set():
    df = sample()
    df.loc[0, "y"] = "dgos"
    with pytest.raises(DataError, match=r"column 'y' holds classes outside the label set: 'dgos'"):
        lfs_from_sample(df, LABELS, "y")


def test_lfs_from_sample_rejects_missing_columns():
    with pytest.raises(DataError, match="no column 'title'"):
        lfs_from_sample(sample(), LABELS, "y", text_fields=["title"])


def test_lfs_from_sample_counts_repeated_texts_once():
    df = pd.DataFrame({"text": ["acme dog bowl"] * 4 + ["acme cat bowl"], "y": ["dogs"] * 4 + ["cats"]})
    repeated = lfs_from_sample(df, LABELS, "y", min_count=2, min_precision=0.6, distinct=False)
    distinct = lfs_from_sample(df, LABELS, "y", min_count=2, min_precision=0.6)
    assert "acme" in {ev.ngram for ev in repeated.evidence}
    assert len(distinct) == 0


def test_lfs_from_sample_holdout_reports_held_out_precision():
    mined = lfs_from_sample(sample(), LABELS, "y", min_count=1, min_precision=0.9, holdout=0.4,
                            seed=3)
    assert len(mined) and all(ev.holdout_votes is not None for ev in mined.evidence)
    assert mined.to_frame().columns[0] == "name"


# -- writing a module -----------------------------------------------------------------------------
def mixed_lfs():
    return [
        keyword_lf("kw_dog", ["dog", "dog food", "k'nex \"pro\""], "dogs", fields=["Title", "Text"]),
        keyword_lf("kw_cat_cs", ["Cat"], "cats", case_sensitive=True, whole_word=False),
        negated_keyword_lf("neg_fish", ["aquarium", "fish tank"], "fish", window=2),
        negated_keyword_lf("neg_custom", ["dog"], 1, negations=["not", "hardly"]),
        regex_lf("rx_gallons", r"\b\d+\s*gal(lon)?s?\b", "fish"),
        regex_lf("rx_cs", re.compile(r"^CAT\b"), "cats"),
        regex_lf("rx_multiline", re.compile(r"^dog$", re.M | re.I), 1),
        keyword_lf("kw_" + "long" * 20, [f"word number {i}" for i in range(30)], "dogs"),
    ]


def test_write_lf_module_round_trips_to_equal_lfs(tmp_path):
    lfs = mixed_lfs()
    path = write_lf_module(lfs, tmp_path / "first_lfs.py", evidence={"kw_dog": "7/8 = 0.88"})
    loaded = {lf.name: lf for lf in load_lfs([path])}
    assert sorted(loaded) == sorted(lf.name for lf in lfs)
    for a in lfs:
        b = loaded[a.name]
        assert type(a) is type(b)
        assert (a.name, a.label, a.fields, a.regex.pattern, a.regex.flags) == \
            (b.name, b.label, b.fields, b.regex.pattern, b.regex.flags)
        assert a.fingerprint() == b.fingerprint()
    text = path.read_text()
    assert "# 7/8 = 0.88" in text and max(map(len, text.splitlines())) <= 110
    assert len(re.findall(r"(?<!negated_)keyword_lf\(", text)) == 3  # one call per LF


def test_write_lf_module_writes_mined_evidence_and_groups_by_class(tmp_path):
    mined = lfs_from_sample(sample(), LABELS, "y", min_count=2)
    path = write_lf_module(mined, tmp_path / "mined.py", header="Mined from sample().")
    text = path.read_text()
    assert text.startswith('"""Mined from sample().')
    assert "on the sample (Wilson low" in text and "# -- dogs" in text
    assert [lf.name for lf in load_lfs([path])] == [lf.name for lf in mined.lfs]


def test_write_lf_module_rejects_python_lfs(tmp_path):
    @labeling_function()
    def short(x):
        return None

    with pytest.raises(LFError, match="cannot write a LabelingFunction as data"):
        write_lf_module([short], tmp_path / "x.py")
    assert not (tmp_path / "x.py").exists()


def test_a_module_voting_for_one_class_still_gets_labels(tmp_path):
    lfs = [keyword_lf(f"kw_dog_{i}", [w], "dogs") for i, w in enumerate(["dog", "puppy", "leash"])]
    path = write_lf_module(lfs, tmp_path / "one_class.py")
    df = pd.DataFrame({"text": ["dog leash", "puppy", "cat", "dog", "fish tank", "puppy leash"] * 5})
    matrix = apply_lfs(load_lfs([path]), df, labels=LABELS, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        choice = select_label_model(matrix, cardinality=3, Y_dev=np.array([1, 1, 0, 1, 2, 1] * 5),
                                    n_epochs=20)
    pred = choice.model.predict(matrix.L)
    assert set(pred.tolist()) == {1, -1}
    assert choice.majority_scores.accuracy == pytest.approx(4 / 6)
