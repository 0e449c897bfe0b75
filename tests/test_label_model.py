import json
import time
import warnings

import numpy as np
import pytest
from snorkel.labeling.model.label_model import LabelModel as SnorkelLabelModel

import weak_supervision.label_model as lm_module
from labelfns.errors import ConfigError, DataError, LabelcycleError, LFError, NotFittedError
from weak_supervision.label_matrix import LabelMatrix
from weak_supervision.label_model import (
    LabelModel,
    LabelModelChoice,
    LabelModelWarning,
    MajorityVote,
    estimate_fit_seconds,
    estimate_memory,
    select_label_model,
)
from weak_supervision.metrics import accuracy, score


def synthetic(n=3000, k=2, accs=(0.95, 0.9, 0.85, 0.55, 0.55, 0.5, 0.5, 0.55), cov=0.5, seed=0,
              prior=None):
    """Votes of LFs with known accuracies; wrong votes pick another class uniformly."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=prior)
    L = np.full((n, len(accs)), -1)
    for j, a in enumerate(accs):
        vote = rng.random(n) < cov
        right = rng.random(n) < a
        wrong = (y + rng.integers(1, k, n)) % k
        L[:, j] = np.where(vote, np.where(right, y, wrong), -1)
    return L, y


# ---------------------------------------------------------------------------------------------
# MajorityVote
# ---------------------------------------------------------------------------------------------


def test_majority_vote_hand_computed():
    L = np.array([[0, 0, 1], [1, -1, 1], [0, 1, -1], [-1, -1, -1], [2, 2, 2], [2, 1, 0]])
    mv = MajorityVote(3).fit(L)
    expected = np.array([
        [2 / 3, 1 / 3, 0], [0, 1, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3], [0, 0, 1],
        [1 / 3, 1 / 3, 1 / 3],
    ])
    np.testing.assert_allclose(mv.predict_proba(L), expected)
    # ties go to the lowest class index; uncovered rows get -1
    assert mv.predict(L).tolist() == [0, 1, 0, -1, 2, 0]


def test_majority_vote_uncovered_rows_get_class_balance():
    L = np.array([[-1, -1], [1, -1]])
    mv = MajorityVote(2, class_balance=[3, 1]).fit(L)
    np.testing.assert_allclose(mv.predict_proba(L), [[0.75, 0.25], [0.0, 1.0]])


def test_majority_vote_accepts_label_matrix_and_names_bad_lf():
    lm = LabelMatrix(ids=np.array(["a", "b"]), lf_names=("kw_x", "kw_y"),
                     L=np.array([[0, 1], [1, 1]]), labels=("n", "p"))
    assert MajorityVote(2).fit(lm).predict(lm).tolist() == [0, 1]
    bad = LabelMatrix(ids=np.array(["a"]), lf_names=("kw_x", "kw_y"), L=np.array([[0, 3]]))
    with pytest.raises(LFError, match="kw_y"):
        MajorityVote(2).fit(bad)


def test_majority_vote_chunked_counts_match_loop():
    rng = np.random.default_rng(1)
    L = rng.integers(-1, 5, size=(70_000, 7))  # more than one chunk
    probs = MajorityVote(5).fit(L).predict_proba(L)
    rows = rng.choice(len(L), 50, replace=False)
    for r in rows:
        votes = L[r][L[r] >= 0]
        if votes.size:
            np.testing.assert_allclose(probs[r], np.bincount(votes, minlength=5) / votes.size)


def test_majority_vote_not_fitted():
    with pytest.raises(NotFittedError):
        MajorityVote(2).predict(np.array([[0]]))


def test_majority_vote_rejects_wrong_lf_count():
    mv = MajorityVote(2).fit(np.array([[0, 1, 1]]))
    with pytest.raises(DataError, match="3"):
        mv.predict(np.array([[0, 1]]))


# ---------------------------------------------------------------------------------------------
# LabelModel
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
def test_label_model_beats_majority_on_lfs_of_differing_accuracy(k):
    L, y = synthetic(k=k, seed=k)
    covered = (L != -1).any(axis=1)
    mv_acc = accuracy(y[covered], MajorityVote(k).fit(L).predict(L)[covered])
    model = LabelModel(k).fit(L)
    lm_acc = accuracy(y[covered], model.predict(L)[covered])
    assert lm_acc >= mv_acc + 0.05
    # learned accuracies rank the three good LFs above the five poor ones
    assert model.lf_accuracies_[:3].min() > model.lf_accuracies_[3:].max()
    np.testing.assert_allclose(model.lf_accuracies_[:3], [0.95, 0.9, 0.85], atol=0.05)


def test_label_model_accepts_label_matrix_and_marks_silent_lfs():
    L, y = synthetic(n=600, seed=6)
    L[:, 4] = -1  # an LF that never votes
    lm = LabelMatrix(ids=np.arange(600), lf_names=tuple(f"lf{j}" for j in range(8)), L=L,
                     labels=("neg", "pos"))
    model = LabelModel(2, n_epochs=100).fit(lm)
    assert np.isnan(model.lf_accuracies_[4])
    assert np.isfinite(np.delete(model.lf_accuracies_, 4)).all()
    np.testing.assert_array_equal(model.predict(lm), model.predict(L))
    bad = LabelMatrix(ids=np.arange(2), lf_names=tuple(f"lf{j}" for j in range(8)),
                      L=np.array([[0] * 7 + [2], [0] * 8]))
    with pytest.raises(LFError, match="lf7"):
        model.predict(bad)


def test_label_model_is_deterministic_for_a_seed():
    L, _ = synthetic(n=800, seed=5)
    a = LabelModel(2, n_epochs=200, seed=7).fit(L).predict_proba(L)
    b = LabelModel(2, n_epochs=200, seed=7).fit(L).predict_proba(L)
    assert np.array_equal(a, b)


def test_label_model_restores_global_random_state():
    L, _ = synthetic(n=300, seed=2)
    np.random.seed(42)
    expected = np.random.random()
    np.random.seed(42)
    LabelModel(2, n_epochs=20).fit(L)
    assert np.random.random() == expected


@pytest.mark.parametrize(("n", "m", "k", "optimizer"),
                         [(600, 5, 2, "sgd"), (500, 6, 3, "adam"), (300, 4, 5, "sgd")])
def test_label_model_sparse_fit_equals_stock_snorkel(n, m, k, optimizer):
    L, _ = synthetic(n=n, k=k, accs=np.linspace(0.9, 0.6, m), seed=n)
    stock = SnorkelLabelModel(cardinality=k, verbose=False)
    stock.fit(L, class_balance=[1 / k] * k, n_epochs=300, lr=0.01, l2=0.1, optimizer=optimizer,
              seed=123, progress_bar=False)
    ours = LabelModel(k, n_epochs=300, l2=0.1, optimizer=optimizer).fit(L)
    np.testing.assert_allclose(ours.predict_proba(L), stock.predict_proba(L), atol=1e-4)
    np.testing.assert_allclose(ours.lf_accuracies_, stock.get_weights(), atol=1e-4)


def test_label_model_sparse_route_equals_dense_route(monkeypatch):
    L, _ = synthetic(n=1000, k=3, seed=11)
    dense = LabelModel(3, n_epochs=200).fit(L)
    assert dense.fit_route_ == "dense_overlap"
    monkeypatch.setattr(lm_module, "_route_is_dense", lambda n_votes, d: False)
    sparse = LabelModel(3, n_epochs=200).fit(L)
    assert sparse.fit_route_ == "sparse_one_hot"
    np.testing.assert_allclose(sparse.predict_proba(L), dense.predict_proba(L), atol=1e-5)


def test_estimate_memory_is_monotonic_and_sparse_is_smaller():
    base = estimate_memory(10_000, 50, 4)
    for sparse in (False, True):
        b = estimate_memory(10_000, 50, 4, sparse=sparse)
        assert estimate_memory(20_000, 50, 4, sparse=sparse) > b
        assert estimate_memory(10_000, 100, 4, sparse=sparse) > b
        assert estimate_memory(10_000, 50, 8, sparse=sparse) > b
    assert base > estimate_memory(10_000, 50, 4, sparse=True)
    # stock Snorkel: the dense augmented matrix alone is rows x LFs*classes float64
    assert estimate_memory(6000, 120, 64) > 6000 * 120 * 64 * 8
    assert estimate_memory(6000, 120, 64, sparse=True) < 0.2 * 2**30


def test_label_model_samples_rows_when_over_memory_budget():
    L, y = synthetic(n=20_000, k=2, seed=3)
    budget = estimate_memory(5000, L.shape[1], 2, sparse=True) / 2**30
    with pytest.warns(LabelModelWarning, match="random sample"):
        model = LabelModel(2, n_epochs=100, max_memory_gb=budget).fit(L)
    assert 1000 <= model.n_fit_rows_ <= 5000
    assert model.memory_estimate_ <= budget * 2**30
    assert model.predict(L).shape == (20_000,)


def test_label_model_raises_when_nothing_fits():
    L, _ = synthetic(n=2000, seed=4)
    with pytest.raises(LabelcycleError, match=r"LFs x 2 classes fit"):
        LabelModel(2, max_memory_gb=1e-5).fit(L)


def test_label_model_needs_three_lfs():
    with pytest.raises(LabelcycleError, match="at least 3 LFs.*majority vote"):
        LabelModel(2).fit(np.array([[0, 1], [1, 1]]))


def test_label_model_warns_when_one_class_everywhere():
    L = np.zeros((50, 3), dtype=int)
    L[::7, 1] = -1
    with pytest.warns(LabelModelWarning, match="predicts class 0 for 100.0%"):
        LabelModel(2, n_epochs=50).fit(L)


def test_label_model_warns_when_near_uniform():
    L = np.array([[0, 1, 0, 1], [1, 0, 1, 0]] * 100)
    with pytest.warns(LabelModelWarning, match="near uniform"):
        LabelModel(2, n_epochs=200, optimizer="adam").fit(L)


def test_label_model_no_warning_on_healthy_fit():
    L, _ = synthetic(n=1000, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelModelWarning)
        LabelModel(2, n_epochs=100).fit(L)


def test_label_model_dev_aligned_equals_explicit_L_dev():
    L, y = synthetic(n=1500, k=3, seed=9)
    Y_aligned = np.full(len(y), -1)
    dev_rows = np.arange(0, 1500, 5)
    Y_aligned[dev_rows] = y[dev_rows]
    a = LabelModel(3, n_epochs=100, time_budget_s=1e9).fit(L, Y_aligned)
    b = LabelModel(3, n_epochs=100, time_budget_s=1e9).fit(L, y[dev_rows], L_dev=L[dev_rows])
    np.testing.assert_allclose(a.class_balance_, b.class_balance_)
    assert [r["dev_macro_f1"] for r in a.search_results_] == \
        [r["dev_macro_f1"] for r in b.search_results_]
    assert a.best_params_ == b.best_params_
    np.testing.assert_array_equal(a.predict_proba(L), b.predict_proba(L))


def test_label_model_class_balance_from_dev_is_smoothed():
    L, _ = synthetic(n=600, k=3, seed=10)
    y_dev = np.zeros(20, dtype=int)  # only class 0 in dev
    model = LabelModel(3, n_epochs=30, search=False).fit(L, y_dev, L_dev=L[:20])
    np.testing.assert_allclose(model.class_balance_, [21 / 23, 1 / 23, 1 / 23])
    uniform = LabelModel(3, n_epochs=30).fit(L)
    np.testing.assert_allclose(uniform.class_balance_, [1 / 3] * 3)
    given = LabelModel(3, n_epochs=30, class_balance=[2, 1, 1]).fit(L, y_dev, L_dev=L[:20])
    np.testing.assert_allclose(given.class_balance_, [0.5, 0.25, 0.25])


def test_label_model_search_picks_lowest_log_loss_among_plausible_candidates():
    L, y = synthetic(n=1000, seed=12)
    model = LabelModel(2, n_epochs=60, time_budget_s=1e9).fit(L, y[:200], L_dev=L[:200])
    results = model.search_results_
    assert len(results) == 36 and model.search_skipped_ == 0
    # the reference: stock Snorkel's settings, the dev prior, half majority-vote shares
    assert results[0] == {**results[0], "optimizer": "sgd", "n_epochs": 100, "lr": 0.01,
                          "l2": 0.0, "class_balance": "dev", "majority_weight": 0.5,
                          "clearly_better": False}
    assert any(r["n_epochs"] == 60 and r["lr"] == 0.01 for r in results)  # the given params
    plausible = [r for r in results if r["plausible"]]
    best = min(plausible, key=lambda r: r["dev_log_loss"])
    assert model.best_params_ == {k: best[k] for k in model.best_params_}
    anchor = next((r for r in results if r["clearly_better"]), results[0])
    assert anchor["plausible"]
    for r in results:
        assert r["dev_log_loss"] >= 0
        if r["clearly_better"]:
            assert r["dev_macro_f1"] > results[0]["dev_macro_f1"]
        if not r["plausible"]:
            assert r["dev_macro_f1"] < anchor["dev_macro_f1"]


def test_pick_rules_out_by_macro_f1_then_ranks_by_log_loss():
    y = np.array([0] * 170 + [1] * 30)
    dev = (np.zeros((200, 3), dtype=int), y)
    ref = y.copy()
    ref[170:180] = 0
    much_worse = y.copy()
    much_worse[170:200] = 0  # misses the whole minority class
    same = ref.copy()
    # the much worse candidate has the lowest log loss but is ruled out; of the rest the
    # lower log loss wins, the earliest on ties
    best, clear, plausible = lm_module._pick(dev, [ref, much_worse, same], [0.5, 0.1, 0.4], 2,
                                             seed=0)
    assert plausible == [True, False, True] and clear == [False, False, False]
    assert best == 2
    assert lm_module._pick(dev, [ref, same], [0.4, 0.4], 2, seed=0)[0] == 0
    # a clear improvement becomes the anchor: what it beats (here the reference) is ruled out
    best, clear, plausible = lm_module._pick(dev, [ref, y.copy(), same], [0.1, 0.5, 0.2], 2,
                                             seed=0)
    assert clear == [False, True, False] and plausible == [False, True, False] and best == 1


def test_covered_log_loss_is_class_balanced_bounded_and_skips_rows_without_votes():
    L = np.array([[0], [0], [0], [0], [-1]])
    y = np.array([0, 0, 0, 1, 1])
    probs = np.array([[0.5, 0.5]] * 3 + [[0.9, 0.1], [0.0, 1.0]])
    loss = lm_module._covered_log_loss((L, y), probs)
    # class 0: 3 rows at -log 0.5; class 1: one covered row at -log 0.1; the last row is skipped
    assert loss == pytest.approx((np.log(2) + np.log(10)) / 2)
    sure_wrong = np.array([[0.0, 1.0]] * 3 + [[1.0, 0.0]] * 2)
    assert lm_module._covered_log_loss((L, y), sure_wrong) == pytest.approx(
        -np.log(lm_module._MIN_PROB))


def test_label_model_search_respects_time_budget():
    L, y = synthetic(n=1000, seed=12)
    model = LabelModel(2, n_epochs=60, time_budget_s=0.0).fit(L, y[:200], L_dev=L[:200])
    assert len(model.search_results_) == 1
    assert model.search_skipped_ == 35
    assert model.best_params_["n_epochs"] == 100  # the reference always runs


def test_label_model_search_budget_counts_estimated_cost_not_the_clock(monkeypatch):
    L, y = synthetic(n=1000, seed=12)
    n_votes, m = int((L >= 0).sum()), L.shape[1]
    per_epoch = estimate_fit_seconds(n_votes, m, 2)
    # room for the reference (100 epochs) and the next distinct fit (its other prior) only
    budget = per_epoch * 200 * 1.001
    normal = LabelModel(2, n_epochs=60, search_budget=budget).fit(L, y[:200], L_dev=L[:200])
    fits = {(r["n_epochs"], r["lr"], r["l2"], r["class_balance"]) for r in normal.search_results_}
    assert len(fits) == 2 and normal.search_skipped_ == 36 - len(normal.search_results_)
    assert normal.search_cost_ == pytest.approx(per_epoch * 200, rel=1e-3)

    # a clock that jumps an hour per reading changes nothing: the budget is not wall time
    clock = iter(range(0, 10**9, 3600))
    monkeypatch.setattr(lm_module.time, "perf_counter", lambda: float(next(clock)))
    slow = LabelModel(2, n_epochs=60, search_budget=budget).fit(L, y[:200], L_dev=L[:200])
    strip = [{k: v for k, v in r.items() if k != "fit_time_s"} for r in slow.search_results_]
    assert strip == [{k: v for k, v in r.items() if k != "fit_time_s"}
                     for r in normal.search_results_]
    np.testing.assert_array_equal(slow.predict_proba(L), normal.predict_proba(L))
    # the optional wall-clock guard does read the clock: only the reference fits in
    guarded = LabelModel(2, n_epochs=60, search_budget=None, time_budget_s=60.0).fit(
        L, y[:200], L_dev=L[:200])
    assert len(guarded.search_results_) == 1 and guarded.search_skipped_ == 35


def test_label_model_search_budget_none_tries_everything_and_zero_only_the_reference():
    L, y = synthetic(n=600, seed=3)
    full = LabelModel(2, n_epochs=40, search_budget=None).fit(L, y[:150], L_dev=L[:150])
    assert len(full.search_results_) == 36 and full.search_skipped_ == 0
    ref = LabelModel(2, n_epochs=40, search_budget=0).fit(L, y[:150], L_dev=L[:150])
    assert len(ref.search_results_) == 1 and ref.best_params_["n_epochs"] == 100


@pytest.mark.parametrize("bad", [-1, "60", True, float("nan")])
def test_label_model_rejects_bad_budgets(bad):
    L, _ = synthetic(n=50)
    with pytest.raises(ConfigError, match="search_budget must be a number >= 0 or None"):
        LabelModel(2, search_budget=bad).fit(L)


def test_estimate_fit_seconds_follows_the_route_and_the_epochs():
    one = estimate_fit_seconds(10_000, 50, 2, n_epochs=1)
    assert estimate_fit_seconds(10_000, 50, 2, n_epochs=300) == pytest.approx(300 * one)
    # the dense route's cost grows with (LFs * classes)^2, the sparse one's with the votes
    assert estimate_fit_seconds(10_000, 200, 20, dense=True) > estimate_fit_seconds(
        10_000, 200, 20, dense=False)
    per_million = (estimate_fit_seconds(10**6, 200, 20, dense=False)
                   - estimate_fit_seconds(0, 200, 20, dense=False))
    assert per_million > 0
    assert estimate_fit_seconds(2 * 10**6, 200, 20, dense=False) - estimate_fit_seconds(
        0, 200, 20, dense=False) == pytest.approx(2 * per_million)
    assert estimate_fit_seconds(10**6, 200, 20, dense=True) == estimate_fit_seconds(
        0, 200, 20, dense=True)
    # the default route is the one fit takes
    assert estimate_fit_seconds(10_000, 50, 2) == estimate_fit_seconds(
        10_000, 50, 2, dense=lm_module._route_is_dense(10_000, 100))


def test_label_model_without_dev_does_not_search():
    L, _ = synthetic(n=500, seed=13)
    model = LabelModel(2, n_epochs=40, lr=0.02).fit(L)
    assert model.search_results_ == []
    assert model.best_params_ == {"optimizer": "sgd", "n_epochs": 40, "lr": 0.02, "l2": 0.0,
                                  "class_balance": "uniform", "majority_weight": 0.0}


def test_label_model_majority_weight_mixes_vote_shares():
    L, _ = synthetic(n=400, seed=17)
    L[:5] = -1
    pure = LabelModel(2, n_epochs=50, majority_weight=0.0).fit(L)
    mixed = LabelModel(2, n_epochs=50, majority_weight=0.25).fit(L)
    shares = MajorityVote(2).fit(L).predict_proba(L)
    np.testing.assert_allclose(mixed.predict_proba(L), 0.75 * pure.predict_proba(L) + 0.25 * shares)
    assert mixed.majority_weight_ == 0.25
    np.testing.assert_array_equal(mixed.predict(L)[:5], [-1] * 5)


def unipolar(n, prior, seed, lfs_per_class=4, fire=0.25, false_fire=0.03):
    """Keyword-style LFs: each votes one class, often on its class and rarely on the others."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(prior), size=n, p=prior)
    cols = []
    for c in range(len(prior)):
        for _ in range(lfs_per_class):
            on, off = fire * (0.6 + 0.8 * rng.random()), false_fire * (0.5 + rng.random())
            cols.append(np.where(rng.random(n) < np.where(y == c, on, off), c, -1))
    return np.column_stack(cols), y


