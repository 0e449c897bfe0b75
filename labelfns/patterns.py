"""Keyword and regex LF families, declared as data and run vectorized.

A family LF is still an ordinary :class:`~labelfns.core.LabelingFunction` (Snorkel's appliers call it
row by row), but it also carries its pattern as data, so :func:`weak_supervision.apply_lfs` runs all of
them together in one pass over the text instead of row by row. Both paths give the same votes.

Semantics
---------
* ``keyword_lf``: votes ``label`` when any keyword occurs in any of ``fields``. With ``whole_word``
  (default) a keyword must not touch a word character (``\\w``) on either side; whitespace inside a
  keyword matches any run of whitespace ("gift card" matches "gift\\n card"). Case-insensitive unless
  ``case_sensitive=True``.
* ``regex_lf``: votes ``label`` when ``re.search(pattern, field)`` finds a match in any of ``fields``.
* Missing values (None, NaN) are empty text; other non-strings are matched as ``str(value)``.

Example
-------
>>> from types import SimpleNamespace
>>> lf = keyword_lf("kw_refund", ["refund", "money back"], "refund", labels=["other", "refund"])
>>> lf(SimpleNamespace(text="I want my money  back!"))
1
>>> lf(SimpleNamespace(text="refunded"))  # whole words only
-1
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from labelfns.core import ABSTAIN, LabelingFunction
from labelfns.errors import LFError
from labelfns.fingerprint import fingerprint_value

__all__ = ["PatternLF", "keyword_lf", "regex_lf", "field_text", "DEFAULT_FIELDS"]

DEFAULT_FIELDS: tuple[str, ...] = ("text",)


def field_text(value: Any) -> str:
    """The text an LF family sees for one cell: ``""`` for None/NaN, else ``str(value)``.

    >>> field_text(None), field_text(float("nan")), field_text(3)
    ('', '', '3')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(value)


def _get_field(x: Any, field: str) -> Any:
    try:
        return x[field]
    except (KeyError, TypeError, IndexError):
        pass
    try:
        return getattr(x, field)
    except AttributeError:
        raise KeyError(field) from None


def _match_row(x: Any, *, regex: re.Pattern[str], fields: tuple[str, ...], label: Any) -> Any:
    for field in fields:
        if regex.search(field_text(_get_field(x, field))):
            return label
    return ABSTAIN


class PatternLF(LabelingFunction):
    """An LF family member: a compiled pattern over ``fields`` voting one ``label``.

    Attributes
    ----------
    kind : {"keyword", "regex"}
    regex : re.Pattern
        The exact matching rule (also used by the row-by-row path).
    label : str or int
        The class voted on a match.
    keywords : tuple of str
        For keyword LFs, the keywords; empty for regex LFs.
    whole_word, case_sensitive : bool
    """

    def __init__(self, name: str, *, kind: str, regex: re.Pattern[str], label: Any,
                 fields: Sequence[str], keywords: Sequence[str] = (), whole_word: bool = False,
                 case_sensitive: bool = True, labels: Sequence[str] | None = None) -> None:
        self.kind = kind
        self.regex = regex
        self.label = label
        self.keywords = tuple(keywords)
        self.whole_word = whole_word
        self.case_sensitive = case_sensitive
        self._fields = tuple(fields)
        super().__init__(name, _match_row, resources={"regex": regex, "fields": self._fields,
                                                      "label": label}, labels=labels)
        if labels is not None:
            self.resolve(label)  # an unknown class is an error now, not on the first match

    @property
    def fields(self) -> tuple[str, ...]:
        return self._fields

    def label_index(self) -> int:
        """The class index this LF votes (needs a bound label set for a class name)."""
        return self.resolve(self.label)

    def fingerprint(self) -> str:
        return _pattern_fingerprint(self.kind, self.name, self.regex.pattern, self.regex.flags,
                                    self.label, self._fields, self.labels)

    def __repr__(self) -> str:
        what = self.keywords if self.kind == "keyword" else self.regex.pattern
        return f"PatternLF({self.name!r}, {self.kind}={what!r}, label={self.label!r})"


@functools.lru_cache(maxsize=4096, typed=True)
def _pattern_fingerprint(*key: Any) -> str:
    """A family LF's fingerprint from its (hashable) definition; memoised: a re-run binds and
    fingerprints every LF again."""
    return fingerprint_value(("pattern-lf/1", *key))


