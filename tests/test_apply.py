"""apply_lfs: parity with Snorkel, parallelism, faults, cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LabelingFunction as SnorkelLF
from snorkel.labeling import PandasLFApplier
from snorkel.preprocess import preprocessor
from textgen import random_texts

from labelfns import LFError, keyword_lf, labeling_function, regex_lf
from weak_supervision.apply import apply_lfs
from weak_supervision.cache import LFCache

LABELS = ["a", "b", "c"]


@preprocessor(memoize=True)
def add_length(x):
    x.n_chars = len(x.text)
    return x


@labeling_function(pre=[add_length])
def lf_long(x):
    return "c" if x.n_chars > 40 else None


@labeling_function(resources={"words": {"dog", "kitten"}})
def lf_resource(x, words):
    return 1 if any(w in x.text.lower() for w in words) else -1


@labeling_function()
def lf_title(x):
    return "b" if isinstance(x.title, str) and x.title.isupper() else None


plain_snorkel = SnorkelLF("plain", lambda x: 0 if "oz" in x.text else -1)


def all_kinds():
    return [
        keyword_lf("kw_dog", ["dog", "kitten"], "a"),
        keyword_lf("kw_phrase", ["gift card", "money back"], "b", fields=["title", "text"]),
        keyword_lf("kw_case", ["Dogs"], "c", case_sensitive=True),
        regex_lf("rx_size", r"\b\d+ ?(?:oz|lbs?)\b", "c"),
        regex_lf("rx_digits", r"\d\d", 1),
        lf_long, lf_resource, lf_title, plain_snorkel,
    ]


def make_df(n=400, seed=0):
    texts = random_texts(n, seed)
    titles = random_texts(n, seed + 100)
    titles = [t.upper() if i % 3 == 0 else (None if i % 7 == 0 else t) for i, t in enumerate(titles)]
    return pd.DataFrame({"text": texts, "title": titles})


def snorkel_matrix(lfs, df):
    bound = [lf.bind(LABELS) if hasattr(lf, "bind") else lf for lf in lfs]
    return PandasLFApplier(bound).apply(df, progress_bar=False)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_apply_equals_snorkel_pandas_applier_for_every_lf_kind(n_jobs, monkeypatch):
    import weak_supervision.apply as mod

    monkeypatch.setattr(mod, "CHUNK_ROWS", 64)
    monkeypatch.setattr(mod, "_PARALLEL_MIN_WORK", 0)
    df = make_df()
    lfs = all_kinds()
    got = apply_lfs(lfs, df, labels=LABELS, n_jobs=n_jobs)
    want = snorkel_matrix(lfs, df)
    assert got.L.shape == want.shape
    np.testing.assert_array_equal(got.L, want)
    assert (got.L != -1).any(axis=0).all()
    assert got.lf_names == tuple(lf.name for lf in lfs)


def test_duplicate_names_rejected_before_any_work():
    calls = []

    @labeling_function(name="dup")
    def first(x):
        calls.append(1)
        return None

    with pytest.raises(LFError, match="LF 'dup'"):
        apply_lfs([first, keyword_lf("dup", ["x"], 0)], make_df(10))
    assert calls == []


def test_strict_mode_names_lf_row_and_exception():
    @labeling_function()
    def boom(x):
        if "dog" in x.text:
            raise ZeroDivisionError("bad math")
        return None

    df = pd.DataFrame({"text": ["cat", "my dog"]}, index=["r1", "r2"])
    with pytest.raises(LFError) as info:
        apply_lfs([boom], df, n_jobs=1)
    msg = str(info.value)
    assert "LF 'boom'" in msg and "'r2'" in msg and "ZeroDivisionError: bad math" in msg


def test_unknown_label_names_row():
    @labeling_function()
    def typo(x):
        return "refnd"

    with pytest.raises(LFError, match=r"LF 'typo' on row 0: returned unknown class 'refnd'"):
        apply_lfs([typo], pd.DataFrame({"text": ["x"]}), labels=["refund"], n_jobs=1)


def test_fault_tolerant_records_and_counts():
    @labeling_function()
    def sometimes(x):
        if "dog" in x.text:
            raise ValueError("nope")
        return 0

    df = pd.DataFrame({"text": ["dog", "cat", "dog"]})
    lm = apply_lfs([sometimes], df, fault_tolerant=True, n_jobs=1)
    assert lm.L[:, 0].tolist() == [-1, 0, -1]
    assert lm.faults == {"sometimes": 2}


def test_missing_column_error_lists_available():
    with pytest.raises(LFError, match=r"LF 'kw'.*\['body'\].*available columns: text"):
        apply_lfs([keyword_lf("kw", ["x"], 0, fields=["body"])], pd.DataFrame({"text": ["x"]}))


class Calls:
    """A call counter; an object without a custom repr, so the LF's fingerprint ignores its state."""

    def __init__(self):
        self.n = 0


def test_cache_recomputes_only_new_lf_and_changed_rows(tmp_path):
    cache = LFCache(tmp_path)
    df = make_df(200)
    counter = Calls()

    @labeling_function()
    def counted(x):
        counter.n += 1
        return 0 if "dog" in x.text else None

    base = [keyword_lf("kw_dog", ["dog"], 0), counted]
    first = apply_lfs(base, df, cache=cache, n_jobs=1)
    assert counter.n == 200 and first.cached == {"kw_dog": 0, "counted": 0}

    added = base + [keyword_lf("kw_new", ["kitten"], 1)]
    second = apply_lfs(added, df, cache=cache, n_jobs=1)
    assert counter.n == 200  # the python LF was not re-run
    assert second.cached == {"kw_dog": 200, "counted": 200, "kw_new": 0}
    np.testing.assert_array_equal(second.L[:, :2], first.L)

    changed = df.copy()
    changed.loc[[3, 7], "text"] = ["a new dog", "something else"]
    third = apply_lfs(added, changed, cache=cache, n_jobs=1)
    assert counter.n == 202  # exactly the two changed rows
    assert third.cached["counted"] == 198
    np.testing.assert_array_equal(third.L, apply_lfs(added, changed, n_jobs=1).L)


