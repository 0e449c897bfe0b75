"""Label-then-train cycles: train the end model, evaluate it, and compare one cycle with the last.

A *cycle* is what a user runs after editing LFs: apply them and fit the label model
(:func:`~weak_supervision.pipeline.label_project`), train the end model on the training labels
(:func:`train_project`), score majority vote, the label model and the end model side by side on the
dev set (and on the ``[evaluate] path`` file, if configured), and record it all as a ``"cycle"`` run
in the workspace registry. :func:`run_cycle` also says what changed since the previous cycle: LFs
added, removed or edited (by fingerprint), coverage, the models' figures and per-class F1.

Each CLI command is a thin shell over one function here and prints its result's ``to_dict()``:
``labelcycle train`` (:func:`train_project`), ``labelcycle evaluate`` (:func:`evaluate_project`),
``labelcycle cycle`` (:func:`run_cycle`, :func:`history`, :func:`diff_runs`).

Example
-------
>>> result = score_predictions([0, 1, 1, 2], [0, 1, 0, -1], ("billing", "shipping", "product"))
>>> result.accuracy, result.coverage, result.per_class[1].recall
(0.5, 0.75, 0.5)
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.end_model import EndModel
from weak_supervision.io import atomic_write, read_table, write_json
from weak_supervision.label_model import MajorityVote
from weak_supervision.metrics import macro_f1
from weak_supervision.pipeline import LabelRun, label_project, load_project_lfs, registry_for
from weak_supervision.prob_labels import ProbabilisticLabels
from weak_supervision.project import Project, ensure_workspace, make_ids
from weak_supervision.registry import Registry, RunRecord, run_dir

__all__ = [
    "ClassScore",
    "Confusion",
    "EvalResult",
    "TrainRun",
    "CycleResult",
    "CycleDiff",
    "MetricChange",
    "ClassChange",
    "CycleSummary",
    "score_predictions",
    "read_labelled",
    "train_project",
    "evaluate_project",
    "run_cycle",
    "history",
    "diff_runs",
    "cycle_predictions",
    "write_predictions",
    "PREDICTION_COLUMNS",
]

StageCallback = Callable[[str], None]

_NO_PREDICTION = "(none)"


# ----------------------------------------------------------------------------------------------
# Evaluation results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class; None where undefined (no gold rows, no predictions).

    Attributes
    ----------
    label : str
    precision, recall, f1 : float or None
    support : int
        Gold rows of the class.
    predicted : int
        Rows predicted as the class.
    """

    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int
    predicted: int


@dataclass(frozen=True)
class Confusion:
    """``count`` rows of gold class ``gold`` predicted as ``predicted`` ("(none)": no prediction)."""

    gold: str
    predicted: str
    count: int


@dataclass(frozen=True)
class EvalResult:
    """How one model's predictions score against gold labels.

    Attributes
    ----------
    source : str
        "dev", or the evaluated file.
    model : str
        "end_model", "label_model" or "majority".
    n : int
        Gold rows scored.
    accuracy : float
        Share of rows predicted right; rows without a prediction count as wrong.
    macro_f1 : float
        Mean F1 over the classes present in the gold labels.
    coverage : float
        Share of rows with a prediction (label models abstain where no LF votes).
    per_class : tuple of ClassScore
        One entry per project label, in label order (also classes without gold rows).
    confusions : tuple of Confusion
        The most frequent (gold, predicted) mistakes, most frequent first.
    model_run_id : str or None
        The train (or label) run whose model was evaluated.
    """

    source: str
    model: str
    n: int
    accuracy: float
    macro_f1: float
    coverage: float
    per_class: tuple[ClassScore, ...]
    confusions: tuple[Confusion, ...]
    model_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the figures, the per-class table and the confusions.

        >>> score_predictions([0, 1], [0, 0], ("a", "b")).to_dict()["per_class"][1]["recall"]
        0.0
        """
        return {
            "source": self.source,
            "model": self.model,
            "model_run_id": self.model_run_id,
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "coverage": self.coverage,
            "per_class": [vars(c).copy() for c in self.per_class],
            "confusions": [vars(c).copy() for c in self.confusions],
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-class table: one row per label (precision, recall, f1, support, predicted).

        >>> score_predictions([0, 1], [0, 1], ("a", "b")).to_frame()["f1"].tolist()
        [1.0, 1.0]
        """
        frame = pd.DataFrame([vars(c) for c in self.per_class])
        return frame.set_index("label")