def test_label_model_search_on_imbalanced_keyword_lfs_protects_macro_f1():
    # 12% minority class: fit on 2700 rows, choose on 300 dev rows, score the 2700 rows;
    # against the previous defaults (Adam, 500 epochs, the dev prior, no vote-share mixture).
    gains, losses = [], []
    for seed in (0, 1, 2):
        L, y = unipolar(3000, [0.88, 0.12], seed=seed)
        dev, rest = slice(0, 300), slice(300, None)
        covered = (L[rest] != -1).any(axis=1)
        chosen = LabelModel(2, n_epochs=100).fit(L[rest], y[dev], L_dev=L[dev])
        before = LabelModel(2, optimizer="adam", search=False).fit(L[rest], y[dev], L_dev=L[dev])
        got = score(y[rest][covered], chosen.predict(L[rest])[covered])
        base = score(y[rest][covered], before.predict(L[rest])[covered])
        gains.append(got.macro_f1 - base.macro_f1)
        losses.append(base.accuracy - got.accuracy)
    # the class-balanced log loss favours the uniform prior: about +2.5 points of macro-F1 for
    # half a point of accuracy on these three draws
    assert np.mean(gains) >= 0.02
    assert np.mean(losses) <= 0.01


def test_clearly_better_needs_more_than_dev_noise():
    y = np.array([0] * 170 + [1] * 30)
    dev = (np.zeros((200, 3), dtype=int), y)
    ref = y.copy()
    ref[170:185] = 0  # half the minority class missed
    one_row = ref.copy()
    one_row[170] = 1
    many_rows = y.copy()
    flags = lm_module._clearly_better(dev, [ref, one_row, many_rows], 2, seed=0)
    assert flags == [False, True]
    assert lm_module._clearly_better(dev, [ref, ref], 2, seed=0) == [False]
    # rows no LF votes on are left out: the difference on them does not count
    uncovered = (np.where(np.arange(200)[:, None] >= 170, -1, 0) * np.ones((1, 3), dtype=int), y)
    assert lm_module._clearly_better(uncovered, [ref, many_rows], 2, seed=0) == [False]


