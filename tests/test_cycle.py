"""Tests of weak_supervision.cycle: train, evaluate, cycles, their diffs and history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.cycle import (
    diff_runs,
    evaluate_project,
    history,
    read_labelled,
    run_cycle,
    score_predictions,
    train_project,
)
from weak_supervision.end_model import EndModel
from weak_supervision.pipeline import label_project, registry_for
from weak_supervision.project import init_project, load_project

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youtube_spam"


@pytest.fixture
def starter(tmp_path):
    """A generated starter project (300 support messages, 60 dev rows, 5 LFs), run in-process,
    with a quick label model (no search) to keep the tests fast."""
    root = init_project(tmp_path / "starter")
    toml = root / "labelcycle.toml"
    text = toml.read_text().replace('source = "auto"\n', 'source = "auto"\nsearch = false\n'
                                    'n_epochs = 100\n')
    assert "search = false" in text
    toml.write_text(text)
    return root


def _without_run_ids(evaluations: dict) -> dict:
    return {split: {m: {k: v for k, v in r.items() if k != "model_run_id"}
                    for m, r in models.items()} for split, models in evaluations.items()}


def _edit_lfs(root: Path) -> None:
    """Add one LF and change the keywords of another."""
    lfs = root / "lfs.py"
    text = lfs.read_text().replace('"receipt"]', '"receipt", "fee"]')
    text += '\n\n@labeling_function()\ndef mentions_order(x):\n' \
            '    return "shipping" if "order" in x.text.lower() else None\n'
    lfs.write_text(text)


# ----------------------------------------------------------------------------------------------
# score_predictions
# ----------------------------------------------------------------------------------------------


def test_score_predictions_per_class_and_confusions():
    r = score_predictions([0, 0, 0, 1, 1], [0, 1, 1, 1, -1], ("a", "b", "c"), top_confusions=1)
    a, b, c = r.per_class
    assert (a.precision, a.recall, a.support, a.predicted) == (1.0, 1 / 3, 3, 1)
    assert b.precision == 1 / 3 and b.recall == 0.5
    assert (c.precision, c.recall, c.f1, c.support) == (None, None, None, 0)  # reported, no crash
    assert [(x.gold, x.predicted, x.count) for x in r.confusions] == [("a", "b", 2)]
    assert r.coverage == 0.8 and r.accuracy == 0.4
    assert r.macro_f1 == pytest.approx(np.mean([a.f1, b.f1]))  # over classes present
    json.dumps(r.to_dict())
    assert list(r.to_frame().index) == ["a", "b", "c"]


def test_score_predictions_rejects_bad_input():
    with pytest.raises(DataError, match="nothing to evaluate"):
        score_predictions([], [], ("a", "b"))
    with pytest.raises(DataError, match="class indices"):
        score_predictions([0, 2], [0, 1], ("a", "b"))


# ----------------------------------------------------------------------------------------------
# train_project
# ----------------------------------------------------------------------------------------------


def test_train_project_labels_first_and_leaves_out_dev_rows(starter):
    project = load_project(starter)
    run = train_project(project)
    registry = registry_for(project)
    assert [r.kind for r in registry.list_runs()] == ["train", "label"]
    assert registry.get_run(run.run_id).status == "ok"
    assert run.label_run_id == registry.latest("label").id
    assert run.figures["n_train_rows"] == project.n_rows - int(project.dev_mask.sum()) == 240
    assert 0 < run.figures["n_used_rows"] <= run.figures["n_covered_train_rows"] <= 240
    assert 0 <= run.figures["dev_end_model"]["accuracy"] <= 1
    assert run.paths["model"].parent.name == run.run_id
    loaded = EndModel.load(run.paths["model"])
    texts = project.data["text"].tolist()
    np.testing.assert_array_equal(loaded.predict_proba(texts), run.model.predict_proba(texts))
    assert json.loads(run.paths["summary"].read_text())["run_id"] == run.run_id


def test_train_project_uses_the_given_label_run(starter):
    project = load_project(starter)
    first = label_project(project, n_jobs=1)
    label_project(project, n_jobs=1)
    assert train_project(project, label_run_id=first.run_id).label_run_id == first.run_id
    with pytest.raises(DataError, match="no run"):
        train_project(project, label_run_id="20990101-000000-abcdef")
    train_id = registry_for(project).latest("train").id
    with pytest.raises(DataError, match="not a 'label' run"):
        train_project(project, label_run_id=train_id)


def test_train_project_reads_train_settings(starter):
    label_run = label_project(load_project(starter), n_jobs=1)
    dev = load_project(starter).dev_mask
    confidence = label_run.labels.confidence[label_run.labels.covered & ~dev]
    threshold = float(np.round((confidence.min() + confidence.max()) / 2, 3))
    toml = starter / "labelcycle.toml"
    toml.write_text(toml.read_text() + f'\n[train]\nweighting = "filter"\n'
                    f'confidence_threshold = {threshold}\nC = 3.0\n')
    run = train_project(load_project(starter))
    assert run.model.get_params()["C"] == 3.0 and run.figures["weighting"] == "filter"
    assert run.figures["n_used_rows"] == int((confidence >= threshold).sum())
    assert 0 < run.figures["n_used_rows"] < run.figures["n_covered_train_rows"]


def test_train_project_needs_a_classification_project(starter):
    toml = starter / "labelcycle.toml"
    toml.write_text(toml.read_text().replace('task = "classification"', 'task = "pii"'))
    with pytest.raises(ConfigError, match="classification"):
        train_project(load_project(starter))


# ----------------------------------------------------------------------------------------------
# evaluate_project
# ----------------------------------------------------------------------------------------------


def test_evaluate_project_without_a_model(starter):
    with pytest.raises(LabelcycleError, match="labelcycle train"):
        evaluate_project(load_project(starter))


def test_evaluate_project_on_dev_and_on_files(starter):
    project = load_project(starter)
    run = train_project(project)
    dev = evaluate_project(project)
    assert dev.source == "dev" and dev.n == 60 and dev.model_run_id == run.run_id
    assert dev.accuracy == run.figures["dev_end_model"]["accuracy"]
    assert [c.label for c in dev.per_class] == ["billing", "shipping", "product"]

    (starter / "held.csv").write_text(
        'text,label\n"I was charged twice, refund me",billing\nMy parcel never came,shipping\n')
    result = evaluate_project(project, data=starter / "held.csv")
    assert result.n == 2 and result.source.endswith("held.csv")
    product = result.per_class[2]
    assert product.support == 0 and product.recall is None  # a class with no rows
    (starter / "held.jsonl").write_text(
        json.dumps({"text": "the screen flickers", "gold": "product"}) + "\n")
    assert evaluate_project(project, data=starter / "held.jsonl", label_col="gold").n == 1
    assert evaluate_project(project, model_run_id=run.run_id).accuracy == dev.accuracy


def test_evaluate_project_bad_files(starter):
    project = load_project(starter)
    train_project(project)
    bad = starter / "bad.csv"
    bad.write_text("text,category\nhello,billing\n")
    with pytest.raises(DataError, match=r"bad\.csv has no column 'label'; available columns: "
                                        r"text, category"):
        evaluate_project(project, data=bad)
    bad.write_text("message,label\nhello,billing\n")
    with pytest.raises(DataError, match="no column 'text'"):
        evaluate_project(project, data=bad)
    bad.write_text("text,label\nhello,billing\nbye,returns\n")
    with pytest.raises(DataError, match=r"bad\.csv: row 2: label 'returns' in column 'label' is "
                                        r"not a project label"):
        evaluate_project(project, data=bad)
    bad.write_text("text,label\nhello,\n")
    with pytest.raises(DataError, match="row 1 has no value in label column"):
        evaluate_project(project, data=bad)
    with pytest.raises(DataError, match="not found"):
        evaluate_project(project, data=starter / "missing.csv")


def test_evaluate_project_without_dev_set(starter):
    toml = starter / "labelcycle.toml"
    toml.write_text(toml.read_text().replace("sample = 60", "# no dev"))
    project = load_project(starter)
    train_project(project)
    with pytest.raises(DataError, match="no dev set"):
        evaluate_project(project)


def test_read_labelled_joins_text_columns_like_the_project(starter):
    toml = starter / "labelcycle.toml"
    toml.write_text(toml.read_text().replace('text_columns = ["text"]',
                                             'text_columns = ["subject", "body"]'))
    (starter / "data.csv").write_text("id,subject,body,label\n1,Refund,charged twice,billing\n"
                                      "2,Parcel,,shipping\n3,Screen,broken,product\n")
    toml.write_text(toml.read_text().replace("sample = 60", "sample = 2"))
    project = load_project(starter)
    (starter / "held.csv").write_text("subject,body,label\nRefund,,billing\n")
    frame, y = read_labelled(project, starter / "held.csv")
    assert frame["text"].tolist() == ["Refund\n"] and y.tolist() == [0]
    assert project.data["text"].tolist()[1] == "Parcel\n"


# ----------------------------------------------------------------------------------------------
# run_cycle, diff, history
# ----------------------------------------------------------------------------------------------


def test_run_cycle_end_to_end_with_diffs(starter):
    project = load_project(starter)
    first = run_cycle(project, n_jobs=1)
    assert first.diff is None
    dev = first.evaluations["dev"]
    assert sorted(dev) == ["end_model", "label_model", "majority"]
    assert dev["end_model"].coverage == 1.0 and dev["majority"].coverage < 1.0
    assert dev["end_model"].model_run_id == first.train_run.run_id
    record = registry_for(project).get_run(first.run_id)
    assert record.kind == "cycle" and record.status == "ok"
    assert set(record.inputs["lf_fingerprints"]) == set(first.label_run.matrix.lf_names)
    assert record.inputs["seeds"] == {"label_model": 123, "train": 123, "dev": 0}
    assert record.figures["evaluations"]["dev"]["end_model"]["accuracy"] == dev["end_model"].accuracy
    json.dumps(first.to_dict())
    assert json.loads(first.paths["summary"].read_text())["run_id"] == first.run_id

    second = run_cycle(load_project(starter), n_jobs=1)  # nothing changed: same figures
    assert second.diff.before == first.run_id
    assert (second.diff.lfs_added, second.diff.lfs_removed, second.diff.lfs_edited) == ((), (), ())
    assert all(m.delta == 0 for m in second.diff.metrics)
    assert _without_run_ids(second.figures["evaluations"]) == \
        _without_run_ids(first.figures["evaluations"])

    _edit_lfs(starter)
    third = run_cycle(load_project(starter), n_jobs=1)
    diff = third.diff
    assert diff.before == second.run_id
    assert diff.lfs_added == ("mentions_order",) and diff.lfs_edited == ("kw_billing",)
    assert diff.lfs_removed == ()
    assert diff.metric("n_lfs").delta == 1
    assert diff.metric("coverage").after >= diff.metric("coverage").before
    assert {c.model for c in diff.per_class} == {"end_model", "label_model", "majority"}
    assert {c.label for c in diff.per_class} == {"billing", "shipping", "product"}
    assert diff.to_frame().loc["dev.end_model.accuracy", "after"] == \
        third.evaluations["dev"]["end_model"].accuracy
    json.dumps(diff.to_dict())

    steps = history(load_project(starter))
    assert [h.run_id for h in steps] == [first.run_id, second.run_id, third.run_id]
    assert [h.n_lfs for h in steps] == [5, 5, 6]
    assert steps[2].lfs_added == ("mentions_order",) and steps[2].lfs_edited == ("kw_billing",)
    assert steps[0].dev["end_model"]["accuracy"] == dev["end_model"].accuracy

    again = diff_runs(project, first.run_id, third.run_id)
    assert again.lfs_added == ("mentions_order",) and again.lfs_edited == ("kw_billing",)
    with pytest.raises(DataError, match="not a 'cycle' run"):
        diff_runs(project, first.run_id, third.train_run.run_id)


def test_run_cycle_scores_the_evaluate_file(starter):
    (starter / "held.csv").write_text(
        "text,label\nI want a refund for the fee,billing\nWhere is my package?,shipping\n"
        "The screen flickers,product\n")
    toml = starter / "labelcycle.toml"
    toml.write_text(toml.read_text() + '\n[evaluate]\npath = "held.csv"\n')
    result = run_cycle(load_project(starter), n_jobs=1)
    held = result.evaluations["held_out"]
    assert sorted(held) == ["end_model", "label_model", "majority"]
    assert held["end_model"].n == 3 and held["majority"].source.endswith("held.csv")


def test_run_cycle_failure_is_recorded(starter):
    (starter / "lfs.py").write_text((starter / "lfs.py").read_text() +
                                    '\n\n@labeling_function()\ndef broken(x):\n    return "refunds"\n')
    project = load_project(starter)
    with pytest.raises(LabelcycleError):
        run_cycle(project, n_jobs=1)
    record = registry_for(project).latest("cycle", status=None)
    assert record.status == "failed" and "broken" in record.figures["error"]


def test_data_path_glob_reads_several_files(tmp_path):
    root = init_project(tmp_path / "p")
    lines = (root / "data.csv").read_text().splitlines()
    (root / "parts").mkdir()
    (root / "parts" / "a-1.csv").write_text("\n".join(lines[:151]) + "\n")
    (root / "parts" / "a-2.csv").write_text("\n".join([lines[0], *lines[151:]]) + "\n")
    (root / "data.csv").unlink()
    toml = root / "labelcycle.toml"
    toml.write_text(toml.read_text().replace('path = "data.csv"', 'path = "parts/a-*.csv"'))
    project = load_project(root)
    assert project.n_rows == 300 and project.ids[150] == "msg-0151"
    toml.write_text(toml.read_text().replace("parts/a-*.csv", "parts/b-*.csv"))
    with pytest.raises(DataError, match="matches no file"):
        load_project(root)


# ----------------------------------------------------------------------------------------------
# The YouTube spam example (needs ../shared/data)
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.shared_data
def test_youtube_spam_example_runs_a_cycle(tmp_path, shared_data):
    source = shared_data / "youtube_spam_collection"
    if not (source / "Youtube05-Shakira.csv").is_file():
        pytest.skip(f"{source} not found")
    pytest.importorskip("spacy")
    from labelfns.ner import load_spacy_model

    try:
        load_spacy_model()
    except LabelcycleError as exc:
        pytest.skip(str(exc))
    root = tmp_path / "youtube_spam"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".labelcycle", "__pycache__"))
    toml = root / "labelcycle.toml"
    toml.write_text(toml.read_text().replace("../../../shared/data/youtube_spam_collection",
                                             source.as_posix()))
    project = load_project(root)
    assert project.n_rows == 1586 and int(project.dev_mask.sum()) == 100
    result = run_cycle(project)
    dev, held = result.evaluations["dev"], result.evaluations["held_out"]
    assert held["end_model"].n == 370
    assert held["end_model"].accuracy > 0.85
    assert held["end_model"].accuracy > held["majority"].accuracy
    assert dev["end_model"].coverage == 1.0
    assert result.figures["n_lfs"] >= 10 and result.figures["coverage"] > 0.7


def test_run_cycle_writes_predictions_for_every_row(tmp_path):
    from weak_supervision.cycle import PREDICTION_COLUMNS
    from weak_supervision.project import init_project, load_project

    project = load_project(init_project(tmp_path / "p"))
    result = run_cycle(project, n_jobs=1)
    frame = pd.read_parquet(result.paths["predictions"])
    assert tuple(frame.columns) == PREDICTION_COLUMNS
    assert len(frame) == project.n_rows
    assert frame["id"].tolist() == [str(i) for i in project.ids]
    dev = frame["split"].eq("dev").to_numpy()
    assert (dev == project.dev_mask).all()
    assert (frame.loc[dev, "gold"].to_numpy() == project.y_dev[project.dev_mask]).all()
    assert (frame.loc[~dev, "gold"] == -1).all()
    k = len(project.labels)
    for col in ("majority", "label_model", "end_model"):
        assert frame[col].between(-1, k - 1).all()
    assert frame["end_model"].ge(0).all()
    assert frame["end_model_confidence"].between(1 / k - 1e-9, 1).all()
    uncovered = frame["label_model"].eq(-1)
    assert frame.loc[uncovered, "label_model_confidence"].isna().all()
