"""The labeling job of a project: apply its LFs, fit the label model, write training labels.

This is what ``labelcycle label`` runs; the CLI only renders the returned record.

Example
-------
>>> import tempfile
>>> from weak_supervision.project import init_project, load_project
>>> root = init_project(tempfile.mkdtemp() + "/demo")
>>> run = label_project(load_project(root), n_jobs=1)
>>> run.choice.chosen in ("label_model", "majority")
True
>>> run.paths["labels"].name
'labels.parquet'
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.loading import load_lfs
from weak_supervision.apply import ProgressCallback, apply_lfs
from weak_supervision.cache import LFCache
from weak_supervision.io import atomic_write
from weak_supervision.label_matrix import LabelMatrix
from weak_supervision.label_model import LabelModelChoice, select_label_model
from weak_supervision.lf_summary import LFSummary, lf_summary
from weak_supervision.prob_labels import ProbabilisticLabels
from weak_supervision.project import Project, ensure_workspace
from weak_supervision.registry import Registry, run_dir

__all__ = ["LabelRun", "label_project", "analyze_lfs", "load_project_lfs", "registry_for"]

StageCallback = Callable[[str], None]


@dataclass(frozen=True)
class LabelRun:
    """What one labeling job produced.

    Attributes
    ----------
    run_id : str
        The run's id in the workspace registry.
    matrix : LabelMatrix
        The LF votes.
    choice : LabelModelChoice
        Both label models' dev figures and which one produced the training labels.
    labels : ProbabilisticLabels
        The training labels.
    summary : LFSummary
        The LF table.
    paths : dict of str to Path
        Files written: ``labels`` (Parquet), ``matrix`` (Parquet), ``summary`` (JSON).
    timings : dict of str to float
        Seconds per stage.
    warnings : tuple of str
        Warnings raised while fitting (degenerate fits and the like).
    """

    run_id: str
    matrix: LabelMatrix
    choice: LabelModelChoice
    labels: ProbabilisticLabels
    summary: LFSummary
    paths: dict[str, Path]
    timings: dict[str, float]
    warnings: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the figures, the label-model choice, the LF table and the files written."""
        return {
            "run_id": self.run_id,
            "figures": self.figures,
            "label_model": self.choice.to_dict(),
            "lfs": self.summary.to_dict(),
            "files": {k: str(v) for k, v in self.paths.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }


def registry_for(project: Project) -> Registry:
    """The project's run registry (``.labelcycle/registry.sqlite``)."""
    return Registry(ensure_workspace(project) / "registry.sqlite")


def load_project_lfs(project: Project) -> list[Any]:
    """The project's LFs, loaded from its LF modules in order."""
    return load_lfs(project.lf_modules, base_dir=project.root)


def _apply(project: Project, lfs: list[Any], *, use_cache: bool, n_jobs: int | None,
           fault_tolerant: bool | None, progress: ProgressCallback | None) -> LabelMatrix:
    workspace = ensure_workspace(project)
    cache = LFCache(workspace / "cache") if use_cache and project.config.apply.cache else None
    return apply_lfs(
        lfs, project.data, labels=project.labels, ids=project.ids, cache=cache,
        n_jobs=project.config.apply.n_jobs if n_jobs is None else n_jobs,
        fault_tolerant=project.config.lfs.fault_tolerant if fault_tolerant is None else fault_tolerant,
        progress=progress)


def _fit(project: Project, matrix: LabelMatrix) -> tuple[LabelModelChoice, list[str]]:
    cfg = project.config.label_model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        choice = select_label_model(
            matrix, cardinality=len(project.labels),
            Y_dev=project.y_dev if (project.y_dev >= 0).any() else None,
            prefer=cfg.source, seed=cfg.seed, n_epochs=cfg.n_epochs, lr=cfg.lr, l2=cfg.l2,
            search=cfg.search, search_budget=cfg.search_budget)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return choice, list(dict.fromkeys(messages))


def _summary(project: Project, matrix: LabelMatrix, choice: LabelModelChoice) -> LFSummary:
    # the label model's learned accuracies, also when majority vote produced the labels
    fitted = choice.model if choice.chosen == "label_model" else getattr(choice, "label_model", None)
    learned = getattr(fitted, "lf_accuracies_", None)
    y = project.y_dev if (project.y_dev >= 0).any() else None
    return lf_summary(matrix, matrix.lf_names, Y=y, labels=project.labels, learned_accuracy=learned)


def analyze_lfs(project: Project, *, use_cache: bool = True, n_jobs: int | None = None,
                fault_tolerant: bool | None = None, progress: ProgressCallback | None = None
                ) -> tuple[LFSummary, LabelMatrix, LabelModelChoice]:
    """The LF table of a project (votes from the cache where possible); writes no run."""
    matrix = _apply(project, load_project_lfs(project), use_cache=use_cache, n_jobs=n_jobs,
                    fault_tolerant=fault_tolerant, progress=progress)
    choice, _ = _fit(project, matrix)
    return _summary(project, matrix, choice), matrix, choice


def label_project(
    project: Project,
    *,
    use_cache: bool = True,
    n_jobs: int | None = None,
    fault_tolerant: bool | None = None,
    progress: ProgressCallback | None = None,
    stage: StageCallback | None = None,
    out: str | Path | None = None,
) -> LabelRun:
    """Apply the project's LFs, fit and pick the label model, and write the training labels.

    Files go to ``.labelcycle/runs/<run_id>/`` (and ``out``, if given); the run is recorded in the
    workspace registry with its input fingerprints and figures, also when it fails.
    """
    say = stage or (lambda _msg: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("loading LFs")
    lfs = load_project_lfs(project)
    registry = registry_for(project)
    lf_fps = {lf.name: (lf.fingerprint() if hasattr(lf, "fingerprint") else "") for lf in lfs}
    run_id = registry.start_run("label", config_fingerprint=project.config.fingerprint, inputs={
        "project": project.name, "data_fingerprint": project.data_fingerprint,
        "n_rows": project.n_rows, "lf_fingerprints": lf_fps})
    try:
        say(f"applying {len(lfs)} LFs to {project.n_rows:,} rows")
        matrix = _apply(project, lfs, use_cache=use_cache, n_jobs=n_jobs,
                        fault_tolerant=fault_tolerant, progress=progress)
        timings["apply"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        say("fitting the label model")
        choice, messages = _fit(project, matrix)
        timings["fit"] = time.perf_counter() - t1
        probs = ProbabilisticLabels.from_model(choice.model, matrix, matrix.ids, project.labels,
                                               choice.chosen)
        summary = _summary(project, matrix, choice)
        figures = _figures(project, matrix, choice, probs)
        folder = run_dir(ensure_workspace(project), run_id, create=True)
        paths = {"labels": folder / "labels.parquet", "matrix": folder / "label_matrix.parquet",
                 "summary": folder / "summary.json"}
        probs.write_parquet(paths["labels"])
        _write_matrix(matrix, paths["matrix"])
        if out is not None:
            probs.write_parquet(Path(out))
            paths["out"] = Path(out)
        timings["total"] = time.perf_counter() - t0
        run = LabelRun(run_id, matrix, choice, probs, summary, paths, timings, tuple(messages),
                       figures)
        with atomic_write(paths["summary"]) as fh:
            import json

            json.dump(run.to_dict(), fh, indent=2, default=_json_default)
    except BaseException as exc:
        registry.finish_run(run_id, status="failed", figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(run_id, status="ok", figures=figures)
    return run


def _figures(project: Project, matrix: LabelMatrix, choice: LabelModelChoice,
             probs: ProbabilisticLabels) -> dict[str, Any]:
    L = matrix.L
    voted = (L != -1).sum(axis=1)
    conflict = np.zeros(len(L), dtype=bool)
    if L.size:
        lo = np.where(L == -1, np.iinfo(L.dtype).max, L).min(axis=1)
        hi = L.max(axis=1)
        conflict = (voted >= 2) & (lo != hi)
    fig: dict[str, Any] = {
        "n_rows": matrix.n_rows,
        "n_lfs": matrix.n_lfs,
        "n_dev": int(project.dev_mask.sum()),
        "coverage": float((voted > 0).mean()) if len(L) else 0.0,
        "conflict_rate": float(conflict.mean()) if len(L) else 0.0,
        "label_source": choice.chosen,
        "faults": {k: int(v) for k, v in matrix.faults.items() if v},
        "cached_votes": int(sum(matrix.cached.values())),
        "mean_confidence": float(probs.confidence[probs.covered].mean()) if probs.covered.any() else 0.0,
    }
    for name, scores in (("majority", choice.majority_scores), ("label_model", choice.label_model_scores)):
        if scores is not None:
            fig[f"dev_{name}"] = _scores_dict(scores)
    return fig


def _scores_dict(scores: Any) -> dict[str, Any]:
    if hasattr(scores, "to_dict"):
        return scores.to_dict()
    return {k: getattr(scores, k) for k in ("accuracy", "macro_f1", "n", "coverage") if hasattr(scores, k)}


def _write_matrix(matrix: LabelMatrix, path: Path) -> None:
    frame = matrix.to_frame().reset_index()
    frame["id"] = frame["id"].astype(str)
    with atomic_write(path, mode="wb") as fh:
        frame.to_parquet(fh, index=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, pd.Timestamp)):
        return str(value)
    return str(value)
