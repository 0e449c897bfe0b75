"""The labeling job of a project, on data of any size: streamed here or on a Dask cluster.

:func:`label_project_scaled` does what :func:`weak_supervision.pipeline.label_project` does
(apply the LFs, fit and choose the label model, write probabilistic labels, record a "label" run)
without loading the data: partitions are read, labelled and written one at a time (``engine=
"stream"``) or on Dask workers (``engine="dask"``). The driver holds the label statistics
(``(LFs x classes)^2``), the dev rows and one partition at most (none with Dask).

Output, in ``.labelcycle/runs/<run_id>/``:

- ``label_matrix.parquet/part-NNNNN.parquet``: ``id`` and the votes of each LF (int16, -1 =
  abstain), one file per partition, in row order;
- ``labels.parquet/part-NNNNN.parquet``: the probabilistic labels, as
  :meth:`ProbabilisticLabels.write_parquet` writes them (``ProbabilisticLabels.read_parquet`` and
  ``pandas.read_parquet`` read the folder as one table);
- ``stats.npz`` (the label statistics), ``summary.json``, and ``manifest.json``, written last and
  atomically: a run without a manifest is incomplete, whatever files it left.

Example
-------
>>> import tempfile
>>> from weak_supervision.project import init_project
>>> run = label_project_scaled(init_project(tempfile.mkdtemp() + "/demo"), chunk_rows=100)
>>> run.n_rows, run.n_partitions, run.paths["manifest"].name
(300, 3, 'manifest.json')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from labelfns.errors import ConfigError, DataError
from labelfns.loading import load_lfs
from weak_supervision.config import ProjectConfig, ensure_data, load_config
from weak_supervision.io import atomic_write, json_default
from weak_supervision.label_stats import LabelStats, fit_label_model
from weak_supervision.project import WORKSPACE_NAME, ensure_workspace
from weak_supervision.registry import Registry, run_dir
from weak_supervision.streaming import (
    DEFAULT_CHUNK_ROWS,
    LocalRunner,
    Partition,
    PartitionJob,
    PartitionProgress,
    apply_partition,
    check_schemas,
    data_files,
    file_columns,
    find_duplicate_ids,
    gather_task,
    plan_partitions,
    predict_task,
)

__all__ = ["ScaledLabelRun", "label_project_scaled", "read_manifest", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.json"
"""Written last in a complete run folder."""

Engine = Literal["stream", "dask"]
StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class ScaledLabelRun:
    """What one scaled labeling job produced.

    Attributes
    ----------
    run_id : str
        The "label" run in the workspace registry.
    engine : str
        "stream" or "dask".
    n_rows, n_partitions : int
        Rows labelled and partitions they were cut into.
    choice : LabelModelChoice
        The label model choice (as ``label_project``'s), fitted from the statistics.
    stats : LabelStats
        The merged label statistics.
    paths : dict of str to Path
        ``matrix`` and ``labels`` (folders of Parquet parts), ``stats``, ``summary``,
        ``manifest``.
    figures : dict
        The figures of ``label_project`` (coverage, conflict rate, dev scores, ...) plus
        ``engine``, ``n_partitions``, ``rows_per_s`` and ``workers``.
    timings : dict of str to float
        Seconds per stage: ``plan``, ``apply``, ``ids``, ``fit``, ``predict``, ``total``.
    warnings : tuple of str
        Warnings raised while fitting.
    """

    run_id: str
    engine: str
    n_rows: int
    n_partitions: int
    choice: Any = field(repr=False)
    stats: LabelStats = field(repr=False)
    paths: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per LF: coverage, votes and the label model's learned accuracy.

        >>> import numpy as np
        >>> from weak_supervision.label_stats import LabelStats, fit_label_model
        >>> stats = LabelStats.from_matrix(np.array([[0, 1, -1], [0, 0, 0]]), cardinality=2)
        >>> choice = fit_label_model(stats, prefer="majority")
        >>> ScaledLabelRun("run", "stream", 2, 1, choice, stats).to_frame()["votes"].tolist()
        [2, 2, 1]
        """
        model = getattr(self.choice, "label_model", None) or self.choice.model
        learned = getattr(model, "lf_accuracies_", None)
        votes = self.stats.vote_counts().sum(axis=1)
        return pd.DataFrame({
            "lf": list(self.stats.lf_names),
            "coverage": self.stats.coverage(),
            "votes": votes,
            "learned_accuracy": (np.asarray(learned, dtype=float) if learned is not None
                                 else np.full(len(votes), np.nan)),
        })

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: figures, the label model choice, per-LF statistics, files, timings."""
        return {
            "run_id": self.run_id,
            "engine": self.engine,
            "figures": self.figures,
            "label_model": self.choice.to_dict(),
            "lfs": self.to_frame().to_dict(orient="records"),
            "files": {k: str(v) for k, v in self.paths.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a complete scaled run folder; raises if the run is incomplete.

    >>> read_manifest("/no/such/run")
    Traceback (most recent call last):
    labelfns.errors.DataError: /no/such/run has no manifest.json: the run did not complete ...
    """
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise DataError(f"{folder} has no {MANIFEST_NAME}: the run did not complete (or is not a "
                        "scaled run); its partition files must not be used")
    return json.loads(path.read_text("utf-8"))


def label_project_scaled(
    config_or_path: ProjectConfig | str | os.PathLike[str],
    *,
    engine: Engine | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    chunk_rows: int | None = None,
    use_cache: bool = True,
    fault_tolerant: bool | None = None,
    progress: PartitionProgress | None = None,
    stage: StageCallback | None = None,
    scheduler_timeout: float = 10.0,
) -> ScaledLabelRun:
    """Label a project's data partition by partition, without loading it, and record the run.

    Parameters
    ----------
    config_or_path : ProjectConfig, or a project folder / ``labelcycle.toml``
        The project (a loaded ``Project`` works too: its ``config`` is used, not its data).
    engine : {"stream", "dask"}, optional
        Default: ``[apply] engine`` when it is one of these, else "stream".
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``); default ``[apply] scheduler``; without
        one a ``LocalCluster`` on 127.0.0.1 is started (and closed at the end).
    n_workers : int, optional
        Workers of the local cluster (default ``[apply] n_workers``, 0 = one per core).
    chunk_rows : int, optional
        Rows per partition (default ``[apply] chunk_rows``).
    use_cache : bool, default True
        Use the LF cache (``.labelcycle/cache/partitions/``) when ``[apply] cache`` is on.
    fault_tolerant : bool, optional
        Default ``[lfs] fault_tolerant``.
    progress : callable, optional
        ``progress(partitions_done, partitions_total)`` while the LFs are applied.
    stage : callable, optional
        ``stage(message)`` at each stage.
    scheduler_timeout : float, default 10.0
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    ScaledLabelRun

    Raises
    ------
    ConfigError
        Not a classification project, or an unknown engine.
    DataError
        Files with different columns, a missing column, a repeated id, an unknown label.
    LabelcycleError
        The scheduler does not answer, an LF cannot be sent to workers, workers died.
    """
    started = time.perf_counter()
    say = stage or (lambda _msg: None)
    config = getattr(config_or_path, "config", config_or_path)
    if not isinstance(config, ProjectConfig):
        config = load_config(config_or_path)  # type: ignore[arg-type]
    ensure_data(config)
    if config.project.task != "classification":
        raise ConfigError(f"{config.path}: the scaled engines label classification projects; "
                          f"this project's task is {config.project.task!r}")
    apply_cfg = config.apply
    engine = engine or (apply_cfg.engine if apply_cfg.engine in ("stream", "dask") else "stream")
    if engine not in ("stream", "dask"):
        raise ConfigError(f"engine must be 'stream' or 'dask', got {engine!r}")
    chunk_rows = int(chunk_rows or apply_cfg.chunk_rows or DEFAULT_CHUNK_ROWS)
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive number of rows, got {chunk_rows}")
    scheduler = scheduler or apply_cfg.scheduler
    if n_workers is None:
        n_workers = apply_cfg.n_workers
    timings: dict[str, float] = {}

    say("loading LFs")
    lfs = load_lfs(config.lfs.modules, base_dir=config.root)
    labels = tuple(config.project.labels)
    files = [Path(p) for p in data_files(config.root / config.data.path)]
    dev_path = config.root / config.dev.path if config.dev.path is not None else None
    columns, hidden = _check_columns(config, files, dev_path)
    workspace = ensure_workspace(config.root)
    registry = Registry(workspace / "registry.sqlite")
    lf_fps = {lf.name: (lf.fingerprint() if hasattr(lf, "fingerprint") else "") for lf in lfs}
    run_id = registry.start_run("label", config_fingerprint=config.fingerprint, inputs={
        "project": config.project.name or config.root.name,
        "data_fingerprint": _files_fingerprint(files + ([dev_path] if dev_path else [])),
        "n_rows": None, "lf_fingerprints": lf_fps, "engine": engine, "chunk_rows": chunk_rows})
    folder = run_dir(workspace, run_id, create=True)
    for sub in ("label_matrix.parquet", "labels.parquet", "_work"):
        (folder / sub).mkdir(exist_ok=True)
    job = PartitionJob(
        lfs=list(lfs), lf_names=tuple(lf.name for lf in lfs), labels=labels,
        columns=tuple(columns), text_columns=tuple(config.data.text_columns),
        hidden=tuple(hidden), id_column=config.data.id_column,
        label_column=config.data.label_column, dev_label_column=config.dev.label_column,
        out_dir=str(folder),
        cache_dir=str(workspace / "cache") if use_cache and apply_cfg.cache else None,
        fault_tolerant=(config.lfs.fault_tolerant if fault_tolerant is None else fault_tolerant),
        n_jobs=apply_cfg.n_jobs if engine == "stream" else 1)
    runner: Any = None
    try:
        t = time.perf_counter()
        say(f"planning partitions of {chunk_rows:,} rows")
        parts = plan_partitions(files, chunk_rows=chunk_rows, dev_path=dev_path)
        timings["plan"] = time.perf_counter() - t
        if engine == "dask":
            from weak_supervision.dask_engine import DaskRunner

            say("connecting to " + (scheduler or "a local Dask cluster"))
            runner = DaskRunner(scheduler, n_workers=n_workers or None, timeout=scheduler_timeout)
        else:
            runner = LocalRunner()
        run = _run(config, job, parts, runner, run_id, folder, say, progress, timings, engine)
    except BaseException as exc:
        registry.finish_run(run_id, status="failed",
                            figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        if runner is not None:
            runner.close()
    timings["total"] = time.perf_counter() - started
    run.figures["rows_per_s"] = round(run.n_rows / max(timings["total"], 1e-9), 1)
    _write_outputs(run, folder, parts)
    shutil.rmtree(folder / "_work", ignore_errors=True)
    registry.finish_run(run_id, status="ok", figures=run.figures)
    return run


# -- the stages ----------------------------------------------------------------------------------
def _run(config: ProjectConfig, job: PartitionJob, parts: list[Partition], runner: Any,
         run_id: str, folder: Path, say: StageCallback, progress: PartitionProgress | None,
         timings: dict[str, float], engine: str) -> ScaledLabelRun:
    t = time.perf_counter()
    say(f"applying {len(job.lfs)} LFs to {len(parts)} partitions ({runner.name})")
    results = runner.map(apply_partition, parts, job, progress=progress)
    stats = LabelStats.combine(r.stats for r in results)
    timings["apply"] = time.perf_counter() - t

    t = time.perf_counter()
    say("checking ids across partitions")
    fixes = find_duplicate_ids(job, parts, generated=job.id_column is None)
    timings["ids"] = time.perf_counter() - t

    t = time.perf_counter()
    L_dev, y_dev = _dev_rows(config, job, parts, results, runner)
    say(f"fitting the label model from statistics of {stats.n_rows:,} rows"
        + (f" and {len(y_dev):,} dev rows" if y_dev is not None else ""))
    cfg = config.label_model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        choice = fit_label_model(stats, L_dev=L_dev, Y_dev=y_dev, prefer=cfg.source,
                                 seed=cfg.seed, n_epochs=cfg.n_epochs, lr=cfg.lr, l2=cfg.l2,
                                 search=cfg.search, search_budget=cfg.search_budget)
    messages = list(dict.fromkeys(str(w.message) for w in caught
                                  if issubclass(w.category, UserWarning)))
    timings["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    say("writing probabilistic labels")
    light = dataclasses.replace(job, lfs=[])
    predicted = runner.map(predict_task, [(p, fixes.get(p.index)) for p in parts],
                           (light, choice.model, choice.chosen))
    timings["predict"] = time.perf_counter() - t

    n_cov = sum(r.n_covered for r in predicted)
    faults: dict[str, int] = {}
    cached = 0
    for r in results:
        for name, v in r.faults.items():
            faults[name] = faults.get(name, 0) + int(v)
        cached += int(sum(r.cached.values()))
    figures: dict[str, Any] = {
        "n_rows": stats.n_rows,
        "n_lfs": stats.n_lfs,
        "n_dev": int(len(y_dev)) if y_dev is not None else 0,
        "coverage": stats.n_covered / max(stats.n_rows, 1),
        "conflict_rate": stats.n_conflict / max(stats.n_rows, 1),
        "label_source": choice.chosen,
        "faults": {k: v for k, v in faults.items() if v},
        "cached_votes": cached,
        "mean_confidence": (sum(r.confidence_sum for r in predicted) / n_cov) if n_cov else 0.0,
        "class_counts": dict(zip(job.labels,
                                 (int(c) for c in np.sum([r.class_counts for r in predicted],
                                                         axis=0)), strict=True)),
        "engine": engine,
        "n_partitions": len(parts),
        "workers": len({r.worker for r in results}),
    }
    for name, scores in (("majority", choice.majority_scores),
                         ("label_model", choice.label_model_scores)):
        if scores is not None:
            figures[f"dev_{name}"] = scores.to_dict()
    paths = {"matrix": folder / "label_matrix.parquet", "labels": folder / "labels.parquet",
             "stats": folder / "stats.npz", "summary": folder / "summary.json",
             "manifest": folder / MANIFEST_NAME}
    return ScaledLabelRun(run_id, engine, stats.n_rows, len(parts), choice, stats, paths,
                          figures, timings, tuple(messages))


def _dev_rows(config: ProjectConfig, job: PartitionJob, parts: list[Partition], results: list[Any],
              runner: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Votes and gold labels of the dev rows, in row order; the only rows collected."""
    dev = config.dev
    items: list[tuple[Partition, np.ndarray | None]] = []
    if dev.path is not None:
        items = [(p, None) for p in parts if p.is_dev]
    elif dev.sample is not None:
        data_parts = [p for p in parts if not p.is_dev]
        counts = np.array([results[p.index].n_labelled for p in data_parts], dtype=np.int64)
        total = int(counts.sum())
        if dev.sample > total:
            raise DataError(f"[dev] sample = {dev.sample} but the data has only {total} labelled "
                            "rows; lower [dev] sample or label more rows")
        chosen = np.sort(np.random.default_rng(dev.seed).choice(total, size=dev.sample,
                                                                 replace=False))
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for i, p in enumerate(data_parts):
            lo, hi = np.searchsorted(chosen, [bounds[i], bounds[i + 1]])
            if hi > lo:
                items.append((p, chosen[lo:hi] - bounds[i]))
    if not items:
        return None, None
    got = runner.map(gather_task, items, dataclasses.replace(job, lfs=[]))
    return np.concatenate([g[0] for g in got]), np.concatenate([g[1] for g in got])


def _check_columns(config: ProjectConfig, files: list[Path], dev_path: Path | None
                   ) -> tuple[list[str], list[str]]:
    """The raw columns every data partition must have, and the columns LFs must not see."""
    data_cfg, dev_cfg = config.data, config.dev
    columns = check_schemas(files)
    label_cols = [c for c in dict.fromkeys([data_cfg.label_column, dev_cfg.label_column]) if c]
    required = [*data_cfg.text_columns, *([data_cfg.id_column] if data_cfg.id_column else [])]
    if data_cfg.label_column:
        required.append(data_cfg.label_column)
    if dev_cfg.sample is not None and dev_cfg.label_column:
        required.append(dev_cfg.label_column)
    missing = [c for c in dict.fromkeys(required) if c not in columns]
    if missing:
        raise DataError(f"data file {files[0]} has no column {', '.join(map(repr, missing))}; "
                        f"available columns: {', '.join(columns)}")
    missing_hidden = [c for c in data_cfg.hide_columns if c not in columns]
    if missing_hidden:
        raise DataError(f"{files[0]}: [data] hide_columns names {missing_hidden}, which the data "
                        f"does not have; columns: {', '.join(columns)}")
    overlap = set(data_cfg.hide_columns) & set(data_cfg.text_columns)
    if overlap:
        raise DataError(f"{files[0]}: {sorted(overlap)} is in both text_columns and hide_columns")
    if "text" in columns and "text" not in data_cfg.text_columns:
        warnings.warn(f"{files[0]}: the column 'text' is replaced by the joined text_columns "
                      f"{list(data_cfg.text_columns)} in what labeling functions see; rename it "
                      "to keep it", stacklevel=3)
    hidden = list(dict.fromkeys([*label_cols, *data_cfg.hide_columns]))
    if dev_path is not None:
        dev_cols = file_columns(dev_path)
        need = [c for c in columns if c not in hidden] + [dev_cfg.label_column or ""]
        lacking = [c for c in need if c not in dev_cols]
        if lacking:
            raise DataError(f"dev file {dev_path} has no column {', '.join(map(repr, lacking))}; "
                            f"available columns: {', '.join(dev_cols)}")
    return list(columns), hidden


def _files_fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        st = p.stat()
        digest.update(f"{p.name}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
    return "files:" + digest.hexdigest()


def _write_outputs(run: ScaledLabelRun, folder: Path, parts: list[Partition]) -> None:
    run.stats.save(run.paths["stats"])
    with atomic_write(run.paths["summary"]) as fh:
        json.dump(run.to_dict(), fh, indent=2, default=json_default)
    manifest = {
        "run_id": run.run_id,
        "engine": run.engine,
        "complete": True,
        "n_rows": run.n_rows,
        "lf_names": list(run.stats.lf_names),
        "labels": _labels_of(run),
        "partitions": [{"index": p.index, "source": p.path, "start": p.start, "stop": p.stop,
                        "is_dev": p.is_dev,
                        "matrix": f"label_matrix.parquet/{p.name}.parquet",
                        "labels": f"labels.parquet/{p.name}.parquet"} for p in parts],
        "workspace": WORKSPACE_NAME,
    }
    with atomic_write(run.paths["manifest"]) as fh:
        json.dump(manifest, fh, indent=2, default=json_default)


def _labels_of(run: ScaledLabelRun) -> list[str]:
    return [str(k) for k in run.figures.get("class_counts", {})]
