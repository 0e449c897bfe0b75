"""Slicing functions: named predicates that pick out the rows of a slice (``True`` = in the slice).

A :class:`SlicingFunction` is a :class:`snorkel.slicing.SlicingFunction`, so Snorkel's own
``PandasSFApplier`` accepts it unchanged; Snorkel's plain slicing functions work here too. Users
write them in Python modules, loaded like LF modules (:func:`load_slicing_functions`), and the
slice report applies them beside the built-in slices (:func:`apply_slices`).

Example
-------
>>> import pandas as pd
>>> @slicing_function
... def mentions_refund(x):
...     return "refund" in x.text.lower()
>>> apply_slices([mentions_refund], pd.DataFrame({"text": ["Refund me", "hi"]}))["mentions_refund"].tolist()
[True, False]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from snorkel.slicing import SlicingFunction as _SnorkelSF

from labelfns.core import check_unique_names
from labelfns.errors import DataError, LFError
from labelfns.loading import collect_lfs, load_module
from weak_supervision.apply import Row

__all__ = [
    "project_slicing_functions",
    "SlicingFunction",
    "SlicingFunctionError",
    "slicing_function",
    "load_slicing_functions",
    "apply_slices",
]


class SlicingFunctionError(LFError):
    """A slicing function is invalid or failed; the message names it (and the row, if any).

    >>> str(SlicingFunctionError("raised KeyError: 'x'", sf="short", row="r1"))
    "slicing function 'short' on row 'r1': raised KeyError: 'x'"
    """

    def __init__(self, message: str, *, sf: str, row: object = None, hint: str | None = None):
        super().__init__(message, lf=sf, row=row, hint=hint)
        where = f"slicing function {sf!r}" + (f" on row {row!r}" if row is not None else "")
        self.args = (f"{where}: {message}" + (f". {hint}" if hint else ""),)


class SlicingFunction(_SnorkelSF):
    """A named slicing function: ``f(x, **resources)`` returns whether row ``x`` is in the slice.

    Parameters
    ----------
    name : str
        The slice's name in every report; unique among the slices of a report.
    f : callable
        ``f(x, **resources)`` returning a bool (``0``/``1`` and NumPy bools are accepted).
    resources : mapping, optional
        Extra keyword arguments passed to ``f``.
    pre : list of snorkel preprocessors, optional
        Run on each row before ``f``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> sf = SlicingFunction("short", lambda x, n: len(x.text) < n, resources={"n": 5})
    >>> sf(SimpleNamespace(text="hi")), sf(SimpleNamespace(text="hello there"))
    (True, False)
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: list[Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise SlicingFunctionError("the name must be a non-empty string", sf=str(name))
        super().__init__(name, f, resources=dict(resources or {}), pre=list(pre or []))

    def __call__(self, x: Any) -> bool:
        """Whether ``x`` is in the slice; raises :class:`SlicingFunctionError` for a non-bool."""
        return _as_bool(self.name, _SnorkelSF.__call__(self, x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _as_bool(name: str, value: Any, row: object = None) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return bool(value)
    raise SlicingFunctionError(f"returned {value!r} of type {type(value).__name__}", sf=name,
                               row=row, hint="return True for rows in the slice, else False")


class slicing_function:  # noqa: N801 - a decorator, named like Snorkel's
    """Make a :class:`SlicingFunction` from a function; works with and without parentheses.

    Parameters
    ----------
    name : str, optional
        Defaults to the function's name.
    resources : mapping, optional
        Keyword arguments passed to the function.
    pre : list, optional
        Snorkel preprocessors run first.

    Examples
    --------
    >>> @slicing_function(name="has_question")
    ... def q(x):
    ...     return "?" in x.text
    >>> q.name, isinstance(q, SlicingFunction)
    ('has_question', True)
    >>> @slicing_function
    ... def plain(x):
    ...     return False
    >>> plain.name
    'plain'
    """

    def __new__(cls, name: Any = None, **kwargs: Any) -> Any:
        if callable(name) and not isinstance(name, str):
            return cls(**kwargs)(name)  # used without parentheses: @slicing_function
        return super().__new__(cls)

    def __init__(
        self,
        name: str | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        pre: list[Any] | None = None,
    ) -> None:
        self.name = name
        self.resources = resources
        self.pre = pre

    def __call__(self, f: Callable[..., Any]) -> SlicingFunction:
        return SlicingFunction(self.name or f.__name__, f, resources=self.resources, pre=self.pre)


def load_slicing_functions(
    sources: Iterable[str | os.PathLike[str]],
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> list[_SnorkelSF]:
    """Import each module and return its slicing functions, in definition order.

    A module's slicing functions are its module-level :class:`snorkel.slicing.SlicingFunction`
    objects (ours or Snorkel's) and module-level lists/tuples of them. Modules are imported the
    way LF modules are (:func:`labelfns.loading.load_module`): an error while importing names the
    file, line and source line.

    Parameters
    ----------
    sources : iterable of path-like or str
        ``.py`` files (relative to ``base_dir``) or dotted module names.
    base_dir : path-like, optional
        Folder relative paths are resolved against (default: the current directory).

    Raises
    ------
    LabelcycleError
        A module cannot be imported or defines no slicing function.
    SlicingFunctionError
        Two slicing functions share a name.

    Example
    -------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "slices.py").write_text(
    ...     "from analysis.slicing import slicing_function\\n"
    ...     "@slicing_function\\ndef short(x):\\n    return len(x.text) < 20\\n")
    >>> [sf.name for sf in load_slicing_functions([d / "slices.py"])]
    ['short']
    """
    found: list[_SnorkelSF] = []
    seen: set[int] = set()
    for source in sources:
        module = load_module(Path(source) if isinstance(source, os.PathLike) else source,
                             base_dir=base_dir)
        sfs = collect_lfs(module, kind=_SnorkelSF)
        if not sfs:
            raise DataError(f"slicing function module {source} defines no slicing function; "
                            "decorate functions with @slicing_function (from analysis.slicing)")
        for sf in sfs:
            if id(sf) not in seen:
                seen.add(id(sf))
                found.append(sf)
    _check_names(found)
    return found


def project_slicing_functions(
    project: Any,
    extra: Iterable[str | os.PathLike[str]] = (),
) -> list[_SnorkelSF]:
    """A project's slicing functions: those in its LF modules, then those in ``extra`` modules.

    LF modules may hold slicing functions beside the LFs (the LF loader leaves them out); a
    module in ``extra`` must define at least one.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> project_slicing_functions(load_project(init_project(tempfile.mkdtemp())))
    []
    """
    found: list[_SnorkelSF] = []
    seen: set[int] = set()
    for source in project.lf_modules:
        for sf in collect_lfs(load_module(source, base_dir=project.root), kind=_SnorkelSF):
            if id(sf) not in seen:
                seen.add(id(sf))
                found.append(sf)
    extra = list(extra)
    if extra:
        found.extend(sf for sf in load_slicing_functions(extra, base_dir=project.root)
                     if id(sf) not in seen)
    _check_names(found)
    return found


def _check_names(sfs: Sequence[Any]) -> None:
    try:
        check_unique_names(sfs, what="slicing function")
    except LFError as exc:
        raise SlicingFunctionError(exc.detail, sf=exc.lf, hint=exc.hint) from None


def apply_slices(
    sfs: Sequence[Any],
    df: pd.DataFrame,
    *,
    ids: Sequence[Any] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Apply slicing functions to every row of ``df``: one bool column per slicing function.

    Rows are passed as :class:`~weak_supervision.apply.Row` (``x.text`` and ``x["text"]``
    both work), as to row-wise LFs.

    Parameters
    ----------
    sfs : sequence of SlicingFunction
        Slicing functions with unique names (Snorkel's work too; any callable with a ``name``).
    df : pandas.DataFrame
        The rows.
    ids : sequence, optional
        Row ids named in errors (default: ``df.index``).

    Returns
    -------
    pandas.DataFrame
        Bool columns named after the slicing functions, index ``df.index``.

    Raises
    ------
    SlicingFunctionError
        Duplicate names, or a slicing function raised or returned a non-bool on a row: the
        message names the slicing function, the row id and the exception.

    Example
    -------
    >>> import pandas as pd
    >>> sf = SlicingFunction("long", lambda x: len(x.text) > 3)
    >>> apply_slices([sf], pd.DataFrame({"text": ["hi", "hello"]}))["long"].tolist()
    [False, True]
    """
    sfs = list(sfs)
    _check_names(sfs)
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"slicing functions are applied to a DataFrame, got {type(df).__name__}")
    row_ids = list(df.index) if ids is None else list(ids)
    if len(row_ids) != len(df):
        raise DataError(f"{len(row_ids)} ids for {len(df)} rows")
    records = df.to_dict("records")
    out: dict[str, np.ndarray] = {}
    for sf in sfs:
        values = np.zeros(len(records), dtype=bool)
        for i, record in enumerate(records):
            try:
                value = sf(Row(record))
            except SlicingFunctionError as exc:
                if exc.row is not None:
                    raise
                raise SlicingFunctionError(exc.detail, sf=sf.name, row=row_ids[i],
                                           hint=exc.hint) from None
            except Exception as exc:  # noqa: BLE001 - user code may raise anything
                raise SlicingFunctionError(
                    f"raised {type(exc).__name__}: {exc}", sf=sf.name, row=row_ids[i],
                    hint="fix the slicing function, or make it return False on such rows",
                ) from exc
            values[i] = _as_bool(sf.name, value, row_ids[i])
        out[sf.name] = values
    return pd.DataFrame(out, index=df.index, columns=[sf.name for sf in sfs])
