"""Label inputs larger than memory, one partition at a time.

The input files (CSV, JSONL or Parquet; a glob of files is read in name order) are cut into
partitions of about ``chunk_rows`` rows without reading them whole: Parquet by row groups, CSV and
JSONL by byte ranges that end on a record boundary (a CSV newline outside quotes). Each partition
is read on its own with pyarrow, so the same plan runs in this process (:class:`LocalRunner`, the
streaming engine) or on Dask workers (:mod:`weak_supervision.dask_engine`), with the same result.

Per partition, :func:`apply_partition` builds what LFs see (like
:func:`weak_supervision.project.load_project`: hidden gold columns, ``text`` from the text
columns), applies the LFs through :func:`weak_supervision.apply.apply_lfs` with a cache of its
own, writes the votes as one Parquet file and returns the partition's label statistics
(:class:`~weak_supervision.label_stats.LabelStats`). After the label model is fitted,
:func:`predict_partition` writes the partition's probabilistic labels.

Example
-------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
>>> _ = p.write_text("id,text\\n" + "".join(f'{i},"row, number\\n{i}"\\n' for i in range(10)))
>>> parts = plan_partitions([p], chunk_rows=4)
>>> [len(read_partition(part)) for part in parts]
[4, 4, 2]
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import mmap
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from labelfns.errors import DataError
from weak_supervision.io import SUPPORTED_SUFFIXES, atomic_write

__all__ = [
    "Partition",
    "PartitionJob",
    "PartitionResult",
    "PredictResult",
    "LocalRunner",
    "PartitionProgress",
    "plan_partitions",
    "read_partition",
    "check_schemas",
    "apply_partition",
    "predict_partition",
    "find_duplicate_ids",
    "data_files",
    "file_columns",
    "read_matrix",
    "gather_rows",
    "predict_task",
    "gather_task",
    "DEFAULT_CHUNK_ROWS",
]

DEFAULT_CHUNK_ROWS = 250_000
"""Rows per partition unless configured (``[apply] chunk_rows``)."""

PartitionProgress = Callable[[int, int], None]
"""Called as ``progress(partitions_done, partitions_total)`` after each partition."""

_SAMPLE_BYTES = 1 << 20
_COPY_BYTES = 1 << 26
_ID_BUCKET_BITS = 8
_APPLY_LOCK = threading.Lock()  # apply_lfs keeps module-level state: one call at a time a process


# -- planning ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Partition:
    """One slice of one input file.

    Attributes
    ----------
    index : int
        Position in the plan; partitions are in row order.
    path : str
        The file.
    fmt : str
        "csv", "jsonl" or "parquet".
    start, stop : int
        Byte range (CSV, JSONL) or row range (Parquet).
    first_line : int
        1-based line of the file where the partition starts (for messages; CSV and JSONL).
    header : bytes
        The CSV header line(s), prepended when the byte range is parsed.
    is_dev : bool
        Rows of the ``[dev] path`` file (all dev rows).
    """

    index: int
    path: str
    fmt: str
    start: int
    stop: int
    first_line: int = 1
    header: bytes = b""
    is_dev: bool = False

    @property
    def name(self) -> str:
        """``part-00000`` style name of the partition's output files."""
        return f"part-{self.index:05d}"

    @property
    def cache_key(self) -> str:
        """A folder name for the partition's LF cache: file name and start, hashed.

        The cache is content-addressed by row, so a stale key costs recomputation, never wrong
        votes; appending rows to a file keeps the keys of its earlier partitions.
        """
        digest = hashlib.sha1(f"{Path(self.path).name}\x1f{self.start}".encode()).hexdigest()
        return f"{Path(self.path).stem[:40]}-{digest[:12]}"

    def where(self) -> str:
        """Where the partition is, for messages."""
        if self.fmt == "parquet":
            return f"{self.path} (rows {self.start + 1}-{self.stop})"
        return f"{self.path} (from line {self.first_line})"


def data_files(path: str | os.PathLike[str]) -> list[Path]:
    """The file, or the files a glob pattern in its name matches, sorted by name.

    >>> data_files("no/such/file.csv")[0].name
    'file.csv'
    """
    path = Path(path)
    if not any(ch in path.name for ch in "*?["):
        return [path]
    matches = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    if not matches:
        raise DataError(f"the data path {path} matches no file; check the folder and the pattern")
    return matches


