"""Probabilistic training labels: one class distribution per row, from a label model.

Example
-------
>>> import numpy as np
>>> pl = ProbabilisticLabels(ids=np.array(["a", "b"]), probs=np.array([[0.9, 0.1], [0.5, 0.5]]),
...                          labels=("neg", "pos"), source="label_model",
...                          covered=np.array([True, False]))
>>> pl.hard.tolist(), pl.to_frame()["label"].tolist()
([0, -1], ['neg', None])
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from labelfns.errors import DataError
from weak_supervision.label_matrix import LabelMatrix, as_matrix

__all__ = ["ProbabilisticLabels"]

_META_KEY = b"labelcycle.prob_labels"
_FORMAT_VERSION = 1
_SOURCE_NAMES = {"LabelModel": "label_model", "MajorityVote": "majority"}


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class ProbabilisticLabels:
    """Class probabilities of every row, with the row ids and where they came from.

    Parameters
    ----------
    ids : array-like
        Row ids, one per row of ``probs``.
    probs : array-like of float, shape (rows, classes)
        Each row sums to 1.
    labels : sequence of str
        Class names by index; empty means "0", "1", ... (stored that way).
    source : str
        What produced the probabilities ("label_model", "majority", ...).
    covered : array-like of bool, optional
        Rows on which at least one LF voted (default: all). Probabilities of uncovered rows are
        only the class prior, so they get no hard label.

    Example
    -------
    >>> import numpy as np
    >>> pl = ProbabilisticLabels([1, 2], np.array([[0.2, 0.8], [0.6, 0.4]]), ("a", "b"), "x")
    >>> pl.confidence.tolist()
    [0.8, 0.6]
    """

    ids: np.ndarray
    probs: np.ndarray
    labels: tuple[str, ...]
    source: str
    covered: np.ndarray | None = None

    def __post_init__(self) -> None:
        probs = np.array(self.probs, dtype=np.float64)
        if probs.ndim != 2:
            raise DataError(f"probs must be 2-dimensional (rows x classes), got shape {probs.shape}")
        n, k = probs.shape
        ids = np.array(self.ids)
        if ids.ndim != 1 or ids.size != n:
            raise DataError(f"there are {ids.size} ids but {n} rows of probabilities")
        labels = tuple(str(x) for x in self.labels) or tuple(str(i) for i in range(k))
        if len(labels) != k:
            raise DataError(f"{len(labels)} labels given for {k} probability columns")
        if len(set(labels)) != len(labels):
            raise DataError(f"labels must be distinct, got {labels}")
        if n and k:
            if not np.all(np.isfinite(probs)) or probs.min() < -1e-9 or probs.max() > 1 + 1e-9:
                raise DataError("probs must be finite and within [0, 1]")
            sums = probs.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
            if bad.size:
                raise DataError(
                    f"probabilities of row {bad[0]} (id {ids[bad[0]]!r}) sum to {sums[bad[0]]:.6f}, "
                    f"not 1 ({bad.size} row(s) affected)"
                )
        covered = np.ones(n, dtype=bool) if self.covered is None else np.array(self.covered,
                                                                               dtype=bool)
        if covered.shape != (n,):
            raise DataError(f"covered has shape {covered.shape}; expected one flag per row ({n})")
        object.__setattr__(self, "ids", _readonly(ids))
        object.__setattr__(self, "probs", _readonly(probs))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "source", str(self.source))
        object.__setattr__(self, "covered", _readonly(covered))

    @property
    def n_rows(self) -> int:
        return int(self.probs.shape[0])

    @property
    def hard(self) -> np.ndarray:
        """Most probable class index per row (lowest on ties), -1 where no LF voted."""
        out = (np.argmax(self.probs, axis=1) if self.probs.shape[1]
               else np.zeros(self.n_rows, dtype=np.int64)).astype(np.int64)
        out[~self.covered] = -1
        return out

    @property
    def confidence(self) -> np.ndarray:
        """Highest class probability per row."""
        if self.probs.shape[1] == 0:
            return np.zeros(self.n_rows)
        return self.probs.max(axis=1)

    @classmethod
    def from_model(
        cls,
        model: Any,
        L: LabelMatrix | np.ndarray,
        ids: Sequence[Any] | np.ndarray | None = None,
        labels: Sequence[str] | None = None,
        source: str | None = None,
    ) -> ProbabilisticLabels:
        """Probabilities of a fitted label model on ``L``.

        Parameters
        ----------
        model : LabelModel, MajorityVote or LabelModelChoice
            Anything with ``predict_proba(L)`` (a ``LabelModelChoice`` uses its chosen model).
        L : LabelMatrix or array of int
            The votes to label.
        ids, labels : optional
            Default to ``L.ids`` / ``L.labels`` for a LabelMatrix, else ``0..n-1`` / "0", "1"...
        source : str, optional
            Defaults to "label_model" / "majority" from the model's type.

        Returns
        -------
        ProbabilisticLabels

        Example
        -------
        >>> import numpy as np
        >>> from weak_supervision.label_model import MajorityVote
        >>> L = np.array([[0, 0], [-1, -1]])
        >>> pl = ProbabilisticLabels.from_model(MajorityVote(2).fit(L), L, labels=("n", "p"))
        >>> pl.source, pl.covered.tolist()
        ('majority', [True, False])
        """
        if hasattr(model, "chosen") and hasattr(model, "model"):
            source = source if source is not None else str(model.chosen)
            model = model.model
        arr = as_matrix(L)
        if ids is None:
            ids = L.ids if isinstance(L, LabelMatrix) else np.arange(arr.shape[0])
        if labels is None:
            labels = L.labels if isinstance(L, LabelMatrix) else ()
        if source is None:
            source = _SOURCE_NAMES.get(type(model).__name__, type(model).__name__)
        probs = model.predict_proba(L)
        return cls(ids=np.asarray(ids), probs=probs, labels=tuple(labels), source=source,
                   covered=(arr != -1).any(axis=1))

    def to_frame(self) -> pd.DataFrame:
        """One row per id: ``id``, ``proba_<label>`` per class, ``label`` (None where not covered),
        ``confidence``, ``covered``.

        >>> import numpy as np
        >>> ProbabilisticLabels(["x"], np.array([[0.3, 0.7]]), ("a", "b"), "s").to_frame().columns.tolist()
        ['id', 'proba_a', 'proba_b', 'label', 'confidence', 'covered']
        """
        hard = self.hard
        names = np.array(self.labels + (None,), dtype=object)
        data: dict[str, Any] = {"id": self.ids}
        for i, lab in enumerate(self.labels):
            data[f"proba_{lab}"] = self.probs[:, i]
        data["label"] = pd.Series(names[hard], dtype=object)
        data["confidence"] = self.confidence
        data["covered"] = self.covered
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (not the probabilities themselves).

        >>> import numpy as np
        >>> ProbabilisticLabels(["x"], np.array([[0.3, 0.7]]), ("a", "b"), "s").to_dict()["class_counts"]
        {'a': 0, 'b': 1}
        """
        hard = self.hard
        counts = np.bincount(hard[hard >= 0], minlength=len(self.labels))
        return {
            "n_rows": self.n_rows,
            "labels": list(self.labels),
            "source": self.source,
            "coverage": float(self.covered.mean()) if self.n_rows else 0.0,
            "mean_confidence": float(self.confidence[self.covered].mean())
            if self.covered.any() else 0.0,
            "class_counts": {lab: int(c) for lab, c in zip(self.labels, counts, strict=True)},
        }

    def write_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_frame` to ``path`` atomically (no partial file is left on failure).

        Labels and source go into the file's metadata so :meth:`read_parquet` restores them.

        >>> import numpy as np, tempfile, os
        >>> pl = ProbabilisticLabels(["x"], np.array([[0.3, 0.7]]), ("a", "b"), "s")
        >>> with tempfile.TemporaryDirectory() as d:
        ...     ProbabilisticLabels.read_parquet(pl.write_parquet(os.path.join(d, "p.parquet"))).labels
        ('a', 'b')
        """
        target = Path(path)
        if not target.parent.is_dir():
            raise DataError(f"cannot write {target}: folder {target.parent} does not exist")
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_META_KEY] = json.dumps({"labels": list(self.labels), "source": self.source,
                                      "version": _FORMAT_VERSION}).encode()
        table = table.replace_schema_metadata(meta)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target

    @classmethod
    def read_parquet(cls, path: str | os.PathLike[str]) -> ProbabilisticLabels:
        """Read a file written by :meth:`write_parquet`, or a folder of such files (one per
        partition, read in name order).

        Files without labelcycle metadata work too when they have ``id``, ``proba_<label>``
        (in class order) and ``covered`` columns.

        >>> ProbabilisticLabels.read_parquet("missing.parquet")
        Traceback (most recent call last):
        labelfns.errors.DataError: probabilistic labels file missing.parquet does not exist
        """
        source_path = Path(path)
        parts = sorted(source_path.glob("*.parquet")) if source_path.is_dir() else [source_path]
        if not source_path.exists() or not parts:
            raise DataError(f"probabilistic labels file {source_path} does not exist")
        try:
            # a folder holds one file per partition (the stream and Dask engines), in row order
            tables = [pq.read_table(p) for p in parts]
            table = tables[0] if len(tables) == 1 else pa.concat_tables(
                [t.replace_schema_metadata(tables[0].schema.metadata) for t in tables])
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read {source_path} as parquet: {exc}") from None
        raw = (table.schema.metadata or {}).get(_META_KEY)
        meta = json.loads(raw) if raw else {}
        names = table.column_names
        labels = tuple(meta.get("labels") or [c[len("proba_"):] for c in names
                                              if c.startswith("proba_")])
        needed = ["id", *(f"proba_{lab}" for lab in labels)]
        missing = [c for c in needed if c not in names]
        if missing or not labels:
            raise DataError(f"{source_path} lacks column(s) {missing or ['proba_<label>']}; "
                            "expected id, proba_<label> per class, covered")
        n = table.num_rows
        probs = np.column_stack(
            [table.column(f"proba_{lab}").to_numpy(zero_copy_only=False) for lab in labels]
        ) if n else np.zeros((0, len(labels)))
        covered = (table.column("covered").to_numpy(zero_copy_only=False).astype(bool)
                   if "covered" in names else None)
        return cls(ids=table.column("id").to_numpy(zero_copy_only=False), probs=probs,
                   labels=labels, source=str(meta.get("source", source_path.stem)),
                   covered=covered)
