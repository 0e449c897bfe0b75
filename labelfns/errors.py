"""The project's exception types.

Every error a user can cause is a :class:`LabelcycleError`; the CLI turns it into a clean message
with exit status 1. Messages name the file, row, column or labeling function involved and say what
to do about it.

Example
-------
>>> from labelfns.errors import LFError
>>> str(LFError("returned 'dgo'", lf="kw_dog", hint="use one of: cat, dog"))
"LF 'kw_dog': returned 'dgo'. use one of: cat, dog"
"""

from __future__ import annotations


class LabelcycleError(Exception):
    """Base class of every error caused by user input (data, config, LF code)."""


class ConfigError(LabelcycleError):
    """A project configuration (``labelcycle.toml``) or an option is invalid."""


class DataError(LabelcycleError):
    """An input file or table cannot be used: missing, unreadable, empty, missing a column."""


class LFError(LabelcycleError):
    """A labeling function is invalid or failed; the message names the LF (and row, if any)."""

    def __init__(self, message: str, *, lf: str, row: object = None, hint: str | None = None):
        self.lf = lf
        self.row = row
        self.hint = hint
        self.detail = message
        where = f"LF {lf!r}" + (f" on row {row!r}" if row is not None else "")
        text = f"{where}: {message}"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` (scikit-learn's convention)."""
