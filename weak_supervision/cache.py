"""Content-addressed cache of LF votes.

The key of one vote is (the LF's fingerprint, the content hash of the row's columns that the LF
reads). So re-running after adding or editing one LF recomputes only that LF's column, and changing
rows of the data recomputes exactly those rows, for every LF. One file per LF fingerprint holds sorted
row hashes and votes; writes are atomic.

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

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["LFCache", "RowIndex", "row_hashes"]

_FORMAT = "v2"


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


@dataclass(frozen=True)
class RowIndex:
    """Row hashes prepared once for many cache look-ups: sorted unique hashes and, per row, the
    position of its hash among them."""

    unique: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, hashes: np.ndarray) -> RowIndex:
        unique, inverse = np.unique(np.asarray(hashes, np.uint64), return_inverse=True)
        return cls(unique, inverse.reshape(-1))


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
        return self.directory / lf_fingerprint[:2] / f"{lf_fingerprint}.npz"

    def _load(self, lf_fingerprint: str) -> tuple[np.ndarray, np.ndarray]:
        path = self._path(lf_fingerprint)
        if not path.is_file():
            return np.zeros(0, np.uint64), np.zeros(0, np.int16)
        try:
            with np.load(path) as data:
                return data["h"], data["v"]
        except Exception:  # noqa: BLE001 - a damaged cache file is a miss, never an error
            return np.zeros(0, np.uint64), np.zeros(0, np.int16)

    def lookup(self, lf_fingerprint: str, rows: np.ndarray | RowIndex) -> tuple[np.ndarray, np.ndarray]:
        """Cached votes for the rows (hashes or a :class:`RowIndex`) and a mask of which were
        found; votes are -1 elsewhere."""
        index = rows if isinstance(rows, RowIndex) else RowIndex.of(rows)
        keys, votes = self._load(lf_fingerprint)
        n = len(index.inverse)
        if len(keys) == 0 or n == 0:
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
        fresh = np.flatnonzero(present)  # sorted, like index.unique (np.unique would be slower)
        keys, vals = index.unique[fresh], per_unique[fresh]
        old_keys, old_votes = self._load(lf_fingerprint)
        if len(old_keys):
            keep = ~np.isin(old_keys, keys, assume_unique=True)
            keys = np.concatenate([keys, old_keys[keep]])
            vals = np.concatenate([vals, old_votes[keep]])
            order = np.argsort(keys, kind="stable")
            keys, vals = keys[order], vals[order]
        self._write(lf_fingerprint, keys, vals)

    def _write(self, lf_fingerprint: str, keys: np.ndarray, vals: np.ndarray) -> None:
        path = self._path(lf_fingerprint)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, h=keys, v=vals)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> int:
        """Delete every cached file; returns how many were removed."""
        n = 0
        if self.directory.is_dir():
            for p in self.directory.glob("*/*.npz"):
                p.unlink()
                n += 1
        return n
