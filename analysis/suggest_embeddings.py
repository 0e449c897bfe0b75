"""Nearest-neighbour LF candidates for :func:`analysis.suggest.suggest_lfs` (embeddings extra).

For a class whose dev rows the model gets wrong, the candidate is an
:func:`labelfns.embeddings.embedding_lf` whose descriptions are that class's dev rows: it votes the
class on a row whose nearest one of them is at least ``min_similarity`` similar. A description
equal to the row's own text is skipped (as the LF does), so each dev row is judged by the other
dev rows and the dev precision is a fair estimate. The threshold is chosen on the dev rows, from
a fixed grid, for the best ranking score at the required precision.

One more candidate covers all classes at once (the dev-neighbour LF): it votes the class of the
nearest dev rows when that class beats the runner-up by a margin, also chosen on the dev rows.

Example
-------
>>> import numpy as np
>>> X = np.eye(4, dtype=np.float32)[[0, 0, 1, 1, 0]]        # rows 0, 1 and 4 point the same way
>>> cols = {"text": ["tea a", "tea b", "dog", "cat", "tea c"]}
>>> gold = np.array([0, 0, 1, 1, -1]); pred = np.array([1, 1, 1, 1, 1])
>>> dev = gold >= 0
>>> c = neighbour_candidates(cols, cols["text"], gold=gold, pred=pred, dev=dev,
...                          err=dev & (pred != gold), min_support=2, min_precision=0.6,
...                          embeddings=X)
>>> [(x.label, x.votes.tolist()) for x in c]  # all classes (-1), then class 0
[(-1, [True, True, True, True, True]), (0, [True, True, False, False, True])]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError
from labelfns.patterns import field_text

__all__ = ["THRESHOLDS", "MARGINS", "neighbour_candidates"]

THRESHOLDS: tuple[float, ...] = tuple(round(0.3 + 0.025 * i, 3) for i in range(27))
"""The similarity thresholds tried (0.30 to 0.95)."""

MARGINS: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(21))
"""The margins tried for the dev-neighbour LF (0 to 0.20)."""


def _field_texts(columns: dict[str, list[str]], texts: Any, field: str) -> list[str]:
    if field in columns:
        return columns[field]
    if isinstance(texts, pd.DataFrame):
        if field not in texts.columns:
            raise DataError(f"suggest_lfs: embedding_field {field!r} is not a column; columns: "
                            f"{', '.join(map(str, texts.columns))}")
        return [field_text(v) for v in texts[field].tolist()]
    return next(iter(columns.values()))


def neighbour_candidates(
    columns: dict[str, list[str]],
    texts: Any,
    *,
    gold: np.ndarray,
    pred: np.ndarray,
    dev: np.ndarray,
    err: np.ndarray,
    min_support: int,
    min_precision: float,
    embeddings: np.ndarray | None = None,
    field: str = "text",
    cache: str | None = None,
    thresholds: Sequence[float] = THRESHOLDS,
) -> list[Any]:
    """One neighbour candidate per class with dev errors, and one over all classes.

    The per-class candidates vote their class when the nearest dev row of that class is at least
    a threshold similar; the all-class candidate (label -1, the dev-neighbour LF) votes the class
    of the nearest dev rows when it beats the runner-up class by a margin (chosen on the dev
    rows). Returns ``analysis.suggest._Candidate`` objects (kind ``"embedding"``); ``extra``
    holds the descriptions and the threshold or margin.
    """
    from analysis.suggest import _Candidate

    values = _field_texts(columns, texts, field)
    n = len(values)
    if embeddings is None:
        from labelfns.embeddings import embed

        X = embed(values, cache_dir=cache)
    else:
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2 or X.shape[0] != n:
            raise DataError(f"suggest_lfs: embeddings has shape {X.shape}, expected ({n}, dim)")
    from analysis.suggest import expected_gain

    right = dev & (pred == gold)
    n_pool = max(1, int((~dev).sum()))
    n_dev = max(1, int(dev.sum()))
    accuracy = float(right.sum() / n_dev)
    out: list[Any] = []
    multi = _all_class_candidate(values, X, gold=gold, pred=pred, dev=dev, err=err, right=right,
                                 min_support=min_support, min_precision=min_precision,
                                 n_pool=n_pool, field=field)
    if multi is not None:
        out.append(multi)
    for c in sorted({int(gold[i]) for i in np.flatnonzero(err)}):
        rows = np.flatnonzero(dev & (gold == c))
        descs: list[str] = []
        reps: list[int] = []
        for i in rows.tolist():  # one description per distinct text
            if values[i] not in descs and values[i].strip():
                descs.append(values[i])
                reps.append(i)
        if len(descs) < 2:
            continue
        sims = X @ X[reps].T  # rows x descriptions
        position = {t: j for j, t in enumerate(descs)}
        for i, t in enumerate(values):
            j = position.get(t)
            if j is not None:
                sims[i, j] = -np.inf  # the LF skips a description equal to the row's text
        best = sims.max(axis=1)
        target = err & (gold == c)
        is_c = gold == c
        chosen: tuple[float, float] | None = None
        for t in thresholds:
            votes = best >= t
            support = int((votes & dev).sum())
            correct = int((votes & dev & is_c).sum())
            if support == 0 or correct < min_support or correct / support < min_precision:
                continue
            fixes = int((votes & target).sum())
            if fixes == 0 and correct < 2:
                continue
            breaks = int((votes & right & ~is_c).sum())
            score = expected_gain(fixes=fixes, breaks=breaks, correct=correct, support=support,
                                  pool_disagree=int((votes & ~dev & (pred != c)).sum()),
                                  accuracy=accuracy, n_dev=n_dev, n_pool=n_pool,
                                  pool_votes=int((votes & ~dev).sum()))
            if chosen is None or score > chosen[0] + 1e-9:
                chosen = (float(score), float(t))
        if chosen is None:
            continue
        t = chosen[1]
        out.append(_Candidate("embedding", c, (field,),
                              f"{len(descs)} dev rows of the class, similarity >= {t:.3f}",
                              best >= t, None, {"descriptions": descs, "threshold": t}))
    return out


def _all_class_candidate(values: list[str], X: np.ndarray, *, gold: np.ndarray,
                         pred: np.ndarray, dev: np.ndarray,
                         err: np.ndarray, right: np.ndarray, min_support: int,
                         min_precision: float, n_pool: int, field: str) -> Any:
    """The dev-neighbour candidate: nearest class among all dev rows, with a margin."""
    from analysis.suggest import _Candidate, expected_gain

    classes = sorted({int(g) for g in gold[dev]})
    if len(classes) < 2:
        return None
    by_class: dict[int, list[str]] = {}
    reps: dict[int, list[int]] = {}
    for i in np.flatnonzero(dev).tolist():
        c = int(gold[i])
        if values[i].strip() and values[i] not in by_class.setdefault(c, []):
            by_class[c].append(values[i])
            reps.setdefault(c, []).append(i)
    n = len(values)
    sims = np.full((n, len(classes)), -np.inf, dtype=np.float32)
    for k, c in enumerate(classes):
        if c not in reps:
            continue
        block = X @ X[reps[c]].T
        position = {t: j for j, t in enumerate(by_class[c])}
        for i, t in enumerate(values):
            j = position.get(t)
            if j is not None:
                block[i, j] = -np.inf
        sims[:, k] = block.max(axis=1)
    order = np.argsort(-sims, axis=1, kind="stable")
    s1 = sims[np.arange(n), order[:, 0]]
    s2 = sims[np.arange(n), order[:, 1]]
    cls = np.array(classes)[order[:, 0]]
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isfinite(s1), s1 - s2, -np.inf)
    best: tuple[float, float] | None = None
    for m in MARGINS:
        votes = np.isfinite(s1) & (gap >= m)
        hit = votes & (cls == gold)
        support = int((votes & dev).sum())
        correct = int((hit & dev).sum())
        if support == 0 or correct < min_support or correct / support < min_precision:
            continue
        fixes = int((hit & err).sum())
        if fixes == 0 and correct < 2:
            continue
        breaks = int((votes & right & (cls != gold)).sum())
        score = expected_gain(fixes=fixes, breaks=breaks, correct=correct, support=support,
                              pool_disagree=int((votes & ~dev & (pred != cls)).sum()),
                              accuracy=float(right.sum() / max(1, dev.sum())),
                              n_dev=int(dev.sum()), n_pool=n_pool,
                              pool_votes=int((votes & ~dev).sum()))
        if best is None or score > best[0] + 1e-9:
            best = (score, float(m))
    if best is None:
        return None
    m = best[1]
    votes = np.isfinite(s1) & (gap >= m)
    return _Candidate("embedding", -1, (field,),
                      f"nearest of {int(dev.sum())} dev rows, margin >= {m:.2f}", votes, None,
                      {"by_class": {c: by_class.get(c, []) for c in classes}, "margin": m},
                      classes=cls)