def _fmt(path: Path, what: str) -> str:
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(f"{what} {path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
                        f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    return fmt


def plan_partitions(paths: Sequence[str | os.PathLike[str]], *, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                    dev_path: str | os.PathLike[str] | None = None, start_index: int = 0
                    ) -> list[Partition]:
    """Cut the files into partitions of about ``chunk_rows`` rows, reading metadata and bytes only.

    Parameters
    ----------
    paths : sequence of path
        Data files, in row order.
    chunk_rows : int, default 250_000
        Target rows per partition: exact for Parquet (row groups are not split below 2x this),
        estimated from the first MB's bytes per line for CSV and JSONL.
    dev_path : path, optional
        A dev file whose partitions follow the data's (``is_dev=True``).
    start_index : int, default 0
        Index of the first partition.

    Returns
    -------
    list of Partition

    Example
    -------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> _ = p.write_text("".join(f'{{"text": "t{i}"}}\\n' for i in range(5)))
    >>> [(x.start, x.first_line) for x in plan_partitions([p], chunk_rows=2)]
    [(0, 1), (30, 3), (60, 5)]
    """
    if chunk_rows < 1:
        raise DataError(f"chunk_rows must be at least 1, got {chunk_rows}")
    out: list[Partition] = []
    sources = [(Path(p), False) for p in paths]
    if dev_path is not None:
        sources.append((Path(dev_path), True))
    for path, is_dev in sources:
        what = "dev file" if is_dev else "data file"
        fmt = _fmt(path, what)
        index = start_index + len(out)
        if fmt == "parquet":
            parts = _plan_parquet(path, chunk_rows, index, is_dev)
        else:
            parts = _plan_text(path, fmt, chunk_rows, index, is_dev)
        if not parts:
            raise DataError(f"{what} {path} has no rows; add at least one row")
        out.extend(parts)
    return out


def _plan_parquet(path: Path, chunk_rows: int, index: int, is_dev: bool) -> list[Partition]:
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataError(f"{path} cannot be read as Parquet: {exc}") from None
    parts: list[Partition] = []
    start = 0
    pending = 0
    row = 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if n >= 2 * chunk_rows:  # a large row group: split it
            if pending:
                parts.append(Partition(index + len(parts), str(path), "parquet", start, row,
                                       is_dev=is_dev))
            for s in range(row, row + n, chunk_rows):
                parts.append(Partition(index + len(parts), str(path), "parquet", s,
                                       min(s + chunk_rows, row + n), is_dev=is_dev))
            row += n
            start, pending = row, 0
            continue
        row += n
        pending += n
        if pending >= chunk_rows:
            parts.append(Partition(index + len(parts), str(path), "parquet", start, row,
                                   is_dev=is_dev))
            start, pending = row, 0
    if pending:
        parts.append(Partition(index + len(parts), str(path), "parquet", start, row, is_dev=is_dev))
    return parts


class _Scanner:
    """Finds record boundaries in a CSV/JSONL file: newlines outside double quotes (CSV)."""

    def __init__(self, mm: mmap.mmap, fmt: str) -> None:
        self.mm, self.csv = mm, fmt == "csv"
        self.size = len(mm)

    def count(self, start: int, stop: int, char: bytes) -> int:
        total = 0
        for s in range(start, stop, _COPY_BYTES):
            total += self.mm[s:min(stop, s + _COPY_BYTES)].count(char)
        return total

    def boundary(self, pos: int, quotes_odd: bool) -> tuple[int, bool]:
        """The first record end at or after ``pos`` (just past its newline)."""
        while pos < self.size:
            nl = self.mm.find(b"\n", pos)
            if nl < 0:
                return self.size, quotes_odd
            if self.csv:
                quotes_odd ^= bool(self.count(pos, nl, b'"') % 2)
            if not quotes_odd:
                return nl + 1, quotes_odd
            pos = nl + 1
        return self.size, quotes_odd


def _plan_text(path: Path, fmt: str, chunk_rows: int, index: int, is_dev: bool) -> list[Partition]:
    size = path.stat().st_size
    if size == 0:
        return []
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        scan = _Scanner(mm, fmt)
        pos = 3 if mm[:3] == b"\xef\xbb\xbf" else 0
        header = b""
        line = 1
        if fmt == "csv":
            end, _ = scan.boundary(pos, False)
            header = mm[pos:end]
            line += scan.count(pos, end, b"\n")
            pos = end
        sample = mm[pos:pos + _SAMPLE_BYTES]
        arr = np.frombuffer(sample, dtype=np.uint8)
        newlines = np.flatnonzero(arr == 10)
        if scan.csv:  # records end at newlines outside quotes
            newlines = newlines[np.cumsum(arr == 34)[newlines] % 2 == 0]
        rows_in_sample = max(len(newlines), 1)
        target = max(1, int(len(sample) / rows_in_sample * chunk_rows))
        parts: list[Partition] = []
        while pos < size:
            if size - pos <= 65536 and not mm[pos:size].strip():
                break  # only blank lines remain
            guess = min(size, pos + target) - 1  # the last byte of the target range
            odd = bool(scan.count(pos, guess, b'"') % 2) if scan.csv else False
            end, _ = scan.boundary(guess, odd) if guess < size - 1 else (size, False)
            parts.append(Partition(index + len(parts), str(path), fmt, pos, end, line, header,
                                   is_dev))
            line += scan.count(pos, end, b"\n")
            pos = end
    return parts


# -- reading -------------------------------------------------------------------------------------
def read_partition(part: Partition) -> pd.DataFrame:
    """The raw rows of one partition: CSV cells as text, JSONL and Parquet values as stored.

    Raises
    ------
    DataError
        Bytes that are not UTF-8, a malformed line, or a damaged Parquet file (the message names
        the file and where the partition starts).
    """
    what = "dev file" if part.is_dev else "data file"
    try:
        if part.fmt == "parquet":
            return _read_parquet_rows(part)
        with open(part.path, "rb") as fh:
            fh.seek(part.start)
            data = fh.read(part.stop - part.start)
    except OSError as exc:
        raise DataError(f"{what} {part.where()} cannot be read: {exc}") from None
    if part.fmt == "jsonl":
        return _parse_jsonl(data, part, what)
    return _parse_csv(data, part, what)


def _read_parquet_rows(part: Partition) -> pd.DataFrame:
    pf = pq.ParquetFile(part.path)
    meta = pf.metadata
    groups, row, first = [], 0, None
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if row + n > part.start and row < part.stop:
            groups.append(g)
            first = row if first is None else first
        row += n
    table = pf.read_row_groups(groups) if groups else pf.schema_arrow.empty_table()
    offset = part.start - (first or 0)
    return table.slice(offset, part.stop - part.start).to_pandas()


def _csv_columns(header: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(header.decode("utf-8", "replace"))), [])


