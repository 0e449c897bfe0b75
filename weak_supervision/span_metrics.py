"""Span-level evaluation: precision, recall, F1 and F2 per type and overall (micro), with exact or
overlap matching.

- **exact**: a predicted span is correct when a gold span has the same start, end and label.
- **overlap**: a predicted span is correct when it shares at least one character with a gold span
  of the same label. Matching is one-to-one (each gold and each predicted span is used once; the
  pairs with the largest overlap are matched first), so two predicted halves of one gold span
  give one true positive and one false positive.

F2 weighs recall twice as much as precision (``5PR / (4P + R)``): for redaction a missed span
leaks, an extra one only hides a word. Types with no gold and no predicted span are left out.

Gold files are JSON Lines ``{"id", "text", "spans": [{"start", "end", "label"}]}``; prediction
files are what ``labelcycle pii scan`` writes, ``{"id", "spans": [...]}`` (a ``text`` is optional).
Documents are matched by id (compared as strings).

Example
-------
>>> gold = [[(0, 3, "PERSON"), (10, 15, "EMAIL")]]
>>> pred = [[(0, 3, "PERSON"), (9, 15, "EMAIL")]]
>>> s = score_spans(gold, pred)
>>> s.exact.micro.f1, s.overlap.micro.f1
(0.5, 1.0)
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from labelfns.errors import DataError
from labelfns.spans import Span

__all__ = ["TypeScores", "MatchScores", "SpanScores", "score_spans", "read_spans_jsonl",
           "evaluate_files"]

MICRO = "ALL"
"""The row name of the overall (micro-averaged) scores."""


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _fbeta(p: float, r: float, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r) if (p + r) else 0.0


@dataclass(frozen=True)
class TypeScores:
    """Counts and scores of one type (or of all types, micro-averaged).

    Examples
    --------
    >>> TypeScores.of("EMAIL", tp=3, fp=1, fn=0).precision
    0.75
    """

    label: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    f2: float

    @classmethod
    def of(cls, label: str, *, tp: int, fp: int, fn: int) -> TypeScores:
        """Scores from counts (0.0 where undefined)."""
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return cls(label, tp, fp, fn, p, r, _fbeta(p, r, 1.0), _fbeta(p, r, 2.0))

    @property
    def support(self) -> int:
        """The number of gold spans."""
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        """Counts, scores (4 digits) and support."""
        d = asdict(self)
        for k in ("precision", "recall", "f1", "f2"):
            d[k] = round(d[k], 4)
        d["support"] = self.support
        return d


@dataclass(frozen=True)
class MatchScores:
    """Per-type and micro scores under one matching mode.

    Examples
    --------
    >>> m = score_spans([[(0, 2, "PERSON")]], [[]]).exact
    >>> m.micro.recall, m["PERSON"].fn
    (0.0, 1)
    """

    mode: str
    per_type: tuple[TypeScores, ...]
    micro: TypeScores

    def __getitem__(self, label: str) -> TypeScores:
        if label == MICRO:
            return self.micro
        for row in self.per_type:
            if row.label == label:
                return row
        raise KeyError(f"no scores for {label!r}; types: {', '.join(r.label for r in self.per_type)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per type plus ``ALL`` (micro), indexed by label."""
        rows = [r.to_dict() for r in (*self.per_type, self.micro)]
        return pd.DataFrame(rows).set_index("label")

    def to_dict(self) -> dict[str, Any]:
        """``{"micro": {...}, "per_type": {label: {...}}}``."""
        return {"micro": self.micro.to_dict(),
                "per_type": {r.label: r.to_dict() for r in self.per_type}}


