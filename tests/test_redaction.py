"""Redaction (weak_supervision/redaction.py): consistent placeholders, surrogates, re-tagging, and no
detected value ever left in the output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from labelfns.errors import ConfigError, DataError
from labelfns.spans import Span
from weak_supervision.redaction import Redactor, find_survivors, redact, write_mapping
from weak_supervision.spans import aggregate_spans, builtin_span_lfs

ROOT = Path(__file__).resolve().parents[1]


def test_same_value_gets_the_same_placeholder_and_types_are_numbered():
    text = "Ann <a@x.org> and Bob <b@x.org>; Ann again, mail a@x.org"
    spans = [(0, 3, "PERSON"), (5, 12, "EMAIL"), (18, 21, "PERSON"), (23, 30, "EMAIL"),
             (33, 36, "PERSON"), (49, 56, "EMAIL")]
    doc = Redactor().redact(text, spans, id="d")
    assert doc.text == ("[PERSON_1] <[EMAIL_1]> and [PERSON_2] <[EMAIL_2]>; [PERSON_1] again, "
                        "mail [EMAIL_1]")
    assert doc.mapping["[PERSON_1]"] == {"label": "PERSON", "originals": ["Ann"]}


def test_identity_ignores_case_and_whitespace_and_name_parts_join_the_full_name():
    text = "Maria  Lopez wrote. maria lopez again. Thanks, Maria!"
    doc = Redactor().redact(text, [(0, 12, "PERSON"), (20, 31, "PERSON")])
    assert doc.text == "[PERSON_1] wrote. [PERSON_1] again. Thanks, [PERSON_1]!"
    assert doc.mapping["[PERSON_1]"]["originals"] == ["Maria  Lopez", "maria lopez", "Maria"]


def test_retagging_is_word_boundary_aware_and_marks_retagged_occurrences():
    text = "Tom: hi. Tomorrow Tom's order ships, tom?"
    doc = Redactor().redact(text, [(0, 3, "PERSON")])
    assert doc.text == "[PERSON_1]: hi. Tomorrow [PERSON_1]'s order ships, tom?"
    assert [r.retagged for r in doc.replacements] == [False, True]
    no_retag = Redactor(retag=False).redact(text, [(0, 3, "PERSON")])
    assert no_retag.text.count("Tom") == 2


def test_overlapping_input_spans_are_merged_longest_type_wins():
    text = "IBAN DE89 3704 0044 0532 0130 00."
    doc = Redactor().redact(text, [(5, 32, "IBAN"), (10, 19, "CREDIT_CARD")])
    assert doc.text == "IBAN [IBAN_1]."


def test_empty_none_and_non_ascii_documents():
    r = Redactor()
    assert r.redact("", []).text == ""
    assert r.redact(None, []).text == ""
    text = "Zoë Dvořák: 日本語 ok, Zoë"
    assert r.redact(text, [(0, 10, "PERSON")]).text == "[PERSON_1]: 日本語 ok, [PERSON_1]"


def test_bad_spans_and_options_raise_clean_errors():
    with pytest.raises(DataError, match="document 'x'.*outside the text of length 2"):
        Redactor().redact("hi", [(0, 5, "PERSON")], id="x")
    with pytest.raises(ConfigError, match="placeholder"):
        Redactor(mode="blackout").redact("hi", [])  # type: ignore[arg-type]


def test_surrogates_are_seeded_consistent_and_hide_the_originals():
    text = "Maria Lopez <maria@x.org>, call +1 415 555 0132. Bye Maria Lopez"
    spans = [(0, 11, "PERSON"), (13, 24, "EMAIL"), (32, 47, "PHONE")]
    a = Redactor(mode="surrogate", seed=3).redact(text, spans, id="c1")
    b = Redactor(mode="surrogate", seed=3).redact(text, spans, id="c1")
    c = Redactor(mode="surrogate", seed=4).redact(text, spans, id="c1")
    assert a.text == b.text and a.text != c.text
    assert "Maria" not in a.text and "maria@x.org" not in a.text and "[" not in a.text
    people = [r.replacement for r in a.replacements if r.label == "PERSON"]
    assert len(people) == 2 and people[0] == people[1]
    assert "@" in a.mapping_records()[1]["replacement"]


def test_report_views_hold_no_original_values(tmp_path):
    doc = Redactor().redact("call Tom", [(5, 8, "PERSON")], id="c1")
    assert "Tom" not in json.dumps(doc.to_dict())
    assert doc.counts() == {"PERSON": 1}
    path = tmp_path / "map.jsonl"
    assert write_mapping(path, [doc]) == 1
    assert json.loads(path.read_text()) == {"id": "c1", "replacement": "[PERSON_1]",
                                            "label": "PERSON", "originals": ["Tom"]}


def test_find_survivors_is_word_boundary_aware():
    assert find_survivors("Tomorrow [PERSON_1]", ["Tom"]) == []
    assert find_survivors("call (415) 555-0132!", ["(415) 555-0132", ""]) == ["(415) 555-0132"]


def test_redact_many_is_consistent_per_document_only():
    docs = redact(["Tom and Ann", "Ann"], [[(0, 3, "PERSON"), (8, 11, "PERSON")], [(0, 3, "PERSON")]])
    assert [d.text for d in docs] == ["[PERSON_1] and [PERSON_2]", "[PERSON_1]"]
    with pytest.raises(DataError):
        redact(["a"], [])


@pytest.fixture(scope="module")
def generated():
    sys.path.insert(0, str(ROOT / "examples" / "support_chats"))
    import generate_chats

    chats = generate_chats.generate(2000, seed=11)
    texts = [c["text"] for c in chats]
    detected = aggregate_spans(builtin_span_lfs(ner=False), texts)
    return chats, texts, detected


@pytest.mark.parametrize("mode", ["placeholder", "surrogate"])
def test_no_detected_span_survives_on_2000_generated_chats(generated, mode):
    chats, texts, detected = generated
    redactor = Redactor(mode=mode, seed=5)
    leaks = []
    for chat, text, doc in zip(chats, texts, detected.documents, strict=True):
        spans = [Span(s.start, s.end, s.label) for s in doc.spans]
        spans += [Span(s["start"], s["end"], s["label"]) for s in chat["spans"]]  # gold too
        out = redactor.redact(text, spans, id=chat["id"])
        values = [text[s.start:s.end] for s in spans]
        survivors = find_survivors(out.text, values)
        if survivors:
            leaks.append((chat["id"], survivors))
    assert leaks == []
    assert sum(len(d.spans) for d in detected.documents) > 5000
