"""Tests for finetune.templates: template validation and rendering."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from finetune.templates import PromptTemplate, default_system_prompt
from labelfns.errors import ConfigError, DataError


def test_template_render_system_user_assistant():
    t = PromptTemplate("Classify the ticket.", "Ticket: {text}\nFrom: {channel}",
                       columns=["text", "channel", "id"])
    messages = t.render({"text": "refund please", "channel": "mail", "id": 3}, answer="billing")
    assert messages == [
        {"role": "system", "content": "Classify the ticket."},
        {"role": "user", "content": "Ticket: refund please\nFrom: mail"},
        {"role": "assistant", "content": "billing"},
    ]


@pytest.mark.parametrize("system", [None, ""])
def test_template_render_without_system_prompt_omits_it(system):
    messages = PromptTemplate(system, "{text}").render({"text": "hi"}, answer="a")
    assert [m["role"] for m in messages] == ["user", "assistant"]


def test_template_render_without_answer_is_a_prompt():
    messages = PromptTemplate("s", "{text}").render({"text": "hi"})
    assert [m["role"] for m in messages] == ["system", "user"]


def test_template_render_answer_from_assistant_column():
    t = PromptTemplate("Summarise.", "{article}", assistant="summary",
                       columns=["article", "summary"])
    assert t.render({"article": "long", "summary": "short"})[-1] == {
        "role": "assistant", "content": "short"}
    assert t.used_columns == ("article", "summary")


def test_template_literal_braces_and_system_prompt_braces_are_literal():
    t = PromptTemplate("Answer as {json}", 'Text: {text} -> {{"label": ...}}', columns=["text"])
    assert t.fields == ("text",)
    messages = t.render({"text": "x"}, answer="a")
    assert messages[0]["content"] == "Answer as {json}"
    assert messages[1]["content"] == 'Text: x -> {"label": ...}'


def test_template_unknown_field_names_the_field_and_the_columns():
    with pytest.raises(ConfigError) as info:
        PromptTemplate(None, "Review: {body}", columns=["text", "stars"])
    message = str(info.value)
    assert "'body'" in message
    assert "available columns: text, stars" in message


def test_template_unknown_field_suggests_the_closest_column():
    with pytest.raises(ConfigError, match=r"Did you mean \{text\}"):
        PromptTemplate(None, "{txet}", columns=["text", "id"])


def test_template_unknown_assistant_column():
    with pytest.raises(ConfigError, match="assistant column.*'summ'.*available columns: text"):
        PromptTemplate(None, "{text}", assistant="summ", columns=["text"])


def test_template_check_columns_later():
    t = PromptTemplate(None, "{a} {b}")
    t.check_columns(["a", "b"])
    with pytest.raises(ConfigError, match="'b'"):
        t.check_columns(["a"])


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("{text", "not a valid template"),
        ("text}", "not a valid template"),
        ("{}", "positional"),
        ("{0}", "positional"),
        ("{a.b}", "attribute or index"),
        ("{a[0]}", "attribute or index"),
        ("{a:{w}}", "nests a field"),
        ("{a!x}", "not a valid template|conversion"),
        ("   ", "empty"),
    ],
)
def test_template_malformed_raises_config_error(template, match):
    with pytest.raises(ConfigError, match=match):
        PromptTemplate(None, template)


def test_template_rejects_wrong_types():
    with pytest.raises(ConfigError):
        PromptTemplate(3, "{text}")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        PromptTemplate(None, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        PromptTemplate(None, "{text}", assistant="")


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA])
def test_template_missing_values_render_as_empty(missing):
    assert PromptTemplate(None, "[{text}]").user_message({"text": missing}) == "[]"


def test_template_format_spec_and_conversion():
    t = PromptTemplate(None, "{n:>4}|{s!r}|{x:.1f}")
    assert t.user_message({"n": 7, "s": "a", "x": 2.25}) == "   7|'a'|2.2"


def test_template_format_spec_mismatch_is_a_data_error():
    t = PromptTemplate(None, "{x:.1f}")
    with pytest.raises(DataError, match="column 'x'"):
        t.user_message({"x": "text"})


def test_template_fields_in_order_of_first_use():
    assert PromptTemplate(None, "{b} {a} {b}").fields == ("b", "a")


def test_template_user_message_from_series_and_missing_key():
    t = PromptTemplate(None, "{text}")
    assert t.user_message(pd.Series({"text": "hello", "other": 1})) == "hello"
    with pytest.raises(ConfigError, match="available columns: other"):
        t.user_message({"other": 1})


def test_template_fill_matches_user_message():
    t = PromptTemplate(None, "{a}/{b}")
    assert t.fill(["x", None]) == t.user_message({"a": "x", "b": None}) == "x/"


def test_template_is_frozen_and_comparable():
    t = PromptTemplate("s", "{text}", columns=["text"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.user_template = "{other}"  # type: ignore[misc]
    assert t == PromptTemplate("s", "{text}", columns=("text",))
    assert t.to_dict() == {"system_prompt": "s", "user_template": "{text}", "assistant": None,
                           "fields": ["text"]}


def test_default_system_prompt_lists_labels():
    prompt = default_system_prompt(["billing", "shipping"])
    assert "billing, shipping" in prompt