@dataclass(frozen=True)
class SpanScores:
    """Exact and overlap scores of predicted spans against gold spans.

    Examples
    --------
    >>> s = score_spans([[(0, 4, "PHONE")]], [[(0, 4, "PHONE")]])
    >>> float(s.to_frame().loc[("exact", "PHONE"), "f1"])
    1.0
    """

    exact: MatchScores
    overlap: MatchScores
    n_docs: int

    def to_frame(self) -> pd.DataFrame:
        """Both modes in one table, indexed by (match, label)."""
        return pd.concat({"exact": self.exact.to_frame(), "overlap": self.overlap.to_frame()},
                         names=["match", "label"])

    def to_dict(self) -> dict[str, Any]:
        """``{"n_docs", "exact": {...}, "overlap": {...}}``."""
        return {"n_docs": self.n_docs, "exact": self.exact.to_dict(),
                "overlap": self.overlap.to_dict()}


def _as_spans(doc: Iterable[Any], where: str) -> list[Span]:
    out = []
    for item in doc:
        if isinstance(item, Span):
            out.append(item)
        elif isinstance(item, Mapping):
            try:
                out.append(Span(int(item["start"]), int(item["end"]), str(item["label"])))
            except (KeyError, TypeError, ValueError):
                raise DataError(f"{where}: {dict(item)!r:.80} is not a span "
                                '{"start", "end", "label"}') from None
        elif hasattr(item, "start") and hasattr(item, "end") and hasattr(item, "label"):
            out.append(Span(int(item.start), int(item.end), str(item.label)))
        elif isinstance(item, (tuple, list)) and len(item) >= 3:
            out.append(Span(int(item[0]), int(item[1]), str(item[2])))
        else:
            raise DataError(f"{where}: {item!r:.80} is not a span")
    return out


def _overlap_matches(gold: list[Span], pred: list[Span]) -> int:
    """One-to-one matches of same-label overlapping spans, largest overlaps first."""
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if g.label == p.label and p.start < g.end and g.start < p.end:
                pairs.append((min(g.end, p.end) - max(g.start, p.start), gi, pi))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, gi, pi in pairs:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
    return len(used_g)


def score_spans(gold: Sequence[Iterable[Any]], pred: Sequence[Iterable[Any]], *,
                labels: Sequence[str] | None = None) -> SpanScores:
    """Score predicted spans against gold spans, document by document.

    Parameters
    ----------
    gold, pred : sequence of (iterable of span)
        One list of spans per document, aligned. A span is a :class:`~labelfns.spans.Span`, a
        ``{"start", "end", "label"}`` dict, an object with those attributes, or a tuple.
    labels : sequence of str, optional
        The types to report (default: every type seen in gold or predictions). Spans of other
        types are ignored.

    Returns
    -------
    SpanScores

    Examples
    --------
    >>> s = score_spans([[(0, 5, "EMAIL")], []], [[(0, 5, "EMAIL")], [(1, 2, "PERSON")]])
    >>> s.exact["EMAIL"].f1, s.exact["PERSON"].fp, round(s.exact.micro.precision, 2)
    (1.0, 1, 0.5)
    """
    if len(gold) != len(pred):
        raise DataError(f"gold has {len(gold)} documents but the predictions have {len(pred)}")
    keep = set(labels) if labels is not None else None
    counts: dict[str, dict[str, list[int]]] = {"exact": {}, "overlap": {}}
    seen: list[str] = []
    for i, (g_doc, p_doc) in enumerate(zip(gold, pred, strict=True)):
        g = _as_spans(g_doc, f"gold document {i}")
        p = _as_spans(p_doc, f"predicted document {i}")
        if keep is not None:
            g = [s for s in g if s.label in keep]
            p = [s for s in p if s.label in keep]
        for s in (*g, *p):
            if s.label not in seen:
                seen.append(s.label)
        for label in {s.label for s in (*g, *p)}:
            gl = [s for s in g if s.label == label]
            pl = [s for s in p if s.label == label]
            exact_tp = len({(s.start, s.end) for s in gl} & {(s.start, s.end) for s in pl})
            over_tp = _overlap_matches(gl, pl)
            for mode, tp in (("exact", exact_tp), ("overlap", over_tp)):
                c = counts[mode].setdefault(label, [0, 0, 0])
                c[0] += tp
                c[1] += len(pl) - tp
                c[2] += len(gl) - tp
    order = list(labels) if labels is not None else sorted(seen)
    modes = {}
    for mode in ("exact", "overlap"):
        rows = tuple(TypeScores.of(label, tp=c[0], fp=c[1], fn=c[2])
                     for label in order if (c := counts[mode].get(label)) is not None)
        micro = TypeScores.of(MICRO, tp=sum(r.tp for r in rows), fp=sum(r.fp for r in rows),
                              fn=sum(r.fn for r in rows))
        modes[mode] = MatchScores(mode, rows, micro)
    return SpanScores(modes["exact"], modes["overlap"], len(gold))