def score_predictions(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    labels: Sequence[str],
    *,
    source: str = "dev",
    model: str = "end_model",
    top_confusions: int = 5,
    model_run_id: str | None = None,
) -> EvalResult:
    """Score class-index predictions (-1 = no prediction) against gold class indices.

    Parameters
    ----------
    y_true : array-like of int
        Gold class indices, ``0 <= y < len(labels)``.
    y_pred : array-like of int
        Predicted class indices, -1 where the model made no prediction (counted as wrong).
    labels : sequence of str
        Class names by index.
    source, model, model_run_id :
        Recorded in the result.
    top_confusions : int, default 5
        How many (gold, predicted) mistakes to list.

    Returns
    -------
    EvalResult

    Example
    -------
    >>> r = score_predictions([0, 0, 1, 2], [0, 1, 1, -1], ("a", "b", "c"))
    >>> r.accuracy, [c.f1 for c in r.per_class], [(c.gold, c.predicted) for c in r.confusions]
    (0.5, [0.6666666666666666, 0.6666666666666666, 0.0], [('a', 'b'), ('c', '(none)')])
    """
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    k = len(labels)
    if t.size == 0:
        raise DataError("nothing to evaluate: there are no rows with gold labels")
    if t.shape != p.shape:
        raise DataError(f"{t.size} gold labels but {p.size} predictions")
    if t.min() < 0 or t.max() >= k or p.min() < -1 or p.max() >= k:
        raise DataError(f"class indices must be in 0..{k - 1} (predictions may be -1)")
    per_class = []
    for c, name in enumerate(labels):
        support = int((t == c).sum())
        predicted = int((p == c).sum())
        tp = int(((t == c) & (p == c)).sum())
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        elif support or predicted:
            f1 = 0.0
        else:
            f1 = None
        per_class.append(ClassScore(str(name), precision, recall, f1, support, predicted))
    wrong = t != p
    pairs: dict[tuple[int, int], int] = {}
    for a, b in zip(t[wrong].tolist(), p[wrong].tolist(), strict=True):
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    confusions = tuple(
        Confusion(str(labels[a]), _NO_PREDICTION if b < 0 else str(labels[b]), n)
        for (a, b), n in ranked[:max(0, int(top_confusions))])
    return EvalResult(
        source=str(source), model=model, n=int(t.size), accuracy=float(np.mean(t == p)),
        macro_f1=macro_f1(t, p), coverage=float(np.mean(p >= 0)), per_class=tuple(per_class),
        confusions=confusions, model_run_id=model_run_id)


# ----------------------------------------------------------------------------------------------
# Labelled files
# ----------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _label_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value).strip()


