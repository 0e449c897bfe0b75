"""`labelcycle pii scan | redact | eval | label`: files in, files out, JSON, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

ROWS = pd.DataFrame({
    "id": ["a", "b", "c", "d"],
    "body": ["Hi, I'm Maria Lopez, mail maria@example.com", None, "",
             "Zoë paid with 4111 1111 1111 1111 — call (415) 555-0132"],
})


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                            for r in ROWS.to_dict("records")), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pii_group_lists_its_commands(runner):
    result = runner.invoke(main, ["pii", "--help"])
    assert result.exit_code == 0
    for command in ("scan", "redact", "eval", "label", "--json"):
        assert command in result.output


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_scan_writes_one_line_per_row(runner, tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        ROWS.to_csv(path, index=False)
    elif suffix == ".parquet":
        ROWS.to_parquet(path, index=False)
    else:
        ROWS.to_json(path, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "spans.jsonl"
    result = runner.invoke(main, ["pii", "scan", str(path), "--text-col", "body", "--id-col", "id",
                                  "--out", str(out), "--no-ner"])
    assert result.exit_code == 0, result.output
    records = lines(out)
    assert [r["id"] for r in records] == ["a", "b", "c", "d"]
    labels = [sorted({s["label"] for s in r["spans"]}) for r in records]
    assert labels == [["EMAIL", "PERSON"], [], [], ["CREDIT_CARD", "PHONE"]]
    text = ROWS.body[3]
    card = next(s for s in records[3]["spans"] if s["label"] == "CREDIT_CARD")
    assert text[card["start"]:card["end"]] == "4111 1111 1111 1111"
    assert 0 < card["confidence"] <= 1
    assert "spans" in result.output  # the table on stdout


def test_scan_json_and_row_index_ids(runner, table, tmp_path):
    out = tmp_path / "s.jsonl"
    result = runner.invoke(main, ["pii", "scan", str(table), "--text-col", "body", "--out", str(out),
                                  "--no-ner", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n_rows"] == 4 and doc["spans_per_label"]["EMAIL"] == 1
    assert "maria@example.com" not in result.stdout
    assert [r["id"] for r in lines(out)] == [0, 1, 2, 3]
    assert "scanning" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--text-col", "text"], "has no column 'text'; available columns: id, body"),
    (["--text-col", "body", "--id-col", "nope"], "has no column 'nope'"),
])
def test_scan_bad_columns_exit_1_naming_the_file_and_column(runner, table, tmp_path, args, message):
    result = runner.invoke(main, ["pii", "scan", str(table), *args, "--out",
                                  str(tmp_path / "o.jsonl"), "--no-ner"])
    assert result.exit_code == 1
    assert message in result.output and str(table) in result.output
    assert "Traceback" not in result.output


def test_scan_non_text_cell_and_missing_file_exit_1(runner, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"body": "ok"}\n{"body": 12}\n')
    result = runner.invoke(main, ["pii", "scan", str(path), "--text-col", "body", "--out",
                                  str(tmp_path / "o.jsonl"), "--no-ner"])
    assert result.exit_code == 1 and "column 'body': row 2 holds a int" in result.output
    result = runner.invoke(main, ["pii", "scan", str(tmp_path / "none.csv"), "--text-col", "b",
                                  "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "not found" in result.output


def test_scan_with_a_user_lf_file_reports_its_bad_span(runner, table, tmp_path):
    lfs = tmp_path / "my_lfs.py"
    lfs.write_text("from labelfns.spans import span_lf\n\n@span_lf\ndef greedy(text):\n"
                   "    return [(0, len(text) + 1, 'PERSON')] if text else []\n")
    result = runner.invoke(main, ["pii", "scan", str(table), "--text-col", "body", "--id-col", "id",
                                  "--out", str(tmp_path / "o.jsonl"), "--no-ner", "--lfs", str(lfs)])
    assert result.exit_code == 1
    assert "LF 'greedy' on row 'a'" in result.output and "outside the text" in result.output


def test_redact_adds_a_column_and_writes_the_mapping_side_file(runner, table, tmp_path):
    out, mapping = tmp_path / "red.csv", tmp_path / "map.jsonl"
    result = runner.invoke(main, ["pii", "redact", str(table), "--text-col", "body", "--id-col", "id",
                                  "--out", str(out), "--mapping", str(mapping), "--no-ner", "--json"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["id", "body", "body_redacted"]
    assert frame.body_redacted[0] == "Hi, I'm [PERSON_1], mail [EMAIL_1]"
    doc = json.loads(result.stdout)
    assert doc["replacements"]["EMAIL"] == 1 and "Maria" not in result.stdout
    records = lines(mapping)
    assert {"id": "a", "replacement": "[EMAIL_1]", "label": "EMAIL",
            "originals": ["maria@example.com"]} in records


def test_redact_with_surrogates_and_without_mapping(runner, table, tmp_path):
    out = tmp_path / "red.parquet"
    result = runner.invoke(main, ["pii", "redact", str(table), "--text-col", "body", "--out", str(out),
                                  "--surrogates", "--seed", "3", "--no-ner"])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert "maria@example.com" not in frame.body_redacted[0] and "@" in frame.body_redacted[0]
    assert "[EMAIL" not in frame.body_redacted[0]


def test_redact_refuses_to_overwrite_its_input(runner, table):
    result = runner.invoke(main, ["pii", "redact", str(table), "--text-col", "body", "--out",
                                  str(table), "--no-ner"])
    assert result.exit_code == 1 and "must be new files" in result.output


def test_eval_prints_the_table_and_json(runner, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": 1, "text": "Hi Ann, a@b.co",
                                "spans": [{"start": 3, "end": 6, "label": "PERSON"},
                                          {"start": 8, "end": 14, "label": "EMAIL"}]}) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": 1, "spans": [{"start": 3, "end": 6, "label": "PERSON"},
                                                   {"start": 7, "end": 14, "label": "EMAIL"}]}) + "\n")
    result = runner.invoke(main, ["pii", "eval", str(pred), str(gold)])
    assert result.exit_code == 0, result.output
    for word in ("PERSON", "EMAIL", "ALL (micro)", "exact F1", "overlap F2"):
        assert word in result.output
    doc = json.loads(runner.invoke(main, ["pii", "eval", str(pred), str(gold), "--json"]).stdout)
    assert doc["exact"]["micro"]["f1"] == 0.5 and doc["overlap"]["micro"]["f1"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    result = runner.invoke(main, ["pii", "eval", str(bad), str(gold)])
    assert result.exit_code == 1 and "line 1 is not valid JSON" in result.output


def test_label_runs_the_project_pii_job(runner, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "rows.jsonl"\nid_column = "id"\n'
        '[pii]\nner = false\ngold_column = "spans"\nlabel_model = "majority"\n')
    (root / "rows.jsonl").write_text(
        json.dumps({"id": "x", "text": "mail a@b.co", "spans": [[5, 11, "EMAIL"]]}) + "\n"
        + json.dumps({"id": "y", "text": "nothing", "spans": []}) + "\n")
    result = runner.invoke(main, ["pii", "label", str(root), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["figures"]["n_spans"] == 1 and doc["scores"]["exact"]["micro"]["f1"] == 1.0
    assert Path(doc["files"]["mapping"]).is_file() and "a@b.co" not in result.stdout
    table = runner.invoke(main, ["pii", "label", str(root)])
    assert table.exit_code == 0 and "Scores on 2 gold rows" in table.output
    missing = runner.invoke(main, ["pii", "label", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no project configuration" in missing.output