def test_label_model_predict_uncovered_rows():
    L, _ = synthetic(n=500, seed=14)
    model = LabelModel(2, n_epochs=50, class_balance=[0.7, 0.3]).fit(L)
    empty = np.full((2, L.shape[1]), -1)
    assert model.predict(empty).tolist() == [-1, -1]
    np.testing.assert_allclose(model.predict_proba(empty), [[0.7, 0.3]] * 2, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "error", "match"),
    [
        ({}, {"Y_dev": np.zeros(5, dtype=int)}, DataError, "L_dev"),
        ({}, {"L_dev": np.zeros((3, 8), dtype=int)}, ConfigError, "Y_dev"),
        ({}, {"Y_dev": np.array([0, 1, 5]), "L_dev": np.zeros((3, 8), dtype=int)}, DataError,
         "row 2"),
        ({"optimizer": "rmsprop"}, {}, ConfigError, "optimizer"),
        ({"class_balance": [1, 0]}, {}, ConfigError, "positive"),
        ({"n_epochs": 0}, {}, ConfigError, "n_epochs"),
        ({"majority_weight": 1.5}, {}, ConfigError, "majority_weight"),
        ({"majority_weight": "half"}, {}, ConfigError, "majority_weight"),
    ],
)
def test_label_model_rejects_bad_input(kwargs, fit_args, error, match):
    L, _ = synthetic(n=100, seed=15)
    with pytest.raises(error, match=match):
        LabelModel(2, **kwargs).fit(L, **fit_args)


