"""Span-LF suggestions for PII tasks: token patterns around the gold spans the current LFs miss.

For each gold span of the dev documents that the last PII run did not find exactly, the engine
looks at its context and its shape:

* ``context``: the one or two words before the span and the characters between them and it
  ("address is ", "thx ", "d.o.b. "), or the start of a line, followed by the span's shape;
* ``shape``: the span's character shape alone, for structured values (``[A-Z]{2,3}-\\d{5,7}``),
  generalised over the missed spans that share it (run lengths become ranges).

A shape is a sequence of character classes with run lengths (upper, lower, letter, digit, and
punctuation kept literally); spans of one label and one context whose shapes differ (addresses,
full names) get a bounded "rest of the line" shape that stops where those spans stopped (before a
full stop, a question mark or the end of the line). Every candidate is a regex with a named group
``s``; it is run on the dev documents and measured with exact span matching: its precision (with
a 95% Wilson interval), the missed gold spans it would find (``new_tp``), and the change of the
dev micro span F1 when its spans replace the predicted spans they overlap (``f1_gain``), the
selection greedy on that gain so that two suggestions do not claim the same spans. Each candidate
carries the source of a ``@span_lf`` function.

Example
-------
>>> texts = ["my id is AB-1234 ok", "id is CD-5678", "id is XY-9999 now", "hello"]
>>> gold = [[(9, 16, "ACCOUNT_ID")], [(6, 13, "ACCOUNT_ID")], [(6, 13, "ACCOUNT_ID")], []]
>>> pred = [[], [], [], []]
>>> s = suggest_pii(texts, gold=gold, predicted=pred, dev_mask=[True, True, False, True])
>>> s[0].label, s[0].new_tp, s[0].precision
('ACCOUNT_ID', 2, 1.0)
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import DataError, LabelcycleError
from labelfns.reviews import slug
from labelfns.spans import PII_LABELS, Span
from weak_supervision.metrics import wilson_interval

__all__ = [
    "SpanSuggestion",
    "SpanSuggestions",
    "span_shape",
    "suggest_pii",
    "suggest_pii_for_project",
]

_MAX_SPAN = 120


# ----------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpanSuggestion:
    """One candidate span LF and how it did on the dev documents.

    Attributes
    ----------
    name : str
        The LF's name (also the function's name in a written module).
    label : str
        The PII type it marks.
    kind : {"context", "shape"}
    pattern : str
        The regex; the span is its group ``s``.
    code : str
        Source of a ``@span_lf`` function, ready to paste after ``imports``.
    imports : tuple of str
    precision : float
        Exactly right spans over all spans it marks on the dev documents.
    precision_low, precision_high : float
        The 95% Wilson interval.
    support : int
        Spans it marks on the dev documents.
    tp : int
        Of those, spans equal to a gold span of ``label``.
    new_tp : int
        Gold spans the last run missed that it finds.
    recall_gain : float
        ``new_tp`` over the dev gold spans.
    f1_gain : float
        Change of the dev micro span F1 (exact) when its spans replace the overlapping predicted
        ones, after the suggestions ranked above it.
    pool_docs : int
        Non-dev documents where it marks a span.
    pool_coverage : float
        ``pool_docs`` over the non-dev documents.
    examples : tuple of str
        Evidence: ``"<row id>: <context> [<LABEL>] <context>"`` (the span itself redacted).
    """

    name: str
    label: str
    kind: str
    pattern: str
    code: str
    imports: tuple[str, ...]
    precision: float
    precision_low: float
    precision_high: float
    support: int
    tp: int
    new_tp: int
    recall_gain: float
    f1_gain: float
    pool_docs: int
    pool_coverage: float
    examples: tuple[str, ...] = ()

    def evidence(self) -> str:
        """The evidence as one comment paragraph."""
        return (f"dev: {self.tp}/{self.support} spans exact = {self.precision:.2f} "
                f"(95% CI {self.precision_low:.2f}-{self.precision_high:.2f}); finds "
                f"{self.new_tp} missed gold spans (recall +{self.recall_gain:.3f}, span F1 "
                f"{self.f1_gain:+.3f}); marks spans in {self.pool_coverage:.1%} of the other "
                f"documents ({self.pool_docs})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every attribute (tuples as lists)."""
        d = asdict(self)
        d["imports"], d["examples"] = list(self.imports), list(self.examples)
        return d


