"""Export training labels as an OpenAI chat fine-tuning set: ``train.jsonl``, ``validation.jsonl``.

:func:`export_chat` turns the rows of a frame into chat examples
``{"messages": [system, user, assistant]}`` with a :class:`~finetune.templates.PromptTemplate`.
For classification the assistant answers with the class name (the hard label of the
:class:`~weak_supervision.prob_labels.ProbabilisticLabels`); for text-to-text tasks it answers with
a column (a human-written summary, a redacted text, ...). Rows then pass these filters, in order,
each one counting the rows it removed (:data:`FILTERS`):

``excluded``
    rows left out up front (``exclude``; the project's dev rows, kept for evaluation);
``uncovered`` / ``below_threshold``
    classification: rows no LF voted on (always), rows whose label confidence is below
    ``confidence_threshold``;
``missing_answer``
    text: rows whose answer column is empty;
``invalid_text``
    rows whose user message is blank or whose text is not valid Unicode (lone surrogates);
``too_long``
    rows over the model's per-example token limit (``finetune/models.toml``);
``exact_duplicate`` / ``near_duplicate``
    rows whose prompt (the values the template fills in, normalised: NFKC, case-folded, spaces
    collapsed) repeats, or nearly repeats, one kept before it (most confident first);
``class_cap`` / ``balance``
    a seeded sample of at most ``max_per_class`` rows per class; with ``balance``, every class cut
    to the size of the smallest one.

The rest is split into train and validation, stratified by class and seeded. Exact and near
duplicates are never split apart: a validation row that duplicates a train row moves to train
(``leakage`` counts them). Both files, and ``sidecar.jsonl`` mapping every record (file, line) to
its source id, row and class probabilities, are written to temporary files, checked with
:func:`finetune.validate.validate_records` and only then renamed into place: a failure leaves no
partial output. A PII gate (:mod:`finetune.pii_gate`) can refuse records with PII.

Near duplicates are found with MinHash over character 5-gram shingles, computed as one-permutation
hashing (one hash per shingle, 128 bins, rotation densification) in numpy, and LSH banding; candidate
pairs are kept when their signatures agree on at least ``near_duplicate_threshold`` of the bins (the
MinHash estimate of the Jaccard similarity), and linked rows form groups (single linkage).

Example
-------
>>> import numpy as np, pandas as pd, tempfile
>>> from weak_supervision.prob_labels import ProbabilisticLabels
>>> frame = pd.DataFrame({"text": [f"message number {i} about {w}" for i, w in
...                                enumerate(["refunds", "parcels"] * 15)]})
>>> labels = ProbabilisticLabels(frame.index.to_numpy(), np.tile([[0.9, 0.1], [0.2, 0.8]], (15, 1)),
...                              ("billing", "shipping"), "label_model")
>>> result = export_chat(frame, template=PromptTemplate("Classify.", "{text}"), labels=labels,
...                      validation_fraction=0.2, out_dir=tempfile.mkdtemp())
>>> result.n_train, result.n_validation, result.class_counts["billing"]
(24, 6, {'train': 12, 'validation': 3})
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from finetune.pii_gate import PIIGate, PIIGateReport
from finetune.templates import PromptTemplate, default_system_prompt
from finetune.tokens import count_message_tokens, encoding_for_model, model_info
from finetune.validate import DEFAULT_MODEL, ValidationReport, validate_records
from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.prob_labels import ProbabilisticLabels
from weak_supervision.registry import Registry

if TYPE_CHECKING:
    from weak_supervision.project import Project

__all__ = [
    "FILTERS",
    "TRAIN_FILE",
    "VALIDATION_FILE",
    "SIDECAR_FILE",
    "EXPORT_OPTIONS",
    "ExportResult",
    "export_provenance",
    "DuplicateGroups",
    "normalize_text",
    "minhash_signatures",
    "lsh_parameters",
    "duplicate_groups",
    "export_chat",
    "export_project",
]

TRAIN_FILE = "train.jsonl"
VALIDATION_FILE = "validation.jsonl"
SIDECAR_FILE = "sidecar.jsonl"

FILTERS: dict[str, str] = {
    "excluded": "left out up front (the dev rows, kept for evaluation)",
    "uncovered": "no LF voted on the row",
    "below_threshold": "label confidence below confidence_threshold",
    "missing_answer": "the answer column is empty",
    "invalid_text": "blank user message, or text that is not valid Unicode",
    "too_long": "over the model's per-example token limit",
    "exact_duplicate": "the same prompt (normalised) as a row kept before it",
    "near_duplicate": "nearly the same prompt as a row kept before it",
    "class_cap": "over max_per_class",
    "balance": "cut to the size of the smallest class",
}
"""Filter name -> what its rows were removed for, in the order the filters run."""

_HINTS = {
    "excluded": "the rows left are all dev rows; add unlabelled rows to the data file",
    "uncovered": "write LFs that vote on more rows (`labelcycle label` shows coverage)",
    "below_threshold": "lower confidence_threshold",
    "missing_answer": "fill the answer column, or choose another assistant_column",
    "invalid_text": "check that user_template names the columns that hold the text",
    "too_long": "shorten user_template or pick a model with a larger context",
    "exact_duplicate": "the rows repeat one another; add more distinct rows",
    "near_duplicate": "raise near_duplicate_threshold, or add more distinct rows",
    "class_cap": "raise max_per_class",
    "balance": "set balance = false",
}

_WS = re.compile(r"\s+")
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_VALUE_BITS = 40


# ------------------------------------------------------------------------------------------------
# near duplicates
# ------------------------------------------------------------------------------------------------
def normalize_text(text: str) -> str:
    """The form texts are compared in: NFKC, case-folded, whitespace runs as one space, stripped.

    Example
    -------
    >>> normalize_text("  Ｒefund\\t\\tPLEASE ")
    'refund please'
    """
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _seed64(seed: int, salt: int) -> np.uint64:
    return _mix(np.array([(seed * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF],
                         dtype=np.uint64))[0]


def _chunk_signatures(texts: list[str], k: int, num_perm: int, seed: np.uint64) -> np.ndarray:
    n = len(texts)
    padded = [t if len(t) >= k else t + "\x00" * (k - len(t)) for t in texts]
    lens = np.fromiter(map(len, padded), dtype=np.int64, count=n)
    raw = "".join(padded).encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(raw, dtype="<u4").astype(np.uint64)
    total = codes.size
    width = total - k + 1
    h = np.zeros(width, dtype=np.uint64)
    for j in range(k):  # polynomial hash of the k characters starting at every position
        h = h * np.uint64(0x100000001B3) + codes[j:j + width]
    counts = lens - k + 1
    starts = np.cumsum(lens) - lens
    first_shingle = np.cumsum(counts) - counts
    doc = np.repeat(np.arange(n, dtype=np.int64), counts)
    pos = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first_shingle - starts, counts)
    hv = _mix(h[pos] ^ seed)
    shift = np.uint64(64 - int(math.log2(num_perm)))
    bins = (hv >> shift).astype(np.int64)
    vals = hv & np.uint64((1 << _VALUE_BITS) - 1)
    sig = np.full(n * num_perm, _MASK64, dtype=np.uint64)
    np.minimum.at(sig, doc * num_perm + bins, vals)
    sig = sig.reshape(n, num_perm)
    # rotation densification: an empty bin takes the next non-empty bin's value (circularly),
    # offset by the distance so borrowed and own values never coincide
    empty = sig == _MASK64
    if empty.any():
        doubled = np.concatenate([sig, sig], axis=1)
        idx = np.where(np.concatenate([~empty, ~empty], axis=1),
                       np.arange(2 * num_perm), 2 * num_perm)
        nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :num_perm]
        dist = (nxt - np.arange(num_perm)).astype(np.uint64)
        sig = np.take_along_axis(doubled, nxt, axis=1) + (dist << np.uint64(_VALUE_BITS))
    return sig


def minhash_signatures(texts: Sequence[str], *, num_perm: int = 128, shingle_size: int = 5,
                       seed: int = 123) -> np.ndarray:
    """MinHash signatures of texts over character shingles (one-permutation hashing).

    Every ``shingle_size``-character shingle is hashed once (seeded); the hash's top bits pick one
    of ``num_perm`` bins and each bin keeps its smallest value. Empty bins borrow from the next
    non-empty one (rotation densification). Two texts agree on a bin with probability close to the
    Jaccard similarity of their shingle sets. Texts shorter than a shingle are padded. Texts are
    used as given (see :func:`normalize_text`).

    Parameters
    ----------
    texts : sequence of str
    num_perm : int
        Bins per signature, a power of two from 8 to 1024.
    shingle_size : int
        Characters per shingle.
    seed : int
        Seed of the hash function.

    Returns
    -------
    numpy.ndarray of uint64, shape (len(texts), num_perm)

    Example
    -------
    >>> text = "the parcel never arrived and nobody answers my emails about it"
    >>> sig = minhash_signatures([text, text + "!", "please refund my order"])
    >>> bool((sig[0] == sig[1]).mean() > 0.8), float((sig[0] == sig[2]).mean())
    (True, 0.0)
    """
    if num_perm < 8 or num_perm > 1024 or num_perm & (num_perm - 1):
        raise ConfigError(f"num_perm must be a power of two from 8 to 1024, got {num_perm}")
    if shingle_size < 1:
        raise ConfigError(f"shingle_size must be at least 1, got {shingle_size}")
    seed64 = _seed64(int(seed), 1)
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    start, budget = 0, 0
    texts = list(texts)
    for i, text in enumerate(texts):  # chunks of ~1M characters bound the memory used
        budget += len(text) + shingle_size
        if budget >= 1_000_000 or i == len(texts) - 1:
            out[start:i + 1] = _chunk_signatures(texts[start:i + 1], shingle_size, num_perm,
                                                 seed64)
            start, budget = i + 1, 0
    return out


def lsh_parameters(threshold: float, num_perm: int = 128, *, recall: float = 0.99
                   ) -> tuple[int, int]:
    """``(bands, rows)`` of LSH banding for a Jaccard ``threshold``.

    Among bandings whose S-curve ``1 - (1 - s**rows)**bands`` makes a pair of similarity
    ``threshold`` a candidate with probability at least ``recall``, the one with the least
    false-positive area below the threshold (fewest needless signature comparisons).

    Example
    -------
    >>> lsh_parameters(0.9, 128)
    (12, 10)
    """
    grid = np.linspace(0.0, threshold, 201)
    best, best_cost = (num_perm, 1), math.inf
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold ** rows) ** bands < recall:
            continue
        cost = float(np.trapezoid(1.0 - (1.0 - grid ** rows) ** bands, grid))
        if cost < best_cost:
            best, best_cost = (bands, rows), cost
    return best


@dataclass(frozen=True)
class DuplicateGroups:
    """Groups of exact and near duplicate texts (see :func:`duplicate_groups`).

    Attributes
    ----------
    groups : numpy.ndarray of int
        Group label per text; texts with the same label are linked duplicates. Labels are numbered
        by first appearance, so ``groups[i] == i`` style checks are not meaningful; compare labels.
    exact : numpy.ndarray of int
        Label per text of its normalised form (equal labels: exact duplicates).
    n_candidate_pairs, n_near_pairs : int
        Pairs LSH proposed, and pairs whose signature agreement reached the threshold.
    bands, rows : int
        LSH banding used (0 when near duplicates were not searched).
    seconds : float
        Time taken.
    """

    groups: np.ndarray
    exact: np.ndarray
    n_candidate_pairs: int
    n_near_pairs: int
    bands: int
    rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Counts and parameters (not the per-text arrays)."""
        return {"n_texts": int(self.groups.size),
                "n_groups": int(np.unique(self.groups).size) if self.groups.size else 0,
                "n_exact_groups": int(np.unique(self.exact).size) if self.exact.size else 0,
                "n_candidate_pairs": self.n_candidate_pairs, "n_near_pairs": self.n_near_pairs,
                "bands": self.bands, "rows": self.rows, "seconds": round(self.seconds, 3)}