def test_label_model_not_fitted_and_wrong_lf_count():
    with pytest.raises(NotFittedError):
        LabelModel(2).predict_proba(np.zeros((1, 3), dtype=int))
    L, _ = synthetic(n=200, seed=16)
    model = LabelModel(2, n_epochs=20).fit(L)
    with pytest.raises(DataError, match="fitted on 8"):
        model.predict(L[:, :5])


def test_label_model_many_classes_is_fast():
    rng = np.random.default_rng(17)
    n, m, k = 2000, 40, 16
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, m)) < 0.3,
                 np.where(rng.random((n, m)) < 0.8, y[:, None], rng.integers(0, k, (n, m))), -1)
    start = time.perf_counter()
    model = LabelModel(k, n_epochs=100).fit(L)
    assert time.perf_counter() - start < 30
    covered = (L != -1).any(axis=1)
    assert accuracy(y[covered], model.predict(L)[covered]) > 0.9


# ---------------------------------------------------------------------------------------------
# select_label_model
# ---------------------------------------------------------------------------------------------


def test_select_label_model_picks_label_model_when_better_on_dev():
    L, y = synthetic(n=2000, seed=20)
    Y_dev = np.full(len(y), -1)
    Y_dev[:300] = y[:300]
    choice = select_label_model(L, cardinality=2, Y_dev=Y_dev, n_epochs=200)
    assert isinstance(choice, LabelModelChoice)
    assert choice.chosen == "label_model" and isinstance(choice.model, LabelModel)
    assert choice.label_model_scores.macro_f1 > choice.majority_scores.macro_f1
    assert choice.majority_scores.n == 300
    assert "macro-F1" in choice.reason
    d = choice.to_dict()
    json.dumps(d)
    assert d["chosen"] == "label_model" and d["best_params"] == choice.model.best_params_