@dataclass(frozen=True)
class SpanSuggestions:
    """Ranked span-LF candidates (greedy on the dev span F1), best first.

    Attributes
    ----------
    items : tuple of SpanSuggestion
    n_dev_docs : int
    n_gold : int
        Gold spans on the dev documents.
    n_missed : int
        Of those, spans the last run did not find exactly (in the target rows, if given).
    dev_f1 : float
        The dev micro span F1 (exact) of the last run.
    seed : int
    """

    items: tuple[SpanSuggestion, ...]
    n_dev_docs: int = 0
    n_gold: int = 0
    n_missed: int = 0
    dev_f1: float = 0.0
    seed: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[SpanSuggestion]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> SpanSuggestion:
        return self.items[i]

    def top(self, n: int) -> SpanSuggestions:
        """The first ``n`` suggestions."""
        return SpanSuggestions(self.items[:n], self.n_dev_docs, self.n_gold, self.n_missed,
                               self.dev_f1, self.seed, dict(self.skipped))

    def to_frame(self) -> pd.DataFrame:
        """One row per suggestion (without code and imports)."""
        cols = [f for f in SpanSuggestion.__dataclass_fields__ if f not in ("code", "imports")]
        return pd.DataFrame([{k: v for k, v in s.to_dict().items() if k in cols}
                             for s in self.items], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts and every suggestion."""
        return {"n_dev_docs": self.n_dev_docs, "n_gold": self.n_gold, "n_missed": self.n_missed,
                "dev_f1": self.dev_f1, "seed": self.seed, "skipped": dict(self.skipped),
                "suggestions": [s.to_dict() for s in self.items]}


# ----------------------------------------------------------------------------------------------
# shapes and contexts
# ----------------------------------------------------------------------------------------------
def _char_class(ch: str) -> str:
    if ch.isdigit():
        return "d"
    if ch.isalpha():
        return "U" if ch.isupper() else ("l" if ch.islower() else "a")
    return ch


_CLASS_RX = {"d": r"\d", "U": "[A-Z]", "l": "[a-z]", "a": r"[^\W\d_]"}


def _runs(text: str) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for ch in text:
        c = _char_class(ch)
        if c == "U" and not ch.isascii():
            c = "a"
        if c == "l" and not ch.isascii():
            c = "a"
        if runs and runs[-1][0] == c:
            runs[-1] = (c, runs[-1][1] + 1)
        else:
            runs.append((c, 1))
    return runs


def span_shape(texts: Sequence[str]) -> str | None:
    """The shape regex shared by ``texts`` (run lengths as ranges), or None if they differ.

    >>> span_shape(["ACC-86048", "CU-7648629"])
    '[A-Z]{2,3}\\\\-\\\\d{5,7}'
    >>> span_shape(["ab", "12"]) is None
    True
    """
    runs = [_runs(t) for t in texts]
    if not runs or not runs[0]:
        return None
    keys = {tuple(c for c, _ in r) for r in runs}
    if len(keys) != 1:
        return None
    parts = []
    for j, (c, _) in enumerate(runs[0]):
        lo = min(r[j][1] for r in runs)
        hi = max(r[j][1] for r in runs)
        if c in _CLASS_RX:
            rx = _CLASS_RX[c]
            parts.append(rx if lo == hi == 1 else (f"{rx}{{{lo}}}" if lo == hi
                                                   else f"{rx}{{{lo},{hi}}}"))
        else:
            lit = re.escape(c)
            parts.append(lit if lo == hi == 1 else f"{lit}{{{lo},{hi}}}")
    return "".join(parts)


_WORD = re.compile(r"[\w'.]+", re.UNICODE)


def _left_context(text: str, start: int, n_words: int) -> tuple[str, str] | None:
    """(the last ``n_words`` words before ``start`` on its line, lower-cased, and the characters
    between them and the span); ``("^", sep)`` when only punctuation precedes it on the line."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    sep = re.search(r"[^\w]*$", before).group(0)  # type: ignore[union-attr]
    head = before[: len(before) - len(sep)]
    if not head.strip():
        return "^", sep
    toks = list(re.finditer(r"\w+", head))
    if len(toks) < n_words:
        return None
    seg = head[toks[-n_words].start():]
    if len(seg) > 40:
        return None
    return seg.lower(), sep


def _right_stop(text: str, end: int) -> str:
    after = text[end:end + 2]
    if after == "" or after.startswith("\n"):
        return "eol"
    if after == " (":
        return "paren"
    if after[:1] == ":":
        return "colon"
    if after[:1] in ".?!,;" and (after[1:2].isspace() or after[1:2] == ""):
        return "punct"
    return "space" if after[:1].isspace() else "other"


_STOPS = {"eol": r"(?=\n|$)", "paren": r"(?=\ \()", "colon": r"(?=:)",
          "punct": r"(?=[.?!,;](?:\s|$))", "space": r"(?=\s)"}


# ----------------------------------------------------------------------------------------------
# the engine
# ----------------------------------------------------------------------------------------------
def _as_span_list(doc: Any, where: str) -> list[Span]:
    if doc is None:
        return []
    out = []
    for s in doc:
        if isinstance(s, Span):
            out.append(s)
        elif isinstance(s, dict):
            out.append(Span(int(s["start"]), int(s["end"]), str(s["label"])))
        elif isinstance(s, (tuple, list)) and len(s) == 3:
            out.append(Span(int(s[0]), int(s[1]), str(s[2])))
        else:
            raise DataError(f"suggest_pii: {where} holds {s!r}, not a span")
    return out


@dataclass
class _SpanCandidate:
    label: str
    kind: str
    pattern: str
    regex: re.Pattern[str]
    key: tuple[Any, ...]
    hits: dict[int, list[Span]] = field(default_factory=dict)


def _micro(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _counts(gold: dict[int, set[tuple[int, int, str]]],
            pred: dict[int, set[tuple[int, int, str]]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for i, g in gold.items():
        p = pred.get(i, set())
        both = len(g & p)
        tp, fp, fn = tp + both, fp + len(p) - both, fn + len(g) - both
    return tp, fp, fn


def _apply(pred: dict[int, set[tuple[int, int, str]]], hits: dict[int, list[Span]]
           ) -> dict[int, set[tuple[int, int, str]]]:
    """Predictions with each hit replacing the predicted spans it overlaps."""
    out = {i: set(p) for i, p in pred.items()}
    for i, spans in hits.items():
        cur = out.setdefault(i, set())
        for s in spans:
            for q in [q for q in cur if q[0] < s.end and s.start < q[1]]:
                cur.discard(q)
            cur.add((s.start, s.end, s.label))
    return out


def suggest_pii(
    texts: Sequence[str],
    *,
    gold: Sequence[Any],
    predicted: Sequence[Any],
    dev_mask: Sequence[bool] | np.ndarray,
    target_rows: Sequence[bool] | np.ndarray | None = None,
    lf_names: Sequence[str] = (),
    ids: Sequence[Any] | None = None,
    top_k: int = 10,
    min_precision: float = 0.6,
    min_support: int = 2,
    max_context_words: int = 2,
    prefix: str = "sg_",
    seed: int = 0,
) -> SpanSuggestions:
    """Span-LF candidates for the gold spans of the dev documents that the last run missed.

    Parameters
    ----------
    texts : sequence of str
        Every document (dev and others).
    gold : sequence of (list of spans or None)
        Gold spans per document; only dev documents' are read (None = not annotated).
    predicted : sequence of list of spans
        What the last run found per document.
    dev_mask : array-like of bool
        The dev documents (with gold): the only labels used.
    target_rows : array-like of bool, optional
        Only the missed spans of these documents (a slice) seed candidates; precision and F1
        gain are still measured on all dev documents.
    lf_names : sequence of str
        Existing span LF names, never reused.
    ids : sequence, optional
        Document ids for the evidence (default positions).
    top_k : int, default 10
    min_precision : float, default 0.6
        Minimum exact-span precision on the dev documents.
    min_support : int, default 2
        Minimum missed gold spans a candidate must find.
    max_context_words : int, default 2
    prefix : str, default "sg_"
    seed : int, default 0
        Breaks ties; the same seed gives the same suggestions.

    Returns
    -------
    SpanSuggestions

    Raises
    ------
    DataError
        Inputs of different lengths or spans that are not spans.

    Examples
    --------
    >>> s = suggest_pii(["thx ann", "thx bob", "hi"], gold=[[(4, 7, "PERSON")],
    ...                 [(4, 7, "PERSON")], []], predicted=[[], [], []], dev_mask=[True] * 3)
    >>> s[0].pattern
    '(?i:(?<!\\\\w)thx)\\\\ (?P<s>[^\\\\n]{1,6}?(?=\\\\n|$))'
    """
    n = len(texts)
    if len(gold) != n or len(predicted) != n:
        raise DataError(f"suggest_pii: {n} texts, {len(gold)} gold and {len(predicted)} "
                        "predicted documents; they must be aligned")
    dev = np.asarray(dev_mask, dtype=bool).reshape(-1)
    if dev.size != n:
        raise DataError(f"suggest_pii: dev_mask has {dev.size} values for {n} documents")
    row_ids = [str(i) for i in (range(n) if ids is None else ids)]
    docs = [i for i in range(n) if dev[i] and gold[i] is not None]
    g = {i: {(s.start, s.end, s.label) for s in _as_span_list(gold[i], f"gold of document {i}")}
         for i in docs}
    p = {i: {(s.start, s.end, s.label) for s in _as_span_list(predicted[i],
                                                                f"prediction of document {i}")}
         for i in docs}
    n_gold = sum(len(v) for v in g.values())
    target = None if target_rows is None else np.asarray(target_rows, dtype=bool).reshape(-1)
    if target is not None and target.size != n:
        raise DataError(f"suggest_pii: target_rows has {target.size} values for {n} documents")
    missed = {i: g[i] - p[i] for i in docs}
    seeds = missed if target is None else {i: v for i, v in missed.items() if target[i]}
    base = _micro(*_counts(g, p))
    result = SpanSuggestions((), len(docs), n_gold, sum(len(v) for v in seeds.values()),
                             round(base, 6), seed)
    if not result.n_missed:
        return result
    cands = _candidates(texts, seeds, max_context_words)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(cands))
    others = [i for i in range(n) if not dev[i]]
    evaluated = []
    for j in order.tolist():
        c = cands[j]
        hits: dict[int, list[Span]] = {}
        for i in docs:
            found = [Span(m.start("s"), m.end("s"), c.label) for m in c.regex.finditer(texts[i])
                     if m.end("s") > m.start("s")]
            if found:
                hits[i] = found
        support = sum(len(v) for v in hits.values())
        tp = sum(1 for i, v in hits.items() for s in v if (s.start, s.end, s.label) in g[i])
        new = sum(1 for i, v in hits.items() for s in v
                  if (s.start, s.end, s.label) in missed[i])
        if support == 0 or new < min_support or tp / support < min_precision:
            continue
        c.hits = hits
        evaluated.append((c, support, tp, new))
    evaluated.sort(key=lambda t: (-t[3], -t[2] / t[1], t[0].pattern))
    chosen: list[SpanSuggestion] = []
    names = set(lf_names)
    current = p
    cur_f1 = base
    pool = evaluated[: max(60, 10 * top_k)]
    while len(chosen) < top_k and pool:
        best = None
        for idx, (c, *_) in enumerate(pool):
            after = _apply(current, c.hits)
            f1 = _micro(*_counts(g, after))
            gain = f1 - cur_f1
            if best is None or gain > best[0] + 1e-12:
                best = (gain, idx, after, f1)
        if best is None or best[0] <= 0:
            break
        gain, idx, after, f1 = best
        c, support, tp, new = pool.pop(idx)
        name = _name(prefix, c, names)
        names.add(name)
        pool_docs = sum(1 for i in others if c.regex.search(texts[i]))
        lo, hi = wilson_interval(tp, support)
        chosen.append(SpanSuggestion(
            name=name, label=c.label, kind=c.kind, pattern=c.pattern,
            code=span_code(name, c.label, c.pattern), imports=_IMPORTS,
            precision=tp / support, precision_low=lo, precision_high=hi, support=support,
            tp=tp, new_tp=new, recall_gain=new / max(1, n_gold), f1_gain=float(gain),
            pool_docs=pool_docs, pool_coverage=pool_docs / max(1, len(others)),
            examples=_examples(c, texts, missed, row_ids)))
        current, cur_f1 = after, f1
    return SpanSuggestions(tuple(chosen), result.n_dev_docs, n_gold, result.n_missed,
                           result.dev_f1, seed)


def _candidates(texts: Sequence[str], missed: dict[int, set[tuple[int, int, str]]],
                max_words: int) -> list[_SpanCandidate]:
    groups: dict[tuple[Any, ...], list[tuple[int, int, int]]] = defaultdict(list)
    for i in sorted(missed):
        text = texts[i]
        for start, end, label in sorted(missed[i]):
            if end - start > _MAX_SPAN or "\n" in text[start:end]:
                continue
            stop = _right_stop(text, end)
            for w in range(1, max_words + 1):
                ctx = _left_context(text, start, w)
                if ctx is None:
                    continue
                groups[("context", label, ctx[0], ctx[1], stop)].append((i, start, end))
                if ctx[0] == "^":
                    break
            groups[("shape", label)].append((i, start, end))
    out: list[_SpanCandidate] = []
    for key, members in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        values = [texts[i][s:e] for i, s, e in members]
        label = key[1]
        if key[0] == "shape":
            by_coarse: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for v in values:
                if v.count(" ") <= 1:  # structured values; long phrases are contexts' job
                    by_coarse[tuple(c for c, _ in _runs(v))].append(v)
            for coarse, vs in sorted(by_coarse.items()):
                if not any(c == "d" for c in coarse):
                    continue  # a shape without digits alone is too generic (words, names)
                shape = span_shape(vs)
                if shape is None:
                    continue
                pattern = rf"(?<![\w-])(?P<s>{shape})(?![\w-])"
                out.append(_SpanCandidate(label, "shape", pattern, re.compile(pattern),
                                          ("shape", label, shape)))
            continue
        _, _, ctx, sep, stop = key
        shapes = []
        shape = span_shape(values)
        if shape is not None:
            shapes.append(shape)
        lo = min(len(v) for v in values)
        hi = max(len(v) for v in values)
        if stop in _STOPS:
            lazy = rf"[^\n]{{{max(1, lo // 2)},{min(_MAX_SPAN, hi * 2)}}}?"
            end = _STOPS[stop]
            if stop == "punct":  # do not stop at punctuation the spans hold (commas in addresses)
                marks = "".join(ch for ch in ".?!,;" if not any(ch in v for v in values))
                end = rf"(?=[{re.escape(marks)}](?:\s|$))" if marks else r"(?=\s|$)"
            shapes.append(lazy + end)
        for sh in shapes:
            if ctx == "^":
                head = r"(?m:^)" + re.escape(sep)
            else:
                words = re.escape(ctx)
                head = rf"(?i:(?<!\w){words})" if ctx[:1].isalnum() else rf"(?i:{words})"
                head += re.escape(sep)
            tail = "" if sh.endswith(")") and "(?=" in sh else _STOPS.get(stop, "")
            pattern = f"{head}(?P<s>{sh}){tail}"
            try:
                rx = re.compile(pattern)
            except re.error:
                continue
            out.append(_SpanCandidate(label, "context", pattern, rx, key + (sh,)))
    return out


def _name(prefix: str, c: _SpanCandidate, taken: set[str]) -> str:
    if c.kind == "shape":
        what = "shape"
    else:
        ctx = c.key[2]
        what = "line_start" if ctx == "^" else "after_" + slug(ctx)
    base = f"{prefix}{slug(c.label)}__{what}"[:60].rstrip("_")
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


def _examples(c: _SpanCandidate, texts: Sequence[str], missed: dict[int, set[Any]],
              row_ids: list[str], limit: int = 3) -> tuple[str, ...]:
    out = []
    for i, spans in sorted(c.hits.items()):
        for s in spans:
            if (s.start, s.end, s.label) in missed.get(i, set()):
                t = texts[i]
                left = " ".join(t[max(0, s.start - 30):s.start].split())
                right = " ".join(t[s.end:s.end + 20].split())
                out.append(f"{row_ids[i]}: ...{left} [{s.label}] {right}...")
                break
        if len(out) >= limit:
            break
    return tuple(out)


_IMPORTS = ("import re", "from labelfns.spans import Span, span_lf")


def span_code(name: str, label: str, pattern: str) -> str:
    """The source of a ``@span_lf`` marking group ``s`` of ``pattern`` as ``label``.

    >>> print(span_code("sg_x", "EMAIL", r"(?P<s>\\w+@\\w+)"))
    @span_lf(name="sg_x", labels=["EMAIL"], resources={"rx": re.compile(r"(?P<s>\\w+@\\w+)")})
    def sg_x(text, *, rx):
        return [Span(m.start("s"), m.end("s"), "EMAIL") for m in rx.finditer(text)]
    """
    from analysis.suggest_code import _raw

    if label not in PII_LABELS:
        raise LabelcycleError(f"{label!r} is not a PII label; labels: {', '.join(PII_LABELS)}")
    return (f'@span_lf(name="{name}", labels=["{label}"], resources={{"rx": '
            f"re.compile({_raw(pattern)})}})\n"
            f"def {name}(text, *, rx):\n"
            f'    return [Span(m.start("s"), m.end("s"), "{label}") for m in rx.finditer(text)]')


# ----------------------------------------------------------------------------------------------
# projects
# ----------------------------------------------------------------------------------------------
def suggest_pii_for_project(project: Any, *, run_id: str | None = None, top_k: int = 10,
                            slice_mask: Sequence[bool] | np.ndarray | None = None,
                            min_precision: float = 0.6, seed: int = 0) -> SpanSuggestions:
    """Span-LF suggestions from a project's PII run (default the latest) and its dev gold spans.

    Parameters
    ----------
    project : weak_supervision.project.Project
        A project with a ``[pii]`` section and a ``gold_column``.
    run_id : str, optional
        A ``"pii"`` run; default the latest successful one.
    slice_mask : array-like of bool, optional
        Rows of a slice whose missed spans to focus on (``target_rows`` of :func:`suggest_pii`).
    top_k, min_precision, seed :
        See :func:`suggest_pii`.

    Raises
    ------
    LabelcycleError
        No PII run, or the project has no gold spans.
    DataError
        The run's span file does not match the project's rows.

    Example
    -------
    >>> from weak_supervision.project import load_project
    >>> from weak_supervision.pii_pipeline import pii_label_project
    >>> project = load_project("examples/support_chats")  # doctest: +SKIP
    >>> _ = pii_label_project(project)  # doctest: +SKIP
    >>> suggest_pii_for_project(project, top_k=3)[0].label  # doctest: +SKIP
    'PERSON'
    """
    from analysis.cycle_data import read_pii_run
    from weak_supervision.pii_pipeline import load_pii_lfs

    pii = project.config.pii
    if not pii.enabled or pii.gold_column is None:
        raise LabelcycleError(f"{project.config.path}: span suggestions need a [pii] section with "
                              "gold_column (the gold spans of the dev rows)")
    run = read_pii_run(project, run_id=run_id)
    ids, texts = list(run.ids), list(run.texts)
    gold = list(run.gold)
    has = np.array([x is not None for x in gold], dtype=bool)
    dev = has & project.dev_mask
    if not (project.config.dev.enabled and dev.any() and (has & ~dev).any()):
        dev = has
    names = [lf.name for lf in load_pii_lfs(project)]
    return suggest_pii(texts, gold=gold, predicted=run.spans,
                       dev_mask=dev, target_rows=slice_mask, lf_names=names, ids=ids, top_k=top_k,
                       min_precision=min_precision, seed=seed)
