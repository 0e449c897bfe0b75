"""labelcycle train / evaluate / cycle / history / diff on a starter project."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def project(tmp_path, runner):
    root = tmp_path / "demo"
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    return root


def run_json(runner, args):
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cycle_scores_three_models_and_diffs_the_next_cycle(runner, project):
    first = run_json(runner, ["cycle", str(project)])
    assert set(first["evaluations"]["dev"]) == {"majority", "label_model", "end_model"}
    assert first["diff"] is None and first["pii"] is None
    (project / "lfs.py").write_text((project / "lfs.py").read_text() +
                                    "\nkw_extra = keyword_lf('kw_extra', ['refund'], 'billing')\n")
    second = run_json(runner, ["cycle", str(project)])
    assert second["diff"]["lfs_added"] == ["kw_extra"]
    cycles = run_json(runner, ["history", str(project)])["cycles"]
    assert [c["run_id"] for c in cycles] == [first["run_id"], second["run_id"]]
    diff = run_json(runner, ["diff", first["run_id"], second["run_id"], "--project", str(project)])
    assert diff["lfs_added"] == ["kw_extra"]


def test_train_then_evaluate_on_a_file(runner, project, tmp_path):
    trained = run_json(runner, ["train", str(project)])
    assert trained["run_id"]
    data = pd.read_csv(project / "data.csv").head(50)
    path = tmp_path / "eval.csv"
    data.to_csv(path, index=False)
    result = run_json(runner, ["evaluate", str(project), "--data", str(path), "--label-col", "label"])
    assert result["n"] == 50 and 0 <= result["accuracy"] <= 1 and "macro_f1" in result
    missing = runner.invoke(main, ["evaluate", str(project), "--data", str(path), "--label-col", "gold"])
    assert missing.exit_code == 1 and "gold" in missing.output


def test_diff_unknown_run_is_clean_error(runner, project):
    result = runner.invoke(main, ["diff", "20990101-000000-aaaaaa", "20990101-000000-bbbbbb",
                                  "--project", str(project)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_label_and_cycle_run_the_span_job_of_a_pii_project(runner, tmp_path):
    root = tmp_path / "pii"
    root.mkdir()
    generator = Path(__file__).resolve().parents[1] / "examples" / "support_chats" / "generate_chats.py"
    (root / "generate_chats.py").write_text(generator.read_text())
    (root / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "chats.jsonl"\nid_column = "id"\n'
        'generator = "generate_chats.py"\ngenerator_rows = 30\n[pii]\ngold_column = "spans"\nner = false\n')
    for command in ("label", "cycle"):
        doc = run_json(runner, [command, str(root)])
        assert doc["figures"]["n_rows"] == 30 and doc["figures"]["exact_micro"]["f1"] > 0.5
