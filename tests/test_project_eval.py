"""Chat-model evaluation of a project's dev rows, recorded in the registry."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fake_openai import DEFAULT_KEY, FakeOpenAI

from finetune.project_eval import evaluate_chat_on_project, evaluation_rows, prompts_for
from labelfns.errors import DataError
from weak_supervision.project import init_project, load_project
from weak_supervision.registry import Registry


@pytest.fixture
def project(tmp_path):
    return load_project(init_project(tmp_path / "demo"))


def test_zero_shot_prompt_lists_every_class_and_fine_tuned_is_short(project):
    long, template = prompts_for(project, "zero-shot")
    short, _ = prompts_for(project, "fine-tuned")
    assert all(f"- {name}" in long for name in project.labels)
    assert len(short) < len(long) and template == "{text}"


def test_evaluates_dev_rows_records_run_and_caches(project, monkeypatch):
    frame, _ = evaluation_rows(project)
    with FakeOpenAI() as server:
        # the model answers the gold label (in upper case) except for one text: nonsense
        for row in frame.itertuples():
            server.chat_answers[row.text] = row.label.upper()
        server.chat_answers[frame.text[0]] = "no idea"
        n_bad = int((frame.text == frame.text[0]).sum())
        monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
        result, run_id = evaluate_chat_on_project(project, model="ft:demo", base_url=server.url)
        n_calls = len([r for r in server.requests if r.path.endswith("/chat/completions")])
        again, _ = evaluate_chat_on_project(project, model="ft:demo", base_url=server.url)
        assert len([r for r in server.requests if r.path.endswith("/chat/completions")]) == n_calls
    assert result.n == 60 and result.n_invalid == n_bad
    assert result.accuracy == pytest.approx((60 - n_bad) / 60)
    assert again.accuracy == result.accuracy
    run = Registry(project.workspace / "registry.sqlite").get_run(run_id)
    assert run.kind == "chat_eval" and run.status == "ok"
    assert run.figures["accuracy"] == pytest.approx((60 - n_bad) / 60)
    assert DEFAULT_KEY not in (project.workspace / "registry.sqlite").read_bytes().decode("latin-1")


def test_data_file_with_unknown_label_names_row(project, tmp_path):
    path = tmp_path / "eval.csv"
    pd.DataFrame({"text": ["a", "b"], "label": ["billing", "bilingg"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 2 has the label 'bilingg'"):
        evaluation_rows(project, path)


def test_data_file_without_label_column(project, tmp_path):
    path = tmp_path / "eval.csv"
    pd.DataFrame({"text": ["a"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="label"):
        evaluation_rows(project, path)


def test_text_task_pii_leak_rate_recorded(project, monkeypatch):
    from finetune.project_eval import evaluate_text_on_project

    frame = project.data.loc[project.dev_mask].reset_index(drop=True)
    with FakeOpenAI() as server:
        server.default_answer = "The customer asked about an order."
        server.chat_answers[frame.text[0]] = "Mail the customer at anna.k@example.com today."
        n_bad = int((frame.text == frame.text[0]).sum())
        monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
        result, run_id = evaluate_text_on_project(project, model="ft:sum", base_url=server.url,
                                                  ner=False)
    assert result.n == 60 and result.n_leaking == n_bad
    assert result.leaking[0][1] == ("EMAIL",)
    run = Registry(project.workspace / "registry.sqlite").get_run(run_id)
    assert run.figures["pii_leak_rate"] == pytest.approx(n_bad / 60)
    assert "anna.k" not in json.dumps(run.figures) + json.dumps(result.to_dict())


def test_dev_evaluation_writes_predictions_that_slices_read(project, monkeypatch):
    from analysis.cycle_data import read_predictions

    frame, _ = evaluation_rows(project)
    with FakeOpenAI() as server:
        for row in frame.itertuples():
            server.chat_answers[row.text] = row.label
        server.chat_answers[frame.text[0]] = "no idea"
        monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_KEY)
        result, run_id = evaluate_chat_on_project(project, model="ft:demo", base_url=server.url)
    run = Registry(project.workspace / "registry.sqlite").get_run(run_id)
    preds = pd.read_parquet(run.figures["predictions"])
    dev_ids = [str(i) for i in project.ids[project.dev_mask]]
    assert preds["id"].tolist() == dev_ids
    assert int((~preds["valid"]).sum()) == result.n_invalid > 0
    assert preds.loc[~preds["valid"], "answer"].eq("no idea").all()
    table = read_predictions(run.figures["predictions"], ids=[str(i) for i in project.ids],
                             labels=project.labels, dev_mask=project.dev_mask)
    assert len(table) == project.n_rows
    assert int((table["external_present"] & ~table["external_valid"]).sum()) == result.n_invalid