def test_select_label_model_tie_goes_to_majority():
    y = np.array([0, 1, 1, 0, 1] * 20)
    L = np.column_stack([y, y, y, np.where(np.arange(100) % 3 == 0, -1, y)])
    choice = select_label_model(L, cardinality=2, Y_dev=y, n_epochs=50)
    assert choice.chosen == "majority"
    assert choice.label_model_scores.accuracy == choice.majority_scores.accuracy == 1.0
    assert "predict the same" in choice.reason


def test_select_label_model_majority_must_beat_label_model_beyond_noise():
    y = np.array([0] * 150 + [1] * 50)
    dev = (np.zeros((200, 3), dtype=int), y)
    lm_pred = y.copy()
    lm_pred[150:165] = 0
    slightly = lm_pred.copy()
    slightly[150] = 1
    verdict, majority = lm_module._majority_verdict(dev, slightly, lm_pred, 2, seed=0)
    assert not majority and "within dev noise" in verdict
    verdict, majority = lm_module._majority_verdict(dev, y, lm_pred, 2, seed=0)
    assert majority and "beyond dev noise" in verdict
    verdict, majority = lm_module._majority_verdict(dev, lm_pred, lm_pred, 2, seed=0)
    assert majority and "predict the same" in verdict


def test_select_label_model_falls_back_with_two_lfs():
    L = np.array([[0, 0], [1, 1], [1, -1]])
    choice = select_label_model(L, cardinality=2)
    assert choice.chosen == "majority" and isinstance(choice.model, MajorityVote)
    assert "at least 3 LFs" in choice.reason
    with pytest.raises(LabelcycleError):
        select_label_model(L, cardinality=2, prefer="label_model")


