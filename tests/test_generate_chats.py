"""Tests of examples/support_chats/generate_chats.py, the flagship example's chat generator."""

from __future__ import annotations

import collections
import importlib.util
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "support_chats" / "generate_chats.py"


def _load():
    spec = importlib.util.spec_from_file_location("generate_chats", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_chats"] = module
    spec.loader.exec_module(module)
    return module


gc = _load()


@pytest.fixture(scope="module")
def chats():
    return gc.generate(2000, seed=0)


def values(chat, label=None):
    return [chat["text"][s["start"]:s["end"]] for s in chat["spans"] if label in (None, s["label"])]


def all_values(chats, label):
    return [v for c in chats for v in values(c, label)]


def test_generate_is_deterministic():
    assert gc.generate(150, seed=3) == gc.generate(150, seed=3)


def test_generate_is_deterministic_across_processes():
    code = ("import importlib.util, json, sys; s = importlib.util.spec_from_file_location('g', sys.argv[1]);"
            " m = importlib.util.module_from_spec(s); s.loader.exec_module(m);"
            " print(json.dumps(m.generate(60, seed=11)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(SCRIPT)], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert json.loads(out) == gc.generate(60, seed=11)


def test_generate_seeds_differ():
    a, b = gc.generate(50, seed=0), gc.generate(50, seed=1)
    assert sum(x["text"] != y["text"] for x, y in zip(a, b, strict=True)) > 45


def test_generate_record_shape(chats):
    assert [c["id"] for c in chats[:3]] == ["chat-00001", "chat-00002", "chat-00003"]
    assert len({c["id"] for c in chats}) == len(chats)
    for chat in chats:
        assert set(chat) == {"id", "text", "intent", "summary", "spans"}
        assert chat["intent"] in gc.INTENTS
        assert chat["summary"].startswith("Customer") and chat["summary"].endswith(".")
        turns = [line for line in chat["text"].split("\n") if not line.startswith("--- chat started")]
        assert 3 <= len(turns) <= 10, chat["text"]
        assert all(re.match(r"(\[\d\d:\d\d\] )?[^:\n]{2,60}: \S", t) for t in turns), chat["text"]


def test_generate_offsets_exact_sorted_and_disjoint(chats):
    for chat in chats:
        text, end = chat["text"], 0
        for span in chat["spans"]:
            assert set(span) == {"start", "end", "label"}
            assert span["label"] in gc.LABELS
            assert end <= span["start"] < span["end"] <= len(text)
            value = text[span["start"]:span["end"]]
            assert value == value.strip() and not value.endswith(tuple(".,;:!?>")), value
            assert value[0] not in "<(" or value.startswith("(") and value.count("(") == value.count(")")
            end = span["end"]


def test_generate_every_label_occurs(chats):
    counts = collections.Counter(s["label"] for c in chats for s in c["spans"])
    assert set(counts) == set(gc.LABELS)
    assert min(counts.values()) >= 60, counts


def test_generate_every_intent_has_a_reasonable_share(chats):
    counts = collections.Counter(c["intent"] for c in chats)
    assert set(counts) == set(gc.INTENTS)
    shares = {k: v / len(chats) for k, v in counts.items()}
    assert all(0.04 <= s <= 0.2 for s in shares.values()), shares


def test_generate_intent_signals_overlap(chats):
    def intents_with(word):
        return {c["intent"] for c in chats if re.search(word, c["text"], re.I)}

    assert len(intents_with(r"\brefund")) >= 5
    assert len(intents_with(r"\border\b")) >= 8
    assert len(intents_with(r"\bcard\b")) >= 5
    # a first-match keyword classifier is informative but far from perfect
    rules = [("cancellation", r"\bcancel"), ("refund", r"\brefund"), ("account_access", r"\blog ?in\b"),
             ("change_address", r"\baddress\b"), ("payment_method", r"\bcard\b"),
             ("billing", r"\bcharge"), ("product_defect", r"\bbroken|defect|damaged"),
             ("shipping", r"\bshipping|deliver"), ("order_status", r"\border\b")]
    hits = [next((i for i, p in rules if re.search(p, c["text"], re.I)), "other") == c["intent"]
            for c in chats]
    assert 0.2 < sum(hits) / len(hits) < 0.7


def test_generate_some_intents_are_only_implied(chats):
    texts = collections.defaultdict(list)
    for c in chats:
        texts[c["intent"]].append(c["text"].lower())
    assert sum("refund" not in t for t in texts["refund"]) >= 5
    assert sum("cancel" not in t for t in texts["cancellation"]) >= 5


def test_generate_pii_values_are_valid(chats):
    for card in all_values(chats, "CREDIT_CARD"):
        digits = re.sub(r"[ -]", "", card)
        assert digits.isdigit() and 12 <= len(digits) <= 19 and luhn.is_valid(digits), card
    for value in all_values(chats, "IBAN"):
        assert stdnum_iban.is_valid(value), value
    for value in all_values(chats, "SSN"):
        assert re.fullmatch(r"\d{3}-\d{2}-\d{4}|\d{9}", value) and stdnum_ssn.is_valid(value), value
    for value in all_values(chats, "IP_ADDRESS"):
        ipaddress.ip_address(value)
    for value in all_values(chats, "EMAIL"):
        assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", value), value
    for value in all_values(chats, "URL"):
        assert re.match(r"https?://", value), value
    for value in all_values(chats, "ADDRESS"):
        assert "\n" not in value


def test_generate_pii_is_varied(chats):
    phones = all_values(chats, "PHONE")
    for pattern in (r"^\+44 ", r"^\(\d{3}\) \d{3}-\d{4}$", r"^\+49 ", r"^0\d{9}$", r"^\d{3}\.\d{3}\.\d{4}$",
                    r"^\+91", r"^\+33 "):
        assert any(re.search(pattern, p) for p in phones), pattern
    text = "\n".join(c["text"] for c in chats)
    emails = all_values(chats, "EMAIL")
    assert all(any(f"{pre}{e}{post}" in text for e in emails) for pre, post in
               [("<", ">"), ("(", ")"), ("email:", ""), ("", ".")])
    cards = all_values(chats, "CREDIT_CARD")
    assert any(" " in c for c in cards) and any("-" in c for c in cards) and any(c.isdigit() for c in cards)
    ibans = all_values(chats, "IBAN")
    assert any(" " in i for i in ibans) and any(" " not in i for i in ibans)
    ips = all_values(chats, "IP_ADDRESS")
    assert any(":" in i for i in ips) and any("." in i for i in ips)
    people = all_values(chats, "PERSON")
    assert {"Will", "May", "Rose", "Grant", "Bill", "Mark", "Hope", "Summer", "Chase"} <= set(people)
    assert {"Zoë", "José", "Łukasz", "Björn"} <= set(people)
    assert any(p.islower() for p in people)
    dobs = all_values(chats, "DATE_OF_BIRTH")
    assert any(re.fullmatch(r"\d\d/\d\d/\d{4}", d) for d in dobs)
    assert any(re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", d) for d in dobs)
    assert re.search(r"born on \S", text) and re.search(r"DOB \d", text)
    assert re.search(r"order #A-\d{6}", text) and re.search(r"order number \d", text)
    assert re.search(r"account ID ACC-\d{5}", text) and re.search(r"acct \d{6}", text)


HARD_NEGATIVES = {
    "price": r"[$£€₹]\s?\d[\d,.]*\d|\d[\d.,]*\d €|Rs\. \d[\d,]*",
    "quantity": r"\b(?:\d+ (?:units|pairs|items|pcs)|qty \d+|a pack of \d+|x2)\b",
    "model": r"iPhone 13|Galaxy S21|model [A-Z]{2}-\d{3}[A-Z]?|WH-1000XM4|Fitbit Charge 5",
    "tracking": r"(?<=tracking number is )\S+?(?=\.$)|(?<=Tracking: )\S+|(?<=tracking )(?!number)\S+?(?=\.)",
    "case": r"case #?\d{5}|case CS-\d{6}|ticket \d{5}",
    "last4": r"(?<=ending in )\d{4}|(?<=ending )\d{4}",
    "serial": r"SN-[A-Z0-9]{7}|S/N \S+|serial \d{3}-[A-Z]{2}-\d{3}",
    "phrases": r"Will do|May I help|Mark as resolved|mark this chat|I hope|rose gold|Chase card|summer sale"
               r"|Grant access",
    "other_date": r"(?<=warehouse on )[^.\n]+|(?<=order date )[^\n]+|(?<=delivery for )[^.\n]+",
    "timestamp": r"^\[\d\d:\d\d\]",
}


@pytest.mark.parametrize("kind", sorted(HARD_NEGATIVES))
def test_generate_hard_negatives_present_and_unlabelled(chats, kind):
    found = 0
    for chat in chats:
        for m in re.finditer(HARD_NEGATIVES[kind], chat["text"], flags=re.M):
            found += 1
            for s in chat["spans"]:
                assert m.end() <= s["start"] or s["end"] <= m.start(), (kind, m.group(), chat["text"])
    assert found >= 30, kind


def test_generate_word_names_labelled_only_as_names(chats):
    # "Will do!" is never a span; a "Will" span is a name in a speaker tag, greeting or thanks
    for chat in chats:
        for s in chat["spans"]:
            if s["label"] == "PERSON":
                assert not chat["text"].startswith(("Will do", "May I", "Mark as"), s["start"])


def test_generate_summaries_contain_no_pii(chats):
    for chat in chats:
        for value in values(chat):
            pattern = rf"(?<!\w){re.escape(value)}(?!\w)"
            assert not re.search(pattern, chat["summary"], flags=re.I), (value, chat["summary"])
            if len(value) >= 6:
                assert value.lower() not in chat["summary"].lower()
        assert not re.search(r"\d{4}|@|https?://", chat["summary"])


def test_generate_is_fast():
    start = time.perf_counter()
    gc.generate(600, seed=5)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_generate_rejects_bad_n(bad):
    with pytest.raises(ValueError, match="n must be"):
        gc.generate(bad)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_write_round_trips(tmp_path, suffix):
    out = gc.write(tmp_path / f"chats{suffix}", n=40, seed=9)
    assert out == tmp_path / f"chats{suffix}"
    assert gc.read(out) == gc.generate(40, seed=9)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


def test_write_csv_has_spans_as_json_column(tmp_path):
    import csv

    out = gc.write(tmp_path / "chats.csv", n=5, seed=2)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "text", "intent", "summary", "spans"]
    assert json.loads(rows[0]["spans"]) == gc.generate(5, seed=2)[0]["spans"]


def test_write_rejects_unknown_suffix_and_keeps_old_file(tmp_path):
    with pytest.raises(ValueError, match=r"\.jsonl or \.csv"):
        gc.write(tmp_path / "chats.txt", n=2)
    target = gc.write(tmp_path / "chats.jsonl", n=3, seed=1)
    before = target.read_text(encoding="utf-8")
    with pytest.raises(ValueError):
        gc.write(target, n=-1)
    assert target.read_text(encoding="utf-8") == before


def test_main_writes_file(tmp_path, capsys):
    out = tmp_path / "sub" / "c.jsonl"
    assert gc.main([str(out), "--n", "7", "--seed", "4"]) == 0
    assert "wrote 7 chats" in capsys.readouterr().out
    assert gc.read(out) == gc.generate(7, seed=4)


def test_main_reports_bad_suffix(tmp_path):
    with pytest.raises(SystemExit) as exc:
        gc.main([str(tmp_path / "c.txt")])
    assert exc.value.code == 2
