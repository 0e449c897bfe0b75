"""Apply LFs to a DataFrame: vectorized families, parallel row-wise Python LFs, cached votes.

Example
-------
>>> import pandas as pd
>>> from labelfns import keyword_lf, labeling_function
>>> @labeling_function()
... def long_text(x):
...     return "other" if len(x.text) > 12 else None
>>> df = pd.DataFrame({"text": ["refund please", "hi", "where is my refund?"]})
>>> lm = apply_lfs([keyword_lf("kw_refund", ["refund"], "refund"), long_text], df,
...                labels=["other", "refund"], n_jobs=1)
>>> lm.L.tolist()
[[1, 0], [-1, -1], [1, 0]]
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.core import ABSTAIN, LabelingFunction, check_unique_names
from labelfns.errors import LabelcycleError, LFError
from labelfns.patterns import PatternLF, field_text
from weak_supervision.cache import LFCache, RowIndex, memoised, row_index
from weak_supervision.label_matrix import LabelMatrix
from weak_supervision.pattern_engine import FoldedTexts, PatternMatcher, fold_texts, prefilter_literals
from weak_supervision.word_index import (
    Postings,
    WordIndex,
    index_key,
    join_postings,
    load_word_index,
    save_word_index,
    word_postings,
)

__all__ = ["apply_lfs", "Row", "ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(rows_done, rows_total)`` while LFs are applied."""

CHUNK_ROWS = 8192
_PARALLEL_MIN_WORK = 20_000  # rows x row-wise LFs below which a process pool is not worth it
_PATTERN_POOL_MIN_ROWS = 100_000  # rows below which family LFs alone are not worth forking for


