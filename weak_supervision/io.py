"""Reading tables and writing files safely.

Tables are read by suffix: CSV (``.csv``), JSON Lines (``.jsonl``, ``.ndjson``) and Parquet
(``.parquet``, ``.pq``). Every problem a user can cause raises :class:`~labelfns.errors.DataError`
with a message naming the file and, where it applies, the line, byte offset or column.

CSV cells are read as text exactly as written: an empty cell is ``""`` (never ``NaN``) and strings
such as ``"NA"``, ``"null"`` or ``"007"`` are kept. A column is then turned into numbers only when
every non-empty cell is a plain number without leading zeros (``3``, ``-1.5``, ``2e3``): ``int64``
when no cell is empty, else ``float64`` with ``NaN`` for the empty cells. Columns named in
``text_columns`` always stay text. JSONL and Parquet keep the types their files hold.

Writes go to a temporary file in the target's folder that replaces the target only once it is
complete (:func:`atomic_write`), so a crash never leaves a half-written file.

Example
-------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text(folder / "t.csv", "id,text,stars\\n1,Great!,5\\n2,,3\\n")
>>> df = read_table(folder / "t.csv", columns=["text"])
>>> df["text"].tolist(), df["stars"].tolist()
(['Great!', ''], [5, 3])
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "read_table",
    "atomic_write",
    "write_text",
    "write_json",
    "json_default",
    "fingerprint_frame",
]

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""File suffix -> format read by :func:`read_table`."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LEADING_ZERO = re.compile(r"[+-]?0\d")


def read_table(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    text_columns: Collection[str] = (),
    what: str = "data file",
) -> pd.DataFrame:
    """Read a CSV, JSONL or Parquet file into a DataFrame with a fresh ``RangeIndex``.

    Parameters
    ----------
    path : path-like
        The file; its suffix chooses the format (see :data:`SUPPORTED_SUFFIXES`).
    columns : sequence of str, optional
        Columns that must be present; all columns are returned either way.
    text_columns : collection of str, optional
        CSV columns never converted to numbers (ids, labels, text).
    what : str, default "data file"
        How the file is called in error messages ("dev file", ...).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        Unsupported suffix, missing file, bytes that are not UTF-8, a malformed CSV or JSONL line,
        a table without rows, or a required column that is absent.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> write_text(p, '{"text": "hi", "n": 1}\\n\\n{"text": "yo", "n": 2}\\n')
    >>> read_table(p, columns=["text"]).to_dict("list")
    {'text': ['hi', 'yo'], 'n': [1, 2]}
    """
    path = Path(path)
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise DataError(
            f"{what} {path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
            f"use one of {supported}"
        )
    if not path.is_file():
        raise DataError(_missing_message(path, what))
    if fmt == "parquet":
        df = _read_parquet(path, what)
    else:
        text = _read_utf8(path, what)
        df = _read_csv(text, path, what, text_columns) if fmt == "csv" else _read_jsonl(
            text, path, what
        )
    if len(df) == 0:
        raise DataError(f"{what} {path} has no rows; add at least one row below the header")
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise DataError(
                f"{what} {path} has no column {', '.join(map(repr, missing))}; "
                f"available columns: {', '.join(map(str, df.columns))}"
            )
    return df.reset_index(drop=True)


def _missing_message(path: Path, what: str) -> str:
    message = f"{what} not found: {path}"
    if path.parent.is_dir():
        names = [p.name for p in path.parent.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES]
        close = difflib.get_close_matches(path.name, names, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message


def _read_utf8(path: Path, what: str) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{what} {path} is not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line}, "
            f"byte offset {exc.start}; re-encode the file as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
        ) from None
    return text.removeprefix("\ufeff")


def _read_csv(text: str, path: Path, what: str, text_columns: Collection[str]) -> pd.DataFrame:
    if not text.strip():
        raise DataError(f"{what} {path} is empty; it needs a header line and at least one row")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"{what} {path} is not a valid CSV file: {exc}") from None
    keep = set(text_columns)
    for name in df.columns:
        if name not in keep:
            df[name] = _maybe_numeric(df[name])
    return df


def _maybe_numeric(col: pd.Series) -> pd.Series:
    """The column as numbers if every non-empty cell is a plain number, else unchanged."""
    values = col.astype(str)
    filled = values[values != ""]
    if filled.empty or not filled.str.fullmatch(_NUMBER.pattern).all():
        return col
    if filled.str.match(_LEADING_ZERO.pattern).any():
        return col
    numbers = pd.to_numeric(values.where(values != "", None), errors="coerce")
    if numbers.dtype.kind not in "if":
        return col
    if not filled.str.fullmatch(r"[+-]?\d+").all():
        return numbers.astype(np.float64)
    if len(filled) == len(values) and numbers.dtype.kind == "i":
        return numbers.astype(np.int64)
    if numbers.dtype.kind == "f" and (numbers.dropna().abs() < 2**53).all():
        return numbers  # integers with empty cells: float64 with NaN
    return col  # integers too large for int64 / float64: keep them exact, as text


def _read_jsonl(text: str, path: Path, what: str) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{what} {path}: line {lineno} is not valid JSON ({exc.msg} at column "
                f"{exc.colno}); each line must hold one JSON object"
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f"{what} {path}: line {lineno} holds a JSON {type(record).__name__}, "
                "not an object; each line must hold one JSON object like {\"text\": \"...\"}"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise DataError(f"{what} {path} cannot be read as Parquet: {exc}") from None


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` that replaces ``path`` when the block succeeds.

    On an exception the temporary file is removed and ``path`` is left as it was. The folder of
    ``path`` must exist.

    Parameters
    ----------
    path : path-like
        The file to (over)write.
    mode : {"w", "wb"}, default "w"
        Text or binary.
    encoding : str or None, default "utf-8"
        Encoding in text mode; ignored in binary mode.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(p) as fh:
    ...     _ = fh.write("done\\n")
    >>> p.read_text()
    'done\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with open(fd, mode, encoding=None if "b" in mode else encoding,
                  newline=None if "b" in mode else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_text(p, "x"); p.read_text()
    'x'
    """
    with atomic_write(path) as fh:
        fh.write(text)


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON (UTF-8, trailing newline) to ``path`` atomically.

    NumPy scalars and arrays, paths, sets and tuples are converted to plain JSON values.

    >>> import pathlib, tempfile, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> write_json(p, {"n": np.int64(3), "f": pathlib.Path("x")}); p.read_text()
    '{\\n  "n": 3,\\n  "f": "x"\\n}\\n'
    """
    text = json.dumps(obj, indent=indent, ensure_ascii=False, default=json_default)
    write_text(path, text + "\n")


def json_default(value: Any) -> Any:
    """``json.dumps`` hook: NumPy scalars and arrays, paths and sets as plain JSON values.

    >>> json.dumps({"n": np.int64(2), "s": {2, 1}}, default=json_default)
    '{"n": 2, "s": [1, 2]}'
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _hash_columns(df: pd.DataFrame) -> np.ndarray:
    """Per-row uint64 content hashes of ``df`` (values only, not the index)."""
    try:
        return pd.util.hash_pandas_object(df, index=False).to_numpy(np.uint64)
    except TypeError:  # unhashable cells (lists, dicts from JSONL): hash their JSON text
        safe = df.copy()
        for name in safe.columns:
            if safe[name].dtype == object:
                safe[name] = safe[name].map(
                    lambda v: json.dumps(v, sort_keys=True, default=json_default)
                    if isinstance(v, (list, dict, tuple))
                    else v
                )
        return pd.util.hash_pandas_object(safe, index=False).to_numpy(np.uint64)


def fingerprint_frame(df: pd.DataFrame) -> str:
    """SHA-256 hex digest of a DataFrame's column names and values (not its index).

    Stable across runs and processes; changing any cell, or renaming or reordering a column,
    changes it.

    >>> a = pd.DataFrame({"text": ["x", "y"]})
    >>> fingerprint_frame(a) == fingerprint_frame(a.copy()), len(fingerprint_frame(a))
    (True, 64)
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in df.columns]).encode("utf-8"))
    digest.update(str(len(df)).encode("ascii"))
    if len(df.columns) and len(df):
        digest.update(_hash_columns(df).astype("<u8").tobytes())
    return digest.hexdigest()


