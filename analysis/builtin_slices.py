"""The slices every report includes, and :class:`Slice`, a named row mask.

Classification: one slice per gold class and per predicted class, text-length bins, rows no LF
covered, rows where LFs conflict, low label-model confidence, label model and end model
disagreeing, and invalid answers when a chat model's predictions are present. PII: one slice per
entity type (rows where the type is in the gold or the predicted spans), document-length bins,
rows where no span was found, and low span confidence.

Masks cover every row (dev and pool); the report scores a slice on its dev rows and gives the
measures that need no gold (coverage, conflict, confidence) on its pool rows.

Example
-------
>>> import numpy as np, pandas as pd
>>> from analysis.cycle_data import cycle_data_from_frame
>>> f = pd.DataFrame({"id": ["a", "b"], "text": ["short", "a longer text"],
...                   "split": ["dev", "dev"], "gold": [0, 1], "end_model": [0, 0]})
>>> data = cycle_data_from_frame(f, ("neg", "pos"), L=np.array([[0], [-1]]), lf_names=("lf",))
>>> [s.name for s in builtin_slices(data)][:4]
['gold=neg', 'gold=pos', 'predicted=neg', 'predicted=pos']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.cycle_data import EXTERNAL, CycleData
from labelfns.errors import DataError

__all__ = ["Slice", "builtin_slices", "length_bins", "LOW_CONFIDENCE"]

LOW_CONFIDENCE = 0.6
"""Default confidence below which a row is in the ``low_confidence`` slice."""


@dataclass(frozen=True)
class Slice:
    """A named set of rows.

    Attributes
    ----------
    name : str
        Unique within a report (``gold=billing``, ``uncovered``, a slicing function's name).
    group : str
        What kind of slice: "gold class", "predicted class", "length", "labeling functions",
        "models", "chat model", "entity type" or "slicing function".
    description : str
        One sentence for readers.
    mask : numpy.ndarray of bool
        The rows in the slice, aligned with :attr:`CycleData.frame`.

    Example
    -------
    >>> Slice("all", "custom", "every row", np.array([True, False])).to_dict()
    {'name': 'all', 'group': 'custom', 'description': 'every row', 'n': 1}
    """

    name: str
    group: str
    description: str
    mask: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Name, group, description and the number of rows."""
        return {"name": self.name, "group": self.group, "description": self.description,
                "n": int(np.asarray(self.mask).sum())}


def length_bins(lengths: np.ndarray, *, n_bins: int = 3) -> list[tuple[str, str, np.ndarray]]:
    """Split rows into length bins at quantiles of ``lengths``: (name, description, mask).

    Bins with equal edges are merged, so constant lengths give a single bin.

    Example
    -------
    >>> for name, text, mask in length_bins(np.array([1, 5, 9]), n_bins=2):
    ...     print(name, text, mask.tolist())
    length:short at most 5 characters [True, True, False]
    length:long more than 5 characters [False, False, True]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if n_bins < 1:
        raise DataError(f"n_bins must be at least 1, got {n_bins}")
    if lengths.size == 0:
        return []
    qs = np.quantile(lengths, np.arange(1, n_bins) / n_bins, method="lower") if n_bins > 1 else []
    edges = sorted({int(q) for q in qs if int(q) < int(lengths.max())})
    names = {1: ["all"], 2: ["short", "long"], 3: ["short", "medium", "long"]}.get(
        len(edges) + 1, [f"q{i + 1}" for i in range(len(edges) + 1)])
    out = []
    lo = None
    for i, hi in enumerate([*edges, None]):
        if lo is None and hi is None:
            mask, text = np.ones(lengths.size, dtype=bool), "every row"
        elif lo is None:
            mask, text = lengths <= hi, f"at most {hi} characters"
        elif hi is None:
            mask, text = lengths > lo, f"more than {lo} characters"
        else:
            mask, text = (lengths > lo) & (lengths <= hi), f"{lo + 1}-{hi} characters"
        out.append((f"length:{names[i]}", text, mask))
        lo = hi
    return out


def builtin_slices(
    data: CycleData,
    *,
    model: str | None = None,
    n_length_bins: int = 3,
    low_confidence: float = LOW_CONFIDENCE,
) -> list[Slice]:
    """The built-in slices of a cycle's rows.

    Parameters
    ----------
    data : CycleData
        The cycle's rows.
    model : str, optional
        Whose predictions define the "predicted class" slices (default: ``external`` when
        present, else ``end_model``; PII ignores it).
    n_length_bins : int, default 3
        Text-length bins (at quantiles of all rows' lengths).
    low_confidence : float, default 0.6
        Rows whose label-model confidence (PII: lowest span confidence) is below this are in
        ``low_confidence``.

    Returns
    -------
    list of Slice
        In a fixed order; slices that need missing inputs (no LF votes, no chat predictions)
        are left out, empty slices are kept (the report says they are empty).

    Example
    -------
    >>> import pandas as pd
    >>> from analysis.cycle_data import cycle_data_from_frame
    >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
    ...                   "end_model": [0], "label_model": [1]})
    >>> [s.name for s in builtin_slices(cycle_data_from_frame(f, ("neg", "pos")))][-1]
    'models_disagree'
    """
    if data.task == "pii":
        return _pii_slices(data, n_length_bins=n_length_bins, low_confidence=low_confidence)
    frame = data.frame
    model = model or (EXTERNAL if EXTERNAL in data.models else "end_model")
    if model not in data.models:
        raise DataError(f"no predictions of model {model!r}; available: {', '.join(data.models)}")
    gold = frame["gold"].to_numpy()
    pred = frame[model].to_numpy()
    out: list[Slice] = []
    for c, label in enumerate(data.labels):
        out.append(Slice(f"gold={label}", "gold class", f"dev rows whose gold label is {label}",
                         gold == c))
    for c, label in enumerate(data.labels):
        out.append(Slice(f"predicted={label}", "predicted class",
                         f"rows the {model} predicts as {label}", pred == c))
    if (pred == -1).any():
        out.append(Slice("predicted=(none)", "predicted class",
                         f"rows where the {model} makes no prediction", pred == -1))
    for name, text, mask in length_bins(frame["length"].to_numpy(), n_bins=n_length_bins):
        out.append(Slice(name, "length", f"texts of {text}", mask))
    if data.lf_names:
        out.append(Slice("uncovered", "labeling functions", "rows no LF votes on",
                         ~frame["covered"].to_numpy()))
        out.append(Slice("conflict", "labeling functions",
                         "rows where LFs vote for different classes", frame["conflict"].to_numpy()))
    if "label_model_confidence" in frame.columns:
        conf = frame["label_model_confidence"].to_numpy(dtype=float)
        out.append(Slice("low_confidence", "labeling functions",
                         f"LF-covered rows whose label-model confidence is below {low_confidence:g}",
                         np.nan_to_num(conf, nan=np.inf) < low_confidence))
    if "label_model" in data.models and "end_model" in data.models:
        lm, em = frame["label_model"].to_numpy(), frame["end_model"].to_numpy()
        out.append(Slice("models_disagree", "models",
                         "rows where the label model and the end model predict different classes",
                         (lm >= 0) & (em >= 0) & (lm != em)))
    if EXTERNAL in data.models:
        present = frame[f"{EXTERNAL}_present"].to_numpy(dtype=bool)
        valid = frame[f"{EXTERNAL}_valid"].to_numpy(dtype=bool)
        out.append(Slice("invalid_answer", "chat model",
                         "rows where the chat model's answer maps to no class",
                         present & ~valid))
    return out


def _pii_slices(data: CycleData, *, n_length_bins: int, low_confidence: float) -> list[Slice]:
    frame = data.frame
    out: list[Slice] = []
    gold_types = frame["gold_types"].tolist()
    pred_types = frame["pred_types"].tolist()
    for label in data.labels:
        mask = np.array([label in g or label in p for g, p in zip(gold_types, pred_types,
                                                                  strict=True)], dtype=bool)
        out.append(Slice(f"entity={label}", "entity type",
                         f"rows with a {label} span in the gold or the predicted spans", mask))
    for name, text, mask in length_bins(frame["length"].to_numpy(), n_bins=n_length_bins):
        out.append(Slice(name, "length", f"documents of {text}", mask))
    out.append(Slice("no_spans_found", "labeling functions", "rows where no PII span was found",
                     ~frame["covered"].to_numpy()))
    conf = frame["confidence"].to_numpy(dtype=float)
    out.append(Slice("low_confidence", "labeling functions",
                     f"rows with a predicted span of confidence below {low_confidence:g}",
                     np.nan_to_num(conf, nan=np.inf) < low_confidence))
    return out
