"""Slice reports: where the model is wrong, ranked by how much fixing it would gain.

For every slice (built-in, see :mod:`analysis.builtin_slices`, and the user's slicing functions)
the report gives, on the slice's dev rows: size, share of all errors, accuracy and macro-F1 (span
F1 for PII), the gap to the overall figure with a bootstrap 95% interval, LF coverage and conflict
rate, the LFs that fire most there and their precision, and a few example rows (PII redacted by
default); on its pool rows, the measures that need no gold (coverage, conflict, confidence).

Ranking: by **expected gain**, the share of all dev units (rows; PII: span decisions ``tp + fp +
fn``) that would become right if the slice's error rate fell to the overall one, with the slice's
error rate shrunk toward the overall rate by ``prior_units`` pseudo-units (default 10)::

    gain = max(0, E_s - n_s * E / N) * n_s / (n_s + prior_units) / N

with ``E_s`` errors among the slice's ``n_s`` units and ``E`` errors among all ``N`` units. For
classification and ``prior_units = 0`` this is ``(n_s / N) * max(0, -gap)`` in accuracy points.
A tiny slice can gain little (at most its own errors) and its noisy error rate is discounted: a
one-row slice that is wrong gains ``(1 - accuracy) / (11 N)``. Ties: error share, then size,
then name.

Intervals: the dev rows are resampled with replacement ``n_boot`` times (the same resamples for
every slice, from ``seed``); the interval is the 2.5th and 97.5th percentile of
``slice metric - overall metric``. Slices with fewer than 2 dev rows get no interval.

Example
-------
>>> import pandas as pd
>>> from analysis.cycle_data import cycle_data_from_frame
>>> f = pd.DataFrame({"id": list("abcd"), "text": ["a", "bb", "ccc", "dddd"],
...                   "split": ["dev"] * 4, "gold": [0, 0, 1, 1], "end_model": [0, 0, 0, 1]})
>>> report = slice_report(cycle_data_from_frame(f, ("neg", "pos")), n_boot=200)
>>> report.slices[0].name, report.overall["accuracy"]
('gold=pos', 0.75)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.builtin_slices import LOW_CONFIDENCE, Slice, builtin_slices
from analysis.cycle_data import EXTERNAL, CycleData, load_cycle_data
from analysis.slicing import (
    SlicingFunctionError,
    apply_slices,
    project_slicing_functions,
)
from labelfns.errors import DataError, LabelcycleError
from labelfns.pii import PII_DETECTORS, detect_all
from weak_supervision.metrics import macro_f1
from weak_supervision.project import Project
from weak_supervision.redaction import Redactor
from weak_supervision.span_metrics import score_spans

__all__ = ["LFStat", "SliceStats", "SliceReport", "slice_report", "build_report",
           "report_history", "redact_example", "find_slice"]

_NONE = "(none)"
_CHUNK = 100  # bootstrap resamples drawn at a time (bounds memory on large dev sets)


@dataclass(frozen=True)
class LFStat:
    """How one LF behaves in a slice: rows it votes on, and how often it is right there.

    Attributes
    ----------
    lf : str
    fires : int
        Slice rows (dev rows; pool rows for slices without dev rows) the LF votes on.
    share : float
        ``fires`` over the slice's rows.
    precision : float or None
        Share of its votes that match the gold label (None without dev rows).
    """

    lf: str
    fires: int
    share: float
    precision: float | None


@dataclass(frozen=True)
class SliceStats:
    """One slice's figures (see the module docstring for the definitions).

    Attributes
    ----------
    name, group, description : str
    rank : int
        1 = the slice to work on first.
    n_dev, n_pool : int
        The slice's dev rows (scored) and pool rows (unlabelled).
    n_errors : int
        Wrong dev rows (PII: missed plus spurious spans).
    error_share : float or None
        ``n_errors`` over all dev errors (None when there is none).
    accuracy, macro_f1, span_f1 : float or None
        On the slice's dev rows (``span_f1`` for PII only).
    metric : str
        The metric of ``value`` and ``gap``: "accuracy" or "span_f1".
    value, gap, gap_low, gap_high : float or None
        The slice's metric, its difference to the overall one and the bootstrap 95% interval.
    interval_note : str or None
        Why there is no interval.
    coverage, conflict_rate : float or None
        Dev rows of the slice with an LF vote (PII: a span found), with conflicting LF votes.
    pool_coverage, pool_conflict_rate, pool_confidence : float or None
        The same, and the model's mean confidence, on the slice's pool rows.
    expected_gain : float or None
        Share of all dev units fixed if the slice's error rate fell to the overall one.
    top_lfs : tuple of LFStat
    examples : tuple of dict
        A few rows (wrong ones first), their text redacted unless asked otherwise.
    note : str or None
        "empty slice", "no dev rows", ...
    """

    name: str
    group: str
    description: str
    rank: int
    n_dev: int
    n_pool: int
    n_errors: int
    error_share: float | None
    accuracy: float | None
    macro_f1: float | None
    span_f1: float | None
    metric: str
    value: float | None
    gap: float | None
    gap_low: float | None
    gap_high: float | None
    interval_note: str | None
    coverage: float | None
    conflict_rate: float | None
    pool_coverage: float | None
    pool_conflict_rate: float | None
    pool_confidence: float | None
    expected_gain: float | None
    top_lfs: tuple[LFStat, ...] = ()
    examples: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (LFs and examples as lists of dicts)."""
        out = asdict(self)
        out["top_lfs"] = [asdict(s) for s in self.top_lfs]
        out["examples"] = [dict(e) for e in self.examples]
        return out


