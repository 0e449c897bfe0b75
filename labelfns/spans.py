"""Span labeling functions: LFs that mark character spans of a text as PII (or as not PII).

A span LF returns a list of :class:`Span` (character offsets, end exclusive) for one text. Each span
is a vote: a PII label from :data:`PII_LABELS`, or :data:`NOT_PII` ("this span is not PII", e.g. a
price that looks like a phone number). The token-level label model combines the votes of many span
LFs; a redactor uses the result.

Example
-------
>>> @span_lf
... def dollar_amounts(text):
...     i = text.find("$")
...     return [] if i < 0 else [(i, len(text), NOT_PII)]
>>> dollar_amounts("costs $12")
[Span(start=6, end=9, label='O')]
>>> dollar_amounts.name
'dollar_amounts'
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

from labelfns.errors import LabelcycleError, LFError
from labelfns.fingerprint import fingerprint_function, fingerprint_value

__all__ = [
    "PII_LABELS",
    "NOT_PII",
    "SPAN_LABELS",
    "Span",
    "SpanLike",
    "SpanLF",
    "span_lf",
]

PII_LABELS: tuple[str, ...] = (
    "PERSON",
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "SSN",
    "IBAN",
    "IP_ADDRESS",
    "URL",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "ORDER_ID",
    "ACCOUNT_ID",
)
"""The PII classes a span LF may vote for."""

NOT_PII = "O"
"""The label of a vote "this span is not PII" (the "outside" tag of BIO schemes)."""

SPAN_LABELS: tuple[str, ...] = PII_LABELS + (NOT_PII,)
"""Every label a span LF may return: :data:`PII_LABELS` plus :data:`NOT_PII`."""


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """A labeled character span ``text[start:end]`` (end exclusive).

    Spans are plain records; :class:`SpanLF` checks them against the text they were found in.

    Examples
    --------
    >>> s = Span(4, 9, "EMAIL")
    >>> s.slice("to: a@b.c now")
    'a@b.c'
    >>> s.to_dict()
    {'start': 4, 'end': 9, 'label': 'EMAIL'}
    """

    start: int
    end: int
    label: str

    def slice(self, text: str) -> str:
        """The covered part of ``text``."""
        return text[self.start:self.end]

    def to_dict(self) -> dict[str, Any]:
        """The span as a plain dict (``start``, ``end``, ``label``)."""
        return asdict(self)


SpanLike: TypeAlias = Span | tuple[int, int, str]
"""What a span LF's function may return items as: a :class:`Span` or ``(start, end, label)``."""