def test_cache_ignores_columns_a_family_does_not_read(tmp_path):
    cache = LFCache(tmp_path)
    df = make_df(50)
    lf = keyword_lf("kw", ["dog"], 0)
    apply_lfs([lf], df, cache=cache)
    df2 = df.assign(title="changed")
    assert apply_lfs([lf], df2, cache=cache).cached == {"kw": 50}


def test_editing_an_lf_invalidates_it(tmp_path):
    cache = LFCache(tmp_path)
    df = make_df(50)
    apply_lfs([keyword_lf("kw", ["dog"], 0)], df, cache=cache)
    again = apply_lfs([keyword_lf("kw", ["dog", "kitten"], 0)], df, cache=cache)
    assert again.cached == {"kw": 0}


def test_empty_frame_gives_empty_matrix():
    lm = apply_lfs([keyword_lf("kw", ["x"], 0)], pd.DataFrame({"text": []}))
    assert lm.L.shape == (0, 1)


def test_cache_handles_list_cells(tmp_path):
    @labeling_function()
    def n_spans(x):
        return 0 if len(x.spans) > 1 else None

    df = pd.DataFrame({"text": ["a", "b"], "spans": [[{"start": 0}], [{"start": 0}, {"start": 1}]]})
    first = apply_lfs([n_spans], df, cache=LFCache(tmp_path), n_jobs=1)
    again = apply_lfs([n_spans], df, cache=LFCache(tmp_path), n_jobs=1)
    assert first.L[:, 0].tolist() == [-1, 0] and again.cached == {"n_spans": 2}


@pytest.mark.parametrize("column", [
    pd.array(["a dog", None, "no", "DOG!"], dtype="string[pyarrow]"),
    pd.array(["a dog", None, "no", "DOG!"], dtype="string[python]"),
    pd.Series(["a dog", None, float("nan"), "DOG!"], dtype=object),
    pd.Series(["a dog", 7, None, b"dog"], dtype=object),  # not all strings: str() of each cell
    pd.Series([1, 2, 3, 4]),
])
def test_apply_family_texts_equal_snorkel_for_any_column_type(column):
    df = pd.DataFrame({"text": column})
    lfs = [keyword_lf("kw_dog", ["dog"], "a"), regex_lf("rx_num", r"^[0-9]$|b'", "b")]
    got = apply_lfs(lfs, df, labels=LABELS, n_jobs=1)
    np.testing.assert_array_equal(got.L, snorkel_matrix(lfs, df))


def test_apply_returns_int64_votes_with_chunks_and_cache(tmp_path, monkeypatch):
    import weak_supervision.apply as mod

    monkeypatch.setattr(mod, "CHUNK_ROWS", 50)
    df = make_df(300)
    lfs = all_kinds()
    first = apply_lfs(lfs, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=1)
    changed = df.copy()
    changed.loc[[5, 120, 121, 299], "text"] = ["dog", "12 oz", "x", "money back"]
    again = apply_lfs(lfs, changed, labels=LABELS, cache=LFCache(tmp_path), n_jobs=1)
    for lm, frame in ((first, df), (again, changed)):
        assert lm.L.dtype == np.int64
        np.testing.assert_array_equal(lm.L, snorkel_matrix(lfs, frame))
    assert again.cached["kw_dog"] == 296


def test_cache_rerun_on_same_frame_reuses_folded_texts_and_stays_exact(tmp_path, monkeypatch):
    import weak_supervision.apply as mod

    monkeypatch.setattr(mod, "CHUNK_ROWS", 64)
    df = make_df(400)
    assert df["text"].dtype == "str"  # pyarrow-backed: immutable, so memoised
    base = [keyword_lf("kw_dog", ["dog"], "a"), regex_lf("rx_size", r"\b\d+ ?(?:oz|lbs?)\b", "c")]
    apply_lfs(base, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=1)
    folded = mod._folded_columns(df, {"text"})["text"]
    assert mod._folded_columns(df, {"text"})["text"] is folded
    added = base + [keyword_lf("kw_gift", ["gift card", "money"], "b"),
                    regex_lf("rx_refund", r"refund(ed)?\b", "a"), keyword_lf("kw_kitten", ["kitten"], 0)]
    got = apply_lfs(added, df, labels=LABELS, cache=LFCache(tmp_path), n_jobs=2)
    assert got.cached == {"kw_dog": 400, "rx_size": 400, "kw_gift": 0, "rx_refund": 0, "kw_kitten": 0}
    np.testing.assert_array_equal(got.L, snorkel_matrix(added, df))


def test_texts_at_scattered_rows_of_chunked_arrow_column_equal_iloc():
    from weak_supervision.apply import _field_texts, _texts_at

    parts = [pd.Series(["a", None, "c"], dtype="str"), pd.Series(["d", "e", None, "g"], dtype="str"),
             pd.Series(["h"], dtype="str")]
    col = pd.concat(parts, ignore_index=True)
    for rows in ([0, 1, 3, 5, 7], [2], [], [4, 5, 6], list(range(8))):
        sel = np.asarray(rows, dtype=np.int64)
        assert _texts_at(col, sel) == _field_texts(col.iloc[sel])
    obj = pd.Series(["x", None, 3], dtype=object)
    assert _texts_at(obj, np.array([1, 2])) == _field_texts(obj.iloc[[1, 2]])
