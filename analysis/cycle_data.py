"""What a slice report reads: one cycle's per-row predictions, LF votes and text, in one table.

:func:`load_cycle_data` reads a ``"cycle"`` run of a classification project (its
``predictions.parquet`` and the label run's ``label_matrix.parquet``) or a ``"pii"`` run of a PII
project (its ``spans.jsonl`` and the gold spans of the data), optionally with the predictions of
another model (a chat model, ...) read by :func:`read_predictions`.

Example
-------
>>> frame = pd.DataFrame({"id": ["a", "b", "c"], "text": ["x", "yy", "z"],
...                       "split": ["dev", "dev", "pool"], "gold": [0, 1, -1],
...                       "end_model": [0, 0, 1]})
>>> data = cycle_data_from_frame(frame, ("neg", "pos"), L=np.array([[0, -1], [1, 0], [-1, -1]]),
...                              lf_names=("lf_a", "lf_b"))
>>> data.frame[["covered", "conflict"]].values.tolist()
[[True, False], [True, True], [False, False]]
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError
from labelfns.spans import Span
from weak_supervision.io import read_table
from weak_supervision.pipeline import registry_for
from weak_supervision.project import Project
from weak_supervision.registry import RunRecord, run_dir
from weak_supervision.span_metrics import score_spans
from weak_supervision.spans import as_texts, parse_spans

__all__ = [
    "CycleData",
    "cycle_data_from_frame",
    "load_cycle_data",
    "read_predictions",
    "chat_eval_predictions",
    "read_cycle",
    "read_pii_run",
    "PiiRun",
    "align_ids",
    "MODEL_COLUMNS",
    "EXTERNAL",
]

MODEL_COLUMNS = ("end_model", "label_model", "majority")
"""The prediction columns a cycle writes (class indices, -1 = no prediction)."""

EXTERNAL = "external"
"""The column of predictions read from a file (:func:`read_predictions`)."""


@dataclass(frozen=True, eq=False)
class CycleData:
    """One cycle's rows, predictions and LF votes, aligned row by row.

    Attributes
    ----------
    task : {"classification", "pii"}
    labels : tuple of str
        Class names by index (PII: the entity types seen in gold or predicted spans).
    frame : pandas.DataFrame
        One row per data row: ``id``, ``text``, ``split`` ("dev" = rows with gold, else "pool"),
        ``length`` (characters), ``n_votes``, ``covered``, ``conflict``. Classification adds
        ``gold`` and a column per model (``end_model``, ``label_model``, ``majority``,
        ``external``: class indices, -1 = none) with ``<model>_confidence`` where known, and
        with external predictions ``external_present``, ``external_valid``,
        ``external_answer``. PII adds ``n_gold``, ``n_pred``, ``tp``, ``fp``, ``fn`` (span
        counts of the row under ``span_match``), ``confidence`` (lowest predicted span
        confidence) and ``gold_types``/``pred_types`` (tuples of entity types).
    L : numpy.ndarray of int
        LF votes, shape (rows, LFs), -1 = abstain (empty for PII).
    lf_names : tuple of str
        Column names of ``L``.
    models : tuple of str
        The prediction columns present in ``frame``.
    data : pandas.DataFrame
        The rows as labeling functions see them (for slicing functions), aligned with ``frame``.
    run_id, label_run_id : str or None
        The cycle (or PII) run read, and its label run.
    project : str
        The project's name.
    predictions_source : str or None
        Where ``external`` predictions came from.
    gold_spans, pred_spans : tuple or None
        PII only: the spans of each row (gold is None on rows without gold).
    span_match : str
        PII only: "exact" or "overlap", how ``tp``/``fp``/``fn`` were counted.
    """

    task: str
    labels: tuple[str, ...]
    frame: pd.DataFrame = field(repr=False)
    L: np.ndarray = field(repr=False)
    lf_names: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    data: pd.DataFrame | None = field(default=None, repr=False)
    run_id: str | None = None
    label_run_id: str | None = None
    project: str = ""
    predictions_source: str | None = None
    gold_spans: tuple[Any, ...] | None = field(default=None, repr=False)
    pred_spans: tuple[Any, ...] | None = field(default=None, repr=False)
    span_match: str = "exact"

    @property
    def dev_mask(self) -> np.ndarray:
        """Rows with gold labels (the rows scored)."""
        return (self.frame["split"] == "dev").to_numpy()

    @property
    def n_dev(self) -> int:
        """The number of rows with gold labels."""
        return int(self.dev_mask.sum())

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`frame`."""
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no row data).

        >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
        ...                   "end_model": [0]})
        >>> cycle_data_from_frame(f, ("neg",)).to_dict()["n_dev"]
        1
        """
        return {"task": self.task, "project": self.project, "labels": list(self.labels),
                "n_rows": len(self.frame), "n_dev": self.n_dev, "lf_names": list(self.lf_names),
                "models": list(self.models), "run_id": self.run_id,
                "label_run_id": self.label_run_id, "predictions_source": self.predictions_source}


# ----------------------------------------------------------------------------------------------
# building the table
# ----------------------------------------------------------------------------------------------


def _vote_figures(L: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if L.size == 0:
        zero = np.zeros(n, dtype=np.int64)
        return zero, zero.astype(bool), zero.astype(bool)
    voted = L != -1
    n_votes = voted.sum(axis=1).astype(np.int64)
    lo = np.where(voted, L, np.iinfo(np.int64).max).min(axis=1)
    hi = L.max(axis=1)
    return n_votes, n_votes > 0, (n_votes >= 2) & (lo != hi)


def cycle_data_from_frame(
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    L: np.ndarray | None = None,
    lf_names: Sequence[str] = (),
    data: pd.DataFrame | None = None,
    run_id: str | None = None,
    label_run_id: str | None = None,
    project: str = "",
) -> CycleData:
    """A classification :class:`CycleData` from a predictions table (the vote columns derived).

    Parameters
    ----------
    frame : pandas.DataFrame
        ``id``, ``text``, ``split`` ("dev"/"pool"), ``gold`` (-1 on pool rows) and at least one
        prediction column (see :data:`MODEL_COLUMNS`, or ``external``).
    labels : sequence of str
        Class names by index.
    L : numpy.ndarray, optional
        LF votes aligned with ``frame`` (default: no LF).
    lf_names : sequence of str
        Names of the columns of ``L``.
    data : pandas.DataFrame, optional
        Rows for slicing functions (default: ``frame[["id", "text"]]``).
    run_id, label_run_id, project :
        Recorded in the result.

    Raises
    ------
    DataError
        A missing column, misaligned votes, or class indices outside the label set.

    Example
    -------
    >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [1],
    ...                   "end_model": [1]})
    >>> cycle_data_from_frame(f, ("neg", "pos")).models
    ('end_model',)
    """
    labels = tuple(str(x) for x in labels)
    missing = [c for c in ("id", "text", "split", "gold") if c not in frame.columns]
    if missing:
        raise DataError(f"the predictions table has no column {', '.join(map(repr, missing))}; "
                        f"columns: {', '.join(map(str, frame.columns))}")
    models = tuple(m for m in (*MODEL_COLUMNS, EXTERNAL) if m in frame.columns)
    if not models:
        raise DataError("the predictions table has no prediction column; expected one of "
                        f"{', '.join((*MODEL_COLUMNS, EXTERNAL))}")
    out = frame.reset_index(drop=True).copy()
    n, k = len(out), len(labels)
    out["id"] = out["id"].astype(str)
    out["text"] = ["" if not isinstance(t, str) else t for t in out["text"].tolist()]
    out["gold"] = out["gold"].astype(np.int64)
    for column in ("gold", *models):
        values = out[column].to_numpy(dtype=np.int64)
        if n and (values.min() < -1 or values.max() >= k):
            raise DataError(f"column {column!r} holds class indices outside -1..{k - 1} (labels: "
                            f"{', '.join(labels)})")
        out[column] = values
    votes = np.zeros((n, 0), dtype=np.int64) if L is None else np.asarray(L, dtype=np.int64)
    if votes.ndim != 2 or votes.shape[0] != n or votes.shape[1] != len(lf_names):
        raise DataError(f"the label matrix has shape {votes.shape} but there are {n} rows and "
                        f"{len(lf_names)} LF names")
    n_votes, covered, conflict = _vote_figures(votes, n)
    out["length"] = out["text"].str.len().astype(np.int64)
    out["n_votes"], out["covered"], out["conflict"] = n_votes, covered, conflict
    rows = out[["id", "text"]].copy() if data is None else data.reset_index(drop=True)
    if len(rows) != n:
        raise DataError(f"{len(rows)} data rows for {n} prediction rows")
    return CycleData("classification", labels, out, votes, tuple(lf_names), models, rows, run_id,
                     label_run_id, project)


# ----------------------------------------------------------------------------------------------
# runs
# ----------------------------------------------------------------------------------------------


def _find_run(project: Project, kind: str, run_id: str | None) -> RunRecord:
    registry = registry_for(project)
    if run_id is None:
        record = registry.latest(kind)
        if record is None:
            command = "labelcycle cycle" if kind == "cycle" else "labelcycle pii label"
            raise DataError(f"project {project.name!r} has no successful {kind!r} run yet; run "
                            f"`{command}` first")
        return record
    record = registry.get_run(run_id)
    if record.kind != kind:
        raise DataError(f"run {run_id} is a {record.kind!r} run, not a {kind!r} run; pick one "
                        f"from `labelcycle history`")
    if record.status != "ok":
        raise DataError(f"run {run_id} finished with status {record.status!r}; pick a successful "
                        "one from `labelcycle history`")
    return record


def _check_ids(found: Sequence[str], expected: Sequence[str], what: str, *,
               need: np.ndarray | None = None, hint: str) -> None:
    """DataError with counts and examples when ``found`` does not cover ``expected``."""
    expected_set = set(expected)
    found_set = set(found)
    extra = [i for i in found if i not in expected_set]
    must = [i for i, m in zip(expected, need if need is not None else [True] * len(expected),
                              strict=True) if m]
    missing = [i for i in must if i not in found_set]
    dupes = sorted(i for i, c in Counter(found).items() if c > 1) if len(found_set) < len(found) else []
    if not (extra or missing or dupes):
        return
    parts = []
    if extra:
        parts.append(f"{len(extra)} id(s) are not in the project's data (e.g. "
                     f"{', '.join(map(repr, extra[:3]))})")
    if missing:
        which = "dev rows" if need is not None else "rows of the data"
        parts.append(f"{len(missing)} of {len(must)} {which} have no prediction (e.g. "
                     f"{', '.join(map(repr, missing[:3]))})")
    if dupes:
        parts.append(f"{len(dupes)} id(s) occur more than once (e.g. "
                     f"{', '.join(map(repr, dupes[:3]))})")
    raise DataError(f"{what}: {'; '.join(parts)}; {hint}")


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{what} {path} is missing; run the cycle again")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many unrelated types
        raise DataError(f"{what} {path} cannot be read as Parquet: {exc}") from None


def load_cycle_data(
    project: Project,
    run_id: str | None = None,
    *,
    predictions: str | os.PathLike[str] | pd.DataFrame | None = None,
    span_match: str = "exact",
) -> CycleData:
    """Read a cycle run (classification) or a PII run (``task = "pii"``) of a project.

    Parameters
    ----------
    project : Project
        The loaded project; its data must be the data the run saw.
    run_id : str, optional
        A ``"cycle"`` run (``"pii"`` run for PII projects); default: the latest successful one.
    predictions : path-like or DataFrame, optional
        Another model's predictions (e.g. a chat model's), added as the ``external`` column; see
        :func:`read_predictions`. Classification only.
    span_match : {"exact", "overlap"}, default "exact"
        PII only: how a predicted span must match a gold span to count.

    Returns
    -------
    CycleData

    Raises
    ------
    DataError
        No such run, the run's files are missing, the data changed since the run (ids differ,
        with counts), or the predictions file does not fit the data.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> load_cycle_data(load_project(init_project(tempfile.mkdtemp())))
    Traceback (most recent call last):
    labelfns.errors.DataError: project ... has no successful 'cycle' run yet; run `labelcycle cycle` first
    """
    if project.config.project.task == "pii":
        if predictions is not None:
            raise DataError("external predictions are for classification projects; a PII "
                            "project's predictions are the spans of its PII run")
        return _load_pii(project, run_id, span_match=span_match)
    record = _find_run(project, "cycle", run_id)
    preds, L, lf_names = _read_cycle_files(project, record)
    ids = [str(i) for i in project.ids]
    preds["text"] = project.data["text"].astype(str).to_numpy()
    label_run_id = record.figures.get("label_run_id")
    if predictions is not None:
        ext = read_predictions(predictions, ids=ids, labels=project.labels,
                               dev_mask=project.dev_mask)
        preds = pd.concat([preds, ext.drop(columns="id")], axis=1)
    data = cycle_data_from_frame(preds, project.labels, L=L, lf_names=lf_names,
                                 data=project.data, run_id=record.id, label_run_id=label_run_id,
                                 project=project.name)
    if predictions is not None:
        source = predictions if not isinstance(predictions, pd.DataFrame) else "DataFrame"
        data = _replace(data, predictions_source=str(source))
    return data


def read_cycle(project: Project, *, run_id: str | None = None
               ) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """A cycle's predictions and label matrix, aligned with ``project``'s rows.

    The one reader of a cycle run's files: :func:`load_cycle_data` (slice reports) and
    :func:`analysis.suggest.suggest_for_project` (LF suggestions) both use it.

    Parameters
    ----------
    project : weak_supervision.project.Project
    run_id : str, optional
        A ``"cycle"`` run id; default the latest successful cycle.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray, tuple of str)
        The predictions (``predictions.parquet``, one row per project row, in order, ``id`` as
        str), the label matrix ``L`` of the cycle's label run (rows x LFs, -1 = abstain; zero
        columns when the cycle names no label run) and the LF names.

    Raises
    ------
    DataError
        No successful cycle, the run is not a cycle, a file is missing or unreadable, or the
        files' ids do not match the project's rows (with counts).

    Example
    -------
    >>> from weak_supervision.project import load_project
    >>> project = load_project("examples/amazon_reviews")  # doctest: +SKIP
    >>> frame, L, names = read_cycle(project)  # doctest: +SKIP
    >>> len(frame) == L.shape[0] == project.n_rows, L.shape[1] == len(names)  # doctest: +SKIP
    (True, True)
    """
    return _read_cycle_files(project, _find_run(project, "cycle", run_id))


def _read_cycle_files(project: Project, record: RunRecord
                      ) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    folder = run_dir(project.workspace, record.id)
    preds = _read_parquet(folder / "predictions.parquet", f"cycle run {record.id}: predictions")
    ids = [str(i) for i in project.ids]
    found = preds["id"].astype(str).tolist() if "id" in preds.columns else []
    _check_ids(found, ids, f"cycle run {record.id}: predictions.parquet",
               hint="the project's data changed since that cycle; run `labelcycle cycle` again")
    preds = preds.assign(id=preds["id"].astype(str)).set_index("id").loc[ids].reset_index()
    L, lf_names = _label_matrix(project, record.figures.get("label_run_id"), ids)
    return preds, L, lf_names


def align_ids(project_ids: Sequence[Any], file_ids: Sequence[Any], *, where: str) -> np.ndarray:
    """Positions in ``file_ids`` of each project id; DataError with counts when they differ.

    >>> align_ids(["a", "b"], ["b", "a"], where="f").tolist()
    [1, 0]
    """
    want = [str(i) for i in project_ids]
    have = [str(i) for i in file_ids]
    _check_ids(have, want, where, hint="the project's data changed since that run; run it again")
    pos = {v: i for i, v in enumerate(have)}
    return np.array([pos[v] for v in want], dtype=np.int64)


def _replace(data: CycleData, **changes: Any) -> CycleData:
    from dataclasses import replace

    return replace(data, **changes)


def _label_matrix(project: Project, label_run_id: str | None, ids: list[str]
                  ) -> tuple[np.ndarray, tuple[str, ...]]:
    if not label_run_id:
        return np.zeros((len(ids), 0), dtype=np.int64), ()
    path = run_dir(project.workspace, str(label_run_id)) / "label_matrix.parquet"
    matrix = _read_parquet(path, f"label run {label_run_id}: label matrix")
    if "id" not in matrix.columns:
        raise DataError(f"{path} has no id column; run `labelcycle cycle` again")
    matrix["id"] = matrix["id"].astype(str)
    _check_ids(matrix["id"].tolist(), ids, str(path),
               hint="the project's data changed since that cycle; run `labelcycle cycle` again")
    matrix = matrix.set_index("id").loc[ids]
    return matrix.to_numpy(dtype=np.int64), tuple(str(c) for c in matrix.columns)


# ----------------------------------------------------------------------------------------------
# external predictions
# ----------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_flag(value: Any, where: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise DataError(f"{where}: column 'valid' holds {value!r}; use true/false")


def read_predictions(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    ids: Sequence[Any],
    labels: Sequence[str],
    dev_mask: np.ndarray | None = None,
) -> pd.DataFrame:
    """Read another model's predictions and align them with the project's rows.

    The file (CSV, JSONL or Parquet) or table has an ``id`` column (the project's row ids) and
    a ``prediction`` column (a class name, a class index, or empty for no answer), optionally
    ``valid`` (false for an answer that maps to no class) and ``answer`` (the model's raw
    answer). Predictions that name no class are invalid answers when the table has a ``valid``
    or ``answer`` column (a chat model's), and an error otherwise.

    Parameters
    ----------
    source : path-like or DataFrame
        The predictions.
    ids : sequence
        The project's row ids, in row order.
    labels : sequence of str
        Class names by index.
    dev_mask : numpy.ndarray of bool, optional
        Rows that must have a prediction (default: every row).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``ids``: ``id``, ``external`` (class index, -1 = none),
        ``external_present``, ``external_valid`` and ``external_answer``.

    Raises
    ------
    DataError
        A missing column; ids not in the data, rows without prediction or repeated ids (with
        counts and examples); an unknown class name.

    Example
    -------
    >>> table = pd.DataFrame({"id": ["a", "b"], "prediction": ["pos", "I don't know"],
    ...                       "answer": ["pos", "I don't know"]})
    >>> out = read_predictions(table, ids=["a", "b"], labels=("neg", "pos"))
    >>> out["external"].tolist(), out["external_valid"].tolist()
    ([1, -1], [True, False])
    """
    labels = tuple(str(x) for x in labels)
    ids = [str(i) for i in ids]
    if isinstance(source, pd.DataFrame):
        what = "predictions table"
        table = source.reset_index(drop=True)
        for column in ("id", "prediction"):
            if column not in table.columns:
                raise DataError(f"{what} has no column {column!r}; columns: "
                                f"{', '.join(map(str, table.columns))}")
    else:
        what = f"predictions file {Path(source)}"
        table = read_table(source, columns=["id", "prediction"],
                           text_columns=("id", "prediction", "answer", "valid"),
                           what="predictions file")
    found = [str(i) for i in table["id"].tolist()]
    _check_ids(found, ids, what, need=dev_mask,
               hint="give one row per dev row (column 'id' with the project's row ids, see "
                    "`labelcycle slices --help`)")
    chatty = "valid" in table.columns or "answer" in table.columns
    index = {name: i for i, name in enumerate(labels)}
    position = {i: n for n, i in enumerate(ids)}
    n = len(ids)
    pred = np.full(n, -1, dtype=np.int64)
    present = np.zeros(n, dtype=bool)
    valid = np.zeros(n, dtype=bool)
    answers: list[str | None] = [None] * n
    has_valid = "valid" in table.columns
    for r, record in enumerate(table.to_dict("records")):
        where = f"{what}: row {r + 1} (id {found[r]!r})"
        at = position[found[r]]
        present[at] = True
        value = record["prediction"]
        cls = _class_of(value, index, labels)
        if cls is None and not chatty:
            raise DataError(f"{where}: prediction {value!r} is not a class; valid labels: "
                            f"{', '.join(labels)} (or add a 'valid' column for invalid answers)")
        ok = cls is not None
        if has_valid and not _is_missing(record["valid"]):
            ok = _as_flag(record["valid"], where) and cls is not None
        pred[at] = cls if ok and cls is not None else -1
        valid[at] = ok
        raw = record.get("answer", value if chatty else None)
        answers[at] = None if _is_missing(raw) else str(raw)
    return pd.DataFrame({"id": ids, EXTERNAL: pred, f"{EXTERNAL}_present": present,
                         f"{EXTERNAL}_valid": valid, f"{EXTERNAL}_answer": answers})


def _class_of(value: Any, index: dict[str, int], labels: tuple[str, ...]) -> int | None:
    if _is_missing(value):
        return None
    if isinstance(value, str):
        key = value.strip()
        if key in index:
            return index[key]
        if key.lstrip("-").isdigit():
            value = int(key)
        else:
            return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if int(value) == -1:
            return None
        if 0 <= int(value) < len(labels):
            return int(value)
    return None


def chat_eval_predictions(result: Any, project: Project) -> pd.DataFrame:
    """A predictions table (for :func:`read_predictions`) from a chat-model evaluation of the
    project's dev rows (:func:`finetune.project_eval.evaluate_chat_on_project` without ``data``).

    ``result`` is a :class:`finetune.chat_eval.ChatEvalResult`: its rows are the dev rows in
    order, so row ``i`` gets the id of the ``i``-th dev row.

    Raises
    ------
    DataError
        The result has another number of rows than the dev set.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> fake = SimpleNamespace(labels=("a",), predictions=(), n=0)
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> chat_eval_predictions(fake, load_project(init_project(tempfile.mkdtemp())))
    Traceback (most recent call last):
    labelfns.errors.DataError: the chat evaluation has 0 rows but the project has 60 dev rows; ...
    """
    dev_ids = [str(i) for i in np.asarray(project.ids)[project.dev_mask]]
    rows = list(result.predictions)
    if len(rows) != len(dev_ids):
        raise DataError(f"the chat evaluation has {len(rows)} rows but the project has "
                        f"{len(dev_ids)} dev rows; evaluate on the dev set (no --data) to slice it")
    labels = tuple(result.labels)
    return pd.DataFrame({
        "id": [dev_ids[p.row] for p in rows],
        "prediction": [labels[p.predicted] if p.predicted >= 0 else None for p in rows],
        "valid": [p.predicted >= 0 for p in rows],
        "answer": [p.answer for p in rows],
    })


# ----------------------------------------------------------------------------------------------
# PII
# ----------------------------------------------------------------------------------------------


def _read_pred_spans(path: Path, run_id: str) -> dict[str, list[Span]]:
    if not path.is_file():
        raise DataError(f"PII run {run_id}: {path} is missing; run `labelcycle pii label` again")
    out: dict[str, list[tuple[Span, float]]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            spans = [(Span(int(s["start"]), int(s["end"]), str(s["label"])),
                      float(s.get("confidence", 1.0))) for s in record["spans"]]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise DataError(f"{path}: line {lineno} is not a span record") from None
        out[str(record["id"])] = spans  # type: ignore[assignment]
    return out  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class PiiRun:
    """A PII run's spans and the project's gold spans, aligned with the project's rows.

    Attributes
    ----------
    run_id : str
    ids, texts : tuple of str
        Row ids and the texts the spans index into.
    gold : tuple
        Gold spans per row (a list of :class:`~labelfns.spans.Span`), None on rows without gold
        (every row when the project has no ``gold_column``).
    predicted : tuple
        Per row, the run's spans as ``(Span, confidence)`` pairs.
    """

    run_id: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    gold: tuple[Any, ...]
    predicted: tuple[tuple[tuple[Span, float], ...], ...]

    @property
    def spans(self) -> list[list[Span]]:
        """The predicted spans per row, without confidences."""
        return [[s for s, _ in doc] for doc in self.predicted]


def read_pii_run(project: Project, *, run_id: str | None = None) -> PiiRun:
    """Read a PII run's ``spans.jsonl`` (default the latest successful ``"pii"`` run) with the
    project's texts and gold spans; the one reader of a PII run's files (slice reports and span
    suggestions both use it).

    Raises
    ------
    DataError
        No successful PII run, the run is another kind, its span file is missing or malformed,
        or its ids do not match the project's rows (with counts).
    """
    record = _find_run(project, "pii", run_id)
    folder = run_dir(project.workspace, record.id)
    found = _read_pred_spans(folder / "spans.jsonl", record.id)
    ids = [str(i) for i in project.ids]
    _check_ids(list(found), ids, f"PII run {record.id}: spans.jsonl",
               hint="the project's data changed since that run; run `labelcycle pii label` again")
    pii = project.config.pii
    column = pii.text_column or "text"
    texts = as_texts(project.data[column].tolist(), what=f"column {column!r}", ids=ids)
    if pii.gold_column and pii.gold_column in project.data.columns:
        gold = [parse_spans(v, text=t, where=f"id {i!r} column {pii.gold_column!r}")
                for v, t, i in zip(project.data[pii.gold_column].tolist(), texts, ids, strict=True)]
    else:
        gold = [None] * len(ids)
    return PiiRun(record.id, tuple(ids), tuple(texts), tuple(gold),
                  tuple(tuple(found[i]) for i in ids))


def _load_pii(project: Project, run_id: str | None, *, span_match: str) -> CycleData:
    if span_match not in ("exact", "overlap"):
        raise DataError(f"span_match must be 'exact' or 'overlap', got {span_match!r}")
    run = read_pii_run(project, run_id=run_id)
    ids, texts, gold = list(run.ids), list(run.texts), list(run.gold)
    pred_conf = list(run.predicted)
    pred = run.spans
    n = len(ids)
    counts = np.zeros((n, 3), dtype=np.int64)
    for r, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if g is None:
            continue
        if g or p:
            micro = getattr(score_spans([g], [p]), span_match).micro
            counts[r] = (micro.tp, micro.fp, micro.fn)
    types = sorted({s.label for doc in (*[g or [] for g in gold], *pred) for s in doc})
    frame = pd.DataFrame({
        "id": ids,
        "text": texts,
        "split": ["dev" if g is not None else "pool" for g in gold],
        "length": [len(t) for t in texts],
        "n_gold": [len(g) if g is not None else -1 for g in gold],
        "n_pred": [len(p) for p in pred],
        "tp": counts[:, 0], "fp": counts[:, 1], "fn": counts[:, 2],
        "confidence": [min((c for _, c in doc), default=np.nan) for doc in pred_conf],
        "gold_types": [tuple(sorted({s.label for s in g})) if g else () for g in gold],
        "pred_types": [tuple(sorted({s.label for s in p})) for p in pred],
    })
    frame["n_votes"] = frame["n_pred"]
    frame["covered"] = frame["n_pred"] > 0
    frame["conflict"] = np.zeros(n, dtype=bool)
    return CycleData("pii", tuple(types), frame, np.zeros((n, 0), dtype=np.int64), (),
                     ("spans",), project.data, run.run_id, None, project.name, None,
                     tuple(gold), tuple(tuple(p) for p in pred), span_match)