class SpanLF:
    """A named span labeling function.

    Calling it on a text runs ``f(text, **resources)`` and checks what came back: every item must
    be a :class:`Span` or a ``(start, end, label)`` tuple with ``0 <= start < end <= len(text)``
    and a label in ``labels``. The result is sorted by ``(start, end, label)`` with duplicates
    removed. Any problem, including an exception raised by ``f``, becomes an
    :class:`~labelfns.errors.LFError` that names the LF.

    Parameters
    ----------
    name : str
        The LF's name, unique within a project.
    f : callable
        ``f(text, **resources)`` returning an iterable of spans (an empty one to abstain).
    resources : mapping, optional
        Extra keyword arguments passed to ``f`` (word lists, compiled patterns, models, ...).
    labels : sequence of str, optional
        The labels this LF may emit; a subset of :data:`SPAN_LABELS` (the default).

    Examples
    --------
    >>> def find_word(text, *, word):
    ...     i = text.find(word)
    ...     return [] if i < 0 else [Span(i, i + len(word), "PERSON")]
    >>> lf = SpanLF("tom", find_word, resources={"word": "Tom"}, labels=["PERSON"])
    >>> lf("ask Tom")
    [Span(start=4, end=7, label='PERSON')]
    >>> lf.apply_batch(["Tom", "nobody"])
    [[Span(start=0, end=3, label='PERSON')], []]
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Iterable[SpanLike]],
        *,
        resources: Mapping[str, Any] | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise LFError("the name must be a non-empty string", lf=str(name))
        if not callable(f):
            raise LFError(f"expected a function, got {type(f).__name__}", lf=name)
        if resources is not None and not isinstance(resources, Mapping):
            raise LFError(f"resources must be a mapping, got {type(resources).__name__}", lf=name,
                          hint="pass resources={'keyword': value}")
        chosen = SPAN_LABELS if labels is None else tuple(labels)
        unknown = [lab for lab in chosen if lab not in SPAN_LABELS]
        if unknown or not chosen:
            raise LFError(f"unknown span labels {unknown!r}" if unknown else "labels is empty",
                          lf=name, hint="use labels from: " + ", ".join(SPAN_LABELS))
        self.name = name
        self.labels: tuple[str, ...] = chosen
        self._f = f
        self._resources: dict[str, Any] = dict(resources or {})
        self._allowed = frozenset(chosen)

    def __call__(self, text: str) -> list[Span]:
        """The checked spans of one text."""
        return self._run(text, None)

    def apply_batch(self, texts: Iterable[str]) -> list[list[Span]]:
        """The checked spans of each text, in order; errors name the row (position in ``texts``)."""
        f, resources, check = self._f, self._resources, self._check  # _run, inlined for speed
        out: list[list[Span]] = []
        for row, text in enumerate(texts):
            if type(text) is not str:
                self._check_text(text, row)
            try:
                raw = f(text, **resources)
            except LabelcycleError:
                raise
            except Exception as exc:  # noqa: BLE001 - re-raised with the LF's name and the row
                raise LFError(f"raised {type(exc).__name__}: {exc}", lf=self.name, row=row) from exc
            out.append([] if type(raw) is list and not raw else check(raw, text, row))
        return out

    def fingerprint(self) -> str:
        """A hex digest that changes when the LF's code, resources or labels change."""
        return fingerprint_value(("span-lf/1", self.name, fingerprint_function(self._f),
                                  fingerprint_value(self._resources), self.labels))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # -- internals --------------------------------------------------------------------------------
    def _run(self, text: str, row: object) -> list[Span]:
        self._check_text(text, row)
        try:
            raw = self._f(text, **self._resources)
        except LabelcycleError:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised with the LF's name and the row
            raise LFError(f"raised {type(exc).__name__}: {exc}", lf=self.name, row=row) from exc
        return self._check(raw, text, row)

    def _check_text(self, text: object, row: object) -> None:
        if not isinstance(text, str):
            raise LFError(f"expected a str text, got {type(text).__name__}", lf=self.name, row=row,
                          hint="pass the text column (missing values as '')")

    def _check(self, raw: Any, text: str, row: object) -> list[Span]:
        """Validate what the function returned; return sorted, de-duplicated spans."""
        if type(raw) is list and not raw:
            return []  # the common case: the LF abstains
        if raw is None or isinstance(raw, (str, bytes, Span)) or not isinstance(raw, Iterable):
            raise LFError(f"returned {type(raw).__name__}, not a list of spans", lf=self.name,
                          row=row, hint="return a list of Span or (start, end, label); [] to abstain")
        n = len(text)
        out: set[Span] = set()
        for item in raw:
            if type(item) is Span:
                span = item
            elif isinstance(item, (tuple, list)) and len(item) == 3:
                span = Span(*item)
            else:
                raise LFError(f"returned {item!r}, which is not a span (text length {n})",
                              lf=self.name, row=row,
                              hint="return Span(start, end, label) or (start, end, label) items")
            start, end, label = span.start, span.end, span.label
            if (type(start) is int and type(end) is int and 0 <= start < end <= n
                    and label in self._allowed):
                out.add(span)  # the common case, checked in full below otherwise
                continue
            if (isinstance(start, bool) or isinstance(end, bool)
                    or not isinstance(start, numbers.Integral)
                    or not isinstance(end, numbers.Integral)):
                raise LFError(f"returned span {span!r} with non-integer offsets (text length {n})",
                              lf=self.name, row=row, hint="offsets are int character positions")
            if not 0 <= start < end <= n:
                raise LFError(f"returned span {span!r} outside the text of length {n}",
                              lf=self.name, row=row,
                              hint="offsets need 0 <= start < end <= len(text); end is exclusive")
            if label not in self._allowed:
                raise LFError(f"returned span {span!r} with unknown label {label!r} "
                              f"(text length {n})", lf=self.name, row=row,
                              hint="use one of: " + ", ".join(self.labels))
            if type(start) is not int or type(end) is not int:
                span = Span(int(start), int(end), label)
            out.add(span)
        return sorted(out)


def span_lf(
    f: Callable[..., Iterable[SpanLike]] | None = None,
    *,
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
) -> Any:
    """Make a :class:`SpanLF` from a function; works with and without parentheses.

    Parameters
    ----------
    f : callable, optional
        The function (given when used as ``@span_lf`` without parentheses).
    name : str, optional
        Defaults to the function's name.
    resources : mapping, optional
        Keyword arguments passed to the function.
    labels : sequence of str, optional
        The labels the LF may emit (default: all of :data:`SPAN_LABELS`).

    Examples
    --------
    >>> @span_lf(name="at_sign", resources={"char": "@"})
    ... def at(text, *, char):
    ...     return [(i, i + 1, "EMAIL") for i, c in enumerate(text) if c == char]
    >>> at.name, at("a@b")
    ('at_sign', [Span(start=1, end=2, label='EMAIL')])
    """
    if isinstance(f, str):
        raise LFError("span_lf takes the name as a keyword", lf=f,
                      hint=f"write @span_lf(name={f!r})")

    def wrap(func: Callable[..., Iterable[SpanLike]]) -> SpanLF:
        return SpanLF(name or getattr(func, "__name__", "span_lf"), func, resources=resources,
                      labels=labels)

    return wrap if f is None else wrap(f)
