"""Tests of analysis.slice_report: per-slice figures, intervals, ranking, examples, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.builtin_slices import Slice
from analysis.cycle_data import cycle_data_from_frame, load_cycle_data, read_predictions
from analysis.slice_report import build_report, redact_example, report_history, slice_report
from analysis.slicing import SlicingFunction, SlicingFunctionError, slicing_function
from labelfns.errors import DataError
from weak_supervision.cycle import run_cycle
from weak_supervision.pii_pipeline import pii_label_project
from weak_supervision.project import init_project, load_project

LABELS = ("billing", "shipping", "product")


def _data(n_dev: int = 100, seed: int = 0, **extra):
    """Synthetic cycle: billing rows are mostly right, shipping rows often wrong; no product."""
    rng = np.random.default_rng(seed)
    gold = np.array([0] * (n_dev // 2) + [1] * (n_dev - n_dev // 2))
    pred = gold.copy()
    wrong = (gold == 1) & (rng.random(n_dev) < 0.5)
    pred[wrong] = 0
    frame = pd.DataFrame({
        "id": [f"r{i}" for i in range(n_dev + 4)],
        "text": [f"row {i} " + "x" * (i % 30) for i in range(n_dev + 4)],
        "split": ["dev"] * n_dev + ["pool"] * 4,
        "gold": [*gold.tolist(), -1, -1, -1, -1],
        "end_model": [*pred.tolist(), 0, 1, 1, 2],
        "end_model_confidence": np.linspace(0.4, 0.99, n_dev + 4),
        **extra,
    })
    L = np.full((n_dev + 4, 1), -1)
    L[: n_dev // 2, 0] = 0
    return cycle_data_from_frame(frame, LABELS, L=L, lf_names=("kw_billing",))


def _mask(data, rows):
    mask = np.zeros(len(data.frame), dtype=bool)
    mask[list(rows)] = True
    return mask


# ----------------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------------


def test_slice_report_figures_match_hand_counts():
    data = _data()
    report = slice_report(data, n_boot=200)
    f = data.frame[data.dev_mask]
    errors = int((f["gold"] != f["end_model"]).sum())
    assert report.overall["n_errors"] == errors and report.overall["n_dev"] == 100
    assert report.overall["accuracy"] == pytest.approx(1 - errors / 100)
    s = report.get("gold=shipping")
    assert (s.n_dev, s.n_errors, s.error_share) == (50, errors, 1.0)
    assert s.accuracy == pytest.approx(1 - errors / 50)
    assert s.gap == pytest.approx(s.accuracy - report.overall["accuracy"])
    assert s.gap_low < s.gap < s.gap_high < 0  # clearly worse than overall
    billing = report.get("gold=billing")
    assert billing.top_lfs[0].lf == "kw_billing" and billing.top_lfs[0].precision == 1.0
    assert billing.coverage == 1.0 and s.coverage == 0.0
    assert report.slices[0].name in ("gold=shipping", "uncovered")  # the error mass lives there
    assert report.get("predicted=shipping").pool_confidence == pytest.approx(
        data.frame["end_model_confidence"].iloc[[101, 102]].mean())


def test_slice_report_empty_slice_is_reported_without_figures():
    report = slice_report(_data(), n_boot=50)
    empty = report.get("gold=product")  # a class with no dev rows
    assert empty.n_dev == 0 and empty.n_pool == 0 and empty.note == "empty slice: no row"
    assert empty.accuracy is None and empty.gap is None and empty.gap_low is None
    assert empty.expected_gain is None  # ranked after every slice with a gain
    assert all(s.expected_gain is None for s in report.slices[empty.rank - 1:])
    assert any("gold=product" in n for n in report.notes)
    cov = {c["label"]: c for c in report.class_coverage}
    assert cov["product"]["dev_rows"] == 0 and cov["product"]["dev_coverage"] is None
    json.dumps(report.to_dict())


def test_slice_report_one_row_slice_claims_no_interval():
    data = _data()
    wrong_row = int(np.flatnonzero(data.frame["gold"] != data.frame["end_model"])[0])
    one = Slice("one_row", "custom", "a single wrong row", _mask(data, [wrong_row]))
    report = slice_report(data, slices=[one], n_boot=200)
    s = report.get("one_row")
    assert s.n_dev == 1 and s.gap is not None
    assert s.gap_low is None and s.gap_high is None
    assert s.interval_note == "fewer than 2 dev rows: no interval"
    assert any("one dev row" in n for n in report.notes)


def test_slice_report_pool_only_slice_gives_no_gold_measures():
    data = _data()
    pool = Slice("pool_rows", "custom", "pool", ~data.dev_mask)
    s = slice_report(data, slices=[pool], n_boot=20).get("pool_rows")
    assert s.n_dev == 0 and s.n_pool == 4 and s.note == "no dev rows: pool measures only"
    assert s.pool_coverage == 0.0 and s.pool_conflict_rate == 0.0
    assert s.accuracy is None and s.expected_gain is None
    assert len(s.examples) == 3 and all(e["gold"] is None for e in s.examples)


def test_slice_report_ranks_by_expected_gain_not_error_rate():
    data = _data()
    wrong = np.flatnonzero((data.frame["gold"] != data.frame["end_model"]).to_numpy())
    tiny = Slice("tiny", "custom", "one wrong row", _mask(data, wrong[:1]))
    big = Slice("big", "custom", "shipping rows", data.frame["gold"].to_numpy() == 1)
    report = slice_report(data, slices=[tiny, big], n_boot=0)
    assert [s.name for s in report.slices] == ["big", "tiny"]
    assert report.get("tiny").accuracy == 0.0 < report.get("big").accuracy
    assert report.top(1)[0].name == "big"
    raw = slice_report(data, slices=[tiny, big], n_boot=0, prior_units=0)
    e = report.overall["n_errors"] / 100
    assert raw.get("tiny").expected_gain == pytest.approx((1 - e) / 100)


def test_slice_report_is_deterministic_for_a_seed():
    data = _data()
    a = slice_report(data, n_boot=300, seed=7).to_dict()
    b = slice_report(data, n_boot=300, seed=7).to_dict()
    c = slice_report(data, n_boot=300, seed=8).to_dict()
    assert a == b
    assert [s["gap_low"] for s in a["slices"]] != [s["gap_low"] for s in c["slices"]]


def test_slice_report_without_bootstrap_says_so():
    s = slice_report(_data(), n_boot=0).get("gold=shipping")
    assert s.gap_low is None and s.interval_note == "no bootstrap (n_boot = 0)"
    with pytest.raises(DataError, match="n_boot"):
        slice_report(_data(), n_boot=-1)


def test_slice_report_slicing_function_that_raises_is_named():
    @slicing_function
    def fragile(x):
        if x.text.startswith("row 3 "):
            raise KeyError("boom")
        return True

    with pytest.raises(SlicingFunctionError, match="slicing function 'fragile' on row 'r3': raised KeyError"):
        slice_report(_data(), slicing_functions=[fragile], n_boot=0)


def test_slice_report_adds_slicing_functions_and_rejects_clashing_names():
    sf = SlicingFunction("short_rows", lambda x: len(x.text) < 12)
    report = slice_report(_data(), slicing_functions=[sf], n_boot=0)
    assert report.get("short_rows").group == "slicing function"
    with pytest.raises(SlicingFunctionError, match="'uncovered'"):
        slice_report(_data(), slicing_functions=[SlicingFunction("uncovered", lambda x: True)],
                     n_boot=0)


def test_slice_report_unknown_model():
    with pytest.raises(DataError, match="no predictions of model 'label_model'"):
        slice_report(_data(), model="label_model")


def test_slice_report_without_dev_rows_reports_pool_measures():
    data = _data()
    frame = data.frame.assign(split="pool", gold=-1)
    report = slice_report(cycle_data_from_frame(frame, LABELS, L=data.L, lf_names=data.lf_names),
                          n_boot=100)
    assert report.overall["n_dev"] == 0 and report.overall["accuracy"] is None
    assert all(s.expected_gain is None for s in report.slices)
    assert any("no dev rows" in n for n in report.notes) and report.confusions == ()


def test_slice_report_examples_are_redacted_by_default():
    data = _data()
    wrong = int(np.flatnonzero((data.frame["gold"] != data.frame["end_model"]).to_numpy())[0])
    texts = data.frame["text"].tolist()
    texts[wrong] = "Please mail jane.doe@example.com or call (415) 555-0132 about it"
    frame = data.frame.assign(text=texts)
    secret = cycle_data_from_frame(frame, LABELS, L=data.L, lf_names=data.lf_names)
    one = Slice("secret", "custom", "the row with PII", _mask(secret, [wrong]))
    shown = slice_report(secret, slices=[one], n_boot=0).get("secret").examples[0]
    assert "jane.doe@example.com" not in shown["text"] and "555-0132" not in shown["text"]
    assert "[EMAIL_1]" in shown["text"] and shown["correct"] is False
    plain = slice_report(secret, slices=[one], n_boot=0, redact=False).get("secret").examples[0]
    assert "jane.doe@example.com" in plain["text"]


def test_redact_example_hides_given_spans():
    assert redact_example("Tom wrote", [(0, 3, "PERSON")]) == "[PERSON_1] wrote"


def test_slice_report_external_model_and_invalid_answers():
    data = _data()
    ids = data.frame["id"].tolist()
    dev_ids = ids[:100]
    answers = ["billing"] * 98 + ["no idea", "hmm https://evil.example.org/x"]
    ext = read_predictions(pd.DataFrame({"id": dev_ids, "prediction": answers, "answer": answers}),
                           ids=ids, labels=LABELS, dev_mask=data.dev_mask)
    frame = pd.concat([data.frame.drop(columns=["n_votes", "covered", "conflict", "length"]),
                       ext.drop(columns="id")], axis=1)
    both = cycle_data_from_frame(frame, LABELS, L=data.L, lf_names=data.lf_names)
    report = slice_report(both, n_boot=100)
    assert report.model == "external"
    invalid = report.get("invalid_answer")
    assert invalid.n_dev == 2 and invalid.n_errors == 2 and invalid.accuracy == 0.0
    assert all("evil.example.org" not in e["answer"] for e in invalid.examples)
    assert report.get("predicted=(none)").n_dev == 2


# ----------------------------------------------------------------------------------------------
# PII
# ----------------------------------------------------------------------------------------------

PII_ROWS = [
    {"id": "r1", "text": "Hi, I'm Maria Lopez. Mail maria@example.com.",
     "spans": [{"start": 8, "end": 19, "label": "PERSON"},
               {"start": 26, "end": 43, "label": "EMAIL"}]},
    {"id": "r2", "text": "bob here, member code zx-1, mail bob@x.org",
     "spans": [{"start": 0, "end": 3, "label": "PERSON"},
               {"start": 22, "end": 26, "label": "ACCOUNT_ID"},
               {"start": 33, "end": 42, "label": "EMAIL"}]},
    {"id": "r3", "text": "Card 4111 1111 1111 1111 was declined.", "spans": None},
    {"id": "r4", "text": "All good, thanks!", "spans": []},
]


@pytest.fixture(scope="module")
def pii_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("pii") / "p"
    root.mkdir()
    (root / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "rows.jsonl"\nid_column = "id"\n'
        '[pii]\nner = false\ngold_column = "spans"\nlabel_model = "majority"\n')
    (root / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PII_ROWS))
    project = load_project(root)
    pii_label_project(project)
    return project


def test_slice_report_pii_scores_spans_and_redacts_examples(pii_project):
    report = build_report(pii_project, n_boot=100)
    assert report.task == "pii" and report.metric == "span_f1" and report.model == "spans"
    o = report.overall
    assert o["fn"] >= 2 and o["span_f1"] == pytest.approx(2 * o["tp"] / (2 * o["tp"] + o["fp"]
                                                                         + o["fn"]))
    account = report.get("entity=ACCOUNT_ID")
    assert account.n_dev == 1 and account.gap < 0 and account.gap_low is None
    assert {"entity=EMAIL", "entity=CREDIT_CARD", "no_spans_found"} <= {s.name for s in report.slices}
    assert report.slices[0].expected_gain > 0
    texts = [e["text"] for s in report.slices for e in s.examples]
    assert texts and all("bob" not in t and "zx-1" not in t and "bob@x.org" not in t
                         for t in texts)
    assert ("ACCOUNT_ID", "(missed)") in {(c["gold"], c["predicted"]) for c in report.confusions}
    assert {c["label"] for c in report.class_coverage} >= {"EMAIL", "PERSON", "ACCOUNT_ID"}
    assert report_history(pii_project)[-1]["span_f1"] is not None
    json.dumps(report.to_dict())


# ----------------------------------------------------------------------------------------------
# end to end
# ----------------------------------------------------------------------------------------------


def test_build_report_on_a_real_cycle(tmp_path):
    root = init_project(tmp_path / "starter")
    toml = root / "labelcycle.toml"
    toml.write_text(toml.read_text().replace('source = "auto"\n', 'source = "auto"\nsearch = false\n'
                                             'n_epochs = 50\n'))
    (root / "slices.py").write_text(
        "from analysis.slicing import slicing_function\n\n"
        "@slicing_function\n"
        "def mentions_order(x):\n"
        "    \"\"\"Messages that mention an order.\"\"\"\n"
        "    return 'order' in x.text.lower()\n")
    project = load_project(root)
    result = run_cycle(project, n_jobs=1)
    report = build_report(project, slice_modules=["slices.py"], n_boot=200)
    data = load_cycle_data(project)
    assert report.run_id == result.run_id and report.overall["n_dev"] == 60
    assert report.overall["accuracy"] == pytest.approx(
        result.evaluations["dev"]["end_model"].accuracy)
    custom = report.get("mentions_order")
    assert custom.description == "Messages that mention an order."
    assert custom.n_dev + custom.n_pool == int(data.frame["text"].str.lower()
                                               .str.contains("order").sum())
    assert len(report.history) == 1 and report.history[0]["run_id"] == result.run_id
    assert [s.rank for s in report.slices] == list(range(1, len(report.slices) + 1))
    frame = report.to_frame()
    assert frame.index[0] == report.slices[0].name and "gap_low" in frame.columns
    label = build_report(project, model="label_model", n_boot=0, include_history=False)
    assert label.model == "label_model" and label.history == ()
    assert label.overall["accuracy"] == pytest.approx(
        result.evaluations["dev"]["label_model"].accuracy)
    assert build_report(project, n_boot=200).to_dict() == build_report(project, n_boot=200).to_dict()
