"""Tests of benchmarks/wrench.py: reading WRENCH folders and the label-model comparison."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from labelfns.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("wrench_benchmark", ROOT / "benchmarks" / "wrench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


wrench = _load_script()


def test_wrench_read_split_orders_rows_and_checks_them(tmp_path):
    path = tmp_path / "valid.json"
    path.write_text(json.dumps({
        "10": {"label": 1, "weak_labels": [1, -1], "data": {"text": "b"}},
        "2": {"label": 0, "weak_labels": [0, 0], "data": {"text": "a"}}}))
    split = wrench.read_split(path)
    assert split.ids == ("2", "10") and split.texts == ("a", "b")
    assert split.L.tolist() == [[0, 0], [1, -1]] and split.y.tolist() == [0, 1]
    path.write_text(json.dumps({"0": {"label": 0, "weak_labels": [0]},
                                "1": {"label": 1, "weak_labels": [1, 1]}}))
    with pytest.raises(DataError, match="2 weak labels, the first had 1"):
        wrench.read_split(path)
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        wrench.read_split(path)


def test_wrench_drops_appended_exemplars_of_known_data_sets(tmp_path):
    folder = wrench.write_synthetic(tmp_path / "wrench_youtube", n=1600)
    ds = wrench.read_dataset(folder)
    assert ds.name == "youtube" and ds.dropped == 14 and ds.train.L.shape[0] == 1586
    assert ds.train.ids[-1] == "1585"
    assert wrench.read_dataset(folder, keep_exemplars=True).train.L.shape[0] == 1600
    other = wrench.write_synthetic(tmp_path / "wrench_other", n=1600)
    assert wrench.read_dataset(other).dropped == 0


def test_wrench_main_prints_one_json_line_per_data_set(tmp_path, capsys):
    a = wrench.write_synthetic(tmp_path / "toy_a", n=200, seed=1)
    b = wrench.write_synthetic(tmp_path / "toy_b", n=200, k=3, n_lfs=8, seed=2)
    assert wrench.main([str(a), str(b), "--snorkel-seeds", "0"]) == 0
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert [r["dataset"] for r in rows] == ["toy_a", "toy_b"]
    for row in rows:
        for method in ("majority", "snorkel", "labelcycle"):
            assert 0.0 <= row[method]["accuracy"] <= 1.0
            assert 0.0 <= row[method]["macro_f1"] <= 1.0
        assert row["snorkel"]["seeds"] == [0]
        assert row["labelcycle"]["chosen"] in ("label_model", "majority")
        assert row["fit_on"] == "train" and row["n_dev"] == 40
    assert rows[1]["classes"] == ["c0", "c1", "c2"]
    summary = json.loads(out.err.strip().splitlines()[-1])["summary"]
    assert set(summary["mean"]["accuracy"]) == {"majority", "snorkel", "labelcycle"}


def test_wrench_fits_on_valid_without_train_split(tmp_path):
    folder = wrench.write_synthetic(tmp_path / "toy", n=300)
    (folder / "train.json").unlink()
    row = wrench.evaluate_dataset(wrench.read_dataset(folder), snorkel_seeds=(0,))
    assert row["fit_on"] == "valid" and row["n_train"] == row["n_dev"] == 60


def test_wrench_missing_folder_is_an_error(tmp_path, capsys):
    assert wrench.main([str(tmp_path / "nothing")]) == 1
    assert "not found" in capsys.readouterr().err


def test_wrench_summary_flags_data_sets_below_the_best():
    row = {"dataset": "x", "majority": {"accuracy": 0.7, "macro_f1": 0.6},
           "snorkel": {"accuracy": 0.8, "macro_f1": 0.5}, "labelcycle": {"accuracy": 0.75,
                                                                        "macro_f1": 0.6}}
    summary = wrench.summarize([row])
    assert summary["below_best"] == {"accuracy": ["x"], "macro_f1": []}
    assert summary["mean"]["accuracy"]["labelcycle"] == 0.75


@pytest.mark.slow
@pytest.mark.shared_data
def test_wrench_on_the_real_youtube_data(shared_data):
    folder = shared_data / "wrench_youtube"
    if not (folder / "test.json").is_file():
        pytest.skip(f"{folder} not found")
    ds = wrench.read_dataset(folder)
    assert ds.dropped == 100 and ds.train.L.shape == (1586, 10) and ds.labels == ("HAM", "SPAM")
    row = wrench.evaluate_dataset(ds, snorkel_seeds=(0,))
    assert row["test_coverage"] == pytest.approx(0.928)
    assert row["labelcycle"]["accuracy"] >= row["majority"]["accuracy"]
    assert row["labelcycle"]["macro_f1"] >= max(row["majority"]["macro_f1"],
                                                row["snorkel"]["macro_f1"])


def _rule_folder(tmp_path, *, shuffle_test: bool):
    """A two-rule data set whose readme lists the rules; the test split's votes optionally shuffled."""
    folder = tmp_path / "wrench_rules"
    folder.mkdir()
    (folder / "readme.txt").write_text(
        "Toy\n\nspam\t( |^)(free)[^\\w]*( |$)\tfree stuff\nham\t( |^)(thanks)[^\\w]*( |$)\tthanks\n"
        "spam\t( |^)(win)[^\\w]*( |$)\twin\n", encoding="utf-8")
    (folder / "label.json").write_text(json.dumps({"0": "ham", "1": "spam"}), encoding="utf-8")
    texts = ["Free money", "thanks mate", "win now", "hello", "free win", "thanks, free"] * 4
    labels = [1, 0, 1, 0, 1, 0] * 4

    def votes(t):
        low = t.lower()
        return [1 if "free" in low else -1, 0 if "thanks" in low else -1, 1 if "win" in low else -1]

    for split in ("train", "valid", "test"):
        rows = [votes(t) for t in texts]
        if split == "test" and shuffle_test:
            rows = rows[1:] + rows[:1]
        data = {str(i): {"label": y, "weak_labels": v, "data": {"text": t}}
                for i, (t, y, v) in enumerate(zip(texts, labels, rows, strict=True))}
        (folder / f"{split}.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_wrench_votes_that_do_not_belong_to_their_rows_are_rederived(tmp_path):
    folder = _rule_folder(tmp_path, shuffle_test=True)
    ds = wrench.read_dataset(folder)
    stored_test = ds.test.L.copy()
    fixed, report = wrench.check_votes(ds, wrench.read_rules(folder, ds.labels))
    assert report["rows_matching_stored"]["train"] == 1.0
    assert report["rows_matching_stored"]["test"] < 0.9
    assert report["replaced"] == ["test"] and report["rules_trusted"]
    assert (fixed.test.L != stored_test).any()
    assert (fixed.test.L == fixed.train.L).all()  # same texts, so the re-derived votes agree
    kept, report_stored = wrench.check_votes(ds, wrench.read_rules(folder, ds.labels), replace=False)
    assert report_stored["replaced"] == [] and (kept.test.L == stored_test).all()


def test_wrench_faithful_votes_are_kept_and_unparsable_readmes_ignored(tmp_path):
    folder = _rule_folder(tmp_path, shuffle_test=False)
    ds = wrench.read_dataset(folder)
    same, report = wrench.check_votes(ds, wrench.read_rules(folder, ds.labels))
    assert report["replaced"] == [] and same is ds
    (folder / "readme.txt").write_text("OTHER\t(x)\tx\n", encoding="utf-8")
    assert wrench.read_rules(folder, ds.labels) is None
    assert wrench.check_votes(ds, None) == (ds, None)