def _parse_csv(data: bytes, part: Partition, what: str) -> pd.DataFrame:
    names = _csv_columns(part.header)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(part.header + data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataError(f"{what} {part.where()} is not valid UTF-8 CSV: {exc}") from None
    return table.to_pandas()


def _parse_jsonl(data: bytes, part: Partition, what: str) -> pd.DataFrame:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = part.first_line + data.count(b"\n", 0, exc.start)
        raise DataError(f"{what} {part.path} is not valid UTF-8 at line {line}; re-encode the "
                        "file as UTF-8") from None
    records = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{what} {part.path}: line {part.first_line + i} is not valid JSON "
                            f"({exc.msg}); each line must hold one JSON object") from None
        if not isinstance(record, dict):
            raise DataError(f"{what} {part.path}: line {part.first_line + i} holds a JSON "
                            f"{type(record).__name__}, not an object")
        records.append(record)
    return pd.DataFrame.from_records(records)


def file_columns(path: str | os.PathLike[str]) -> dict[str, str]:
    """Column names (and types, for Parquet) of a file, from its header or metadata only.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("id,text\\n1,a\\n")
    >>> file_columns(p)
    {'id': 'text', 'text': 'text'}
    """
    path = Path(path)
    fmt = _fmt(path, "data file")
    if fmt == "parquet":
        schema = pq.read_schema(path)
        return {n: str(t) for n, t in zip(schema.names, schema.types, strict=True)}
    with open(path, "rb") as fh:
        first = fh.readline().removeprefix(b"\xef\xbb\xbf")
        while fmt == "jsonl" and first and not first.strip():
            first = fh.readline()
    if fmt == "csv":
        return {n: "text" for n in _csv_columns(first)}
    try:
        record = json.loads(first) if first.strip() else {}
    except json.JSONDecodeError:
        raise DataError(f"{path}: the first line is not valid JSON") from None
    return {str(k): "any" for k in (record if isinstance(record, dict) else {})}