def _joined_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The ``text`` a project builds: the text columns joined with a newline, nulls as ""."""
    parts = [frame[c].map(lambda v: "" if v is None or v is pd.NA
                          or (isinstance(v, float) and np.isnan(v)) else str(v)) for c in columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + "\n" + part
    return text.astype(str).reset_index(drop=True)


def _label_column(project: Project, label_col: str | None) -> str:
    cfg = project.config
    column = (label_col or cfg.evaluate.label_column or cfg.data.label_column
              or cfg.dev.label_column)
    if column is None:
        raise ConfigError(
            f"{cfg.path}: no gold label column to evaluate with; pass label_col=..., or set "
            "[evaluate] label_column or [data] label_column")
    return column


def read_labelled(
    project: Project,
    path: str | os.PathLike[str],
    *,
    label_col: str | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a labelled file as the project reads its data: rows with ``text``, and gold classes.

    Parameters
    ----------
    project : Project
        Gives the text columns, the labels and the default label column.
    path : path-like
        A CSV, JSONL or Parquet file with the ``[data] text_columns`` and the label column.
    label_col : str, optional
        The gold label column (default: ``[evaluate] label_column``, else ``[data]
        label_column``, else ``[dev] label_column``).

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        The rows without gold label columns (what LFs may see), plus ``text`` (the text columns
        joined as in the project), and the class index of each row.

    Raises
    ------
    DataError
        The file is missing or unreadable, lacks a column (the message lists the file's
        columns), a row has no label, or a label is not in the project's label set.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from weak_supervision.project import init_project, load_project
    >>> root = init_project(tempfile.mkdtemp())
    >>> _ = (root / "held_out.csv").write_text("text,label\\nMy parcel is late,shipping\\n")
    >>> frame, y = read_labelled(load_project(root), root / "held_out.csv")
    >>> frame["text"].tolist(), y.tolist()
    (['My parcel is late'], [1])
    """
    path = Path(path)
    column = _label_column(project, label_col)
    text_columns = list(project.config.data.text_columns)
    frame = read_table(path, columns=[*text_columns, column],
                       text_columns=[*text_columns, column], what="evaluation file")
    index = {label: i for i, label in enumerate(project.labels)}
    y = np.empty(len(frame), dtype=np.int64)
    for i, value in enumerate(frame[column].tolist()):
        if _is_missing(value):
            raise DataError(f"evaluation file {path}: row {i + 1} has no value in label column "
                            f"{column!r}; every row needs a gold label")
        key = _label_text(value)
        if key not in index:
            raise DataError(
                f"evaluation file {path}: row {i + 1}: label {value!r} in column {column!r} is "
                f"not a project label; valid labels: {', '.join(project.labels)}")
        y[i] = index[key]
    cfg = project.config
    hidden = [c for c in dict.fromkeys([column, cfg.data.label_column, cfg.dev.label_column])
              if c is not None and c in frame.columns and c not in text_columns]
    rows = frame.drop(columns=hidden).reset_index(drop=True)
    if "text" in rows.columns and "text" not in text_columns:
        rows = rows.drop(columns="text")
    rows["text"] = _joined_text(frame, text_columns)
    return rows, y


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainRun:
    """What one training job produced.

    Attributes
    ----------
    run_id : str
        The ``"train"`` run's id in the registry.
    label_run_id : str
        The label run whose training labels were used.
    model : EndModel
        The fitted end model (saved in ``paths["model"]``).
    paths : dict of str to Path
        ``model`` (the model folder) and ``summary`` (``train.json``).
    figures : dict
        Rows used, class weights, classes without rows, dev scores (when there is a dev set).
    timings : dict of str to float
        Seconds per stage.
    warnings : tuple of str
        Warnings raised while training.
    """

    run_id: str
    label_run_id: str
    model: EndModel = field(repr=False)
    paths: dict[str, Path]
    figures: dict[str, Any]
    timings: dict[str, float]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: run ids, the model's settings, figures, files, timings and warnings."""
        return {
            "run_id": self.run_id,
            "label_run_id": self.label_run_id,
            "model": self.model.get_params(),
            "figures": self.figures,
            "files": {k: str(v) for k, v in self.paths.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }


def _end_model(project: Project) -> EndModel:
    cfg = project.config.train
    return EndModel(kind=cfg.model, confidence_threshold=cfg.confidence_threshold,
                    weighting=cfg.weighting, C=cfg.C, max_features=cfg.max_features,
                    ngram_range=(int(cfg.ngram_range[0]), int(cfg.ngram_range[1])),
                    seed=cfg.seed, embedding_model=cfg.embedding_model,
                    cache_dir=str(project.workspace / "embeddings"))


def _check_classification(project: Project, what: str) -> None:
    if project.config.project.task != "classification":
        raise ConfigError(f"{project.config.path}: {what} needs [project] task = "
                          f"'classification', not {project.config.project.task!r}")


def _workspace(registry: Registry) -> Path:
    return Path(registry.path).parent


def _run_of_kind(registry: Registry, run_id: str, kind: str) -> RunRecord:
    record = registry.get_run(run_id)
    if record.kind != kind:
        raise DataError(f"run {run_id} is a {record.kind!r} run, not a {kind!r} run")
    if record.status != "ok":
        raise DataError(f"{kind} run {run_id} has status {record.status!r}; use a run that "
                        "finished ok")
    return record


def _aligned_labels(project: Project, labels: ProbabilisticLabels, source: Path
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(probs, covered)`` of the project's rows, from training labels keyed by row id."""
    position = {str(i): j for j, i in enumerate(labels.ids.tolist())}
    where = np.array([position.get(str(i), -1) for i in project.ids.tolist()], dtype=np.int64)
    found = where >= 0
    if not found.any():
        raise DataError(f"none of the project's row ids are in {source}; the data changed since "
                        "that label run: run `labelcycle label` again")
    k = len(project.labels)
    if len(labels.labels) != k or tuple(labels.labels) != tuple(project.labels):
        raise DataError(f"{source} has labels {list(labels.labels)} but the project has "
                        f"{list(project.labels)}; run `labelcycle label` again")
    probs = np.full((project.n_rows, k), 1.0 / k)
    probs[found] = labels.probs[where[found]]
    covered = np.zeros(project.n_rows, dtype=bool)
    covered[found] = labels.covered[where[found]]
    return probs, covered


def train_project(
    project: Project,
    *,
    label_run_id: str | None = None,
    stage: StageCallback | None = None,
) -> TrainRun:
    """Train the end model on a label run's training labels and save it in a ``"train"`` run.

    The dev rows are never trained on. Rows no LF voted on, and rows below ``[train]
    confidence_threshold``, are left out (see :class:`~weak_supervision.end_model.EndModel`).

    Parameters
    ----------
    project : Project
        A classification project.
    label_run_id : str, optional
        The label run to train on; default the latest successful one, or a new one
        (:func:`~weak_supervision.pipeline.label_project`) when there is none.
    stage : callable, optional
        Called with a short message as each stage starts.

    Returns
    -------
    TrainRun

    Raises
    ------
    DataError
        The label run is unknown, failed, or its labels do not match the project's rows; or no
        row is left to train on.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> run = train_project(load_project(init_project(tempfile.mkdtemp())))
    >>> run.figures["n_train_rows"] > 0, run.paths["model"].name
    (True, 'model')
    """
    say = stage or (lambda _msg: None)
    _check_classification(project, "training an end model")
    registry = registry_for(project)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if label_run_id is None:
        latest = registry.latest("label")
        if latest is None:
            say("no label run yet: labeling first")
            label_run_id = label_project(project, stage=stage).run_id
            timings["label"] = time.perf_counter() - t0
        else:
            label_run_id = latest.id
    record = _run_of_kind(registry, label_run_id, "label")
    label_fp = record.inputs.get("data_fingerprint")
    # runs of the stream/Dask engines fingerprint the files ("files:..."), not the loaded rows:
    # those are matched row by row by id below instead
    if label_fp not in (None, project.data_fingerprint) and not str(label_fp).startswith("files:"):
        warnings.warn(f"label run {label_run_id} was made on different data than the project "
                      "has now; rows it did not label are left out. Run `labelcycle label` again",
                      stacklevel=2)
    labels_path = run_dir(_workspace(registry), label_run_id) / "labels.parquet"
    labels = ProbabilisticLabels.read_parquet(labels_path)
    probs, covered = _aligned_labels(project, labels, labels_path)
    train_mask = ~project.dev_mask
    cfg = project.config.train
    run_id = registry.start_run("train", config_fingerprint=project.config.fingerprint, inputs={
        "project": project.name, "label_run_id": label_run_id,
        "data_fingerprint": project.data_fingerprint, "n_rows": project.n_rows,
        "train": project.config.to_dict()["train"]})
    try:
        say(f"training the {cfg.model} end model on {int((train_mask & covered).sum()):,} rows")
        t1 = time.perf_counter()
        model = _end_model(project)
        texts = project.data["text"].to_numpy(dtype=object)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(texts[train_mask], probs[train_mask], covered=covered[train_mask],
                      labels=project.labels)
        messages = list(dict.fromkeys(str(w.message) for w in caught
                                      if issubclass(w.category, UserWarning)))
        timings["fit"] = time.perf_counter() - t1
        folder = run_dir(_workspace(registry), run_id, create=True)
        paths = {"model": model.save(folder / "model"), "summary": folder / "train.json"}
        figures: dict[str, Any] = {
            "label_run_id": label_run_id,
            "model": cfg.model,
            "weighting": cfg.weighting,
            "n_train_rows": int(train_mask.sum()),
            "n_covered_train_rows": int((train_mask & covered).sum()),
            "n_used_rows": model.n_train_rows_,
            "n_samples": model.n_train_samples_,
            "class_weights": {lab: round(float(w), 4)
                              for lab, w in zip(project.labels, model.class_weights_, strict=True)},
            "classes_without_rows": [project.labels[c] for c in range(len(project.labels))
                                     if c not in set(model.trained_classes_.tolist())],
        }
        if project.dev_mask.any():
            dev = score_predictions(project.y_dev[project.dev_mask],
                                    model.predict(texts[project.dev_mask]), project.labels,
                                    source="dev", model="end_model", model_run_id=run_id,
                                    top_confusions=project.config.evaluate.top_confusions)
            figures["dev_end_model"] = {"accuracy": dev.accuracy, "macro_f1": dev.macro_f1,
                                        "n": dev.n}
        timings["total"] = time.perf_counter() - t0
        run = TrainRun(run_id, label_run_id, model, paths, figures, timings, tuple(messages))
        write_json(paths["summary"], run.to_dict())
    except BaseException as exc:
        registry.finish_run(run_id, status="failed", figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(run_id, status="ok", figures=figures)
    return run


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------


def _load_model(project: Project, model_run_id: str | None) -> tuple[EndModel, str]:
    registry = registry_for(project)
    if model_run_id is None:
        latest = registry.latest("train")
        if latest is None:
            raise LabelcycleError(f"no trained end model in {project.workspace}; run "
                                  "`labelcycle train` first")
        model_run_id = latest.id
    _run_of_kind(registry, model_run_id, "train")
    return EndModel.load(run_dir(_workspace(registry), model_run_id) / "model"), model_run_id


def evaluate_project(
    project: Project,
    *,
    data: str | os.PathLike[str] | None = None,
    label_col: str | None = None,
    model_run_id: str | None = None,
) -> EvalResult:
    """Score a trained end model on the dev set, or on a labelled file.

    Parameters
    ----------
    project : Project
        A classification project with a trained end model.
    data : path-like, optional
        A CSV, JSONL or Parquet file with the project's text columns and a gold label column;
        default: the project's dev rows.
    label_col : str, optional
        The gold label column of ``data`` (see :func:`read_labelled` for the default).
    model_run_id : str, optional
        The ``"train"`` run whose model to use; default the latest successful one.

    Returns
    -------
    EvalResult

    Raises
    ------
    LabelcycleError
        No trained model.
    DataError
        No dev set (and no ``data``); or ``data`` is unreadable, lacks a column, has a row
        without a label or a label outside the label set.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> project = load_project(init_project(tempfile.mkdtemp()))
    >>> _ = train_project(project)
    >>> result = evaluate_project(project)
    >>> result.source, result.n, [c.label for c in result.per_class]
    ('dev', 60, ['billing', 'shipping', 'product'])
    """
    _check_classification(project, "evaluating an end model")
    model, run_id = _load_model(project, model_run_id)
    top = project.config.evaluate.top_confusions
    if data is None:
        if not project.dev_mask.any():
            raise DataError(f"{project.config.path}: the project has no dev set; set [dev] sample "
                            "or [dev] path, or evaluate on a labelled file (data=...)")
        texts = project.data["text"].to_numpy(dtype=object)[project.dev_mask]
        return score_predictions(project.y_dev[project.dev_mask], model.predict(texts),
                                 project.labels, source="dev", model="end_model",
                                 top_confusions=top, model_run_id=run_id)
    frame, y = read_labelled(project, data, label_col=label_col)
    return score_predictions(y, model.predict(frame["text"].tolist()), project.labels,
                             source=str(data), model="end_model", top_confusions=top,
                             model_run_id=run_id)


# ----------------------------------------------------------------------------------------------
# Cycles
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricChange:
    """One figure before and after (None where a cycle lacks it) and the difference."""

    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        """``after - before``, or None."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class ClassChange:
    """A class's F1 under one model before and after."""

    model: str
    label: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        """``after - before``, or None."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class CycleDiff:
    """What changed from one cycle to another.

    Attributes
    ----------
    before, after : str
        The two cycle run ids.
    lfs_added, lfs_removed, lfs_edited : tuple of str
        LF names only in ``after``, only in ``before``, and in both with a different fingerprint.
    label_source : (str or None, str or None)
        Which label model produced the training labels, before and after.
    metrics : tuple of MetricChange
        Coverage, conflict rate, and each model's dev (and held-out) accuracy and macro-F1.
    per_class : tuple of ClassChange
        Per-class F1 on the dev set of the label model, majority vote and the end model.
    """

    before: str
    after: str
    lfs_added: tuple[str, ...]
    lfs_removed: tuple[str, ...]
    lfs_edited: tuple[str, ...]
    label_source: tuple[str | None, str | None]
    metrics: tuple[MetricChange, ...]
    per_class: tuple[ClassChange, ...]

    def metric(self, name: str) -> MetricChange:
        """The change of one figure, e.g. ``"dev.end_model.macro_f1"``."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no figure {name!r}; figures: {', '.join(m.name for m in self.metrics)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the LF changes, each figure's before/after/delta, per-class F1 changes."""
        return {
            "before": self.before,
            "after": self.after,
            "lfs_added": list(self.lfs_added),
            "lfs_removed": list(self.lfs_removed),
            "lfs_edited": list(self.lfs_edited),
            "label_source": list(self.label_source),
            "metrics": {m.name: {"before": m.before, "after": m.after, "delta": m.delta}
                        for m in self.metrics},
            "per_class": [{"model": c.model, "label": c.label, "before": c.before,
                           "after": c.after, "delta": c.delta} for c in self.per_class],
        }

    def to_frame(self) -> pd.DataFrame:
        """The figures as a table indexed by name: before, after, delta."""
        return pd.DataFrame([{"name": m.name, "before": m.before, "after": m.after,
                              "delta": m.delta} for m in self.metrics]).set_index("name")


@dataclass(frozen=True)
class CycleResult:
    """One label → train → evaluate cycle.

    Attributes
    ----------
    run_id : str
        The ``"cycle"`` run's id.
    label_run, train_run : LabelRun, TrainRun
        The two jobs it ran.
    evaluations : dict
        ``{"dev": {...}, "held_out": {...}}``: per split, an :class:`EvalResult` per model
        ("majority", "label_model", "end_model"); "held_out" only with ``[evaluate] path``.
    diff : CycleDiff or None
        Changes since the previous successful cycle (None for the first).
    figures : dict
        What the registry records (see :func:`history`).
    paths : dict of str to Path
        ``summary``: the cycle's ``cycle.json``.
    """

    run_id: str
    label_run: LabelRun = field(repr=False)
    train_run: TrainRun = field(repr=False)
    evaluations: dict[str, dict[str, EvalResult]]
    diff: CycleDiff | None
    figures: dict[str, Any]
    paths: dict[str, Path]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: figures, evaluations, the diff, the two jobs and the files."""
        return {
            "run_id": self.run_id,
            "label_run_id": self.label_run.run_id,
            "train_run_id": self.train_run.run_id,
            "figures": self.figures,
            "evaluations": {split: {m: r.to_dict() for m, r in models.items()}
                            for split, models in self.evaluations.items()},
            "diff": self.diff.to_dict() if self.diff else None,
            "label": {k: v for k, v in self.label_run.to_dict().items() if k != "lfs"},
            "train": self.train_run.to_dict(),
            "files": {k: str(v) for k, v in self.paths.items()},
        }


def _label_model_predictions(run: LabelRun, L: np.ndarray) -> dict[str, np.ndarray]:
    k = len(run.matrix.labels) or int(run.labels.probs.shape[1])
    out = {"majority": MajorityVote(k).fit(run.matrix.L).predict(L)}
    label_model = getattr(run.choice, "label_model", None)
    if label_model is None and run.choice.chosen == "label_model":
        label_model = run.choice.model
    if label_model is not None:
        out["label_model"] = label_model.predict(L)
    return out


def _held_out(project: Project, run: LabelRun, model: EndModel, train_id: str, *,
              use_cache: bool, n_jobs: int | None) -> dict[str, EvalResult]:
    from weak_supervision.apply import apply_lfs
    from weak_supervision.cache import LFCache

    cfg = project.config
    path = (cfg.root / cfg.evaluate.path).resolve()
    frame, y = read_labelled(project, path)
    cache = (LFCache(ensure_workspace(project) / "cache")
             if use_cache and cfg.apply.cache else None)
    matrix = apply_lfs(load_project_lfs(project), frame, labels=project.labels,
                       ids=make_ids(frame["text"]), cache=cache,
                       n_jobs=cfg.apply.n_jobs if n_jobs is None else n_jobs,
                       fault_tolerant=cfg.lfs.fault_tolerant)
    top = cfg.evaluate.top_confusions
    results = {name: score_predictions(y, pred, project.labels, source=str(path), model=name,
                                       top_confusions=top, model_run_id=run.run_id)
               for name, pred in _label_model_predictions(run, matrix.L).items()}
    results["end_model"] = score_predictions(y, model.predict(frame["text"].tolist()),
                                             project.labels, source=str(path), model="end_model",
                                             top_confusions=top, model_run_id=train_id)
    return results


PREDICTION_COLUMNS = ("id", "split", "gold", "majority", "label_model", "label_model_confidence",
                      "end_model", "end_model_confidence")
"""Columns of a cycle's ``predictions.parquet``: class indices, -1 for none (no gold, no vote)."""


def cycle_predictions(project: Project, label_run: LabelRun, train_run: TrainRun) -> pd.DataFrame:
    """One row per data row: split, gold (dev only), and each model's prediction and confidence.

    Class columns hold indices into ``project.labels``; -1 means unknown gold (pool rows) or no
    prediction (a label model on a row without votes). ``label_model`` is the training-label source
    the label run chose; ``majority`` is majority vote beside it.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> from weak_supervision.pipeline import label_project
    >>> project = load_project(init_project(tempfile.mkdtemp()))
    >>> run = label_project(project, n_jobs=1)
    >>> frame = cycle_predictions(project, run, train_project(project, label_run_id=run.run_id))
    >>> tuple(frame.columns) == PREDICTION_COLUMNS, sorted(frame["split"].unique())
    (True, ['dev', 'pool'])
    """
    L = label_run.matrix.L
    lm = label_run.labels
    probs, covered = lm.probs, lm.covered
    lm_pred = np.where(covered, np.argmax(probs, axis=1), -1) if len(probs) else np.zeros(0, int)
    lm_conf = np.where(covered, probs.max(axis=1) if len(probs) else 0.0, np.nan)
    k = len(project.labels)
    majority = MajorityVote(k).fit(L).predict(L)
    texts = project.data["text"].to_numpy(dtype=object)
    end_probs = train_run.model.predict_proba(list(texts)) if len(texts) else np.zeros((0, k))
    return pd.DataFrame({
        "id": [str(i) for i in project.ids],
        "split": np.where(project.dev_mask, "dev", "pool"),
        "gold": np.where(project.dev_mask, project.y_dev, -1).astype(np.int64),
        "majority": np.asarray(majority, dtype=np.int64),
        "label_model": np.asarray(lm_pred, dtype=np.int64),
        "label_model_confidence": np.asarray(lm_conf, dtype=float),
        "end_model": np.argmax(end_probs, axis=1).astype(np.int64),
        "end_model_confidence": end_probs.max(axis=1).astype(float),
    })


def write_predictions(path: Path, project: Project, label_run: LabelRun, train_run: TrainRun
                      ) -> Path:
    """Write :func:`cycle_predictions` to ``path`` (Parquet, atomically)."""
    frame = cycle_predictions(project, label_run, train_run)
    with atomic_write(path, mode="wb") as fh:
        frame.to_parquet(fh, index=False)
    return path


def _fingerprints(lfs: list[Any]) -> dict[str, str]:
    return {lf.name: (lf.fingerprint() if hasattr(lf, "fingerprint") else "") for lf in lfs}


def run_cycle(
    project: Project,
    *,
    use_cache: bool = True,
    n_jobs: int | None = None,
    stage: StageCallback | None = None,
) -> CycleResult:
    """Label, train and evaluate, record a ``"cycle"`` run, and compare it with the previous one.

    Steps: :func:`~weak_supervision.pipeline.label_project` (apply the LFs, fit and choose the
    label model, write the training labels), :func:`train_project` on those labels, then majority
    vote, the label model and the end model scored side by side on the dev set (label models
    count rows without votes as wrong) and, with ``[evaluate] path``, on that file. The cycle run
    records the LF fingerprints, the configuration, the seeds and every figure; its
    :class:`CycleDiff` compares it with the previous successful cycle.

    Parameters
    ----------
    project : Project
        A classification project.
    use_cache : bool, default True
        Reuse cached LF votes.
    n_jobs : int, optional
        Processes for applying LFs (default ``[apply] n_jobs``).
    stage : callable, optional
        Called with a short message as each stage starts.

    Returns
    -------
    CycleResult

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> result = run_cycle(load_project(init_project(tempfile.mkdtemp())), n_jobs=1)
    >>> result.evaluations["dev"]["end_model"].n
    60
    """
    say = stage or (lambda _msg: None)
    _check_classification(project, "a label-then-train cycle")
    registry = registry_for(project)
    t0 = time.perf_counter()
    lfs = load_project_lfs(project)
    fingerprints = _fingerprints(lfs)
    cfg = project.config
    seeds = {"label_model": cfg.label_model.seed, "train": cfg.train.seed, "dev": cfg.dev.seed}
    previous = next((r for r in registry.list_runs("cycle") if r.status == "ok"), None)
    run_id = registry.start_run("cycle", config_fingerprint=cfg.fingerprint, inputs={
        "project": project.name, "data_fingerprint": project.data_fingerprint,
        "n_rows": project.n_rows, "lf_fingerprints": fingerprints, "config": cfg.to_dict(),
        "seeds": seeds})
    try:
        label_run = label_project(project, use_cache=use_cache, n_jobs=n_jobs, stage=stage)
        train_run = train_project(project, label_run_id=label_run.run_id, stage=stage)
        say("evaluating on the dev set")
        evaluations: dict[str, dict[str, EvalResult]] = {}
        top = cfg.evaluate.top_confusions
        if project.dev_mask.any():
            y_dev = project.y_dev[project.dev_mask]
            preds = _label_model_predictions(label_run, label_run.matrix.L[project.dev_mask])
            dev = {name: score_predictions(y_dev, pred, project.labels, source="dev", model=name,
                                           top_confusions=top, model_run_id=label_run.run_id)
                   for name, pred in preds.items()}
            texts = project.data["text"].to_numpy(dtype=object)[project.dev_mask]
            dev["end_model"] = score_predictions(y_dev, train_run.model.predict(texts),
                                                 project.labels, source="dev",
                                                 model="end_model", top_confusions=top,
                                                 model_run_id=train_run.run_id)
            evaluations["dev"] = dev
        if cfg.evaluate.path is not None:
            say(f"evaluating on {cfg.evaluate.path}")
            evaluations["held_out"] = _held_out(project, label_run, train_run.model,
                                                train_run.run_id, use_cache=use_cache,
                                                n_jobs=n_jobs)
        figures = _cycle_figures(label_run, train_run, evaluations, fingerprints, seeds)
        figures["seconds"] = round(time.perf_counter() - t0, 3)
        current = RunRecord(run_id, "cycle", "", None, "running", cfg.fingerprint,
                            {"lf_fingerprints": fingerprints}, figures)
        diff = _diff_records(previous, current) if previous is not None else None
        if diff is not None:
            figures["diff"] = {"previous": previous.id, "lfs_added": list(diff.lfs_added),
                               "lfs_removed": list(diff.lfs_removed),
                               "lfs_edited": list(diff.lfs_edited)}
        folder = run_dir(_workspace(registry), run_id, create=True)
        paths = {"summary": folder / "cycle.json", "predictions": folder / "predictions.parquet",
                 "matrix": label_run.paths["matrix"]}
        say("writing per-row predictions")
        write_predictions(paths["predictions"], project, label_run, train_run)
        result = CycleResult(run_id, label_run, train_run, evaluations, diff, figures, paths)
        write_json(paths["summary"], result.to_dict())
    except BaseException as exc:
        registry.finish_run(run_id, status="failed", figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(run_id, status="ok", figures=figures)
    return result


def _cycle_figures(label_run: LabelRun, train_run: TrainRun,
                   evaluations: dict[str, dict[str, EvalResult]], fingerprints: dict[str, str],
                   seeds: dict[str, int]) -> dict[str, Any]:
    lf = label_run.figures
    return {
        "label_run_id": label_run.run_id,
        "train_run_id": train_run.run_id,
        "n_rows": lf.get("n_rows"),
        "n_dev": lf.get("n_dev"),
        "n_lfs": lf.get("n_lfs"),
        "coverage": lf.get("coverage"),
        "conflict_rate": lf.get("conflict_rate"),
        "label_source": label_run.choice.chosen,
        "label_model_choice": label_run.choice.to_dict(),
        "train": train_run.figures,
        "seeds": seeds,
        "lf_fingerprints": fingerprints,
        "evaluations": {split: {m: r.to_dict() for m, r in models.items()}
                        for split, models in evaluations.items()},
    }


def _figure(figures: dict[str, Any], path: str) -> float | None:
    value: Any = figures
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_MODELS = ("label_model", "majority", "end_model")


def _diff_records(before: RunRecord, after: RunRecord) -> CycleDiff:
    fa = before.inputs.get("lf_fingerprints") or before.figures.get("lf_fingerprints") or {}
    fb = after.inputs.get("lf_fingerprints") or after.figures.get("lf_fingerprints") or {}
    added = tuple(sorted(set(fb) - set(fa)))
    removed = tuple(sorted(set(fa) - set(fb)))
    edited = tuple(sorted(n for n in set(fa) & set(fb) if fa[n] != fb[n]))
    x, y = before.figures, after.figures
    names = ["coverage", "conflict_rate", "n_lfs"]
    splits = sorted(set(x.get("evaluations", {})) | set(y.get("evaluations", {})),
                    key=lambda s: (s != "dev", s))
    for split in splits:
        for model in _MODELS:
            for metric in ("accuracy", "macro_f1", "coverage"):
                names.append(f"{split}.{model}.{metric}")
    metrics = []
    for name in names:
        path = name if "." not in name else "evaluations." + name
        a, b = _figure(x, path), _figure(y, path)
        if a is not None or b is not None:
            metrics.append(MetricChange(name, a, b))
    per_class = []
    for model in _MODELS:
        f1_a = _class_f1(x, model)
        f1_b = _class_f1(y, model)
        for label in list(dict.fromkeys([*f1_a, *f1_b])):
            per_class.append(ClassChange(model, label, f1_a.get(label), f1_b.get(label)))
    return CycleDiff(before.id, after.id, added, removed, edited,
                     (x.get("label_source"), y.get("label_source")), tuple(metrics),
                     tuple(per_class))


def _class_f1(figures: dict[str, Any], model: str) -> dict[str, float | None]:
    result = figures.get("evaluations", {}).get("dev", {}).get(model)
    if not result:
        return {}
    return {c["label"]: c["f1"] for c in result.get("per_class", [])}


@dataclass(frozen=True)
class CycleSummary:
    """One cycle in :func:`history`: when, how many LFs, coverage, and the dev figures."""

    run_id: str
    started_at: str
    n_lfs: int | None
    coverage: float | None
    label_source: str | None
    dev: dict[str, dict[str, float | None]]
    lfs_added: tuple[str, ...] = ()
    lfs_removed: tuple[str, ...] = ()
    lfs_edited: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"run_id": self.run_id, "started_at": self.started_at, "n_lfs": self.n_lfs,
                "coverage": self.coverage, "label_source": self.label_source, "dev": self.dev,
                "lfs_added": list(self.lfs_added), "lfs_removed": list(self.lfs_removed),
                "lfs_edited": list(self.lfs_edited)}


def history(project: Project) -> list[CycleSummary]:
    """The project's successful cycles, oldest first, each compared with the one before.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> history(load_project(init_project(tempfile.mkdtemp())))  # no cycle run yet
    []
    """
    records = [r for r in registry_for(project).list_runs("cycle") if r.status == "ok"][::-1]
    out = []
    for i, record in enumerate(records):
        figures = record.figures
        dev = {m: {"accuracy": _figure(figures, f"evaluations.dev.{m}.accuracy"),
                   "macro_f1": _figure(figures, f"evaluations.dev.{m}.macro_f1")}
               for m in _MODELS if _figure(figures, f"evaluations.dev.{m}.accuracy") is not None}
        changes: tuple[tuple[str, ...], ...] = ((), (), ())
        if i > 0:
            d = _diff_records(records[i - 1], record)
            changes = (d.lfs_added, d.lfs_removed, d.lfs_edited)
        n_lfs = figures.get("n_lfs")
        out.append(CycleSummary(record.id, record.started_at,
                                int(n_lfs) if n_lfs is not None else None,
                                _figure(figures, "coverage"), figures.get("label_source"), dev,
                                *changes))
    return out


def diff_runs(project: Project, a: str, b: str) -> CycleDiff:
    """What changed from cycle run ``a`` to cycle run ``b``.

    Raises
    ------
    DataError
        Either id is unknown, not a cycle run, or did not finish ok.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> project = load_project(init_project(tempfile.mkdtemp()))
    >>> diff_runs(project, "20990101-000000-aaaaaa", "20990101-000000-bbbbbb")
    Traceback (most recent call last):
    labelfns.errors.DataError: no run '20990101-000000-aaaaaa' in ...; no runs recorded yet

    With two cycle runs ``a`` and ``b``: ``diff_runs(project, a, b).lfs_added``, and
    ``diff_runs(project, a, b).metric("dev.end_model.macro_f1").delta``.
    """
    registry = registry_for(project)
    return _diff_records(_run_of_kind(registry, a, "cycle"), _run_of_kind(registry, b, "cycle"))
