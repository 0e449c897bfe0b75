"""Label statistics: merging partitions, and the label model fitted from them."""

from __future__ import annotations

import numpy as np
import pytest

from labelfns.errors import ConfigError, DataError
from weak_supervision.label_model import LabelModel, select_label_model
from weak_supervision.label_stats import LabelStats, fit_label_model


def _votes(n: int = 4000, m: int = 8, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.full((n, m), -1)
    for j in range(m):
        cov = rng.random(n) < 0.4
        right = rng.random(n) < 0.6 + 0.04 * j
        L[cov, j] = np.where(right[cov], y[cov], rng.integers(0, k, int(cov.sum())))
    return L, y


def _parts(L: np.ndarray, k: int, size: int) -> LabelStats:
    return LabelStats.combine(LabelStats.from_matrix(L[i:i + size], cardinality=k)
                              for i in range(0, len(L), size))


def test_label_stats_merged_partitions_equal_whole_matrix():
    L, _ = _votes()
    whole = LabelStats.from_matrix(L, cardinality=3)
    merged = _parts(L, 3, 333)
    assert merged.n_rows == whole.n_rows == len(L)
    assert (merged.counts != whole.counts).nnz == 0
    assert (merged.n_covered, merged.n_conflict) == (whole.n_covered, whole.n_conflict)
    # hand check of one entry: rows where LF 0 voted 1 and LF 1 voted 2
    assert merged.counts[0 * 3 + 1, 1 * 3 + 2] == int(((L[:, 0] == 1) & (L[:, 1] == 2)).sum())
    np.testing.assert_allclose(merged.coverage(), (L != -1).mean(axis=0))


def test_label_stats_size_does_not_grow_with_rows():
    small, _ = _votes(n=100)
    big, _ = _votes(n=20000)
    a = LabelStats.from_matrix(small, cardinality=3)
    b = LabelStats.from_matrix(big, cardinality=3)
    assert a.counts.shape == b.counts.shape == (24, 24)
    assert b.counts.nnz <= 24 * 24


def test_label_stats_merge_rejects_other_lfs():
    a = LabelStats.from_matrix(np.array([[0, 1, -1]]), cardinality=2, lf_names=["a", "b", "c"])
    b = LabelStats.from_matrix(np.array([[0, 1, -1]]), cardinality=2, lf_names=["a", "b", "d"])
    with pytest.raises(DataError, match="c, d"):
        a.merge(b)


def test_label_stats_rejects_votes_beyond_cardinality():
    with pytest.raises(DataError, match="'lf_1' votes class 2"):
        LabelStats.from_matrix(np.array([[0, 2, -1]]), cardinality=2)


def test_label_stats_save_and_load_round_trip(tmp_path):
    L, _ = _votes(n=500)
    s = LabelStats.from_matrix(L, cardinality=3)
    back = LabelStats.load(s.save(tmp_path / "s.npz"))
    assert back.lf_names == s.lf_names and back.n_conflict == s.n_conflict
    assert (back.counts != s.counts).nnz == 0


def test_fit_from_stats_equals_in_memory_fit():
    L, y = _votes(n=2000)
    dev = np.sort(np.random.default_rng(1).choice(len(L), 200, replace=False))
    Y = np.full(len(L), -1)
    Y[dev] = y[dev]
    memory = LabelModel(3, n_epochs=40).fit(L, Y)  # with the dev search
    assert memory.fit_route_ == "dense_overlap"
    stats = LabelModel(3, n_epochs=40).fit_from_stats(_parts(L, 3, 700), y[dev], L_dev=L[dev])
    assert stats.fit_route_ == "stats"
    assert stats.best_params_ == memory.best_params_
    np.testing.assert_allclose(stats.predict_proba(L), memory.predict_proba(L), atol=1e-6)
    np.testing.assert_allclose(stats.lf_accuracies_, memory.lf_accuracies_, atol=1e-6)
    np.testing.assert_allclose(stats.class_balance_, memory.class_balance_)


def test_fit_from_stats_needs_dev_votes_with_dev_labels():
    L, y = _votes(n=300)
    with pytest.raises(ConfigError, match="L_dev"):
        LabelModel(3).fit_from_stats(LabelStats.from_matrix(L, cardinality=3), y)


def test_fit_label_model_chooses_like_select_label_model():
    L, y = _votes(n=2000, seed=3)
    dev = np.arange(0, len(L), 10)
    Y = np.full(len(L), -1)
    Y[dev] = y[dev]
    a = select_label_model(L, cardinality=3, Y_dev=Y, n_epochs=40)
    b = fit_label_model(_parts(L, 3, 500), L_dev=L[dev], Y_dev=y[dev], n_epochs=40)
    assert (a.chosen, a.reason) == (b.chosen, b.reason)
    assert a.label_model_scores == b.label_model_scores
    np.testing.assert_allclose(a.model.predict_proba(L), b.model.predict_proba(L), atol=1e-6)


def test_fit_label_model_without_dev_defaults_to_label_model():
    L, _ = _votes(n=600)
    choice = fit_label_model(LabelStats.from_matrix(L, cardinality=3), n_epochs=50)
    assert choice.chosen == "label_model" and choice.label_model_scores is None
