"""Tests for finetune.validate: the cookbook's checks, our extra checks, stats and robustness."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune.validate import (
    ERROR_NAMES,
    WARNING_NAMES,
    ValidationReport,
    default_n_epochs,
    validate_file,
    validate_records,
)
from labelfns.errors import DataError

MODEL = "gpt-3.5-turbo-0125"  # cl100k_base: counts are exact with the offline encoding




USER = {"role": "user", "content": "hello world"}
ASSISTANT = {"role": "assistant", "content": "spam"}
GOOD = json.dumps({"messages": [USER, ASSISTANT]})  # 14 tokens with cl100k_base


def _lines(bad: str | None = None, *, at: int = 4, n: int = 12) -> list[str]:
    """n valid example lines, with ``bad`` replacing line ``at`` (1-based)."""
    lines = [GOOD] * n
    if bad is not None:
        lines[at - 1] = bad
    return lines


def _errors(report: ValidationReport) -> list[tuple[int | None, str]]:
    return [(p.line, p.error) for p in report.errors]


def _example(*messages, **extra) -> str:
    return json.dumps({"messages": list(messages), **extra})


# One bad record per cookbook error name; each must produce exactly that error on its line.
COOKBOOK_CASES = {
    "data_type": ["not an object", [USER, ASSISTANT], 42, None],
    "missing_messages_list": [{"conversation": [USER, ASSISTANT]}, {"messages": []},
                              {"messages": "hello"}, {"messages": None}],
    "message_missing_key": [{"messages": [{"content": "hi"}, ASSISTANT]},
                            {"messages": [{"role": "user"}, ASSISTANT]},
                            {"messages": [USER, {"role": "assistant"}]}],
    "message_unrecognized_key": [{"messages": [dict(USER, mood="happy"), ASSISTANT]},
                                 {"messages": [dict(USER, tool_call_id="c1"), ASSISTANT]}],
    "unrecognized_role": [{"messages": [{"role": "human", "content": "hi"}, ASSISTANT]},
                          {"messages": [{"role": ["user"], "content": "hi"}, ASSISTANT]},
                          {"messages": [{"role": None, "content": "hi"}, ASSISTANT]}],
    "missing_content": [{"messages": [{"role": "user", "content": ""}, ASSISTANT]},
                        {"messages": [{"role": "user", "content": None}, ASSISTANT]},
                        {"messages": [{"role": "user", "content": 7}, ASSISTANT]},
                        {"messages": [{"role": "user", "content": {"text": "hi"}}, ASSISTANT]},
                        {"messages": [USER, {"role": "assistant", "content": None}]},
                        {"messages": [{"role": "user", "content": []}, ASSISTANT]}],
    "example_missing_assistant_message": [{"messages": [USER]},
                                          {"messages": [{"role": "system", "content": "x"},
                                                        USER]}],
}


@pytest.mark.parametrize("error, record", [
    (name, record) for name, records in COOKBOOK_CASES.items() for record in records
])
def test_validate_records_cookbook_error(error, record):
    report = validate_records(_lines(json.dumps(record), at=5), model=MODEL)
    assert _errors(report) == [(5, error)]
    assert not report.ok
    assert report.errors[0].message


def test_validate_records_valid_file_is_ok():
    report = validate_records(_lines(), model=MODEL)
    assert report.ok
    assert report.errors == ()


def test_validate_records_accepts_tool_call_records():
    tools = [{"type": "function", "function": {"name": "set_label", "description": "Label it",
                                                "parameters": {"type": "object"}}}]
    record = _example(
        {"role": "system", "content": "Label the message."},
        USER,
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "set_label", "arguments": "{\"label\": \"spam\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_2", "type": "function",
            "function": {"name": "set_label", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_2", "content": "ok"},
        ASSISTANT,
        tools=tools, parallel_tool_calls=False,
    )
    report = validate_records(_lines(record), model=MODEL)
    assert report.ok, _errors(report)
    assert report.stats.approximate  # tool JSON is counted as text
    assert "approximate_token_counts" in {p.error for p in report.warnings}


def test_validate_records_accepts_legacy_function_call():
    record = _example(USER, {"role": "assistant", "function_call": {"name": "f",
                                                                    "arguments": "{}"}},
                      {"role": "function", "name": "f", "content": "42"}, ASSISTANT,
                      functions=[{"name": "f", "parameters": {"type": "object"}}])
    assert validate_records(_lines(record), model=MODEL).ok


def test_validate_records_accepts_text_content_parts_and_names():
    record = _example({"role": "user", "name": "agent_7",
                       "content": [{"type": "text", "text": "hello"}]}, ASSISTANT)
    assert validate_records(_lines(record), model=MODEL).ok


@pytest.mark.parametrize("record, error", [
    (_example({"role": "user", "content": [{"type": "image_url", "image_url": {}}]}, ASSISTANT),
     "invalid_content_part"),
    (_example({"role": "user", "content": ["hello"]}, ASSISTANT), "invalid_content_part"),
    (_example(dict(USER, name="has space"), ASSISTANT), "invalid_name"),
    (_example(USER, ASSISTANT, tools="set_label"), "tools_invalid"),
    (_example(USER, ASSISTANT, tools=[{"type": "function", "function": {}}]), "tools_invalid"),
    (_example(USER, ASSISTANT, parallel_tool_calls="yes"), "tools_invalid"),
    (_example(USER, ASSISTANT, functions=[{"parameters": {}}]), "functions_invalid"),
    (_example(USER, {"role": "assistant", "tool_calls": []}), "tool_calls_invalid"),
    (_example(USER, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                                          "function": {"name": "f",
                                                                       "arguments": {"a": 1}}}]}),
     "tool_calls_invalid"),
    (_example(USER, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                                          "function": {"name": "f",
                                                                       "arguments": "{oops"}}]}),
     "tool_calls_invalid"),
    (_example(USER, {"role": "assistant", "function_call": {"name": "f"}}),
     "function_call_invalid"),
    (_example(USER, {"role": "tool", "tool_call_id": "nope", "content": "x"}, ASSISTANT),
     "tool_call_id_invalid"),
    (_example(USER, "just a string", ASSISTANT), "message_data_type"),
])
def test_validate_records_own_error_names(record, error):
    report = validate_records(_lines(record, at=2), model=MODEL)
    assert _errors(report) == [(2, error)]
    assert error in ERROR_NAMES


@pytest.mark.parametrize("weight", [0, 1, 1.0])
def test_validate_records_weight_zero_or_one_on_assistant_ok(weight):
    record = _example(USER, dict(ASSISTANT, weight=0), USER, dict(ASSISTANT, weight=weight))
    assert validate_records(_lines(record), model=MODEL).ok


@pytest.mark.parametrize("weight", [0.5, 2, -1, True, "1", None])
def test_validate_records_weight_other_values_invalid(weight):
    record = _example(USER, dict(ASSISTANT, weight=weight))
    report = validate_records(_lines(record, at=3), model=MODEL)
    assert _errors(report) == [(3, "invalid_weight")]


@pytest.mark.parametrize("role", ["user", "system"])
def test_validate_records_weight_only_on_assistant(role):
    record = _example({"role": role, "content": "x", "weight": 1}, ASSISTANT)
    report = validate_records(_lines(record, at=3), model=MODEL)
    assert _errors(report) == [(3, "invalid_weight")]
    assert "only allowed on assistant" in report.errors[0].message


def test_validate_records_all_weights_zero_warns():
    report = validate_records(_lines(_example(USER, dict(ASSISTANT, weight=0))), model=MODEL)
    assert report.ok
    assert [(p.line, p.error) for p in report.warnings] == [(4, "no_trainable_assistant_message")]


def test_validate_file_non_utf8_reports_line_and_byte(tmp_path):
    path = tmp_path / "train.jsonl"
    good = GOOD.encode() + b"\n"
    bad = b'{"messages": [{"role": "user", "content": "caf\xe9"}]}\n'
    path.write_bytes(good * 2 + bad + good * 9)
    report = validate_file(path, model=MODEL)
    assert _errors(report) == [(3, "invalid_encoding")]
    message = report.errors[0].message
    offset = len(good) * 2 + bad.index(b"\xe9")
    assert "0xe9" in message and f"byte {offset} of the file" in message
    assert report.stats.n_examples == 12
    assert report.path == str(path)


def test_validate_file_malformed_lines_reported_rest_still_checked(tmp_path):
    lines = _lines()
    lines[1] = '{"messages": [ '  # truncated JSON
    lines[6] = "{'messages': []}"  # Python repr, not JSON
    lines[8] = _example({"role": "bot", "content": "x"}, ASSISTANT)
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate_file(path, model=MODEL)
    assert _errors(report) == [(2, "invalid_json"), (7, "invalid_json"), (9, "unrecognized_role")]
    assert report.stats.n_examples == 12
    assert report.stats.n_counted == 10


def test_validate_file_empty_file(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"")
    report = validate_file(path, model=MODEL)
    assert _errors(report) == [(None, "empty_file")]
    assert report.stats.n_epochs == 0 and report.stats.billed_tokens == 0


def test_validate_file_missing_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        validate_file(tmp_path / "nope.jsonl")


def test_validate_records_too_few_examples():
    report = validate_records([GOOD] * 9, model=MODEL)
    assert _errors(report) == [(None, "too_few_examples")]
    assert validate_records([GOOD] * 10, model=MODEL).ok


def test_validate_records_blank_lines_and_bom_are_warnings():
    lines = ["\ufeff" + GOOD] + _lines(n=10) + ["", "   "]
    report = validate_records(lines, model=MODEL)
    assert report.ok
    assert [(p.line, p.error) for p in report.warnings] == [
        (1, "utf8_bom"), (12, "blank_line"), (13, "blank_line")]
    assert report.stats.n_examples == 11


def test_validate_records_too_many_tokens_uses_model_limit():
    long = _example({"role": "user", "content": "hello " * 9000}, ASSISTANT)  # > 8192 tokens
    report = validate_records(_lines(long, at=6), model="gpt-4-0613")
    assert _errors(report) == [(6, "too_many_tokens")]
    assert "8,192" in report.errors[0].message
    stats = report.stats
    assert stats.token_limit == 8192 and stats.n_over_limit == 1
    assert stats.tokens_max > 9000
    # billed tokens count the long example only up to the limit
    assert stats.billing_tokens_per_epoch == 11 * 14 + 8192
    assert stats.billed_tokens == stats.billing_tokens_per_epoch * stats.n_epochs


def test_validate_records_stats_hand_counted():
    stats = validate_records(_lines(n=12), model=MODEL).stats
    assert (stats.tokens_min, stats.tokens_max, stats.tokens_p50, stats.tokens_p95) == \
        (14, 14, 14.0, 14.0)
    assert stats.total_tokens == 12 * 14
    assert stats.assistant_tokens_mean == 1.0
    assert stats.n_epochs == 8  # min(25, 100 // 12)
    assert stats.billing_tokens_per_epoch == 168 and stats.billed_tokens == 8 * 168
    assert stats.approximate is False
    assert stats.n_missing_system == 12 and stats.n_missing_user == 0


def test_validate_records_o200k_offline_marks_approximate():
    with pytest.warns(UserWarning, match="approximate"):
        report = validate_records(_lines(), model="gpt-4o-mini-2024-07-18")
    assert report.ok and report.stats.approximate
    assert report.stats.token_limit == 65536


def test_validate_records_unknown_model_warns_naming_models_toml():
    with pytest.warns(UserWarning, match="models.toml"):
        report = validate_records(_lines(), model="my-model")
    assert report.ok
    unknown = [p for p in report.warnings if p.error == "unknown_model"]
    assert len(unknown) == 1 and "models.toml" in unknown[0].message
    assert report.stats.token_limit is None


@pytest.mark.parametrize("n, epochs", [
    (300, 3), (5, 20), (30000, 1), (1, 25), (3, 25), (33, 3), (34, 3), (8333, 3), (8334, 2),
    (12, 8),
])
def test_default_n_epochs_cookbook_rule(n, epochs):
    assert default_n_epochs(n) == epochs


def test_default_n_epochs_rejects_zero():
    with pytest.raises(ValueError):
        default_n_epochs(0)


def test_validation_report_to_dict_is_json_ready():
    report = validate_records(_lines("{", at=2) + ["[]"], model=MODEL)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["errors"] == [
        {"line": 2, "error": "invalid_json", "message": report.errors[0].message},
        {"line": 13, "error": "data_type", "message": report.errors[1].message},
    ]
    assert data["error_counts"] == {"invalid_json": 1, "data_type": 1}
    assert data["stats"]["n_examples"] == 13
    assert report.to_frame().shape[0] == len(report.errors) + len(report.warnings)


def test_validate_records_rejects_single_string():
    with pytest.raises(TypeError):
        validate_records(GOOD)


def _check_report(report: ValidationReport) -> None:
    for problem in report.errors:
        assert problem.error in ERROR_NAMES
        assert problem.line is None or problem.line >= 1
    for problem in report.warnings:
        assert problem.error in WARNING_NAMES
    json.dumps(report.to_dict())


_FAST = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.lists(st.text(max_size=200), max_size=15))
def test_validate_records_arbitrary_text_never_raises(lines):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_report(validate_records(lines, model=MODEL))


@_FAST
@given(st.lists(st.binary(max_size=200), max_size=15))
def test_validate_records_arbitrary_bytes_never_raise(lines):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_report(validate_records(lines, model=MODEL))


_KEYS = st.sampled_from(["role", "content", "name", "weight", "tool_calls", "tool_call_id",
                         "function_call", "type", "text", "id", "function", "arguments",
                         "messages", "tools", "functions", "parallel_tool_calls", "x"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.sampled_from(["system", "user", "assistant", "tool", "function", "", "{}",
                               "text", "c1"])
            | st.text(max_size=10))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=30)


@_FAST
@given(st.lists(st.dictionaries(_KEYS, _JSON, max_size=5), max_size=6), _JSON)
def test_validate_records_random_json_records_never_raise(messages, extra):
    lines = [json.dumps({"messages": messages}), json.dumps({"messages": messages, "tools": extra}),
             json.dumps(extra)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_report(validate_records(lines, model=MODEL))
