"""Check a chat fine-tuning JSONL file before uploading it, and count what training will bill.

Implements the checks of OpenAI's cookbook "Data preparation and analysis for chat model
fine-tuning" under its error names (``data_type``, ``missing_messages_list``,
``message_missing_key``, ``message_unrecognized_key``, ``unrecognized_role``,
``missing_content``, ``example_missing_assistant_message``) without its known gaps: the
``tool`` role, ``tool_calls``, ``tool_call_id``, ``weight`` and content-part lists are accepted,
an assistant message that carries ``tool_calls``/``function_call`` may have null or no content,
and no input makes the check crash. Further problems have their own names; see
:data:`ERROR_NAMES` and :data:`WARNING_NAMES`.

Every problem has a 1-based ``line`` (None for problems about the whole file), an ``error``
name and a ``message`` saying what to do. Statistics follow the cookbook: token counts per
example, examples over the model's per-example limit (from ``finetune/models.toml``), the
default number of epochs OpenAI picks, and the tokens training will bill.

Example
-------
>>> line = ('{"messages": [{"role": "user", "content": "Is this spam?"}, '
...         '{"role": "assistant", "content": "no"}]}')
>>> report = validate_records([line] * 12, model="gpt-3.5-turbo-0125")
>>> report.ok, report.stats.n_examples, report.stats.n_epochs
(True, 12, 8)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from finetune.tokens import (
    MODELS_PATH,
    TOKENS_REPLY_PRIMER,
    count_message_tokens,
    encoding_for_model,
    encoding_name_for_model,
    model_info,
    resolve_model,
)
from labelfns.errors import DataError

__all__ = [
    "DEFAULT_MODEL",
    "MIN_EXAMPLES",
    "TARGET_EPOCHS",
    "MIN_TARGET_EXAMPLES",
    "MAX_TARGET_EXAMPLES",
    "MIN_DEFAULT_EPOCHS",
    "MAX_DEFAULT_EPOCHS",
    "ERROR_NAMES",
    "WARNING_NAMES",
    "Problem",
    "ValidationStats",
    "ValidationReport",
    "default_n_epochs",
    "validate_records",
    "validate_file",
]

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
MIN_EXAMPLES = 10  # OpenAI rejects training files with fewer examples

# The cookbook's default-epochs rule.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25

ERROR_NAMES: dict[str, str] = {
    # the cookbook's names
    "data_type": "a line is not a JSON object",
    "missing_messages_list": "no non-empty 'messages' list",
    "message_missing_key": "a message lacks 'role', 'content' or a key its role needs",
    "message_unrecognized_key": "a message has a key that is unknown or not allowed for its role",
    "unrecognized_role": "a role other than system/user/assistant/tool/function",
    "missing_content": "content empty, null or of the wrong type",
    "example_missing_assistant_message": "no assistant message to learn from",
    # labelcycle's names
    "invalid_encoding": "a line is not valid UTF-8",
    "invalid_json": "a line is not valid JSON",
    "empty_file": "the file has no examples",
    "too_few_examples": f"fewer than {MIN_EXAMPLES} examples",
    "too_many_tokens": "an example is longer than the model's per-example limit",
    "message_data_type": "a message is not a JSON object",
    "invalid_weight": "weight on a non-assistant message, or not 0/1",
    "invalid_name": "'name' is not 1-64 letters, digits, '_' or '-'",
    "invalid_content_part": "a content part is not {'type': 'text', 'text': str}",
    "tools_invalid": "'tools' or 'parallel_tool_calls' is malformed",
    "functions_invalid": "legacy 'functions' is malformed",
    "tool_calls_invalid": "an assistant 'tool_calls' list is malformed",
    "function_call_invalid": "an assistant 'function_call' is malformed",
    "tool_call_id_invalid": "a tool message answers no earlier tool call",
    "too_deeply_nested": "a line nests JSON too deeply to process",
}
WARNING_NAMES: dict[str, str] = {
    "utf8_bom": "the file starts with a UTF-8 byte-order mark",
    "blank_line": "an empty line between examples",
    "example_unrecognized_key": "an example has a top-level key other than messages/tools/...",
    "blank_content": "content is only whitespace",
    "no_trainable_assistant_message": "every assistant message has weight 0",
    "last_message_not_assistant": "the example ends with a non-assistant message",
    "tool_call_unknown_function": "a tool call names a function not declared in 'tools'",
    "unknown_model": "the model has no entry in finetune/models.toml",
    "model_not_fine_tunable": "models.toml marks the model as not fine-tunable",
    "approximate_token_counts": "token counts are estimates",
}

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS = frozenset({"role", "content", "name", "function_call", "tool_calls",
                          "tool_call_id", "weight"})
KEYS_BY_ROLE: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "name", "tool_calls", "function_call", "weight"}),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
EXAMPLE_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Problem:
    """One problem found in a training file.

    Attributes
    ----------
    line : int or None
        1-based line number; None when the problem concerns the whole file.
    error : str
        Problem name (a key of :data:`ERROR_NAMES` or :data:`WARNING_NAMES`).
    message : str
        What is wrong and what to do.

    Example
    -------
    >>> Problem(3, "invalid_json", "not valid JSON").to_dict()
    {'line': 3, 'error': 'invalid_json', 'message': 'not valid JSON'}
    """

    line: int | None
    error: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"line", "error", "message"}``.

        Example
        -------
        >>> Problem(None, "empty_file", "no examples").to_dict()["line"] is None
        True
        """
        return {"line": self.line, "error": self.error, "message": self.message}


