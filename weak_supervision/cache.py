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
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["LFCache", "row_hashes"]

_FORMAT = "v1"


def row_hashes(df: pd.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """A stable 64-bit content hash per row of ``df[columns]`` (all columns by default).

    Column names and order are part of the hash.

    >>> import pandas as pd
    >>> a = row_hashes(pd.DataFrame({"t": ["x", "y"]}))
    >>> b = row_hashes(pd.DataFrame({"u": ["x", "y"]}))
    >>> bool((a == b).any())
    False
    """
    cols = list(df.columns if columns is None else columns)
    key = hashlib.sha256(("\x1f".join(map(str, cols)) + _FORMAT).encode()).hexdigest()[:16]
    if not cols:
        return np.zeros(len(df), dtype=np.uint64)
    frame = df[cols]
    # Hash every column as object text so that dtype inference (int vs str) does not change keys.
    frame = frame.astype(object).where(frame.notna(), None)
    return pd.util.hash_pandas_object(frame, index=False, hash_key=key).to_numpy(np.uint64)


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

    def lookup(self, lf_fingerprint: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cached votes for ``hashes`` and a mask of which were found (votes are -1 elsewhere)."""
        keys, votes = self._load(lf_fingerprint)
        out = np.full(len(hashes), -1, dtype=np.int16)
        if len(keys) == 0 or len(hashes) == 0:
            return out, np.zeros(len(hashes), dtype=bool)
        pos = np.searchsorted(keys, hashes)
        pos[pos >= len(keys)] = 0
        found = keys[pos] == hashes
        out[found] = votes[pos[found]]
        return out, found

    def store(self, lf_fingerprint: str, hashes: np.ndarray, votes: np.ndarray) -> None:
        """Add votes for ``hashes`` (new values win over old ones for the same hash)."""
        if len(hashes) == 0:
            return
        old_keys, old_votes = self._load(lf_fingerprint)
        keys = np.concatenate([np.asarray(hashes, np.uint64), old_keys])
        vals = np.concatenate([np.asarray(votes, np.int16), old_votes])
        keys, first = np.unique(keys, return_index=True)
        vals = vals[first]
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
