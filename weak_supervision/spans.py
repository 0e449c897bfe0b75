"""Token-level weak supervision for PII spans: span LF votes -> tokens -> label model -> spans.

How it works
------------
1. **Apply** every span LF to every text (:func:`apply_span_lfs`), in batches (``apply_batch``, so
   the spaCy LF runs ``nlp.pipe``). With a :class:`SpanCache`, an LF's spans are kept per (LF
   fingerprint, text hash): re-running with unchanged LFs and texts runs no LF (and no NER) again.
2. **Tokenize** with spaCy's rule-based tokenizer only (``spacy.blank("en")``, no model), drop
   whitespace tokens, and cut tokens further at every LF span boundary, so each token is either
   inside or outside every LF span ("order#A-482913" with an LF span on "A-482913" becomes
   "order#" + "A-482913").
3. **Vote** (:func:`token_matrix`): an LF votes its span's label on every token the span covers
   (``NOT_PII`` spans vote the class ``"O"``) and abstains elsewhere. Rows are the tokens of all
   documents, columns the LFs, classes :data:`CLASSES` (``"O"`` first, then the PII types). Spans
   of different LFs may overlap freely; if one LF's own spans overlap on a token, its longest span
   wins.
4. **Combine** (:func:`aggregate_spans`) with the project's label-model wrapper,
   :func:`~weak_supervision.label_model.select_label_model` (Snorkel's label model with majority
   vote beside it), fitted on the tokens at least one LF voted on; tokens nobody voted on are
   ``"O"``. Gold spans, where known, are projected onto the tokens (a token takes the label of the
   gold span covering at least half of its characters) and serve as the dev set. Where classes
   tie (majority vote), ``"O"`` wins, then the class voted by the longest LF span (an IBAN over
   the card number an LF found inside it), then any type but PERSON.
5. **Rebuild spans**: consecutive tokens with the same PII label form one span when nothing
   separates them or when one LF span of that label covers both; the confidence of a span is the
   mean probability of its label over its tokens. PERSON spans are also split at punctuation
   tokens ("Tom: Hello" is never one name) and lose pronouns, greetings and titles at their edges
   ("I'm Maria" -> "Maria"). Offsets are character offsets, end exclusive.

Example
-------
>>> from labelfns.pii import email_lf, phone_default_lf, price_lf
>>> result = aggregate_spans([email_lf, phone_default_lf, price_lf],
...                          ["Mail ann@example.com or call (415) 555-0132, it costs $12.50"],
...                          prefer="majority")
>>> [(s.label, s.start, s.end) for s in result.documents[0].spans]
[('EMAIL', 5, 20), ('PHONE', 29, 43)]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from labelfns.errors import ConfigError, DataError, LabelcycleError, LFError
from labelfns.spans import NOT_PII, PII_LABELS, Span, SpanLF
from weak_supervision.io import atomic_write
from weak_supervision.label_model import LabelModelChoice, MajorityVote, select_label_model

__all__ = [
    "CLASSES",
    "PIISpan",
    "DocumentSpans",
    "SpanVotes",
    "TokenMatrix",
    "SpanAggregation",
    "SpanCache",
    "builtin_span_lfs",
    "as_texts",
    "parse_spans",
    "text_hash",
    "tokenize",
    "apply_span_lfs",
    "token_matrix",
    "gold_token_labels",
    "aggregate_spans",
]

CLASSES: tuple[str, ...] = (NOT_PII, *PII_LABELS)
"""The token classes: index 0 is ``"O"`` (not PII), then :data:`labelfns.spans.PII_LABELS`."""

_CLASS_INDEX = {label: i for i, label in enumerate(CLASSES)}
ProgressCallback = Callable[[int, int], None]


# ------------------------------------------------------------------------------------------------
# records
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True, slots=True)
class PIISpan:
    """A PII span found by the aggregation: ``text[start:end]`` (end exclusive), its type and the
    mean token probability of that type.

    Examples
    --------
    >>> s = PIISpan(3, 6, "PERSON", 0.9)
    >>> s.slice("Hi Tom!"), s.to_dict()
    ('Tom', {'start': 3, 'end': 6, 'label': 'PERSON', 'confidence': 0.9})
    """

    start: int
    end: int
    label: str
    confidence: float = 1.0

    def slice(self, text: str) -> str:
        """The covered part of ``text``."""
        return text[self.start:self.end]

    def to_dict(self) -> dict[str, Any]:
        """``{"start", "end", "label", "confidence"}`` (confidence rounded to 4 digits)."""
        return {"start": self.start, "end": self.end, "label": self.label,
                "confidence": round(float(self.confidence), 4)}


@dataclass(frozen=True)
class DocumentSpans:
    """The PII spans of one document.

    Examples
    --------
    >>> doc = DocumentSpans("a1", (PIISpan(0, 3, "PERSON", 1.0),))
    >>> doc.to_dict()
    {'id': 'a1', 'spans': [{'start': 0, 'end': 3, 'label': 'PERSON', 'confidence': 1.0}]}
    >>> doc.to_frame()[["start", "end", "label"]].values.tolist()
    [[0, 3, 'PERSON']]
    """

    id: Any
    spans: tuple[PIISpan, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "spans": [...]}``, the line format of ``labelcycle pii scan``."""
        return {"id": _plain_id(self.id), "spans": [s.to_dict() for s in self.spans]}

    def to_frame(self) -> pd.DataFrame:
        """One row per span: id, start, end, label, confidence."""
        return _spans_frame([self])