def test_select_label_model_without_dev_uses_label_model():
    L, _ = synthetic(n=500, seed=21)
    choice = select_label_model(L, cardinality=2, n_epochs=50)
    assert choice.chosen == "label_model"
    assert choice.majority_scores is None and choice.label_model_scores is None


def test_select_label_model_forced_choices():
    L, y = synthetic(n=500, seed=22)
    forced = select_label_model(L, cardinality=2, Y_dev=y, prefer="majority")
    assert forced.chosen == "majority" and forced.label_model_scores is None
    assert forced.majority_scores.n == 500
    lm = select_label_model(L, cardinality=2, Y_dev=y, prefer="label_model", n_epochs=30,
                            search=False)
    assert lm.chosen == "label_model" and lm.majority_scores is not None


def test_select_label_model_rejects_unknown_options():
    with pytest.raises(ConfigError, match="epochs"):
        select_label_model(np.zeros((3, 3), dtype=int), cardinality=2, epochs=5)
    with pytest.raises(ConfigError, match="prefer"):
        select_label_model(np.zeros((3, 3), dtype=int), cardinality=2, prefer="best")


@pytest.mark.slow
def test_label_model_64_classes_120_lfs_fits_in_seconds():
    rng = np.random.default_rng(23)
    n, m, k = 6000, 120, 64
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, m)) < 0.3,
                 np.where(rng.random((n, m)) < 0.7, y[:, None], rng.integers(0, k, (n, m))), -1)
    start = time.perf_counter()
    model = LabelModel(k, n_epochs=100).fit(L)
    assert time.perf_counter() - start < 60
    assert model.memory_estimate_ < 0.5 * 2**30
