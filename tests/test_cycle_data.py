"""Tests of analysis.cycle_data: reading cycle runs, PII runs and external predictions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.cycle_data import (
    EXTERNAL,
    chat_eval_predictions,
    cycle_data_from_frame,
    load_cycle_data,
    read_predictions,
)
from labelfns.errors import DataError
from weak_supervision.cycle import run_cycle
from weak_supervision.pii_pipeline import pii_label_project
from weak_supervision.project import init_project, load_project

LABELS = ("neg", "pos")


def _frame(**extra):
    base = {"id": ["a", "b", "c", "d"], "text": ["good", "bad", "meh", None],
            "split": ["dev", "dev", "pool", "pool"], "gold": [1, 0, -1, -1],
            "end_model": [1, 1, 0, 1]}
    base.update(extra)
    return pd.DataFrame(base)


@pytest.fixture(scope="module")
def cycled(tmp_path_factory):
    """The starter project after one quick cycle."""
    root = init_project(tmp_path_factory.mktemp("cycle_data") / "starter")
    toml = root / "labelcycle.toml"
    toml.write_text(toml.read_text().replace('source = "auto"\n', 'source = "auto"\nsearch = false\n'
                                             'n_epochs = 50\n'))
    project = load_project(root)
    result = run_cycle(project, n_jobs=1)
    return project, result


# ----------------------------------------------------------------------------------------------
# cycle_data_from_frame
# ----------------------------------------------------------------------------------------------


def test_cycle_data_from_frame_derives_vote_columns():
    L = np.array([[1, 1], [0, 1], [-1, -1], [0, -1]])
    data = cycle_data_from_frame(_frame(), LABELS, L=L, lf_names=("x", "y"))
    f = data.frame
    assert f["n_votes"].tolist() == [2, 2, 0, 1]
    assert f["covered"].tolist() == [True, True, False, True]
    assert f["conflict"].tolist() == [False, True, False, False]
    assert f["length"].tolist() == [4, 3, 3, 0]  # a missing text counts as ""
    assert data.n_dev == 2 and data.models == ("end_model",)
    assert data.dev_mask.tolist() == [True, True, False, False]
    json.dumps(data.to_dict())


def test_cycle_data_from_frame_rejects_bad_input():
    with pytest.raises(DataError, match="no column 'gold'"):
        cycle_data_from_frame(_frame().drop(columns="gold"), LABELS)
    with pytest.raises(DataError, match="outside -1..1"):
        cycle_data_from_frame(_frame(end_model=[0, 1, 2, 0]), LABELS)
    with pytest.raises(DataError, match="no prediction column"):
        cycle_data_from_frame(_frame().drop(columns="end_model"), LABELS)
    with pytest.raises(DataError, match="shape"):
        cycle_data_from_frame(_frame(), LABELS, L=np.zeros((3, 1)), lf_names=("x",))


# ----------------------------------------------------------------------------------------------
# read_predictions
# ----------------------------------------------------------------------------------------------

IDS = ["a", "b", "c", "d"]
DEV = np.array([True, True, False, False])


def test_read_predictions_accepts_names_indices_and_missing_pool_rows():
    table = pd.DataFrame({"id": ["b", "a"], "prediction": ["neg", 1]})
    out = read_predictions(table, ids=IDS, labels=LABELS, dev_mask=DEV)
    assert out["id"].tolist() == IDS
    assert out[EXTERNAL].tolist() == [1, 0, -1, -1]
    assert out["external_present"].tolist() == [True, True, False, False]
    assert out["external_valid"].tolist() == [True, True, False, False]


def test_read_predictions_ids_that_do_not_match_give_counts_and_examples():
    table = pd.DataFrame({"id": ["a", "x", "y"], "prediction": ["neg", "neg", "pos"]})
    with pytest.raises(DataError) as info:
        read_predictions(table, ids=IDS, labels=LABELS, dev_mask=DEV)
    message = str(info.value)
    assert "2 id(s) are not in the project's data (e.g. 'x', 'y')" in message
    assert "1 of 2 dev rows have no prediction (e.g. 'b')" in message


def test_read_predictions_without_dev_mask_needs_every_row():
    table = pd.DataFrame({"id": ["a", "b"], "prediction": ["neg", "pos"]})
    with pytest.raises(DataError, match="2 of 4 rows of the data have no prediction"):
        read_predictions(table, ids=IDS, labels=LABELS)


def test_read_predictions_rejects_repeated_ids():
    table = pd.DataFrame({"id": ["a", "a", "b"], "prediction": ["neg", "pos", "pos"]})
    with pytest.raises(DataError, match="1 id\\(s\\) occur more than once \\(e.g. 'a'\\)"):
        read_predictions(table, ids=IDS, labels=LABELS, dev_mask=DEV)


def test_read_predictions_unknown_class_is_an_error_without_answer_columns():
    table = pd.DataFrame({"id": ["a", "b"], "prediction": ["neg", "positive"]})
    with pytest.raises(DataError, match="row 2 \\(id 'b'\\): prediction 'positive' is not a class"):
        read_predictions(table, ids=IDS, labels=LABELS, dev_mask=DEV)


def test_read_predictions_chat_answers_that_map_to_no_class_are_invalid(tmp_path):
    path = tmp_path / "chat.csv"
    path.write_text("id,prediction,valid,answer\na,pos,true,Positive.\nb,,false,I cannot tell\n")
    out = read_predictions(path, ids=IDS, labels=LABELS, dev_mask=DEV)
    assert out[EXTERNAL].tolist()[:2] == [1, -1]
    assert out["external_valid"].tolist()[:2] == [True, False]
    assert out["external_answer"].tolist()[:2] == ["Positive.", "I cannot tell"]


def test_read_predictions_file_must_have_the_columns(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "label": "pos"}\n')
    with pytest.raises(DataError, match="no column 'prediction'"):
        read_predictions(path, ids=IDS, labels=LABELS, dev_mask=DEV)


def test_chat_eval_predictions_maps_rows_to_dev_ids(cycled):
    project, _ = cycled
    n_dev = int(project.dev_mask.sum())
    rows = tuple(SimpleNamespace(row=i, predicted=-1 if i == 0 else 1, answer="?" if i == 0
                                 else "shipping") for i in range(n_dev))
    table = chat_eval_predictions(SimpleNamespace(labels=project.labels, predictions=rows),
                                  project)
    assert table["id"].tolist() == [str(i) for i in project.ids[project.dev_mask]]
    assert table["valid"].tolist()[:2] == [False, True]
    out = read_predictions(table, ids=project.ids, labels=project.labels,
                           dev_mask=project.dev_mask)
    assert int((out["external_present"] & ~out["external_valid"]).sum()) == 1


# ----------------------------------------------------------------------------------------------
# load_cycle_data
# ----------------------------------------------------------------------------------------------


def test_load_cycle_data_reads_the_latest_cycle(cycled):
    project, result = cycled
    data = load_cycle_data(project)
    assert data.run_id == result.run_id and data.label_run_id == result.label_run.run_id
    assert len(data.frame) == project.n_rows and data.n_dev == int(project.dev_mask.sum())
    assert data.lf_names == result.label_run.matrix.lf_names
    assert np.array_equal(data.L, result.label_run.matrix.L)
    assert set(data.models) == {"end_model", "label_model", "majority"}
    assert data.frame["text"].tolist() == project.data["text"].tolist()
    gold = data.frame["gold"].to_numpy()
    assert np.array_equal(gold[data.dev_mask], project.y_dev[project.dev_mask])
    assert load_cycle_data(project, result.run_id).run_id == result.run_id


def test_load_cycle_data_with_external_predictions(cycled, tmp_path):
    project, _ = cycled
    dev_ids = [str(i) for i in project.ids[project.dev_mask]]
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(json.dumps({"id": i, "prediction": "billing" if k else "no idea",
                                        "answer": "billing" if k else "no idea"}) + "\n"
                            for k, i in enumerate(dev_ids)))
    data = load_cycle_data(project, predictions=path)
    assert EXTERNAL in data.models and data.predictions_source == str(path)
    assert int((~data.frame["external_valid"] & data.frame["external_present"]).sum()) == 1


def test_load_cycle_data_errors(cycled, tmp_path):
    project, result = cycled
    with pytest.raises(DataError, match="is a 'label' run, not a 'cycle' run"):
        load_cycle_data(project, result.label_run.run_id)
    with pytest.raises(DataError, match="no run"):
        load_cycle_data(project, "20990101-000000-abcdef")
    fresh = load_project(init_project(tmp_path / "fresh"))
    with pytest.raises(DataError, match="no successful 'cycle' run yet"):
        load_cycle_data(fresh)


def test_load_cycle_data_when_the_data_changed_since_the_cycle(cycled, tmp_path):
    project, _ = cycled
    changed = load_project(project.root)
    data = changed.data.copy()
    ids = changed.ids.copy()
    ids[:3] = ["new-1", "new-2", "new-3"]
    import dataclasses

    moved = dataclasses.replace(changed, ids=ids, data=data)
    with pytest.raises(DataError) as info:
        load_cycle_data(moved)
    message = str(info.value)
    assert "3 id(s) are not in the project's data" in message
    assert "3 of 300 rows of the data have no prediction (e.g. 'new-1'" in message
    assert "run `labelcycle cycle` again" in message


# ----------------------------------------------------------------------------------------------
# PII
# ----------------------------------------------------------------------------------------------

PII_ROWS = [
    {"id": "r1", "text": "Hi, I'm Maria Lopez. Mail maria@example.com.",
     "spans": [{"start": 8, "end": 19, "label": "PERSON"}, {"start": 26, "end": 43, "label": "EMAIL"}]},
    {"id": "r2", "text": "my member code is zx-1 ok", "spans": [{"start": 18, "end": 22,
                                                                    "label": "ACCOUNT_ID"}]},
    {"id": "r3", "text": "Card 4111 1111 1111 1111 was declined.", "spans": None},
]


def make_pii_project(root, rows=PII_ROWS):
    root.mkdir(parents=True, exist_ok=True)
    (root / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "rows.jsonl"\nid_column = "id"\n'
        '[pii]\nner = false\ngold_column = "spans"\nlabel_model = "majority"\n')
    (root / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_project(root)


def test_load_cycle_data_pii_counts_spans_per_row(tmp_path):
    project = make_pii_project(tmp_path / "pii")
    run = pii_label_project(project)
    data = load_cycle_data(project)
    f = data.frame.set_index("id")
    assert data.task == "pii" and data.run_id == run.run_id
    assert f["split"].tolist() == ["dev", "dev", "pool"]
    assert f.loc["r2", "fn"] == 1 and f.loc["r2", "n_gold"] == 1  # the odd id is missed
    assert f.loc["r1", "tp"] == 2
    assert "CREDIT_CARD" in f.loc["r3", "pred_types"] and f.loc["r3", "n_gold"] == -1
    assert {"EMAIL", "PERSON", "ACCOUNT_ID", "CREDIT_CARD"} <= set(data.labels)
    with pytest.raises(DataError, match="classification projects"):
        load_cycle_data(project, predictions=pd.DataFrame({"id": ["r1"], "prediction": [0]}))