def _plain_id(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _spans_frame(docs: Iterable[DocumentSpans]) -> pd.DataFrame:
    rows = [{"id": _plain_id(d.id), "start": s.start, "end": s.end, "label": s.label,
             "confidence": float(s.confidence)} for d in docs for s in d.spans]
    frame = pd.DataFrame(rows, columns=["id", "start", "end", "label", "confidence"])
    return frame.astype({"start": np.int64, "end": np.int64, "confidence": np.float64})


@dataclass(frozen=True)
class SpanVotes:
    """What each span LF found in each document.

    Attributes
    ----------
    lf_names : tuple of str
        The LFs, in order.
    spans : tuple of tuple of tuple of Span
        ``spans[j][i]``: the spans of LF ``j`` in document ``i``.
    cached : dict of str to int
        Per LF, how many documents came from the cache.

    Examples
    --------
    >>> from labelfns.pii import email_lf
    >>> votes = apply_span_lfs([email_lf], ["a@b.co", ""])
    >>> votes.to_frame()[["doc", "lf", "start", "end", "label"]].values.tolist()
    [[0, 'pii_email', 0, 6, 'EMAIL']]
    """

    lf_names: tuple[str, ...]
    spans: tuple[tuple[tuple[Span, ...], ...], ...]
    cached: Mapping[str, int] = field(default_factory=dict)

    @property
    def n_docs(self) -> int:
        """The number of documents."""
        return len(self.spans[0]) if self.spans else 0

    def to_frame(self) -> pd.DataFrame:
        """One row per LF span: doc (position), lf, start, end, label."""
        rows = [(i, name, s.start, s.end, s.label)
                for name, per_doc in zip(self.lf_names, self.spans, strict=True)
                for i, doc in enumerate(per_doc) for s in doc]
        return pd.DataFrame(rows, columns=["doc", "lf", "start", "end", "label"])

    def to_dict(self) -> dict[str, Any]:
        """Per LF: spans found, documents with a span, and documents read from the cache."""
        return {name: {"spans": sum(len(d) for d in per_doc),
                       "docs": sum(1 for d in per_doc if d),
                       "cached_docs": int(self.cached.get(name, 0))}
                for name, per_doc in zip(self.lf_names, self.spans, strict=True)}


@dataclass(frozen=True)
class TokenMatrix:
    """The token label matrix of a set of documents.

    Attributes
    ----------
    doc : numpy.ndarray of int
        The document (position) of each token; tokens are sorted by document, then offset.
    starts, ends : numpy.ndarray of int
        Character offsets of each token in its document (end exclusive).
    L : numpy.ndarray of int16, shape (tokens, LFs)
        Class index into :data:`CLASSES` voted by each LF on each token, -1 = abstain.
    lengths : numpy.ndarray of int32, shape (tokens, LFs)
        Character length of the LF span behind each vote (0 where the LF abstains); ties between
        classes go to the longer span.
    bridges : numpy.ndarray of int32
        Bit ``c`` of ``bridges[k]`` is set when one LF span of class ``c`` covers tokens ``k``
        and ``k + 1`` (used to rebuild multi-token spans).
    lf_names : tuple of str
        The LFs (columns).
    offsets : numpy.ndarray of int
        Tokens of document ``i`` are rows ``offsets[i]:offsets[i + 1]``.

    Examples
    --------
    >>> from labelfns.pii import email_lf
    >>> texts = ["write to a@b.co"]
    >>> tm = token_matrix(texts, apply_span_lfs([email_lf], texts))
    >>> tm.to_frame(texts)[["token", "pii_email"]].values.tolist()
    [['write', -1], ['to', -1], ['a@b.co', 2]]
    """

    doc: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    L: np.ndarray
    lengths: np.ndarray
    bridges: np.ndarray
    lf_names: tuple[str, ...]
    offsets: np.ndarray
    classes: tuple[str, ...] = CLASSES

    @property
    def n_tokens(self) -> int:
        """The number of tokens (rows)."""
        return int(self.L.shape[0])

    def covered(self) -> np.ndarray:
        """Boolean mask of tokens at least one LF voted on."""
        return (self.L != -1).any(axis=1) if self.L.shape[1] else np.zeros(self.n_tokens, bool)

    def to_frame(self, texts: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per token: doc, start, end (and token text when ``texts`` is given), then one
        column of class indices per LF."""
        frame = pd.DataFrame({"doc": self.doc, "start": self.starts, "end": self.ends})
        if texts is not None:
            frame["token"] = [texts[d][s:e] for d, s, e in zip(self.doc, self.starts, self.ends,
                                                                strict=True)]
        votes = pd.DataFrame(self.L, columns=list(self.lf_names))
        return pd.concat([frame, votes], axis=1)


@dataclass(frozen=True)
class SpanAggregation:
    """The result of :func:`aggregate_spans`.

    Attributes
    ----------
    documents : tuple of DocumentSpans
        The PII spans of each document, in input order.
    choice : LabelModelChoice
        Which label model produced the token labels, with both models' token-level dev scores.
    tokens : TokenMatrix
        The token votes.
    votes : SpanVotes
        The LF spans.
    token_labels : numpy.ndarray of int
        Class index of every token (0 = ``"O"``).
    token_confidence : numpy.ndarray of float
        Probability of that class (1.0 for tokens no LF voted on).
    gold_tokens : numpy.ndarray of int or None
        Gold class of every token (-1 for documents without gold), when gold was given.

    Examples
    --------
    >>> from labelfns.pii import email_lf
    >>> res = aggregate_spans([email_lf], ["x a@b.co"], ids=["d1"])
    >>> res.to_frame()[["id", "label", "start", "end"]].values.tolist()
    [['d1', 'EMAIL', 2, 8]]
    """

    documents: tuple[DocumentSpans, ...]
    choice: LabelModelChoice
    tokens: TokenMatrix
    votes: SpanVotes
    token_labels: np.ndarray
    token_confidence: np.ndarray
    gold_tokens: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per PII span: id, start, end, label, confidence."""
        return _spans_frame(self.documents)

    def lf_table(self) -> pd.DataFrame:
        """Per LF: labels voted, spans, documents and tokens covered, agreement with the chosen
        labels, and (with gold) token precision on the gold documents."""
        L = self.tokens.L
        rows = []
        for j, name in enumerate(self.tokens.lf_names):
            col = L[:, j]
            voted = col != -1
            row: dict[str, Any] = {
                "lf": name,
                "labels": sorted({CLASSES[c] for c in np.unique(col[voted])}),
                "spans": sum(len(d) for d in self.votes.spans[j]),
                "docs": sum(1 for d in self.votes.spans[j] if d),
                "token_coverage": float(voted.mean()) if len(col) else 0.0,
                "agreement": (float((col[voted] == self.token_labels[voted]).mean())
                              if voted.any() else None),
            }
            if self.gold_tokens is not None:
                on_gold = voted & (self.gold_tokens != -1)
                row["gold_tokens"] = int(on_gold.sum())
                row["gold_precision"] = (float((col[on_gold] == self.gold_tokens[on_gold]).mean())
                                         if on_gold.any() else None)
            rows.append(row)
        return pd.DataFrame(rows).set_index("lf") if rows else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: counts, spans per type, the label-model choice and the LF table
        (never any span text)."""
        counts: dict[str, int] = {}
        for doc in self.documents:
            for s in doc.spans:
                counts[s.label] = counts.get(s.label, 0) + 1
        table = self.lf_table()
        lfs = {} if table.empty else {
            name: {k: (None if isinstance(v, float) and math.isnan(v) else v)
                   for k, v in row.items()} for name, row in table.to_dict("index").items()}
        return {
            "n_docs": len(self.documents),
            "n_tokens": self.tokens.n_tokens,
            "n_voted_tokens": int(self.tokens.covered().sum()),
            "n_spans": int(sum(counts.values())),
            "spans_per_label": dict(sorted(counts.items())),
            "label_model": self.choice.to_dict(),
            "lfs": lfs,
        }


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------
def builtin_span_lfs(*, ner: bool = True, ner_model: str = "en_core_web_sm",
                     phone_region: str | Sequence[str] = "US") -> list[SpanLF]:
    """labelcycle's built-in span LFs: the regex/validator detectors and context LFs of
    :mod:`labelfns.pii`, the PERSON rules of :mod:`labelfns.ner` and, with ``ner``, spaCy NER.

    Parameters
    ----------
    ner : bool
        Include the spaCy PERSON LF (``person_ner``; the model loads on first use).
    ner_model : str
        The spaCy model package or path.
    phone_region : str or sequence of str
        Region(s) (ISO 3166-1 alpha-2) in which phone numbers written without a country code are
        read, by one PHONE LF (numbers with ``+`` are found in every region).

    Examples
    --------
    >>> names = [lf.name for lf in builtin_span_lfs(ner=False, phone_region=["US", "GB"])]
    >>> names[3], "person_ner" in names, "not_pii_price" in names
    ('pii_phone_us_gb_valid', False, True)
    """
    from labelfns import pii
    from labelfns.ner import gazetteer_lf, greeting_name_lf, person_ner_lf, speaker_tag_lf

    regions = [phone_region] if isinstance(phone_region, str) else list(phone_region)
    if not regions:
        raise ConfigError("phone_region lists no region; use e.g. \"US\" or [\"US\", \"GB\"]")
    phone = pii.phone_lf(region=regions)
    lfs = [phone if lf is pii.phone_default_lf else lf for lf in pii.BUILTIN_SPAN_LFS]
    lfs += [speaker_tag_lf, greeting_name_lf, gazetteer_lf()]
    if ner:
        lfs.append(person_ner_lf(ner_model))
    return lfs


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def as_texts(values: Iterable[Any], *, what: str = "text", ids: Sequence[Any] | None = None
             ) -> list[str]:
    """Texts for span LFs: strings as they are, missing values (None, NaN) as ``""``.

    Parameters
    ----------
    values : iterable
        The cells of a text column.
    what : str
        How the column is named in errors (e.g. ``"data.csv column 'text'"``).
    ids : sequence, optional
        Row ids named in errors instead of 1-based row numbers.

    Raises
    ------
    DataError
        A cell holds something else than text (a number, a list, ...).

    Examples
    --------
    >>> as_texts(["a", None, float("nan")])
    ['a', '', '']
    """
    out: list[str] = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
        elif _is_null(value):
            out.append("")
        else:
            where = f"id {ids[i]!r}" if ids is not None else f"row {i + 1}"
            raise DataError(f"{what}: {where} holds a {type(value).__name__} ({value!r:.40}), "
                            "not text; fix the cell or choose the text column")
    return out


def parse_spans(value: Any, *, text: str | None = None, where: str = "gold spans"
                ) -> list[Span] | None:
    """Spans from a cell: a list of ``{"start", "end", "label"}`` dicts, ``(start, end, label)``
    items or :class:`Span`, or a JSON string of such a list. Missing values give None (no gold).

    Raises
    ------
    DataError
        Malformed items, non-integer or out-of-range offsets (checked against ``text``).

    Examples
    --------
    >>> parse_spans('[{"start": 0, "end": 2, "label": "PERSON"}]', text="Al")
    [Span(start=0, end=2, label='PERSON')]
    >>> parse_spans(None) is None
    True
    """
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not a JSON list of spans ({exc.msg})") from None
    if _is_null(value):
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise DataError(f"{where}: expected a list of spans, got {type(value).__name__}")
    out: list[Span] = []
    for item in value:
        if isinstance(item, Span):
            span = item
        elif isinstance(item, Mapping) and {"start", "end", "label"} <= set(item):
            span = Span(item["start"], item["end"], item["label"])
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            span = Span(*item)
        else:
            raise DataError(f"{where}: {item!r:.60} is not a span; write "
                            '{"start": 0, "end": 5, "label": "PERSON"}')
        start, end = span.start, span.end
        if (isinstance(start, bool) or isinstance(end, bool)
                or not isinstance(start, (int, np.integer)) or not isinstance(end, (int, np.integer))):
            raise DataError(f"{where}: span {span.to_dict()} has non-integer offsets")
        if not isinstance(span.label, str) or not span.label:
            raise DataError(f"{where}: span {span.to_dict()} has no label")
        n = len(text) if text is not None else None
        if not 0 <= start < end or (n is not None and end > n):
            raise DataError(f"{where}: span {span.to_dict()} is outside the text"
                            + (f" of length {n}" if n is not None else "")
                            + "; offsets need 0 <= start < end <= len(text), end exclusive")
        out.append(Span(int(start), int(end), span.label))
    return sorted(out)


def text_hash(text: str) -> str:
    """A 32-hex-digit content hash of a text (BLAKE2b).

    >>> text_hash("a") == text_hash("a") != text_hash("b")
    True
    """
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# ------------------------------------------------------------------------------------------------
# the cache
# ------------------------------------------------------------------------------------------------
class SpanCache:
    """Span LF outputs per (LF fingerprint, text hash), one JSON file per LF fingerprint.

    Files live under ``directory/<fp[:2]>/<fp>.json`` and are replaced atomically; an edited LF
    has a new fingerprint, so its old file is simply not read again (:meth:`clear` removes all).

    Parameters
    ----------
    directory : path-like
        Usually ``<project>/.labelcycle/span_cache``; created on first write.

    Examples
    --------
    >>> import tempfile
    >>> cache = SpanCache(tempfile.mkdtemp())
    >>> cache.store("ab" * 16, {"h1": [Span(0, 2, "PERSON")], "h2": []})
    >>> cache.lookup("ab" * 16, ["h1", "h3"])
    {'h1': [Span(start=0, end=2, label='PERSON')]}
    """

    _FORMAT = "labelcycle-span-cache/1"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _path(self, fingerprint: str) -> Path:
        return self.directory / fingerprint[:2] / f"{fingerprint}.json"

    def _load(self, fingerprint: str) -> dict[str, list[list[Any]]]:
        path = self._path(fingerprint)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            warnings.warn(f"span cache file {path} is unreadable; recomputing it", stacklevel=3)
            return {}
        if not isinstance(data, dict) or data.get("format") != self._FORMAT:
            return {}
        spans = data.get("spans")
        return spans if isinstance(spans, dict) else {}

    def lookup(self, fingerprint: str, hashes: Iterable[str]) -> dict[str, list[Span]]:
        """The cached spans of the texts with these hashes (texts not cached are left out)."""
        stored = self._load(fingerprint)
        out = {}
        for h in hashes:
            items = stored.get(h)
            if items is not None:
                out[h] = [Span(int(s), int(e), str(lab)) for s, e, lab in items]
        return out

    def store(self, fingerprint: str, found: Mapping[str, Sequence[Span]]) -> None:
        """Add spans per text hash to the LF's file (merged with what it holds)."""
        if not found:
            return
        with self._lock:
            stored = self._load(fingerprint)
            stored.update({h: [[s.start, s.end, s.label] for s in spans] for h, spans in found.items()})
            path = self._path(fingerprint)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as fh:
                json.dump({"format": self._FORMAT, "spans": stored}, fh, separators=(",", ":"))

    def clear(self) -> int:
        """Delete every cache file; return how many were removed."""
        n = 0
        if self.directory.is_dir():
            for path in self.directory.glob("*/*.json"):
                path.unlink(missing_ok=True)
                n += 1
        return n


# ------------------------------------------------------------------------------------------------
# applying span LFs
# ------------------------------------------------------------------------------------------------
def _check_lfs(lfs: Sequence[Any]) -> list[SpanLF]:
    lfs = list(lfs)
    if not lfs:
        raise ConfigError("no span LFs to apply; enable the built-in detectors or list span LF "
                          "modules ([pii] builtins = true / modules = [\"pii_lfs.py\"])")
    seen: dict[str, int] = {}
    for i, lf in enumerate(lfs):
        if not isinstance(lf, SpanLF):
            raise LFError(f"span LF number {i + 1} is a {type(lf).__name__}, not a SpanLF",
                          lf=str(getattr(lf, "name", repr(lf))),
                          hint="make it with @span_lf (labelfns.spans.span_lf)")
        if lf.name in seen:
            raise LFError(f"the name is used by span LFs number {seen[lf.name] + 1} and {i + 1}",
                          lf=lf.name, hint="give every span LF a unique name")
        seen[lf.name] = i
    return lfs


def apply_span_lfs(
    lfs: Sequence[SpanLF],
    texts: Sequence[str],
    *,
    ids: Sequence[Any] | None = None,
    cache: SpanCache | None = None,
    progress: ProgressCallback | None = None,
) -> SpanVotes:
    """Run span LFs over texts, each LF on all (uncached) texts at once via ``apply_batch``.

    Parameters
    ----------
    lfs : sequence of SpanLF
        LFs with unique names.
    texts : sequence of str
        The documents (see :func:`as_texts` for missing values).
    ids : sequence, optional
        Document ids, named in errors instead of positions.
    cache : SpanCache, optional
        Reuse and store spans per (LF fingerprint, text hash).
    progress : callable, optional
        ``progress(done_lfs, total_lfs)`` after each LF.

    Raises
    ------
    LFError
        An LF failed or returned a bad span (wrong offsets, unknown label); names the LF and the
        document.

    Examples
    --------
    >>> from labelfns.pii import ip_address_lf
    >>> apply_span_lfs([ip_address_lf], ["ip 10.0.0.1"]).spans[0][0]
    (Span(start=3, end=11, label='IP_ADDRESS'),)
    """
    lfs = _check_lfs(lfs)
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            where = f"id {ids[i]!r}" if ids is not None else f"document {i}"
            raise DataError(f"{where}: expected a str text, got {type(t).__name__}; "
                            "missing texts must be '' (see as_texts)")
    hashes = [text_hash(t) for t in texts] if cache is not None else []
    # one entry per distinct non-empty text
    unique: dict[str, int] = {}
    order: list[int] = []
    for i, t in enumerate(texts):
        if t and t not in unique:
            unique[t] = i
            order.append(i)
    per_lf: list[tuple[tuple[Span, ...], ...]] = []
    cached: dict[str, int] = {}
    for done, lf in enumerate(lfs, start=1):
        found: dict[int, list[Span]] = {}
        fingerprint = None
        if cache is not None:
            fingerprint = lf.fingerprint()
            hits = cache.lookup(fingerprint, {hashes[i] for i in order})
            for i in order:
                if hashes[i] in hits:
                    found[i] = hits[hashes[i]]
            cached[lf.name] = sum(1 for i, t in enumerate(texts) if t and hashes[i] in hits)
        todo = [i for i in order if i not in found]
        if todo:
            try:
                results = lf.apply_batch([texts[i] for i in todo])
            except LFError as exc:
                row = exc.row
                if isinstance(row, int) and 0 <= row < len(todo):
                    doc = todo[row]
                    row = ids[doc] if ids is not None else doc
                raise LFError(exc.detail, lf=exc.lf, row=row, hint=exc.hint) from exc
            except LabelcycleError:
                raise
            except Exception as exc:  # noqa: BLE001 - a user LF's apply_batch may raise anything
                raise LFError(f"raised {type(exc).__name__}: {exc}", lf=lf.name) from exc
            if len(results) != len(todo):
                raise LFError(f"apply_batch returned {len(results)} results for {len(todo)} texts",
                              lf=lf.name, hint="return one list of spans per text")
            new = dict(zip(todo, results, strict=True))
            found.update(new)
            if cache is not None and fingerprint is not None:
                cache.store(fingerprint, {hashes[i]: spans for i, spans in new.items()})
        per_doc = tuple(tuple(found[unique[t]]) if t else () for t in texts)
        per_lf.append(per_doc)
        if progress is not None:
            progress(done, len(lfs))
    return SpanVotes(tuple(lf.name for lf in lfs), tuple(per_lf), cached)


# ------------------------------------------------------------------------------------------------
# tokens
# ------------------------------------------------------------------------------------------------
_TOKENIZER: Any = None
_TOKENIZER_LOCK = threading.Lock()


def _tokenizer() -> Any:
    global _TOKENIZER
    with _TOKENIZER_LOCK:
        if _TOKENIZER is None:
            import spacy

            _TOKENIZER = spacy.blank("en").tokenizer
    return _TOKENIZER


def tokenize(texts: Iterable[str]) -> list[np.ndarray]:
    """Token offsets of each text from spaCy's rule-based English tokenizer (no model),
    whitespace tokens left out.

    Returns
    -------
    list of numpy.ndarray
        One ``(n_tokens, 2)`` int64 array of ``(start, end)`` per text.

    Examples
    --------
    >>> tokenize(["Hi  Zoë, call 555-0100!"])[0].tolist()
    [[0, 2], [4, 7], [7, 8], [9, 13], [14, 17], [17, 18], [18, 22], [22, 23]]
    """
    from spacy.attrs import IDX, IS_SPACE, LENGTH

    tok = _tokenizer()
    out = []
    for text in texts:
        if not text:
            out.append(np.zeros((0, 2), dtype=np.int64))
            continue
        arr = tok(text).to_array([IDX, LENGTH, IS_SPACE]).astype(np.int64).reshape(-1, 3)
        arr = arr[(arr[:, 2] == 0) & (arr[:, 1] > 0)]
        out.append(np.stack([arr[:, 0], arr[:, 0] + arr[:, 1]], axis=1))
    return out


def _cut(tokens: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Split tokens at the offsets in ``bounds`` (sorted, unique) that fall strictly inside."""
    if not len(bounds) or not len(tokens):
        return tokens
    lo = np.searchsorted(bounds, tokens[:, 0], side="right")
    hi = np.searchsorted(bounds, tokens[:, 1], side="left")
    inside = np.flatnonzero(hi > lo)
    if not inside.size:
        return tokens
    pieces: list[np.ndarray] = []
    prev = 0
    for k in inside:
        pieces.append(tokens[prev:k])
        cuts = [int(tokens[k, 0]), *bounds[lo[k]:hi[k]].tolist(), int(tokens[k, 1])]
        pieces.append(np.array([[a, b] for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a],
                               dtype=np.int64).reshape(-1, 2))
        prev = k + 1
    pieces.append(tokens[prev:])
    return np.concatenate(pieces)


def _token_range(starts: np.ndarray, ends: np.ndarray, s: int, e: int) -> tuple[int, int]:
    """Tokens fully inside ``[s, e)``: rows ``first:last``."""
    return int(np.searchsorted(starts, s, side="left")), int(np.searchsorted(ends, e, side="right"))


def token_matrix(texts: Sequence[str], votes: SpanVotes) -> TokenMatrix:
    """Tokenize texts (cutting tokens at LF span boundaries) and turn LF spans into token votes.

    Parameters
    ----------
    texts : sequence of str
        The documents the votes were computed on.
    votes : SpanVotes
        From :func:`apply_span_lfs`.

    Examples
    --------
    >>> from labelfns.pii import order_id_lf
    >>> texts = ["order#A-482913"]
    >>> tm = token_matrix(texts, apply_span_lfs([order_id_lf], texts))
    >>> tm.to_frame(texts)[["token", "pii_order_id"]].values.tolist()
    [['order#', -1], ['A-482913', 11]]
    """
    if votes.n_docs != len(texts):
        raise DataError(f"the votes cover {votes.n_docs} documents but {len(texts)} texts were given")
    m = len(votes.lf_names)
    base = tokenize(texts)
    docs, parts_L, parts_n, parts_b = [], [], [], []
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    for i in range(len(texts)):
        doc_spans = [votes.spans[j][i] for j in range(m)]
        bounds = sorted({x for spans in doc_spans for s in spans for x in (s.start, s.end)})
        tokens = _cut(base[i], np.asarray(bounds, dtype=np.int64))
        n = len(tokens)
        L = np.full((n, m), -1, dtype=np.int16)
        lengths = np.zeros((n, m), dtype=np.int32)
        bridges = np.zeros(n, dtype=np.int32)
        starts, ends = tokens[:, 0], tokens[:, 1]
        for j, spans in enumerate(doc_spans):
            # longest span last, so it wins where one LF's own spans overlap; PII after "O"
            for s in sorted(spans, key=lambda sp: (sp.end - sp.start, sp.label != NOT_PII)):
                first, last = _token_range(starts, ends, s.start, s.end)
                if last > first:
                    c = _CLASS_INDEX[s.label]
                    L[first:last, j] = c
                    lengths[first:last, j] = s.end - s.start
                    if last - first > 1:
                        bridges[first:last - 1] |= np.int32(1 << c)
        docs.append(tokens)
        parts_L.append(L)
        parts_n.append(lengths)
        parts_b.append(bridges)
        offsets[i + 1] = offsets[i] + n
    total = int(offsets[-1])
    tokens_all = np.concatenate(docs) if docs else np.zeros((0, 2), dtype=np.int64)
    return TokenMatrix(
        doc=np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(offsets)),
        starts=tokens_all[:, 0].copy() if total else np.zeros(0, np.int64),
        ends=tokens_all[:, 1].copy() if total else np.zeros(0, np.int64),
        L=np.concatenate(parts_L) if parts_L else np.zeros((0, m), dtype=np.int16),
        lengths=np.concatenate(parts_n) if parts_n else np.zeros((0, m), dtype=np.int32),
        bridges=np.concatenate(parts_b) if parts_b else np.zeros(0, dtype=np.int32),
        lf_names=votes.lf_names,
        offsets=offsets,
    )


def gold_token_labels(tokens: TokenMatrix, gold: Sequence[Sequence[Span] | None]) -> np.ndarray:
    """Gold spans projected onto tokens: the class of the gold span covering at least half of a
    token's characters, ``0`` ("O") for other tokens of documents with gold, -1 for documents
    whose gold is None. Gold labels outside :data:`CLASSES` count as "O".

    Examples
    --------
    >>> from labelfns.pii import email_lf
    >>> texts = ["to a@b.co now", "x"]
    >>> tm = token_matrix(texts, apply_span_lfs([email_lf], texts))
    >>> gold_token_labels(tm, [[Span(3, 9, "EMAIL")], None]).tolist()
    [0, 2, 0, -1]
    """
    if len(gold) != len(tokens.offsets) - 1:
        raise DataError(f"gold is given for {len(gold)} documents but there are "
                        f"{len(tokens.offsets) - 1}")
    y = np.full(tokens.n_tokens, -1, dtype=np.int64)
    for i, spans in enumerate(gold):
        if spans is None:
            continue
        a, b = int(tokens.offsets[i]), int(tokens.offsets[i + 1])
        y[a:b] = 0
        starts, ends = tokens.starts[a:b], tokens.ends[a:b]
        for s in spans:
            c = _CLASS_INDEX.get(s.label)
            if not c:
                continue
            first = int(np.searchsorted(ends, s.start, side="right"))
            last = int(np.searchsorted(starts, s.end, side="left"))
            for k in range(first, last):
                ts, te = int(starts[k]), int(ends[k])
                if 2 * (min(s.end, te) - max(s.start, ts)) >= te - ts:
                    y[a + k] = c
    return y


# ------------------------------------------------------------------------------------------------
# aggregation
# ------------------------------------------------------------------------------------------------
_PERSON = _CLASS_INDEX["PERSON"]


def _break_ties(probs: np.ndarray, L: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The most probable class per row; ties go to "O", then to the class voted by the longest
    LF span, then to any type but PERSON (patterns are more specific than name finders), then to
    the lowest class index."""
    hard = np.argmax(probs, axis=1)
    top = probs.max(axis=1, keepdims=True)
    tied = np.flatnonzero(((probs >= top - 1e-9).sum(axis=1)) > 1)
    for r in tied.tolist():
        classes = np.flatnonzero(probs[r] >= top[r, 0] - 1e-9)
        if classes[0] == 0:
            hard[r] = 0
            continue

        def key(c: int, r: int = r) -> tuple[int, int, int]:
            votes = L[r] == c
            longest = int(lengths[r][votes].max()) if votes.any() else 0
            return (longest, int(c != _PERSON), -c)

        hard[r] = max(classes.tolist(), key=key)
    return hard


_PERSON_EDGE_WORDS = frozenset(
    "i i'm 'm im me my we us our you your he she they it hi hello hey dear thanks thx "
    "mr mrs ms mx dr prof mr. mrs. ms. mx. dr. prof. 's ’s".split())
_PERSON_JOINERS = frozenset("-'’.")


def _person_pieces(text: str, run: list[int], starts: np.ndarray, ends: np.ndarray
                   ) -> list[list[int]]:
    """A PERSON run of tokens split at punctuation tokens (":", ",", "!", ...), with pronouns,
    greetings and titles trimmed from the edges of each piece."""
    pieces: list[list[int]] = [[]]
    for k in range(run[0], run[1] + 1):
        tok = text[starts[k]:ends[k]]
        if not any(c.isalnum() for c in tok) and not set(tok) <= _PERSON_JOINERS:
            pieces.append([])
        else:
            pieces[-1].append(k)
    out = []
    for piece in pieces:
        while piece and text[starts[piece[0]]:ends[piece[0]]].casefold() in _PERSON_EDGE_WORDS:
            piece.pop(0)
        while piece and (text[starts[piece[-1]]:ends[piece[-1]]].casefold() in _PERSON_EDGE_WORDS
                         or not any(c.isalnum() for c in text[starts[piece[-1]]:ends[piece[-1]]])
                         and text[starts[piece[-1]]:ends[piece[-1]]] != "."):
            piece.pop()
        if piece:
            out.append([piece[0], piece[-1], run[2]])
    return out


def _rebuild(texts: Sequence[str], tokens: TokenMatrix, labels: np.ndarray, conf: np.ndarray,
             ids: Sequence[Any]) -> tuple[DocumentSpans, ...]:
    out = []
    starts, ends = tokens.starts, tokens.ends
    for i, text in enumerate(texts):
        a, b = int(tokens.offsets[i]), int(tokens.offsets[i + 1])
        runs: list[list[int]] = []  # [first token, last token, class]
        for k in (a + np.flatnonzero(labels[a:b] > 0)).tolist():
            c = int(labels[k])
            prev = runs[-1] if runs else None
            if prev is not None and prev[2] == c and prev[1] == k - 1 and (
                    starts[k] == ends[k - 1] or tokens.bridges[k - 1] >> c & 1):
                prev[1] = k
            else:
                runs.append([k, k, c])
        final: list[list[int]] = []
        for run in runs:
            final.extend(_person_pieces(text, run, starts, ends) if run[2] == _PERSON else [run])
        spans = tuple(PIISpan(int(starts[f]), int(ends[last]), CLASSES[c],
                              float(np.mean(conf[f:last + 1]))) for f, last, c in final)
        out.append(DocumentSpans(ids[i], spans))
    return tuple(out)


def aggregate_spans(
    lfs: Sequence[SpanLF] | SpanVotes,
    texts: Sequence[str],
    *,
    ids: Sequence[Any] | None = None,
    gold: Sequence[Sequence[Span] | None] | None = None,
    cache: SpanCache | None = None,
    prefer: Literal["auto", "label_model", "majority"] = "auto",
    seed: int = 123,
    progress: ProgressCallback | None = None,
    **label_model_params: Any,
) -> SpanAggregation:
    """Find PII spans by combining span LFs at the token level.

    Parameters
    ----------
    lfs : sequence of SpanLF, or SpanVotes
        The span LFs (applied with :func:`apply_span_lfs`), or votes already computed on ``texts``.
    texts : sequence of str
        The documents ("" for missing texts; see :func:`as_texts`).
    ids : sequence, optional
        Document ids (default: positions), used in the output and in errors.
    gold : sequence of (list of Span or None), optional
        Gold spans per document (None where unknown); their tokens are the label model's dev set.
    cache : SpanCache, optional
        Span LF outputs per (LF fingerprint, text hash).
    prefer : {"auto", "label_model", "majority"}
        Passed to :func:`~weak_supervision.label_model.select_label_model`: "auto" keeps the
        model with the better token macro-F1 on the gold tokens; without gold tokens "auto" is
        majority vote (Snorkel's model cannot identify the class of a type that only one LF
        votes for, which is the rule for PII types).
    seed : int, default 123
        Seed of the label model.
    progress : callable, optional
        ``progress(done_lfs, total_lfs)`` while applying LFs.
    **label_model_params :
        Other label model settings (``n_epochs``, ``lr``, ``l2``, ``search``, ...).

    Returns
    -------
    SpanAggregation

    Examples
    --------
    >>> from labelfns.pii import email_lf, url_lf, price_lf
    >>> res = aggregate_spans([email_lf, url_lf, price_lf], ["", "see www.x.org/a, $3"],
    ...                       ids=["a", "b"])
    >>> [d.to_dict() for d in res.documents]  # doctest: +NORMALIZE_WHITESPACE
    [{'id': 'a', 'spans': []},
     {'id': 'b', 'spans': [{'start': 4, 'end': 15, 'label': 'URL', 'confidence': 1.0}]}]
    """
    texts = list(texts)
    n = len(texts)
    if ids is None:
        ids = list(range(n))
    elif len(ids) != n:
        raise DataError(f"{len(ids)} ids were given for {n} texts")
    if isinstance(lfs, SpanVotes):
        votes = lfs
    else:
        votes = apply_span_lfs(lfs, texts, ids=ids, cache=cache, progress=progress)
    tokens = token_matrix(texts, votes)
    k = len(CLASSES)
    covered = tokens.covered()
    gold_tokens = None
    y_dev = None
    if gold is not None:
        if len(gold) != n:
            raise DataError(f"gold spans are given for {len(gold)} documents but there are {n} texts")
        gold_tokens = gold_token_labels(tokens, gold)
        y = gold_tokens[covered]
        y_dev = y if (y >= 0).any() else None
    L = tokens.L[covered].astype(np.int64)
    if not len(L):
        choice = LabelModelChoice("majority", MajorityVote(k).fit(L), None, None,
                                  "majority vote: no LF voted on any token")
    elif prefer == "auto" and y_dev is None:
        choice = LabelModelChoice(
            "majority", MajorityVote(k).fit(L), None, None,
            "majority vote: without gold spans the label model cannot tell which class the "
            "votes of a type only one LF finds stand for; give gold spans to compare both")
    else:
        choice = select_label_model(L, cardinality=k, Y_dev=y_dev, prefer=prefer, seed=seed,
                                    **label_model_params)
    labels = np.zeros(tokens.n_tokens, dtype=np.int64)
    conf = np.ones(tokens.n_tokens, dtype=np.float64)
    if len(L):
        probs = choice.model.predict_proba(L)
        hard = _break_ties(probs, L, tokens.lengths[covered])
        labels[covered] = hard
        conf[covered] = probs[np.arange(len(hard)), hard]
    documents = _rebuild(texts, tokens, labels, conf, ids)
    return SpanAggregation(documents, choice, tokens, votes, labels, conf, gold_tokens)
