"""labelcycle export and labelcycle finetune ...: offline checks, and the job commands against the
fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fake_openai import DEFAULT_KEY, FakeOpenAI

from cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def exported(tmp_path, runner):
    root = tmp_path / "demo"
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    assert runner.invoke(main, ["label", str(root)]).exit_code == 0
    out = tmp_path / "export"
    result = runner.invoke(main, ["export", str(root), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return root, out, json.loads(result.stdout)


def test_export_writes_valid_files_without_dev_rows(exported):
    _root, out, doc = exported
    assert doc["n_train"] > 0 and (out / "train.jsonl").is_file() and (out / "sidecar.jsonl").is_file()
    assert doc["n_train"] + doc["n_validation"] <= 300 - 60


def test_validate_ok_and_errors_with_line_numbers(runner, exported, tmp_path):
    _root, out, _ = exported
    ok = runner.invoke(main, ["finetune", "validate", str(out / "train.jsonl"), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    bad = tmp_path / "bad.jsonl"
    lines = (out / "train.jsonl").read_text().splitlines()
    lines[2] = '{"messages": [{"role": "robot", "content": "x"}]}'
    lines[4] = "{not json"
    bad.write_text("\n".join(lines) + "\n")
    result = runner.invoke(main, ["finetune", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    problems = {(p["line"], p["error"]) for p in json.loads(result.stdout)["errors"]}
    assert (3, "unrecognized_role") in problems and (5, "invalid_json") in problems


def test_estimate_json_has_epochs_tokens_cost_and_break_even(runner, exported):
    _root, out, _ = exported
    result = runner.invoke(main, ["finetune", "estimate", str(out / "train.jsonl"), "--model",
                                  "gpt-4o-mini-2024-07-18", "--zero-shot-prompt-tokens", "900",
                                  "--prompt-tokens", "60", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n_epochs"] >= 1 and doc["billed_tokens"] > 0 and doc["cost_usd"] > 0
    assert "monthly_requests" in doc["break_even"]


def test_submit_dry_run_makes_no_request(runner, exported):
    root, out, _ = exported
    result = runner.invoke(main, ["finetune", "submit", str(out / "train.jsonl"), "--model",
                                  "gpt-4o-mini-2024-07-18", "--dry-run", "--project", str(root),
                                  "--base-url", "http://127.0.0.1:9/v1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "dry_run"


def test_submit_watch_status_events_against_fake_server(runner, exported, monkeypatch):
    root, out, _ = exported
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAI() as server:
        args = ["--project", str(root), "--base-url", server.url, "--json"]
        sub = runner.invoke(main, ["finetune", "submit", str(out / "train.jsonl"), "--model",
                                   "gpt-4o-mini-2024-07-18", "--suffix", "demo", *args])
        assert sub.exit_code == 0, sub.output
        job = json.loads(sub.stdout)["job_id"]
        created = [r for r in server.requests if r.method == "POST" and r.path.endswith("/jobs")]
        metadata = created[-1].body["metadata"]
        assert metadata["label_run"] and metadata["export_run"] and len(metadata["lf_set"]) == 32
        status = runner.invoke(main, ["finetune", "status", job, *args])
        assert status.exit_code == 0 and json.loads(status.stdout)["job_id"] == job
        events = runner.invoke(main, ["finetune", "events", job, *args])
        assert events.exit_code == 0 and "events" in json.loads(events.stdout)
        listed = runner.invoke(main, ["finetune", "list", "--project", str(root), "--json"])
        assert [j["job_id"] for j in json.loads(listed.stdout)["jobs"]] == [job]
    assert DEFAULT_KEY not in sub.output + status.output + events.output


def test_missing_api_key_is_a_clean_error(runner, exported):
    root, out, _ = exported
    result = runner.invoke(main, ["finetune", "submit", str(out / "train.jsonl"), "--model",
                                  "gpt-4o-mini-2024-07-18", "--project", str(root),
                                  "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 1 and "OPENAI_API_KEY" in result.output
    assert "Traceback" not in result.output


def test_finetune_evaluate_against_fake_server(runner, exported, monkeypatch):
    root, _out, _ = exported
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAI() as server:
        server.default_answer = "billing"
        result = runner.invoke(main, ["finetune", "evaluate", "--model", "ft:x", "--project", str(root),
                                      "--base-url", server.url, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n"] == 60 and doc["n_invalid"] == 0 and 0 < doc["accuracy"] < 1


def test_history_lists_chat_model_runs_beside_cycles(runner, exported, monkeypatch):
    root, _out, _ = exported
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAI() as server:
        server.default_answer = "shipping"
        for prompt in ("zero-shot", "fine-tuned"):
            result = runner.invoke(main, ["finetune", "evaluate", "--model", "m", "--prompt", prompt,
                                          "--project", str(root), "--base-url", server.url])
            assert result.exit_code == 0, result.output
    doc = json.loads(runner.invoke(main, ["history", str(root), "--json"]).stdout)
    assert [c["prompt"] for c in doc["chat_models"]] == ["zero-shot", "fine-tuned"]
    assert all(0 <= c["accuracy"] <= 1 for c in doc["chat_models"])
