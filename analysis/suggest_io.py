"""The dev rows a suggested neighbour LF reads from its project: :func:`dev_texts_by_class`.

A written neighbour LF module (:func:`analysis.suggest.write_lf_module`) imports
:func:`dev_texts_by_class` from here to get its descriptions. Reading a cycle's files is
:mod:`analysis.cycle_data`'s (:func:`~analysis.cycle_data.read_cycle`,
:func:`~analysis.cycle_data.align_ids`), re-exported here for code that imported them from this
module.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from analysis.cycle_data import align_ids, read_cycle

__all__ = ["read_cycle", "align_ids", "dev_texts_by_class"]


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