def _check_fields(name: str, fields: Any) -> tuple[str, ...]:
    if isinstance(fields, str):
        fields = (fields,)
    fields = tuple(fields)
    if not fields or not all(isinstance(f, str) and f for f in fields):
        raise LFError(f"fields must be a non-empty list of column names, got {fields!r}", lf=name)
    return fields


def _check_label(name: str, label: Any) -> Any:
    if isinstance(label, bool) or not isinstance(label, (str, int)) or label == ABSTAIN:
        raise LFError(f"label must be a class name or index, got {label!r}", lf=name)
    return label


def keyword_regex(keywords: Iterable[str], *, whole_word: bool = True,
                  case_sensitive: bool = False) -> re.Pattern[str]:
    """The regex that defines what a keyword LF matches (see the module docs).

    >>> bool(keyword_regex(["gift card"]).search("a Gift  card!"))
    True
    """
    parts = []
    for kw in sorted(set(keywords), key=lambda k: (-len(k), k)):
        words = kw.split()
        parts.append(r"\s+".join(re.escape(w) for w in words))
    body = "|".join(parts)
    if whole_word:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def keyword_lf(
    name: str,
    keywords: str | Iterable[str],
    label: str | int,
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    whole_word: bool = True,
    case_sensitive: bool = False,
    labels: Sequence[str] | None = None,
) -> PatternLF:
    """An LF voting ``label`` when any of ``keywords`` occurs in any of ``fields``.

    Parameters
    ----------
    name : str
        The LF's name.
    keywords : str or iterable of str
        Words or phrases; whitespace inside a phrase matches any run of whitespace.
    label : str or int
        Class name (checked against the label set when bound) or index.
    fields : str or sequence of str, default ("text",)
        Columns to search.
    whole_word : bool, default True
        Keywords must not touch a word character on either side.
    case_sensitive : bool, default False
    labels : sequence of str, optional
        Bind to a label set now.

    Examples
    --------
    >>> lf = keyword_lf("kw_dog", ["dog", "puppy"], "pets", fields=["title", "text"])
    >>> lf.keywords
    ('dog', 'puppy')
    """
    if isinstance(keywords, str):
        keywords = [keywords]
    kws = tuple(k for k in keywords)
    if not kws or not all(isinstance(k, str) and k.strip() for k in kws):
        raise LFError(f"keywords must be a non-empty list of non-empty strings, got {kws!r}", lf=name)
    regex = keyword_regex(kws, whole_word=whole_word, case_sensitive=case_sensitive)
    return PatternLF(name, kind="keyword", regex=regex, label=_check_label(name, label),
                     fields=_check_fields(name, fields), keywords=kws, whole_word=whole_word,
                     case_sensitive=case_sensitive, labels=labels)


def regex_lf(
    name: str,
    pattern: str | re.Pattern[str],
    label: str | int,
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    case_sensitive: bool = False,
    labels: Sequence[str] | None = None,
) -> PatternLF:
    """An LF voting ``label`` when ``re.search(pattern, ...)`` matches any of ``fields``.

    A compiled pattern keeps its own flags; a string is compiled with ``re.IGNORECASE`` unless
    ``case_sensitive=True``.

    Examples
    --------
    >>> lf = regex_lf("rx_size", r"\\b\\d+\\s?(oz|lb)s?\\b", "grocery")
    >>> lf.regex.flags & re.IGNORECASE > 0
    True
    """
    if isinstance(pattern, re.Pattern):
        regex = pattern
    else:
        if not isinstance(pattern, str) or not pattern:
            raise LFError(f"pattern must be a non-empty string, got {pattern!r}", lf=name)
        try:
            regex = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise LFError(f"invalid regular expression {pattern!r}: {exc}", lf=name,
                          hint="check the pattern with re.compile") from None
    if isinstance(regex.pattern, bytes):
        raise LFError("pattern must be a str pattern, not bytes", lf=name)
    return PatternLF(name, kind="regex", regex=regex, label=_check_label(name, label),
                     fields=_check_fields(name, fields),
                     case_sensitive=not bool(regex.flags & re.IGNORECASE), labels=labels)
