"""The labeling-function type and the ``@labeling_function`` decorator.

Every LF in labelcycle is a :class:`snorkel.labeling.LabelingFunction`, so Snorkel's own appliers and
``LFAnalysis`` accept it unchanged. On top of Snorkel's LF, ours lets the function return a class
*name*, a class index, or abstain (``None`` / :data:`ABSTAIN`), and checks the value against the label
set the LF is bound to.

Example
-------
>>> from types import SimpleNamespace
>>> @labeling_function
... def mentions_refund(x):
...     return "refund" if "refund" in x.text.lower() else None
>>> lf = mentions_refund.bind(["billing", "refund"])
>>> lf(SimpleNamespace(text="I want a Refund"))
1
>>> lf(SimpleNamespace(text="hello"))
-1
"""

from __future__ import annotations

import copy
import difflib
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from snorkel.labeling import LabelingFunction as _SnorkelLF

from labelfns.errors import LFError
from labelfns.fingerprint import fingerprint_function, fingerprint_value

ABSTAIN = -1
"""The vote of an LF that has no opinion on a row."""

__all__ = ["ABSTAIN", "LabelingFunction", "labeling_function", "check_unique_names"]


class LabelingFunction(_SnorkelLF):
    """A named labeling function.

    Parameters
    ----------
    name : str
        The LF's name, unique within a project; it names the LF's column in every report.
    f : callable
        ``f(x, **resources)`` returning a class name (str), a class index (int), or ``None`` /
        ``ABSTAIN``.
    resources : mapping, optional
        Extra keyword arguments passed to ``f`` (models, word lists, ...).
    pre : list of snorkel preprocessors, optional
        Run on each row before ``f`` (e.g. a spaCy preprocessor).
    labels : sequence of str, optional
        The label set. Without it, class names cannot be resolved; :meth:`bind` sets it and
        :func:`weak_supervision.apply_lfs` binds every LF to the project's labels.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> lf = LabelingFunction("short", lambda x: "short" if len(x.text) < 5 else None,
    ...                       labels=["long", "short"])
    >>> lf(SimpleNamespace(text="hi"))
    1
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: list[Any] | None = None,
        *,
        labels: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise LFError("the name must be a non-empty string", lf=str(name))
        super().__init__(name, f, resources=dict(resources or {}), pre=list(pre or []))
        self.labels: tuple[str, ...] | None = None if labels is None else tuple(labels)
        self._index = None if labels is None else {c: i for i, c in enumerate(self.labels)}

    # -- voting -------------------------------------------------------------------------------
    def __call__(self, x: Any) -> int:
        """Vote on one row: a class index, or ``-1`` to abstain."""
        return self.resolve(super().__call__(x))

    def raw(self, x: Any) -> Any:
        """What the user's function returned for ``x`` (after preprocessors), unresolved."""
        return _SnorkelLF.__call__(self, x)

    def resolve(self, value: Any) -> int:
        """Turn what the function returned into a class index or ``-1``.

        Raises :class:`~labelfns.errors.LFError` for a value that is not a known class.
        """
        if value is None:
            return ABSTAIN
        if isinstance(value, str):
            if self._index is None:
                raise LFError(
                    f"returned the class name {value!r} but no label set is bound",
                    lf=self.name,
                    hint="apply it with apply_lfs(..., labels=[...]) or call lf.bind(labels)",
                )
            idx = self._index.get(value)
            if idx is None:
                raise LFError(f"returned unknown class {value!r}", lf=self.name,
                              hint=_valid_names_hint(value, self.labels or ()))
            return idx
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise LFError(
                f"returned {value!r} of type {type(value).__name__}",
                lf=self.name,
                hint="return a class name (str), a class index (int) or None to abstain",
            )
        value = int(value)
        if value == ABSTAIN:
            return ABSTAIN
        if value < 0 or (self.labels is not None and value >= len(self.labels)):
            n = "?" if self.labels is None else len(self.labels)
            raise LFError(f"returned class index {value}, outside 0..{n}-1", lf=self.name,
                          hint="return a class index of the label set, or -1 to abstain")
        return value

    # -- binding and identity -------------------------------------------------------------------
    def bind(self, labels: Sequence[str]) -> LabelingFunction:
        """A copy of this LF bound to the label set ``labels``."""
        labels = tuple(labels)
        if self.labels == labels:
            return self
        bound = copy.copy(self)
        bound.labels = labels
        bound._index = {c: i for i, c in enumerate(labels)}
        return bound

    @property
    def fields(self) -> tuple[str, ...] | None:
        """The columns this LF reads, or ``None`` for "any column" (generic Python LFs)."""
        return None

    def fingerprint(self) -> str:
        """A hex digest that changes whenever the LF's code, resources, preprocessors or label set
        change, and stays the same across processes and sessions."""
        return fingerprint_value((
            "python-lf/1",
            self.name,
            fingerprint_function(self._f),
            fingerprint_value(self._resources),
            [fingerprint_value(p) for p in self._pre],
            self.labels,
        ))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class labeling_function:  # noqa: N801 - a decorator, named like Snorkel's
    """Make a :class:`LabelingFunction` from a function; works with and without parentheses.

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources : mapping, optional
        Keyword arguments passed to the function.
    pre : list, optional
        Snorkel preprocessors run first.
    labels : sequence of str, optional
        Bind the LF to this label set right away.

    Examples
    --------
    >>> @labeling_function(name="has_question")
    ... def q(x):
    ...     return 1 if "?" in x.text else ABSTAIN
    >>> q.name
    'has_question'
    >>> @labeling_function
    ... def plain(x):
    ...     return None
    >>> plain.name
    'plain'
    """

    def __new__(cls, name: Any = None, **kwargs: Any) -> Any:
        if callable(name) and not isinstance(name, str):
            # used without parentheses: @labeling_function
            return cls(**kwargs)(name)
        return super().__new__(cls)

    def __init__(
        self,
        name: str | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        pre: list[Any] | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.resources = resources
        self.pre = pre
        self.labels = labels

    def __call__(self, f: Callable[..., Any]) -> LabelingFunction:
        return LabelingFunction(self.name or f.__name__, f, resources=self.resources,
                                pre=self.pre, labels=self.labels)


def check_unique_names(lfs: Iterable[Any], *, what: str = "LF") -> None:
    """Raise :class:`LFError` naming the first duplicated LF name (before any work is done).

    >>> check_unique_names([LabelingFunction("a", print), LabelingFunction("b", print)])
    """
    seen: dict[str, int] = {}
    for i, lf in enumerate(lfs):
        name = getattr(lf, "name", None)
        if not isinstance(name, str):
            raise LFError(f"{what} number {i + 1} has no name (got {type(lf).__name__})",
                          lf=repr(lf), hint="make LFs with @labeling_function or keyword_lf/regex_lf")
        if name in seen:
            raise LFError(f"the name is used by {what}s number {seen[name] + 1} and {i + 1}", lf=name,
                          hint="give every LF a unique name (name=...)")
        seen[name] = i


def _valid_names_hint(value: str, labels: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(labels), n=1)
    hint = "valid class names: " + ", ".join(labels)
    if close:
        hint = f"did you mean {close[0]!r}? " + hint
    return hint
