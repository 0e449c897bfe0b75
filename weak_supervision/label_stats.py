"""Sufficient statistics of a label matrix, accumulated per partition and merged.

Snorkel's label model (conditionally independent LFs) needs only how often each pair of
(LF, class) votes occurs together: the ``(LFs*classes)^2`` co-vote counts. They add up over
partitions, so a label model can be fitted on any number of rows with memory bounded by
``(LFs * classes)^2`` (stored sparse: only vote pairs that occur), never by rows.

Example
-------
>>> import numpy as np
>>> L = np.array([[0, 0, -1], [1, 1, 0], [-1, -1, -1], [0, 1, 1]])
>>> whole = LabelStats.from_matrix(L, cardinality=2)
>>> parts = LabelStats.from_matrix(L[:2], cardinality=2) + LabelStats.from_matrix(L[2:], cardinality=2)
>>> parts.n_rows, bool((parts.counts != whole.counts).nnz == 0), parts.coverage().tolist()
(4, True, [0.75, 0.75, 0.5])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.io import atomic_write
from weak_supervision.label_matrix import LabelMatrix, as_matrix

__all__ = ["LabelStats", "fit_label_model"]


@dataclass(frozen=True, eq=False)
class LabelStats:
    """Co-vote counts of ``n_rows`` rows; add two with ``+`` (or :meth:`merge`).

    Attributes
    ----------
    cardinality : int
        Number of classes ``k``.
    lf_names : tuple of str
        LF names, in column order (``m = len(lf_names)``).
    n_rows : int
        Rows counted.
    counts : scipy.sparse.csr_matrix of int64, shape (m*k, m*k)
        ``counts[j*k + c, i*k + e]``: rows on which LF ``j`` voted ``c`` and LF ``i`` voted
        ``e``; the diagonal holds how often each LF voted each class.
    n_covered : int
        Rows with at least one vote.
    n_conflict : int
        Rows on which LFs voted two or more different classes.
    """

    cardinality: int
    lf_names: tuple[str, ...]
    n_rows: int = 0
    counts: sp.csr_matrix = field(default=None, repr=False)  # type: ignore[assignment]
    n_covered: int = 0
    n_conflict: int = 0

    def __post_init__(self) -> None:
        d = self.n_lfs * int(self.cardinality)
        if self.counts is None:
            object.__setattr__(self, "counts", sp.csr_matrix((d, d), dtype=np.int64))
        elif self.counts.shape != (d, d):
            raise DataError(f"co-vote counts of shape {self.counts.shape} do not fit "
                            f"{self.n_lfs} LFs x {self.cardinality} classes")

    @property
    def n_lfs(self) -> int:
        """Number of LFs ``m``."""
        return len(self.lf_names)

    @classmethod
    def from_matrix(cls, L: LabelMatrix | np.ndarray, *, cardinality: int,
                    lf_names: Sequence[str] | None = None) -> LabelStats:
        """The statistics of one label matrix (a partition).

        >>> import numpy as np
        >>> s = LabelStats.from_matrix(np.array([[0, 1, -1]]), cardinality=2)
        >>> s.lf_names, s.n_conflict
        (('lf_0', 'lf_1', 'lf_2'), 1)
        """
        arr = as_matrix(L)
        n, m = arr.shape
        k = int(cardinality)
        if lf_names is None:
            lf_names = L.lf_names if isinstance(L, LabelMatrix) else [f"lf_{j}" for j in range(m)]
        names = tuple(lf_names)
        if len(names) != m:
            raise DataError(f"{len(names)} LF names for a label matrix with {m} columns")
        if arr.size and arr.max() >= k:
            j = int(np.flatnonzero(arr.max(axis=0) >= k)[0])
            raise DataError(f"LF {names[j]!r} votes class {int(arr[:, j].max())} but there are "
                            f"{k} classes")
        voted = arr >= 0
        cols = (arr + np.arange(m, dtype=np.int64) * k)[voted]
        rows = np.nonzero(voted)[0]
        X = sp.csr_matrix((np.ones(len(cols), dtype=np.int64), (rows, cols)), shape=(n, m * k))
        counts = (X.T @ X).tocsr()
        n_votes = voted.sum(axis=1)
        if arr.size:
            lo = np.where(voted, arr, k).min(axis=1)
            hi = arr.max(axis=1)
            conflict = int(((n_votes >= 2) & (lo != hi)).sum())
        else:
            conflict = 0
        return cls(k, names, int(n), counts, int((n_votes > 0).sum()), conflict)

    def merge(self, other: LabelStats) -> LabelStats:
        """The statistics of both sets of rows (same LFs and classes, in the same order).

        >>> import numpy as np
        >>> a = LabelStats.from_matrix(np.array([[0, 0, 0]]), cardinality=2)
        >>> a.merge(a).n_rows
        2
        """
        if other.lf_names != self.lf_names or other.cardinality != self.cardinality:
            diff = [n for n in dict.fromkeys(self.lf_names + other.lf_names)
                    if (n in self.lf_names) != (n in other.lf_names)]
            raise DataError(
                "cannot merge label statistics of different LFs or classes"
                + (f" (LFs only on one side: {', '.join(diff)})" if diff else
                   f" ({self.cardinality} vs {other.cardinality} classes, or another LF order)"))
        return LabelStats(self.cardinality, self.lf_names, self.n_rows + other.n_rows,
                          (self.counts + other.counts).tocsr(), self.n_covered + other.n_covered,
                          self.n_conflict + other.n_conflict)

    def __add__(self, other: LabelStats) -> LabelStats:
        return self.merge(other)

    @classmethod
    def combine(cls, parts: Iterable[LabelStats]) -> LabelStats:
        """Merge any number of partition statistics (at least one).

        >>> import numpy as np
        >>> s = LabelStats.from_matrix(np.array([[0, -1, 1]]), cardinality=2)
        >>> LabelStats.combine([s, s, s]).n_rows
        3
        """
        total: LabelStats | None = None
        for part in parts:
            total = part if total is None else total.merge(part)
        if total is None:
            raise DataError("no partition statistics to combine")
        return total

    def vote_counts(self) -> np.ndarray:
        """``LFs x classes``: how often each LF voted each class.

        >>> import numpy as np
        >>> LabelStats.from_matrix(np.array([[0, 1, 1]]), cardinality=2).vote_counts().tolist()
        [[1, 0], [0, 1], [0, 1]]
        """
        return np.asarray(self.counts.diagonal(), dtype=np.int64).reshape(self.n_lfs,
                                                                          self.cardinality)

    def coverage(self) -> np.ndarray:
        """Share of rows each LF votes on."""
        if self.n_rows == 0:
            return np.zeros(self.n_lfs)
        return self.vote_counts().sum(axis=1) / self.n_rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: rows, coverage, conflicts, votes per LF and class.

        >>> import numpy as np
        >>> LabelStats.from_matrix(np.array([[0, 1, -1]]), cardinality=2).to_dict()["conflict_rate"]
        1.0
        """
        n = max(self.n_rows, 1)
        return {
            "n_rows": self.n_rows,
            "n_lfs": self.n_lfs,
            "coverage": self.n_covered / n,
            "conflict_rate": self.n_conflict / n,
            "lf_coverage": dict(zip(self.lf_names, map(float, self.coverage()), strict=True)),
            "lf_votes": {name: row.tolist() for name, row in
                         zip(self.lf_names, self.vote_counts(), strict=True)},
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the statistics to an ``.npz`` file atomically; :meth:`load` reads it back.

        >>> import numpy as np, tempfile, os
        >>> s = LabelStats.from_matrix(np.array([[0, 1, 1]]), cardinality=2)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     LabelStats.load(s.save(os.path.join(d, "s.npz"))).n_conflict
        1
        """
        target = Path(path)
        c = self.counts.tocoo()
        with atomic_write(target, mode="wb") as fh:
            np.savez(fh, row=c.row, col=c.col, data=c.data,
                     meta=np.array([self.cardinality, self.n_rows, self.n_covered,
                                    self.n_conflict], dtype=np.int64),
                     names=np.array(self.lf_names, dtype=str))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabelStats:
        """Read a file written by :meth:`save`."""
        try:
            with np.load(path) as z:
                k, n, cov, conf = (int(v) for v in z["meta"])
                names = tuple(str(s) for s in z["names"])
                d = len(names) * k
                counts = sp.csr_matrix((z["data"], (z["row"], z["col"])), shape=(d, d))
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"cannot read label statistics from {path}: {exc}") from None
        return cls(k, names, n, counts, cov, conf)


def fit_label_model(
    stats: LabelStats,
    *,
    L_dev: LabelMatrix | np.ndarray | None = None,
    Y_dev: Any = None,
    prefer: Literal["auto", "label_model", "majority"] = "auto",
    seed: int = 123,
    **label_model_params: Any,
) -> Any:
    """:func:`~weak_supervision.label_model.select_label_model` from statistics instead of votes.

    Fits majority vote and :meth:`LabelModel.fit_from_stats`, and keeps the better on the dev
    rows by the same rule as ``select_label_model`` (its verdict helper is shared). The dev
    rows (``L_dev``, ``Y_dev``) are the only votes held in memory.

    Parameters
    ----------
    stats : LabelStats
        The merged statistics of all rows.
    L_dev, Y_dev : optional
        Votes and gold labels of the dev rows.
    prefer, seed, **label_model_params :
        As in ``select_label_model``.

    Returns
    -------
    LabelModelChoice

    Example
    -------
    >>> import numpy as np
    >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 3)
    >>> fit_label_model(LabelStats.from_matrix(L, cardinality=2), n_epochs=50).chosen
    'label_model'
    """
    from weak_supervision.label_model import (
        _LABEL_MODEL_PARAMS,
        LabelModel,
        LabelModelChoice,
        MajorityVote,
        _covered_scores,
        _majority_verdict,
    )
    from weak_supervision.metrics import score

    if prefer not in ("auto", "label_model", "majority"):
        raise ConfigError(f"prefer must be 'auto', 'label_model' or 'majority', got {prefer!r}")
    unknown = sorted(set(label_model_params) - set(_LABEL_MODEL_PARAMS))
    if unknown:
        raise ConfigError(f"unknown label model option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(_LABEL_MODEL_PARAMS)}")
    k, m = int(stats.cardinality), stats.n_lfs
    dev = None
    if Y_dev is not None and L_dev is not None:
        y = np.asarray(Y_dev, dtype=np.int64)
        Ld = as_matrix(L_dev)
        if len(y) != len(Ld):
            raise DataError(f"Y_dev has {len(y)} rows but L_dev has {len(Ld)}; they must align")
        keep = y >= 0
        if keep.any():
            dev = (Ld[keep], y[keep])
    majority = MajorityVote(k).fit(dev[0] if dev is not None else np.full((1, m), -1))
    maj_scores = score(dev[1], majority.predict(dev[0])) if dev is not None else None
    if prefer == "majority":
        return LabelModelChoice("majority", majority, maj_scores, None,
                                "majority vote was requested (prefer='majority')")
    label_model = LabelModel(k, seed=seed, **label_model_params)
    try:
        if dev is not None:
            label_model.fit_from_stats(stats, dev[1], L_dev=dev[0])
        else:
            label_model.fit_from_stats(stats)
    except LabelcycleError as exc:
        if prefer == "label_model":
            raise
        return LabelModelChoice("majority", majority, maj_scores, None,
                                f"majority vote, because the label model cannot be fitted: {exc}")
    if dev is None:
        reason = ("the label model was requested (prefer='label_model')" if prefer == "label_model"
                  else "no dev labels to compare on; the label model is the default")
        return LabelModelChoice("label_model", label_model, None, None, reason,
                                label_model=label_model)
    lm_scores = score(dev[1], label_model.predict(dev[0]))
    covered = {"majority": _covered_scores(dev, majority.predict(dev[0])),
               "label_model": _covered_scores(dev, label_model.predict(dev[0]))}
    extra: dict[str, Any] = {"label_model": label_model, "covered_scores": covered}
    if prefer == "label_model":
        return LabelModelChoice("label_model", label_model, maj_scores, lm_scores,
                                "the label model was requested (prefer='label_model')", **extra)
    verdict, prefer_majority = _majority_verdict(dev, majority.predict(dev[0]),
                                                 label_model.predict(dev[0]), k, seed=seed)
    lm_cov, maj_cov = covered["label_model"], covered["majority"]
    figures = (f"on the {lm_cov.n} dev rows some LF votes on: macro-F1 {lm_cov.macro_f1:.3f} "
               f"vs {maj_cov.macro_f1:.3f}, accuracy {lm_cov.accuracy:.3f} vs "
               f"{maj_cov.accuracy:.3f}")
    chosen = ("majority", majority) if prefer_majority else ("label_model", label_model)
    return LabelModelChoice(*chosen, maj_scores, lm_scores, f"{verdict} ({figures})", **extra)
