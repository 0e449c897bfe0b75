"""Chat prompt templates: how one data row becomes the messages of a fine-tuning example.

A :class:`PromptTemplate` holds a fixed system prompt, a user message written with ``{column}``
placeholders (:meth:`str.format` syntax; literal braces as ``{{`` and ``}}``) and, for
text-to-text tasks, the column that holds the assistant's answer. For classification the answer is
the class name, passed to :meth:`PromptTemplate.render` by the exporter.

Placeholders name columns only: positional fields (``{}``, ``{0}``), attribute or index access
(``{a.b}``, ``{a[0]}``) and nested fields in a format spec are rejected when the template is made.
A conversion (``!r``/``!s``/``!a``) and a format spec (``{n:>5}``) are allowed. Missing values
(None, NaN, NA) render as ``""``.

Example
-------
>>> t = PromptTemplate("Label the ticket.", "Ticket: {text}\\nChannel: {channel}",
...                    columns=["text", "channel"])
>>> [m["content"] for m in t.render({"text": "refund?", "channel": "mail"}, answer="billing")]
['Label the ticket.', 'Ticket: refund?\\nChannel: mail', 'billing']
"""

from __future__ import annotations

import difflib
import math
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelfns.errors import ConfigError, DataError

__all__ = ["PromptTemplate", "default_system_prompt"]

_FORMATTER = string.Formatter()
_CONVERSIONS = {None: lambda v: v, "s": str, "r": repr, "a": ascii}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if type(value).__name__ in ("NAType", "NaTType"):  # pd.NA, pd.NaT
        return True
    try:  # pd.NA, pd.NaT and numpy NaN scalars, without importing pandas here
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _parse(user_template: str) -> tuple[tuple[str, str | None, str | None, str], ...]:
    """``(literal, field, conversion, spec)`` parts of a template; raises ConfigError."""
    try:
        parts = list(_FORMATTER.parse(user_template))
    except ValueError as exc:
        raise ConfigError(
            f"user_template {user_template!r} is not a valid template ({exc}); name columns as "
            "{column} and write literal braces as {{ and }}"
        ) from None
    out = []
    for literal, name, spec, conversion in parts:
        if name is None:
            out.append((literal, None, None, ""))
            continue
        if name == "" or name.isdigit():
            raise ConfigError(
                f"user_template {user_template!r} has a positional placeholder {{{name}}}; name "
                "a column instead, e.g. {text} (literal braces are written {{ and }})"
            )
        if "." in name or "[" in name:
            raise ConfigError(
                f"user_template {user_template!r}: placeholder {{{name}}} uses attribute or index "
                "access, which is not supported; name a column (rename columns whose names hold "
                "'.' or '[')"
            )
        if spec and ("{" in spec or "}" in spec):
            raise ConfigError(
                f"user_template {user_template!r}: placeholder {{{name}:{spec}}} nests a field in "
                "its format spec; use a fixed spec such as {text:>20}"
            )
        if conversion not in _CONVERSIONS:
            raise ConfigError(
                f"user_template {user_template!r}: placeholder {{{name}!{conversion}}} has an "
                "unknown conversion; use !s, !r or !a"
            )
        out.append((literal, name, conversion, spec or ""))
    return tuple(out)


def _unknown_column(what: str, name: str, columns: Sequence[str]) -> ConfigError:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=1)
    hint = f" Did you mean {{{close[0]}}}?" if close else ""
    shown = ", ".join(map(str, columns)) or "(none)"
    return ConfigError(f"{what} names the column {name!r}, which the data does not have; "
                       f"available columns: {shown}.{hint}")


