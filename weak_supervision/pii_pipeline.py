"""The PII job of a project, and the file-level scan/redact helpers behind ``labelcycle pii``.

:func:`pii_label_project` is what ``labelcycle pii label`` runs: load the span LFs (built-ins and
the ``[pii] modules``), find spans with :func:`~weak_supervision.spans.aggregate_spans` (gold spans
of the dev rows as the label model's dev set), score the result against the gold spans of the
other rows, redact, and write everything atomically into ``.labelcycle/runs/<run_id>/``:

- ``spans.jsonl``: ``{"id", "spans": [{"start", "end", "label", "confidence"}]}`` per row;
- ``redacted.jsonl``: ``{"id", "text"}`` with the redacted text per row;
- ``redaction_map.jsonl``: replacement -> original values per row (the side file; it holds PII);
- ``summary.json``: figures, scores, the label-model choice and the LF table (no PII values).

The run and its figures are recorded in the workspace registry (kind ``"pii"``), also when it
fails. Dev and evaluation rows: with a ``[dev]`` set, the gold rows inside it are the dev set and
the other gold rows are scored; without one, every gold row is both (the scores then say
``"eval_rows": "dev"``).

Example
-------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "labelcycle.toml").write_text(
...     '[project]\\ntask = "pii"\\n[data]\\npath = "d.jsonl"\\n[pii]\\nner = false\\n')
>>> _ = (root / "d.jsonl").write_text('{"text": "mail ann@example.com"}\\n{"text": ""}\\n')
>>> from weak_supervision.project import load_project
>>> run = pii_label_project(load_project(root))
>>> run.figures["n_spans"], run.paths["redacted"].name
(1, 'redacted.jsonl')
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import ConfigError, DataError
from labelfns.loading import load_lfs
from labelfns.spans import Span, SpanLF
from weak_supervision.config import PIISection
from weak_supervision.io import atomic_write, read_table, write_json
from weak_supervision.project import Project, ensure_workspace
from weak_supervision.redaction import RedactedDocument, Redactor, write_mapping
from weak_supervision.registry import Registry, run_dir
from weak_supervision.span_metrics import SpanScores, score_spans
from weak_supervision.spans import (
    DocumentSpans,
    SpanAggregation,
    SpanCache,
    aggregate_spans,
    as_texts,
    builtin_span_lfs,
    parse_spans,
)

__all__ = [
    "PIIRun",
    "ScanResult",
    "load_pii_lfs",
    "pii_label_project",
    "scan_table",
    "scan_file",
    "redact_scan",
    "write_spans_jsonl",
    "write_table",
]

StageCallback = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


# ------------------------------------------------------------------------------------------------
# LFs
# ------------------------------------------------------------------------------------------------
def _span_lfs(pii: PIISection, modules: Sequence[str | Path], base_dir: Path | None
              ) -> list[SpanLF]:
    lfs: list[SpanLF] = []
    if pii.builtins:
        lfs += builtin_span_lfs(ner=pii.ner, ner_model=pii.ner_model, phone_region=pii.phone_region)
    if modules:
        user = load_lfs(modules, base_dir=base_dir, kind=SpanLF)
        if not user:
            raise ConfigError(f"the span LF modules {', '.join(map(str, modules))} define no span "
                              "LF; decorate functions with @span_lf (from labelfns.spans)")
        lfs += user
    names = [lf.name for lf in lfs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"span LF name(s) {', '.join(dupes)} are used twice (a module LF "
                          "has the name of a built-in one?); rename them")
    if not lfs:
        raise ConfigError("no span LFs: set [pii] builtins = true or list span LF modules")
    return lfs


def load_pii_lfs(project: Project) -> list[SpanLF]:
    """The project's span LFs: the built-ins (``[pii] builtins``), then its ``[pii] modules``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weak_supervision.project import load_project
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "labelcycle.toml").write_text(
    ...     '[project]\\ntask = "pii"\\n[data]\\npath = "d.csv"\\n[pii]\\nner = false\\n')
    >>> _ = (root / "d.csv").write_text("text\\nhi\\n")
    >>> "pii_email" in [lf.name for lf in load_pii_lfs(load_project(root))]
    True
    """
    pii = project.config.pii
    modules = []
    for entry in pii.modules:
        path = (project.root / entry).resolve()
        if entry.endswith(".py") and not path.is_file():
            raise ConfigError(f"{project.config.path}: [pii] modules lists {entry!r} but {path} "
                              "does not exist; fix the path (relative to the project folder)")
        modules.append(path if entry.endswith(".py") else entry)
    return _span_lfs(pii, modules, project.root)


# ------------------------------------------------------------------------------------------------
# the project job
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PIIRun:
    """What one PII job produced.

    Attributes
    ----------
    run_id : str
        The run's id in the workspace registry.
    aggregation : SpanAggregation
        The spans, token votes and label-model choice.
    scores : SpanScores or None
        Span scores against the gold spans of the evaluation rows (None without gold).
    redacted : tuple of RedactedDocument
        The redacted rows (they hold the mapping: keep them out of reports).
    paths : dict of str to Path
        Files written (``spans``, ``redacted``, ``mapping``, ``summary``, and ``out`` if asked).
    timings : dict of str to float
        Seconds per stage.
    figures : dict
        What the registry records (counts, scores; no PII values).
    warnings : tuple of str
        Warnings raised while fitting.
    """

    run_id: str
    aggregation: SpanAggregation
    scores: SpanScores | None
    redacted: tuple[RedactedDocument, ...] = field(repr=False)
    paths: dict[str, Path]
    timings: dict[str, float]
    figures: dict[str, Any]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without any PII value: figures, scores, label model, LF table, files."""
        agg = self.aggregation.to_dict()
        return {
            "run_id": self.run_id,
            "figures": self.figures,
            "scores": self.scores.to_dict() if self.scores is not None else None,
            "label_model": agg["label_model"],
            "lfs": agg["lfs"],
            "files": {k: str(v) for k, v in self.paths.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }


def _project_texts(project: Project) -> tuple[list[str], list[list[Span] | None] | None]:
    pii = project.config.pii
    column = pii.text_column or "text"
    where = f"{project.root / project.config.data.path}"
    if column not in project.data.columns:
        raise DataError(f"{where}: [pii] text_column {column!r} is not a column; available: "
                        f"{', '.join(map(str, project.data.columns))}")
    ids = [str(i) for i in project.ids]
    texts = as_texts(project.data[column].tolist(), what=f"{where} column {column!r}", ids=ids)
    if pii.gold_column is None:
        return texts, None
    if pii.gold_column not in project.data.columns:
        raise DataError(f"{where}: [pii] gold_column {pii.gold_column!r} is not a column; "
                        f"available: {', '.join(map(str, project.data.columns))}")
    gold = [parse_spans(v, text=t, where=f"{where}: id {i!r} column {pii.gold_column!r}")
            for v, t, i in zip(project.data[pii.gold_column].tolist(), texts, ids, strict=True)]
    return texts, gold


def _split_gold(project: Project, gold: list[list[Span] | None]
                ) -> tuple[list[list[Span] | None], np.ndarray, str]:
    """(gold for the dev set, mask of the rows to score, "held_out" or "dev")."""
    has = np.array([g is not None for g in gold], dtype=bool)
    dev = has & project.dev_mask
    if project.config.dev.enabled and dev.any() and (has & ~dev).any():
        return [g if d else None for g, d in zip(gold, dev, strict=True)], has & ~dev, "held_out"
    return gold, has, "dev"


def pii_label_project(
    project: Project,
    *,
    use_cache: bool = True,
    progress: ProgressCallback | None = None,
    stage: StageCallback | None = None,
    out: str | os.PathLike[str] | None = None,
) -> PIIRun:
    """Run the project's PII job (see the module docstring) and record it in the registry.

    Parameters
    ----------
    project : Project
        A project with a ``[pii]`` section or ``task = "pii"``.
    use_cache : bool
        Reuse span LF outputs from ``.labelcycle/span_cache`` (when ``[apply] cache`` is on).
    progress, stage : callable, optional
        ``progress(done_lfs, total_lfs)`` and ``stage(message)`` for a progress display.
    out : path-like, optional
        Also write the spans (JSON Lines) to this file.

    Raises
    ------
    ConfigError
        The project has no PII job configured, or its span LFs cannot be loaded.
    """
    pii = project.config.pii
    if not pii.enabled:
        raise ConfigError(f"{project.config.path} has no [pii] section; add one (e.g. [pii] with "
                          "gold_column = \"spans\") or set [project] task = \"pii\"")
    say = stage or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("loading span LFs")
    lfs = load_pii_lfs(project)
    texts, gold = _project_texts(project)
    workspace = ensure_workspace(project)
    registry = Registry(workspace / "registry.sqlite")
    cache = (SpanCache(workspace / "span_cache")
             if use_cache and project.config.apply.cache else None)
    run_id = registry.start_run("pii", config_fingerprint=project.config.fingerprint, inputs={
        "project": project.name, "data_fingerprint": project.data_fingerprint,
        "n_rows": project.n_rows, "lfs": [lf.name for lf in lfs]})
    try:
        dev_gold, eval_mask, eval_rows = (None, None, None)
        if gold is not None:
            dev_gold, eval_mask, eval_rows = _split_gold(project, gold)
        say(f"applying {len(lfs)} span LFs to {len(texts):,} rows")
        cfg = project.config.label_model
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            agg = aggregate_spans(lfs, texts, ids=[str(i) for i in project.ids], gold=dev_gold,
                                  cache=cache,
                                  prefer=pii.label_model, seed=cfg.seed, progress=progress,
                                  n_epochs=cfg.n_epochs, lr=cfg.lr, l2=cfg.l2, search=cfg.search,
                                  search_budget=cfg.search_budget)
        messages = list(dict.fromkeys(str(w.message) for w in caught
                                      if issubclass(w.category, UserWarning)))
        timings["aggregate"] = time.perf_counter() - t0
        scores = None
        if gold is not None and eval_mask is not None and eval_mask.any():
            idx = np.flatnonzero(eval_mask)
            scores = score_spans([gold[i] or [] for i in idx],
                                 [agg.documents[i].spans for i in idx])
        t1 = time.perf_counter()
        say("redacting")
        redactor = Redactor(mode=pii.redact, seed=pii.seed)
        redacted = tuple(redactor.redact(t, d.spans, id=d.id)
                         for t, d in zip(texts, agg.documents, strict=True))
        timings["redact"] = time.perf_counter() - t1
        figures = _figures(agg, scores, eval_rows, int(eval_mask.sum()) if eval_mask is not None
                           else 0, redacted)
        folder = run_dir(workspace, run_id, create=True)
        paths = {"spans": folder / "spans.jsonl", "redacted": folder / "redacted.jsonl",
                 "mapping": folder / "redaction_map.jsonl", "summary": folder / "summary.json"}
        write_spans_jsonl(paths["spans"], agg.documents)
        _write_jsonl(paths["redacted"], ({"id": _plain(d.id), "text": d.text} for d in redacted))
        write_mapping(paths["mapping"], redacted)
        if out is not None:
            write_spans_jsonl(Path(out), agg.documents)
            paths["out"] = Path(out)
        timings["total"] = time.perf_counter() - t0
        run = PIIRun(run_id, agg, scores, redacted, paths, timings, figures, tuple(messages))
        write_json(paths["summary"], run.to_dict())
    except BaseException as exc:
        registry.finish_run(run_id, status="failed",
                            figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(run_id, status="ok", figures=figures)
    return run


def _figures(agg: SpanAggregation, scores: SpanScores | None, eval_rows: str | None,
             n_eval: int, redacted: Sequence[RedactedDocument]) -> dict[str, Any]:
    summary = agg.to_dict()
    fig: dict[str, Any] = {
        "n_rows": summary["n_docs"],
        "n_lfs": len(agg.tokens.lf_names),
        "n_tokens": summary["n_tokens"],
        "n_voted_tokens": summary["n_voted_tokens"],
        "n_spans": summary["n_spans"],
        "spans_per_label": summary["spans_per_label"],
        "rows_with_pii": sum(1 for d in agg.documents if d.spans),
        "label_source": agg.choice.chosen,
        "cached_docs": int(sum(agg.votes.cached.values())),
        "replacements": int(sum(len(d.replacements) for d in redacted)),
    }
    for name, s in (("majority", agg.choice.majority_scores),
                    ("label_model", agg.choice.label_model_scores)):
        if s is not None:
            fig[f"dev_tokens_{name}"] = s.to_dict()
    if scores is not None:
        fig["eval_rows"] = eval_rows
        fig["n_eval"] = n_eval
        for mode in ("exact", "overlap"):
            m = getattr(scores, mode)
            fig[f"{mode}_micro"] = {k: round(getattr(m.micro, k), 4)
                                    for k in ("precision", "recall", "f1", "f2")}
            fig[f"{mode}_f1_per_type"] = {r.label: round(r.f1, 4) for r in m.per_type}
    return fig


# ------------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _write_jsonl(path: Path, records: Any) -> None:
    with atomic_write(path) as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_spans_jsonl(path: str | os.PathLike[str], documents: Sequence[DocumentSpans]) -> None:
    """Write ``{"id", "spans"}`` lines (the ``labelcycle pii scan`` format), atomically.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.jsonl"
    >>> write_spans_jsonl(p, [DocumentSpans(0, ())]); p.read_text()
    '{"id": 0, "spans": []}\\n'
    """
    _write_jsonl(Path(path), (d.to_dict() for d in documents))


def write_table(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """Write a table as CSV, JSON Lines or Parquet (by suffix), atomically.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_table(p, pd.DataFrame({"a": [1]})); p.read_text()
    'a\\n1\\n'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with atomic_write(path) as fh:
            frame.to_csv(fh, index=False, lineterminator="\n")
    elif suffix in (".jsonl", ".ndjson"):
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        _write_jsonl(path, ({k: _plain(v) for k, v in r.items()} for r in records))
    elif suffix in (".parquet", ".pq"):
        with atomic_write(path, mode="wb") as fh:
            frame.to_parquet(fh, index=False)
    else:
        raise DataError(f"output {path}: unsupported file type {path.suffix or '(none)'!r}; "
                        "use .csv, .jsonl or .parquet")


@dataclass(frozen=True)
class ScanResult:
    """A scanned table: its rows, their ids and texts, and the aggregation."""

    frame: pd.DataFrame = field(repr=False)
    ids: tuple[Any, ...]
    texts: tuple[str, ...] = field(repr=False)
    aggregation: SpanAggregation = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Figures only (no PII): rows, spans per type, label model choice, LF table."""
        agg = self.aggregation.to_dict()
        return {"n_rows": len(self.ids), "n_spans": agg["n_spans"],
                "rows_with_pii": sum(1 for d in self.aggregation.documents if d.spans),
                "spans_per_label": agg["spans_per_label"], "label_model": agg["label_model"],
                "lfs": agg["lfs"]}


def scan_table(
    frame: pd.DataFrame,
    *,
    text_column: str,
    id_column: str | None = None,
    source: str = "input",
    lfs: Sequence[SpanLF] | None = None,
    modules: Sequence[str | Path] = (),
    ner: bool = True,
    ner_model: str = "en_core_web_sm",
    phone_region: str | Sequence[str] = "US",
    prefer: str = "auto",
    cache: SpanCache | None = None,
    progress: ProgressCallback | None = None,
) -> ScanResult:
    """Find PII spans in a table's text column (built-in detectors plus user span LF modules).

    Missing texts count as empty; ids come from ``id_column`` or are row positions (0-based).

    Raises
    ------
    DataError
        A missing column, a non-text cell or a repeated/missing id; names ``source``, the column
        and the row.

    Examples
    --------
    >>> res = scan_table(pd.DataFrame({"t": ["mail a@b.co", None]}), text_column="t", ner=False)
    >>> [d.to_dict()["spans"][0]["label"] if d.spans else None for d in res.aggregation.documents]
    ['EMAIL', None]
    """
    for col, what in ((text_column, "text"), (id_column, "id")):
        if col is not None and col not in frame.columns:
            raise DataError(f"{source}: no {what} column {col!r}; available columns: "
                            f"{', '.join(map(str, frame.columns))}")
    if id_column is None:
        ids: list[Any] = list(range(len(frame)))
    else:
        ids = [_plain(v) for v in frame[id_column].tolist()]
        for i, v in enumerate(ids):
            if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v):
                raise DataError(f"{source}: row {i + 1} has no id in column {id_column!r}")
        seen: dict[str, int] = {}
        for i, v in enumerate(ids):
            key = str(v)
            if key in seen:
                raise DataError(f"{source}: id {v!r} in column {id_column!r} repeats (rows "
                                f"{seen[key] + 1} and {i + 1}); ids must be unique")
            seen[key] = i
    texts = as_texts(frame[text_column].tolist(), what=f"{source} column {text_column!r}")
    if lfs is None:
        lfs = _span_lfs(PIISection(ner=ner, ner_model=ner_model,
                                   phone_region=phone_region if isinstance(phone_region, str)
                                   else tuple(phone_region)), list(modules), None)
    agg = aggregate_spans(lfs, texts, ids=ids, cache=cache, prefer=prefer,  # type: ignore[arg-type]
                          progress=progress)
    return ScanResult(frame, tuple(ids), tuple(texts), agg)


def scan_file(path: str | os.PathLike[str], *, text_column: str, id_column: str | None = None,
              **options: Any) -> ScanResult:
    """Read a CSV, JSON Lines or Parquet file and :func:`scan_table` it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.csv"
    >>> _ = p.write_text("id,body\\n7,ip 10.0.0.1\\n")
    >>> scan_file(p, text_column="body", id_column="id", ner=False).aggregation.documents[0].id
    '7'
    """
    columns = [text_column] + ([id_column] if id_column else [])
    frame = read_table(path, columns=columns, text_columns=columns, what="input file")
    return scan_table(frame, text_column=text_column, id_column=id_column, source=f"input file {path}",
                      **options)


def redact_scan(result: ScanResult, *, text_column: str, mode: str = "placeholder", seed: int = 0,
                column: str | None = None) -> tuple[pd.DataFrame, tuple[RedactedDocument, ...]]:
    """The scanned table with a redacted text column added (``<text_column>_redacted`` by
    default), and the redacted documents (their mapping belongs in a side file).

    Examples
    --------
    >>> res = scan_table(pd.DataFrame({"t": ["I am Tom, call 415-555-0132"]}), text_column="t",
    ...                  ner=False)
    >>> frame, _ = redact_scan(res, text_column="t")
    >>> frame["t_redacted"].tolist()
    ['I am [PERSON_1], call [PHONE_1]']
    """
    redactor = Redactor(mode=mode, seed=seed)  # type: ignore[arg-type]
    docs = tuple(redactor.redact(t, d.spans, id=d.id)
                 for t, d in zip(result.texts, result.aggregation.documents, strict=True))
    frame = result.frame.copy()
    frame[column or f"{text_column}_redacted"] = [d.text for d in docs]
    return frame, docs
