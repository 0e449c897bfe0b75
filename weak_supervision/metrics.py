"""Scores of hard predictions against gold labels, and the Wilson interval.

Predictions of ``-1`` (no LF voted, or the model abstained) always count as wrong.

Example
-------
>>> s = score([0, 1, 1, 0], [0, 1, -1, 1])
>>> s.accuracy, s.coverage, s.n
(0.5, 0.75, 4)
>>> wilson_interval(8, 10)  # doctest: +ELLIPSIS
(0.490..., 0.943...)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from labelfns.errors import DataError

__all__ = ["Scores", "accuracy", "macro_f1", "score", "wilson_interval"]


def _check_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate gold labels and predictions: 1-d int arrays of equal, non-zero length."""
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise DataError(f"y_true has {t.size} rows but y_pred has {p.size}; they must align row by row")
    if t.size == 0:
        raise DataError("nothing to score: y_true is empty (are there any rows with gold labels?)")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
                continue
            raise DataError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    t = t.astype(np.int64)
    p = p.astype(np.int64)
    if t.min() < 0:
        raise DataError(
            f"y_true holds {int((t < 0).sum())} negative value(s); drop the rows without gold "
            "labels (-1) before scoring"
        )
    if p.min() < -1:
        raise DataError(f"y_pred holds class indices or -1 (abstain), found {int(p.min())}")
    return t, p


def accuracy(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray) -> float:
    """Fraction of rows whose prediction equals the gold label (``-1`` predictions are wrong).

    Parameters
    ----------
    y_true : array-like of int
        Gold class indices (no ``-1``).
    y_pred : array-like of int
        Predicted class indices, ``-1`` for abstain.

    Returns
    -------
    float

    Example
    -------
    >>> accuracy([0, 1, 1], [0, 1, -1])
    0.6666666666666666
    """
    t, p = _check_pair(y_true, y_pred)
    return float(np.mean(t == p))


def macro_f1(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    *,
    labels: Sequence[int] | None = None,
) -> float:
    """Unweighted mean of the per-class F1 scores.

    Parameters
    ----------
    y_true : array-like of int
        Gold class indices (no ``-1``).
    y_pred : array-like of int
        Predicted class indices, ``-1`` for abstain (counted as a miss of the true class).
    labels : sequence of int, optional
        Classes to average over; by default the classes present in ``y_true``. A class in
        ``labels`` with no gold row and no prediction scores 0.

    Returns
    -------
    float

    Example
    -------
    >>> macro_f1([0, 0, 1, 1], [0, -1, 1, 1])
    0.8333333333333333
    """
    t, p = _check_pair(y_true, y_pred)
    use = np.unique(t) if labels is None else np.asarray(list(labels), dtype=np.int64)
    if use.size == 0:
        raise DataError("macro_f1 needs at least one class in labels")
    return float(f1_score(t, p, labels=use, average="macro", zero_division=0))


def wilson_interval(successes: int, n: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``successes / n``.

    Parameters
    ----------
    successes : int
        Number of successes, ``0 <= successes <= n``.
    n : int
        Number of trials; ``n == 0`` gives the uninformative ``(0.0, 1.0)``.
    z : float, default 1.96
        Normal quantile (1.96 for a 95% interval).

    Returns
    -------
    (float, float)
        Lower and upper bound, within [0, 1].

    Example
    -------
    >>> tuple(round(b, 3) for b in wilson_interval(8, 10))
    (0.49, 0.943)
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # The interval always holds p; clamp rounding error (p = 1 gave 0.9999999999999999).
    return (max(0.0, min(p, center - half)), min(1.0, max(p, center + half)))


@dataclass(frozen=True)
class Scores:
    """Accuracy and macro-F1 of hard predictions on ``n`` gold rows.

    Attributes
    ----------
    accuracy : float
        Fraction of rows predicted correctly (abstains are wrong).
    macro_f1 : float
        Macro-F1 over the classes present in the gold labels.
    n : int
        Number of scored rows.
    coverage : float
        Fraction of rows with a prediction other than ``-1``.
    """

    accuracy: float
    macro_f1: float
    n: int
    coverage: float

    def to_dict(self) -> dict[str, Any]:
        """The scores as a JSON-ready dict.

        >>> Scores(1.0, 1.0, 2, 1.0).to_dict()["n"]
        2
        """
        return asdict(self)


def score(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray) -> Scores:
    """Accuracy, macro-F1 and coverage of ``y_pred`` against ``y_true``.

    Parameters
    ----------
    y_true : array-like of int
        Gold class indices (no ``-1``).
    y_pred : array-like of int
        Predicted class indices, ``-1`` for abstain.

    Returns
    -------
    Scores

    Example
    -------
    >>> score([0, 1], [0, 0]).macro_f1
    0.3333333333333333
    """
    t, p = _check_pair(y_true, y_pred)
    return Scores(
        accuracy=float(np.mean(t == p)),
        macro_f1=macro_f1(t, p),
        n=int(t.size),
        coverage=float(np.mean(p != -1)),
    )
