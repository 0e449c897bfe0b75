"""Tests of analysis.suggest_pii: span-LF suggestions around missed gold spans."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis.suggest_pii import SpanSuggestions, span_shape, suggest_pii, suggest_pii_for_project
from labelfns.errors import DataError, LabelcycleError

NAMES = ["ann", "bob", "cyd", "dee", "eve", "fay", "gus", "hal"]


def chats(n: int = 40, seed: int = 0):
    """Chats where 'thx <name>' names a person (missed by the model) and 'ref RF-123456' is not PII."""
    rng = np.random.default_rng(seed)
    texts, gold = [], []
    for _ in range(n):
        name = str(rng.choice(NAMES))
        head = f"User: hi, order question\nAgent: done, ref RF-{rng.integers(100000, 999999)}\n"
        text = head + f"User: great, thx {name}\nAgent: bye"
        start = text.index(f"thx {name}") + 4
        texts.append(text)
        gold.append([(start, start + len(name), "PERSON")])
    return texts, gold


def test_suggest_pii_finds_the_planted_context_with_its_precision():
    texts, gold = chats()
    dev = np.arange(len(texts)) < 20
    s = suggest_pii(texts, gold=gold, predicted=[[]] * len(texts), dev_mask=dev)
    top = s[0]
    assert top.label == "PERSON" and top.kind == "context" and "thx" in top.pattern
    assert (top.tp, top.support, top.new_tp) == (20, 20, 20)
    assert top.precision == 1.0 and top.f1_gain == pytest.approx(1.0)
    assert top.pool_docs == 20 and top.pool_coverage == 1.0
    assert all("[PERSON]" in e for e in top.examples)
    rx = re.compile(top.pattern)
    m = rx.search(texts[0])
    assert (m.start("s"), m.end("s"), "PERSON") == gold[0][0]


def test_suggest_pii_estimates_precision_on_dev_spans():
    texts, gold = chats()
    # one in four dev chats: the name after "thx" is not annotated (a false positive)
    gold = [g if i % 4 else [] for i, g in enumerate(gold)]
    s = suggest_pii(texts, gold=gold, predicted=[[]] * len(texts), dev_mask=[True] * 40,
                    min_precision=0.5)
    top = s[0]
    assert (top.tp, top.support) == (30, 40) and top.precision == pytest.approx(0.75)
    assert top.precision_low < 0.75 < top.precision_high


def test_suggest_pii_only_reads_dev_gold():
    texts, gold = chats()
    dev = np.arange(len(texts)) < 20
    other = [g if d else [(0, 4, "PERSON")] for g, d in zip(gold, dev, strict=True)]
    a = suggest_pii(texts, gold=gold, predicted=[[]] * 40, dev_mask=dev).to_dict()
    b = suggest_pii(texts, gold=other, predicted=[[]] * 40, dev_mask=dev).to_dict()
    assert a == b


def test_suggest_pii_is_deterministic_for_a_seed():
    texts, gold = chats()
    a = suggest_pii(texts, gold=gold, predicted=[[]] * 40, dev_mask=[True] * 40, seed=5)
    b = suggest_pii(texts, gold=gold, predicted=[[]] * 40, dev_mask=[True] * 40, seed=5)
    assert a.to_dict() == b.to_dict() and a.seed == 5


def test_suggest_pii_nothing_missed_suggests_nothing():
    texts, gold = chats()
    s = suggest_pii(texts, gold=gold, predicted=gold, dev_mask=[True] * 40)
    assert len(s) == 0 and s.n_missed == 0 and s.dev_f1 == 1.0


def test_suggest_pii_shape_candidates_for_structured_values():
    texts = [f"x {a} y" for a in ("AB-1234", "CD-56789", "EF-4321")] + ["no id here"]
    gold = [[(2, 2 + len(t.split()[1]), "ACCOUNT_ID")] for t in texts[:3]] + [[]]
    s = suggest_pii(texts, gold=gold, predicted=[[]] * 4, dev_mask=[True] * 4)
    assert any(x.kind == "shape" and x.new_tp == 3 for x in s)


def test_suggest_pii_rejects_misaligned_input():
    with pytest.raises(DataError, match="aligned"):
        suggest_pii(["a"], gold=[[], []], predicted=[[]], dev_mask=[True])
    with pytest.raises(DataError, match="not a span"):
        suggest_pii(["a"], gold=[["x"]], predicted=[[]], dev_mask=[True])


def test_span_shape_generalises_run_lengths():
    assert span_shape(["ACC-86048", "CU-7648629"]) == r"[A-Z]{2,3}\-\d{5,7}"
    assert span_shape(["12/05", "3/4"]) == r"\d{1,2}/\d{1,2}"
    assert span_shape(["ab", "12"]) is None


def test_suggest_pii_for_project_uses_the_latest_pii_run(tmp_path):
    import json

    from weak_supervision.pii_pipeline import pii_label_project
    from weak_supervision.project import load_project

    texts, gold = chats()
    rows = [{"id": f"c{i}", "text": t, "spans": [dict(start=s, end=e, label=lab)
                                                   for s, e, lab in g]}
            for i, (t, g) in enumerate(zip(texts, gold, strict=True))]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "d.jsonl"\nid_column = "id"\n'
        '[pii]\nner = false\ngold_column = "spans"\n')
    project = load_project(tmp_path)
    with pytest.raises(LabelcycleError, match="no successful 'pii' run"):
        suggest_pii_for_project(project)
    pii_label_project(project)
    s = suggest_pii_for_project(project)
    assert isinstance(s, SpanSuggestions) and s.n_dev_docs == 40  # no [dev]: every gold row
    assert s[0].label == "PERSON" and s[0].new_tp >= 2


def test_suggest_pii_target_rows_focus_on_a_slice():
    texts, gold = chats()
    ids_texts = [f"x {a} y" for a in ("AB-1234", "CD-56789", "EF-4321")]
    texts = texts[:10] + ids_texts
    gold = gold[:10] + [[(2, 2 + len(t.split()[1]), "ACCOUNT_ID")] for t in ids_texts]
    target = np.array([False] * 10 + [True] * 3)
    s = suggest_pii(texts, gold=gold, predicted=[[]] * 13, dev_mask=[True] * 13,
                    target_rows=target)
    assert len(s) and {x.label for x in s} == {"ACCOUNT_ID"} and s.n_missed == 3
    with pytest.raises(DataError, match="target_rows"):
        suggest_pii(texts, gold=gold, predicted=[[]] * 13, dev_mask=[True] * 13,
                    target_rows=[True])