def check_schemas(paths: Sequence[str | os.PathLike[str]], *, what: str = "data files"
                  ) -> dict[str, str]:
    """The shared columns of the files; raises when they differ, naming the files and columns.

    Parquet types must agree too (``string`` and ``large_string`` count as the same).

    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("id,text\\n1,a\\n")
    >>> _ = (d / "b.csv").write_text("id,body\\n2,b\\n")
    >>> check_schemas([d / "a.csv", d / "b.csv"])
    Traceback (most recent call last):
    labelfns.errors.DataError: the data files do not have the same columns: ...
    """
    first: dict[str, str] | None = None
    first_path = None
    for p in paths:
        cols = {k: v.replace("large_string", "string") for k, v in file_columns(p).items()}
        if first is None:
            first, first_path = cols, p
            continue
        missing = [c for c in first if c not in cols]
        extra = [c for c in cols if c not in first]
        types = [f"{c} ({first[c]} vs {cols[c]})" for c in first
                 if c in cols and first[c] != cols[c]]
        if missing or extra or types:
            bits = []
            if missing:
                bits.append(f"{p} lacks {', '.join(map(repr, missing))}")
            if extra:
                bits.append(f"{p} has {', '.join(map(repr, extra))} that {first_path} lacks")
            if types:
                bits.append(f"types differ: {', '.join(types)}")
            raise DataError(
                f"the {what} do not have the same columns: {first_path} vs {p}: "
                + "; ".join(bits) + ". Give every file the same columns (and types)")
    return first or {}


# -- one partition -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartitionJob:
    """What every partition task needs: shipped once per worker.

    Attributes
    ----------
    lfs : list
        The LFs (bound to ``labels`` by ``apply_lfs``); empty for the prediction pass.
    lf_names : tuple of str
        Their names, in column order.
    labels : tuple of str
        Class names.
    columns : tuple of str
        The raw columns every partition must have (from :func:`check_schemas`).
    text_columns : tuple of str
        Joined with newlines into ``text``.
    hidden : tuple of str
        Columns LFs must not see (gold label columns, ``hide_columns``).
    id_column, label_column, dev_label_column : str or None
        As in ``[data]`` and ``[dev]``.
    out_dir : str
        The run folder: ``label_matrix.parquet/``, ``labels.parquet/`` and ``_work/`` go there.
    cache_dir : str or None
        The LF cache root; each partition caches under ``partitions/<cache_key>``.
    fault_tolerant : bool
        As in ``apply_lfs``.
    n_jobs : int
        Processes ``apply_lfs`` may use per partition (1 on Dask workers).
    """

    lfs: list[Any] = field(repr=False)
    lf_names: tuple[str, ...]
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    text_columns: tuple[str, ...]
    hidden: tuple[str, ...]
    id_column: str | None
    label_column: str | None
    dev_label_column: str | None
    out_dir: str
    cache_dir: str | None = None
    fault_tolerant: bool = False
    n_jobs: int = 1

    def matrix_path(self, part: Partition) -> Path:
        return Path(self.out_dir) / "label_matrix.parquet" / f"{part.name}.parquet"

    def labels_path(self, part: Partition) -> Path:
        return Path(self.out_dir) / "labels.parquet" / f"{part.name}.parquet"

    def work_path(self, part: Partition, kind: str) -> Path:
        return Path(self.out_dir) / "_work" / f"{kind}-{part.index:05d}.npy"


