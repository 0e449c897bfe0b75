"""Label models: combine the LF votes of a label matrix into one probabilistic label per row.

Two estimators with the same interface (``fit(L, Y_dev=None, *, L_dev=None)``,
``predict_proba(L)``, ``predict(L)``):

- :class:`MajorityVote`: normalised vote counts, nothing learned.
- :class:`LabelModel`: Snorkel's matrix-completion label model, which learns each LF's accuracy
  without gold labels. When dev labels are given it also searches the class prior, the
  training settings and a mixture with the vote shares, starting from stock Snorkel's settings
  (with the dev class prior) and leaving them only for a dev macro-F1 gain beyond dev noise.

:func:`select_label_model` fits both, scores them on the dev rows and says which it picked and why.

Memory and speed. Stock Snorkel builds a dense ``rows x (LFs * classes)`` one-hot matrix and several
``(LFs * classes)^2`` matrices (see :func:`estimate_memory`); with 64 classes and 120 LFs one
training step takes seconds. :class:`LabelModel` uses a subclass of Snorkel's model that computes
the same statistics and the same loss (up to an additive constant) from a ``scipy.sparse`` one-hot
matrix, so memory is ``O(votes + LFs * classes^2)`` (plus ``(LFs * classes)^2`` only when that is
small) and one step is milliseconds. Results agree with stock Snorkel to float32 precision.

Example
-------
>>> import numpy as np
>>> L = np.array([[0, 0, -1], [1, 1, 0], [-1, -1, -1]])
>>> MajorityVote(2).fit(L).predict(L)
array([ 0,  1, -1])
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from snorkel.labeling.model.label_model import LabelModel as _SnorkelLabelModel
from torch import nn

from labelfns.errors import ConfigError, DataError, LabelcycleError, LFError, NotFittedError
from weak_supervision.label_matrix import LabelMatrix, as_matrix
from weak_supervision.metrics import Scores, score

__all__ = [
    "LabelModel",
    "LabelModelChoice",
    "LabelModelWarning",
    "MajorityVote",
    "estimate_fit_seconds",
    "estimate_memory",
    "select_label_model",
]

MatrixLike = LabelMatrix | np.ndarray

_CHUNK_ROWS = 1 << 16
_GIB = float(1 << 30)
# Degenerate-fit thresholds (see LabelModel._warn_if_degenerate).
_DOMINANT_SHARE = 0.99
_UNIFORM_MARGIN = 0.05
_MIN_ROWS_FOR_WARNINGS = 10
# Model choice on dev rows (see _beats and _pick): one model beats another when its dev macro-F1
# is higher by more than this many paired bootstrap standard errors.
_CLEAR_SE = 1.0
_N_RESAMPLES = 200
# Floor of a gold-class probability in the dev log loss (see _covered_log_loss).
_MIN_PROB = 1e-6
# Stock Snorkel's LabelModel.fit defaults: the reference the search starts from.
_SNORKEL_SETTINGS: dict[str, Any] = {"optimizer": "sgd", "n_epochs": 100, "lr": 0.01, "l2": 0.0}
# Weight of the majority-vote shares in the reference's probabilities (see LabelModel).
_REFERENCE_MAJORITY_WEIGHT = 0.5


class LabelModelWarning(UserWarning):
    """A label model fit that is probably useless: one class everywhere, or near-uniform output."""


# --------------------------------------------------------------------------------------------
# Input validation shared by both estimators
# --------------------------------------------------------------------------------------------


def _check_cardinality(cardinality: int) -> int:
    if isinstance(cardinality, bool) or not isinstance(cardinality, (int, np.integer)):
        raise ConfigError(f"cardinality must be an int >= 2, got {cardinality!r}")
    if cardinality < 2:
        raise ConfigError(f"cardinality must be >= 2 (the number of classes), got {cardinality}")
    return int(cardinality)


def _lf_name(L: MatrixLike, j: int) -> str:
    if isinstance(L, LabelMatrix) and j < len(L.lf_names):
        return L.lf_names[j]
    return f"column {j}"


def _check_L(L: MatrixLike, cardinality: int, *, n_lfs: int | None = None, what: str = "L"
             ) -> np.ndarray:
    """The int matrix of ``L``, checked against the cardinality (and the fitted LF count)."""
    try:
        arr = as_matrix(L)
    except ValueError as exc:
        raise DataError(f"{what}: {exc}") from None
    if n_lfs is not None and arr.shape[1] != n_lfs:
        raise DataError(
            f"{what} has {arr.shape[1]} LF columns but the model was fitted on {n_lfs}; "
            "apply the same LFs, in the same order"
        )
    if arr.size:
        col_max = arr.max(axis=0)
        bad = np.flatnonzero(col_max >= cardinality)
        if bad.size:
            j = int(bad[0])
            raise LFError(
                f"votes class index {int(col_max[j])} in {what}, but cardinality is {cardinality}",
                lf=_lf_name(L, j),
                hint=f"class indices must be in 0..{cardinality - 1} (-1 = abstain)",
            )
    return arr


def _check_labels_1d(y: Any, *, what: str, cardinality: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise DataError(f"{what} must be 1-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise DataError(f"{what} must hold integer class indices (-1 = no gold), "
                            f"got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < -1 or arr.max() >= cardinality):
        bad = int(np.flatnonzero((arr < -1) | (arr >= cardinality))[0])
        raise DataError(
            f"{what} row {bad} holds {int(arr[bad])}; gold labels are class indices "
            f"0..{cardinality - 1}, or -1 for rows without gold"
        )
    return arr


def _dev_split(
    L: np.ndarray, Y_dev: Any, L_dev: MatrixLike | None, cardinality: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The dev rows ``(L_dev_rows, y_dev_rows)``, or None when there are no gold labels."""
    if Y_dev is None:
        if L_dev is not None:
            raise ConfigError("L_dev was given without Y_dev; pass the gold labels of its rows too")
        return None
    y = _check_labels_1d(Y_dev, what="Y_dev", cardinality=cardinality)
    if L_dev is None:
        if y.size != L.shape[0]:
            raise DataError(
                f"Y_dev has {y.size} rows but L has {L.shape[0]}; pass Y_dev aligned with L "
                "(-1 for rows without gold), or pass the dev label matrix as L_dev"
            )
        Ld = L
    else:
        Ld = _check_L(L_dev, cardinality, n_lfs=L.shape[1], what="L_dev")
        if y.size != Ld.shape[0]:
            raise DataError(f"Y_dev has {y.size} rows but L_dev has {Ld.shape[0]}; they must align")
    has_gold = y != -1
    if not has_gold.any():
        return None
    return Ld[has_gold], y[has_gold]


def _check_balance(class_balance: Any, cardinality: int) -> np.ndarray:
    p = np.asarray(class_balance, dtype=np.float64).ravel()
    if p.size != cardinality:
        raise ConfigError(
            f"class_balance has {p.size} entries but there are {cardinality} classes"
        )
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ConfigError("class_balance entries must be positive (no class may have prior 0)")
    return p / p.sum()


def _vote_counts(L: np.ndarray, cardinality: int) -> np.ndarray:
    """``rows x classes`` number of LFs voting each class (chunked bincount)."""
    n = L.shape[0]
    counts = np.zeros((n, cardinality), dtype=np.int32)
    for start in range(0, n, _CHUNK_ROWS):
        block = L[start:start + _CHUNK_ROWS]
        rows = block.shape[0]
        flat = (np.arange(rows, dtype=np.int64)[:, None] * cardinality + block)[block >= 0]
        counts[start:start + rows] = np.bincount(flat, minlength=rows * cardinality).reshape(
            rows, cardinality)
    return counts


def _vote_shares(L: np.ndarray, cardinality: int, uncovered: np.ndarray) -> np.ndarray:
    """``rows x classes`` share of each row's votes per class; ``uncovered`` for rows without."""
    counts = _vote_counts(L, cardinality).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    covered = totals[:, 0] > 0
    shares = np.empty_like(counts)
    shares[covered] = counts[covered] / totals[covered]
    shares[~covered] = uncovered
    return shares


def _fit_key(cand: dict[str, Any]) -> tuple[Any, ...]:
    """The part of a search candidate that needs its own fit (the majority weight does not)."""
    return (cand["optimizer"], int(cand["n_epochs"]), float(cand["lr"]), float(cand["l2"]),
            cand["class_balance"])


