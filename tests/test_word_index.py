"""word_index: row signatures never miss a word; apply_lfs prunes with them and stays exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snorkel.labeling import PandasLFApplier
from textgen import random_texts

from labelfns import keyword_lf, regex_lf
from weak_supervision.apply import apply_lfs
from weak_supervision.cache import LFCache
from weak_supervision.pattern_engine import fold, fold_texts
from weak_supervision.word_index import (
    WordIndex,
    join_signatures,
    load_word_index,
    save_word_index,
    whole_words,
    word_signatures,
)

LABELS = ["a", "b", "c"]


def snorkel_matrix(lfs, df):
    return PandasLFApplier([lf.bind(LABELS) for lf in lfs]).apply(df, progress_bar=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz _-!ÄäßK\u017f\u212a0123456789", max_size=40),
                min_size=1, max_size=12))
def test_word_index_candidates_include_every_row_holding_the_word(texts):
    indexes = [WordIndex(word_signatures(fold_texts(texts), bits), len(texts)) for bits in (64, 1024)]
    words = {w for t in texts for w in fold(t).split()} | {"zzzzzzzzzz", "abcdefghijk"}
    for word in words:
        if "\x01" in word or not word.isascii():
            continue
        holds = np.array([word in fold(t).split() for t in texts])
        for index in indexes:
            cand = index.candidates([(f" {word} ",)])
            assert not (holds & ~cand).any(), word


def test_word_index_rules_out_most_rows_without_the_word():
    texts = random_texts(2000, 3)
    index = WordIndex(word_signatures(fold_texts(texts)), len(texts))
    cand = index.candidates([(" qwertyuiop ",)])
    assert cand.mean() < 0.05


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=6))
def test_word_index_join_signatures_equals_one_pass(sizes):
    texts = random_texts(sum(sizes), sum(sizes))
    whole = word_signatures(fold_texts(texts))
    parts, at = [], 0
    for k in sizes:
        parts.append((k, word_signatures(fold_texts(texts[at:at + k]))))
        at += k
    np.testing.assert_array_equal(join_signatures(parts), whole)


def test_whole_words_keeps_only_space_padded_single_words():
    assert whole_words([" gift ", " card ", "batter", " my ", " a b "]) == ["gift", "card", "my"]
    index = WordIndex(word_signatures(fold_texts(["x"])), 1)
    assert index.candidates([(" gift ",), ("batter",)]) is None


def test_word_index_file_round_trip_and_damage(tmp_path):
    sig = word_signatures(fold_texts(["a dog", "cats"]))
    save_word_index(tmp_path, "ab" * 20, sig, 2)
    got = load_word_index(tmp_path, "ab" * 20, 2)
    np.testing.assert_array_equal(got.bitmaps, sig)
    assert got.candidates([(" cats ",)]).tolist() == [False, True]
    assert load_word_index(tmp_path, "ab" * 20, 3) is None  # other row count
    with pytest.raises(ValueError, match="do not fit"):
        save_word_index(tmp_path, "cd" * 20, sig, 9)
    path = next((tmp_path / "words").rglob("*.w2"))
    path.write_bytes(path.read_bytes()[:20])
    assert load_word_index(tmp_path, "ab" * 20, 2) is None
    assert LFCache(tmp_path).clear() == 1 and not path.exists()


@pytest.mark.parametrize(("n_jobs", "chunk"), [(1, 50), (2, 64)])
def test_apply_rerun_with_word_index_equals_snorkel_and_caches_pruned_rows(tmp_path, monkeypatch,
                                                                           n_jobs, chunk):
    import weak_supervision.apply as mod

    monkeypatch.setattr(mod, "CHUNK_ROWS", chunk)  # 50: parts of rows that are not whole bytes
    monkeypatch.setattr(mod, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(mod, "_PATTERN_POOL_MIN_ROWS", 0)  # n_jobs=2: signatures built in workers
    texts = random_texts(500, 7)
    df = pd.DataFrame({"text": texts, "title": random_texts(500, 8)})
    base = [keyword_lf("kw_dog", ["dog"], "a", fields=["title", "text"]),
            regex_lf("rx_size", r"\b\d+ ?(?:oz|lbs?)\b", "c")]
    apply_lfs(base, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    assert len(list((tmp_path / "words").rglob("*.w2"))) == 2  # text and title
    added = base + [keyword_lf("kw_gift", ["gift card", "money"], "b", fields=["title", "text"]),
                    keyword_lf("kw_case", ["Dogs"], "c", case_sensitive=True),
                    keyword_lf("kw_part", ["og"], "a", whole_word=False),
                    regex_lf("rx_my", r"\bmy\s+(dog|cat)s?\b", "a"),
                    regex_lf("rx_refund", r"refund(ed)?\b", "a"),
                    keyword_lf("kw_rare", ["zebra", "giraffe"], "b")]
    calls = []
    real = mod._compute

    def spy(lfs, df_, todo, need, *args, **kwargs):
        calls.append({lfs[j].name: int(need[:, j].sum()) for j in range(len(lfs))})
        return real(lfs, df_, todo, need, *args, **kwargs)

    monkeypatch.setattr(mod, "_compute", spy)
    got = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    np.testing.assert_array_equal(got.L, snorkel_matrix(added, df))
    assert calls[0]["kw_rare"] < 50  # pruned by the index
    assert calls[0]["kw_gift"] < 500 and calls[0]["rx_my"] < 500
    assert calls[0]["kw_part"] == 500  # not whole words: every row
    again = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    assert all(v == 500 for v in again.cached.values())  # pruned rows were stored too
    np.testing.assert_array_equal(again.L, got.L)