@dataclass(frozen=True)
class ValidationStats:
    """Counts and token statistics of a training file (see :func:`validate_records`).

    Token statistics cover every example whose ``messages`` is a list (``n_counted``); they are
    None when there is none. ``billing_tokens_per_epoch`` is the sum over examples of
    ``min(token_limit, tokens)`` and ``billed_tokens`` that times ``n_epochs`` (the default
    epochs OpenAI would choose, :func:`default_n_epochs`).

    Example
    -------
    >>> line = '{"messages": [{"role": "assistant", "content": "ok"}]}'
    >>> validate_records([line] * 10).stats.to_dict()["n_examples"]
    10
    """

    model: str
    encoding: str
    approximate: bool
    token_limit: int | None
    n_lines: int
    n_examples: int
    n_counted: int
    tokens_min: int | None
    tokens_max: int | None
    tokens_mean: float | None
    tokens_p50: float | None
    tokens_p95: float | None
    total_tokens: int
    assistant_tokens_mean: float | None
    n_over_limit: int
    n_missing_system: int
    n_missing_user: int
    n_epochs: int
    billing_tokens_per_epoch: int
    billed_tokens: int

    def to_dict(self) -> dict[str, Any]:
        """Return the statistics as a JSON-ready dict.

        Example
        -------
        >>> sorted(validate_records([]).stats.to_dict())[:3]
        ['approximate', 'assistant_tokens_mean', 'billed_tokens']
        """
        return asdict(self)


