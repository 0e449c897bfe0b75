"""word_index: posting lists are exact for short words, never miss a word; apply_lfs uses them
(votes of exact keyword LFs, candidates of others) and stays equal to Snorkel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snorkel.labeling import PandasLFApplier
from textgen import random_texts

import weak_supervision.word_index as wi
from labelfns import keyword_lf, regex_lf
from weak_supervision.apply import apply_lfs
from weak_supervision.cache import LFCache
from weak_supervision.pattern_engine import fold, fold_texts
from weak_supervision.word_index import (
    EXACT_CHARS,
    join_postings,
    load_word_index,
    save_word_index,
    whole_words,
    word_code,
    word_postings,
)

LABELS = ["a", "b", "c"]


def snorkel_matrix(lfs, df):
    return PandasLFApplier([lf.bind(LABELS) for lf in lfs]).apply(df, progress_bar=False)


def index_of(texts, segment_rows=wi.SEGMENT_ROWS):
    return join_postings([(len(texts), word_postings(fold_texts(texts), segment_rows))])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghij _-!ÄäßK\u017f\u212a0123456789\x00\n", max_size=60),
                min_size=1, max_size=12), st.integers(1, 5))
def test_word_index_is_exact_for_short_words_and_never_misses_long_ones(texts, segment):
    index = index_of(texts, segment)  # several segments in one build
    words = {w for t in texts for w in fold(t).split()} | {"zzzzzzzzzz", "abcdefghijk", "a" * 11}
    for word in words:
        if "\x01" in word or not word.isascii():
            continue
        holds = np.array([word in fold(t).split() for t in texts])
        cand = index.candidates([(f" {word} ",)])
        assert not (holds & ~cand).any(), word
        exact = index.matches([(f" {word} ",)])
        assert (exact is not None) == (len(word) <= EXACT_CHARS), word
        if exact is not None:
            np.testing.assert_array_equal(exact, holds, err_msg=word)


def test_word_codes_are_injective_up_to_ten_characters():
    words = ["a", "b", "ab", "ba", "a_", "_a", "a0", "0a", "abcdefgh", "abcdefghi", "abcdefghij",
             "abcdefghia", "jihgfedcba", "zzzzzzzzzz", "9", "99", "_", "__", "gift", "gifts"]
    codes = [word_code(w) for w in words]
    assert len({c for c, _ in codes}) == len(words) and all(exact for _, exact in codes)
    assert not word_code("abcdefghijk")[1] and word_code("abcdefghijk") != word_code("abcdefghij")
    with pytest.raises(ValueError, match="one folded word"):
        word_code("a b")


def test_word_index_multi_word_alternatives_need_every_word():
    index = index_of(["gift card", "card gift", "a gift", "card", "gift-card!", "giftcard"])
    assert index.candidates([(" gift ", " card ")]).tolist() == [True, True, False, False, True, False]
    assert index.matches([(" gift ", " card ")]) is None  # a phrase: the engine confirms
    assert index.matches([(" gift ",), (" card ",)]).tolist() == [True, True, True, True, True, False]
    assert index.matches([("gift",)]) is None and index.candidates([("gift",)]) is None


def test_whole_words_keeps_only_space_padded_words():
    assert whole_words([" gift ", " card ", "batter", " my ", " a b ", "x y "]) == \
        ["gift", "card", "my", "a", "b", "y"]
    index = index_of(["x"])
    assert index.candidates([(" gift ",), ("batter",)]) is None


def test_word_index_file_round_trip_and_damage(tmp_path):
    index = index_of(["a dog", "cats"] * 5)
    save_word_index(tmp_path, "ab" * 20, index)
    got = load_word_index(tmp_path, "ab" * 20, 10)
    assert got.n_rows == 10 and got.matches([(" cats ",)]).tolist() == [False, True] * 5
    assert load_word_index(tmp_path, "ab" * 20, 3) is None  # other row count
    path = next((tmp_path / "words").rglob("*.w3"))
    path.write_bytes(path.read_bytes()[:40])
    assert load_word_index(tmp_path, "ab" * 20, 10) is None
    assert load_word_index(tmp_path, "cd" * 20, 10) is None  # missing
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
    assert len(list((tmp_path / "words").rglob("*.w3"))) == 2  # text and title
    added = base + [keyword_lf("kw_gift", ["gift card", "money"], "b", fields=["title", "text"]),
                    keyword_lf("kw_case", ["Dogs"], "c", case_sensitive=True),
                    keyword_lf("kw_part", ["og"], "a", whole_word=False),
                    regex_lf("rx_my", r"\bmy\s+(dog|cat)s?\b", "a"),
                    regex_lf("rx_refund", r"refund(ed)?\b", "a"),
                    keyword_lf("kw_rare", ["zebra", "giraffe"], "b"),
                    keyword_lf("kw_pets", ["dog", "Kitten", "stars", "12oz", "_dog_"], "c",
                               fields=["title", "text"]),
                    keyword_lf("kw_uni", ["ılık", "café", "e-mail"], "a")]
    calls = []
    real = mod._compute

    def spy(lfs, df_, todo, need, *args, **kwargs):
        calls.append({lfs[j].name: int(need[:, j].sum()) for j in range(len(lfs))})
        return real(lfs, df_, todo, need, *args, **kwargs)

    monkeypatch.setattr(mod, "_compute", spy)
    got = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    np.testing.assert_array_equal(got.L, snorkel_matrix(added, df))
    assert calls[0]["kw_rare"] == calls[0]["kw_pets"] == 0  # votes from the index
    assert calls[0]["kw_gift"] < 500 and calls[0]["rx_my"] < 500
    assert calls[0]["kw_part"] == 500  # not whole words: every row
    again = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    assert all(v == 500 for v in again.cached.values())  # pruned rows were stored too
    np.testing.assert_array_equal(again.L, got.L)


EDGE_TITLES = ["Gift!", None, "a GIFT-card", "regift", "gift_card", "", "ǵift", "\u212aey", "ſale",
               "birthdays", "birthday", "abcdefghij", "abcdefghijk", "electronics", "Über", "gift",
               "naïve", "5K run", "x", "cafe"]
EDGE_TEXTS = ["re-gift, GIFT\ncard", "giftée", "GiFt", "gift1", "key\x00gift", "Sale!", "(present)",
              "presents", "birthday’s", "abcdefghijk", "abcdefghij.", "electronicz", "über",
              "gift  card", "card gift", "naive", "5k", "_x_", "café", "x"]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_word_index_votes_equal_snorkel_on_edge_cases(tmp_path, monkeypatch, n_jobs):
    """Each case would go wrong with an unsound index: punctuation and unicode around words,
    case folds (Kelvin sign, long s), NUL, words of 8 to 11 characters, phrases, case-sensitive
    keywords, substrings, missing values and several fields."""
    import weak_supervision.apply as mod

    monkeypatch.setattr(mod, "CHUNK_ROWS", 7)  # several parts, not whole bytes
    monkeypatch.setattr(mod, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(mod, "_PATTERN_POOL_MIN_ROWS", 0)
    df = pd.DataFrame({"title": pd.array(EDGE_TITLES * 3, dtype="str"),
                       "text": pd.array(EDGE_TEXTS * 3, dtype="str")})
    base = [keyword_lf("kw_base", ["x"], "a", fields=["title", "text"])]
    apply_lfs(base, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    added = base + [
        keyword_lf("kw_gift", ["gift"], "a", fields=["title", "text"]),
        keyword_lf("kw_key", ["KEY", "sale", "present"], "b"),
        keyword_lf("kw_long", ["birthday", "abcdefghij", "electronics"], "c", fields=["title", "text"]),
        keyword_lf("kw_k", ["5k", "x"], "a", fields=["title"]),
        keyword_lf("kw_phrase", ["gift card"], "b", fields=["title", "text"]),
        keyword_lf("kw_case", ["GIFT", "Sale"], "c", case_sensitive=True, fields=["title", "text"]),
        keyword_lf("kw_sub", ["gift"], "a", whole_word=False),
        keyword_lf("kw_uni", ["über", "naïve", "café"], "b", fields=["title", "text"]),
        keyword_lf("kw_punct", ["re-gift", "gift_card"], "c", fields=["title", "text"]),
        regex_lf("rx_gift", r"\bgifts?\b", "a", fields=["title", "text"]),
    ]
    got = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    np.testing.assert_array_equal(got.L, snorkel_matrix(added, df))
    assert got.cached["kw_base"] == len(df)
    again = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=n_jobs)
    assert all(v == len(df) for v in again.cached.values())
    np.testing.assert_array_equal(again.L, got.L)
