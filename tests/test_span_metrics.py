"""Span-level evaluation (weak_supervision/span_metrics.py)."""

from __future__ import annotations

import json

import pytest

from labelfns.errors import DataError
from labelfns.spans import Span
from weak_supervision.span_metrics import evaluate_files, read_spans_jsonl, score_spans


def test_exact_and_overlap_matching_per_type_and_micro():
    gold = [[(0, 3, "PERSON"), (10, 15, "EMAIL"), (20, 25, "PHONE")]]
    pred = [[(0, 3, "PERSON"), (9, 15, "EMAIL"), (20, 25, "EMAIL"), (30, 33, "PERSON")]]
    s = score_spans(gold, pred)
    assert (s.exact["PERSON"].tp, s.exact["PERSON"].fp, s.exact["PERSON"].fn) == (1, 1, 0)
    assert (s.exact["EMAIL"].tp, s.exact["EMAIL"].fp, s.exact["EMAIL"].fn) == (0, 2, 1)
    assert (s.overlap["EMAIL"].tp, s.overlap["EMAIL"].fp) == (1, 1)  # the label must match too
    assert s.exact["PHONE"].recall == 0.0 and s.exact["PHONE"].precision == 0.0
    assert (s.exact.micro.tp, s.exact.micro.fp, s.exact.micro.fn) == (1, 3, 2)
    assert s.overlap.micro.tp == 2


def test_overlap_matching_is_one_to_one():
    gold = [[(0, 10, "ADDRESS")]]
    pred = [[(0, 4, "ADDRESS"), (5, 10, "ADDRESS")]]
    m = score_spans(gold, pred).overlap["ADDRESS"]
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)


def test_f2_weighs_recall_more_than_f1():
    s = score_spans([[(0, 1, "X"), (2, 3, "X"), (4, 5, "X"), (6, 7, "X")]], [[(0, 1, "X")]])
    row = s.exact["X"]
    assert row.precision == 1.0 and row.recall == 0.25
    assert row.f1 == pytest.approx(0.4)
    assert row.f2 == pytest.approx(5 * 0.25 / (4 + 0.25))


def test_labels_restrict_and_order_the_types():
    s = score_spans([[(0, 1, "A"), (2, 3, "B")]], [[(0, 1, "A"), (4, 5, "C")]], labels=["B", "A"])
    assert [r.label for r in s.exact.per_type] == ["B", "A"]
    assert s.exact.micro.fp == 0  # the C span is not scored


def test_frames_and_dicts():
    s = score_spans([[Span(0, 2, "PERSON")], []], [[{"start": 0, "end": 2, "label": "PERSON"}], []])
    frame = s.to_frame()
    assert frame.loc[("exact", "PERSON"), "f1"] == 1.0
    assert frame.loc[("overlap", "ALL"), "support"] == 1
    assert s.to_dict()["exact"]["per_type"]["PERSON"]["support"] == 1
    with pytest.raises(KeyError, match="PERSON"):
        s.exact["EMAIL"]


def test_mismatched_documents_and_bad_spans_raise():
    with pytest.raises(DataError, match="gold has 1 documents but the predictions have 2"):
        score_spans([[]], [[], []])
    with pytest.raises(DataError, match="predicted document 0"):
        score_spans([[]], [["nonsense"]])


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_evaluate_files_matches_ids_as_strings(tmp_path):
    gold = write(tmp_path / "gold.jsonl", [
        {"id": 1, "text": "Hi Ann", "spans": [{"start": 3, "end": 6, "label": "PERSON"}]},
        {"id": 2, "text": "none", "spans": []},
    ])
    pred = write(tmp_path / "pred.jsonl", [
        {"id": "1", "spans": [{"start": 3, "end": 6, "label": "PERSON", "confidence": 0.9}]},
        {"id": 2, "spans": [{"start": 0, "end": 4, "label": "EMAIL"}]},
    ])
    s = evaluate_files(pred, gold)
    assert s.exact["PERSON"].f1 == 1.0 and s.exact["EMAIL"].fp == 1 and s.n_docs == 2


def test_evaluate_files_warns_about_missing_and_extra_ids(tmp_path):
    gold = write(tmp_path / "g.jsonl", [{"id": "a", "text": "x", "spans": []},
                                         {"id": "b", "text": "Al", "spans": [[0, 2, "PERSON"]]}])
    pred = write(tmp_path / "p.jsonl", [{"id": "a", "spans": []}, {"id": "z", "spans": []}])
    with pytest.warns(UserWarning) as record:
        s = evaluate_files(pred, gold)
    messages = " ".join(str(w.message) for w in record)
    assert "1 gold documents have no prediction" in messages and "not in the gold file" in messages
    assert s.exact["PERSON"].fn == 1
    other = write(tmp_path / "o.jsonl", [{"id": "q", "spans": []}])
    with pytest.raises(DataError, match="no id of the prediction file"):
        evaluate_files(other, gold)


@pytest.mark.parametrize("content, message", [
    ('{"id": 1, "text": "x", "spans": []}\n{oops\n', r"line 2 is not valid JSON"),
    ('{"text": "x", "spans": []}\n', r'line 1: expected an object with "id" and "spans"'),
    ('{"id": 1, "spans": []}\n', r'line 1: expected a "text" string'),
    ('{"id": 1, "text": "x", "spans": []}\n{"id": 1, "text": "y", "spans": []}\n',
     r"line 2: id '1' repeats line 1"),
    ('{"id": 1, "text": "ab", "spans": [{"start": 0, "end": 9, "label": "P"}]}\n',
     r"line 1: span .* outside the text of length 2"),
    ('{"id": 1, "text": "ab", "spans": [{"begin": 0}]}\n', r"line 1: .* is not a span"),
    ("\n\n", r"holds no records"),
])
def test_read_spans_jsonl_errors_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "gold.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_spans_jsonl(path, what="gold file", need_text=True)


def test_read_spans_jsonl_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_spans_jsonl(tmp_path / "nope.jsonl")