def _covered_scores(dev: tuple[np.ndarray, np.ndarray], pred: np.ndarray) -> Scores:
    """Scores of ``pred`` on the dev rows some LF votes on (all dev rows if there are none).

    Model choices compare these: every label model leaves the same rows (no votes) unlabelled,
    and counting them as wrong would reward over-predicting the class most of them belong to.
    """
    covered = (dev[0] != -1).any(axis=1)
    if not covered.any():
        return score(dev[1], pred)
    return score(dev[1][covered], pred[covered])


def _bootstrap_macro_f1(y: np.ndarray, preds: Sequence[np.ndarray], k: int, *, seed: int,
                        n_resamples: int = _N_RESAMPLES) -> np.ndarray:
    """``candidates x resamples`` macro-F1 of each prediction vector on the same row resamples.

    Macro-F1 as in :func:`weak_supervision.metrics.macro_f1`: over the classes present in each
    resample's gold labels. The resamples are shared, so differences between rows are paired.
    """
    n = y.size
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)
    eye = np.eye(k + 1)[:, :k]  # row k (the -1 "no label" prediction) is all zeros
    gold = weights @ eye[y]  # resamples x k
    present = gold > 0
    out = np.empty((len(preds), n_resamples))
    for i, p in enumerate(preds):
        one_hot = eye[np.where(p < 0, k, p)]
        tp = weights @ (one_hot * eye[y])
        predicted = weights @ one_hot
        f1 = np.divide(2 * tp, gold + predicted, out=np.zeros_like(tp), where=present)
        out[i] = f1.sum(axis=1) / present.sum(axis=1)
    return out


def _covered_f1(dev: tuple[np.ndarray, np.ndarray], preds: Sequence[np.ndarray], k: int,
                *, seed: int) -> np.ndarray:
    """:func:`_bootstrap_macro_f1` on the dev rows some LF votes on (all dev rows if none)."""
    covered = (dev[0] != -1).any(axis=1)
    if not covered.any():
        covered = np.ones(dev[1].size, dtype=bool)
    return _bootstrap_macro_f1(dev[1][covered], [p[covered] for p in preds], k, seed=seed)


def _beats(f1: np.ndarray, winner: int, loser: int) -> bool:
    """Whether row ``winner`` of a bootstrap table beats row ``loser`` beyond dev noise."""
    diff = f1[winner] - f1[loser]
    mean, se = diff.mean(), diff.std(ddof=1)
    return bool(mean > 0 and mean > _CLEAR_SE * se)


def _clearly_better(dev: tuple[np.ndarray, np.ndarray], preds: Sequence[np.ndarray], k: int,
                    *, seed: int) -> list[bool]:
    """Whether each of ``preds[1:]`` beats ``preds[0]`` on dev macro-F1 beyond dev noise.

    On the dev rows some LF votes on (all dev rows if none): the mean paired bootstrap
    difference in macro-F1 must exceed ``_CLEAR_SE`` bootstrap standard errors (a
    one-standard-error rule). With a few hundred dev rows, differences of a point or two
    between label models are mostly noise.
    """
    f1 = _covered_f1(dev, preds, k, seed=seed)
    return [_beats(f1, i, 0) for i in range(1, len(preds))]


def _covered_log_loss(dev: tuple[np.ndarray, np.ndarray], probs: np.ndarray) -> float:
    """Class-balanced log loss on the dev rows some LF votes on (all dev rows if none).

    The mean over the classes present of each class's mean negative log probability of the
    gold class: averaged per class like macro-F1, so a prior that matches the frequent classes
    is not rewarded over one that finds the rare ones. Probabilities are clipped at
    ``_MIN_PROB``, so one confident mistake costs a bounded amount (about 13.8 nats).
    """
    covered = (dev[0] != -1).any(axis=1)
    if not covered.any():
        covered = np.ones(dev[1].size, dtype=bool)
    y = dev[1][covered]
    nll = -np.log(np.clip(probs[covered][np.arange(y.size), y], _MIN_PROB, 1.0))
    counts = np.bincount(y, minlength=probs.shape[1]).astype(np.float64)
    sums = np.bincount(y, weights=nll, minlength=probs.shape[1])
    present = counts > 0
    return float((sums[present] / counts[present]).mean())


def _pick(dev: tuple[np.ndarray, np.ndarray], preds: Sequence[np.ndarray],
          losses: Sequence[float], k: int, *, seed: int
          ) -> tuple[int, list[bool], list[bool]]:
    """``(chosen index, clearly better than preds[0], plausible)`` for the search.

    The anchor is the first candidate whose dev macro-F1 beats the reference ``preds[0]``
    beyond dev noise (:func:`_beats`), or the reference if none does. A candidate is plausible
    unless the anchor beats it the same way; of the plausible ones, the one with the lowest
    class-balanced dev log loss (:func:`_covered_log_loss`) is chosen, the earliest on ties.
    Macro-F1 of hard labels on a few hundred dev rows separates candidates only coarsely (many
    predict the same labels, and picking the best of 36 by it picks the luckiest), so it only
    rules candidates out; the log loss scores the probabilities the end model trains on, row
    by row, averaged per class as macro-F1 is.
    """
    f1 = _covered_f1(dev, preds, k, seed=seed)
    clear = [False] + [_beats(f1, i, 0) for i in range(1, len(preds))]
    anchor = next((i for i, c in enumerate(clear) if c), 0)
    plausible = [not _beats(f1, anchor, i) for i in range(len(preds))]
    best = min((i for i, p in enumerate(plausible) if p), key=lambda i: (losses[i], i))
    return best, clear, plausible


