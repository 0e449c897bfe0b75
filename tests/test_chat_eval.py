"""Tests of finetune/chat_eval.py against the fake OpenAI server, with the real ``openai`` SDK."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from fake_openai import DEFAULT_KEY, FakeOpenAI
from sklearn.metrics import f1_score

from finetune.chat_eval import (
    ChatEvalResult,
    evaluate_chat_model,
    map_answer,
    pii_leak_rate,
    request_key,
)
from finetune.client import ClientFactory, ProviderError
from labelfns.errors import ConfigError, DataError, LabelcycleError

KEY = DEFAULT_KEY
LABELS = ["spam", "ham", "phishing"]
TEMPLATE = "Classify this message: {text}"

# text, gold label, the fake model's answer
ROWS = [
    ("win a free cruise", "spam", "spam"),  # exact
    ("lunch at noon?", "ham", "  HAM. "),  # normalized
    ("verify your bank password", "phishing", "phishng"),  # fuzzy
    ("cheap pills", "spam", "I would say this is probably spam"),  # invalid
    ("see you tomorrow", "ham", "spam"),  # wrong
    ("your parcel is waiting", "spam", ""),  # empty: invalid
]


@pytest.fixture
def fake() -> FakeOpenAI:
    with FakeOpenAI(api_key=KEY) as server:
        for text, _, answer in ROWS:
            server.chat_answers[TEMPLATE.format(text=text)] = answer
        yield server


def _records() -> pd.DataFrame:
    return pd.DataFrame([{"text": t, "label": g} for t, g, _ in ROWS])


def _evaluate(server: FakeOpenAI, cache: Path, records=None, **kwargs) -> ChatEvalResult:
    options = {"model": "ft:gpt-4o-mini-2024-07-18:acme::abc", "labels": LABELS,
               "system_prompt": "Answer with one label.", "user_template": TEMPLATE,
               "cache_dir": cache, "concurrency": 3, "retry_backoff": 0.001,
               "client_factory": ClientFactory(base_url=server.url, api_key=KEY, max_retries=0,
                                               timeout=5), **kwargs}
    return evaluate_chat_model(_records() if records is None else records, **options)


@pytest.mark.parametrize("answer, expected", [
    ("spam", (0, "exact")),
    ("Spam", (0, "normalized")),
    ("  HAM. ", (1, "normalized")),
    ('"phishing"', (2, "normalized")),
    ("phishng", (2, "fuzzy")),
    ("spamm", (0, "fuzzy")),
    ("I would say spam", (-1, "invalid")),
    ("", (-1, "invalid")),
    ("...", (-1, "invalid")),
    (None, (-1, "invalid")),
])
def test_map_answer_guardrails(answer, expected):
    assert map_answer(answer, LABELS) == expected


def test_map_answer_tie_and_cutoff_give_invalid():
    assert map_answer("ca", ["cat", "car"]) == (-1, "invalid")
    assert map_answer("hamm", LABELS, cutoff=0.95) == (-1, "invalid")
    assert map_answer("hamm", LABELS, cutoff=0.8) == (1, "fuzzy")


def test_map_answer_rejects_labels_equal_after_normalization():
    with pytest.raises(ConfigError, match="rename one"):
        map_answer("x", ["Spam", "spam."])


def test_evaluate_scores_and_lists_invalid_answers(fake, tmp_path):
    result = _evaluate(fake, tmp_path / "cache")
    preds = [p.predicted for p in result.predictions]
    assert preds == [0, 1, 2, -1, 0, -1]
    assert [p.match for p in result.predictions] == ["exact", "normalized", "fuzzy", "invalid",
                                                     "exact", "invalid"]
    gold = [0, 1, 2, 0, 1, 0]
    assert result.accuracy == pytest.approx(3 / 6)
    expected_f1 = f1_score(gold, preds, labels=[0, 1, 2], average="macro", zero_division=0)
    assert result.macro_f1 == pytest.approx(expected_f1)
    assert result.n_invalid == 2 and result.invalid_rate == pytest.approx(1 / 3)
    assert result.accuracy_valid == pytest.approx(3 / 4)
    assert [p.row for p in result.invalid()] == [3, 5]
    frame = result.to_frame()
    assert frame["slice"].tolist() == ["valid"] * 3 + ["invalid", "valid", "invalid"]
    assert frame.loc[4, "predicted_label"] == "spam" and not frame.loc[4, "correct"]
    summary = result.to_dict()
    assert summary["slices"]["invalid"]["n"] == 2
    assert summary["slices"]["invalid"]["rows"][0] == {
        "row": 3, "answer": "I would say this is probably spam", "gold_label": "spam"}
    assert summary["matches"] == {"exact": 2, "normalized": 1, "fuzzy": 1, "invalid": 2}
    json.dumps(summary)
    sent = [r.body for r in fake.requests if r.path == "/v1/chat/completions"]
    assert len(sent) == 6
    assert sent[0]["messages"][0] == {"role": "system", "content": "Answer with one label."}
    assert sent[0]["temperature"] == 0 and sent[0]["seed"] == 123


def test_evaluate_second_run_is_served_from_the_cache(fake, tmp_path):
    first = _evaluate(fake, tmp_path / "cache")
    assert first.n_requests == 6 and first.n_cache_hits == 0
    calls = fake.count("POST", "/chat/completions")

    def no_client():
        raise AssertionError("the client must not be created when everything is cached")

    second = _evaluate(fake, tmp_path / "cache", client_factory=no_client)
    assert fake.count("POST", "/chat/completions") == calls == 6
    assert second.n_requests == 0 and second.n_cache_hits == 6
    assert second.accuracy == first.accuracy and second.macro_f1 == first.macro_f1
    assert [p.answer for p in second.predictions] == [p.answer for p in first.predictions]
    files = sorted((tmp_path / "cache").rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]  # atomic writes leave no temp file
    assert len([f for f in files if f.suffix == ".json"]) == 6


def test_evaluate_same_request_twice_in_one_run_is_asked_once(fake, tmp_path):
    records = [{"text": "win a free cruise", "label": "spam"}] * 4
    result = _evaluate(fake, tmp_path / "cache", records=records)
    assert result.n_requests == 1 and result.accuracy == 1.0


def test_evaluate_cache_key_depends_on_model_and_params(fake, tmp_path):
    _evaluate(fake, tmp_path / "cache")
    other = _evaluate(fake, tmp_path / "cache", request_params={"max_tokens": 3})
    assert other.n_requests == 6
    body = [r.body for r in fake.requests if r.path == "/v1/chat/completions"][-1]
    assert body["max_tokens"] == 3
    no_temperature = _evaluate(fake, tmp_path / "cache", request_params={"temperature": None})
    assert no_temperature.n_requests == 6
    assert "temperature" not in fake.requests[-1].body
    a = request_key("m", [{"role": "user", "content": "x"}], {"seed": 1})
    assert a != request_key("m2", [{"role": "user", "content": "x"}], {"seed": 1})
    assert a != request_key("m", [{"role": "user", "content": "x"}], {"seed": 2})


def test_evaluate_retries_429_honouring_retry_after(fake, tmp_path):
    fake.fail("POST", "/chat/completions", status=429, times=2,
              headers={"retry-after-ms": "150"}, code="rate_limit_exceeded")
    start = time.monotonic()
    result = _evaluate(fake, tmp_path / "cache", records=_records().iloc[:1], concurrency=1)
    assert time.monotonic() - start >= 0.3  # waited what the server asked, twice
    assert result.n_requests == 3 and result.accuracy == 1.0


def test_evaluate_retries_500_then_gives_up_keeping_the_cache(fake, tmp_path):
    cache = tmp_path / "cache"
    _evaluate(fake, cache, records=_records().iloc[:2])
    fake.fail("POST", "/chat/completions", status=500, times=3)
    with pytest.raises(ProviderError) as info:
        _evaluate(fake, cache, records=_records().iloc[:3], max_retries=2, concurrency=1)
    text = str(info.value)
    assert "gave up after 3 attempts" in text and str(cache) in text and "HTTP 500" in text
    again = _evaluate(fake, cache, records=_records().iloc[:3])
    assert again.n_requests == 1 and again.n_cache_hits == 2


def test_evaluate_does_not_retry_a_bad_request(fake, tmp_path):
    fake.fail("POST", "/chat/completions", status=400, times=5, message="bad model")
    with pytest.raises(ProviderError, match="bad model"):
        _evaluate(fake, tmp_path / "cache", records=_records().iloc[:1])
    assert fake.count("POST", "/chat/completions") == 1


def test_evaluate_unreadable_cache_entry_is_asked_again(fake, tmp_path):
    cache = tmp_path / "cache"
    _evaluate(fake, cache, records=_records().iloc[:1])
    (entry,) = cache.rglob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    with pytest.warns(UserWarning, match="unreadable cache entry"):
        result = _evaluate(fake, cache, records=_records().iloc[:1])
    assert result.n_requests == 1 and json.loads(entry.read_text())["answer"] == "spam"


@pytest.mark.parametrize("records, match", [
    ([{"text": "x", "label": "eggs"}], "row 0: gold label 'eggs'"),
    ([{"text": "x"}], "row 0 has no 'label'"),
    ([{"body": "x", "label": "spam"}], r"row 0: user_template uses \{text\}"),
    ([], "no rows"),
])
def test_evaluate_bad_rows_name_the_row(fake, tmp_path, records, match):
    with pytest.raises(DataError, match=match):
        _evaluate(fake, tmp_path / "cache", records=records)
    assert fake.requests == []


def test_evaluate_accepts_label_indices(fake, tmp_path):
    records = [{"text": "win a free cruise", "label": 0}, {"text": "lunch at noon?", "label": 1}]
    assert _evaluate(fake, tmp_path / "cache", records=records).accuracy == 1.0


def test_pii_leak_rate_counts_outputs_with_spans():
    def digits(text: str) -> list[tuple[int, int]]:
        return [(i, i + 1) for i, ch in enumerate(text) if ch.isdigit()]

    assert pii_leak_rate(["call 555", "hello", None, "ok 1"], digits) == 0.5
    assert pii_leak_rate(["none here"], digits) == 0.0
    with pytest.raises(DataError):
        pii_leak_rate([], digits)

    def broken(text: str) -> list:
        raise ValueError("boom")

    with pytest.raises(LabelcycleError, match="'broken' failed on output 0"):
        pii_leak_rate(["x"], broken)
