"""labelcycle slices (and the slice columns of history) on a starter project."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    runner = CliRunner()
    root = tmp_path_factory.mktemp("slices") / "demo"
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    result = runner.invoke(main, ["cycle", str(root), "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    return root


def test_slices_json_ranks_builtin_slices(runner, project):
    result = runner.invoke(main, ["slices", str(project), "--json", "--boot", "200"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    names = [s["name"] for s in doc["slices"]]
    assert {"gold=billing", "gold=shipping", "gold=product", "uncovered"} <= set(names)
    gains = [s["expected_gain"] or 0 for s in doc["slices"]]
    assert gains == sorted(gains, reverse=True)
    assert doc["overall"]["n_dev"] == 60


def test_slices_table_names_the_top_slice(runner, project):
    result = runner.invoke(main, ["slices", str(project), "--top", "3", "--boot", "100"])
    assert result.exit_code == 0, result.output
    doc = json.loads(runner.invoke(main, ["slices", str(project), "--json", "--boot", "100"]).stdout)
    assert doc["slices"][0]["name"] in result.stdout


def test_slices_html_file_is_self_contained(runner, project, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["slices", str(project), "--out", str(out), "--boot", "100"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    ids: list[str] = []

    class Sections(HTMLParser):
        def handle_starttag(self, tag, attrs):
            ids.extend(v for k, v in attrs if k == "id" and v)

    Sections().feed(text)
    for section in ("summary", "slices", "gaps", "confusions", "coverage", "history"):
        assert any(section in i for i in ids), section
    assert not re.search(r"(https?:)?//[a-z0-9]", text, re.I)
    assert not list(tmp_path.glob("*.tmp*"))


def test_slices_markdown_to_stdout(runner, project):
    result = runner.invoke(main, ["slices", str(project), "--format", "md", "--boot", "0"])
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("#")
    assert "| " in result.stdout


def test_slices_user_slicing_function_that_raises_is_named(runner, project, tmp_path):
    sf = tmp_path / "my_slices.py"
    sf.write_text("from analysis.slicing import slicing_function\n"
                  "@slicing_function\n"
                  "def broken(x):\n"
                  "    return 1 / 0\n")
    result = runner.invoke(main, ["slices", str(project), "--slices", str(sf), "--boot", "0"])
    assert result.exit_code == 1
    assert "broken" in result.output and "ZeroDivisionError" in result.output
    assert "Traceback" not in result.output


def test_slices_user_slicing_function_is_reported(runner, project, tmp_path):
    sf = tmp_path / "my_slices.py"
    sf.write_text("from analysis.slicing import slicing_function\n"
                  "@slicing_function\n"
                  "def mentions_order(x):\n"
                  "    return 'order' in x.text.lower()\n")
    result = runner.invoke(main, ["slices", str(project), "--slices", str(sf), "--json",
                                  "--boot", "0"])
    assert result.exit_code == 0, result.output
    assert "mentions_order" in [s["name"] for s in json.loads(result.stdout)["slices"]]


def test_slices_predictions_with_wrong_ids_say_how_many(runner, project, tmp_path):
    bad = tmp_path / "preds.csv"
    pd.DataFrame({"id": ["nope-1", "nope-2"], "prediction": ["billing", "product"]}).to_csv(
        bad, index=False)
    result = runner.invoke(main, ["slices", str(project), "--predictions", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    flat = " ".join(result.output.split())
    assert "2 id(s) are not in the project's data (e.g. 'nope-1', 'nope-2')" in flat
    assert re.search(r"(\d+) of \1 dev rows have no prediction", flat)


def test_slices_before_any_cycle_says_run_cycle(runner, tmp_path):
    root = tmp_path / "fresh"
    assert runner.invoke(main, ["init", str(root)]).exit_code == 0
    result = runner.invoke(main, ["slices", str(root)])
    assert result.exit_code == 1
    assert "labelcycle cycle" in result.output


def test_history_json_carries_slice_figures(runner, project):
    result = runner.invoke(main, ["history", str(project), "--json"])
    assert result.exit_code == 0, result.output
    cycles = json.loads(result.stdout)["cycles"]
    assert cycles and cycles[-1]["slices"]["metric"] == "accuracy"
    assert "gold=billing" in cycles[-1]["slices"]["values"]


def test_slices_chat_run_makes_invalid_answers_a_slice(runner, project, monkeypatch):
    from fake_openai import DEFAULT_KEY, FakeOpenAI

    missing = runner.invoke(main, ["slices", str(project), "--chat-run", "latest"])
    assert missing.exit_code == 1 and "finetune evaluate" in missing.output
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
    with FakeOpenAI() as server:
        server.default_answer = "I cannot tell"
        server.chat_answers["__never__"] = "billing"
        result = runner.invoke(main, ["finetune", "evaluate", "--model", "ft:x", "--project",
                                      str(project), "--base-url", server.url, "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["slices", str(project), "--chat-run", "latest", "--json",
                                  "--boot", "0"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    invalid = next(s for s in doc["slices"] if s["name"] == "invalid_answer")
    assert invalid["n_dev"] == 60


def test_suggest_json_lists_measured_candidates(runner, project):
    result = runner.invoke(main, ["suggest", str(project), "--top", "5", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 0 < len(doc["suggestions"]) <= 5
    for s in doc["suggestions"]:
        assert 0 <= s["precision_low"] <= s["precision"] <= s["precision_high"] <= 1
        assert s["code"] and s["label"]
    assert doc["written"] is None


def test_suggest_model_option_chooses_whose_errors(runner, project):
    docs = {}
    for model in ("label_model", "end_model", "majority"):
        result = runner.invoke(main, ["suggest", str(project), "--json", "--model", model])
        assert result.exit_code == 0, result.output
        docs[model] = json.loads(result.stdout)
    default = json.loads(runner.invoke(main, ["suggest", str(project), "--json"]).stdout)
    assert default == docs["label_model"]
    assert all(d["n_dev"] == default["n_dev"] for d in docs.values())
    bad = runner.invoke(main, ["suggest", str(project), "--model", "nope"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_suggest_is_deterministic(runner, project):
    a = runner.invoke(main, ["suggest", str(project), "--json", "--seed", "3"]).stdout
    b = runner.invoke(main, ["suggest", str(project), "--json", "--seed", "3"]).stdout
    assert a == b


def test_suggest_write_makes_a_loadable_lf_module(runner, project):
    from labelfns.loading import load_lfs

    doc = json.loads(runner.invoke(main, ["suggest", str(project), "--top", "3", "--json",
                                          "--min-precision", "0.5"]).stdout)
    name = doc["suggestions"][0]["name"]
    out = project / "accepted_lfs.py"
    result = runner.invoke(main, ["suggest", str(project), "--top", "3", "--min-precision", "0.5",
                                  "--accept", name, "--write", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written_lfs"] == [name]
    assert [lf.name for lf in load_lfs([out])] == [name]
    again = runner.invoke(main, ["suggest", str(project), "--top", "3", "--min-precision", "0.5",
                                 "--accept", name, "--write", str(out)])
    assert again.exit_code == 1 and "Traceback" not in again.output  # no silent clobbering


def test_suggest_unknown_accept_name_lists_candidates(runner, project):
    result = runner.invoke(main, ["suggest", str(project), "--accept", "nope", "--write",
                                  str(project / "x.py")])
    assert result.exit_code == 1
    assert "nope" in result.output and "candidates" in result.output
    assert not (project / "x.py").exists()


def test_suggest_for_a_slice_and_an_unknown_slice(runner, project):
    ok = runner.invoke(main, ["suggest", str(project), "--slice", "uncovered", "--json"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["suggest", str(project), "--slice", "no_such_slice"])
    assert bad.exit_code == 1 and "uncovered" in bad.output


def test_cycle_ends_with_top_slices_and_three_suggestions(runner, project):
    result = runner.invoke(main, ["cycle", str(project), "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 1 <= len(doc["top_slices"]) <= 3
    gains = [s["expected_gain"] for s in doc["top_slices"]]
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
    assert 1 <= len(doc["suggestions"]) <= 3
    assert all(s["kind"] in ("keyword", "phrase", "regex") for s in doc["suggestions"])
    text = runner.invoke(main, ["cycle", str(project), "--jobs", "1"])
    assert text.exit_code == 0, text.output
    assert "Slices to work on" in text.stdout
    for s in doc["top_slices"]:
        assert f"  {s['name']}: {s['n_dev']} dev rows" in text.stdout
    assert "Suggested LFs" in text.stdout
    for s in doc["suggestions"]:
        assert f"  {s['name']} -> {s['label']}: dev precision" in text.stdout


def test_suggest_evidence_is_redacted_unless_asked(runner, project):
    redacted = json.loads(runner.invoke(main, ["suggest", str(project), "--json"]).stdout)
    raw = json.loads(runner.invoke(main, ["suggest", str(project), "--json",
                                          "--no-redact"]).stdout)
    assert [s["name"] for s in redacted["suggestions"]] == [s["name"] for s in raw["suggestions"]]
    assert redacted["suggestions"] and all(
        s["examples"] for s in redacted["suggestions"] if s["kind"] != "embedding")
    from analysis.slice_report import redact_example

    pairs = [(ea, eb) for a, b in zip(redacted["suggestions"], raw["suggestions"], strict=True)
             for ea, eb in zip(a["examples"], b["examples"], strict=True)]
    assert any(ea != eb for ea, eb in pairs)  # the starter messages hold order numbers
    for ea, eb in pairs:
        assert ea.split(": ")[0] == eb.split(": ")[0]  # the same row
        text = ea.partition(": ")[2].strip(".")
        assert redact_example(text) == text  # nothing left to redact