_FRAME_COLUMNS = ("rank", "name", "group", "n_dev", "n_pool", "n_errors", "error_share",
                  "accuracy", "macro_f1", "span_f1", "gap", "gap_low", "gap_high",
                  "expected_gain", "coverage", "conflict_rate", "pool_coverage",
                  "pool_conflict_rate", "pool_confidence", "top_lfs", "note")


@dataclass(frozen=True)
class SliceReport:
    """A cycle's slices, ranked, with the figures the renderings show.

    Attributes
    ----------
    project, task, model, metric : str
        ``model`` is whose predictions are scored; ``metric`` is "accuracy" or "span_f1".
    labels : tuple of str
    run_id, label_run_id : str or None
        The cycle (or PII) run analysed.
    overall : dict
        The whole dev set's and pool's figures (same keys as a slice's).
    slices : tuple of SliceStats
        Ranked, best opportunity first.
    confusions : tuple of dict
        The most frequent (gold, predicted, count, share) mistakes on the dev set.
    class_coverage : tuple of dict
        Per class (PII: per entity type): gold rows, LF coverage, votes, predictions.
    history : tuple of dict
        Figures of the project's earlier cycles, oldest first.
    n_boot, seed : int
        The bootstrap settings (same seed, same report).
    redacted : bool
        Whether example texts were redacted.
    notes : tuple of str
        What the reader should know (no dev rows, slices without interval, ...).
    """

    project: str
    task: str
    model: str
    metric: str
    labels: tuple[str, ...]
    run_id: str | None
    label_run_id: str | None
    overall: dict[str, Any]
    slices: tuple[SliceStats, ...]
    confusions: tuple[dict[str, Any], ...] = ()
    class_coverage: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    n_boot: int = 1000
    seed: int = 0
    redacted: bool = True
    notes: tuple[str, ...] = ()

    def get(self, name: str) -> SliceStats:
        """The slice called ``name``; KeyError lists the names.

        >>> import pandas as pd
        >>> from analysis.cycle_data import cycle_data_from_frame
        >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
        ...                   "end_model": [0]})
        >>> slice_report(cycle_data_from_frame(f, ("neg",)), n_boot=0).get("gold=neg").n_dev
        1
        """
        for s in self.slices:
            if s.name == name:
                return s
        raise KeyError(f"no slice {name!r}; slices: {', '.join(s.name for s in self.slices)}")

    def top(self, k: int = 5) -> tuple[SliceStats, ...]:
        """The ``k`` best-ranked slices with a positive expected gain."""
        return tuple(s for s in self.slices if s.expected_gain)[:max(0, int(k))]

    def to_frame(self) -> pd.DataFrame:
        """One row per slice, in rank order, indexed by name (examples left out)."""
        rows = []
        for s in self.slices:
            d = s.to_dict()
            d["top_lfs"] = ", ".join(
                f"{t.lf} ({'-' if t.precision is None else f'{t.precision:.2f}'})"
                for t in s.top_lfs)
            rows.append({k: d[k] for k in _FRAME_COLUMNS})
        return pd.DataFrame(rows, columns=list(_FRAME_COLUMNS)).set_index("name")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, overall figures, ranked slices, confusions, coverage, history."""
        return {
            "project": self.project, "task": self.task, "model": self.model,
            "metric": self.metric, "labels": list(self.labels), "run_id": self.run_id,
            "label_run_id": self.label_run_id, "n_boot": self.n_boot, "seed": self.seed,
            "redacted": self.redacted, "overall": dict(self.overall),
            "slices": [s.to_dict() for s in self.slices],
            "confusions": [dict(c) for c in self.confusions],
            "class_coverage": [dict(c) for c in self.class_coverage],
            "history": [dict(h) for h in self.history], "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _mean(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None


def _f1(tp: float, fp: float, fn: float) -> float | None:
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else None


_REDACTOR = Redactor(mode="placeholder")


def redact_example(text: str, spans: Iterable[Any] = ()) -> str:
    """Hide PII in an example text: the built-in regex detectors' spans plus ``spans``.

    Uses :data:`labelfns.pii.PII_DETECTORS` (regexes and validators, no spaCy), so names of
    people are only hidden when ``spans`` holds them (PII projects pass their gold and predicted
    spans).

    Example
    -------
    >>> redact_example("Mail ann@example.com today")
    'Mail [EMAIL_1] today'
    """
    found = [s for spans_ in detect_all(text, PII_DETECTORS).values() for s in spans_]
    try:
        return _REDACTOR.redact(text, [*found, *spans]).text
    except LabelcycleError:
        return "[text withheld: it could not be redacted]"


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "\u2026"


# ----------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------


def _all_slices(data: CycleData, slices: Sequence[Slice] | None, slicing_functions: Sequence[Any],
                *, model: str, n_length_bins: int, low_confidence: float) -> list[Slice]:
    out = list(slices) if slices is not None else builtin_slices(
        data, model=model if data.task != "pii" else None, n_length_bins=n_length_bins,
        low_confidence=low_confidence)
    if slicing_functions:
        rows = data.data if data.data is not None else data.frame[["id", "text"]]
        masks = apply_slices(slicing_functions, rows, ids=data.frame["id"].tolist())
        for sf in slicing_functions:
            doc = (getattr(getattr(sf, "_f", None), "__doc__", None) or "").strip()
            out.append(Slice(sf.name, "slicing function",
                             doc.splitlines()[0] if doc else f"rows where {sf.name} is true",
                             masks[sf.name].to_numpy(dtype=bool)))
    names: dict[str, int] = {}
    for i, s in enumerate(out):
        if s.name in names:
            raise SlicingFunctionError(
                f"the name is used by slices number {names[s.name] + 1} and {i + 1}", sf=s.name,
                hint="give the slicing function another name (built-in slices: "
                     "gold=..., predicted=..., length:..., uncovered, conflict, ...)")
        names[s.name] = i
        if np.asarray(s.mask).shape != (len(data.frame),):
            raise DataError(f"slice {s.name!r} has {np.asarray(s.mask).size} mask values for "
                            f"{len(data.frame)} rows")
    return out


def _units(data: CycleData, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per dev row: (errors, units, columns for the metric) — see the module docstring."""
    dev = data.frame[data.dev_mask]
    if data.task == "pii":
        counts = dev[["tp", "fp", "fn"]].to_numpy(dtype=float)
        return counts[:, 1] + counts[:, 2], counts.sum(axis=1), counts
    correct = (dev["gold"].to_numpy() == dev[model].to_numpy()).astype(float)
    return 1.0 - correct, np.ones(len(dev)), correct[:, None]


