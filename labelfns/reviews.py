"""LF families for category tasks over reviews and product texts, and a first LF set to edit.

* :func:`negated_keyword_lf`: a keyword LF that ignores a keyword preceded by a negation ("not",
  "no", "never", "without", "n't", ...) within ``window`` words of the same clause, so "not for my
  dog" does not vote for the dog class. It is a regex family member (a
  :class:`~labelfns.patterns.PatternLF`), so :func:`weak_supervision.apply_lfs` runs it vectorized.
* :func:`keyword_table_lfs`: ``{class: [keywords]}`` to LFs, optionally one LF per field (a title
  LF and a text LF per class, so the label model learns that titles are more precise) and
  negation-aware.
* :func:`class_name_keywords` / :func:`lfs_from_class_names`: keywords from the class names
  themselves (multi-word names split, singular and plural forms, words shared by several names
  dropped).
* :func:`lfs_from_sample`: discriminative n-grams per class, mined from a small labelled sample and
  kept when their precision on the sample (optionally the Wilson lower bound) reaches a threshold.
* :func:`write_lf_module`: writes keyword/regex LFs as a readable Python module, one LF a line with
  its evidence in a comment, to edit rather than start from a blank page.

Example
-------
>>> from types import SimpleNamespace
>>> lf = negated_keyword_lf("kw_dog", ["dog"], "dogs", labels=["cats", "dogs"])
>>> lf(SimpleNamespace(text="My dog loves it")), lf(SimpleNamespace(text="Not for my dog."))
(1, -1)
>>> sorted(class_name_keywords(["dogs", "hair care"])["dogs"])
['dog', 'dogs']
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelfns.core import check_unique_names
from labelfns.errors import DataError, LFError
from labelfns.patterns import (
    DEFAULT_FIELDS,
    PatternLF,
    _check_fields,
    _check_label,
    field_text,
    keyword_lf,
    keyword_regex,
)

__all__ = [
    "NEGATIONS",
    "NAME_STOPWORDS",
    "NegatedKeywordLF",
    "NgramEvidence",
    "MinedLFs",
    "negated_keyword_lf",
    "keyword_table_lfs",
    "class_name_keywords",
    "lfs_from_class_names",
    "lfs_from_sample",
    "write_lf_module",
    "slug",
]

NEGATIONS: tuple[str, ...] = (
    "not", "no", "never", "without", "nor", "neither", "cannot", "t",  # "t" is the end of "n't"
    "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "wont", "cant", "couldnt",
    "wouldnt", "shouldnt", "hasnt", "havent", "hadnt",
)
"""Words that negate the keyword that follows them (``don't`` splits into ``don`` and ``t``)."""

NAME_STOPWORDS: frozenset[str] = frozenset({
    "and", "or", "for", "the", "of", "a", "an", "in", "on", "with", "to", "by", "other", "misc",
    "general", "accessories", "supplies", "products", "product", "equipment", "care", "items",
    "up", "s",
})
"""Words of class names too generic to be keywords on their own (used by
:func:`class_name_keywords`)."""

_CLAUSE_BREAK = r"\.!\?;:,\(\)\n"  # inside a character class: . ! ? ; : , ( ) newline


# -- negation-aware keywords ----------------------------------------------------------------------
def negated_keyword_regex(keywords: Iterable[str], *, window: int = 3,
                          negations: Iterable[str] = NEGATIONS,
                          case_sensitive: bool = False) -> re.Pattern[str]:
    """The regex of :func:`negated_keyword_lf`: a keyword not preceded by a negation within
    ``window`` words of its clause (clauses end at ``. ! ? ; : , ( )`` and newlines).

    >>> rx = negated_keyword_regex(["dog"], window=2)
    >>> [bool(rx.search(t)) for t in ["my dog", "no dog", "no big fat dog", "No. My dog"]]
    [True, False, True, True]
    """
    kws = sorted(set(keywords), key=lambda k: (-len(k), k))
    body = "|".join(r"\s+".join(re.escape(w) for w in kw.split()) for kw in kws)
    negs = "|".join(re.escape(n) for n in sorted(set(negations), key=lambda n: (-len(n), n)))
    brk = _CLAUSE_BREAK
    sep = rf"[^\w{brk}]+"
    tok = rf"(?!(?:{negs})(?!\w))\w+{sep}"
    clause_start = rf"(?:^|(?<=[{brk}]))[^\w{brk}]*(?:{tok}){{0,{window}}}"
    window_start = rf"(?<!\w)(?:{tok}){{{window}}}"
    pattern = rf"(?:{clause_start}|{window_start})(?:{body})(?!\w)"
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


class NegatedKeywordLF(PatternLF):
    """A keyword LF that skips negated mentions; a regex family member (vectorized).

    Attributes
    ----------
    terms : tuple of str
        The keywords.
    window : int
        How many words before a keyword are checked for a negation.
    negations : tuple of str
        The negation words.
    """

    def __init__(self, name: str, *, terms: Sequence[str], label: Any, fields: Sequence[str],
                 window: int, negations: Sequence[str], case_sensitive: bool,
                 labels: Sequence[str] | None = None) -> None:
        self.terms = tuple(terms)
        self.window = window
        self.negations = tuple(negations)
        regex = negated_keyword_regex(terms, window=window, negations=negations,
                                      case_sensitive=case_sensitive)
        super().__init__(name, kind="regex", regex=regex, label=label, fields=fields,
                         whole_word=True, case_sensitive=case_sensitive, labels=labels)

    def __repr__(self) -> str:
        return (f"NegatedKeywordLF({self.name!r}, keywords={self.terms!r}, label={self.label!r}, "
                f"window={self.window})")


def negated_keyword_lf(
    name: str,
    keywords: str | Iterable[str],
    label: str | int,
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    window: int = 3,
    negations: Iterable[str] = NEGATIONS,
    case_sensitive: bool = False,
    labels: Sequence[str] | None = None,
) -> NegatedKeywordLF:
    """A keyword LF (whole words) that abstains on mentions negated within ``window`` words.

    It votes when at least one mention of a keyword is not negated: "not for cats, my dog loves
    it" still votes dogs for ``["dog"]``.

    Parameters
    ----------
    name : str
    keywords : str or iterable of str
        Words or phrases (whitespace inside a phrase matches any run of whitespace).
    label : str or int
    fields : str or sequence of str, default ("text",)
    window : int, default 3
        Words before the keyword (in the same clause) checked for a negation.
    negations : iterable of str, default :data:`NEGATIONS`
    case_sensitive : bool, default False
    labels : sequence of str, optional

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> lf = negated_keyword_lf("kw_cat", "cat", 0)
    >>> lf(SimpleNamespace(text="It isn't for a cat")), lf(SimpleNamespace(text="Cat approved"))
    (-1, 0)
    """
    if isinstance(keywords, str):
        keywords = [keywords]
    kws = tuple(keywords)
    if not kws or not all(isinstance(k, str) and k.strip() for k in kws):
        raise LFError(f"keywords must be a non-empty list of non-empty strings, got {kws!r}", lf=name)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise LFError(f"window must be an int >= 1, got {window!r}", lf=name)
    negs = tuple(negations)
    if not negs or not all(isinstance(n, str) and re.fullmatch(r"\w+", n) for n in negs):
        raise LFError(f"negations must be single words, got {negs!r}", lf=name)
    return NegatedKeywordLF(name, terms=kws, label=_check_label(name, label),
                            fields=_check_fields(name, fields), window=window, negations=negs,
                            case_sensitive=case_sensitive, labels=labels)


# -- keyword tables -------------------------------------------------------------------------------
def slug(text: Any) -> str:
    """A lower-case identifier-like form of ``text`` for LF names.

    >>> slug("Fish & Aquatic pets"), slug("3-in-1")
    ('fish_aquatic_pets', '3_in_1')
    """
    return re.sub(r"\W+", "_", str(text).lower()).strip("_") or "x"


def keyword_table_lfs(
    table: Mapping[Any, str | Iterable[str]],
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    per_field: bool = False,
    negation: bool = False,
    window: int = 3,
    prefix: str = "kw_",
) -> list[PatternLF]:
    """Keyword LFs from ``{class: [keywords]}``, optionally one per field and negation-aware.

    Names are ``<prefix><class slug>`` (``+ "__" + field slug`` with ``per_field``). One LF per
    field lets the label model weigh a title match and a text match differently.

    >>> lfs = keyword_table_lfs({"dogs": ["dog", "puppy"]}, fields=["Title", "Text"], per_field=True)
    >>> [(lf.name, lf.fields) for lf in lfs]
    [('kw_dogs__title', ('Title',)), ('kw_dogs__text', ('Text',))]
    """
    if not isinstance(table, Mapping):
        raise LFError("keyword_table_lfs takes a mapping {class: [keywords]}", lf=f"{prefix}*")
    field_list = (fields,) if isinstance(fields, str) else tuple(fields)
    groups = [(f"__{slug(f)}", (f,)) for f in field_list] if per_field else [("", field_list)]
    lfs: list[PatternLF] = []
    for label, kws in table.items():
        words = [kws] if isinstance(kws, str) else list(kws)
        for suffix, flds in groups:
            name = f"{prefix}{slug(label)}{suffix}"
            if negation:
                lfs.append(negated_keyword_lf(name, words, label, fields=flds, window=window))
            else:
                lfs.append(keyword_lf(name, words, label, fields=flds))
    check_unique_names(lfs)
    return lfs


_IRREGULAR = {"child": "children", "man": "men", "woman": "women", "mouse": "mice", "foot": "feet",
              "tooth": "teeth", "person": "people", "goose": "geese", "louse": "lice"}
_SINGULAR_IRREGULAR = {v: k for k, v in _IRREGULAR.items()}
# Word endings of adjectives, verbs and mass nouns: such words get no plural form.
_NO_PLURAL = ("ing", "ed", "al", "ic", "ous", "ful", "ive", "ion", "ness", "ship", "ity", "ware",
              "wear", "care")


def _plural(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(_NO_PLURAL) or word in _SINGULAR_IRREGULAR:
        return word
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _singular(word: str) -> str:
    if word in _SINGULAR_IRREGULAR:
        return _SINGULAR_IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _forms(phrase: str, stop: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The phrase with its last word in singular and plural (unless that word is a stopword)."""
    words = phrase.split()
    if not words:
        return []
    last = words[-1]
    out = [phrase]
    if last in stop or _singular(last) in stop:
        return out
    for form in (_singular(last), _plural(_singular(last))):
        candidate = " ".join([*words[:-1], form])
        if candidate not in out:
            out.append(candidate)
    return out


def class_name_keywords(
    labels: Sequence[str],
    *,
    split: bool = True,
    stopwords: Iterable[str] = NAME_STOPWORDS,
    drop_shared: bool = True,
    min_length: int = 3,
) -> dict[str, list[str]]:
    """Keywords per class derived from the class names.

    Each name gives itself (``_``, ``-``, ``/`` and ``&`` read as spaces) with its last word in
    singular and plural (unless it is a stopword); with ``split``, each word of a multi-word name
    also becomes a keyword (singular and plural) unless it is a stopword, shorter than
    ``min_length``, or (``drop_shared``) part of another class's name, where it would be
    ambiguous. Adjectives and verbs get no plural ("bathing", "medical").

    >>> kw = class_name_keywords(["hair care", "skin care", "candy chocolate"])
    >>> kw["hair care"], kw["candy chocolate"][:3]
    (['hair care', 'hair', 'hairs'], ['candy chocolate', 'candy chocolates', 'candy'])
    """
    stop = {s.lower() for s in stopwords}
    names = {label: " ".join(re.sub(r"[_\-/&]+", " ", str(label)).lower().split())
             for label in labels}
    owners: dict[str, set[str]] = defaultdict(set)
    for label, name in names.items():
        for w in name.split():
            owners[_singular(w)].add(label)
    out: dict[str, list[str]] = {}
    for label, name in names.items():
        kws: list[str] = []
        for form in _forms(name, stop):
            if form not in kws:
                kws.append(form)
        words = name.split()
        if split and len(words) > 1:
            for w in words:
                base = _singular(w)
                if w in stop or base in stop or len(w) < min_length:
                    continue
                if drop_shared and len(owners[base]) > 1:
                    continue
                for form in (w, base, _plural(base)):
                    if form not in kws:
                        kws.append(form)
        out[label] = kws
    return out


def lfs_from_class_names(
    labels: Sequence[str],
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    per_field: bool = False,
    negation: bool = False,
    window: int = 3,
    prefix: str = "name_",
    split: bool = True,
    stopwords: Iterable[str] = NAME_STOPWORDS,
    drop_shared: bool = True,
    min_length: int = 3,
) -> list[PatternLF]:
    """A first keyword LF per class from the class names (see :func:`class_name_keywords`).

    >>> [lf.name for lf in lfs_from_class_names(["dogs", "cats"])]
    ['name_dogs', 'name_cats']
    """
    table = class_name_keywords(labels, split=split, stopwords=stopwords, drop_shared=drop_shared,
                                min_length=min_length)
    return keyword_table_lfs({k: v for k, v in table.items() if v}, fields=fields,
                             per_field=per_field, negation=negation, window=window, prefix=prefix)


# -- mining a labelled sample ---------------------------------------------------------------------
def wilson_lower(successes: int, n: int, *, z: float = 1.96) -> float:
    """The lower end of the Wilson score interval of ``successes / n`` (0 when ``n`` is 0).

    >>> round(wilson_lower(5, 5), 3)
    0.566
    """
    if n <= 0:
        return 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / denom)


@dataclass(frozen=True)
class NgramEvidence:
    """How a mined n-gram LF did on the labelled sample.

    Attributes
    ----------
    name, label, ngram : str
    fields : tuple of str
    correct, votes : int
        Sample rows it matched with the right class / in all.
    precision, precision_low : float
        ``correct / votes`` and its 95% Wilson lower bound.
    holdout_correct, holdout_votes : int or None
        The same on the held-out part of the sample (``holdout > 0``), not used for selection.
    """

    name: str
    label: Any
    ngram: str
    fields: tuple[str, ...]
    correct: int
    votes: int
    precision: float
    precision_low: float
    holdout_correct: int | None = None
    holdout_votes: int | None = None

    def comment(self) -> str:
        """The evidence as a short comment: ``"5/6 = 0.83 on the sample (Wilson low 0.44)"``."""
        text = (f"{self.correct}/{self.votes} = {self.precision:.2f} on the sample "
                f"(Wilson low {self.precision_low:.2f})")
        if self.holdout_votes is not None:
            text += f"; held out {self.holdout_correct}/{self.holdout_votes}"
        return text


@dataclass(frozen=True)
class MinedLFs:
    """What :func:`lfs_from_sample` found.

    Attributes
    ----------
    lfs : tuple of PatternLF
        One keyword LF per kept n-gram, grouped by class in label order.
    evidence : tuple of NgramEvidence
        One per LF, same order.
    class_counts : dict
        Labelled sample rows per class (every class of the label set, 0 included).
    missing_classes : tuple
        Classes with no labelled row in the sample (no n-gram can be mined for them).
    unmined_classes : tuple
        Classes with labelled rows but no n-gram that passed the thresholds.
    """

    lfs: tuple[PatternLF, ...]
    evidence: tuple[NgramEvidence, ...]
    class_counts: dict[Any, int] = field(default_factory=dict)
    missing_classes: tuple[Any, ...] = ()
    unmined_classes: tuple[Any, ...] = ()

    def __iter__(self) -> Any:
        return iter(self.lfs)

    def __len__(self) -> int:
        return len(self.lfs)

    def to_frame(self) -> Any:
        """One row per LF with its evidence."""
        import pandas as pd

        cols = [f.name for f in NgramEvidence.__dataclass_fields__.values()]
        return pd.DataFrame([asdict(e) for e in self.evidence], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the evidence and the class coverage of the sample."""
        return {
            "lfs": [asdict(e) | {"fields": list(e.fields)} for e in self.evidence],
            "class_counts": {str(k): v for k, v in self.class_counts.items()},
            "missing_classes": list(self.missing_classes),
            "unmined_classes": list(self.unmined_classes),
        }


_TOKEN = re.compile(r"\w+")


def _ngrams(text: str, lo: int, hi: int, stop: frozenset[str]) -> set[str]:
    """Candidate n-grams of one field: runs of words separated by whitespace only."""
    grams: set[str] = set()
    for segment in re.split(r"[^\w\s]+", text.lower()):
        tokens = _TOKEN.findall(segment)
        for n in range(lo, hi + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i:i + n]
                if all(t in stop or t.isdigit() or len(t) < 2 for t in gram):
                    continue
                if n == 1 and (len(gram[0]) < 3 or gram[0] in stop):
                    continue
                if gram[0] in stop or gram[-1] in stop:
                    continue
                grams.add(" ".join(gram))
    return grams


def _stop_words(stop_words: str | Iterable[str] | None) -> frozenset[str]:
    if stop_words is None:
        return frozenset()
    if isinstance(stop_words, str):
        if stop_words != "english":
            raise LFError(f"stop_words must be 'english', None or a list, got {stop_words!r}",
                          lf="lfs_from_sample")
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    return frozenset(w.lower() for w in stop_words)


def _check_sample(df: Any, labels: Sequence[Any], label_col: str, text_fields: tuple[str, ...]
                  ) -> tuple[list[int], list[Any]]:
    """Positions and values of the labelled rows; unknown classes raise DataError."""
    if not hasattr(df, "columns"):
        raise DataError(f"lfs_from_sample needs a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in (label_col, *text_fields) if c not in df.columns]
    if missing:
        raise DataError(f"the sample has no column {', '.join(map(repr, missing))}; available "
                        f"columns: {', '.join(map(str, df.columns))}")
    known = set(labels)
    rows: list[int] = []
    values: list[Any] = []
    unknown: Counter[Any] = Counter()
    for i, v in enumerate(df[label_col].tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str)
                                                                      and not v.strip()):
            continue
        if v not in known:
            unknown[v] += 1
            continue
        rows.append(i)
        values.append(v)
    if unknown:
        shown = ", ".join(f"{v!r} ({n} rows)" for v, n in unknown.most_common(5))
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise DataError(
            f"column {label_col!r} holds classes outside the label set: {shown}{more}; fix those "
            "values, drop the rows, or add the classes to the label set")
    return rows, values


def lfs_from_sample(
    df: Any,
    labels: Sequence[Any],
    label_col: str,
    *,
    text_fields: str | Sequence[str] = DEFAULT_FIELDS,
    min_precision: float = 0.6,
    min_count: int = 3,
    max_per_class: int = 5,
    ngram_range: tuple[int, int] = (1, 2),
    wilson: bool = False,
    stop_words: str | Iterable[str] | None = "english",
    distinct: bool = True,
    holdout: float = 0.0,
    seed: int = 0,
    prefix: str = "ng_",
) -> MinedLFs:
    """Discriminative n-grams per class from a small labelled sample, as keyword LFs.

    An n-gram (words separated by whitespace, from ``ngram_range``; stopwords only inside) is
    kept for class ``c`` when at least ``min_count`` sample rows of class ``c`` contain it and its
    precision on the sample (the share of the rows containing it that are of class ``c``; with
    ``wilson``, the 95% Wilson lower bound of that share) is at least ``min_precision``. Counts and
    precision are measured with the LF's own matching (whole words, case-insensitive, any of
    ``text_fields``). Per class, at most ``max_per_class`` n-grams are kept, best first (precision,
    then count); an n-gram whose sample matches are all matched by a kept one is skipped, as it
    adds no evidence. With ``distinct`` (default), rows with the same text and label count once,
    so one product reviewed five times does not make its brand name look like a class word.

    Parameters
    ----------
    df : pandas.DataFrame
        The labelled sample (rows with a missing label are ignored).
    labels : sequence
        The label set; LFs vote these class names.
    label_col : str
        The column of gold labels; a value outside ``labels`` raises :class:`DataError`.
    text_fields : str or sequence of str, default ("text",)
        Columns searched (the LFs search the same columns).
    min_precision : float, default 0.6
    min_count : int, default 3
    max_per_class : int, default 5
    ngram_range : (int, int), default (1, 2)
    wilson : bool, default False
        Apply ``min_precision`` to the Wilson lower bound instead of the raw precision.
    stop_words : "english", list or None, default "english"
    distinct : bool, default True
        Count rows with identical ``text_fields`` and label once.
    holdout : float, default 0.0
        Share of the labelled rows (drawn with ``seed``) set aside: n-grams are mined on the rest
        and their held-out precision is reported in the evidence, not used to select.
    seed : int, default 0
    prefix : str, default "ng_"
        LF names are ``<prefix><class>__<n-gram>`` (slugs).

    Returns
    -------
    MinedLFs
        The LFs, their evidence, and the classes without sample rows or without n-grams. In an
        LF module, assign ``mined.lfs`` (a tuple of LFs, which :func:`labelfns.load_lfs`
        collects), or write them out with :func:`write_lf_module`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": ["dog leash", "dog bed", "dog treats", "cat toy", "cat bed"],
    ...                    "y": ["dogs", "dogs", "dogs", "cats", "cats"]})
    >>> mined = lfs_from_sample(df, ["dogs", "cats", "fish"], "y", min_count=2)
    >>> [lf.keywords for lf in mined.lfs], mined.missing_classes
    ([('dog',), ('cat',)], ('fish',))
    """
    fields = _check_fields(f"{prefix}*", text_fields)
    if not 0.0 <= float(min_precision) <= 1.0:
        raise LFError(f"min_precision must be in [0, 1], got {min_precision!r}", lf=f"{prefix}*")
    if not isinstance(min_count, int) or min_count < 1:
        raise LFError(f"min_count must be an int >= 1, got {min_count!r}", lf=f"{prefix}*")
    if not isinstance(max_per_class, int) or max_per_class < 1:
        raise LFError(f"max_per_class must be an int >= 1, got {max_per_class!r}", lf=f"{prefix}*")
    lo, hi = ngram_range
    if not (1 <= lo <= hi):
        raise LFError(f"ngram_range must be (lo, hi) with 1 <= lo <= hi, got {ngram_range!r}",
                      lf=f"{prefix}*")
    if not 0.0 <= float(holdout) < 1.0:
        raise LFError(f"holdout must be in [0, 1), got {holdout!r}", lf=f"{prefix}*")
    labels = list(labels)
    rows, values = _check_sample(df, labels, label_col, fields)
    class_counts = {c: 0 for c in labels}
    for v in values:
        class_counts[v] += 1
    missing = tuple(c for c in labels if class_counts[c] == 0)

    columns = {f: [field_text(v) for v in df[f].tolist()] for f in fields}
    texts = [[columns[f][rows[i]] for f in fields] for i in range(len(rows))]
    y = values
    usable = list(range(len(rows)))
    if distinct:  # one product reviewed five times is one piece of evidence, not five
        seen: set[tuple[Any, ...]] = set()
        usable = []
        for i in range(len(rows)):
            key = (*texts[i], y[i])
            if key not in seen:
                seen.add(key)
                usable.append(i)
    order = np.array(usable, dtype=np.int64)
    n_hold = int(round(float(holdout) * len(usable)))
    if n_hold:
        order = order[np.random.default_rng(seed).permutation(len(usable))]
    mine_idx, hold_idx = sorted(order[n_hold:].tolist()), sorted(order[:n_hold].tolist())
    stop = _stop_words(stop_words)

    # candidate counting (approximate), then exact verification with the LF's regex
    total: Counter[str] = Counter()
    per_class: dict[Any, Counter[str]] = defaultdict(Counter)
    for i in mine_idx:
        grams: set[str] = set()
        for t in texts[i]:
            grams |= _ngrams(t, lo, hi, stop)
        total.update(grams)
        per_class[y[i]].update(grams)

    def matches(gram: str, idx: list[int]) -> list[int]:
        rx = keyword_regex([gram])
        return [i for i in idx if any(rx.search(t) for t in texts[i])]

    def passes(correct: int, votes: int) -> bool:
        if correct < min_count or votes == 0:
            return False
        score = wilson_lower(correct, votes) if wilson else correct / votes
        return score >= float(min_precision)

    lfs: list[PatternLF] = []
    evidence: list[NgramEvidence] = []
    unmined: list[Any] = []
    for c in labels:
        counts = per_class.get(c)
        if not counts:
            if class_counts[c]:
                unmined.append(c)
            continue
        cands = []
        for gram, k in counts.items():
            if k < min_count:
                continue
            score = wilson_lower(k, total[gram]) if wilson else k / total[gram]
            if score >= float(min_precision):
                cands.append((-score, -k, -len(gram.split()), gram))
        cands.sort()
        chosen: list[tuple[str, set[int]]] = []
        for _, _, _, gram in cands:
            if len(chosen) >= max_per_class:
                break
            hit = matches(gram, mine_idx)
            correct = sum(1 for i in hit if y[i] == c)
            if not passes(correct, len(hit)):
                continue
            hit_set = set(hit)
            if any(hit_set <= rows_g for _, rows_g in chosen):
                continue  # nothing on the sample that a kept n-gram does not already match
            chosen.append((gram, hit_set))
            name = f"{prefix}{slug(c)}__{slug(gram)}"
            lf = keyword_lf(name, [gram], c, fields=fields)
            ev = dict(name=name, label=c, ngram=gram, fields=fields, correct=correct,
                      votes=len(hit), precision=correct / len(hit),
                      precision_low=wilson_lower(correct, len(hit)))
            if hold_idx:
                h = matches(gram, hold_idx)
                ev.update(holdout_correct=sum(1 for i in h if y[i] == c), holdout_votes=len(h))
            lfs.append(lf)
            evidence.append(NgramEvidence(**ev))
        if not chosen and class_counts[c]:
            unmined.append(c)
    check_unique_names(lfs)
    return MinedLFs(tuple(lfs), tuple(evidence), class_counts, missing, tuple(unmined))


# -- writing an LF module -------------------------------------------------------------------------
_LINE = 110
_DEFAULT_HEADER = """\
Labeling functions written by labelfns.reviews.write_lf_module: a first set to edit.

Each line is one LF; the comment says how it did on the labelled sample it was mined from
(right votes / all votes = precision, and the 95% Wilson lower bound). Delete the ones that look
wrong, merge or extend keyword lists, and move good ones to your hand-written module.
"""


def _q(value: Any) -> str:
    """A Python literal for ``value``; strings in double quotes when that needs no escaping."""
    if isinstance(value, str):
        if '"' not in value and "\\" not in value and value.isprintable():
            return f'"{value}"'
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    return repr(value)


def _raw(pattern: str) -> str:
    """A regex as a raw string literal when that is exact, else its repr."""
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if '"' not in pattern and trailing % 2 == 0 and pattern.isprintable():
        return f'r"{pattern}"'
    return repr(pattern)


def _flags(flags: int) -> str:
    names = [f"re.{f.name}" for f in re.RegexFlag
             if f.name and f.value & flags and f.value != re.UNICODE and bin(f.value).count("1") == 1]
    return " | ".join(names) or "0"


def _fields_arg(lf: PatternLF) -> str:
    return "" if lf.fields == DEFAULT_FIELDS else f", fields={_q(lf.fields)}"


def _call(lf: Any) -> tuple[str, set[str]]:
    """The Python call that rebuilds ``lf`` and the names it needs imported."""
    if isinstance(lf, NegatedKeywordLF):
        extra = "" if lf.window == 3 else f", window={lf.window}"
        if lf.negations != NEGATIONS:
            extra += f", negations={_q(lf.negations)}"
        if lf.case_sensitive:
            extra += ", case_sensitive=True"
        return (f"negated_keyword_lf({_q(lf.name)}, {_q(lf.terms)}, {_q(lf.label)}"
                f"{_fields_arg(lf)}{extra})", {"negated_keyword_lf"})
    if isinstance(lf, PatternLF) and type(lf) is PatternLF and lf.kind == "keyword":
        extra = "" if lf.whole_word else ", whole_word=False"
        extra += ", case_sensitive=True" if lf.case_sensitive else ""
        return (f"keyword_lf({_q(lf.name)}, {_q(lf.keywords)}, {_q(lf.label)}"
                f"{_fields_arg(lf)}{extra})", {"keyword_lf"})
    if isinstance(lf, PatternLF) and type(lf) is PatternLF and lf.kind == "regex":
        flags = lf.regex.flags & ~re.UNICODE
        if flags in (0, re.IGNORECASE):
            cs = ", case_sensitive=True" if flags == 0 else ""
            return (f"regex_lf({_q(lf.name)}, {_raw(lf.regex.pattern)}, {_q(lf.label)}"
                    f"{_fields_arg(lf)}{cs})", {"regex_lf"})
        return (f"regex_lf({_q(lf.name)}, re.compile({_raw(lf.regex.pattern)}, {_flags(flags)}), "
                f"{_q(lf.label)}{_fields_arg(lf)})", {"regex_lf", "re"})
    raise LFError(
        f"cannot write a {type(lf).__name__} as data", lf=getattr(lf, "name", repr(lf)),
        hint="write_lf_module writes keyword, negated-keyword and regex LFs; keep Python LFs in "
             "your own module")


def _wrap_call(call: str, indent: str) -> list[str]:
    """``call`` on one line if it fits, else one argument a line (lists wrapped)."""
    if len(indent) + len(call) + 1 <= _LINE:
        return [f"{indent}{call},"]
    head, _, rest = call.partition("(")
    args = _split_args(rest[:-1])
    lines = [f"{indent}{head}("]
    inner = indent + "    "
    for arg in args:
        if len(inner) + len(arg) + 1 <= _LINE or not arg.startswith("["):
            lines.append(f"{inner}{arg},")
            continue
        items = _split_args(arg[1:-1])
        lines.append(f"{inner}[")
        line = inner + "    "
        for item in items:
            piece = f"{item}, "
            if len(line) + len(piece) > _LINE and line.strip():
                lines.append(line.rstrip())
                line = inner + "    "
            line += piece
        if line.strip():
            lines.append(line.rstrip())
        lines.append(f"{inner}],")
    lines.append(f"{indent}),")
    return lines


def _split_args(text: str) -> list[str]:
    """Split a Python argument list at top-level commas (strings and brackets respected)."""
    out, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    last = text[start:].strip()
    if last:
        out.append(last)
    return out


def write_lf_module(
    lfs: MinedLFs | Iterable[PatternLF],
    path: str | Path,
    *,
    evidence: Mapping[str, str | NgramEvidence] | None = None,
    header: str | None = None,
    variable: str = "LFS",
) -> Path:
    """Write keyword/regex LFs as an editable Python module: one LF a line, evidence as comments.

    The module defines a list ``variable`` (collected by :func:`labelfns.load_lfs`); LFs are
    grouped by class (classes in order of first appearance) with a comment line per class.
    Loading the written module gives LFs equal to the input (same names, patterns, labels, fields
    and fingerprints). The file is written atomically.

    Parameters
    ----------
    lfs : MinedLFs or iterable of PatternLF
        Keyword, negated-keyword or regex LFs. A :class:`MinedLFs` brings its evidence.
    path : str or Path
        The ``.py`` file to write.
    evidence : mapping of LF name -> str or NgramEvidence, optional
        Comments per LF (added to those of a MinedLFs).
    header : str, optional
        The module docstring (a default explains the file).
    variable : str, default "LFS"

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from labelfns import load_lfs
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "first_lfs.py"
    >>> _ = write_lf_module([keyword_lf("kw_dog", ["dog"], "dogs")], p, evidence={"kw_dog": "3/3"})
    >>> [lf.name for lf in load_lfs([p])]
    ['kw_dog']
    """
    notes: dict[str, str] = {}
    if isinstance(lfs, MinedLFs):
        notes.update({e.name: e.comment() for e in lfs.evidence})
        items = list(lfs.lfs)
    else:
        items = list(lfs)
    for name, ev in (evidence or {}).items():
        notes[name] = ev.comment() if isinstance(ev, NgramEvidence) else str(ev)
    check_unique_names(items)
    if not variable.isidentifier():
        raise LFError(f"variable must be a Python identifier, got {variable!r}", lf="*")
    imports: set[str] = set()
    by_label: dict[Any, list[tuple[Any, str]]] = {}
    for lf in items:
        call, needs = _call(lf)
        imports |= needs
        by_label.setdefault(lf.label, []).append((lf, call))
    body: list[str] = []
    for label, group in by_label.items():
        body.append(f"    # -- {label} " + "-" * max(3, 60 - len(str(label))))
        for lf, call in group:
            note = notes.get(lf.name)
            one = f"    {call},"
            if note and len(one) + len(note) + 4 <= _LINE:
                body.append(f"{one}  # {' '.join(note.split())}")
                continue
            if note:
                body.append(f"    # {' '.join(note.split())}")
            body.extend(_wrap_call(call, "    "))
    doc = (header if header is not None else _DEFAULT_HEADER).strip("\n").replace('"""', "'''")
    lines = [f'"""{doc}\n"""', ""]
    if "re" in imports:
        lines.append("import re")
        lines.append("")
    lib = sorted(n for n in imports if n in ("keyword_lf", "regex_lf"))
    if lib:
        lines.append(f"from labelfns import {', '.join(lib)}")
    if "negated_keyword_lf" in imports:
        lines.append("from labelfns.reviews import negated_keyword_lf")
    lines += ["", f"{variable} = [", *body, "]", ""]
    text = "\n".join(lines)
    compile(text, str(path), "exec")  # a writer bug must not leave a broken module behind
    path = Path(path)
    _atomic_write_text(path, text)
    return path


def _atomic_write_text(path: Path, text: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