@dataclass(frozen=True)
class PartitionResult:
    """What :func:`apply_partition` reports back (no rows: statistics and counts only)."""

    index: int
    n_rows: int
    n_labelled: int
    stats: Any  # LabelStats
    faults: dict[str, int]
    cached: dict[str, int]
    seconds: float
    worker: str = ""


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    parts = [frame[c].astype(object).where(frame[c].notna(), "").astype(str) for c in columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + "\n" + part
    return text.astype(str)


def _codes(values: pd.Series, labels: Sequence[str], column: str, part: Partition,
           ids: np.ndarray, *, required: bool) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    codes = np.full(len(values), -1, dtype=np.int16)
    for i, value in enumerate(values.tolist()):
        if _is_missing(value):
            if required:
                raise DataError(f"dev file {part.path}: the row with id {str(ids[i])!r} has no "
                                f"value in label column {column!r}; every dev row needs a label")
            continue
        code = index.get(_label_text(value))
        if code is None:
            raise DataError(
                f"{part.where()}: label {value!r} in column {column!r} (row id {str(ids[i])!r}) "
                f"is not a project label; valid labels: {', '.join(labels)}. Fix the value, or "
                "add it to [project] labels")
        codes[i] = code
    return codes


def _key_of(values: Iterable[str], *, hex_ids: bool) -> np.ndarray:
    if hex_ids:
        return np.array([int(v, 16) for v in values], dtype=np.uint64)
    return np.array([int.from_bytes(hashlib.sha1(v.encode("utf-8", "surrogatepass")).digest()[:8],
                                    "big") for v in values], dtype=np.uint64)


def _save(path: Path, arr: np.ndarray) -> None:
    with atomic_write(path, mode="wb") as fh:
        np.save(fh, arr)


def apply_partition(part: Partition, job: PartitionJob) -> PartitionResult:
    """Read one partition, apply the LFs (with its cache) and write its votes.

    Writes ``label_matrix.parquet/<part>.parquet`` (``id`` and one int16 column per LF) and, in
    ``_work/``, the id keys (to find repeated ids across partitions) and gold codes. Every file is
    written atomically, so a retried task overwrites a half-done one safely.

    Returns
    -------
    PartitionResult
    """
    from weak_supervision.apply import apply_lfs
    from weak_supervision.cache import LFCache
    from weak_supervision.label_stats import LabelStats

    started = time.perf_counter()
    raw = read_partition(part)
    expected = [c for c in job.columns if not (part.is_dev and c in job.hidden
                                                and c != job.dev_label_column)]
    missing = [c for c in expected if c not in raw.columns]
    extra = [c for c in raw.columns if c not in job.columns]
    if missing or (extra and not part.is_dev):
        bits = ([f"lacks {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"has {', '.join(map(repr, extra))} that the first file lacks"] if extra else [])
        raise DataError(f"{part.where()} {' and '.join(bits)}; every partition needs the same "
                        f"columns: {', '.join(job.columns)}")
    n = len(raw)
    text = _text(raw, job.text_columns)
    if job.id_column:
        id_values = raw[job.id_column].tolist()
        empty = [i for i, v in enumerate(id_values) if _is_missing(v)]
        if empty:
            raise DataError(f"{part.where()}: id column {job.id_column!r} is empty in "
                            f"{len(empty)} rows; give every row an id, or remove [data] id_column "
                            "to use generated ids")
        ids = np.array([_label_text(v) for v in id_values], dtype=object)
        keys = _key_of(ids.tolist(), hex_ids=False)
    else:
        ids = np.array([hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest()[:16]
                        for t in text.tolist()], dtype=object)
        keys = _key_of(ids.tolist(), hex_ids=True)
    gold_col = job.dev_label_column if part.is_dev else job.label_column
    gold = None
    if gold_col is not None and gold_col in raw.columns:
        gold = _codes(raw[gold_col], job.labels, gold_col, part, ids, required=part.is_dev)
    # the data file's visible columns, in its order (a dev file's extra columns stay hidden);
    # ``text`` is replaced by the joined text columns, in place when it is one of them
    visible = [c for c in job.columns if c not in job.hidden
               and (c != "text" or "text" in job.text_columns)]
    data = raw[visible].copy()
    data["text"] = text
    data.index = pd.RangeIndex(n)
    del raw

    cache = LFCache(Path(job.cache_dir) / "partitions" / part.cache_key) if job.cache_dir else None
    with _APPLY_LOCK:
        lm = apply_lfs(job.lfs, data, labels=job.labels, ids=ids, cache=cache, n_jobs=job.n_jobs,
                       fault_tolerant=job.fault_tolerant)
    L = lm.L.astype(np.int16)
    table = pa.table({"id": pa.array(ids.tolist(), pa.string()),
                      **{name: L[:, j] for j, name in enumerate(lm.lf_names)}})
    target = job.matrix_path(part)
    with atomic_write(target, mode="wb") as fh:
        pq.write_table(table, fh)
    order = np.argsort(keys, kind="stable")
    _save(job.work_path(part, "keys"), keys[order])
    _save(job.work_path(part, "pos"), order.astype(np.int64))
    n_labelled = 0
    if gold is not None:
        _save(job.work_path(part, "gold"), gold)
        n_labelled = int((gold >= 0).sum())
    stats = LabelStats.from_matrix(lm.L, cardinality=len(job.labels), lf_names=lm.lf_names)
    return PartitionResult(part.index, n, n_labelled, stats, dict(lm.faults), dict(lm.cached),
                           time.perf_counter() - started, _worker_name())


def _worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def read_matrix(job: PartitionJob, part: Partition) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, L)`` of a partition's written votes."""
    table = pq.read_table(job.matrix_path(part))
    ids = table.column("id").to_numpy(zero_copy_only=False)
    names = job.lf_names
    L = np.column_stack([table.column(n).to_numpy() for n in names]) if names else \
        np.zeros((table.num_rows, 0), np.int16)
    return ids, L.astype(np.int64)


def gather_rows(part: Partition, job: PartitionJob, which: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Votes, gold codes and global-order positions of selected rows of a partition.

    ``which`` picks rows by their rank among the partition's labelled rows (``None``: all rows,
    for a dev file). Used to collect the dev rows; nothing else is collected.
    """
    _, L = read_matrix(job, part)
    gold_path = job.work_path(part, "gold")
    gold = np.load(gold_path) if gold_path.is_file() else np.full(len(L), -1, np.int16)
    if which is None:
        rows = np.arange(len(L))
    else:
        rows = np.flatnonzero(gold >= 0)[np.asarray(which, dtype=np.int64)]
    return L[rows], gold[rows].astype(np.int64), rows


@dataclass(frozen=True)
class PredictResult:
    """What :func:`predict_partition` reports back."""

    index: int
    n_rows: int
    n_covered: int
    confidence_sum: float
    class_counts: np.ndarray
    seconds: float


def predict_partition(part: Partition, job: PartitionJob, model: Any, source: str,
                      fixes: tuple[np.ndarray, np.ndarray] | None = None) -> PredictResult:
    """Write the probabilistic labels of one partition from its votes.

    ``fixes`` are ``(positions, occurrence)`` of repeated generated ids in this partition: they
    get ``-<occurrence>`` appended (as :func:`weak_supervision.project.make_ids` does), in the
    labels and in the partition's vote file.
    """
    from weak_supervision.prob_labels import ProbabilisticLabels

    started = time.perf_counter()
    ids, L = read_matrix(job, part)
    if fixes is not None and len(fixes[0]):
        ids = ids.astype(object)
        for pos, occ in zip(fixes[0].tolist(), fixes[1].tolist(), strict=True):
            ids[pos] = f"{ids[pos]}-{occ}"
        table = pq.read_table(job.matrix_path(part))
        table = table.set_column(0, "id", pa.array(ids.tolist(), pa.string()))
        with atomic_write(job.matrix_path(part), mode="wb") as fh:
            pq.write_table(table, fh)
    probs = model.predict_proba(L)
    pl = ProbabilisticLabels(ids=np.asarray(ids, dtype=object), probs=probs, labels=job.labels,
                             source=source, covered=(L != -1).any(axis=1))
    _write_labels(pl, job.labels_path(part))
    hard = pl.hard
    counts = np.bincount(hard[hard >= 0], minlength=len(job.labels))
    return PredictResult(part.index, len(L), int(pl.covered.sum()),
                         float(pl.confidence[pl.covered].sum()), counts,
                         time.perf_counter() - started)


def _write_labels(pl: Any, path: Path) -> None:
    """What ``ProbabilisticLabels.write_parquet`` writes (same columns and metadata, so
    ``read_parquet`` reads it), without dictionary-encoding the probability columns: that
    halves the write time of a partition with many classes."""
    from weak_supervision.prob_labels import _FORMAT_VERSION, _META_KEY

    table = pa.Table.from_pandas(pl.to_frame(), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps({"labels": list(pl.labels), "source": pl.source,
                                  "version": _FORMAT_VERSION}).encode()
    table = table.replace_schema_metadata(meta)
    with atomic_write(path, mode="wb") as fh:
        pq.write_table(table, fh, use_dictionary=["id", "label"])


# -- repeated ids across partitions --------------------------------------------------------------
def find_duplicate_ids(job: PartitionJob, parts: Sequence[Partition], *,
                       generated: bool) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Repeated ids over all partitions, bucket by bucket (memory: rows / 256 keys at a time).

    With generated ids (``generated=True``) returns, per partition index, the positions of the
    2nd, 3rd, ... occurrence of an id and that occurrence number (the suffix
    :func:`~weak_supervision.project.make_ids` gives). With an id column, a repeated id raises
    :class:`DataError` naming up to five of them.
    """
    keys = {p.index: np.load(job.work_path(p, "keys"), mmap_mode="r") for p in parts}
    poss = {p.index: np.load(job.work_path(p, "pos"), mmap_mode="r") for p in parts}
    n_buckets = 1 << _ID_BUCKET_BITS
    shift = np.uint64(64 - _ID_BUCKET_BITS)
    edges = {i: np.searchsorted(k >> shift, np.arange(n_buckets + 1, dtype=np.uint64))
             for i, k in keys.items()}
    fixes: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    repeated: list[tuple[int, int]] = []
    for b in range(n_buckets):
        ks, ps, pos = [], [], []
        for i in keys:
            lo, hi = edges[i][b], edges[i][b + 1]
            if hi > lo:
                ks.append(np.asarray(keys[i][lo:hi]))
                pos.append(np.asarray(poss[i][lo:hi]))
                ps.append(np.full(hi - lo, i, dtype=np.int64))
        if not ks:
            continue
        k, p, r = np.concatenate(ks), np.concatenate(ps), np.concatenate(pos)
        order = np.lexsort((r, p, k))
        k, p, r = k[order], p[order], r[order]
        same = k[1:] == k[:-1]
        if not same.any():
            continue
        if not generated:
            first = np.flatnonzero(same)[:5]
            repeated.extend(zip(p[first].tolist(), r[first].tolist(), strict=True))
            if len(repeated) >= 5:
                break
            continue
        starts = np.concatenate([[True], ~same])
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(k)), 0))
        occ = np.arange(len(k)) - group_start + 1
        dup = occ > 1
        for i in np.unique(p[dup]).tolist():
            sel = dup & (p == i)
            fixes.setdefault(i, []).append((r[sel], occ[sel]))
    if repeated:
        by_index = {part.index: part for part in parts}
        names = []
        for i, row in repeated[:5]:
            ids, _ = read_matrix(job, by_index[i])
            names.append(repr(str(ids[row])))
        files = sorted({by_index[i].path for i, _ in repeated})
        raise DataError(f"{' and '.join(files)}: id column {job.id_column!r} has repeated ids: "
                        f"{', '.join(dict.fromkeys(names))}; ids must be unique across the data and "
                        "dev rows")
    return {i: (np.concatenate([a for a, _ in v]), np.concatenate([o for _, o in v]))
            for i, v in fixes.items()}


