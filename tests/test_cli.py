"""The command line: end to end on a starter project, JSON output, exit codes, bad input."""

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
def project(tmp_path, runner) -> Path:
    root = tmp_path / "demo"
    result = runner.invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


def invoke_json(runner, args):
    result = runner.invoke(main, args + ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_lists_every_command(runner):
    result = runner.invoke(main, ["-h"])
    assert result.exit_code == 0
    for command in ("init", "label", "lfs"):
        assert command in result.output


def test_label_end_to_end_writes_labels_and_records_run(runner, project):
    doc = invoke_json(runner, ["label", str(project)])
    fig = doc["figures"]
    assert fig["n_rows"] == 300 and fig["n_lfs"] == 5 and fig["n_dev"] == 60
    assert 0.5 < fig["coverage"] <= 1.0
    assert doc["label_model"]["chosen"] in ("label_model", "majority")
    labels = pd.read_parquet(doc["files"]["labels"])
    assert len(labels) == 300
    assert {"id", "label", "confidence", "covered"} <= set(labels.columns)
    probs = labels[[c for c in labels.columns if c.startswith("proba_")]]
    assert probs.shape[1] == 3 and (probs.sum(axis=1).round(6) == 1).all()
    # the run is in the registry, with its figures
    from weak_supervision.registry import Registry

    run = Registry(project / ".labelcycle" / "registry.sqlite").get_run(doc["run_id"])
    assert run.status == "ok" and run.figures["n_rows"] == 300


def test_second_label_run_uses_the_cache(runner, project):
    invoke_json(runner, ["label", str(project)])
    doc = invoke_json(runner, ["label", str(project)])
    assert doc["figures"]["cached_votes"] == 300 * 5
    doc = invoke_json(runner, ["label", str(project), "--no-cache"])
    assert doc["figures"]["cached_votes"] == 0


def test_lfs_table_has_precision_with_interval(runner, project):
    doc = invoke_json(runner, ["lfs", str(project)])
    rows = doc["lfs"]["lfs"] if isinstance(doc["lfs"], dict) and "lfs" in doc["lfs"] else doc["lfs"]
    names = [r["name"] for r in rows]
    assert names == ["kw_billing", "kw_shipping", "re_money_amount", "product_defect",
                     "product_question"]
    scored = [r for r in rows if r["precision"] is not None]
    assert len(scored) >= 3
    for r in scored:
        assert 0 <= r["precision_low"] <= r["precision"] <= r["precision_high"] <= 1


def test_human_output_mentions_both_models(runner, project):
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 0, result.output
    assert "majority vote" in result.stdout and "Snorkel label model" in result.stdout


def test_missing_project_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(main, ["label", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "labelcycle.toml" in result.output and "Traceback" not in result.output


def test_usage_error_exits_2(runner):
    assert runner.invoke(main, ["label", "--jobs", "-3"]).exit_code == 2
    assert runner.invoke(main, ["no-such-command"]).exit_code == 2


def test_config_typo_lists_valid_keys(runner, project):
    cfg = project / "labelcycle.toml"
    cfg.write_text(cfg.read_text().replace("[dev]\nsample", "[dev]\nsampel"))
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1
    assert "sampel" in result.output and "sample" in result.output


def _add_lf(project: Path, code: str) -> None:
    (project / "lfs.py").write_text((project / "lfs.py").read_text() + "\n" + code)


def test_lf_that_raises_names_lf_and_row_and_writes_nothing(runner, project):
    _add_lf(project, "@labeling_function()\ndef crashes(x):\n    return 1 // 0\n")
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1
    assert "LF 'crashes'" in result.output and "ZeroDivisionError" in result.output
    assert "msg-0001" in result.output
    assert not list((project / ".labelcycle" / "runs").glob("*/labels.parquet"))
    tolerant = invoke_json(runner, ["label", str(project), "--fault-tolerant"])
    assert tolerant["figures"]["faults"] == {"crashes": 300}


def test_unknown_label_from_lf(runner, project):
    _add_lf(project, "@labeling_function()\ndef typo(x):\n    return 'shiping'\n")
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1
    assert "LF 'typo'" in result.output and "'shiping'" in result.output
    assert "did you mean 'shipping'" in result.output


def test_duplicate_lf_names(runner, project):
    _add_lf(project, "again = keyword_lf('kw_billing', ['x'], 'billing')\n")
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1 and "kw_billing" in result.output


def test_non_utf8_data(runner, project):
    (project / "data.csv").write_bytes(b"id,text,label\nm1,caf\xe9,billing\n")
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1
    assert "data.csv" in result.output and "UTF-8" in result.output


def test_empty_data(runner, project):
    (project / "data.csv").write_text("id,text,label\n")
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1 and "data.csv" in result.output


def test_missing_text_column(runner, project):
    df = pd.read_csv(project / "data.csv").rename(columns={"text": "body"})
    df.to_csv(project / "data.csv", index=False)
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1 and "text" in result.output and "body" in result.output


def test_dev_sample_larger_than_labelled_rows(runner, project):
    cfg = project / "labelcycle.toml"
    cfg.write_text(cfg.read_text().replace("sample = 60", "sample = 5000"))
    result = runner.invoke(main, ["label", str(project)])
    assert result.exit_code == 1 and "5000" in result.output and "300" in result.output


def test_label_out_file(runner, project, tmp_path):
    out = tmp_path / "labels.parquet"
    invoke_json(runner, ["label", str(project), "--out", str(out)])
    assert len(pd.read_parquet(out)) == 300