def read_spans_jsonl(path: str | os.PathLike[str], *, what: str = "span file",
                     need_text: bool = False) -> dict[str, dict[str, Any]]:
    """Read a JSON Lines file of ``{"id", "spans", ["text"]}`` records, keyed by ``str(id)``.

    Raises
    ------
    DataError
        Missing file, invalid JSON, a record without ``id`` or ``spans`` (or ``text`` when
        ``need_text``), a repeated id, or a span outside its text; messages name file and line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.jsonl"
    >>> _ = p.write_text('{"id": 1, "text": "Al", "spans": [{"start": 0, "end": 2, "label": "PERSON"}]}\\n')
    >>> read_spans_jsonl(p)["1"]["spans"]
    [Span(start=0, end=2, label='PERSON')]
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} {path} is not valid UTF-8 (byte offset {exc.start})") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{what} {path}: line {lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where} is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict) or "id" not in record or "spans" not in record:
            raise DataError(f'{where}: expected an object with "id" and "spans"')
        if need_text and not isinstance(record.get("text"), str):
            raise DataError(f'{where}: expected a "text" string')
        if not isinstance(record["spans"], list):
            raise DataError(f'{where}: "spans" must be a list')
        key = str(record["id"])
        if key in out:
            raise DataError(f"{where}: id {key!r} repeats line {out[key]['line']}; ids must be unique")
        spans = _as_spans(record["spans"], where)
        text = record.get("text")
        for s in spans:
            if s.start < 0 or s.end <= s.start or (isinstance(text, str) and s.end > len(text)):
                raise DataError(f"{where}: span {s.to_dict()} is outside the text"
                                + (f" of length {len(text)}" if isinstance(text, str) else ""))
        out[key] = {"spans": spans, "text": text, "line": lineno}
    if not out:
        raise DataError(f"{what} {path} holds no records")
    return out


def evaluate_files(pred_path: str | os.PathLike[str], gold_path: str | os.PathLike[str], *,
                   labels: Sequence[str] | None = None) -> SpanScores:
    """Score a prediction file against a gold file (both JSON Lines, matched by id).

    Gold documents without a prediction count as predicted without spans (warned); predictions
    without gold are ignored (warned).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "g.jsonl").write_text('{"id": "a", "text": "hi Al", "spans": '
    ...                                '[{"start": 3, "end": 5, "label": "PERSON"}]}\\n')
    >>> _ = (d / "p.jsonl").write_text('{"id": "a", "spans": []}\\n')
    >>> evaluate_files(d / "p.jsonl", d / "g.jsonl").exact.micro.recall
    0.0
    """
    gold = read_spans_jsonl(gold_path, what="gold file", need_text=True)
    pred = read_spans_jsonl(pred_path, what="prediction file")
    common = [k for k in gold if k in pred]
    if not common:
        raise DataError(f"no id of the prediction file {pred_path} is in the gold file {gold_path}; "
                        "scan the gold file's texts with its id column (--id-col id)")
    missing = len(gold) - len(common)
    if missing:
        warnings.warn(f"{missing} gold documents have no prediction; counted as no spans found",
                      stacklevel=2)
    extra = len(pred) - len(common)
    if extra:
        warnings.warn(f"{extra} predicted documents are not in the gold file; ignored", stacklevel=2)
    keys = list(gold)
    return score_spans([gold[k]["spans"] for k in keys],
                       [pred[k]["spans"] if k in pred else [] for k in keys], labels=labels)