def _hard(probs: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Argmax (lowest index on ties), -1 for rows no LF covered."""
    out = np.argmax(probs, axis=1).astype(np.int64)
    out[~covered] = -1
    return out


# --------------------------------------------------------------------------------------------
# Majority vote
# --------------------------------------------------------------------------------------------


class MajorityVote:
    """Normalised LF vote counts per row; no parameters are learned.

    Parameters
    ----------
    cardinality : int
        Number of classes ``k``.
    class_balance : array-like of float, optional
        Prior given to rows no LF voted on; uniform when omitted.

    Attributes
    ----------
    class_balance_ : numpy.ndarray
        The normalised prior used for uncovered rows.
    n_lfs_ : int
        Number of LFs seen in ``fit``.

    Example
    -------
    >>> import numpy as np
    >>> mv = MajorityVote(2).fit(np.array([[0, 0, 1], [-1, -1, -1]]))
    >>> mv.predict_proba(np.array([[0, 0, 1], [-1, -1, -1]])).round(3).tolist()
    [[0.667, 0.333], [0.5, 0.5]]
    """

    def __init__(self, cardinality: int, *, class_balance: Sequence[float] | None = None):
        self.cardinality = cardinality
        self.class_balance = class_balance

    def fit(self, L: MatrixLike, Y_dev: Any = None, *, L_dev: MatrixLike | None = None
            ) -> MajorityVote:
        """Validate ``L`` (and the dev set, which majority vote does not use) and return self.

        >>> import numpy as np
        >>> MajorityVote(3).fit(np.array([[2, -1]])).n_lfs_
        2
        """
        k = _check_cardinality(self.cardinality)
        arr = _check_L(L, k)
        _dev_split(arr, Y_dev, L_dev, k)
        self.class_balance_ = (np.full(k, 1.0 / k) if self.class_balance is None
                               else _check_balance(self.class_balance, k))
        self.n_lfs_ = int(arr.shape[1])
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "class_balance_"):
            raise NotFittedError("this MajorityVote is not fitted yet; call fit(L) first")

    def predict_proba(self, L: MatrixLike) -> np.ndarray:
        """``rows x k`` vote shares; rows without votes get ``class_balance_``.

        Tied classes get equal probability (they have equal vote counts).

        >>> import numpy as np
        >>> MajorityVote(2).fit(np.array([[0, 1]])).predict_proba(np.array([[0, 1]])).tolist()
        [[0.5, 0.5]]
        """
        self._fitted()
        arr = _check_L(L, int(self.cardinality), n_lfs=self.n_lfs_)
        return _vote_shares(arr, int(self.cardinality), self.class_balance_)

    def predict(self, L: MatrixLike) -> np.ndarray:
        """Most-voted class per row (lowest index on ties), -1 where no LF voted.

        >>> import numpy as np
        >>> MajorityVote(3).fit(np.array([[2, 1]])).predict(np.array([[2, 1], [-1, -1]])).tolist()
        [1, -1]
        """
        self._fitted()
        arr = _check_L(L, int(self.cardinality), n_lfs=self.n_lfs_)
        counts = _vote_counts(arr, int(self.cardinality))
        return _hard(counts, counts.sum(axis=1) > 0)


# --------------------------------------------------------------------------------------------
# Memory estimate and the sparse statistics
# --------------------------------------------------------------------------------------------


def _route_is_dense(n_votes: int, d: int) -> bool:
    """Use a dense ``d x d`` overlap matrix (else the sparse one-hot) in the training loss."""
    return d <= 4096 and d * d <= 8 * max(n_votes, 1)


def estimate_memory(n_rows: int, n_lfs: int, cardinality: int, *, sparse: bool = False) -> int:
    """Approximate peak bytes of fitting a label model on ``n_rows x n_lfs`` votes.

    With ``sparse=False`` (default) this is stock Snorkel's ``LabelModel.fit`` + ``predict_proba``:
    the dense float64 augmented matrix (``rows x LFs*classes``), its products
    ``(LFs*classes)^2`` (O in float64 and float32, the mask, the L2 identity, loss temporaries
    and gradients) and copies of ``L``. With ``sparse=True`` it is this module's
    :class:`LabelModel`: copies of ``L``, the sparse one-hot (and its transpose), the dense
    ``(LFs*classes)^2`` overlap matrix only when it is small, and parameters of size
    ``LFs * classes^2``. Every vote is assumed non-abstain (an upper bound).

    Parameters
    ----------
    n_rows, n_lfs, cardinality : int
        Shape of the label matrix and number of classes.
    sparse : bool, default False
        Estimate the sparse fit used by :class:`LabelModel` instead of stock Snorkel's.

    Returns
    -------
    int
        Bytes.

    Example
    -------
    >>> estimate_memory(6000, 120, 64) > 10 * estimate_memory(6000, 120, 64, sparse=True)
    True
    """
    n, m, k = int(n_rows), int(n_lfs), int(cardinality)
    nm, d = n * m, m * k
    # L + 1 (fit), LFAnalysis: L + 1, scipy's COO detour and the CSR matrix.
    snorkel_copies = nm * 52
    if not sparse:
        return int(snorkel_copies + nm * 9 + n * d * 8 * 2 + d * d * 53 + d * k * 4 * 12 + 2**20)
    one_hot = 2 * (nm * 8 + n * 8)  # X and X.T (float32 data, int32 indices, indptr)
    dense_overlap = d * d * 16 if _route_is_dense(nm, d) else n * k * 4 * 3
    params = d * k * 4 * 16 + m * k * k * 4 * 6
    predict = n * k * 8 * 3
    return int(snorkel_copies + one_hot + dense_overlap + params + predict + 2**20)


# Seconds per training epoch on the reference machine (2 cores, Python 3.11, torch 2.13 CPU, one
# torch thread), fitted by ``python benchmarks/search_cost.py --fit`` on 12 shapes (a re-run is
# within 25% on 9 of them; epochs under 1 ms are mostly timer noise): a constant, the ``d x k``
# parameter updates, and the ``<O, mu P mu^T>`` term: ``d^2 k`` with the dense overlap matrix,
# ``votes * k`` (forward and backward) with the sparse one-hot.
_EPOCH_S_CONST = 4.6e-4
_EPOCH_S_PARAMS = 2.6e-8
_EPOCH_S_DENSE = 5.9e-10
_EPOCH_S_SPARSE = 8.3e-10


def estimate_fit_seconds(n_votes: int, n_lfs: int, cardinality: int, *, n_epochs: int = 1,
                         dense: bool | None = None) -> float:
    """Estimated seconds of ``n_epochs`` label-model training epochs, from the shape alone.

    The estimate is a formula of the number of non-abstain votes, ``d = LFs * classes`` and the
    route of the loss (the dense ``d x d`` overlap matrix or the sparse one-hot), calibrated on
    the project's reference machine (2 cores; see ``benchmarks/search_cost.py``). It is not a
    measurement: :class:`LabelModel`'s dev search spends its ``search_budget`` in these units,
    so the candidates it tries depend on the data only, not on the speed or load of the machine.

    Parameters
    ----------
    n_votes : int
        Non-abstain votes in the label matrix.
    n_lfs, cardinality : int
        Number of LFs and of classes.
    n_epochs : int, default 1
        Training epochs.
    dense : bool, optional
        The route of the loss; by default the one :meth:`LabelModel.fit` takes for this shape
        (``fit_from_stats`` always takes the dense one).

    Returns
    -------
    float
        Reference seconds.

    Example
    -------
    >>> round(estimate_fit_seconds(56_000, 235, 64, n_epochs=100), 1)  # the Amazon example
    2.8
    """
    d, k = int(n_lfs) * int(cardinality), int(cardinality)
    if dense is None:
        dense = _route_is_dense(int(n_votes), d)
    loss = _EPOCH_S_DENSE * d * d * k if dense else _EPOCH_S_SPARSE * int(n_votes) * k
    return float(n_epochs) * (_EPOCH_S_CONST + _EPOCH_S_PARAMS * d * k + loss)


def _one_hot(L: np.ndarray, cardinality: int) -> sp.csr_matrix:
    """``rows x (LFs*classes)`` float32 CSR one-hot: column ``j*k + c`` is "LF j voted c"."""
    n, m = L.shape
    k = cardinality
    offsets = np.arange(m, dtype=np.int64) * k
    parts, row_nnz = [], np.empty(n, dtype=np.int64)
    for start in range(0, n, _CHUNK_ROWS):
        block = L[start:start + _CHUNK_ROWS]
        voted = block >= 0
        row_nnz[start:start + block.shape[0]] = voted.sum(axis=1)
        parts.append((block + offsets)[voted])
    indices = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    idx_type = np.int32 if max(indices.size, m * k) < 2**31 - 1 else np.int64
    indptr = np.zeros(n + 1, dtype=idx_type)
    np.cumsum(row_nnz, out=indptr[1:])
    data = np.ones(indices.size, dtype=np.float32)
    return sp.csr_matrix((data, indices.astype(idx_type), indptr), shape=(n, m * k))


@dataclass
class _Stats:
    """Sufficient statistics of a label matrix for Snorkel's loss, computed once per matrix."""

    n: int
    m: int
    k: int
    lps: np.ndarray  # diag(O): P(LF j votes c), length m*k
    overlap: torch.Tensor | None = None  # dense O, (m*k)^2 float32, small matrices only
    X: sp.csr_matrix | None = None  # sparse one-hot otherwise
    XT: sp.csr_matrix | None = None


def _compute_stats(L: np.ndarray, cardinality: int) -> _Stats:
    n, m = L.shape
    k = cardinality
    d = m * k
    X = _one_hot(L, k)
    lps = np.bincount(X.indices, minlength=d).astype(np.float64) / n
    if _route_is_dense(X.nnz, d):
        counts = np.zeros((d, d), dtype=np.float64)
        if d <= 1024:  # dense BLAS on row chunks; float32 counts are exact below 2**24 rows
            step = max(1, min(_CHUNK_ROWS, (1 << 22) // d))
            for start in range(0, n, step):
                block = X[start:start + step].toarray()
                counts += block.T @ block
        else:
            counts += (X.T @ X).toarray()
        return _Stats(n, m, k, lps, overlap=torch.from_numpy(counts / n).float())
    return _Stats(n, m, k, lps, X=X, XT=X.T.tocsr())


class _SparseMatmul(torch.autograd.Function):
    """``X @ mu`` for a fixed scipy CSR ``X``, differentiable in ``mu``."""

    @staticmethod
    def forward(ctx: Any, mu: torch.Tensor, X: sp.csr_matrix, XT: sp.csr_matrix
                ) -> torch.Tensor:
        ctx.XT = XT
        return torch.from_numpy(np.ascontiguousarray(X @ mu.detach().numpy()))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        g = ctx.XT @ grad.detach().contiguous().numpy()
        return torch.from_numpy(np.ascontiguousarray(g)), None, None


class _SparseSnorkelLabelModel(_SnorkelLabelModel):
    """Snorkel's LabelModel with O, the loss and predict_proba computed from sparse one-hots.

    Only valid for conditionally independent LFs (Snorkel 0.10's only option): the mask of its
    loss then removes exactly the ``k x k`` diagonal blocks of each LF. ``_loss_mu`` equals
    Snorkel's minus the constant ``||O masked||^2``, so gradients and the fit are the same.
    """

    _stats: _Stats | None = None

    def _generate_O(self, L: np.ndarray, higher_order: bool = False) -> None:
        # L arrives shifted to 0..k by Snorkel's fit.
        if higher_order:
            raise NotImplementedError("higher-order cliques are not supported")
        stats = self._stats
        if stats is None or (stats.n, stats.m, stats.k) != (self.n, self.m, self.cardinality):
            stats = _compute_stats(np.asarray(L, dtype=np.int64) - 1, self.cardinality)
            self._stats = stats
        self.d = self.m * self.cardinality
        self._lps = torch.from_numpy(stats.lps).float()

    def _build_mask(self) -> None:
        self.mask = None  # the loss below skips the diagonal blocks directly

    def _init_params(self) -> None:
        prec = self.train_config.prec_init
        if isinstance(prec, (int, float)):
            self._prec_init = prec * torch.ones(self.m)
        elif isinstance(prec, (np.ndarray, list)):
            self._prec_init = torch.Tensor(prec)
        elif isinstance(prec, torch.Tensor):
            self._prec_init = prec
        else:
            raise TypeError(f"prec_init is of type {type(prec)} which is not supported currently.")
        if self._prec_init.shape[0] != self.m:
            raise ValueError(f"prec_init must have shape {self.m}.")
        k = self.cardinality
        p = torch.from_numpy(np.asarray(self.p, dtype=np.float64)).float()
        vals = torch.clamp(self._lps.view(self.m, k) * self._prec_init.float()[:, None] / p, 0, 1)
        mu_init = torch.zeros(self.m, k, k)
        mu_init[:, torch.arange(k), torch.arange(k)] = vals
        self.mu_init = mu_init.view(self.d, k)
        self.mu = nn.Parameter(self.mu_init.clone() * np.random.random()).float()
        self._build_mask()

    def _loss_l2(self, l2: Any = 0) -> torch.Tensor:
        # Snorkel: ||D (mu - mu_init)||_F^2 with D = l2 * I or diag(l2), without the d x d matrix.
        diff = self.mu - self.mu_init
        if isinstance(l2, (int, float)):
            return (float(l2) ** 2) * torch.sum(diff * diff)
        D = torch.as_tensor(np.asarray(l2), dtype=torch.float32)
        return torch.sum((D[:, None] * diff) ** 2)

    def _loss_mu(self, l2: float = 0) -> torch.Tensor:
        stats = self._stats
        k, m = self.cardinality, self.m
        p = torch.diagonal(self.P)
        mu = self.mu
        mu_p = mu * p  # mu @ P
        # <O, mu P mu^T> over all blocks
        if stats.overlap is not None:
            inner = torch.sum((stats.overlap @ mu) * mu_p)
        else:
            Z = _SparseMatmul.apply(mu, stats.X, stats.XT)
            inner = torch.sum(Z * Z * p) / self.n
        A = p[:, None] * (mu.t() @ mu)
        norm_m = torch.sum(A * A.t())  # ||mu P mu^T||_F^2
        blocks = mu.view(m, k, k)
        M_b = (blocks * p) @ blocks.transpose(1, 2)  # diagonal blocks of mu P mu^T
        lps = self._lps.view(m, k)
        inner_b = torch.sum(torch.diagonal(M_b, dim1=1, dim2=2) * lps)
        loss_1 = -2.0 * (inner - inner_b) + (norm_m - torch.sum(M_b * M_b))
        loss_2 = torch.sum((torch.sum(mu_p, 1) - self._lps) ** 2)
        return loss_1 + loss_2 + self._loss_l2(l2=l2)

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        X = _one_hot(np.asarray(L, dtype=np.int64), self.cardinality)
        log_mu = np.log(self.mu.detach().cpu().numpy().astype(np.float64))
        scores = np.asarray(X @ log_mu) + np.log(np.asarray(self.p, dtype=np.float64))
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs


@contextlib.contextmanager
def _preserve_global_rng() -> Iterator[None]:
    """Snorkel reseeds Python's, NumPy's and torch's global generators; put them back after."""
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


@contextlib.contextmanager
def _fast_torch() -> Iterator[None]:
    """Torch settings for training, restored after.

    Denormal float32s are treated as 0: tiny conditional probabilities and Adam moments otherwise
    make each step ~10x slower on x86 (torch cannot report the previous setting, so it is reset to
    torch's default, off). Torch runs single-threaded: the tensors are small, and idle OpenMP
    workers spinning between steps slow the scipy sparse products down several-fold.
    """
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------------------------
# The Snorkel label model
# --------------------------------------------------------------------------------------------

_OPTIMIZERS = ("sgd", "adam", "adamax")


class LabelModel:
    """Snorkel's label model with a dev-set search that does not chase dev noise, and memory guards.

    Parameters
    ----------
    cardinality : int
        Number of classes ``k``.
    n_epochs, lr, l2, optimizer :
        Snorkel training settings (one epoch is one full-batch step). ``l2`` pulls the learned
        conditional probabilities towards their initialisation. The default optimizer is
        Snorkel's, SGD with momentum: its steps grow with how often an LF votes, while Adam's
        per-parameter steps move the parameters of LFs with a handful of votes as far as those
        of LFs with thousands.
    seed : int, default 123
        Seeds Snorkel's initialisation, the row sample (if any) and the dev bootstrap; a fixed
        seed gives identical probabilities. Global random states are restored after fitting.
    class_balance : "auto" or array-like, default "auto"
        Class prior. "auto": the dev labels' class frequencies (add-one smoothed, so no class
        is 0), uniform without dev labels; the search also tries the uniform prior, which
        makes argmax favour rare classes (often better macro-F1, worse accuracy).
    majority_weight : "auto" or float in [0, 1], default "auto"
        Weight of the majority-vote shares mixed into :meth:`predict_proba`
        (``(1 - w) * label model + w * vote shares``). The mixture hedges between the two
        models where the dev rows cannot tell them apart; Snorkel's posteriors, which multiply
        the LFs' likelihoods as if they were independent, are often overconfident. "auto": 0.5
        in the search's reference, and the search also tries 0; 0 without dev labels or search.
    search : bool, default True
        With dev labels, compare a reference with up to 35 alternatives (on the dev rows some
        LF votes on). The anchor is the first candidate whose dev macro-F1 beats the
        reference's by more than one paired bootstrap standard error (the reference if none
        does); candidates the anchor beats that way are ruled out, and of the rest the one
        with the lowest class-balanced dev log loss is kept (the earliest on ties). Ranking 36
        candidates by dev macro-F1 would pick whichever got lucky on a few hundred dev rows,
        and many predict the same hard labels; the log loss scores the probabilities
        themselves, averaged per class as macro-F1 is. The reference is
        stock Snorkel's settings (SGD, 100 epochs, lr 0.01, l2 0) with the "auto" prior and
        ``majority_weight`` 0.5; then come the same settings with the other prior and/or
        weight 0, then the given ``(n_epochs, lr, l2)`` and 7 variations of them, each with
        both priors and weights (only "auto" ones vary).
        Without search, the given settings with the "auto" prior and weight 0 (or the given).
    max_memory_gb : float, default 4.0
        Memory budget (see :func:`estimate_memory` with ``sparse=True``). When the rows do not
        fit, the model is fitted on a seeded random sample of rows that does (with a warning).
    search_budget : float or None, default 60.0
        The search stops before the first candidate whose fit would take its estimated cost
        past this many reference seconds (:func:`estimate_fit_seconds`: a formula of the
        shape and the epochs, not a clock), so the same data tries the same candidates on any
        machine and under any load. The reference always runs. None: no limit.
    time_budget_s : float or None, default None
        Also stop once the next fit would take the wall time of the search past this. A
        clock makes the result depend on the machine's speed and load; use it only as a guard.
    verbose : bool, default False
        Show Snorkel's progress bar and loss log.

    Attributes
    ----------
    model_ : snorkel LabelModel
        The fitted Snorkel model (the best one of the search).
    class_balance_ : numpy.ndarray
        The class prior used.
    lf_accuracies_ : numpy.ndarray
        Learned accuracy of each LF (Snorkel's ``get_weights()``); NaN for LFs that never voted.
    majority_weight_ : float
        The majority-vote weight used by :meth:`predict_proba`.
    best_params_ : dict
        ``n_epochs``, ``lr``, ``l2``, ``optimizer``, ``class_balance`` ("uniform", "dev" or
        "given") and ``majority_weight`` of the chosen candidate.
    search_results_ : list of dict
        One entry per candidate tried with dev labels (empty without): params, dev scores
        (``dev_macro_f1``, ``dev_accuracy``, ``dev_log_loss``), ``clearly_better`` (than the
        reference, the first entry, on macro-F1), ``plausible`` (not ruled out), fit seconds.
    search_skipped_ : int
        Candidates not tried because of ``search_budget`` or ``time_budget_s``.
    search_cost_ : float
        Estimated reference seconds of the fits the search ran (see ``search_budget``).
    n_fit_rows_ : int
        Rows the model was fitted on (fewer than given when sampled for memory).
    memory_estimate_ : int
        Estimated bytes of the fit.
    fit_time_s_ : float
        Wall time of ``fit``.
    fit_route_ : str
        "dense_overlap" (Snorkel's O matrix, when ``(LFs*classes)^2`` is small) or
        "sparse_one_hot" (the loss computed through the sparse one-hot votes).

    Example
    -------
    >>> import numpy as np
    >>> L = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1], [1, -1, 1]] * 5)
    >>> lm = LabelModel(2, n_epochs=100).fit(L)
    >>> lm.predict(L[:4]).tolist()
    [0, 1, 0, 1]
    """

    def __init__(
        self,
        cardinality: int,
        *,
        n_epochs: int = 500,
        lr: float = 0.01,
        l2: float = 0.0,
        optimizer: str = "sgd",
        seed: int = 123,
        class_balance: Literal["auto"] | Sequence[float] = "auto",
        majority_weight: Literal["auto"] | float = "auto",
        search: bool = True,
        max_memory_gb: float = 4.0,
        search_budget: float | None = 60.0,
        time_budget_s: float | None = None,
        verbose: bool = False,
    ):
        self.cardinality = cardinality
        self.n_epochs = n_epochs
        self.lr = lr
        self.l2 = l2
        self.optimizer = optimizer
        self.seed = seed
        self.class_balance = class_balance
        self.majority_weight = majority_weight
        self.search = search
        self.max_memory_gb = max_memory_gb
        self.search_budget = search_budget
        self.time_budget_s = time_budget_s
        self.verbose = verbose

    # -- validation ---------------------------------------------------------------------------

    def _check_params(self) -> int:
        k = _check_cardinality(self.cardinality)
        if isinstance(self.n_epochs, bool) or not isinstance(self.n_epochs, (int, np.integer)) \
                or self.n_epochs < 1:
            raise ConfigError(f"n_epochs must be an int >= 1, got {self.n_epochs!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}")
        if not (isinstance(self.l2, (int, float)) and self.l2 >= 0 and math.isfinite(self.l2)):
            raise ConfigError(f"l2 must be a number >= 0, got {self.l2!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(_OPTIMIZERS)}, "
                              f"got {self.optimizer!r}")
        if not (self.max_memory_gb > 0):
            raise ConfigError(f"max_memory_gb must be > 0, got {self.max_memory_gb!r}")
        for name in ("search_budget", "time_budget_s"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, float, np.integer, np.floating)) or not value >= 0):
                raise ConfigError(f"{name} must be a number >= 0 or None, got {value!r}")
        w = self.majority_weight
        if isinstance(w, str) and w != "auto" or not isinstance(w, str) and not (
                isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w <= 1):
            raise ConfigError(f"majority_weight must be 'auto' or a number in [0, 1], got {w!r}")
        return k

    def _resolve_balance(self, k: int, dev: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        if isinstance(self.class_balance, str):
            if self.class_balance != "auto":
                raise ConfigError(f"class_balance must be 'auto' or one prior per class, "
                                  f"got {self.class_balance!r}")
            if dev is None:
                return np.full(k, 1.0 / k)
            counts = np.bincount(dev[1], minlength=k).astype(np.float64)
            return (counts + 1.0) / (counts.sum() + k)
        return _check_balance(self.class_balance, k)

    def _rows_that_fit(self, n: int, m: int, k: int) -> int:
        """How many rows fit in ``max_memory_gb`` (raises if not even a small sample does)."""
        budget = float(self.max_memory_gb) * _GIB
        if estimate_memory(n, m, k, sparse=True) <= budget:
            return n
        fixed = estimate_memory(0, m, k, sparse=True)
        per_row = max(estimate_memory(1000, m, k, sparse=True) - fixed, 1) / 1000.0
        rows = int((budget - fixed) / per_row)
        min_rows = min(n, 1000)
        if rows < min_rows:
            fit_m = m
            while fit_m > 1 and estimate_memory(min_rows, fit_m, k, sparse=True) > budget:
                fit_m = max(1, int(fit_m * 0.9))
            raise LabelcycleError(
                f"the label model for {m} LFs x {k} classes needs about "
                f"{estimate_memory(min_rows, m, k, sparse=True) / _GIB:.1f} GB even on "
                f"{min_rows} rows, over max_memory_gb={self.max_memory_gb}; about {fit_m} LFs x "
                f"{k} classes fit. Raise max_memory_gb, merge classes or drop LFs "
                "(or use majority vote)"
            )
        return rows

    # -- fitting ------------------------------------------------------------------------------

    def _fit_one(self, L: np.ndarray, stats: _Stats, balance: np.ndarray, params: dict[str, Any]
                 ) -> _SparseSnorkelLabelModel:
        model = _SparseSnorkelLabelModel(cardinality=stats.k, verbose=bool(self.verbose))
        model._stats = stats
        with _preserve_global_rng(), _fast_torch():
            try:
                model.fit(
                    L,
                    class_balance=[float(x) for x in balance],
                    progress_bar=bool(self.verbose),
                    n_epochs=int(params["n_epochs"]),
                    lr=float(params["lr"]),
                    l2=float(params["l2"]),
                    optimizer=str(params.get("optimizer", self.optimizer)),
                    seed=int(self.seed),
                    log_freq=max(1, int(params["n_epochs"]) // 10),
                )
            except Exception as exc:  # Snorkel raises a bare Exception when the loss is NaN
                if "NaN" in str(exc):
                    raise LabelcycleError(
                        f"label model training diverged (loss is NaN) with lr={params['lr']}; "
                        "lower lr or use majority vote"
                    ) from exc
                raise
        return model

    def _search_grid(self) -> list[dict[str, Any]]:
        e, lr, l2 = int(self.n_epochs), float(self.lr), float(self.l2)
        l2_hi = l2 * 10 if l2 > 0 else 0.1
        grid = [
            {"n_epochs": e, "lr": lr, "l2": l2},
            {"n_epochs": e, "lr": lr * 3, "l2": l2},
            {"n_epochs": e, "lr": lr / 3, "l2": l2},
            {"n_epochs": e, "lr": lr, "l2": l2_hi},
            {"n_epochs": e, "lr": lr * 3, "l2": l2_hi},
            {"n_epochs": max(1, e // 2), "lr": lr, "l2": l2},
            {"n_epochs": e * 2, "lr": lr, "l2": l2},
            {"n_epochs": e * 2, "lr": lr / 3, "l2": l2},
        ]
        return grid if self.search else grid[:1]

    def _candidates(self, dev: tuple[np.ndarray, np.ndarray] | None) -> list[dict[str, Any]]:
        """The settings to try, the reference first (see ``search`` in the class docstring)."""
        auto_prior = isinstance(self.class_balance, str)
        auto_weight = isinstance(self.majority_weight, str)
        fixed_weight = 0.0 if auto_weight else float(self.majority_weight)
        grid = [{"optimizer": self.optimizer, **g} for g in self._search_grid()]
        if dev is None or not self.search:
            prior = ("dev" if dev is not None else "uniform") if auto_prior else "given"
            return [{**grid[0], "class_balance": prior, "majority_weight": fixed_weight}]
        priors = ("dev", "uniform") if auto_prior else ("given",)
        weights = (_REFERENCE_MAJORITY_WEIGHT, 0.0) if auto_weight else (fixed_weight,)
        out: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()
        for settings in [dict(_SNORKEL_SETTINGS), *grid]:
            for weight in weights:
                for prior in priors:
                    cand = {**settings, "class_balance": prior, "majority_weight": weight}
                    key = (*_fit_key(cand), weight)
                    if key not in seen:
                        seen.add(key)
                        out.append(cand)
        return out

    def _prior(self, which: str, k: int, dev: tuple[np.ndarray, np.ndarray] | None
               ) -> np.ndarray:
        """The class prior named by a candidate: "uniform", "dev" (smoothed) or "given"."""
        if which == "given":
            return _check_balance(self.class_balance, k)
        if which == "dev" and dev is not None:
            counts = np.bincount(dev[1], minlength=k).astype(np.float64)
            return (counts + 1.0) / (counts.sum() + k)
        return np.full(k, 1.0 / k)

    def _search(self, candidates: list[dict[str, Any]], epoch_cost: float,
                fit: Any) -> tuple[list[dict[str, Any]],
                                   dict[tuple[Any, ...], tuple[_SparseSnorkelLabelModel, float]]]:
        """Fit the candidates in order until the next fit would exceed a budget.

        ``epoch_cost`` is the estimated reference seconds of one epoch; candidates that share
        a fit (they differ in ``majority_weight`` only) cost nothing more. Sets
        ``search_skipped_`` and ``search_cost_``.
        """
        fits: dict[tuple[Any, ...], tuple[_SparseSnorkelLabelModel, float]] = {}
        tried: list[dict[str, Any]] = []
        budget = None if self.search_budget is None else float(self.search_budget)
        clock = None if self.time_budget_s is None else float(self.time_budget_s)
        cost, spent_epochs, skipped = 0.0, 0, 0
        started = time.perf_counter()
        for i, cand in enumerate(candidates):
            key = _fit_key(cand)
            if key not in fits:
                next_cost = epoch_cost * int(cand["n_epochs"])
                over = budget is not None and cost + next_cost > budget
                if clock is not None and not over:
                    elapsed = time.perf_counter() - started
                    over = elapsed + elapsed / max(spent_epochs, 1) * cand["n_epochs"] > clock
                if fits and over:
                    skipped = len(candidates) - i
                    break
                t0 = time.perf_counter()
                fits[key] = (fit(cand), time.perf_counter() - t0)
                cost += next_cost
                spent_epochs += int(cand["n_epochs"])
            tried.append(cand)
        self.search_skipped_ = skipped
        self.search_cost_ = cost
        return tried, fits

    def _choose(self, tried: list[dict[str, Any]],
                fits: dict[tuple[Any, ...], tuple[_SparseSnorkelLabelModel, float]],
                dev: tuple[np.ndarray, np.ndarray] | None, k: int
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The chosen candidate and one result row per candidate (none without dev labels).

        See :func:`_pick`: dev macro-F1 rules candidates out, dev log loss picks among the rest.
        """
        if dev is None:
            return tried[0], []
        covered = (dev[0] != -1).any(axis=1)
        shares = _vote_shares(dev[0], k, np.full(k, 1.0 / k))
        preds, scores, losses = [], [], []
        for cand in tried:
            model = fits[_fit_key(cand)][0]
            w = float(cand["majority_weight"])
            probs = model.predict_proba(dev[0])
            if w > 0:
                probs = (1.0 - w) * probs + w * shares
            preds.append(_hard(probs, covered))
            scores.append(_covered_scores(dev, preds[-1]))
            losses.append(_covered_log_loss(dev, probs))
        best, clear, plausible = _pick(dev, preds, losses, k, seed=int(self.seed))
        results = [{**cand, "dev_macro_f1": s.macro_f1, "dev_accuracy": s.accuracy,
                    "dev_log_loss": round(loss, 6), "clearly_better": c, "plausible": p,
                    "fit_time_s": round(fits[_fit_key(cand)][1], 4)}
                   for cand, s, loss, c, p in zip(tried, scores, losses, clear, plausible,
                                                  strict=True)]
        return tried[best], results

    def fit(self, L: MatrixLike, Y_dev: Any = None, *, L_dev: MatrixLike | None = None
            ) -> LabelModel:
        """Fit on the votes ``L``; dev labels (optional) drive the search (class docstring).

        Parameters
        ----------
        L : LabelMatrix or array of int, shape (rows, LFs)
            Votes, -1 = abstain. At least 3 LFs (Snorkel's minimum).
        Y_dev : array of int, optional
            Gold labels, either aligned with ``L`` (-1 for rows without gold; the dev rows are
            ``L[Y_dev != -1]``) or aligned with ``L_dev``.
        L_dev : LabelMatrix or array of int, optional
            Votes of separate dev rows, labelled by ``Y_dev``.

        Returns
        -------
        LabelModel
            self

        Example
        -------
        >>> import numpy as np
        >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 3)
        >>> y = np.array([0, 1, -1, -1] * 3)
        >>> sorted(LabelModel(2, n_epochs=50).fit(L, y).best_params_)
        ['class_balance', 'l2', 'lr', 'majority_weight', 'n_epochs', 'optimizer']
        """
        started = time.perf_counter()
        k = self._check_params()
        arr = _check_L(L, k)
        n, m = arr.shape
        if m < 3:
            raise LabelcycleError(
                f"the Snorkel label model needs at least 3 LFs, got {m}; with fewer LFs use "
                "majority vote (MajorityVote; select_label_model falls back to it)"
            )
        if n == 0:
            raise DataError("the label matrix has no rows; apply the LFs to some data first")
        dev = _dev_split(arr, Y_dev, L_dev, k)
        self._resolve_balance(k, dev)  # validates class_balance

        rows = self._rows_that_fit(n, m, k)
        if rows < n:
            rng = np.random.default_rng(self.seed)
            pick = np.sort(rng.choice(n, size=rows, replace=False))
            warnings.warn(
                f"the label model on {n} rows x {m} LFs x {k} classes would exceed "
                f"max_memory_gb={self.max_memory_gb}; fitting on a random sample of {rows} rows "
                f"(seed {self.seed}). Raise max_memory_gb to use all rows",
                LabelModelWarning,
                stacklevel=2,
            )
            L_fit = arr[pick]
        else:
            L_fit = arr
        self.n_fit_rows_ = int(L_fit.shape[0])
        self.memory_estimate_ = estimate_memory(self.n_fit_rows_, m, k, sparse=True)
        stats = _compute_stats(L_fit, k)

        n_votes = stats.X.nnz if stats.X is not None else 0  # the dense route ignores votes
        epoch_cost = estimate_fit_seconds(n_votes, m, k, dense=stats.overlap is not None)
        tried, fits = self._search(
            self._candidates(dev), epoch_cost,
            lambda cand: self._fit_one(L_fit, stats, self._prior(cand["class_balance"], k, dev),
                                       cand))
        chosen, results = self._choose(tried, fits, dev, k)
        self.model_ = fits[_fit_key(chosen)][0]
        self.best_params_ = dict(chosen)
        self.search_results_ = results
        self.class_balance_ = self._prior(chosen["class_balance"], k, dev)
        self.majority_weight_ = float(chosen["majority_weight"])
        self.n_lfs_ = m
        with np.errstate(divide="ignore", invalid="ignore"):
            accs = np.asarray(self.model_.get_weights(), dtype=np.float64)
        accs[np.asarray(self.model_.coverage) == 0] = np.nan  # Snorkel reports 1.0 for them
        self.lf_accuracies_ = accs
        self.fit_route_ = "dense_overlap" if stats.overlap is not None else "sparse_one_hot"
        self.model_._stats = None  # training-only statistics: do not keep them alive
        self._warn_if_degenerate(L_fit)
        self.fit_time_s_ = time.perf_counter() - started
        return self

    def fit_from_stats(self, stats: Any, Y_dev: Any = None, *, L_dev: MatrixLike | None = None
                       ) -> LabelModel:
        """Fit from sufficient statistics accumulated over partitions, without the label matrix.

        Snorkel's loss needs only the LF co-vote counts, so this fit equals :meth:`fit` on the
        rows the statistics were counted on (to float32 precision; identical when :meth:`fit`
        takes its dense route), while memory is ``O((LFs * classes)^2)`` whatever the rows.

        Parameters
        ----------
        stats : weak_supervision.label_stats.LabelStats
            Anything with ``n_rows``, ``n_lfs``, ``cardinality`` and ``counts`` (the
            ``(LFs*classes)^2`` matrix of co-vote counts, dense or scipy sparse; column
            ``j*k + c`` is "LF j voted c").
        Y_dev : array of int, optional
            Gold labels of the dev rows, aligned with ``L_dev`` (-1 = no gold).
        L_dev : LabelMatrix or array of int, optional
            The dev rows' votes; they choose the class balance and the search as in :meth:`fit`,
            and the degenerate-fit warnings are checked on them.

        Returns
        -------
        LabelModel
            self; ``fit_route_`` is "stats".

        Example
        -------
        >>> import numpy as np
        >>> from weak_supervision.label_stats import LabelStats
        >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 3)
        >>> stats = LabelStats.from_matrix(L[:6], cardinality=2) + LabelStats.from_matrix(
        ...     L[6:], cardinality=2)
        >>> a = LabelModel(2, n_epochs=50).fit_from_stats(stats).predict_proba(L)
        >>> b = LabelModel(2, n_epochs=50).fit(L).predict_proba(L)
        >>> bool(np.allclose(a, b, atol=1e-6))
        True
        """
        started = time.perf_counter()
        k = self._check_params()
        n, m = int(stats.n_rows), int(stats.n_lfs)
        if int(stats.cardinality) != k:
            raise ConfigError(f"the statistics are for {stats.cardinality} classes but the "
                              f"model has cardinality {k}")
        if m < 3:
            raise LabelcycleError(
                f"the Snorkel label model needs at least 3 LFs, got {m}; with fewer LFs use "
                "majority vote (MajorityVote; select_label_model falls back to it)"
            )
        if n == 0:
            raise DataError("the statistics count no rows; apply the LFs to some data first")
        if Y_dev is not None and L_dev is None:
            raise ConfigError("fit_from_stats needs the dev rows' votes as L_dev with Y_dev")
        d = m * k
        needed = d * d * 4 * 6 + d * k * 4 * 16
        if needed > float(self.max_memory_gb) * _GIB:
            raise LabelcycleError(
                f"the label model for {m} LFs x {k} classes needs about {needed / _GIB:.1f} GB, "
                f"over max_memory_gb={self.max_memory_gb}; raise max_memory_gb, merge classes "
                "or drop LFs (or use majority vote)")
        counts = stats.counts.toarray() if sp.issparse(stats.counts) else np.asarray(stats.counts)
        counts = counts.astype(np.float64)
        if counts.shape != (d, d):
            raise DataError(f"the co-vote counts have shape {counts.shape}, expected {(d, d)} "
                            f"for {m} LFs x {k} classes")
        stub = np.full((1, m), -1, dtype=np.int64)  # Snorkel's fit reads only L's shape here
        dev = _dev_split(stub, Y_dev, L_dev, k) if L_dev is not None else None
        self._resolve_balance(k, dev)  # validates class_balance
        # The statistics _compute_stats would give on the rows (n=1 matches the stub's shape).
        fit_stats = _Stats(1, m, k, np.diag(counts) / n,
                           overlap=torch.from_numpy(counts / n).float())
        del counts
        mu_eps = min(0.01, 1 / 10 ** np.ceil(np.log10(n)))  # Snorkel's default for n rows
        coverage = fit_stats.lps.reshape(m, k).sum(axis=1)  # share of rows each LF votes on

        def fit_one(balance: np.ndarray, params: dict[str, Any]) -> _SparseSnorkelLabelModel:
            model = _SparseSnorkelLabelModel(cardinality=k, verbose=bool(self.verbose))
            model._stats = fit_stats
            with _preserve_global_rng(), _fast_torch():
                try:
                    model.fit(stub, class_balance=[float(x) for x in balance],
                              progress_bar=bool(self.verbose), n_epochs=int(params["n_epochs"]),
                              lr=float(params["lr"]), l2=float(params["l2"]),
                              optimizer=str(params.get("optimizer", self.optimizer)),
                              seed=int(self.seed), mu_eps=mu_eps,
                              log_freq=max(1, int(params["n_epochs"]) // 10))
                except Exception as exc:  # Snorkel raises a bare Exception when the loss is NaN
                    if "NaN" in str(exc):
                        raise LabelcycleError(
                            f"label model training diverged (loss is NaN) with lr={params['lr']}; "
                            "lower lr or use majority vote") from exc
                    raise
            model.n, model.coverage = n, coverage
            return model

        tried, fits = self._search(  # the same search as fit
            self._candidates(dev), estimate_fit_seconds(0, m, k, dense=True),
            lambda cand: fit_one(self._prior(cand["class_balance"], k, dev), cand))
        chosen, results = self._choose(tried, fits, dev, k)
        self.model_ = fits[_fit_key(chosen)][0]
        self.best_params_ = dict(chosen)
        self.search_results_ = results
        self.class_balance_ = self._prior(chosen["class_balance"], k, dev)
        self.majority_weight_ = float(chosen["majority_weight"])
        self.n_lfs_ = m
        self.n_fit_rows_ = n
        self.memory_estimate_ = needed
        with np.errstate(divide="ignore", invalid="ignore"):
            accs = np.asarray(self.model_.get_weights(), dtype=np.float64)
        accs[np.asarray(self.model_.coverage) == 0] = np.nan  # Snorkel reports 1.0 for them
        self.lf_accuracies_ = accs
        self.fit_route_ = "stats"
        self.model_._stats = None
        if dev is not None:
            self._warn_if_degenerate(dev[0])
        self.fit_time_s_ = time.perf_counter() - started
        return self

    def _warn_if_degenerate(self, L: np.ndarray) -> None:
        """Warn when >= 99% of covered rows get one class, or the output is near uniform."""
        covered = (L != -1).any(axis=1)
        n_cov = int(covered.sum())
        if n_cov < _MIN_ROWS_FOR_WARNINGS:
            return
        probs = self._proba(L[covered])
        k = probs.shape[1]
        shares = np.bincount(np.argmax(probs, axis=1), minlength=k) / n_cov
        top = int(np.argmax(shares))
        if shares[top] >= _DOMINANT_SHARE:
            warnings.warn(
                f"the label model predicts class {top} for {shares[top]:.1%} of the {n_cov} "
                "covered rows; check the LF polarities and the class balance (ignore this if "
                "the data really is that imbalanced)",
                LabelModelWarning,
                stacklevel=3,
            )
        margin = float(np.mean((probs.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)))
        if margin < _UNIFORM_MARGIN:
            warnings.warn(
                f"the label model's probabilities are near uniform (mean margin {margin:.3f} "
                "over chance); the LFs may be too weak or conflicting, or lr/n_epochs too small",
                LabelModelWarning,
                stacklevel=3,
            )

    # -- prediction ---------------------------------------------------------------------------

    def _fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this LabelModel is not fitted yet; call fit(L) first")

    def predict_proba(self, L: MatrixLike) -> np.ndarray:
        """``rows x k`` probabilities; rows no LF covered get ``class_balance_``.

        With ``majority_weight_ = w > 0``: ``(1 - w)`` times Snorkel's posterior plus ``w``
        times the rows' vote shares.

        >>> import numpy as np
        >>> L = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1]] * 4)
        >>> LabelModel(2, n_epochs=50).fit(L).predict_proba(L).shape
        (12, 2)
        """
        self._fitted()
        arr = _check_L(L, int(self.cardinality), n_lfs=self.n_lfs_)
        return self._proba(arr)

    def _proba(self, arr: np.ndarray) -> np.ndarray:
        probs = self.model_.predict_proba(arr)
        w = float(getattr(self, "majority_weight_", 0.0))
        if w > 0:
            probs = (1.0 - w) * probs + w * _vote_shares(arr, int(self.cardinality),
                                                         self.class_balance_)
        return probs

    def predict(self, L: MatrixLike) -> np.ndarray:
        """Most probable class per row (lowest index on ties), -1 for rows no LF covered.

        >>> import numpy as np
        >>> L = np.array([[0, 0, 0], [1, 1, 1], [-1, -1, -1]] * 4)
        >>> LabelModel(2, n_epochs=50).fit(L).predict(L[:3]).tolist()
        [0, 1, -1]
        """
        self._fitted()
        arr = _check_L(L, int(self.cardinality), n_lfs=self.n_lfs_)
        return _hard(self._proba(arr), (arr != -1).any(axis=1))


# --------------------------------------------------------------------------------------------
# Choosing between them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelModelChoice:
    """Which label model :func:`select_label_model` picked, the dev scores, and why.

    Attributes
    ----------
    chosen : str
        "label_model" or "majority".
    model : LabelModel or MajorityVote
        The fitted chosen model.
    majority_scores, label_model_scores : Scores or None
        Dev scores of each model (None when not fitted or without dev labels).
    reason : str
        One sentence saying why.
    label_model : LabelModel or None
        The fitted label model, also when majority vote was chosen (None when it was not fitted).
    covered_scores : dict of str to Scores
        What the choice compared: the scores of "majority" and "label_model" on the dev rows
        some LF votes on (empty without dev labels); ``majority_scores`` and
        ``label_model_scores`` are on all dev rows, counting rows without votes as wrong.
    """

    chosen: str
    model: LabelModel | MajorityVote = field(repr=False)
    majority_scores: Scores | None
    label_model_scores: Scores | None
    reason: str
    label_model: LabelModel | None = field(default=None, repr=False)
    covered_scores: dict[str, Scores] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (scores, reason, the label model's search), not the model.

        >>> import numpy as np
        >>> select_label_model(np.array([[0, 1]]), cardinality=2).to_dict()["chosen"]
        'majority'
        """
        out: dict[str, Any] = {
            "chosen": self.chosen,
            "reason": self.reason,
            "majority_scores": self.majority_scores.to_dict() if self.majority_scores else None,
            "label_model_scores": (self.label_model_scores.to_dict()
                                   if self.label_model_scores else None),
        }
        if isinstance(self.model, LabelModel):
            out["best_params"] = dict(self.model.best_params_)
            out["search_results"] = [dict(r) for r in self.model.search_results_]
            out["search_skipped"] = int(self.model.search_skipped_)
            out["search_cost"] = float(self.model.search_cost_)
            out["n_fit_rows"] = self.model.n_fit_rows_
        if self.covered_scores:
            out["covered_scores"] = {k: v.to_dict() for k, v in self.covered_scores.items()}
        return out


_LABEL_MODEL_PARAMS = ("n_epochs", "lr", "l2", "optimizer", "class_balance", "majority_weight",
                       "search", "max_memory_gb", "search_budget", "time_budget_s", "verbose")


def select_label_model(
    L: MatrixLike,
    *,
    cardinality: int,
    Y_dev: Any = None,
    L_dev: MatrixLike | None = None,
    prefer: Literal["auto", "label_model", "majority"] = "auto",
    seed: int = 123,
    **label_model_params: Any,
) -> LabelModelChoice:
    """Fit majority vote and the Snorkel label model, and keep the better on the dev rows.

    Parameters
    ----------
    L : LabelMatrix or array of int
        Votes, -1 = abstain.
    cardinality : int
        Number of classes.
    Y_dev, L_dev :
        Dev labels, as in :meth:`LabelModel.fit`.
    prefer : {"auto", "label_model", "majority"}, default "auto"
        "auto": the label model, unless on the dev rows some LF votes on (rows without votes
        get no label from either) majority vote's macro-F1 is higher by more than one paired
        bootstrap standard error, or both predict the same on every such row (then majority
        vote, the simpler). A difference within dev noise is no evidence against the label
        model, whose search already compares against the vote shares. Without dev labels: the
        label model, or majority vote when it cannot be fitted (fewer than 3 LFs, memory,
        divergence). The other two force that model ("label_model" then raises if it cannot
        be fitted).
    seed : int, default 123
        Seed of the label model and of the dev bootstrap.
    **label_model_params :
        Other :class:`LabelModel` hyperparameters (``n_epochs``, ``lr``, ``l2``, ...).

    Returns
    -------
    LabelModelChoice

    Example
    -------
    >>> import numpy as np
    >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 3)
    >>> choice = select_label_model(L, cardinality=2, Y_dev=np.array([0, 1, 0, 1] * 3),
    ...                             n_epochs=50)
    >>> choice.chosen in ("label_model", "majority"), choice.majority_scores.accuracy
    (True, 1.0)
    """
    if prefer not in ("auto", "label_model", "majority"):
        raise ConfigError(f"prefer must be 'auto', 'label_model' or 'majority', got {prefer!r}")
    unknown = sorted(set(label_model_params) - set(_LABEL_MODEL_PARAMS))
    if unknown:
        raise ConfigError(f"unknown label model option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(_LABEL_MODEL_PARAMS)}")
    k = _check_cardinality(cardinality)
    arr = _check_L(L, k)
    dev = _dev_split(arr, Y_dev, L_dev, k)

    majority = MajorityVote(k).fit(arr)
    maj_scores = None
    if dev is not None:
        maj_scores = score(dev[1], majority.predict(dev[0]))
    if prefer == "majority":
        return LabelModelChoice("majority", majority, maj_scores, None,
                                "majority vote was requested (prefer='majority')")

    label_model = LabelModel(k, seed=seed, **label_model_params)
    try:
        label_model.fit(arr, Y_dev, L_dev=L_dev)
    except LabelcycleError as exc:
        if prefer == "label_model":
            raise
        return LabelModelChoice("majority", majority, maj_scores, None,
                                f"majority vote, because the label model cannot be fitted: {exc}")
    lm_scores = None
    covered: dict[str, Scores] = {}
    if dev is not None:
        lm_scores = score(dev[1], label_model.predict(dev[0]))
        covered["majority"] = _covered_scores(dev, majority.predict(dev[0]))
        covered["label_model"] = _covered_scores(dev, label_model.predict(dev[0]))
    extra: dict[str, Any] = {"label_model": label_model, "covered_scores": covered}
    if prefer == "label_model":
        return LabelModelChoice("label_model", label_model, maj_scores, lm_scores,
                                "the label model was requested (prefer='label_model')", **extra)
    if dev is None or maj_scores is None or lm_scores is None:
        return LabelModelChoice("label_model", label_model, None, None,
                                "no dev labels to compare on; the label model is the default",
                                **extra)
    verdict, prefer_majority = _majority_verdict(dev, majority.predict(dev[0]),
                                                 label_model.predict(dev[0]), k, seed=seed)
    lm_cov, maj_cov = covered["label_model"], covered["majority"]
    figures = (f"on the {lm_cov.n} dev rows some LF votes on: macro-F1 {lm_cov.macro_f1:.3f} "
               f"vs {maj_cov.macro_f1:.3f}, accuracy {lm_cov.accuracy:.3f} vs "
               f"{maj_cov.accuracy:.3f}")
    if prefer_majority:
        return LabelModelChoice("majority", majority, maj_scores, lm_scores,
                                f"{verdict} ({figures})", **extra)
    return LabelModelChoice("label_model", label_model, maj_scores, lm_scores,
                            f"{verdict} ({figures})", **extra)


def _majority_verdict(dev: tuple[np.ndarray, np.ndarray], majority_pred: np.ndarray,
                      label_model_pred: np.ndarray, k: int, *, seed: int) -> tuple[str, bool]:
    """Why, and whether, majority vote replaces the label model (see ``select_label_model``)."""
    covered = (dev[0] != -1).any(axis=1)
    if np.array_equal(majority_pred[covered], label_model_pred[covered]):
        return ("the label model and majority vote predict the same on every dev row some LF "
                "votes on; majority vote is simpler", True)
    if _clearly_better(dev, [label_model_pred, majority_pred], k, seed=seed)[0]:
        return ("majority vote scores better than the label model beyond dev noise (more "
                "than one bootstrap standard error of macro-F1)", True)
    if _key(_covered_scores(dev, label_model_pred)) >= _key(_covered_scores(dev, majority_pred)):
        return "the label model scores at least as well as majority vote", False
    return ("majority vote scores better, but within dev noise (one bootstrap standard error "
            "of macro-F1); keeping the label model", False)


def _key(s: Scores) -> tuple[float, float]:
    return (s.macro_f1, s.accuracy)
