"""Content-addressed cache of LF votes.

The key of one vote is (the LF's fingerprint, the content hash of the row's columns that the LF
reads). So re-running after adding or editing one LF recomputes only that LF's column, and changing
rows of the data recomputes exactly those rows, for every LF. One file per LF fingerprint holds sorted
row hashes and votes; writes are atomic (a temporary file, then ``os.replace``), so processes writing
different LFs' files at once never see each other's half-written files.

File format 3 (``<fp[:2]>/<fp>.v3``): the magic ``LCV3``, a little-endian uint32 header length, a
JSON header ``{"n": rows, "digest": sha1 of the keys}``, then ``n`` uint64 row hashes (sorted) and
``n`` int16 votes. When the rows asked for have the same key digest, only the votes are read.
When a store covered every row of its :class:`RowIndex`, the header also holds ``"order"`` (that
index's :attr:`RowIndex.order`) and ``"rows"``, and the votes in row order follow: a look-up with
the same rows in the same order reads them as they are (no gather by row). Files of older
formats are ignored. The word indexes of text columns
(:mod:`weak_supervision.word_index`) live under ``words/``; :meth:`LFCache.clear` removes them too.

Row hashes of pyarrow-backed columns (pandas' default ``str`` columns, which are immutable) are
memoised per column object in this process, so re-running on the same DataFrame skips hashing.

Example
-------
>>> import numpy as np, tempfile
>>> cache = LFCache(tempfile.mkdtemp())
>>> cache.store("ab" * 32, np.array([5, 7], dtype=np.uint64), np.array([1, -1]))
>>> votes, found = cache.lookup("ab" * 32, np.array([7, 9], dtype=np.uint64))
>>> votes.tolist(), found.tolist()
([-1, -1], [True, False])
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = ["LFCache", "RowIndex", "row_hashes", "row_index", "memoised"]

T = TypeVar("T")

_FORMAT = "v2"  # salt of the row hashes (kept: hashes stay stable across releases)
_FILE_VERSION = 3
_MAGIC = b"LCV3"
_SUFFIX = ".v3"


def row_hashes(df: pd.DataFrame, columns: Sequence[str] | None = None, *,
               memo: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """A stable 64-bit content hash per row of ``df[columns]`` (all columns by default).

    Column names and order are part of the hash. Each column is hashed once (salted with its
    name) and the columns are mixed in order; ``memo`` keeps per-column hashes between calls
    on the same frame.

    >>> import pandas as pd
    >>> a = row_hashes(pd.DataFrame({"t": ["x", "y"]}))
    >>> b = row_hashes(pd.DataFrame({"u": ["x", "y"]}))
    >>> bool((a == b).any())
    False
    """
    cols = list(df.columns if columns is None else columns)
    out = np.full(len(df), 0x9E3779B97F4A7C15, dtype=np.uint64)
    for col in cols:
        name = str(col)
        h = memo.get(name) if memo is not None else None
        if h is None:
            h = _column_hash(df[col], name)
            if memo is not None:
                memo[name] = h
        with np.errstate(over="ignore"):
            out = (out ^ h) * np.uint64(0x100000001B3) + np.uint64(0x632BE59BD9B4E019)
    return out


def _column_hash(column: pd.Series, name: str) -> np.ndarray:
    key = hashlib.sha256((name + "\x1f" + _FORMAT).encode()).hexdigest()[:16]
    try:
        hashed = pd.util.hash_pandas_object(column, index=False, hash_key=key)
    except TypeError:  # unhashable cells (lists, dicts: e.g. gold spans): hash their JSON text
        hashed = pd.util.hash_pandas_object(column.map(_cell_text), index=False, hash_key=key)
    return hashed.to_numpy(np.uint64)


def _cell_text(value: object) -> object:
    if isinstance(value, (list, dict, tuple, set, np.ndarray)):
        return json.dumps(value, sort_keys=True, default=str) if not isinstance(value, np.ndarray) \
            else json.dumps(value.tolist(), default=str)
    return value


def _immutable_token(column: pd.Series) -> Any | None:
    """The pyarrow array behind a column, or None (numpy-backed columns can change in place)."""
    array = column.array
    to_arrow = getattr(array, "__arrow_array__", None)
    if to_arrow is None or type(array).__module__.split(".")[0] != "pandas":
        return None
    try:
        import pyarrow as pa

        data = to_arrow()
        return data if isinstance(data, (pa.ChunkedArray, pa.Array)) else None
    except Exception:  # noqa: BLE001 - no memo, compute as usual
        return None


class _ColumnMemo:
    """Values derived from immutable (pyarrow-backed) columns, kept while those arrays live:
    a weak reference to each array drops the entry when the array goes. Least recently used
    entries go first beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[tuple[weakref.ref[Any], ...], Any]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, columns: list[pd.Series], compute: Callable[[], T]) -> T | None:
        """``compute()``, memoised per (kind, arrays); None when a column is not immutable."""
        tokens = [_immutable_token(c) for c in columns]
        if not tokens or any(t is None for t in tokens):
            return None
        key = (kind, len(columns[0]), *map(id, tokens))
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and all(r() is t for r, t in zip(hit[0], tokens, strict=True)):
                self._items.move_to_end(key)
                return hit[1]
        value = compute()

        def forget(_ref: Any, key: tuple[Any, ...] = key) -> None:
            with self._lock:
                self._items.pop(key, None)

        refs = tuple(weakref.ref(t, forget) for t in tokens)
        with self._lock:
            self._items[key] = (refs, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_ROW_INDEXES = _ColumnMemo(32)  # row indexes and per-column hashes
_FOLDED = _ColumnMemo(4)  # folded texts are as large as the column: keep few


def memoised(column: pd.Series, kind: str, compute: Callable[[], T]) -> T | None:
    """``compute()`` (something derived from ``column`` only), memoised while the column's
    immutable pyarrow array lives; ``None`` for other columns (the caller computes as usual).

    >>> import pandas as pd
    >>> col = pd.Series(["a", "b"], dtype="string[pyarrow]")
    >>> memoised(col, "upper", lambda: col.str.upper().tolist())
    ['A', 'B']
    >>> memoised(pd.Series(["a"], dtype=object), "upper", lambda: 1) is None
    True
    """
    return _FOLDED.get(kind, [column], compute)


def row_index(df: pd.DataFrame, columns: Sequence[str] | None = None) -> RowIndex:
    """The :class:`RowIndex` of ``row_hashes(df, columns)``, memoised for immutable columns.

    When every column is backed by a pyarrow array (immutable: pandas replaces the array on any
    edit), the index is kept per (columns, arrays) while those arrays are alive, so re-running on
    the same DataFrame does not hash its rows again.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": pd.array(["x", "y", "x"], dtype="string[pyarrow]")})
    >>> row_index(df, ["t"]) is row_index(df, ["t"])
    True
    >>> len(row_index(df, ["t"]).unique)
    2
    """
    cols = list(df.columns if columns is None else columns)

    def compute() -> RowIndex:
        memo: dict[str, np.ndarray] = {}  # each column is hashed once for every set it is in
        for c in cols:
            h = _ROW_INDEXES.get("hash:" + str(c), [df[c]],
                                 lambda c=c: _column_hash(df[c], str(c)))  # type: ignore[misc]
            if h is not None:
                memo[str(c)] = h
        return RowIndex.of(row_hashes(df, cols, memo=memo))

    index = _ROW_INDEXES.get("rows:" + "\x1f".join(map(str, cols)), [df[c] for c in cols], compute)
    return index if index is not None else compute()


@dataclass(frozen=True)
class RowIndex:
    """Row hashes prepared once for many cache look-ups: sorted unique hashes and, per row, the
    position of its hash among them."""

    unique: np.ndarray
    inverse: np.ndarray
    digest: str = field(default="", compare=False)  # sha1 of ``unique`` (filled in when empty)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", _digest(self.unique))

    @functools.cached_property
    def order(self) -> str:
        """sha1 of the row hashes in row order (the unique hashes' digest and ``inverse``)."""
        h = hashlib.sha1(self.digest.encode())
        h.update(np.ascontiguousarray(self.inverse, dtype="<i8").tobytes())
        return h.hexdigest()

    @classmethod
    def of(cls, hashes: np.ndarray) -> RowIndex:
        unique, inverse = np.unique(np.asarray(hashes, np.uint64), return_inverse=True)
        return cls(unique, inverse.reshape(-1))


def _digest(keys: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(keys, dtype="<u8").tobytes()).hexdigest()


class LFCache:
    """Votes per (LF fingerprint, row hash), stored under ``directory``.

    Parameters
    ----------
    directory : path
        Usually ``<project>/.labelcycle/cache``; created on first write.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, lf_fingerprint: str) -> Path:
        return self.directory / lf_fingerprint[:2] / f"{lf_fingerprint}{_SUFFIX}"

    def _load(self, lf_fingerprint: str, index: RowIndex | None = None
              ) -> tuple[np.ndarray | None, np.ndarray, bool]:
        """(keys, votes, in row order) stored for an LF. With ``index``: the votes of its rows
        in row order (keys None) when the file has them; else keys None (not read) when their
        digest is the index's. A missing or damaged file gives no rows."""
        empty = np.zeros(0, np.uint64), np.zeros(0, np.int16), False
        try:
            with open(self._path(lf_fingerprint), "rb") as fh:
                head = fh.read(8)
                if len(head) != 8 or head[:4] != _MAGIC:
                    return empty
                header = json.loads(fh.read(struct.unpack("<I", head[4:])[0]))
                n = int(header["n"])
                if index is not None and header.get("order") == index.order \
                        and header.get("rows") == len(index.inverse):
                    fh.seek(10 * n, os.SEEK_CUR)  # past the keys and votes
                    rows = len(index.inverse)
                    votes = np.fromfile(fh, dtype="<i2", count=rows).astype(np.int16, copy=False)
                    return (None, votes, True) if len(votes) == rows else empty
                if index is not None and header.get("digest") == index.digest:
                    fh.seek(8 * n, os.SEEK_CUR)
                    keys = None
                else:
                    keys = np.fromfile(fh, dtype="<u8", count=n).astype(np.uint64, copy=False)
                votes = np.fromfile(fh, dtype="<i2", count=n).astype(np.int16, copy=False)
                if len(votes) != n or (keys is not None and len(keys) != n):
                    return empty
                return keys, votes, False
        except FileNotFoundError:
            return empty
        except Exception:  # noqa: BLE001 - a damaged cache file is a miss, never an error
            return empty

    def lookup(self, lf_fingerprint: str, rows: np.ndarray | RowIndex) -> tuple[np.ndarray, np.ndarray]:
        """Cached votes for the rows (hashes or a :class:`RowIndex`) and a mask of which were
        found; votes are -1 elsewhere."""
        index = rows if isinstance(rows, RowIndex) else RowIndex.of(rows)
        keys, votes, in_order = self._load(lf_fingerprint, index)
        n = len(index.inverse)
        if in_order:
            return votes, np.ones(n, dtype=bool)
        if keys is None and len(votes) == len(index.unique):  # the very same rows
            return votes[index.inverse], np.ones(n, dtype=bool)
        if keys is None or len(keys) == 0 or n == 0:
            return np.full(n, -1, dtype=np.int16), np.zeros(n, dtype=bool)
        if len(keys) == len(index.unique) and np.array_equal(keys, index.unique):
            return votes[index.inverse].astype(np.int16), np.ones(n, dtype=bool)  # same rows
        pos = np.searchsorted(keys, index.unique)
        pos[pos >= len(keys)] = 0
        found_u = keys[pos] == index.unique
        votes_u = np.where(found_u, votes[pos], -1).astype(np.int16)
        return votes_u[index.inverse], found_u[index.inverse]

    def store(self, lf_fingerprint: str, rows: np.ndarray | RowIndex, votes: np.ndarray,
              mask: np.ndarray | None = None) -> None:
        """Add the votes of the rows selected by ``mask`` (all by default); new values win."""
        index = rows if isinstance(rows, RowIndex) else RowIndex.of(rows)
        votes = np.asarray(votes, np.int16)
        if mask is None:
            mask = np.ones(len(index.inverse), dtype=bool)
        if not mask.any():
            return
        per_unique = np.full(len(index.unique), -1, dtype=np.int16)
        per_unique[index.inverse[mask]] = votes[mask]
        present = np.zeros(len(index.unique), dtype=bool)
        present[index.inverse[mask]] = True
        digest = None
        in_order = None  # every row of the index: its votes in row order are stored too
        if present.all():
            keys, vals, digest = index.unique, per_unique, index.digest
            in_order = per_unique[index.inverse]
        else:
            fresh = np.flatnonzero(present)  # sorted, like index.unique (np.unique would be slower)
            keys, vals = index.unique[fresh], per_unique[fresh]
        old_keys, old_votes, _ = self._load(lf_fingerprint)
        if len(old_keys):
            keep = ~np.isin(old_keys, keys, assume_unique=True)
            if keep.any():
                keys = np.concatenate([keys, old_keys[keep]])
                vals = np.concatenate([vals, old_votes[keep]])
                order = np.argsort(keys, kind="stable")
                keys, vals, digest = keys[order], vals[order], None
        self._write(lf_fingerprint, keys, vals, digest or _digest(keys),
                    None if in_order is None else (index.order, in_order))

    def _write(self, lf_fingerprint: str, keys: np.ndarray, vals: np.ndarray, digest: str,
               in_order: tuple[str, np.ndarray] | None = None) -> None:
        path = self._path(lf_fingerprint)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": _FILE_VERSION, "n": len(keys), "digest": digest}
        if in_order is not None:
            meta.update(order=in_order[0], rows=len(in_order[1]))
        header = json.dumps(meta).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + struct.pack("<I", len(header)) + header)
                fh.write(np.ascontiguousarray(keys, dtype="<u8").tobytes())
                fh.write(np.ascontiguousarray(vals, dtype="<i2").tobytes())
                if in_order is not None:
                    fh.write(np.ascontiguousarray(in_order[1], dtype="<i2").tobytes())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> int:
        """Delete every cached file (votes, and the word indexes of
        :mod:`weak_supervision.word_index`); returns how many were removed."""
        n = 0
        if self.directory.is_dir():
            for pattern in ("*/*.npz", f"*/*{_SUFFIX}", "words/*/*.w2", "words/*/*.w3"):  # older too
                for p in self.directory.glob(pattern):
                    p.unlink(missing_ok=True)
                    n += 1
        return n