@dataclass(frozen=True)
class ValidationReport:
    """Result of validating a training file.

    Attributes
    ----------
    path : str or None
        The file validated (None for :func:`validate_records`).
    model : str
        Model the counts and limits are for.
    errors, warnings : tuple of Problem
        Problems that make the upload fail or lose data / that deserve a look.
    stats : ValidationStats
        Counts, token statistics and billed tokens.

    Example
    -------
    >>> report = validate_records(["not json"])
    >>> report.ok, [p.error for p in report.errors]
    (False, ['invalid_json', 'too_few_examples'])
    """

    path: str | None
    model: str
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    stats: ValidationStats

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def error_counts(self) -> dict[str, int]:
        """Return how many times each error name occurs, like the cookbook's summary.

        Example
        -------
        >>> validate_records(["[]"] * 10).error_counts()
        {'data_type': 10}
        """
        return dict(Counter(p.error for p in self.errors))

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (problems as ``{line, error, message}``).

        Example
        -------
        >>> import json
        >>> d = validate_records(["{}"]).to_dict()
        >>> d["ok"], d["errors"][0]["error"], d["errors"][0]["line"]
        (False, 'missing_messages_list', 1)
        >>> _ = json.dumps(d)
        """
        return {
            "path": self.path,
            "model": self.model,
            "ok": self.ok,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "error_counts": self.error_counts(),
            "stats": self.stats.to_dict(),
        }

    def to_frame(self) -> Any:
        """Return the problems as a pandas DataFrame (severity, line, error, message).

        Example
        -------
        >>> validate_records(["{}"]).to_frame().columns.tolist()
        ['severity', 'line', 'error', 'message']
        """
        import pandas as pd

        rows = [{"severity": "error", **p.to_dict()} for p in self.errors]
        rows += [{"severity": "warning", **p.to_dict()} for p in self.warnings]
        return pd.DataFrame(rows, columns=["severity", "line", "error", "message"])


def default_n_epochs(n_examples: int) -> int:
    """Return the number of epochs OpenAI picks by default for ``n_examples`` examples.

    The cookbook's rule: 3 epochs, raised so that at least 100 example-passes happen (at most
    25 epochs) and lowered so that at most 25,000 do (at least 1 epoch).

    Raises
    ------
    ValueError
        If ``n_examples`` is not positive.

    Example
    -------
    >>> default_n_epochs(300), default_n_epochs(5), default_n_epochs(30000)
    (3, 20, 1)
    """
    if n_examples <= 0:
        raise ValueError(f"n_examples must be positive, got {n_examples}")
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def _kind(value: Any) -> str:
    """JSON type name of a parsed value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, limit: int = 40) -> str:
    """Short JSON rendering of a value for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null or a string)")


def _is_json_text(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    return True


_Add = Callable[[str, str], None]


class _ExampleChecker:
    """Checks one parsed example; reports through ``err``/``warn`` callbacks."""

    def __init__(self, err: _Add, warn: _Add):
        self.err = err
        self.warn = warn
        self.uses_tools = False

    def check(self, obj: Any) -> None:
        err, warn = self.err, self.warn
        if not isinstance(obj, dict):
            err("data_type", f"each line must be a JSON object like {{\"messages\": [...]}}, "
                             f"got {_kind(obj)}")
            return
        unknown = sorted(k for k in obj if k not in EXAMPLE_KEYS)
        if unknown:
            warn("example_unrecognized_key",
                 f"unrecognized top-level key(s) {', '.join(map(repr, unknown))}; OpenAI reads "
                 f"only {', '.join(sorted(EXAMPLE_KEYS))}")
        if "messages" not in obj:
            err("missing_messages_list", "no 'messages' key; each line needs "
                                         "{\"messages\": [{\"role\": ..., \"content\": ...}, ...]}")
            return
        messages = obj["messages"]
        if not isinstance(messages, list):
            err("missing_messages_list",
                f"'messages' must be a list of message objects, got {_kind(messages)}")
            return
        if not messages:
            err("missing_messages_list", "'messages' is empty; add the conversation's messages")
            return
        tool_names = self._check_tools(obj)
        self._check_functions(obj)
        self._check_messages(messages, tool_names)

    def _check_tools(self, obj: dict[str, Any]) -> set[str] | None:
        err = self.err
        if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
            err("tools_invalid", "'parallel_tool_calls' must be true or false, got "
                                 f"{_short(obj['parallel_tool_calls'])}")
        if "tools" not in obj:
            return None
        self.uses_tools = True
        tools = obj["tools"]
        if not isinstance(tools, list) or not tools:
            err("tools_invalid", "'tools' must be a non-empty list of "
                                 "{\"type\": \"function\", \"function\": {\"name\": ...}}, got "
                                 f"{_short(tools)}")
            return None
        names: set[str] = set()
        for k, tool in enumerate(tools):
            where = f"tools[{k}]"
            if not isinstance(tool, dict):
                err("tools_invalid", f"{where} must be an object, got {_kind(tool)}")
                continue
            if tool.get("type") != "function":
                err("tools_invalid", f"{where}.type must be \"function\", got "
                                     f"{_short(tool.get('type'))}")
            fn = tool.get("function")
            if not isinstance(fn, dict):
                err("tools_invalid", f"{where}.function must be an object with a 'name', got "
                                     f"{_kind(fn)}")
                continue
            name = fn.get("name")
            if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
                err("tools_invalid", f"{where}.function.name must be 1-64 letters, digits, '_' "
                                     f"or '-', got {_short(name)}")
            else:
                if name in names:
                    err("tools_invalid", f"{where}: function {name!r} is declared twice")
                names.add(name)
            if "parameters" in fn and not isinstance(fn["parameters"], dict):
                err("tools_invalid", f"{where}.function.parameters must be a JSON Schema object, "
                                     f"got {_kind(fn['parameters'])}")
            if "description" in fn and not isinstance(fn["description"], str):
                err("tools_invalid", f"{where}.function.description must be a string")
        return names

    def _check_functions(self, obj: dict[str, Any]) -> None:
        if "functions" not in obj:
            return
        self.uses_tools = True
        functions = obj["functions"]
        if not isinstance(functions, list) or not functions:
            self.err("functions_invalid", "'functions' must be a non-empty list of "
                                          "{\"name\": ..., \"parameters\": {...}}")
            return
        for k, fn in enumerate(functions):
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) \
                    or not _NAME_RE.fullmatch(fn["name"]):
                self.err("functions_invalid", f"functions[{k}] must be an object whose 'name' is "
                                              "1-64 letters, digits, '_' or '-'")

    def _check_messages(self, messages: list[Any], tool_names: set[str] | None) -> None:
        err, warn = self.err, self.warn
        call_ids: set[str] = set()
        n_assistant = n_trainable = 0
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                err("message_data_type", f"{where} must be an object with 'role' and 'content', "
                                         f"got {_kind(message)}")
                continue
            role = self._check_role(message, where)
            self._check_keys(message, role, where)
            has_call = False
            if role == "assistant":
                n_assistant += 1
                if self._check_weight(message, where):
                    n_trainable += 1
                if message.get("tool_calls") is not None:
                    has_call = True
                    self.uses_tools = True
                    call_ids |= self._check_tool_calls(message["tool_calls"], where, tool_names)
                if message.get("function_call") is not None:
                    has_call = True
                    self.uses_tools = True
                    self._check_function_call(message["function_call"], where)
            elif "weight" in message:
                err("invalid_weight", f"{where}: 'weight' is only allowed on assistant messages "
                                      f"(this one has role {_short(message.get('role'))})")
            if role == "tool":
                self._check_tool_message(message, where, call_ids)
            if role == "function" and "name" not in message:
                err("message_missing_key", f"{where} (role 'function') has no 'name'; give the "
                                           "name of the function whose result it carries")
            if "name" in message and (role is None or "name" in KEYS_BY_ROLE[role]):
                name = message["name"]
                if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
                    err("invalid_name", f"{where}.name must be 1-64 letters, digits, '_' or '-', "
                                        f"got {_short(name)}")
            self._check_content(message, where, has_call)
        if n_assistant == 0:
            err("example_missing_assistant_message",
                "no assistant message, so there is nothing to learn; end the example with "
                "{\"role\": \"assistant\", \"content\": <the expected answer>}")
            return
        if n_trainable == 0:
            warn("no_trainable_assistant_message",
                 "every assistant message has weight 0, so this example teaches nothing; set "
                 "\"weight\": 1 on the answer to learn")
        last = messages[-1]
        if isinstance(last, dict) and last.get("role") != "assistant":
            warn("last_message_not_assistant",
                 f"the example ends with a {_short(last.get('role'))} message, which is not "
                 "trained on; end with the assistant's answer")

    def _check_role(self, message: dict[str, Any], where: str) -> str | None:
        if "role" not in message:
            self.err("message_missing_key", f"{where} has no 'role'; use one of: "
                                            f"{', '.join(ROLES[:4])}")
            return None
        role = message["role"]
        if isinstance(role, str) and role in KEYS_BY_ROLE:
            return role
        self.err("unrecognized_role", f"{where} has role {_short(role)}; use one of: "
                                      f"{', '.join(ROLES[:4])} ('function' for legacy data)")
        return None

    def _check_keys(self, message: dict[str, Any], role: str | None, where: str) -> None:
        unknown = sorted(k for k in message if k not in MESSAGE_KEYS)
        if unknown:
            self.err("message_unrecognized_key",
                     f"{where} has unrecognized key(s) {', '.join(map(repr, unknown))}; a message "
                     f"may have only {', '.join(sorted(MESSAGE_KEYS))}")
        if role is None:
            return
        misplaced = sorted(k for k in message
                           if k in MESSAGE_KEYS and k not in KEYS_BY_ROLE[role] and k != "weight")
        if misplaced:
            self.err("message_unrecognized_key",
                     f"{where}: key(s) {', '.join(map(repr, misplaced))} are not allowed on a "
                     f"{role!r} message (allowed: {', '.join(sorted(KEYS_BY_ROLE[role]))})")

    def _check_weight(self, message: dict[str, Any], where: str) -> bool:
        """Check an assistant message's weight; return whether it is trained on."""
        if "weight" not in message:
            return True
        weight = message["weight"]
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or weight not in (0, 1):
            self.err("invalid_weight", f"{where}.weight must be 0 (do not learn this message) or "
                                       f"1 (learn it), got {_short(weight)}")
            return True
        return weight == 1

    def _check_tool_calls(self, calls: Any, where: str, tool_names: set[str] | None) -> set[str]:
        err = self.err
        if not isinstance(calls, list) or not calls:
            err("tool_calls_invalid", f"{where}.tool_calls must be a non-empty list, got "
                                      f"{_short(calls)}")
            return set()
        ids: set[str] = set()
        for j, call in enumerate(calls):
            at = f"{where}.tool_calls[{j}]"
            if not isinstance(call, dict):
                err("tool_calls_invalid", f"{at} must be an object, got {_kind(call)}")
                continue
            call_id = call.get("id")
            if not isinstance(call_id, str) or not call_id:
                err("tool_calls_invalid", f"{at} needs a non-empty string 'id' (tool messages "
                                          "answer it through 'tool_call_id')")
            else:
                ids.add(call_id)
            if call.get("type") != "function":
                err("tool_calls_invalid", f"{at}.type must be \"function\", got "
                                          f"{_short(call.get('type'))}")
            fn = call.get("function")
            if not isinstance(fn, dict):
                err("tool_calls_invalid", f"{at}.function must be an object with 'name' and "
                                          f"'arguments', got {_kind(fn)}")
                continue
            name = fn.get("name")
            if not isinstance(name, str) or not name:
                err("tool_calls_invalid", f"{at}.function.name must be a non-empty string")
            elif tool_names is not None and name not in tool_names:
                self.warn("tool_call_unknown_function",
                          f"{at} calls {name!r}, which 'tools' does not declare")
            self._check_arguments(fn.get("arguments"), f"{at}.function.arguments",
                                  "tool_calls_invalid")
        return ids

    def _check_function_call(self, call: Any, where: str) -> None:
        if not isinstance(call, dict):
            self.err("function_call_invalid", f"{where}.function_call must be an object with "
                                              f"'name' and 'arguments', got {_kind(call)}")
            return
        name = call.get("name")
        if not isinstance(name, str) or not name:
            self.err("function_call_invalid", f"{where}.function_call.name must be a non-empty "
                                              "string")
        self._check_arguments(call.get("arguments"), f"{where}.function_call.arguments",
                              "function_call_invalid")

    def _check_arguments(self, args: Any, at: str, error: str) -> None:
        if not isinstance(args, str):
            self.err(error, f"{at} must be a string holding JSON (json.dumps the arguments), got "
                            f"{_kind(args)}")
        elif not _is_json_text(args):
            self.err(error, f"{at} is not valid JSON: {_short(args)}")

    def _check_tool_message(self, message: dict[str, Any], where: str, call_ids: set[str]) -> None:
        if "tool_call_id" not in message:
            self.err("message_missing_key", f"{where} (role 'tool') has no 'tool_call_id'; set it "
                                            "to the id of the assistant tool call it answers")
            return
        call_id = message["tool_call_id"]
        if not isinstance(call_id, str) or call_id not in call_ids:
            self.err("tool_call_id_invalid",
                     f"{where}.tool_call_id {_short(call_id)} matches no earlier assistant "
                     "tool_calls[].id in this example")

    def _check_content(self, message: dict[str, Any], where: str, has_call: bool) -> None:
        err = self.err
        if "content" not in message:
            if not has_call:
                err("message_missing_key", f"{where} has no 'content'; only an assistant message "
                                           "with tool_calls or function_call may omit it")
            return
        content = message["content"]
        if content is None:
            if not has_call:
                err("missing_content", f"{where} has null content; only an assistant message "
                                       "with tool_calls or function_call may leave it empty")
            return
        if isinstance(content, str):
            if not content:
                if not has_call:
                    err("missing_content", f"{where} has empty content; write the message text")
            elif not content.strip():
                self.warn("blank_content", f"{where} content is only whitespace")
            return
        if isinstance(content, list):
            texts: list[str] = []
            bad = False
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "text" \
                        and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                    continue
                bad = True
                got = _short(part.get("type")) if isinstance(part, dict) else _kind(part)
                err("invalid_content_part", f"{where}.content[{j}] must be "
                                            f"{{\"type\": \"text\", \"text\": \"...\"}}, got {got}")
            if not bad and not any(texts) and not has_call:
                err("missing_content", f"{where} content has no text; write the message text")
            return
        err("missing_content", f"{where} content must be a string or a list of text parts, got "
                               f"{_kind(content)}")


