"""The label matrix: the votes of every LF on every row.

Example
-------
>>> import numpy as np
>>> lm = LabelMatrix(ids=np.array(["a", "b"]), lf_names=("lf1", "lf2"),
...                  L=np.array([[0, -1], [1, 1]]), labels=("neg", "pos"))
>>> lm.coverage().tolist()
[1.0, 0.5]
>>> int(lm.to_frame().loc["a", "lf1"])
0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ABSTAIN = -1


@dataclass(frozen=True)
class LabelMatrix:
    """Votes of ``len(lf_names)`` LFs on ``len(ids)`` rows; ``-1`` means abstain.

    Attributes
    ----------
    ids : numpy.ndarray
        Row ids, in the order of the rows of ``L``.
    lf_names : tuple of str
        LF names, in the order of the columns of ``L``.
    L : numpy.ndarray of int, shape (n_rows, n_lfs)
        Class indices into ``labels``, or -1 (abstain).
    labels : tuple of str
        The label set (class names by index); empty when unknown.
    faults : Mapping[str, int]
        Per LF, how many rows raised an exception (recorded as abstain in fault-tolerant mode).
    cached : Mapping[str, int]
        Per LF, how many rows came from the cache instead of being computed.
    """

    ids: np.ndarray
    lf_names: tuple[str, ...]
    L: np.ndarray
    labels: tuple[str, ...] = ()
    faults: Mapping[str, int] = field(default_factory=dict)
    cached: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.L.ndim != 2:
            raise ValueError(f"L must be 2-dimensional, got shape {self.L.shape}")
        if self.L.shape != (len(self.ids), len(self.lf_names)):
            raise ValueError(
                f"L has shape {self.L.shape} but there are {len(self.ids)} ids and "
                f"{len(self.lf_names)} LF names"
            )

    @property
    def n_rows(self) -> int:
        return int(self.L.shape[0])

    @property
    def n_lfs(self) -> int:
        return int(self.L.shape[1])

    def coverage(self) -> np.ndarray:
        """Fraction of rows on which each LF votes."""
        if self.n_rows == 0:
            return np.zeros(self.n_lfs)
        return (self.L != ABSTAIN).mean(axis=0)

    def covered(self) -> np.ndarray:
        """Boolean mask of rows on which at least one LF votes."""
        return (self.L != ABSTAIN).any(axis=1)

    def rows(self, mask: np.ndarray) -> LabelMatrix:
        """The same matrix restricted to the rows selected by ``mask`` (bool or indices)."""
        return LabelMatrix(self.ids[mask], self.lf_names, self.L[mask], self.labels,
                           dict(self.faults), dict(self.cached))

    def to_frame(self) -> pd.DataFrame:
        """The votes as a DataFrame indexed by id, one column per LF."""
        return pd.DataFrame(self.L, index=pd.Index(self.ids, name="id"), columns=list(self.lf_names))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (shape, coverage, faults); not the votes themselves."""
        return {
            "n_rows": self.n_rows,
            "n_lfs": self.n_lfs,
            "lf_names": list(self.lf_names),
            "labels": list(self.labels),
            "coverage": float(self.covered().mean()) if self.n_rows else 0.0,
            "faults": {k: int(v) for k, v in self.faults.items() if v},
        }


def as_matrix(L: LabelMatrix | np.ndarray) -> np.ndarray:
    """The plain int matrix of a :class:`LabelMatrix` or array-like, validated.

    >>> as_matrix([[0, -1], [1, 2]]).dtype.kind
    'i'
    """
    arr = L.L if isinstance(L, LabelMatrix) else np.asarray(L)
    if arr.ndim != 2:
        raise ValueError(f"a label matrix must be 2-dimensional (rows x LFs), got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"a label matrix holds integer class indices, got dtype {arr.dtype}")
    if arr.size and arr.min() < ABSTAIN:
        raise ValueError(f"a label matrix holds -1 (abstain) or class indices >= 0, found {arr.min()}")
    return arr.astype(np.int64, copy=False)