# -- running partitions in this process ---------------------------------------------------------
class LocalRunner:
    """Runs partition tasks one after another in this process (the streaming engine).

    >>> LocalRunner().map(lambda item, shared: item * shared, [1, 2], 10)
    [10, 20]
    """

    name = "stream"

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any, *,
            progress: PartitionProgress | None = None) -> list[Any]:
        """``[fn(item, shared) for item in items]``, reporting progress after each item."""
        out = []
        for i, item in enumerate(items):
            out.append(fn(item, shared))
            if progress is not None:
                progress(i + 1, len(items))
        return out

    def close(self) -> None:
        """Nothing to release."""


# -- task shapes for runners: fn(item, shared) ----------------------------------------------------
def predict_task(item: tuple[Partition, tuple[np.ndarray, np.ndarray] | None],
                 shared: tuple[PartitionJob, Any, str]) -> PredictResult:
    """:func:`predict_partition` as a runner task: ``item = (part, fixes)``,
    ``shared = (job, model, source)``."""
    part, fixes = item
    job, model, source = shared
    return predict_partition(part, job, model, source, fixes)


def gather_task(item: tuple[Partition, np.ndarray | None], job: PartitionJob
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`gather_rows` as a runner task: ``item = (part, which)``."""
    part, which = item
    return gather_rows(part, job, which)