def _assistant_text_tokens(messages: list[Any], encoding: Any) -> int:
    n = 0
    for m in messages:
        if isinstance(m, dict) and m.get("role") == "assistant":
            n += count_message_tokens({"content": m.get("content")}, encoding) - 3
    return n


class _Validation:
    """Accumulates problems and counts while lines are fed in."""

    def __init__(self, model: str):
        self.model = model
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.info = model_info(model)
        self.encoding_wanted, self.encoding_known = encoding_name_for_model(model)
        self.encoding, self.approximate = encoding_for_model(model)
        self.limit = self.info.max_tokens_per_example if self.info else None
        self.n_lines = 0
        self.n_examples = 0
        self.token_counts: list[int] = []
        self.assistant_counts: list[int] = []
        self.n_over = 0
        self.n_missing_system = 0
        self.n_missing_user = 0
        self.uses_tools = False

    def feed(self, line: int, raw: str | bytes, offset: int | None) -> None:
        self.n_lines += 1
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.n_examples += 1
                where = f" (byte {offset + exc.start} of the file)" if offset is not None else ""
                self.errors.append(Problem(
                    line, "invalid_encoding",
                    f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the "
                    f"line{where}; save the file as UTF-8"))
                return
        else:
            text = raw
        if line == 1 and text.startswith("\ufeff"):
            text = text[1:]
            self.warnings.append(Problem(line, "utf8_bom", "the file starts with a UTF-8 "
                                         "byte-order mark; save it as UTF-8 without BOM"))
        if not text.strip():
            self.warnings.append(Problem(line, "blank_line", "empty line; remove it (every line "
                                         "must be one example)"))
            return
        self.n_examples += 1
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            self.errors.append(Problem(line, "invalid_json", f"not valid JSON: {exc.msg} at "
                                       f"column {exc.colno}; write one JSON object per line"))
            return
        except (ValueError, RecursionError) as exc:
            self.errors.append(Problem(line, "invalid_json", f"not valid JSON: {exc}"))
            return

        def err(name: str, message: str) -> None:
            self.errors.append(Problem(line, name, message))

        def warn(name: str, message: str) -> None:
            self.warnings.append(Problem(line, name, message))

        checker = _ExampleChecker(err, warn)
        try:
            checker.check(obj)
            self._count(line, obj)
        except RecursionError:
            err("too_deeply_nested", "the JSON on this line is nested too deeply to process; "
                                     "flatten it")
        self.uses_tools = self.uses_tools or checker.uses_tools

    def _count(self, line: int, obj: Any) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
            return
        messages = obj["messages"]
        n = sum(count_message_tokens(m, self.encoding) for m in messages) + TOKENS_REPLY_PRIMER
        tools = obj.get("tools")
        if tools:
            n += count_message_tokens({"tools": tools}, self.encoding) - 3
        self.token_counts.append(n)
        self.assistant_counts.append(_assistant_text_tokens(messages, self.encoding))
        roles = {m.get("role") for m in messages if isinstance(m, dict)
                 and isinstance(m.get("role"), str)}
        self.n_missing_system += "system" not in roles
        self.n_missing_user += "user" not in roles
        if self.limit is not None and n > self.limit:
            self.n_over += 1
            self.errors.append(Problem(
                line, "too_many_tokens",
                f"the example has {n:,} tokens, over the {self.limit:,}-token limit of "
                f"{self.info.name if self.info else self.model} (finetune/models.toml); OpenAI "
                "truncates it from the end, cutting off the assistant's answer; shorten the "
                "prompt or split the example"))

    def finish(self, path: str | None) -> ValidationReport:
        where = path or "the data"
        if self.n_examples == 0:
            self.errors.append(Problem(None, "empty_file", f"{where} contains no examples; "
                                       "export the training set again"))
        elif self.n_examples < MIN_EXAMPLES:
            self.errors.append(Problem(
                None, "too_few_examples",
                f"{where} has {self.n_examples} example(s); OpenAI needs at least {MIN_EXAMPLES} "
                "(50-100 well-labeled ones usually help)"))
        if self.info is None:
            self.warnings.append(Problem(
                None, "unknown_model",
                f"model {self.model!r} has no entry in {MODELS_PATH}; tokens are counted with "
                f"{self.encoding.name} and the per-example limit is not checked. Add a "
                f"[models.{json.dumps(resolve_model(self.model))}] table to that file"))
        elif not self.info.fine_tunable:
            self.warnings.append(Problem(
                None, "model_not_fine_tunable",
                f"{MODELS_PATH} marks {self.info.name!r} as not fine-tunable; pick a fine-tunable "
                "snapshot such as gpt-4o-mini-2024-07-18"))
        approximate = self.approximate or self.uses_tools
        if approximate:
            why = []
            if not self.encoding_known:
                why.append(f"the model is unknown (counted with {self.encoding.name})")
            elif self.approximate:
                why.append(f"its encoding {self.encoding_wanted} could not be loaded (counted "
                           f"with {self.encoding.name})")
            if self.uses_tools:
                why.append("tool definitions and calls are counted as JSON text")
            self.warnings.append(Problem(None, "approximate_token_counts",
                                         "token counts are estimates: " + "; ".join(why)))
        return ValidationReport(path, self.model, tuple(self.errors), tuple(self.warnings),
                                self._stats(approximate))

    def _stats(self, approximate: bool) -> ValidationStats:
        counts = self.token_counts
        n_epochs = default_n_epochs(self.n_examples) if self.n_examples else 0
        if self.limit is not None:
            per_epoch = sum(min(self.limit, c) for c in counts)
        else:
            per_epoch = sum(counts)
        if counts:
            arr = np.asarray(counts, dtype=float)
            p50, p95 = (float(v) for v in np.percentile(arr, [50, 95]))
            dist: dict[str, Any] = {
                "tokens_min": int(min(counts)), "tokens_max": int(max(counts)),
                "tokens_mean": float(arr.mean()), "tokens_p50": p50, "tokens_p95": p95,
                "assistant_tokens_mean": float(np.mean(self.assistant_counts)),
            }
        else:
            dist = dict.fromkeys(("tokens_min", "tokens_max", "tokens_mean", "tokens_p50",
                                  "tokens_p95", "assistant_tokens_mean"))
        return ValidationStats(
            model=self.model, encoding=self.encoding.name, approximate=approximate,
            token_limit=self.limit, n_lines=self.n_lines, n_examples=self.n_examples,
            n_counted=len(counts), total_tokens=int(sum(counts)), n_over_limit=self.n_over,
            n_missing_system=self.n_missing_system, n_missing_user=self.n_missing_user,
            n_epochs=n_epochs, billing_tokens_per_epoch=int(per_epoch),
            billed_tokens=int(per_epoch) * n_epochs, **dist,
        )