def _metric(stat: np.ndarray, task: str) -> np.ndarray:
    """Metric from summed columns; ``stat`` has shape (..., columns), sums over rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if task == "pii":
            tp, fp, fn = stat[..., 0], stat[..., 1], stat[..., 2]
            denom = 2 * tp + fp + fn
            return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
        return stat[..., 0] / stat[..., 1]


def _bootstrap(cols: np.ndarray, member: np.ndarray, task: str, *, n_boot: int, seed: int
               ) -> np.ndarray:
    """Bootstrap gaps, shape (n_boot, n_slices); NaN where a resample holds no slice row."""
    n, n_slices = member.shape
    rng = np.random.default_rng(seed)
    if task != "pii":
        cols = np.column_stack([cols[:, 0], np.ones(n)])  # (correct, 1): accuracy = sum / count
    out = np.empty((n_boot, n_slices))
    probs = np.full(n, 1.0 / n)
    weighted = member[:, :, None] * cols[:, None, :]  # (n, slices, columns)
    flat = weighted.reshape(n, -1)
    for start in range(0, n_boot, _CHUNK):
        size = min(_CHUNK, n_boot - start)
        W = rng.multinomial(n, probs, size=size).astype(float)  # (size, n)
        overall = _metric(W @ cols, task)  # (size,)
        per_slice = _metric((W @ flat).reshape(size, n_slices, cols.shape[1]), task)
        if task != "pii":
            per_slice = np.where((W @ member) > 0, per_slice, np.nan)
        out[start:start + size] = per_slice - overall[:, None]
    return out


def _lf_stats(data: CycleData, rows: np.ndarray, *, scored: bool, k: int) -> tuple[LFStat, ...]:
    if not data.lf_names or not rows.any() or k <= 0:
        return ()
    L = data.L[rows]
    fires = (L != -1).sum(axis=0)
    gold = data.frame["gold"].to_numpy()[rows]
    right = (L == gold[:, None]).sum(axis=0)
    order = sorted((j for j in range(L.shape[1]) if fires[j]),
                   key=lambda j: (-int(fires[j]), data.lf_names[j]))[:k]
    return tuple(LFStat(data.lf_names[j], int(fires[j]), float(fires[j] / len(L)),
                        float(right[j] / fires[j]) if scored else None) for j in order)


def _label(labels: Sequence[str], c: int) -> str:
    return labels[c] if 0 <= c < len(labels) else _NONE


def _examples(data: CycleData, mask: np.ndarray, *, model: str, k: int, redact: bool,
              max_chars: int) -> tuple[dict[str, Any], ...]:
    if k <= 0:
        return ()
    f = data.frame
    dev = data.dev_mask & mask
    if data.task == "pii":
        wrong = dev & ((f["fp"] + f["fn"]).to_numpy() > 0)
        idx = np.flatnonzero(wrong)
        idx = idx[np.argsort(-(f["fp"] + f["fn"]).to_numpy()[idx], kind="stable")][:k]
        if not idx.size and not dev.any():
            idx = np.flatnonzero(mask)[:k]
        out = []
        for i in idx:
            spans = [*(data.gold_spans[i] or ()), *data.pred_spans[i]] if data.gold_spans else []
            text = str(f["text"].iat[i])
            out.append({"id": str(f["id"].iat[i]),
                        "text": _clip(redact_example(text, spans) if redact else text, max_chars),
                        "n_gold": int(f["n_gold"].iat[i]), "n_pred": int(f["n_pred"].iat[i]),
                        "missed": int(f["fn"].iat[i]), "spurious": int(f["fp"].iat[i])})
        return tuple(out)
    conf_col = f"{model}_confidence"
    conf = f[conf_col].to_numpy(dtype=float) if conf_col in f.columns else np.zeros(len(f))
    gold, pred = f["gold"].to_numpy(), f[model].to_numpy()
    wrong = np.flatnonzero(dev & (gold != pred))
    if wrong.size:  # confidently wrong first
        idx = wrong[np.argsort(-np.nan_to_num(conf[wrong], nan=0.0), kind="stable")][:k]
    else:  # no error to show: the least confident rows (pool rows when there is no dev row)
        cand = np.flatnonzero(dev if dev.any() else mask)
        idx = cand[np.argsort(np.nan_to_num(conf[cand], nan=0.0), kind="stable")][:k]
    out = []
    for i in idx:
        text = str(f["text"].iat[i])
        row: dict[str, Any] = {
            "id": str(f["id"].iat[i]),
            "text": _clip(redact_example(text) if redact else text, max_chars),
            "gold": _label(data.labels, int(gold[i])) if gold[i] >= 0 else None,
            "predicted": _label(data.labels, int(pred[i])),
            "confidence": None if math.isnan(conf[i]) or conf_col not in f.columns
            else round(float(conf[i]), 4),
            "correct": bool(gold[i] == pred[i]) if gold[i] >= 0 else None,
        }
        if model == EXTERNAL and f"{EXTERNAL}_answer" in f.columns:
            answer = f[f"{EXTERNAL}_answer"].iat[i]
            row["answer"] = None if answer is None else _clip(
                redact_example(str(answer)) if redact else str(answer), max_chars)
        out.append(row)
    return tuple(out)


def _pool_figures(data: CycleData, rows: np.ndarray, model: str) -> dict[str, float | None]:
    f = data.frame
    if not rows.any():
        return {"pool_coverage": None, "pool_conflict_rate": None, "pool_confidence": None}
    conf_col = "confidence" if data.task == "pii" else f"{model}_confidence"
    return {
        "pool_coverage": float(f["covered"].to_numpy()[rows].mean()),
        "pool_conflict_rate": float(f["conflict"].to_numpy()[rows].mean())
        if data.task != "pii" else None,
        "pool_confidence": _mean(f[conf_col].to_numpy(dtype=float)[rows])
        if conf_col in f.columns else None,
    }


def _scores(data: CycleData, rows: np.ndarray, model: str) -> dict[str, Any]:
    """accuracy / macro_f1 / span_f1 and the metric value on the given dev rows."""
    f = data.frame
    if not rows.any():
        return {"accuracy": None, "macro_f1": None, "span_f1": None, "value": None}
    if data.task == "pii":
        tp, fp, fn = (float(f[c].to_numpy()[rows].sum()) for c in ("tp", "fp", "fn"))
        value = _f1(tp, fp, fn)
        return {"accuracy": None, "macro_f1": None, "span_f1": value, "value": value}
    gold, pred = f["gold"].to_numpy()[rows], f[model].to_numpy()[rows]
    acc = float(np.mean(gold == pred))
    return {"accuracy": acc, "macro_f1": macro_f1(gold, pred), "span_f1": None, "value": acc}


def _confusions(data: CycleData, model: str, k: int = 10) -> tuple[dict[str, Any], ...]:
    dev = data.dev_mask
    pairs: dict[tuple[str, str], int] = {}
    if data.task == "pii":
        for i in np.flatnonzero(dev):
            for a, b in _span_pairs(data.gold_spans[i] or (), data.pred_spans[i]):
                pairs[(a, b)] = pairs.get((a, b), 0) + 1
    else:
        gold = data.frame["gold"].to_numpy()[dev]
        pred = data.frame[model].to_numpy()[dev]
        for a, b in zip(gold[gold != pred].tolist(), pred[gold != pred].tolist(), strict=True):
            key = (_label(data.labels, a), _label(data.labels, b))
            pairs[key] = pairs.get(key, 0) + 1
    total = sum(pairs.values())
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:k]
    return tuple({"gold": a, "predicted": b, "count": n, "share": n / total}
                 for (a, b), n in ranked)


def _span_pairs(gold: Sequence[Any], pred: Sequence[Any]) -> list[tuple[str, str]]:
    """Span mistakes as (gold type or "(none)", predicted type or "(missed)")."""
    out = []
    used: set[int] = set()
    for g in gold:
        best = None
        for j, p in enumerate(pred):
            if j not in used and p.start < g.end and g.start < p.end:
                if (p.start, p.end, p.label) == (g.start, g.end, g.label):
                    best = j
                    break
                best = j if best is None else best
        if best is None:
            out.append((g.label, "(missed)"))
            continue
        used.add(best)
        p = pred[best]
        if (p.start, p.end, p.label) != (g.start, g.end, g.label):
            out.append((g.label, p.label if p.label != g.label else f"{p.label} (boundary)"))
    out.extend((_NONE, p.label) for j, p in enumerate(pred) if j not in used)
    return out


def _class_coverage(data: CycleData, model: str) -> tuple[dict[str, Any], ...]:
    f = data.frame
    dev, pool = data.dev_mask, ~data.dev_mask
    if data.task == "pii":
        idx = np.flatnonzero(dev)
        if not idx.size:
            return ()
        scores = score_spans([data.gold_spans[i] or [] for i in idx],
                             [data.pred_spans[i] for i in idx], labels=list(data.labels))
        pool_pred = [t for i in np.flatnonzero(pool) for t in f["pred_types"].iat[i]]
        return tuple({"label": t.label, "gold": t.tp + t.fn, "predicted": t.tp + t.fp,
                      "recall": t.recall if t.tp + t.fn else None,
                      "precision": t.precision if t.tp + t.fp else None,
                      "pool_rows_predicted": pool_pred.count(t.label)}
                     for t in getattr(scores, data.span_match).per_type)
    gold, pred = f["gold"].to_numpy(), f[model].to_numpy()
    covered = f["covered"].to_numpy()
    out = []
    for c, label in enumerate(data.labels):
        rows = dev & (gold == c)
        votes_for = (data.L == c).any(axis=1) if data.L.size else np.zeros(len(f), dtype=bool)
        n = int(rows.sum())
        out.append({
            "label": label, "dev_rows": n,
            "dev_coverage": float(covered[rows].mean()) if n and data.lf_names else None,
            "dev_voted_right": float(votes_for[rows].mean()) if n and data.lf_names else None,
            "rows_with_votes": int(votes_for.sum()),
            "pool_predicted": float((pred[pool] == c).mean()) if pool.any() else None,
        })
    return tuple(out)


def slice_report(
    data: CycleData,
    *,
    slices: Sequence[Slice] | None = None,
    slicing_functions: Sequence[Any] = (),
    model: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    n_examples: int = 3,
    redact: bool = True,
    n_top_lfs: int = 3,
    n_length_bins: int = 3,
    low_confidence: float = LOW_CONFIDENCE,
    max_chars: int = 240,
    prior_units: float = 10.0,
    history: Sequence[dict[str, Any]] = (),
) -> SliceReport:
    """Score every slice of a cycle and rank the slices by expected gain.

    Parameters
    ----------
    data : CycleData
        From :func:`~analysis.cycle_data.load_cycle_data`.
    slices : sequence of Slice, optional
        The slices (default: :func:`~analysis.builtin_slices.builtin_slices`).
    slicing_functions : sequence of SlicingFunction
        Applied to ``data.data`` and added as slices.
    model : str, optional
        Whose predictions to score: "end_model", "label_model", "majority" or "external"
        (default: "external" when present, else "end_model"; PII: the run's spans).
    n_boot : int, default 1000
        Bootstrap resamples for the gap intervals (0: no intervals).
    seed : int, default 0
        Seed of the resamples: the same seed gives the same report.
    n_examples : int, default 3
        Example rows per slice (wrong ones first).
    redact : bool, default True
        Redact PII in example texts (:func:`redact_example`).
    n_top_lfs, n_length_bins, low_confidence, max_chars :
        LFs listed per slice; length bins; the low-confidence threshold; example length.
    prior_units : float, default 10
        Pseudo-units at the overall error rate added to each slice when ranking (see the
        module docstring); 0 ranks by raw excess errors.
    history : sequence of dict
        Earlier cycles' figures to carry into the report (see :func:`report_history`).

    Returns
    -------
    SliceReport

    Raises
    ------
    DataError
        Unknown model, or a slice mask of the wrong length.
    SlicingFunctionError
        A slicing function raised (the error names it and the row) or reuses a slice name.

    Example
    -------
    >>> import pandas as pd
    >>> from analysis.cycle_data import cycle_data_from_frame
    >>> f = pd.DataFrame({"id": list("abc"), "text": ["a", "b", "c"], "split": ["dev"] * 3,
    ...                   "gold": [0, 1, 1], "end_model": [0, 1, 0]})
    >>> r = slice_report(cycle_data_from_frame(f, ("neg", "pos")), n_boot=100)
    >>> r.get("gold=pos").n_errors, round(r.get("gold=pos").gap, 3)
    (1, -0.167)
    """
    if n_boot < 0:
        raise DataError(f"n_boot must be >= 0, got {n_boot}")
    if prior_units < 0:
        raise DataError(f"prior_units must be >= 0, got {prior_units}")
    if data.task == "pii":
        model, metric = "spans", "span_f1"
    else:
        model = model or (EXTERNAL if EXTERNAL in data.models else "end_model")
        metric = "accuracy"
        if model not in data.models:
            raise DataError(f"no predictions of model {model!r} in this cycle; available: "
                            f"{', '.join(data.models)}")
    all_slices = _all_slices(data, slices, slicing_functions, model=model,
                             n_length_bins=n_length_bins, low_confidence=low_confidence)
    f = data.frame
    dev, pool = data.dev_mask, ~data.dev_mask
    errors, units, cols = _units(data, model)
    total_errors, total_units = float(errors.sum()), float(units.sum())
    overall_scores = _scores(data, dev, model)
    notes: list[str] = []
    if not dev.any():
        notes.append("no dev rows with gold labels: only coverage, conflict and confidence are "
                     "reported, and slices are not ranked")
    member = np.column_stack([np.asarray(s.mask, dtype=bool)[dev] for s in all_slices]) \
        if all_slices else np.zeros((int(dev.sum()), 0), dtype=bool)
    boot = (_bootstrap(cols, member.astype(float), data.task, n_boot=n_boot, seed=seed)
            if n_boot and dev.sum() >= 2 and all_slices else None)
    stats = []
    for j, s in enumerate(all_slices):
        mask = np.asarray(s.mask, dtype=bool)
        rows_dev, rows_pool = mask & dev, mask & pool
        n_dev, n_pool = int(rows_dev.sum()), int(rows_pool.sum())
        in_dev = member[:, j]
        n_err = float(errors[in_dev].sum())
        sc = _scores(data, rows_dev, model)
        gap = None if sc["value"] is None or overall_scores["value"] is None \
            else sc["value"] - overall_scores["value"]
        low = high = None
        interval_note = None
        if n_dev < 2:
            interval_note = "fewer than 2 dev rows: no interval"
        elif gap is None:
            interval_note = "no spans in gold or predictions: no figure"
        elif boot is None:
            interval_note = "no bootstrap (n_boot = 0)"
        else:
            col = boot[:, j]
            col = col[~np.isnan(col)]
            if col.size >= 2:
                low, high = (float(v) for v in np.percentile(col, [2.5, 97.5]))
            else:
                interval_note = "too few resamples hold the slice: no interval"
        gain = None
        if total_units and units[in_dev].sum() and dev.any():
            rate = total_errors / total_units
            n_units = float(units[in_dev].sum())
            gain = max(0.0, n_err - n_units * rate) * n_units / (n_units + prior_units) \
                / total_units
        note = None
        if not mask.any():
            note = "empty slice: no row"
        elif not n_dev:
            note = "no dev rows: pool measures only"
        elif n_dev < 10:
            note = f"only {n_dev} dev row{'' if n_dev == 1 else 's'}: figures are noisy"
        stats.append(dict(
            name=s.name, group=s.group, description=s.description, n_dev=n_dev, n_pool=n_pool,
            n_errors=int(n_err), error_share=n_err / total_errors if total_errors else None,
            accuracy=sc["accuracy"], macro_f1=sc["macro_f1"], span_f1=sc["span_f1"],
            metric=metric, value=sc["value"], gap=gap, gap_low=low, gap_high=high,
            interval_note=interval_note,
            coverage=float(f["covered"].to_numpy()[rows_dev].mean()) if n_dev else None,
            conflict_rate=float(f["conflict"].to_numpy()[rows_dev].mean())
            if n_dev and data.task != "pii" else None,
            **_pool_figures(data, rows_pool, model), expected_gain=gain,
            top_lfs=_lf_stats(data, rows_dev if n_dev else rows_pool, scored=bool(n_dev),
                              k=n_top_lfs),
            examples=_examples(data, mask, model=model, k=n_examples, redact=redact,
                               max_chars=max_chars),
            note=note))
    stats.sort(key=lambda d: (d["expected_gain"] is None, -(d["expected_gain"] or 0.0),
                              -(d["error_share"] or 0.0), -d["n_dev"], d["name"]))
    ranked = tuple(SliceStats(rank=i + 1, **d) for i, d in enumerate(stats))
    empty = [s.name for s in ranked if s.note == "empty slice: no row"]
    if empty:
        notes.append(f"{len(empty)} empty slice(s): {', '.join(empty)}")
    no_interval = [s.name for s in ranked if s.n_dev == 1]
    if no_interval:
        notes.append(f"{len(no_interval)} slice(s) with one dev row, shown without interval: "
                     f"{', '.join(no_interval)}")
    n_dev_all = int(dev.sum())
    overall = {
        "n_dev": n_dev_all, "n_pool": int(pool.sum()), "n_errors": int(total_errors),
        **{k: overall_scores[k] for k in ("accuracy", "macro_f1", "span_f1")},
        "value": overall_scores["value"],
        "coverage": float(f["covered"].to_numpy()[dev].mean()) if n_dev_all else None,
        "conflict_rate": float(f["conflict"].to_numpy()[dev].mean())
        if n_dev_all and data.task != "pii" else None,
        **_pool_figures(data, pool, model),
    }
    if data.task == "pii" and n_dev_all:
        tp, fp, fn = (int(f[c].to_numpy()[dev].sum()) for c in ("tp", "fp", "fn"))
        overall.update(tp=tp, fp=fp, fn=fn, span_match=data.span_match)
    return SliceReport(
        project=data.project, task=data.task, model=model, metric=metric, labels=data.labels,
        run_id=data.run_id, label_run_id=data.label_run_id, overall=overall, slices=ranked,
        confusions=_confusions(data, model) if n_dev_all else (),
        class_coverage=_class_coverage(data, model), history=tuple(dict(h) for h in history),
        n_boot=int(n_boot), seed=int(seed), redacted=bool(redact), notes=tuple(notes))


# ----------------------------------------------------------------------------------------------
# from a project
# ----------------------------------------------------------------------------------------------


def report_history(project: Project) -> list[dict[str, Any]]:
    """The project's successful cycles (PII: PII runs), oldest first, as plain dicts.

    Classification rows are :func:`weak_supervision.cycle.history`'s; PII rows hold
    ``run_id``, ``started_at``, ``n_lfs``, ``rows_with_pii`` and ``span_f1`` (exact, micro).

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> report_history(load_project(init_project(tempfile.mkdtemp())))
    []
    """
    from weak_supervision.pipeline import registry_for

    if project.config.project.task != "pii":
        from weak_supervision.cycle import history

        return [h.to_dict() for h in history(project)]
    runs = [r for r in registry_for(project).list_runs("pii") if r.status == "ok"][::-1]
    return [{"run_id": r.id, "started_at": r.started_at, "n_lfs": r.figures.get("n_lfs"),
             "rows_with_pii": r.figures.get("rows_with_pii"),
             "span_f1": (r.figures.get("exact_micro") or {}).get("f1")} for r in runs]


def build_report(
    project: Project,
    *,
    run_id: str | None = None,
    slice_modules: Sequence[str | os.PathLike[str]] = (),
    predictions: str | os.PathLike[str] | pd.DataFrame | None = None,
    model: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    n_examples: int = 3,
    redact: bool = True,
    span_match: str = "exact",
    include_history: bool = True,
) -> SliceReport:
    """The slice report of a project's cycle: what ``labelcycle slices`` shows.

    Parameters
    ----------
    project : Project
        The loaded project.
    run_id : str, optional
        The cycle (PII: pii) run; default the latest successful one.
    slice_modules : sequence of path-like or str
        Modules with slicing functions (paths relative to the project folder), used beside
        those found in the project's LF modules.
    predictions : path-like or DataFrame, optional
        Another model's predictions to score instead of the end model's
        (:func:`~analysis.cycle_data.read_predictions`).
    model, n_boot, seed, n_examples, redact :
        See :func:`slice_report`.
    span_match : {"exact", "overlap"}
        PII span matching.
    include_history : bool, default True
        Add the figures of the project's earlier cycles.

    Returns
    -------
    SliceReport

    Example
    -------
    After ``run_cycle(project)``, ``build_report(project).top(3)`` are the slices to work on
    first. Before any cycle:

    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> build_report(load_project(init_project(tempfile.mkdtemp())))
    Traceback (most recent call last):
    labelfns.errors.DataError: project ... has no successful 'cycle' run yet; run `labelcycle cycle` first
    """
    data = load_cycle_data(project, run_id, predictions=predictions, span_match=span_match)
    sfs = project_slicing_functions(project, slice_modules)
    return slice_report(data, slicing_functions=sfs, model=model, n_boot=n_boot, seed=seed,
                        n_examples=n_examples, redact=redact,
                        history=report_history(project) if include_history else ())


def find_slice(
    project: Project,
    name: str,
    *,
    run_id: str | None = None,
    slice_modules: Sequence[str | os.PathLike[str]] = (),
    model: str | None = None,
) -> Slice:
    """The slice called ``name`` (built-in or a slicing function) over a cycle's rows.

    Its mask is aligned with the project's rows, as ``labelcycle suggest --slice NAME`` needs.

    Raises
    ------
    DataError
        No slice has that name; the message lists the names there are.

    Example
    -------
    After ``run_cycle(project)``: ``find_slice(project, "uncovered").mask.sum()`` rows no LF voted on.
    """
    data = load_cycle_data(project, run_id)
    chosen = model or ("end_model" if data.task != "pii" else None)
    found = _all_slices(data, None, project_slicing_functions(project, slice_modules),
                        model=chosen or "end_model", n_length_bins=3,
                        low_confidence=LOW_CONFIDENCE)
    for s in found:
        if s.name == name:
            return s
    raise DataError(f"no slice is called {name!r}; slices of this cycle: "
                    f"{', '.join(s.name for s in found)}")
