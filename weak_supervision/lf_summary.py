"""Per-LF statistics of a label matrix: polarity, coverage, overlaps, conflicts, dev precision, flags.

Coverage, overlaps and conflicts follow Snorkel's ``LFAnalysis`` exactly (fractions of all rows):
an LF *overlaps* on a row where it and at least one other LF vote, and *conflicts* on a row where
it votes and two voting LFs disagree. With gold labels, ``precision`` is the share of an LF's
votes on gold rows that are right (Snorkel calls it "empirical accuracy"), with a 95% Wilson
interval.

Flags (a tuple of strings per LF):

- ``never_votes``: coverage 0.
- ``very_broad``: votes on more than ``broad_threshold`` (default 80%) of the rows; such an LF
  acts like a class prior rather than evidence about a row.
- ``below_chance``: with gold labels, the Wilson upper bound of its precision is below chance.
  Chance is the precision of voting the same class mix at random:
  ``sum_c share_of_its_gold_votes(c) * dev_prevalence(c)``, i.e. the dev prevalence of the
  voted class for a single-class LF (not ``1/k``: with imbalanced classes ``1/k`` is too lenient
  for the rare class and too strict for the common one).
- ``near_duplicate:<other>``: the two LFs vote the same class on at least ``duplicate_threshold``
  (default 95%) of the rows on which either votes (a Jaccard similarity of their votes).

Example
-------
>>> import numpy as np
>>> L = np.array([[0, 0, -1], [1, 1, -1], [0, 0, 1], [-1, -1, -1]])
>>> s = lf_summary(L, ["a", "b", "c"], labels=("neg", "pos"))
>>> s["a"].polarity, s["a"].coverage, s["c"].conflicts, s["a"].flags
(('neg', 'pos'), 0.75, 0.25, ('near_duplicate:b',))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError, LFError
from weak_supervision.label_matrix import LabelMatrix, as_matrix
from weak_supervision.metrics import wilson_interval

__all__ = ["LFStats", "LFSummary", "lf_summary"]

_CHUNK_ROWS = 1 << 16
_PAIR_BATCH = 256


@dataclass(frozen=True)
class LFStats:
    """Statistics of one LF (gold fields are None without gold labels).

    Attributes
    ----------
    name : str
    polarity : tuple of str
        Class names the LF voted, in class-index order.
    coverage, overlaps, conflicts : float
        Fractions of all rows (Snorkel's definitions).
    correct, incorrect : int or None
        Votes on gold rows that match / do not match the gold label.
    precision, precision_low, precision_high : float or None
        ``correct / (correct + incorrect)`` and its 95% Wilson interval (None with no gold votes).
    learned_accuracy : float or None
        The label model's learned accuracy of this LF, when given.
    flags : tuple of str
        See the module docstring.
    """

    name: str
    polarity: tuple[str, ...]
    coverage: float
    overlaps: float
    conflicts: float
    correct: int | None = None
    incorrect: int | None = None
    precision: float | None = None
    precision_low: float | None = None
    precision_high: float | None = None
    learned_accuracy: float | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The statistics as a JSON-ready dict.

        >>> LFStats("a", ("pos",), 0.5, 0.1, 0.0).to_dict()["polarity"]
        ['pos']
        """
        d = asdict(self)
        d["polarity"] = list(self.polarity)
        d["flags"] = list(self.flags)
        return d


@dataclass(frozen=True)
class LFSummary:
    """Per-LF statistics of a label matrix, in LF order.

    Attributes
    ----------
    lfs : tuple of LFStats
    n_rows : int
        Rows of the label matrix.
    n_gold : int
        Rows with a gold label (0 without gold).
    labels : tuple of str
        Class names by index.

    Example
    -------
    >>> import numpy as np
    >>> s = lf_summary(np.array([[0, -1], [0, 1]]), ["x", "y"])
    >>> [lf.name for lf in s], float(s.to_frame().loc["y", "coverage"])
    (['x', 'y'], 0.5)
    """

    lfs: tuple[LFStats, ...]
    n_rows: int
    n_gold: int
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lfs)

    def __iter__(self) -> Iterator[LFStats]:
        return iter(self.lfs)

    def __getitem__(self, name: str) -> LFStats:
        for lf in self.lfs:
            if lf.name == name:
                return lf
        raise KeyError(f"no LF named {name!r}; LFs: {', '.join(lf.name for lf in self.lfs)}")

    def flagged(self) -> tuple[LFStats, ...]:
        """The LFs with at least one flag.

        >>> import numpy as np
        >>> [lf.name for lf in lf_summary(np.array([[0, -1]]), ["x", "y"]).flagged()]
        ['x', 'y']
        """
        return tuple(lf for lf in self.lfs if lf.flags)

    def to_frame(self) -> pd.DataFrame:
        """One row per LF, indexed by name; gold columns only with gold labels, the learned
        accuracy only when given.

        >>> import numpy as np
        >>> lf_summary(np.array([[0, 1]]), ["x", "y"]).to_frame().columns.tolist()
        ['polarity', 'coverage', 'overlaps', 'conflicts', 'flags']
        """
        cols = ["polarity", "coverage", "overlaps", "conflicts"]
        if self.n_gold:
            cols += ["correct", "incorrect", "precision", "precision_low", "precision_high"]
        if any(lf.learned_accuracy is not None for lf in self.lfs):
            cols.append("learned_accuracy")
        cols.append("flags")
        records = [{c: getattr(lf, c) for c in cols} for lf in self.lfs]
        frame = pd.DataFrame.from_records(records, columns=cols)
        frame.index = pd.Index([lf.name for lf in self.lfs], name="lf")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: sizes, labels and one dict per LF.

        >>> import numpy as np
        >>> lf_summary(np.array([[0, 1]]), ["x", "y"]).to_dict()["lfs"][1]["coverage"]
        1.0
        """
        return {
            "n_rows": self.n_rows,
            "n_gold": self.n_gold,
            "labels": list(self.labels),
            "lfs": [lf.to_dict() for lf in self.lfs],
        }


def _check_gold(Y: Any, n: int, k: int) -> np.ndarray:
    y = np.asarray(Y)
    if y.ndim == 2 and 1 in y.shape:
        y = y.ravel()
    if y.ndim != 1 or y.size != n:
        raise DataError(f"Y has shape {y.shape}; expected one gold label per row ({n}), "
                        "-1 for rows without gold")
    if y.size and y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise DataError(f"Y must hold integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < -1 or y.max() >= max(k, 1)):
        bad = int(np.flatnonzero((y < -1) | (y >= max(k, 1)))[0])
        raise DataError(f"Y row {bad} holds {int(y[bad])}; expected a class index in "
                        f"0..{k - 1} or -1 (no gold)")
    return y


def _near_duplicates(
    L: np.ndarray, cover: np.ndarray, covote: np.ndarray, threshold: float, *,
    strategy: str = "auto",
) -> list[tuple[int, int]]:
    """Pairs of LFs voting the same class on >= threshold of the rows either votes on.

    Candidates are the pairs whose voted rows alone have a Jaccard similarity >= threshold;
    their same-class counts come from per-class BLAS products ("blas", when there are few
    classes and many pairs) or from comparing the two columns ("pairs").
    """
    union = cover[:, None] + cover[None, :] - covote
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, covote / union, 0.0)
    cand_i, cand_j = np.nonzero(np.triu(jaccard >= threshold, k=1))
    keep = (cover[cand_i] > 0) & (cover[cand_j] > 0)
    cand_i, cand_j = cand_i[keep], cand_j[keep]
    if cand_i.size == 0:
        return []
    same = np.zeros(cand_i.size, dtype=np.int64)
    involved = np.union1d(cand_i, cand_j)
    k = int(L.max()) + 1
    if strategy == "auto":
        strategy = "blas" if k * involved.size ** 2 < 20 * cand_i.size else "pairs"
    if strategy == "blas":
        # Few classes, many candidate pairs: per class, a BLAS product of vote indicators.
        pos = np.searchsorted(involved, np.arange(L.shape[1]))
        agree = np.zeros((involved.size, involved.size), dtype=np.float64)
        for start in range(0, L.shape[0], _CHUNK_ROWS):
            block = L[start:start + _CHUNK_ROWS][:, involved]
            for c in range(k):
                ind = (block == c).astype(np.float32)
                agree += ind.T @ ind
        same[:] = np.rint(agree[pos[cand_i], pos[cand_j]]).astype(np.int64)
    else:
        rows = max(1024, (1 << 22) // min(cand_i.size, _PAIR_BATCH))
        for start in range(0, L.shape[0], rows):
            block = L[start:start + rows]
            for b in range(0, cand_i.size, _PAIR_BATCH):
                a = block[:, cand_i[b:b + _PAIR_BATCH]]
                c = block[:, cand_j[b:b + _PAIR_BATCH]]
                same[b:b + _PAIR_BATCH] += np.count_nonzero((a == c) & (a >= 0), axis=0)
    sim = same / union[cand_i, cand_j]
    hit = sim >= threshold
    return list(zip(cand_i[hit].tolist(), cand_j[hit].tolist(), strict=True))


def lf_summary(
    L: LabelMatrix | np.ndarray,
    lf_names: Sequence[str] | None = None,
    *,
    Y: Any = None,
    labels: Sequence[str] = (),
    learned_accuracy: Sequence[float] | np.ndarray | None = None,
    duplicate_threshold: float = 0.95,
    broad_threshold: float = 0.8,
) -> LFSummary:
    """Summarise every LF of a label matrix (vectorised; chunked over rows).

    Parameters
    ----------
    L : LabelMatrix or array of int, shape (rows, LFs)
        Votes, -1 = abstain.
    lf_names : sequence of str, optional
        One name per column; defaults to ``L.lf_names`` for a LabelMatrix.
    Y : array of int, optional
        Gold labels aligned with the rows of ``L``, -1 for rows without gold.
    labels : sequence of str
        Class names by index; defaults to ``L.labels``, else "0", "1", ...
    learned_accuracy : array of float, optional
        A label model's learned accuracy per LF (``LabelModel.lf_accuracies_``).
    duplicate_threshold : float, default 0.95
        Vote similarity at which two LFs are flagged ``near_duplicate``.
    broad_threshold : float, default 0.8
        Coverage above which an LF is flagged ``very_broad``.

    Returns
    -------
    LFSummary

    Example
    -------
    >>> import numpy as np
    >>> L = np.array([[0, 1, -1], [0, 1, 1], [1, -1, 1], [0, 1, -1]])
    >>> s = lf_summary(L, ["a", "b", "c"], Y=np.array([0, 0, 1, -1]))
    >>> s["b"].correct, s["b"].incorrect, s["b"].precision
    (0, 2, 0.0)
    """
    arr = as_matrix(L)
    n, m = arr.shape
    if lf_names is None:
        if not isinstance(L, LabelMatrix):
            raise DataError("lf_names are required for a plain array label matrix")
        lf_names = L.lf_names
    names = [str(x) for x in lf_names]
    if len(names) != m:
        raise DataError(f"{len(names)} LF names given for {m} label matrix columns")
    if not labels and isinstance(L, LabelMatrix):
        labels = L.labels
    y = None
    if labels:
        k = len(labels)
    else:
        k = int(arr.max()) + 1 if arr.size else 0
        if Y is not None:
            y_raw = np.asarray(Y).ravel()
            if y_raw.size and y_raw.dtype.kind in "iuf":
                k = max(k, int(np.max(y_raw)) + 1)
    class_names = tuple(str(x) for x in labels) or tuple(str(i) for i in range(k))
    if arr.size:
        col_max = arr.max(axis=0)
        bad = np.flatnonzero(col_max >= k)
        if bad.size:
            j = int(bad[0])
            raise LFError(f"votes class index {int(col_max[j])} but there are only {k} labels",
                          lf=names[j], hint=f"labels: {', '.join(class_names)}")
    if Y is not None:
        y = _check_gold(Y, n, k)
    if learned_accuracy is not None:
        learned = np.asarray(learned_accuracy, dtype=np.float64).ravel()
        if learned.size != m:
            raise DataError(f"learned_accuracy has {learned.size} values for {m} LFs")
    kk = max(k, 1)

    cover = np.zeros(m, dtype=np.int64)
    overlap = np.zeros(m, dtype=np.int64)
    conflict = np.zeros(m, dtype=np.int64)
    class_votes = np.zeros(m * kk, dtype=np.int64)
    covote = np.zeros((m, m), dtype=np.float64)
    offsets = np.arange(m, dtype=np.int64) * kk
    if y is not None:
        gold_correct = np.zeros(m, dtype=np.int64)
        gold_class_votes = np.zeros(m * kk, dtype=np.int64)
        gold_counts = np.bincount(y[y >= 0], minlength=kk)
    for start in range(0, n, _CHUNK_ROWS):
        block = arr[start:start + _CHUNK_ROWS]
        voted = block >= 0
        n_votes = voted.sum(axis=1)
        overlapped = n_votes > 1
        row_max = block.max(axis=1)
        row_min = np.where(voted, block, np.iinfo(np.int64).max).min(axis=1)
        conflicted = overlapped & (row_min != row_max)
        cover += voted.sum(axis=0)
        overlap += voted[overlapped].sum(axis=0)
        conflict += voted[conflicted].sum(axis=0)
        class_votes += np.bincount((block + offsets)[voted], minlength=m * kk)
        vf = voted.astype(np.float32)
        covote += vf.T @ vf
        if y is not None:
            yb = y[start:start + _CHUNK_ROWS]
            g = yb >= 0
            lg = block[g]
            vg = lg >= 0
            gold_correct += np.count_nonzero(lg == yb[g][:, None], axis=0)
            gold_class_votes += np.bincount((lg + offsets)[vg], minlength=m * kk)

    denom = max(n, 1)
    class_votes = class_votes.reshape(m, kk)
    flags: list[list[str]] = [[] for _ in range(m)]
    for j in range(m):
        if cover[j] == 0:
            flags[j].append("never_votes")
        elif cover[j] / denom > broad_threshold:
            flags[j].append("very_broad")
    if y is not None:
        gold_class_votes = gold_class_votes.reshape(m, kk)
        gold_votes = gold_class_votes.sum(axis=1)
        n_gold = int(gold_counts.sum())
        prevalence = gold_counts / max(n_gold, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            chance = np.where(gold_votes > 0,
                              (gold_class_votes @ prevalence) / np.maximum(gold_votes, 1), 0.0)
    else:
        n_gold = 0
    duplicate_pairs = _near_duplicates(arr, cover.astype(np.float64), covote, duplicate_threshold)
    for i, j in duplicate_pairs:
        flags[i].append(f"near_duplicate:{names[j]}")
        flags[j].append(f"near_duplicate:{names[i]}")

    rows: list[LFStats] = []
    for j in range(m):
        extra: dict[str, Any] = {}
        if y is not None:
            correct = int(gold_correct[j])
            votes = int(gold_votes[j])
            extra["correct"] = correct
            extra["incorrect"] = votes - correct
            if votes:
                low, high = wilson_interval(correct, votes)
                extra["precision"] = correct / votes
                extra["precision_low"], extra["precision_high"] = low, high
                if high < chance[j]:
                    flags[j].append("below_chance")
        if learned_accuracy is not None:
            extra["learned_accuracy"] = float(learned[j])
        rows.append(LFStats(
            name=names[j],
            polarity=tuple(class_names[c] for c in np.flatnonzero(class_votes[j])),
            coverage=float(cover[j] / denom),
            overlaps=float(overlap[j] / denom),
            conflicts=float(conflict[j] / denom),
            flags=tuple(flags[j]),
            **extra,
        ))
    return LFSummary(lfs=tuple(rows), n_rows=int(n), n_gold=n_gold, labels=class_names)
