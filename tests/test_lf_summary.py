import json

import numpy as np
import pytest
from snorkel.labeling import LFAnalysis

from labelfns.errors import DataError, LFError
from weak_supervision.label_matrix import LabelMatrix
from weak_supervision.lf_summary import LFSummary, _near_duplicates, lf_summary
from weak_supervision.metrics import wilson_interval

SNORKEL_DOC_L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])


def random_votes(n=2000, m=9, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    cov = rng.uniform(0.05, 0.6, m)
    acc = rng.uniform(0.3, 0.95, m)
    L = np.where(rng.random((n, m)) < cov,
                 np.where(rng.random((n, m)) < acc, y[:, None], rng.integers(0, k, (n, m))), -1)
    L[:, 2] = np.where(L[:, 2] >= 0, 1, -1)  # a single-polarity LF
    return L, y


def _names(m):
    return [f"lf{j}" for j in range(m)]


@pytest.mark.parametrize("seed", [0, 1])
def test_lf_summary_equals_snorkel_lfanalysis(seed):
    L, y = random_votes(seed=seed)
    ours = lf_summary(L, _names(L.shape[1]), Y=y).to_frame()
    ref = LFAnalysis(L).lf_summary(Y=y)
    np.testing.assert_allclose(ours["coverage"].to_numpy(), ref["Coverage"].to_numpy())
    np.testing.assert_allclose(ours["overlaps"].to_numpy(), ref["Overlaps"].to_numpy())
    np.testing.assert_allclose(ours["conflicts"].to_numpy(), ref["Conflicts"].to_numpy())
    assert [[int(c) for c in p] for p in ours["polarity"]] == ref["Polarity"].tolist()
    assert ours["correct"].tolist() == ref["Correct"].tolist()
    assert ours["incorrect"].tolist() == ref["Incorrect"].tolist()
    np.testing.assert_allclose(ours["precision"].to_numpy(dtype=float), ref["Emp. Acc."].to_numpy())


def test_lf_summary_snorkel_doc_example():
    s = lf_summary(SNORKEL_DOC_L, ["a", "b", "c"])
    assert [lf.polarity for lf in s] == [("0", "1"), ("0",), ("0",)]
    assert [lf.coverage for lf in s] == pytest.approx([0.4, 0.8, 0.4])
    assert [lf.overlaps for lf in s] == pytest.approx([0.4, 0.6, 0.4])
    assert [lf.conflicts for lf in s] == pytest.approx([0.2, 0.2, 0.0])


def test_lf_summary_gold_only_counts_rows_with_gold():
    L, y = random_votes(seed=3)
    Y = y.copy()
    Y[::3] = -1
    s = lf_summary(L, _names(L.shape[1]), Y=Y)
    gold = Y != -1
    ref = LFAnalysis(L[gold]).lf_summary(Y=y[gold])
    assert [lf.correct for lf in s] == ref["Correct"].tolist()
    assert [lf.incorrect for lf in s] == ref["Incorrect"].tolist()
    assert s.n_gold == int(gold.sum())
    # coverage is still over all rows
    assert s["lf0"].coverage == pytest.approx(float((L[:, 0] != -1).mean()))


def test_lf_summary_precision_has_wilson_interval():
    L = np.array([[0, 0, 1]] * 8 + [[1, 0, 1]] * 2)
    y = np.zeros(10, dtype=int)
    s = lf_summary(L, ["a", "b", "c"], Y=y)
    a = s["a"]
    assert (a.correct, a.incorrect, a.precision) == (8, 2, 0.8)
    assert (a.precision_low, a.precision_high) == wilson_interval(8, 10)
    assert a.precision_low == pytest.approx(0.490, abs=1e-3)


def test_lf_summary_below_chance_uses_voted_class_prevalence():
    # 90% of gold rows are class 0; "weak" votes 0 with precision 0.8 over 200 rows: better
    # than 1/k but clearly below the 0.9 it would get by voting 0 at random.
    n = 400
    y = np.zeros(n, dtype=int)
    y[:40] = 1
    weak = np.full(n, -1)
    weak[:200] = 0  # rows 0..39 are class 1 -> 160/200 correct
    strong = np.where(y == 1, 1, -1)
    rare_bad = np.full(n, -1)
    rare_bad[40:80] = 1  # votes the rare class on class-0 rows only
    L = np.column_stack([weak, strong, rare_bad])
    s = lf_summary(L, ["weak", "strong", "rare_bad"], Y=y)
    assert s["weak"].precision == pytest.approx(0.8)
    assert "below_chance" in s["weak"].flags
    assert "below_chance" not in s["strong"].flags
    assert "below_chance" in s["rare_bad"].flags


def test_lf_summary_flags_never_votes_and_very_broad():
    rng = np.random.default_rng(4)
    n = 1000
    L = np.column_stack([
        np.full(n, -1),
        rng.integers(0, 2, n),  # votes everywhere
        np.where(rng.random(n) < 0.3, 1, -1),
    ])
    s = lf_summary(L, ["silent", "broad", "narrow"])
    assert s["silent"].flags == ("never_votes",)
    assert s["broad"].flags == ("very_broad",)
    assert s["narrow"].flags == ()
    assert s["silent"].polarity == ()
    assert lf_summary(L, ["silent", "broad", "narrow"], broad_threshold=1.0)["broad"].flags == ()


def test_lf_summary_flags_near_duplicates():
    rng = np.random.default_rng(5)
    n = 2000
    base = np.where(rng.random(n) < 0.4, rng.integers(0, 3, n), -1)
    dup = base.copy()
    dup[:20] = -1  # 99% the same votes
    relabelled = np.where(base >= 0, (base + 1) % 3, -1)  # same rows, other classes
    other = np.where(rng.random(n) < 0.4, rng.integers(0, 3, n), -1)
    L = np.column_stack([base, dup, relabelled, other])
    s = lf_summary(L, ["base", "dup", "relabelled", "other"])
    assert s["base"].flags == ("near_duplicate:dup",)
    assert s["dup"].flags == ("near_duplicate:base",)
    assert s["relabelled"].flags == () and s["other"].flags == ()


@pytest.mark.parametrize("strategy", ["auto", "blas", "pairs"])
@pytest.mark.parametrize("k", [2, 12])
def test_near_duplicates_strategies_match_brute_force(k, strategy):
    rng = np.random.default_rng(6)
    n = 3000
    base = np.where(rng.random(n) < 0.5, rng.integers(0, k, n), -1)
    cols = []
    for c in range(12):
        col = base.copy()
        flip = rng.random(n) < 0.004 * c  # increasingly different copies
        col[flip] = rng.integers(-1, k, int(flip.sum()))
        cols.append(col)
    L = np.column_stack(cols)
    voted = (L >= 0).astype(float)
    got = set(_near_duplicates(L, voted.sum(0), voted.T @ voted, 0.95, strategy=strategy))
    expected = set()
    for i in range(L.shape[1]):
        for j in range(i + 1, L.shape[1]):
            union = np.count_nonzero((L[:, i] >= 0) | (L[:, j] >= 0))
            same = np.count_nonzero((L[:, i] == L[:, j]) & (L[:, i] >= 0))
            if union and same / union >= 0.95:
                expected.add((i, j))
    assert got == expected
    assert 10 < len(expected) < 66  # some pairs are duplicates, some are not


def test_lf_summary_with_label_matrix_and_learned_accuracy():
    lm = LabelMatrix(ids=np.array(["r1", "r2", "r3"]), lf_names=("kw_a", "kw_b", "kw_c"),
                     L=np.array([[0, 1, -1], [1, 1, 0], [-1, 0, 0]]), labels=("ham", "spam"))
    s = lf_summary(lm, learned_accuracy=[0.9, 0.8, 0.7])
    assert isinstance(s, LFSummary)
    assert s.labels == ("ham", "spam")
    assert s["kw_b"].polarity == ("ham", "spam")
    assert s["kw_c"].learned_accuracy == 0.7
    frame = s.to_frame()
    assert "learned_accuracy" in frame.columns and "precision" not in frame.columns
    assert list(frame.index) == ["kw_a", "kw_b", "kw_c"]


def test_lf_summary_to_frame_and_to_dict_with_gold():
    L, y = random_votes(n=300, m=4, seed=7)
    s = lf_summary(L, _names(4), Y=y, labels=("a", "b", "c"))
    frame = s.to_frame()
    assert frame.columns.tolist() == ["polarity", "coverage", "overlaps", "conflicts", "correct",
                                      "incorrect", "precision", "precision_low",
                                      "precision_high", "flags"]
    d = json.loads(json.dumps(s.to_dict()))
    assert d["n_rows"] == 300 and d["n_gold"] == 300 and d["labels"] == ["a", "b", "c"]
    assert d["lfs"][0]["name"] == "lf0" and "precision" in d["lfs"][0]
    with pytest.raises(KeyError, match="lf0"):
        s["nope"]


def test_lf_summary_rejects_bad_input():
    L = np.array([[0, 1], [1, 2]])
    with pytest.raises(DataError, match="2 label matrix columns"):
        lf_summary(L, ["only_one", "two", "three"])
    with pytest.raises(LFError, match="'b'"):
        lf_summary(L, ["a", "b"], labels=("x", "y"))
    with pytest.raises(DataError, match="one gold label per row"):
        lf_summary(L, ["a", "b"], Y=[0])
    with pytest.raises(DataError, match="lf_names"):
        lf_summary(L)
    with pytest.raises(DataError, match="learned_accuracy"):
        lf_summary(L, ["a", "b"], learned_accuracy=[0.5])


def test_lf_summary_chunked_equals_single_chunk():
    L, y = random_votes(n=70_000, m=5, k=2, seed=8)  # spans two row chunks
    s = lf_summary(L, _names(5), Y=y)
    ref = LFAnalysis(L).lf_summary(Y=y)
    np.testing.assert_allclose([lf.conflicts for lf in s], ref["Conflicts"].to_numpy())
    assert [lf.correct for lf in s] == ref["Correct"].tolist()