class Row(dict):  # type: ignore[type-arg]
    """One data row as seen by a row-wise LF: ``x.text`` and ``x["text"]`` both work.

    Snorkel passes a ``pandas.Series``; LFs that read fields by attribute or key behave the same.

    >>> Row(text="hi").text
    'hi'
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def apply_lfs(
    lfs: Sequence[Any],
    df: pd.DataFrame,
    *,
    labels: Sequence[str] | None = None,
    ids: Sequence[Any] | np.ndarray | None = None,
    cache: LFCache | str | os.PathLike[str] | None = None,
    n_jobs: int = 0,
    fault_tolerant: bool = False,
    progress: ProgressCallback | None = None,
) -> LabelMatrix:
    """Apply ``lfs`` to every row of ``df`` and return their votes.

    Parameters
    ----------
    lfs : sequence of LabelingFunction
        labelcycle LFs (any Snorkel ``LabelingFunction`` works too). Names must be unique.
        Keyword/regex family LFs run vectorized; an LF with a ``batch_apply(df) -> votes``
        method (e.g. :class:`labelfns.embeddings.EmbeddingLF`) runs once on all the rows that
        need it, in this process; other LFs run row by row.
    df : pandas.DataFrame
        One row per data point; LFs read its columns.
    labels : sequence of str, optional
        The label set: LFs returning class names are bound to it.
    ids : sequence, optional
        Row ids (default: ``df.index``).
    cache : LFCache or path, optional
        Reuse votes of unchanged LFs on unchanged rows; store new ones. With a cache, the row
        hashes and folded texts of pyarrow-backed (immutable) columns are also kept in memory
        while those columns live, so a re-run on the same DataFrame (after adding an LF) only
        scans the texts for the new LFs; and a word index of each column that keyword/regex LFs
        read is stored with the votes (:mod:`weak_supervision.word_index`): a new whole-word,
        case-insensitive keyword LF of single words gets its votes from it without reading a
        text, and other keyword or regex LFs whose literals hold whole words scan only the rows
        that hold them. Without a cache every call starts from nothing.
    n_jobs : int, default 0
        Processes for row-wise work: 0 = all cores, 1 = in this process.
    fault_tolerant : bool, default False
        Record an LF exception as an abstain and count it per LF, instead of stopping with an
        error that names the LF, the row id and the exception.
    progress : callable, optional
        ``progress(rows_done, rows_total)``.

    Returns
    -------
    LabelMatrix
        ``.L`` has one column per LF in the order given; -1 = abstain.
    """
    lfs = list(lfs)
    check_unique_names(lfs)
    if labels is not None:
        labels = tuple(labels)
        lfs = [lf.bind(labels) if isinstance(lf, LabelingFunction) else lf for lf in lfs]
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"apply_lfs needs a pandas DataFrame, got {type(df).__name__}")
    n = len(df)
    row_ids = np.asarray(df.index if ids is None else ids)
    if len(row_ids) != n:
        raise ValueError(f"got {len(row_ids)} ids for {n} rows")
    _check_lfs(lfs, df)
    if isinstance(cache, (str, os.PathLike, Path)):
        cache = LFCache(cache)

    # Column-major: each LF's votes are contiguous, so per-LF cache reads and writes stay cheap.
    # Filled column by column below: writing 8 bytes a vote twice costs more than the lookups.
    L = np.empty((n, len(lfs)), dtype=np.int64, order="F")
    need = np.ones((n, len(lfs)), dtype=bool, order="F")
    hashes: dict[tuple[str, ...] | None, RowIndex] = {}
    fingerprints: list[str] = []
    if cache is None:
        L.fill(ABSTAIN)
        open_js = list(range(len(lfs)))  # the LFs whose votes are not all cached
        cached_counts = {lf.name: 0 for lf in lfs}
    else:
        for lf in lfs:
            key = _field_key(lf, df)
            if key not in hashes:
                hashes[key] = row_index(df, None if key is None else list(key))
            fingerprints.append(_fingerprint(lf))
        counts = _read_cache(cache, [hashes[_field_key(lf, df)] for lf in lfs], fingerprints,
                             L, need)
        open_js = [j for j, c in enumerate(counts) if c < n]
        cached_counts = {lf.name: c for lf, c in zip(lfs, counts, strict=True)}

    build: dict[str, str] = {}  # field -> index key: word postings to build while scanning
    pruned: dict[int, np.ndarray] = {}  # LF -> the rows it needed before the word index
    if cache is not None and n:
        build = _use_word_index(lfs, df, open_js, need, L, cache, hashes, pruned)

    faults = {lf.name: 0 for lf in lfs}
    faulted = np.zeros((n, len(lfs)), dtype=bool, order="F")
    todo = _rows_needing(need, open_js)
    postings: dict[str, list[tuple[int, Postings]]] = {}
    if len(todo):
        postings = _compute(lfs, df, todo, need, L, faulted, faults, row_ids, n_jobs=n_jobs,
                            fault_tolerant=fault_tolerant, progress=progress,
                            reuse=cache is not None,
                            index_fields=set(build) if len(todo) == n else set())
    elif progress is not None:
        progress(n, n)

    if cache is not None:
        for f, parts in postings.items():
            if parts and sum(rows for rows, _ in parts) == n:
                save_word_index(cache.directory, build[f], join_postings(parts))
        for j in open_js:
            lf = lfs[j]
            computed = pruned.get(j, need[:, j])  # rows ruled out abstain: store them too
            if not computed.any():
                continue
            fresh = computed & ~faulted[:, j]
            if fresh.any():
                cache.store(fingerprints[j], hashes[_field_key(lf, df)], L[:, j],
                            mask=None if fresh.all() else fresh)
    return LabelMatrix(ids=row_ids, lf_names=tuple(lf.name for lf in lfs), L=L,
                       labels=tuple(labels or ()), faults=faults, cached=cached_counts)


_THREADS_MIN_VOTES = 1 << 20  # votes below which reading the cache in threads is not worth it


def _read_cache(cache: LFCache, indexes: list[RowIndex], fingerprints: list[str], L: np.ndarray,
                need: np.ndarray) -> list[int]:
    """Fill ``L`` with the cached votes of each LF (column ``j``: ``fingerprints[j]`` on the
    rows of ``indexes[j]``; -1 elsewhere), clear ``need`` where found, and return how many rows
    of each LF were found. Large matrices are filled by one thread per core: reading a file
    and writing a column (mostly faulting in fresh pages) release the GIL."""
    n = len(L)

    def read(j: int) -> int:
        votes, found = cache.lookup(fingerprints[j], indexes[j])
        if found.all():
            L[:, j] = votes
            need[:, j] = False
            return n
        L[:, j] = ABSTAIN
        if found.any():
            L[found, j] = votes[found]
            need[found, j] = False
        return int(found.sum())

    threads = min(os.cpu_count() or 1, len(fingerprints))
    if threads < 2 or L.size < _THREADS_MIN_VOTES:
        return [read(j) for j in range(len(fingerprints))]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(read, range(len(fingerprints))))


def _use_word_index(lfs: list[Any], df: pd.DataFrame, open_js: list[int], need: np.ndarray,
                    L: np.ndarray, cache: LFCache, hashes: dict[tuple[str, ...] | None, RowIndex],
                    pruned: dict[int, np.ndarray]) -> dict[str, str]:
    """Use the stored word index of their columns for the family LFs (among ``open_js``) that
    still need votes:
    an LF whose prefilter is exact and made of whole words gets its votes in ``L`` from the
    index (its ``need`` column cleared); others whose literals hold whole words keep in ``need``
    only the rows holding them (they abstain elsewhere). ``pruned`` gets the column of ``need``
    as it was for each such LF. Returns the columns read by family LFs that have no stored index
    yet, with the key to store it under."""
    n = len(df)
    pattern = [j for j in open_js if isinstance(lfs[j], PatternLF) and need[:, j].any()]
    keys: dict[str, str] = {}
    indexes: dict[str, WordIndex | None] = {}
    for f in sorted({f for j in pattern for f in lfs[j].fields}):
        ri = hashes.get((f,)) or row_index(df, [f])
        keys[f] = index_key(f, ri.order)
        indexes[f] = load_word_index(cache.directory, keys[f], n)
    for j in pattern:
        lf = lfs[j]
        found = [indexes[f] for f in lf.fields]
        pre = prefilter_literals(lf)
        if pre is None or any(index is None for index in found):
            continue
        exact = [index.matches(pre.alternatives) for index in found] if pre.exact else [None]
        rows = exact if all(m is not None for m in exact) else \
            [index.candidates(pre.alternatives) for index in found]
        if any(r is None for r in rows):
            continue
        pruned[j] = need[:, j].copy()
        hit = np.logical_or.reduce(rows)
        if rows is exact:
            L[pruned[j] & hit, j] = _vote(lf)  # the others already abstain
            need[:, j] = False
        else:
            need[:, j] &= hit
    return {f: k for f, k in keys.items() if indexes[f] is None}


def _vote(lf: PatternLF) -> int:
    """The class index a family LF votes on a match."""
    return lf.label_index() if lf.labels is not None else lf.resolve(lf.label)


def _rows_needing(need: np.ndarray, open_js: list[int]) -> np.ndarray:
    """Rows where some LF (of ``open_js``: the others need none) still needs a vote (``need``
    is column-major: scan LF by LF)."""
    n = len(need)
    wanted = [j for j in open_js if need[:, j].any()]
    if not wanted:
        return np.zeros(0, dtype=np.int64)
    if any(need[:, j].all() for j in wanted):
        return np.arange(n)
    rows = np.zeros(n, dtype=bool)
    for j in wanted:
        rows |= need[:, j]
    return np.flatnonzero(rows)


# -- checks and keys -----------------------------------------------------------------------------
def _check_lfs(lfs: list[Any], df: pd.DataFrame) -> None:
    columns = set(map(str, df.columns))
    for lf in lfs:
        fields = getattr(lf, "fields", None)
        if fields:
            missing = [f for f in fields if f not in columns]
            if missing:
                raise LFError(f"reads column(s) {missing} that the data does not have", lf=lf.name,
                              hint="available columns: " + ", ".join(sorted(columns)))
        if isinstance(lf, PatternLF) and lf.labels is not None:
            lf.label_index()


def _field_key(lf: Any, df: pd.DataFrame) -> tuple[str, ...] | None:
    fields = getattr(lf, "fields", None)
    return tuple(fields) if fields else None


def _fingerprint(lf: Any) -> str:
    if isinstance(lf, LabelingFunction):
        return lf.fingerprint()
    from labelfns.fingerprint import fingerprint_value

    return fingerprint_value(("snorkel-lf/1", lf.name, lf._f, lf._resources, lf._pre))


# -- computing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ChunkResult:
    rows: np.ndarray
    votes: np.ndarray  # rows x lfs (only `need` entries are meaningful)
    faults: list[tuple[int, int]]  # (row position, lf index) that raised (fault-tolerant mode)
    error: tuple[int, int, str, str | None] | None  # (row, lf, message, hint) in strict mode
    postings: dict[str, Postings] = field(default_factory=dict)  # word index parts per column


_STATE: dict[str, Any] = {}


def _is_batch(lf: Any) -> bool:
    """An LF that votes on a whole DataFrame at once: ``lf.batch_apply(df) -> votes``."""
    return not isinstance(lf, PatternLF) and callable(getattr(lf, "batch_apply", None))


def _compute_batch(lf: Any, j: int, df: pd.DataFrame, need: np.ndarray, L: np.ndarray,
                   faulted: np.ndarray, faults: dict[str, int], *, fault_tolerant: bool) -> None:
    """Run a batch LF (e.g. an embedding LF) once on the rows that need its votes."""
    rows = np.flatnonzero(need[:, j])
    if not len(rows):
        return
    try:
        votes = np.asarray(lf.batch_apply(df.iloc[rows]))
        if votes.shape != (len(rows),) or votes.dtype.kind not in "iu":
            raise LFError(f"batch_apply returned shape {votes.shape} and dtype {votes.dtype}",
                          lf=lf.name, hint=f"return {len(rows)} int votes, one a row (-1 = abstain)")
        if len(votes) and votes.min() < ABSTAIN:
            raise LFError(f"batch_apply returned the vote {int(votes.min())}", lf=lf.name,
                          hint="votes are class indices, or -1 to abstain")
    except LabelcycleError:
        raise  # already names the LF, or a missing dependency: not a fault of some rows
    except Exception as exc:  # noqa: BLE001 - user code may raise anything
        if not fault_tolerant:
            raise LFError(f"raised {type(exc).__name__}: {exc}", lf=lf.name,
                          hint="fix the LF, or use fault-tolerant mode (--fault-tolerant) to "
                               "record faults and go on") from exc
        faulted[rows, j] = True
        faults[lf.name] += len(rows)
        return
    L[rows, j] = votes


def _compute(lfs: list[Any], df: pd.DataFrame, todo: np.ndarray, need: np.ndarray, L: np.ndarray,
             faulted: np.ndarray, faults: dict[str, int], row_ids: np.ndarray, *, n_jobs: int,
             fault_tolerant: bool, progress: ProgressCallback | None, reuse: bool = False,
             index_fields: Collection[str] = ()) -> dict[str, list[tuple[int, Postings]]]:
    """Compute the votes ``need`` asks for. With ``reuse`` (a cache is in use: the caller
    re-runs on the same data), the folded texts of immutable columns are kept in memory for
    the next run when most rows are scanned, so adding an LF whose literals are not whole
    words does not fold every text again. The word postings of ``index_fields`` are built
    from the folded chunks (in the workers) and returned, chunk by chunk in row order."""
    pattern_js = [j for j, lf in enumerate(lfs) if isinstance(lf, PatternLF)]
    batch_js = [j for j, lf in enumerate(lfs) if _is_batch(lf)]
    python_js = [j for j, lf in enumerate(lfs) if not isinstance(lf, PatternLF) and not _is_batch(lf)]
    for j in batch_js:  # in this process: batch LFs hold models that do not belong in a fork
        _compute_batch(lfs[j], j, df, need, L, faulted, faults, fault_tolerant=fault_tolerant)
    if batch_js:
        need = need.copy()  # the chunks below must not overwrite the batch votes
        need[:, batch_js] = False
    chunks = [todo[i:i + CHUNK_ROWS] for i in range(0, len(todo), CHUNK_ROWS)]
    workers = (os.cpu_count() or 1) if n_jobs == 0 else max(1, n_jobs)
    active = [j for j in pattern_js if need[:, j].any()]  # todo holds every row needing a vote
    fields = {f for j in active for f in lfs[j].fields}
    index_fields = set(index_fields) & fields
    # Building a word index means a cold run: fold in the workers, not serially here.
    folded = _folded_columns(df, fields) if reuse and not index_fields and 2 * len(todo) >= len(df) \
        else {}
    matcher = PatternMatcher([lfs[j] for j in active]) if active else None
    python_needed = any(need[:, j].any() for j in python_js)
    # Scanning folded texts with exact keyword LFs only (adding a keyword LF to a cached run)
    # costs about a microsecond a row: less than forking workers and merging their results.
    # So is scanning the few candidate rows a word index leaves (forking a large parent costs
    # more than scanning them).
    light = not python_needed and (len(todo) < _PATTERN_POOL_MIN_ROWS or matcher is None or all(
        f in folded and not matcher.needs_texts(f) for f in fields))
    work = len(todo) * max(len(python_js), 1)
    use_pool = (workers > 1 and len(chunks) > 1 and work >= _PARALLEL_MIN_WORK and not light
                and "fork" in mp.get_all_start_methods())
    state = {"lfs": lfs, "need": need, "pattern_js": pattern_js, "python_js": python_js,
             "fault_tolerant": fault_tolerant,
             "texts": {f: df[f] for f in fields},  # made into texts chunk by chunk, in the workers
             "folded": folded,
             "index_fields": sorted(index_fields),
             # compiled once here, so forked workers inherit it; other subsets compile on demand
             "matchers": {tuple(active): matcher} if matcher is not None else {},
             "columns": ({str(c): df[c].tolist() for c in df.columns} if python_js else {})}
    done = 0
    total = len(todo)
    parts: dict[str, list[tuple[int, Postings]]] = {f: [] for f in index_fields}

    def merge(res: _ChunkResult) -> None:
        nonlocal done
        if res.error is not None:
            row, j, message, hint = res.error
            raise LFError(message, lf=lfs[j].name, row=_py(row_ids[row]), hint=hint)
        rows = _selector(res.rows)
        sub = need[rows]
        for j in np.flatnonzero(sub.any(axis=0)).tolist():  # column by column: L is column-major
            wanted = sub[:, j]
            L[rows, j] = res.votes[:, j] if wanted.all() else np.where(wanted, res.votes[:, j], L[rows, j])
        for row, j in res.faults:
            faulted[row, j] = True
            faults[lfs[j].name] += 1
        for f, words in res.postings.items():
            parts[f].append((len(res.rows), words))
        done += len(res.rows)
        if progress is not None:
            progress(done, total)

    if not use_pool:
        _STATE.update(state)
        try:
            for chunk in chunks:
                merge(_run_chunk(chunk))
        finally:
            _STATE.clear()
        return parts
    _STATE.update(state)  # inherited by forked workers: LFs and data are never pickled
    gc.freeze()  # keep the collector from touching (and so copying) the parent's pages in workers
    try:
        ctx = mp.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=ctx) as pool:
            for res in pool.map(_run_chunk, chunks):
                merge(res)
    finally:
        gc.unfreeze()
        _STATE.clear()
    return parts


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _field_texts(column: pd.Series) -> list[str]:
    """The texts family LFs see in a column (:func:`~labelfns.patterns.field_text` of each
    cell), without a Python call per cell when the column holds only strings and missing values."""
    if isinstance(column.dtype, pd.StringDtype):
        return (column.fillna("") if column.hasnans else column).tolist()
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=False) == "string":
        return column.tolist()
    return [field_text(v) for v in column.tolist()]


def _texts_at(column: pd.Series, sel: slice | np.ndarray) -> list[str]:
    """``_field_texts(column.iloc[sel])``. For scattered rows of a pyarrow-backed string column
    it takes them chunk by chunk: pyarrow's ``take`` on a chunked array first joins its chunks,
    a copy of the whole column for a few candidate rows."""
    if isinstance(sel, slice) or not isinstance(column.dtype, pd.StringDtype) \
            or column.dtype.storage != "pyarrow":
        return _field_texts(column.iloc[sel])
    try:
        import pyarrow as pa

        data = column.array.__arrow_array__()
        chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    except Exception:  # noqa: BLE001 - the plain way
        return _field_texts(column.iloc[sel])
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    cuts = np.searchsorted(sel, bounds)  # sel is sorted
    out: list[str] = []
    for chunk, lo, a, b in zip(chunks, bounds[:-1].tolist(), cuts[:-1].tolist(), cuts[1:].tolist(),
                               strict=True):
        if b > a:
            out.extend(chunk.take(pa.array(sel[a:b] - lo)).to_pylist())
    return [t if t is not None else "" for t in out] if None in out else out


def _folded_columns(df: pd.DataFrame, fields: set[str]) -> dict[str, FoldedTexts]:
    """Folded texts of the immutable (pyarrow-backed) columns among ``fields``, memoised."""
    out = {}
    for f in sorted(fields):
        column = df[f]
        value = memoised(column, "folded-texts", lambda c=column: fold_texts(_field_texts(c)))
        if value is not None:
            out[f] = value
    return out


def _selector(rows: np.ndarray) -> slice | np.ndarray:
    """``rows`` (sorted) as a slice when they are a contiguous run: cheaper to index with."""
    if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _run_chunk(rows: np.ndarray) -> _ChunkResult:
    lfs = _STATE["lfs"]
    need: np.ndarray = _STATE["need"]
    fault_tolerant: bool = _STATE["fault_tolerant"]
    votes = np.full((len(rows), len(lfs)), ABSTAIN, dtype=np.int16)
    need = need[_selector(rows)]  # this chunk's rows
    pattern_js = [j for j in _STATE["pattern_js"] if need[:, j].any()]
    index_fields: list[str] = _STATE["index_fields"]
    postings: dict[str, Postings] = {}
    if pattern_js or index_fields:
        matcher = None
        if pattern_js:
            key = tuple(pattern_js)
            matcher = _STATE["matchers"].get(key)
            if matcher is None:
                matcher = _STATE["matchers"][key] = PatternMatcher([lfs[j] for j in pattern_js])
        sel = _selector(rows)
        folded = ({f: v.rows(sel.start, sel.stop) for f, v in _STATE["folded"].items()}
                  if isinstance(sel, slice) else {})
        texts = {f: _texts_at(col, sel) for f, col in _STATE["texts"].items()
                 if f not in folded or (matcher is not None and matcher.needs_texts(f))}
        for f in index_fields:  # fold once: for the postings and the matcher
            if f not in folded:
                folded[f] = fold_texts(texts[f])
            postings[f] = word_postings(folded[f])
        if matcher is not None:
            hit = matcher.match(texts, folded=folded)
            for k, j in enumerate(pattern_js):
                votes[hit[:, k], j] = _vote(lfs[j])
    python_js = [j for j in _STATE["python_js"] if need[:, j].any()]
    faults: list[tuple[int, int]] = []
    if python_js:
        names = list(_STATE["columns"])
        values = list(_STATE["columns"].values())
        for i, row in enumerate(rows.tolist()):
            x = Row(zip(names, [v[row] for v in values], strict=True))
            for j in python_js:
                if not need[i, j]:
                    continue
                try:
                    vote = lfs[j](x)
                    if not isinstance(lfs[j], LabelingFunction):
                        vote = _check_plain_vote(lfs[j], vote)
                    votes[i, j] = vote
                except Exception as exc:  # noqa: BLE001 - user code may raise anything
                    if not fault_tolerant:
                        if isinstance(exc, LFError):
                            error = (row, j, exc.detail, exc.hint)
                        else:
                            error = (row, j, f"raised {type(exc).__name__}: {exc}",
                                     "fix the LF, or use fault-tolerant mode (--fault-tolerant) "
                                     "to record faults and go on")
                        return _ChunkResult(rows, votes, faults, error)
                    faults.append((row, j))
    return _ChunkResult(rows, votes, faults, None, postings)


def _check_plain_vote(lf: Any, vote: Any) -> int:
    if isinstance(vote, (int, np.integer)) and not isinstance(vote, bool) and vote >= ABSTAIN:
        return int(vote)
    raise LabelcycleError(f"LF {lf.name!r} returned {vote!r}; a Snorkel LF must return an int >= -1")