def _band_pairs(sig: np.ndarray, bands: int, rows: int, seed: int) -> np.ndarray:
    """Candidate pairs ``(i, j)``, i < j, sharing a band; as int64 codes ``i * n + j``."""
    n = sig.shape[0]
    codes = []
    for b in range(bands):
        key = np.full(n, _seed64(seed, 1000 + b), dtype=np.uint64)
        for c in range(b * rows, (b + 1) * rows):
            key = _mix(key ^ sig[:, c])
        order = np.argsort(key, kind="stable")
        ks = key[order]
        same = ks[1:] == ks[:-1]
        if not same.any():
            continue
        # chain links (neighbours in a bucket) and star links (each member to the bucket's first)
        pos = np.arange(n)
        run_start = np.maximum.accumulate(np.where(np.concatenate([[True], ~same]), pos, 0))
        first = order[run_start]
        member = np.concatenate([[False], same])
        a = np.concatenate([order[:-1][same], first[member]])
        c2 = np.concatenate([order[1:][same], order[member]])
        lo, hi = np.minimum(a, c2), np.maximum(a, c2)
        keep = lo != hi
        codes.append(lo[keep].astype(np.int64) * n + hi[keep])
    if not codes:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(codes))


def duplicate_groups(texts: Sequence[str], *, threshold: float | None = 0.9, seed: int = 123,
                     num_perm: int = 128, shingle_size: int = 5) -> DuplicateGroups:
    """Group texts that are exact duplicates after :func:`normalize_text` or near duplicates.

    Near duplicates: MinHash signatures (:func:`minhash_signatures`) bucketed by LSH banding
    (:func:`lsh_parameters`); a candidate pair is linked when its signatures agree on at least
    ``threshold`` of the bins. Linked texts and exact duplicates form groups (connected
    components). Empty texts are only grouped with each other.

    Parameters
    ----------
    texts : sequence of str
    threshold : float or None
        Estimated Jaccard similarity from which two texts are near duplicates; None looks for
        exact duplicates only.
    seed, num_perm, shingle_size
        See :func:`minhash_signatures`.

    Returns
    -------
    DuplicateGroups

    Example
    -------
    >>> text = "Where is my parcel? It was due last Tuesday and the tracking page shows nothing."
    >>> g = duplicate_groups([text, text.upper(), text.replace("Tuesday", "Tuesday!"),
    ...                       "I want a refund"]).groups
    >>> bool(g[0] == g[1] == g[2]), bool(g[3] != g[0])
    (True, True)
    """
    t0 = time.perf_counter()
    norm = [normalize_text(t) for t in texts]
    n = len(norm)
    exact = pd.factorize(pd.Series(norm, dtype=object))[0].astype(np.int64) if n else \
        np.zeros(0, dtype=np.int64)
    firsts = np.zeros(0, dtype=np.int64)
    if n:
        _, first_idx = np.unique(exact, return_index=True)
        firsts = first_idx[exact]
    src = [np.arange(n)]
    dst = [firsts]
    n_cand = n_near = 0
    bands = rows = 0
    if threshold is not None and n > 1:
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"near_duplicate_threshold must be in (0, 1], got {threshold}")
        # one signature per distinct non-empty text
        reps = np.flatnonzero((firsts == np.arange(n)) & np.array([bool(t) for t in norm]))
        if reps.size > 1:
            sig = minhash_signatures([norm[i] for i in reps], num_perm=num_perm,
                                     shingle_size=shingle_size, seed=seed)
            bands, rows = lsh_parameters(threshold, num_perm)
            pairs = _band_pairs(sig[:, :bands * rows], bands, rows, seed)
            n_cand = int(pairs.size)
            m = reps.size
            i, j = pairs // m, pairs % m
            ok = np.zeros(pairs.size, dtype=bool)
            step = max(1, 4_000_000 // num_perm)
            for s in range(0, pairs.size, step):
                agree = (sig[i[s:s + step]] == sig[j[s:s + step]]).mean(axis=1)
                ok[s:s + step] = agree >= threshold - 1e-12
            n_near = int(ok.sum())
            src.append(reps[i[ok]])
            dst.append(reps[j[ok]])
    if n:
        a, b = np.concatenate(src), np.concatenate(dst)
        graph = sp.coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
        _, comp = connected_components(graph, directed=False)
        groups = pd.factorize(comp)[0].astype(np.int64)
    else:
        groups = np.zeros(0, dtype=np.int64)
    return DuplicateGroups(groups, exact, n_cand, n_near, bands, rows, time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_chat` wrote and every count behind it.

    Attributes
    ----------
    out_dir : Path
        The folder written to.
    files : dict of str to Path
        ``train``, ``validation`` (absent when ``validation_fraction`` is 0) and ``sidecar``.
    task, model : str
        The task and the model the files were validated for.
    n_input, n_train, n_validation : int
        Rows given, records written to each file.
    filters : dict of str to int
        Rows removed by each filter that ran, in order (see :data:`FILTERS`).
    class_counts : dict
        Class -> ``{"train": n, "validation": n}`` (empty for text tasks without labels).
    leakage : dict
        ``groups``: duplicate groups that the split had cut apart; ``moved_to_train``: validation
        rows moved to train because of them.
    train_report, validation_report : ValidationReport
        :func:`~finetune.validate.validate_records` on the written files (token statistics in
        ``.stats``); ``validation_report`` is None without a validation file.
    pii : PIIGateReport or None
        The PII gate's findings, when a gate ran.
    near_duplicates : dict
        :meth:`DuplicateGroups.to_dict` of the duplicate search.
    timings : dict of str to float
        Seconds per step.
    options : dict
        The options of the export.
    warnings : tuple of str
        Things worth a look (a class with no rows, a tiny validation set, PII allowed ...).
    run_id : str or None
        The registry run (set by :func:`export_project`).
    """

    out_dir: Path
    files: dict[str, Path]
    task: str
    model: str
    n_input: int
    n_train: int
    n_validation: int
    filters: dict[str, int]
    class_counts: dict[str, dict[str, int]]
    leakage: dict[str, int]
    train_report: ValidationReport
    validation_report: ValidationReport | None
    pii: PIIGateReport | None
    near_duplicates: dict[str, Any]
    timings: dict[str, float]
    options: dict[str, Any]
    warnings: tuple[str, ...] = ()
    run_id: str | None = None

    @property
    def token_stats(self) -> dict[str, Any]:
        """Token statistics of each file (``finetune.validate.ValidationStats.to_dict``)."""
        out = {"train": self.train_report.stats.to_dict()}
        if self.validation_report is not None:
            out["validation"] = self.validation_report.stats.to_dict()
        return out

    def figures(self) -> dict[str, Any]:
        """A compact JSON-ready summary (counts, token statistics, PII counts; no findings).

        This is what :func:`export_project` records in the run registry.
        """
        pii = None
        if self.pii is not None:
            pii = {"ok": self.pii.ok, "n_flagged": self.pii.n_flagged,
                   "type_counts": self.pii.type_counts(), "roles": list(self.pii.roles)}
        reports = {"train": self.train_report}
        if self.validation_report is not None:
            reports["validation"] = self.validation_report
        return {
            "task": self.task, "model": self.model, "n_input": self.n_input,
            "n_train": self.n_train, "n_validation": self.n_validation,
            "filters": dict(self.filters), "class_counts": self.class_counts,
            "leakage": dict(self.leakage), "near_duplicates": self.near_duplicates,
            "tokens": self.token_stats,
            "validation": {name: {"ok": r.ok, "error_counts": r.error_counts(),
                                  "n_warnings": len(r.warnings)} for name, r in reports.items()},
            "pii": pii, "files": {k: str(v) for k, v in self.files.items()},
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready data: :meth:`figures` plus the full validation reports, the
        PII findings (offsets only) and the options."""
        out = self.figures()
        out["run_id"] = self.run_id
        out["out_dir"] = str(self.out_dir)
        out["options"] = self.options
        out["validation_reports"] = {"train": self.train_report.to_dict()}
        if self.validation_report is not None:
            out["validation_reports"]["validation"] = self.validation_report.to_dict()
        out["pii"] = self.pii.to_dict() if self.pii is not None else None
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per filter: ``filter``, ``removed``, ``remaining``, ``reason``.

        Example
        -------
        >>> import numpy as np, pandas as pd, tempfile
        >>> from weak_supervision.prob_labels import ProbabilisticLabels
        >>> frame = pd.DataFrame({"text": [f"ticket {i}: where is parcel {i}" for i in range(12)]})
        >>> pl = ProbabilisticLabels(frame.index.to_numpy(), np.full((12, 2), 0.5), ("a", "b"), "x")
        >>> r = export_chat(frame, template=PromptTemplate(None, "{text}"), labels=pl,
        ...                 validation_fraction=0, out_dir=tempfile.mkdtemp())
        >>> r.to_frame()["filter"].tolist()[:2]
        ['uncovered', 'below_threshold']
        """
        remaining = self.n_input
        rows = []
        for name, removed in self.filters.items():
            remaining -= removed
            rows.append({"filter": name, "removed": removed, "remaining": remaining,
                         "reason": FILTERS.get(name, "")})
        return pd.DataFrame(rows, columns=["filter", "removed", "remaining", "reason"])


# ------------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------------
def _filters_text(n_input: int, removed: dict[str, int]) -> str:
    parts = [f"{name} {count:,}" for name, count in removed.items()]
    return f"{n_input:,} rows in; removed by filter: " + ", ".join(parts)


def _empty_error(n_input: int, removed: dict[str, int], options: dict[str, Any]) -> DataError:
    if n_input == 0:
        return DataError("nothing to export: the data has no rows")
    worst = max(removed, key=lambda k: removed[k])
    hint = _HINTS.get(worst, "")
    if worst == "below_threshold":
        hint += f" (now {options['confidence_threshold']})"
    return DataError(f"nothing to export: every row was removed ({_filters_text(n_input, removed)})"
                     f". Most went to {worst!r}: {hint}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_line(record: dict[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False)
    for char, escape in _LINE_BREAKS.items():  # characters str.splitlines() would split on
        if char in line:
            line = line.replace(char, escape)
    return line


def _json_id(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    """Write ``lines`` (one per line, UTF-8) to ``path``; the caller owns ``path`` (a temp)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _temp_path(folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def _validate(path: Path, final: Path, model: str) -> ValidationReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report carries the encoding warnings
        with open(path, "rb") as fh:
            return validate_records(fh, model=model, path=str(final))


def _check_options(task: str, confidence_threshold: float, max_per_class: int | None,
                   validation_fraction: float, near_duplicate_threshold: float | None) -> None:
    if task not in ("classification", "text"):
        raise ConfigError(f"task must be 'classification' or 'text', got {task!r}")
    if not 0.0 <= confidence_threshold <= 1.0:
        raise ConfigError(f"confidence_threshold must be in [0, 1], got {confidence_threshold}")
    if max_per_class is not None and (isinstance(max_per_class, bool) or max_per_class < 1):
        raise ConfigError(f"max_per_class must be a positive number of rows, got {max_per_class}")
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if near_duplicate_threshold is not None and not 0.0 < near_duplicate_threshold <= 1.0:
        raise ConfigError("near_duplicate_threshold must be in (0, 1] (or None to skip near "
                          f"duplicates), got {near_duplicate_threshold}")


def _sample_strata(rows: np.ndarray, strata: np.ndarray, cap: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Rows (sorted) after keeping at most ``cap`` of each stratum >= 0, sampled with ``rng``."""
    keep = [rows[strata < 0]]
    for s in np.unique(strata[strata >= 0]):
        members = rows[strata == s]
        if members.size > cap:
            members = np.sort(rng.choice(members, size=cap, replace=False))
        keep.append(members)
    return np.sort(np.concatenate(keep))


def export_chat(
    frame: pd.DataFrame,
    *,
    template: PromptTemplate,
    task: str = "classification",
    labels: ProbabilisticLabels | None = None,
    assistant_column: str | None = None,
    ids: Sequence[Any] | np.ndarray | None = None,
    confidence_threshold: float = 0.0,
    max_per_class: int | None = None,
    balance: bool = False,
    validation_fraction: float = 0.1,
    seed: int = 123,
    dedupe: bool = True,
    near_duplicate_threshold: float | None = 0.9,
    out_dir: str | os.PathLike[str],
    pii_gate: PIIGate | None = None,
    exclude: Sequence[bool] | np.ndarray | None = None,
    model: str = DEFAULT_MODEL,
) -> ExportResult:
    """Write ``train.jsonl``, ``validation.jsonl`` and ``sidecar.jsonl`` for chat fine-tuning.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows; the template's placeholders (and the answer column) name its columns.
    template : PromptTemplate
        System prompt and user message template.
    task : {"classification", "text"}
        Classification: the answer is the row's class name (needs ``labels``). Text: the answer
        is ``assistant_column`` (or ``template.assistant``).
    labels : ProbabilisticLabels, optional
        Class probabilities, matched to the rows by id. Required for classification; for text
        tasks they only stratify the split, allow ``max_per_class``/``balance`` and fill the
        sidecar.
    assistant_column : str, optional
        Text tasks: the column holding the answer.
    ids : sequence, optional
        Source id of each row; default ``labels.ids`` when they are as many as the rows, else the
        frame's index. Must be unique.
    confidence_threshold : float
        Classification: rows whose top class probability is below it are dropped.
    max_per_class : int, optional
        Keep at most this many rows per class (a seeded sample).
    balance : bool
        Cut every class to the size of the smallest one (a seeded sample).
    validation_fraction : float
        Share of each class that goes to ``validation.jsonl``; 0 writes no validation file.
    seed : int
        Seeds sampling, the split, the record order and the MinHash hashes.
    dedupe : bool
        Remove exact and near duplicate prompts (the most confident copy stays).
    near_duplicate_threshold : float or None
        MinHash Jaccard estimate from which prompts are near duplicates; None: exact only.
    out_dir : path-like
        Folder for the files (created if missing).
    pii_gate : PIIGate, optional
        Scan the records for PII; raise unless ``pii_gate.allow_pii``.
    exclude : array of bool, optional
        Rows to leave out before any filter (counted as ``excluded``), e.g. dev rows.
    model : str
        The model to fine-tune; sets the token limit and the tokenizer of the validation.

    Returns
    -------
    ExportResult

    Raises
    ------
    ConfigError
        Invalid options or template, a class name that cannot be an answer.
    DataError
        Ids missing from ``labels`` or repeated; nothing left to export (the message gives the
        rows each filter removed); a written file fails validation (nothing is left behind); PII
        in a PII-free export.

    Example
    -------
    >>> import pandas as pd, tempfile
    >>> frame = pd.DataFrame({"article": [f"Long article number {i} about topic {i}." for i in range(20)],
    ...                       "summary": [f"Topic {i}." for i in range(20)]})
    >>> r = export_chat(frame, template=PromptTemplate("Summarise.", "{article}"), task="text",
    ...                 assistant_column="summary", out_dir=tempfile.mkdtemp())
    >>> r.n_train + r.n_validation, sorted(r.files)
    (20, ['sidecar', 'train', 'validation'])
    """  # noqa: E501
    t_start = time.perf_counter()
    _check_options(task, confidence_threshold, max_per_class, validation_fraction,
                   near_duplicate_threshold)
    answer_col = _answer_column(frame, template, task, labels, assistant_column)
    if (balance or max_per_class is not None) and labels is None:
        raise ConfigError("max_per_class and balance need classes: pass labels")
    n = len(frame)
    ids_arr = _row_ids(ids, labels, frame)
    lab = _Aligned.of(labels, ids_arr)
    options = {"task": task, "confidence_threshold": confidence_threshold,
               "max_per_class": max_per_class, "balance": balance,
               "validation_fraction": validation_fraction, "seed": seed, "dedupe": dedupe,
               "near_duplicate_threshold": near_duplicate_threshold,
               "assistant_column": answer_col, "model": model, "template": template.to_dict(),
               "pii_gate": pii_gate.to_dict() if pii_gate is not None else None}
    timings: dict[str, float] = {}
    notes: list[str] = []
    f = _Filters(n)
    if exclude is not None:
        ex = np.asarray(exclude, dtype=bool)
        if ex.shape != (n,):
            raise DataError(f"exclude has shape {ex.shape}; expected one flag per row ({n})")
        f.drop("excluded", ex)

    # ---- answers and messages
    answers = np.empty(n, dtype=object)
    if task == "classification":
        f.drop("uncovered", ~lab.covered | (lab.hard < 0))
        f.drop("below_threshold", lab.conf < confidence_threshold)
        answers[f.alive] = np.array(lab.names, dtype=object)[lab.hard[f.alive]]
    else:
        col = frame[answer_col].to_numpy(dtype=object)
        for i in np.flatnonzero(f.alive):
            answers[i] = _cell_text(col[i])
        f.drop("missing_answer", np.array([a is None or not a.strip() for a in answers],
                                          dtype=bool))
    t0 = time.perf_counter()
    users, keys = _render(frame, template, np.flatnonzero(f.alive))
    f.drop("invalid_text", np.array([
        alive and (not users[i].strip() or not _encodable(users[i]) or not _encodable(keys[i])
                   or not _encodable(answers[i])) for i, alive in enumerate(f.alive)], dtype=bool))
    timings["render"] = time.perf_counter() - t0
    f.drop("too_long", _too_long(template, users, answers, f.alive, model))

    # ---- duplicates (most confident first), caps and balance
    t0 = time.perf_counter()
    order = np.lexsort((np.arange(n), -lab.conf)) if task == "classification" else np.arange(n)
    cand = order[f.alive[order]]
    dg = duplicate_groups([keys[i] for i in cand], threshold=near_duplicate_threshold, seed=seed)
    groups = np.full(n, -1, dtype=np.int64)
    groups[cand] = dg.groups
    if dedupe:
        f.drop("exact_duplicate", ~_firsts(n, cand, dg.exact))
        f.drop("near_duplicate", ~_firsts(n, cand, dg.groups))
    timings["duplicates"] = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    if max_per_class is not None:
        f.keep_only("class_cap", _sample_strata(f.rows, lab.hard[f.rows], max_per_class, rng))
    if balance:
        present = np.unique(lab.hard[f.rows][lab.hard[f.rows] >= 0])
        smallest = min((int((lab.hard[f.rows] == s).sum()) for s in present), default=0)
        f.keep_only("balance", _sample_strata(f.rows, lab.hard[f.rows], smallest, rng)
                    if present.size else f.rows)
    if not f.alive.any():
        raise _empty_error(n, f.removed, options)

    # ---- stratified split, leakage check, record order
    in_val = _split(f.rows, lab.hard, validation_fraction, rng, n)
    moved, leakage = _resolve_leakage(f.rows, groups, in_val)
    in_val &= ~moved
    train_rows = rng.permutation(f.rows[~in_val[f.rows]])
    val_rows = rng.permutation(f.rows[in_val[f.rows]])
    if validation_fraction > 0 and val_rows.size == 0:
        notes.append("validation_fraction > 0 but no row went to validation (too few rows per "
                     "class); no validation file was written")
    class_counts = {name: {"train": int((lab.hard[train_rows] == k).sum()),
                           "validation": int((lab.hard[val_rows] == k).sum())}
                    for k, name in enumerate(lab.names)}
    empty = [name for name, c in class_counts.items() if not c["train"]]
    if empty:
        notes.append(f"class(es) {', '.join(map(repr, empty))} have no training rows")

    # ---- records, PII gate, files
    records = {TRAIN_FILE: [{"messages": _messages(template, users[i], answers[i])}
                            for i in train_rows],
               VALIDATION_FILE: [{"messages": _messages(template, users[i], answers[i])}
                                 for i in val_rows]}
    row_sets = {TRAIN_FILE: train_rows, VALIDATION_FILE: val_rows}
    pii_report = None
    if pii_gate is not None:
        t0 = time.perf_counter()
        for name, recs in records.items():
            if recs:
                found = pii_gate.scan(recs, ids=[_json_id(ids_arr[i]) for i in row_sets[name]],
                                      file=name)
                pii_report = found if pii_report is None else pii_report.merge(found)
        timings["pii"] = time.perf_counter() - t0
        if pii_report is not None:
            pii_gate.enforce(pii_report)
            if not pii_report.ok:
                notes.append("PII allowed in a PII-free export: " + pii_report.describe(limit=3))
    sidecar = [_sidecar_entry(name, line, i, ids_arr, lab, moved)
               for name, rows_ in row_sets.items() for line, i in enumerate(rows_, start=1)]
    t0 = time.perf_counter()
    files, train_report, val_report = _write_export(Path(out_dir), records, sidecar, model, n,
                                                    f.removed, notes)
    timings["write_and_validate"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return ExportResult(
        out_dir=Path(out_dir), files=files, task=task, model=model, n_input=n,
        n_train=int(train_rows.size), n_validation=int(val_rows.size), filters=dict(f.removed),
        class_counts=class_counts, leakage=leakage, train_report=train_report,
        validation_report=val_report, pii=pii_report, near_duplicates=dg.to_dict(),
        timings=timings, options=options, warnings=tuple(notes))


class _Filters:
    """Rows still in, and how many each filter removed."""

    def __init__(self, n: int):
        self.alive = np.ones(n, dtype=bool)
        self.removed: dict[str, int] = {}

    @property
    def rows(self) -> np.ndarray:
        return np.flatnonzero(self.alive)

    def drop(self, name: str, mask: np.ndarray) -> None:
        hit = self.alive & mask
        self.removed[name] = int(hit.sum())
        self.alive[hit] = False

    def keep_only(self, name: str, rows: np.ndarray) -> None:
        mask = np.ones(self.alive.size, dtype=bool)
        mask[rows] = False
        self.drop(name, mask)


@dataclass(frozen=True)
class _Aligned:
    """Class names and per-row label arrays, aligned with the rows (neutral without labels)."""

    names: tuple[str, ...]
    hard: np.ndarray
    conf: np.ndarray
    covered: np.ndarray
    probs: np.ndarray | None

    @classmethod
    def of(cls, labels: ProbabilisticLabels | None, ids: np.ndarray) -> _Aligned:
        n = ids.size
        if labels is None:
            return cls((), np.full(n, -1, dtype=np.int64), np.ones(n), np.ones(n, dtype=bool),
                       None)
        label_keys = pd.Index(np.asarray(labels.ids).astype(str))
        if not label_keys.is_unique:
            raise DataError("the ids of the probabilistic labels repeat; labels must come from "
                            "one label run over rows with unique ids")
        pos = label_keys.get_indexer(pd.Index(ids.astype(str)))
        if (pos < 0).any():
            missing = np.flatnonzero(pos < 0)
            raise DataError(
                f"{missing.size} of {n} rows have no probabilistic label (first id "
                f"{str(ids[missing[0]])!r}); the labels come from other data. Run the "
                "labeling again (labelcycle label) on this data")
        for name in labels.labels:
            if not name.strip() or not _encodable(name):
                raise ConfigError(f"class name {name!r} cannot be an assistant answer: it must "
                                  "hold visible, valid Unicode text")
        return cls(labels.labels, labels.hard[pos], labels.confidence[pos], labels.covered[pos],
                   labels.probs[pos])


def _answer_column(frame: Any, template: Any, task: str, labels: Any,
                   assistant_column: str | None) -> str | None:
    """Check the inputs that decide the answers; the answer column of a text task."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if not isinstance(template, PromptTemplate):
        raise ConfigError(f"template must be a PromptTemplate, got {type(template).__name__}")
    answer_col = assistant_column if assistant_column is not None else template.assistant
    if task == "text":
        if answer_col is None:
            raise ConfigError("task 'text' needs assistant_column: the column holding the "
                              "assistant's answer")
        if assistant_column is not None and template.assistant not in (None, assistant_column):
            raise ConfigError(f"assistant_column {assistant_column!r} differs from the template's "
                              f"assistant column {template.assistant!r}; set only one")
    else:
        if labels is None:
            raise ConfigError("a classification export needs labels (the ProbabilisticLabels "
                              "of a label run); for text-to-text data use task='text'")
        if answer_col is not None:
            raise ConfigError("assistant_column is for task='text'; a classification export "
                              "answers with the class name")
    template.check_columns(frame.columns)
    if answer_col is not None and answer_col not in frame.columns:
        raise ConfigError(f"assistant_column {answer_col!r} is not a column of the data; "
                          f"available columns: {', '.join(map(str, frame.columns))}")
    if template.system_prompt and not _encodable(template.system_prompt):
        raise ConfigError("system_prompt is not valid Unicode (it holds a lone surrogate)")
    return answer_col


def _row_ids(ids: Any, labels: ProbabilisticLabels | None, frame: pd.DataFrame) -> np.ndarray:
    n = len(frame)
    if ids is None:
        ids_arr = (np.asarray(labels.ids) if labels is not None and labels.n_rows == n
                   else frame.index.to_numpy())
    else:
        ids_arr = np.asarray(ids)
    if ids_arr.ndim != 1 or ids_arr.size != n:
        raise DataError(f"{ids_arr.size} ids given for {n} rows; pass one id a row")
    keys = pd.Index(ids_arr.astype(str))
    if not keys.is_unique:
        dup = keys[keys.duplicated()].unique()[:5].tolist()
        raise DataError(f"ids must be unique; repeated: {', '.join(map(repr, dup))}")
    return ids_arr


def _is_missing(value: Any) -> bool:
    return (value is None or (isinstance(value, float) and math.isnan(value))
            or type(value).__name__ in ("NAType", "NaTType"))


def _cell_text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _render(frame: pd.DataFrame, template: PromptTemplate, rows: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """User messages, and the texts duplicates are judged on (the filled-in values), of ``rows``."""
    n = len(frame)
    users = np.empty(n, dtype=object)
    keys = np.empty(n, dtype=object)
    fields = list(template.fields)
    if not rows.size:
        return users, keys
    values = (frame.iloc[rows][fields].itertuples(index=False, name=None) if fields
              else ((),) * rows.size)
    for i, vals in zip(rows, values, strict=True):
        users[i] = template.fill(vals)
        keys[i] = "\n".join(_cell_text(v) for v in vals)
    return users, keys


def _too_long(template: PromptTemplate, users: np.ndarray, answers: np.ndarray,
              alive: np.ndarray, model: str) -> np.ndarray:
    """Rows over the model's per-example token limit (tokens are counted only for rows whose
    UTF-8 size could exceed it: a token is at least one byte)."""
    out = np.zeros(alive.size, dtype=bool)
    info = model_info(model)
    limit = info.max_tokens_per_example if info is not None else None
    if limit is None:
        return out
    system = template.system_prompt
    fixed = (len(system.encode("utf-8")) + 12 if system else 0) + 3 + 2 * 12
    encoding = None
    for i in np.flatnonzero(alive):
        if fixed + len(users[i].encode("utf-8")) + len(answers[i].encode("utf-8")) <= limit:
            continue
        if encoding is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                encoding, _ = encoding_for_model(model)
        tokens = sum(count_message_tokens(m, encoding)
                     for m in _messages(template, users[i], answers[i])) + 3
        out[i] = tokens > limit
    return out


def _firsts(n: int, cand: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``cand`` that come first among those sharing their label."""
    out = np.ones(n, dtype=bool)
    out[cand] = False
    if cand.size:
        _, first = np.unique(labels, return_index=True)
        out[cand[first]] = True
    return out


def _split(rows: np.ndarray, strata_all: np.ndarray, fraction: float,
           rng: np.random.Generator, n: int) -> np.ndarray:
    """Validation mask: ``round(fraction * size)`` rows of each stratum (a seeded sample), never
    a whole stratum."""
    in_val = np.zeros(n, dtype=bool)
    if fraction <= 0:
        return in_val
    strata = strata_all[rows]
    for s in np.unique(strata):
        members = rng.permutation(rows[strata == s])
        n_val = min(int(math.floor(members.size * fraction + 0.5)), members.size - 1)
        in_val[members[:n_val]] = True
    return in_val


def _resolve_leakage(rows: np.ndarray, groups: np.ndarray, in_val: np.ndarray
                     ) -> tuple[np.ndarray, dict[str, int]]:
    """Validation rows whose duplicate group also has train rows (they move to train)."""
    g = groups[rows]
    crossing = np.intersect1d(g[in_val[rows]], g[~in_val[rows]])
    moved = in_val & np.isin(groups, crossing)
    return moved, {"groups": int(crossing.size), "moved_to_train": int(moved.sum())}


def _sidecar_entry(file: str, line: int, i: int, ids: np.ndarray, lab: _Aligned,
                   moved: np.ndarray) -> str:
    entry: dict[str, Any] = {"file": file, "line": line, "id": _json_id(ids[i]), "row": int(i)}
    if lab.probs is not None:
        entry["label"] = lab.names[lab.hard[i]] if lab.hard[i] >= 0 else None
        entry["confidence"] = float(lab.conf[i])
        entry["probs"] = {c: float(p) for c, p in zip(lab.names, lab.probs[i], strict=True)}
    entry["moved_for_leakage"] = bool(moved[i])
    return _json_line(entry)


def _write_export(out: Path, records: dict[str, list[dict[str, Any]]], sidecar: list[str],
                  model: str, n_input: int, removed: dict[str, int], notes: list[str]
                  ) -> tuple[dict[str, Path], ValidationReport, ValidationReport | None]:
    """Write every file to a temp file, validate, then rename them all; on any failure remove
    the temp files (and ``out`` if this call created it) and re-raise."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    contents = {"train": [_json_line(r) for r in records[TRAIN_FILE]]}
    if records[VALIDATION_FILE]:
        contents["validation"] = [_json_line(r) for r in records[VALIDATION_FILE]]
    contents["sidecar"] = sidecar
    names = {"train": TRAIN_FILE, "validation": VALIDATION_FILE, "sidecar": SIDECAR_FILE}
    targets = {key: out / names[key] for key in contents}
    temps: dict[str, Path] = {}
    try:
        for key, lines in contents.items():
            temps[key] = _temp_path(out, names[key])
            _write_lines(temps[key], lines)
        train_report = _validate(temps["train"], targets["train"], model)
        _raise_if_invalid(train_report, n_input, removed, strict=True)
        val_report = None
        if "validation" in temps:
            val_report = _validate(temps["validation"], targets["validation"], model)
            _raise_if_invalid(val_report, n_input, removed, strict=False)
            if val_report.errors:  # only too_few_examples is left: a warning for this file
                notes.extend(f"{VALIDATION_FILE}: {p.message}" for p in val_report.errors)
                val_report = dataclasses.replace(val_report, errors=(),
                                                 warnings=val_report.errors + val_report.warnings)
        for key, target in targets.items():
            os.replace(temps[key], target)
        if "validation" not in targets:
            (out / VALIDATION_FILE).unlink(missing_ok=True)  # a stale one from an earlier export
    except BaseException:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return targets, train_report, val_report


def _messages(template: PromptTemplate, user: str, answer: str) -> list[dict[str, str]]:
    messages = []
    if template.system_prompt:
        messages.append({"role": "system", "content": template.system_prompt})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": answer})
    return messages


def _raise_if_invalid(report: ValidationReport, n_input: int, removed: dict[str, int], *,
                      strict: bool) -> None:
    """Raise DataError for a report with errors (for the validation file, ``too_few_examples`` is
    only a warning: OpenAI's 10-example minimum is documented for training files)."""
    errors = [p for p in report.errors if strict or p.error != "too_few_examples"]
    if not errors:
        return
    first = errors[0]
    where = f"line {first.line}: " if first.line is not None else ""
    raise DataError(
        f"{report.path} fails validation ({', '.join(f'{k} x{v}' for k, v in report.error_counts().items())})"
        f"; {where}{first.message}. Nothing was written. ({_filters_text(n_input, removed)})")


# ------------------------------------------------------------------------------------------------
# the project-level export
# ------------------------------------------------------------------------------------------------
EXPORT_OPTIONS = ("system_prompt", "user_template", "task", "assistant_column",
                  "confidence_threshold", "max_per_class", "balance", "validation_fraction", "seed",
                  "dedupe", "near_duplicate_threshold", "pii_free", "scan_user_messages")
"""The keys of the ``[export]`` section, which :func:`export_project` accepts as overrides."""


def export_project(project: Project, *, out_dir: str | os.PathLike[str], run_id: str | None = None,
                   allow_pii: bool = False, model: str = DEFAULT_MODEL,
                   **overrides: Any) -> ExportResult:
    """Export a project's training labels with its ``[export]`` settings, and record the run.

    Reads the labels of the latest successful label run (or of ``run_id``), the project's rows
    (matched by id), leaves the dev rows out (they are for evaluation) and calls
    :func:`export_chat`. For ``task = "text"`` labels are read only when ``run_id`` is given. With
    ``pii_free = true`` the records' assistant messages (and user messages with
    ``scan_user_messages = true``) are scanned for PII and the export fails if any is found, unless
    ``allow_pii``. An ``"export"`` run is recorded in the registry with the figures (also when it
    fails), and ``export.json`` (:meth:`ExportResult.to_dict`) is written to its run folder.

    Parameters
    ----------
    project : Project
        A loaded project (:func:`weak_supervision.project.load_project`).
    out_dir : path-like
        Folder for ``train.jsonl``, ``validation.jsonl`` and ``sidecar.jsonl``.
    run_id : str, optional
        The label run whose labels to export; default the latest successful one.
    allow_pii : bool
        Export even when a PII-free export holds PII (CLI ``--allow-pii``).
    model : str
        The model to validate for.
    **overrides
        Values replacing keys of ``[export]`` (see :data:`EXPORT_OPTIONS`).

    Returns
    -------
    ExportResult
        With ``run_id`` set to the export run.

    Raises
    ------
    ConfigError
        Unknown override or invalid option.
    DataError
        No label run yet, a label run that is not a successful ``label`` run, labels that do not
        match the rows, or any error of :func:`export_chat`.

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.pipeline import label_project
    >>> from weak_supervision.project import init_project, load_project
    >>> project = load_project(init_project(tempfile.mkdtemp() + "/demo"))
    >>> _ = label_project(project, n_jobs=1)
    >>> result = export_project(project, out_dir=tempfile.mkdtemp(), confidence_threshold=0.5)
    >>> result.filters["excluded"], result.run_id is not None
    (60, True)
    """
    from weak_supervision.io import write_json
    from weak_supervision.pipeline import registry_for
    from weak_supervision.registry import run_dir

    unknown = sorted(set(overrides) - set(EXPORT_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown export option(s) {', '.join(map(repr, unknown))}; valid: "
                          f"{', '.join(EXPORT_OPTIONS)}")
    section = project.config.export
    try:
        cfg = dataclasses.replace(section, **overrides)
    except TypeError as exc:
        raise ConfigError(f"invalid export option: {exc}") from None
    try:
        for key, message in cfg.problems():
            raise ConfigError(f"{project.config.path}: [export] {key}: {message}")
    except TypeError:
        raise ConfigError(f"invalid export option value in {overrides!r}; see [export] in "
                          f"{project.config.path} for the types") from None
    if cfg.task == "classification" and project.config.project.task != "classification":
        raise ConfigError(f"{project.config.path}: the project's task is "
                          f"{project.config.project.task!r}; set [export] task = \"text\" and "
                          "assistant_column to the column holding the answer")
    registry = registry_for(project)
    workspace = Path(registry.path).parent

    labels = None
    label_run = None
    if cfg.task == "classification" or run_id is not None:
        if run_id is not None:
            label_run = registry.get_run(run_id)
            if label_run.kind != "label" or label_run.status != "ok":
                raise DataError(f"run {run_id} is a {label_run.kind!r} run with status "
                                f"{label_run.status!r}; pass a successful label run")
        else:
            label_run = registry.latest("label")
            if label_run is None:
                raise DataError(f"project {project.name!r} has no successful label run yet; run "
                                "`labelcycle label` first")
        labels = ProbabilisticLabels.read_parquet(run_dir(workspace, label_run.id)
                                                  / "labels.parquet")

    system_prompt = cfg.system_prompt
    if not system_prompt and cfg.task == "classification":
        system_prompt = default_system_prompt(project.labels)
    template = PromptTemplate(system_prompt or None, cfg.user_template,
                              cfg.assistant_column if cfg.task == "text" else None,
                              columns=tuple(project.data.columns))
    gate = None
    if cfg.pii_free:
        gate = PIIGate(roles=("assistant", "user") if cfg.scan_user_messages else ("assistant",),
                       allow_pii=allow_pii)
    export_id = registry.start_run("export", config_fingerprint=project.config.fingerprint,
                                   inputs={"project": project.name,
                                           "data_fingerprint": project.data_fingerprint,
                                           "label_run": label_run.id if label_run else None,
                                           "out_dir": str(out_dir), "model": model,
                                           "allow_pii": allow_pii,
                                           "options": dataclasses.asdict(cfg)})
    try:
        result = export_chat(
            project.data, template=template, task=cfg.task, labels=labels, ids=project.ids,
            confidence_threshold=cfg.confidence_threshold, max_per_class=cfg.max_per_class,
            balance=cfg.balance, validation_fraction=cfg.validation_fraction, seed=cfg.seed,
            dedupe=cfg.dedupe, near_duplicate_threshold=cfg.near_duplicate_threshold,
            out_dir=out_dir, pii_gate=gate, exclude=project.dev_mask, model=model)
        result = dataclasses.replace(result, run_id=export_id)
        folder = run_dir(workspace, export_id, create=True)
        write_json(folder / "export.json", result.to_dict())
    except BaseException as exc:
        registry.finish_run(export_id, status="failed",
                            figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(export_id, status="ok", figures=result.figures())
    return result



def export_provenance(registry: Registry, train_file: str | os.PathLike[str]) -> dict[str, str]:
    """Job metadata tracing ``train_file`` back to the export run, the label run and the LF set.

    Finds the newest successful export run whose output folder holds ``train_file``; returns
    ``{"export_run", "label_run", "lf_set"}`` (``lf_set``: SHA-256 over the label run's LF
    fingerprints), or ``{}`` for a file labelcycle did not export.

    Example
    -------
    >>> import pathlib, tempfile
    >>> export_provenance(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), "train.jsonl")
    {}
    """
    target = Path(train_file).resolve()
    for run in registry.list_runs("export"):
        if run.status != "ok" or Path(str(run.inputs.get("out_dir", ""))).resolve() != target.parent:
            continue
        out = {"export_run": run.id}
        label_id = run.inputs.get("label_run")
        if label_id:
            out["label_run"] = str(label_id)
            try:
                fps = registry.get_run(str(label_id)).inputs.get("lf_fingerprints") or {}
            except LabelcycleError:
                fps = {}
            if fps:
                digest = hashlib.sha256(json.dumps(fps, sort_keys=True).encode()).hexdigest()
                out["lf_set"] = digest[:32]
        return out
    return {}