def validate_records(lines: Iterable[str | bytes], *, model: str = DEFAULT_MODEL,
                     path: str | None = None) -> ValidationReport:
    """Validate JSONL lines of a chat fine-tuning file; never raises on their content.

    Parameters
    ----------
    lines : iterable of str or bytes
        One example per item, e.g. ``text.split("\\n")``; bytes are decoded as UTF-8 line by
        line (a line that is not UTF-8 is an ``invalid_encoding`` error).
    model : str
        Model to fine-tune; chooses the tokenizer and the per-example token limit
        (``finetune/models.toml``).
    path : str, optional
        File name to show in file-level messages and the report.

    Returns
    -------
    ValidationReport
        ``errors`` (the upload would fail or lose data), ``warnings`` and ``stats``.

    Example
    -------
    >>> good = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "spam"}]}'
    >>> report = validate_records([good] * 9 + ['{"messages": [{"role": "usr", "content": "x"}]}'])
    >>> [(p.line, p.error) for p in report.errors]
    [(10, 'unrecognized_role'), (10, 'example_missing_assistant_message')]
    """  # noqa: E501
    if isinstance(lines, (str, bytes)):
        raise TypeError("validate_records needs an iterable of lines, not one string; "
                        "pass text.split('\\n') or use validate_file")
    state = _Validation(model)
    offset = 0
    for number, raw in enumerate(lines, start=1):
        state.feed(number, raw, offset if isinstance(raw, bytes) else None)
        if isinstance(raw, bytes):
            offset += len(raw)
    return state.finish(path)


def validate_file(path: str | Path, *, model: str = DEFAULT_MODEL) -> ValidationReport:
    """Validate a chat fine-tuning JSONL file (see :func:`validate_records`).

    Parameters
    ----------
    path : str or Path
        The JSONL file, one example per line, UTF-8.
    model : str
        Model to fine-tune (default ``gpt-4o-mini-2024-07-18``).

    Returns
    -------
    ValidationReport

    Raises
    ------
    DataError
        If the file does not exist or cannot be read.

    Example
    -------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> _ = p.write_bytes(b'{"messages": [{"role": "user", "content": "caf\\xe9"}]}\\n')
    >>> report = validate_file(p)
    >>> report.errors[0].error, report.errors[0].line
    ('invalid_encoding', 1)
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found; pass the JSONL file written by the export step")
    if p.is_dir():
        raise DataError(f"{p}: is a directory; pass the JSONL training file inside it")
    try:
        with p.open("rb") as f:
            return validate_records(f, model=model, path=str(p))
    except OSError as exc:
        raise DataError(f"{p}: cannot read the file ({exc.strerror or exc})") from exc

