"""LFCache: the vote file format, partial updates, damaged files, and the row-index memo."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pandas as pd
import pytest

from weak_supervision.cache import LFCache, RowIndex, row_hashes, row_index

FP = "ab" * 32


def test_row_index_digest_depends_on_the_unique_hashes_only():
    a = RowIndex.of(np.array([9, 5, 5], dtype=np.uint64))
    assert a.digest == RowIndex.of(np.array([5, 9], dtype=np.uint64)).digest
    assert a.digest != RowIndex.of(np.array([5, 9, 11], dtype=np.uint64)).digest


def test_cache_store_then_lookup_round_trip(tmp_path):
    cache = LFCache(tmp_path)
    cache.store(FP, np.array([5, 7, 9], dtype=np.uint64), np.array([1, -1, 2]))
    votes, found = cache.lookup(FP, np.array([9, 5, 5, 11], dtype=np.uint64))
    assert votes.tolist() == [2, 1, 1, -1] and found.tolist() == [True, True, True, False]
    assert votes.dtype == np.int16


def test_cache_same_rows_skip_reading_keys(tmp_path, monkeypatch):
    cache = LFCache(tmp_path)
    index = RowIndex.of(np.array([3, 1, 2, 1], dtype=np.uint64))
    cache.store(FP, index, np.array([0, 1, 2, 1]))
    keys, votes, in_order = cache._load(FP, index)
    assert keys is None and in_order and votes.tolist() == [0, 1, 2, 1]  # as stored, row order
    shuffled = RowIndex.of(np.array([1, 2, 3, 3], dtype=np.uint64))  # same rows, other order
    keys, votes, in_order = cache._load(FP, shuffled)
    assert keys is None and not in_order and votes.tolist() == [1, 2, 0]  # per sorted hash
    for idx, want in ((index, [0, 1, 2, 1]), (shuffled, [1, 2, 0, 0])):
        votes, found = cache.lookup(FP, idx)
        assert votes.tolist() == want and found.all() and votes.dtype == np.int16


def test_cache_row_order_votes_follow_the_last_store(tmp_path):
    cache = LFCache(tmp_path)
    index = RowIndex.of(np.array([3, 1, 2], dtype=np.uint64))
    cache.store(FP, index, np.array([0, 1, 2]))
    cache.store(FP, np.array([1, 5], dtype=np.uint64), np.array([2, 2]))  # a part: no row order
    assert not cache._load(FP, index)[2]
    assert cache.lookup(FP, index)[0].tolist() == [0, 2, 2]
    cache.store(FP, index, np.array([1, 1, 1]), mask=np.array([True, True, False]))
    assert not cache._load(FP, index)[2] and cache.lookup(FP, index)[0].tolist() == [1, 1, 2]
    cache.store(FP, index, np.array([0, 0, 0]))
    assert cache._load(FP, index)[2] and cache.lookup(FP, index)[0].tolist() == [0, 0, 0]
    assert cache.lookup(FP, np.array([5, 1], dtype=np.uint64))[0].tolist() == [2, 0]


def test_cache_store_merges_new_rows_and_new_values_win(tmp_path):
    cache = LFCache(tmp_path)
    cache.store(FP, np.array([1, 2, 3], dtype=np.uint64), np.array([0, 0, 0]))
    cache.store(FP, np.array([3, 4], dtype=np.uint64), np.array([1, 1]))
    votes, found = cache.lookup(FP, np.array([1, 2, 3, 4, 5], dtype=np.uint64))
    assert votes.tolist() == [0, 0, 1, 1, -1] and found.tolist() == [True] * 4 + [False]
    keys, _, _ = cache._load(FP)
    assert keys.tolist() == [1, 2, 3, 4]  # sorted, one entry per hash


def test_cache_store_with_mask_stores_only_those_rows(tmp_path):
    cache = LFCache(tmp_path)
    rows = np.array([10, 20, 30], dtype=np.uint64)
    cache.store(FP, rows, np.array([1, 2, 3]), mask=np.array([True, False, True]))
    _, found = cache.lookup(FP, rows)
    assert found.tolist() == [True, False, True]


@pytest.mark.parametrize("content", [b"", b"LCV3", b"LCV3\xff\xff\xff\xff{", b"not a cache file" * 10])
def test_cache_damaged_file_is_a_miss(tmp_path, content):
    cache = LFCache(tmp_path)
    cache.store(FP, np.array([1], dtype=np.uint64), np.array([0]))
    cache._path(FP).write_bytes(content)
    votes, found = cache.lookup(FP, np.array([1], dtype=np.uint64))
    assert votes.tolist() == [-1] and not found.any()


def test_cache_truncated_votes_are_a_miss(tmp_path):
    cache = LFCache(tmp_path)
    cache.store(FP, np.array([1, 2], dtype=np.uint64), np.array([0, 1]))
    path = cache._path(FP)
    path.write_bytes(path.read_bytes()[:-2])
    assert not cache.lookup(FP, np.array([1, 2], dtype=np.uint64))[1].any()


def test_cache_ignores_and_clears_older_format_files(tmp_path):
    cache = LFCache(tmp_path)
    old = tmp_path / FP[:2] / f"{FP}.npz"
    old.parent.mkdir(parents=True)
    np.savez(old, h=np.array([1], dtype=np.uint64), v=np.array([3], dtype=np.int16))
    assert not cache.lookup(FP, np.array([1], dtype=np.uint64))[1].any()
    cache.store(FP, np.array([1], dtype=np.uint64), np.array([0]))
    assert cache.clear() == 2 and not list(tmp_path.glob("*/*"))


def _write_lf(args):
    directory, fp, seed = args
    rng = np.random.default_rng(seed)
    rows = rng.choice(2**40, size=5000, replace=False).astype(np.uint64)
    for _ in range(5):
        LFCache(directory).store(fp, rows, rng.integers(-1, 3, size=len(rows)))
    return rows


def test_cache_concurrent_processes_writing_different_lfs(tmp_path):
    fps = [f"{i:02x}" * 32 for i in range(4)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        rows = pool.map(_write_lf, [(str(tmp_path), fp, i) for i, fp in enumerate(fps)])
    cache = LFCache(tmp_path)
    for fp, r in zip(fps, rows, strict=True):
        assert cache.lookup(fp, r)[1].all()
    assert not list(tmp_path.glob("*/.tmp-*"))  # no temporary file left behind


def test_row_index_memoises_arrow_columns_until_they_change():
    df = pd.DataFrame({"t": pd.array(["x", "y", "x"], dtype="string[pyarrow]"), "n": [1, 2, 3]})
    first = row_index(df, ["t"])
    assert row_index(df, ["t"]) is first
    np.testing.assert_array_equal(first.unique[first.inverse], row_hashes(df, ["t"]))
    df.loc[1, "t"] = "x"  # pandas swaps in a new arrow array
    changed = row_index(df, ["t"])
    assert changed is not first and len(changed.unique) == 1


def test_row_index_recomputes_numpy_backed_columns():
    df = pd.DataFrame({"t": np.array(["x", "y"], dtype=object)})
    first = row_index(df, ["t"])
    df.loc[1, "t"] = "x"  # numpy-backed columns can change in place: never memoised
    again = row_index(df, ["t"])
    assert len(first.unique) == 2 and len(again.unique) == 1


def test_row_index_hashes_each_arrow_column_once(monkeypatch):
    import weak_supervision.cache as mod

    calls = []
    real = mod._column_hash
    monkeypatch.setattr(mod, "_column_hash", lambda col, name: calls.append(name) or real(col, name))
    df = pd.DataFrame({"a": pd.array(["x", "y"], dtype="string[pyarrow]"),
                       "b": pd.array(["u", "v"], dtype="string[pyarrow]")})
    both, only_b = row_index(df, ["a", "b"]), row_index(df, ["b"])
    assert sorted(calls) == ["a", "b"]
    np.testing.assert_array_equal(both.unique[both.inverse], row_hashes(df, ["a", "b"]))
    np.testing.assert_array_equal(only_b.unique[only_b.inverse], row_hashes(df, ["b"]))
