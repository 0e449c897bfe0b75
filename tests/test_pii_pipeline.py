"""The project PII job, the [pii] configuration, data generators and the file-level helpers
(weak_supervision/pii_pipeline.py, weak_supervision/config.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from labelfns.errors import ConfigError, DataError, LFError
from weak_supervision.config import config_from_dict, ensure_data, load_config
from weak_supervision.pii_pipeline import (
    load_pii_lfs,
    pii_label_project,
    redact_scan,
    scan_file,
    scan_table,
    write_table,
)
from weak_supervision.project import load_project
from weak_supervision.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "support_chats"

ROWS = [
    {"id": "r1", "text": "Hi, I'm Maria Lopez. Mail maria@example.com or call (415) 555-0132.",
     "spans": [{"start": 8, "end": 19, "label": "PERSON"}, {"start": 26, "end": 43, "label": "EMAIL"},
               {"start": 52, "end": 66, "label": "PHONE"}]},
    {"id": "r2", "text": "Card 4111 1111 1111 1111 was declined, total $12.99.",
     "spans": [{"start": 5, "end": 24, "label": "CREDIT_CARD"}]},
    {"id": "r3", "text": "", "spans": []},
    {"id": "r4", "text": None, "spans": None},
    {"id": "r5", "text": "Zoë wrote from 10.0.0.1 — merci!", "spans": None},
]


def make_pii_project(root: Path, extra: str = "", rows=ROWS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "rows.jsonl"\nid_column = "id"\n'
        '[pii]\nner = false\ngold_column = "spans"\n' + extra, encoding="utf-8")
    (root / "rows.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                     encoding="utf-8")
    return root


def test_pii_job_writes_its_files_and_records_the_run(tmp_path):
    # five rows are too few to choose a label model on: majority vote
    project = load_project(make_pii_project(tmp_path / "p", 'label_model = "majority"\n'))
    run = pii_label_project(project)
    spans = [json.loads(line) for line in run.paths["spans"].read_text().splitlines()]
    assert [s["id"] for s in spans] == ["r1", "r2", "r3", "r4", "r5"]
    assert {s["label"] for s in spans[0]["spans"]} == {"PERSON", "EMAIL", "PHONE"}
    redacted = run.paths["redacted"].read_text()
    for secret in ("maria@example.com", "4111 1111 1111 1111", "555-0132", "10.0.0.1"):
        assert secret not in redacted
        assert secret not in run.paths["summary"].read_text()
    assert "[EMAIL_1]" in redacted
    mapping = [json.loads(line) for line in run.paths["mapping"].read_text().splitlines()]
    assert {"id": "r1", "replacement": "[EMAIL_1]", "label": "EMAIL",
            "originals": ["maria@example.com"]} in mapping
    # scored on the rows with gold (r1-r3; r4 and r5 have none), exact micro F1 is perfect here
    assert run.figures["eval_rows"] == "dev" and run.figures["n_eval"] == 3
    assert run.scores is not None and run.scores.exact.micro.f1 == 1.0
    record = Registry(project.workspace / "registry.sqlite").get_run(run.run_id)
    assert record.kind == "pii" and record.status == "ok"
    assert record.figures["spans_per_label"]["EMAIL"] == 1
    assert "maria" not in json.dumps(record.to_dict())


def test_rerun_takes_span_lf_outputs_from_the_cache(tmp_path):
    project = load_project(make_pii_project(tmp_path / "p", 'label_model = "majority"\n'))
    first = pii_label_project(project)
    assert first.figures["cached_docs"] == 0
    second = pii_label_project(project)
    assert second.figures["cached_docs"] > 0
    assert second.run_id != first.run_id
    assert second.paths["spans"].read_text() == first.paths["spans"].read_text()
    third = pii_label_project(project, use_cache=False)
    assert third.figures["cached_docs"] == 0


def test_user_span_lf_module_is_loaded_and_its_bad_spans_name_it(tmp_path):
    root = make_pii_project(tmp_path / "p", 'modules = ["my_lfs.py"]\n')
    (root / "my_lfs.py").write_text(
        "from labelfns.spans import span_lf\n\n"
        "@span_lf(labels=['ORDER_ID'])\n"
        "def ticket(text):\n"
        "    i = text.find('declined')\n"
        "    return [] if i < 0 else [(i, i + 500, 'ORDER_ID')]\n", encoding="utf-8")
    project = load_project(root)
    assert "ticket" in [lf.name for lf in load_pii_lfs(project)]
    with pytest.raises(LFError, match=r"LF 'ticket' on row 'r2'.*outside the text"):
        pii_label_project(project)
    failed = Registry(project.workspace / "registry.sqlite").list_runs("pii")[0]
    assert failed.status == "failed" and "ticket" in failed.figures["error"]


def test_project_without_pii_section_is_refused(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "labelcycle.toml").write_text('[project]\nlabels = ["a", "b"]\n[data]\npath = "d.csv"\n')
    (root / "d.csv").write_text("text\nhi\n")
    project = load_project(root)
    assert project.config.pii.enabled is False
    with pytest.raises(ConfigError, match=r"has no \[pii\] section"):
        pii_label_project(project)


def test_classification_project_with_pii_section_and_a_generator(tmp_path):
    root = tmp_path / "chats"
    root.mkdir()
    (root / "labelcycle.toml").write_text(f'''
[project]
labels = ["account_access", "order_status", "refund", "billing", "shipping", "cancellation",
          "product_defect", "change_address", "payment_method", "other"]
[data]
path = "data/chats.jsonl"
id_column = "id"
label_column = "intent"
generator = "{(EXAMPLE / "generate_chats.py").as_posix()}"
generator_rows = 40
generator_seed = 3
[dev]
sample = 12
[lfs]
modules = ["{(EXAMPLE / "intent_lfs.py").as_posix()}"]
[pii]
modules = ["{(EXAMPLE / "pii_lfs.py").as_posix()}"]
ner = false
phone_region = ["US", "GB", "DE", "FR", "IN"]
gold_column = "spans"
redact = "surrogate"
''', encoding="utf-8")
    config = load_config(root)
    assert config.pii.phone_region == ("US", "GB", "DE", "FR", "IN")
    assert ensure_data(config) == root / "data" / "chats.jsonl"
    project = load_project(root)
    assert project.n_rows == 40 and project.labels[0] == "account_access"
    run = pii_label_project(project)
    assert run.figures["eval_rows"] == "held_out" and run.figures["n_eval"] == 28
    assert run.scores is not None and run.scores.exact.micro.f1 > 0.8
    assert run.figures["label_source"] in ("majority", "label_model")
    assert "[PERSON_" not in run.paths["redacted"].read_text()  # surrogates, not placeholders


def write_generator(root: Path, body: str) -> None:
    (root / "gen.py").write_text(body, encoding="utf-8")


def generator_config(root: Path):
    return config_from_dict({"project": {"labels": ["a", "b"]},
                             "data": {"path": "out/d.csv", "generator": "gen.py",
                                      "generator_rows": 3, "generator_seed": 9}}, root=root)


def test_generator_runs_once_and_never_overwrites(tmp_path):
    write_generator(tmp_path, "def write(path, n, seed):\n"
                              "    open(path, 'w').write('text\\n' + f'{seed}\\n' * n)\n")
    config = generator_config(tmp_path)
    target = ensure_data(config)
    assert target is not None and target.read_text() == "text\n9\n9\n9\n"
    target.write_text("text\nmine\n")
    assert ensure_data(config) is None
    assert target.read_text() == "text\nmine\n"
    assert not [p for p in target.parent.iterdir() if "generating" in p.name]


@pytest.mark.parametrize("body, message", [
    (None, "not found"),
    ("x = 1\n", "has no function write"),
    ("def write(path, n, seed):\n    raise RuntimeError('disk full')\n", "RuntimeError: disk full"),
    ("def write(path, n, seed):\n    pass\n", "did not create"),
    ("import nonexistent_module_xyz\n", "nonexistent_module_xyz"),
])
def test_generator_errors_are_config_errors(tmp_path, body, message):
    if body is not None:
        write_generator(tmp_path, body)
    with pytest.raises(ConfigError, match=message):
        ensure_data(generator_config(tmp_path))
    assert not (tmp_path / "out" / "d.csv").exists()


@pytest.mark.parametrize("pii, message", [
    ({"phone_region": "USA"}, "not a two-letter region code"),
    ({"builtins": False}, "list at least one span LF module"),
    ({"redact": "blackout"}, "one of 'placeholder', 'surrogate'"),
    ({"ner_modle": "x"}, "Did you mean 'ner_model'"),
    ({"enabled": False}, "contradicts"),
])
def test_pii_section_is_validated(tmp_path, pii, message):
    raw = {"project": {"task": "pii"}, "data": {"path": "d.csv"}, "pii": pii}
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw, root=tmp_path)


def test_pii_section_defaults_depend_on_the_task(tmp_path):
    pii_task = config_from_dict({"project": {"task": "pii"}, "data": {"path": "d.csv"}},
                                root=tmp_path)
    assert pii_task.pii.enabled and pii_task.pii.builtins and pii_task.pii.phone_region == "US"
    both = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {"path": "d.csv"},
                             "pii": {"gold_column": "spans"}}, root=tmp_path)
    assert both.pii.enabled and both.to_dict()["pii"]["gold_column"] == "spans"


# -- file-level helpers ------------------------------------------------------------------------------
def test_scan_table_checks_columns_and_ids():
    frame = pd.DataFrame({"id": ["a", "a"], "t": ["x", "y"]})
    with pytest.raises(DataError, match=r"chats.csv: no text column 'body'.*available columns: id, t"):
        scan_table(frame, text_column="body", source="chats.csv", ner=False)
    with pytest.raises(DataError, match=r"id 'a' in column 'id' repeats \(rows 1 and 2\)"):
        scan_table(frame, text_column="t", id_column="id", ner=False)
    with pytest.raises(DataError, match=r"row 2 has no id"):
        scan_table(pd.DataFrame({"id": ["a", None], "t": ["x", "y"]}), text_column="t",
                   id_column="id", ner=False)
    with pytest.raises(DataError, match=r"column 't': row 2 holds a dict"):
        scan_table(pd.DataFrame({"t": ["x", {"a": 1}]}), text_column="t", ner=False)


def test_scan_file_and_redact_scan_on_each_format(tmp_path):
    frame = pd.DataFrame({"id": [10, 11, 12], "body": ["mail a@b.co", None, "call 415-555-0132"]})
    for suffix in (".csv", ".jsonl", ".parquet"):
        path = tmp_path / f"in{suffix}"
        write_table(path, frame)
        result = scan_file(path, text_column="body", id_column="id", ner=False)
        assert [str(i) for i in result.ids] == ["10", "11", "12"]
        assert [len(d.spans) for d in result.aggregation.documents] == [1, 0, 1]
        out, docs = redact_scan(result, text_column="body")
        assert out["body_redacted"].tolist() == ["mail [EMAIL_1]", "", "call [PHONE_1]"]
        assert list(out.columns) == ["id", "body", "body_redacted"]
    with pytest.raises(DataError, match="unsupported file type '.txt'"):
        write_table(tmp_path / "out.txt", frame)


def test_scan_table_loads_user_lf_modules(tmp_path):
    module = tmp_path / "extra.py"
    module.write_text("from labelfns.spans import span_lf\n\n@span_lf(labels=['ACCOUNT_ID'])\n"
                      "def member(text):\n    i = text.find('M-')\n"
                      "    return [] if i < 0 else [(i, i + 7, 'ACCOUNT_ID')]\n", encoding="utf-8")
    result = scan_table(pd.DataFrame({"t": ["member M-12345 here"]}), text_column="t",
                        modules=[module], ner=False)
    assert [(s.label, s.start, s.end) for s in result.aggregation.documents[0].spans] == [
        ("ACCOUNT_ID", 7, 14)]
    sys.modules.pop("extra", None)