@dataclass(frozen=True)
class PromptTemplate:
    """System prompt, user message template and (text tasks) the answer column of a chat example.

    Parameters
    ----------
    system_prompt : str or None
        Sent as is (braces are literal); None or ``""`` leaves the system message out.
    user_template : str
        The user message, with ``{column}`` placeholders (literal braces as ``{{ }}``).
    assistant : str, optional
        Column holding the assistant's answer (text-to-text tasks). For classification leave it
        None and pass the class name to :meth:`render`.
    columns : sequence of str, optional (keyword-only)
        The data's columns; when given, every placeholder and ``assistant`` must be one of them.

    Raises
    ------
    ConfigError
        The template is malformed, or names a column not in ``columns`` (the message names the
        field and lists the available columns).

    Example
    -------
    >>> PromptTemplate(None, "Review: {body}", columns=["text"])
    Traceback (most recent call last):
    labelfns.errors.ConfigError: user_template 'Review: {body}' names the column 'body', which the data does not have; available columns: text.
    >>> PromptTemplate("", "{{json}} {text}").fields
    ('text',)
    """  # noqa: E501

    system_prompt: str | None
    user_template: str
    assistant: str | None = None
    columns: tuple[str, ...] | None = field(default=None, kw_only=True)
    _parts: tuple[tuple[str, str | None, str | None, str], ...] = field(
        init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if self.system_prompt is not None and not isinstance(self.system_prompt, str):
            raise ConfigError(f"system_prompt must be a string or None, got "
                              f"{type(self.system_prompt).__name__}")
        if not isinstance(self.user_template, str):
            raise ConfigError(f"user_template must be a string, got "
                              f"{type(self.user_template).__name__}")
        if self.assistant is not None and (not isinstance(self.assistant, str)
                                           or not self.assistant):
            raise ConfigError(f"assistant must be a column name or None, got {self.assistant!r}")
        object.__setattr__(self, "_parts", _parse(self.user_template))
        if not self.user_template.strip():
            raise ConfigError("user_template is empty; write the user message, e.g. '{text}'")
        if self.columns is not None:
            cols = tuple(str(c) for c in self.columns)
            object.__setattr__(self, "columns", cols)
            self.check_columns(cols)

    @property
    def fields(self) -> tuple[str, ...]:
        """The columns the user message uses, in order of first use.

        Example
        -------
        >>> PromptTemplate(None, "{a} {b} {a}").fields
        ('a', 'b')
        """
        return tuple(dict.fromkeys(name for _, name, _, _ in self._parts if name is not None))

    @property
    def used_columns(self) -> tuple[str, ...]:
        """:attr:`fields` plus the ``assistant`` column, if any.

        Example
        -------
        >>> PromptTemplate(None, "{text}", assistant="summary").used_columns
        ('text', 'summary')
        """
        extra = (self.assistant,) if self.assistant and self.assistant not in self.fields else ()
        return self.fields + extra

    def check_columns(self, columns: Iterable[Any]) -> None:
        """Raise ConfigError if a placeholder or the assistant column is not in ``columns``.

        Example
        -------
        >>> PromptTemplate(None, "{text}", assistant="sumary").check_columns(["text", "summary"])
        Traceback (most recent call last):
        labelfns.errors.ConfigError: assistant column names the column 'sumary', which the data does not have; available columns: text, summary. Did you mean {summary}?
        """  # noqa: E501
        cols = [str(c) for c in columns]
        known = set(cols)
        for name in self.fields:
            if name not in known:
                raise _unknown_column(f"user_template {self.user_template!r}", name, cols)
        if self.assistant is not None and self.assistant not in known:
            raise _unknown_column("assistant column", self.assistant, cols)

    def fill(self, values: Sequence[Any]) -> str:
        """The user message from the values of :attr:`fields`, in that order.

        Example
        -------
        >>> PromptTemplate(None, "{a}-{b}-{a}").fill(["x", 2])
        'x-2-x'
        """
        lookup = dict(zip(self.fields, values, strict=True))
        out = []
        for literal, name, conversion, spec in self._parts:
            out.append(literal)
            if name is None:
                continue
            value = lookup[name]
            if _is_missing(value):
                value = ""
            value = _CONVERSIONS[conversion](value)
            try:
                out.append(format(value, spec) if spec else str(value))
            except (TypeError, ValueError) as exc:
                raise DataError(f"column {name!r}: value {value!r} does not fit the format spec "
                                f"{{{name}:{spec}}} of the user_template ({exc})") from None
        return "".join(out)

    def user_message(self, row: Mapping[str, Any]) -> str:
        """The user message for one row (a dict, a pandas Series, ...).

        Example
        -------
        >>> PromptTemplate(None, "Q: {q}").user_message({"q": None})
        'Q: '
        """
        values = []
        for name in self.fields:
            try:
                values.append(row[name])
            except (KeyError, IndexError):
                keys = list(row.keys()) if hasattr(row, "keys") else []
                raise _unknown_column(f"user_template {self.user_template!r}", name,
                                      [str(k) for k in keys]) from None
        return self.fill(values)

    def render(self, row: Mapping[str, Any], *, answer: str | None = None) -> list[dict[str, str]]:
        """The chat messages of one row: system (if any), user, and assistant (if known).

        Parameters
        ----------
        row : mapping
            Column -> value.
        answer : str, optional
            The assistant's answer (the class name for classification). Without it the answer is
            ``row[assistant]`` when the template has an ``assistant`` column, else there is no
            assistant message (a prompt for inference).

        Example
        -------
        >>> t = PromptTemplate("Summarise.", "{text}", assistant="summary")
        >>> t.render({"text": "long text", "summary": "short"})[-1]
        {'role': 'assistant', 'content': 'short'}
        >>> len(PromptTemplate(None, "{text}").render({"text": "hi"}))
        1
        """
        messages = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": self.user_message(row)})
        if answer is None and self.assistant is not None:
            try:
                value = row[self.assistant]
            except (KeyError, IndexError):
                keys = list(row.keys()) if hasattr(row, "keys") else []
                raise _unknown_column("assistant column", self.assistant,
                                      [str(k) for k in keys]) from None
            answer = "" if _is_missing(value) else str(value)
        if answer is not None:
            messages.append({"role": "assistant", "content": str(answer)})
        return messages

    def to_dict(self) -> dict[str, Any]:
        """``system_prompt``, ``user_template``, ``assistant`` and ``fields``.

        Example
        -------
        >>> PromptTemplate("s", "{text}").to_dict()["fields"]
        ['text']
        """
        return {"system_prompt": self.system_prompt, "user_template": self.user_template,
                "assistant": self.assistant, "fields": list(self.fields)}


def default_system_prompt(labels: Sequence[str]) -> str:
    """A system prompt for classification that lists the class names.

    Example
    -------
    >>> default_system_prompt(["spam", "ham"])
    'Classify the message into exactly one of these classes: spam, ham. Answer with the class name only.'
    """  # noqa: E501
    return ("Classify the message into exactly one of these classes: "
            f"{', '.join(labels)}. Answer with the class name only.")
