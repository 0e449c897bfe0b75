"""Read what LF suggestions need from a cycle run: per-row predictions and the label matrix.

:func:`read_cycle` finds a ``"cycle"`` run (the latest successful one by default), reads its
``predictions.parquet`` (columns :data:`weak_supervision.cycle.PREDICTION_COLUMNS`) and the
``label_matrix.parquet`` of the label run it names, and aligns both with the project's rows by id.
Files whose ids do not match the project's rows raise :class:`~labelfns.errors.DataError` with the
counts, so a cycle of an edited data file is never read silently.

Example
-------
>>> import tempfile
>>> from weak_supervision.project import init_project, load_project
>>> from weak_supervision.cycle import run_cycle
>>> project = load_project(init_project(tempfile.mkdtemp()))
>>> _ = run_cycle(project, n_jobs=1)  # doctest: +SKIP
>>> frame, L, names = read_cycle(project)  # doctest: +SKIP
>>> len(frame) == L.shape[0] == project.n_rows, L.shape[1] == len(names)  # doctest: +SKIP
(True, True)
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError, LabelcycleError
from weak_supervision.pipeline import registry_for
from weak_supervision.registry import run_dir

__all__ = ["read_cycle", "align_ids", "dev_texts_by_class"]


def align_ids(project_ids: Any, file_ids: Any, *, where: str) -> np.ndarray:
    """Positions in ``file_ids`` of each project id; DataError with counts when they differ.

    >>> align_ids(["a", "b"], ["b", "a"], where="f").tolist()
    [1, 0]
    """
    want = [str(i) for i in project_ids]
    have = [str(i) for i in file_ids]
    pos = {v: i for i, v in enumerate(have)}
    if len(pos) != len(have):
        raise DataError(f"{where}: {len(have) - len(pos)} duplicated ids; rerun the cycle")
    missing = [v for v in want if v not in pos]
    extra = len(set(have) - set(want))
    if missing or extra:
        raise DataError(
            f"{where}: its ids do not match the project's rows ({len(want)} rows, {len(have)} in "
            f"the file, {len(missing)} project rows missing from it, {extra} ids not in the "
            f"project); the data changed since that cycle: run `labelcycle cycle` again")
    return np.array([pos[v] for v in want], dtype=np.int64)


def read_cycle(project: Any, *, run_id: str | None = None
               ) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """A cycle's predictions and label matrix, aligned with ``project``'s rows.

    Parameters
    ----------
    project : weak_supervision.project.Project
    run_id : str, optional
        A ``"cycle"`` run id; default the latest successful cycle.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray, tuple of str)
        The predictions (one row per project row, in order), the label matrix ``L`` (rows x LFs;
        zero columns when the file is missing) and the LF names.

    Raises
    ------
    LabelcycleError
        No cycle has run, the run is not a cycle, or its predictions file is missing.
    DataError
        The files' ids do not match the project's rows.
    """
    registry = registry_for(project)
    if run_id is None:
        record = registry.latest("cycle")
        if record is None:
            raise LabelcycleError(f"no successful cycle in {project.workspace}; run "
                                  "`labelcycle cycle` first")
    else:
        record = registry.get_run(run_id)
        if record.kind != "cycle":
            raise LabelcycleError(f"run {run_id} is a {record.kind!r} run, not a cycle; pick a "
                                  "cycle run (`labelcycle history`)")
    folder = run_dir(project.workspace, record.id)
    path = folder / "predictions.parquet"
    if not path.is_file():
        raise LabelcycleError(f"{path} is missing: cycle {record.id} wrote no predictions; run "
                              "`labelcycle cycle` again")
    frame = pd.read_parquet(path)
    order = align_ids(project.ids, frame["id"], where=str(path))
    frame = frame.iloc[order].reset_index(drop=True)
    label_run = record.figures.get("label_run_id")
    L = np.zeros((project.n_rows, 0), dtype=np.int64)
    names: tuple[str, ...] = ()
    if label_run:
        mpath = Path(run_dir(project.workspace, str(label_run))) / "label_matrix.parquet"
        if mpath.is_file():
            matrix = pd.read_parquet(mpath)
            morder = align_ids(project.ids, matrix["id"], where=str(mpath))
            names = tuple(str(c) for c in matrix.columns if c != "id")
            L = matrix[list(names)].to_numpy(dtype=np.int64)[morder]
    return frame, L, names


def dev_texts_by_class(project_dir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The non-empty texts of a project's dev rows grouped by their gold class (dev labels only).

    Suggested neighbour LFs call it with their own folder to get their descriptions, so the LF
    module stays short. The project is loaded once per process and configuration file version.

    >>> import tempfile
    >>> from weak_supervision.project import init_project
    >>> rows = dev_texts_by_class(init_project(tempfile.mkdtemp()))
    >>> sorted(rows), sum(len(v) for v in rows.values())
    (['billing', 'product', 'shipping'], 60)
    """
    from weak_supervision.config import CONFIG_NAME

    root = Path(project_dir).resolve()
    config = root / CONFIG_NAME if root.is_dir() else root
    stamp = config.stat().st_mtime_ns if config.is_file() else 0
    return {k: list(v) for k, v in _dev_texts(str(root), stamp).items()}


@functools.lru_cache(maxsize=8)
def _dev_texts(root: str, stamp: int) -> dict[str, tuple[str, ...]]:
    from weak_supervision.project import load_project

    project = load_project(root)
    rows: dict[str, list[str]] = {}
    for text, y in zip(project.data["text"][project.dev_mask], project.y_dev[project.dev_mask],
                       strict=True):
        if str(text).strip():  # an embedding LF takes no empty description
            rows.setdefault(project.labels[int(y)], []).append(str(text))
    return {k: tuple(v) for k, v in rows.items()}
