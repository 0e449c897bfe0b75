"""Tests of reading a cycle for LF suggestions (analysis.cycle_data.read_cycle, re-exported by
analysis.suggest_io) and of analysis.suggest_io.dev_texts_by_class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.suggest_io import align_ids, dev_texts_by_class, read_cycle
from labelfns.errors import DataError, LabelcycleError


def recorded_cycle(root):
    """A project with a recorded cycle (predictions and label matrix written as run_cycle does),
    without training anything: class 1 is always predicted as class 0."""
    import numpy as np

    from weak_supervision.cycle import PREDICTION_COLUMNS
    from weak_supervision.pipeline import registry_for
    from weak_supervision.project import init_project, load_project
    from weak_supervision.registry import run_dir

    project = load_project(init_project(root))
    registry = registry_for(project)
    ids = [str(i) for i in project.ids]
    gold = np.where(project.dev_mask, project.y_dev, -1)
    label_id = registry.start_run("label", config_fingerprint="test", inputs={})
    L = np.where(project.gold == 2, 2, -1)[:, None]
    matrix = pd.DataFrame({"id": ids, "lf_two": L[:, 0]})
    matrix.to_parquet(run_dir(project.workspace, label_id, create=True) / "label_matrix.parquet",
                      index=False)
    registry.finish_run(label_id, status="ok", figures={})
    cycle_id = registry.start_run("cycle", config_fingerprint="test", inputs={})
    pred = np.where(project.gold == 1, 0, np.maximum(project.gold, 0))
    frame = pd.DataFrame({"id": ids, "split": np.where(project.dev_mask, "dev", "pool"),
                          "gold": gold, "majority": pred, "label_model": pred,
                          "label_model_confidence": 0.5, "end_model": pred,
                          "end_model_confidence": 0.5})[list(PREDICTION_COLUMNS)]
    path = run_dir(project.workspace, cycle_id, create=True) / "predictions.parquet"
    frame.to_parquet(path, index=False)
    registry.finish_run(cycle_id, status="ok", figures={"label_run_id": label_id})
    return project, cycle_id, label_id, path


def test_read_cycle_rejects_a_run_that_is_not_a_cycle(tmp_path):
    project, _, label_id, _ = recorded_cycle(tmp_path / "p")
    with pytest.raises(LabelcycleError, match="not a 'cycle' run"):
        read_cycle(project, run_id=label_id)


def test_read_cycle_says_how_the_ids_differ(tmp_path):
    project, _, _, path = recorded_cycle(tmp_path / "p")
    changed = pd.read_parquet(path).iloc[:-2].copy()
    changed.loc[changed.index[0], "id"] = "not-a-row"
    changed.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"1 id\(s\) are not in the project's data \(e.g. "
                       r"'not-a-row'\); 3 of \d+ rows of the data have no prediction"):
        read_cycle(project)


def test_dev_texts_by_class_groups_the_dev_rows(tmp_path):
    project, *_ = recorded_cycle(tmp_path / "p")
    rows = dev_texts_by_class(project.root)
    assert sum(len(v) for v in rows.values()) == int(project.dev_mask.sum())
    first = int(np.flatnonzero(project.dev_mask)[0])
    assert project.data["text"][first] in rows[project.labels[project.y_dev[first]]]


def test_read_cycle_without_a_cycle_says_what_to_run(tmp_path):
    from weak_supervision.project import init_project, load_project

    project = load_project(init_project(tmp_path / "empty"))
    with pytest.raises(LabelcycleError, match="labelcycle cycle"):
        read_cycle(project)


def test_align_ids_reports_duplicates():
    with pytest.raises(DataError, match="occur more than once"):
        align_ids(["a"], ["a", "a"], where="f")


def test_suggest_io_reads_cycles_with_cycle_data():
    """One reader of a cycle's files: suggest_io re-exports cycle_data's."""
    import analysis.cycle_data as cycle_data
    import analysis.suggest_io as suggest_io

    assert suggest_io.read_cycle is cycle_data.read_cycle
    assert suggest_io.align_ids is cycle_data.align_ids


def test_read_cycle_and_load_cycle_data_agree(tmp_path):
    from analysis.cycle_data import load_cycle_data

    project, cycle_id, _, _ = recorded_cycle(tmp_path / "p")
    frame, L, names = read_cycle(project)
    data = load_cycle_data(project)
    assert data.run_id == cycle_id and names == data.lf_names == ("lf_two",)
    assert np.array_equal(L, data.L)
    assert frame["id"].tolist() == data.frame["id"].tolist() == [str(i) for i in project.ids]
    assert np.array_equal(frame["end_model"].to_numpy(), data.frame["end_model"].to_numpy())
