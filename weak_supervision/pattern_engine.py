"""Run keyword and regex LF families together, vectorized, with exactly the row-by-row semantics.

How it works
------------
1. Each text is mapped character by character (same length) by a *fold*: letters to the lower-case
   ASCII letter that ``re.IGNORECASE`` would match them with (``K`` -> ``k``, ``ſ`` -> ``s``), other
   word characters (``\\w``) outside ASCII to ``\\x01``, every non-word character to a space. ASCII
   texts are folded with one ``bytes.translate`` call.
2. Each LF gets a *prefilter*: literals of which at least one must appear in the folded text when
   the LF's regex matches (a keyword's longest word, padded with spaces when whole-word; the required
   literals of a regex, read from its parse tree). All literals of all LFs go into one Aho-Corasick
   automaton (``ahocorasick_rs``), run once over the folded texts of a chunk joined together.
3. A hit is a candidate. For a single-word ASCII keyword matched case-insensitively, the folded hit
   *is* the match; every other candidate is confirmed with the LF's own regex on that row. LFs with no
   usable literal fall back to the regex on every row.

The prefilter is sound (it never misses a match), so the votes equal the LFs' own ``__call__``:
``tests/test_pattern_engine.py`` checks it against Snorkel's ``PandasLFApplier`` on generated text.

Example
-------
>>> import pandas as pd
>>> from labelfns import keyword_lf, regex_lf
>>> lfs = [keyword_lf("kw", ["dog"], 0), regex_lf("rx", r"\\d+ ?lbs?", 1)]
>>> match_patterns(lfs, pd.DataFrame({"text": ["My dog: 12 lbs", "cats"]})).tolist()
[[True, True], [False, False]]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick_rs
import numpy as np
import pandas as pd

from labelfns.patterns import PatternLF, field_text

try:  # Python >= 3.11 keeps the parser private; it is stable across 3.11-3.13
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre_parse = None
    _sre_c = None

__all__ = ["match_patterns", "fold", "prefilter_literals"]

_SEP = " \x00 "
_MIN_LITERAL = 2  # a single character hits too often to be worth prefiltering


def _ascii_table() -> bytes:
    table = bytearray(range(256))
    for c in range(128):
        ch = chr(c)
        if ch.isalnum() or ch == "_":
            table[c] = ord(ch.lower())
        elif c == 0:
            table[c] = 0  # kept for the row separator; texts holding NUL take the slow path
        else:
            table[c] = 32
    return bytes(table)


_ASCII_TABLE = _ascii_table()


class _FoldTable(dict[int, str]):
    """``str.translate`` table for the fold, filled lazily for characters outside ASCII."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if not (ch.isalnum() or ch == "_"):
            out = " "
        else:
            out = "\x01"
            for letter in "abcdefghijklmnopqrstuvwxyz":
                if re.fullmatch(letter, ch, re.IGNORECASE):
                    out = letter
                    break
        self[code] = out
        return out


_FOLD = _FoldTable({c: chr(_ASCII_TABLE[c]) for c in range(1, 128)})
_FOLD[0] = " "


def fold(text: str) -> str:
    """The fold of ``text`` (same length; see the module docs).

    >>> fold("Über-Dog, 5K!")
    '\\x01ber dog  5k '
    """
    if text.isascii() and "\x00" not in text:
        return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii")
    return text.translate(_FOLD)


def _fold_join(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """Folded texts joined by separators, as ASCII bytes (the fold's output is ASCII), and each
    row's start offset."""
    raw = _SEP.join(texts)
    if raw.isascii() and raw.count("\x00") == max(len(texts) - 1, 0):
        big = raw.encode("ascii").translate(_ASCII_TABLE)
    else:
        big = _SEP.join(fold(t) for t in texts).encode("ascii")
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        starts[1:] = np.cumsum(lengths[:-1] + len(_SEP))
    return b" " + big + b" ", starts + 1


@dataclass(frozen=True)
class _Prefilter:
    """Any match of the LF implies that, for at least one alternative, every literal of it occurs
    in the folded text."""

    alternatives: tuple[tuple[str, ...], ...]
    exact: bool  # a hit of a (single-literal) alternative is itself a match


_MAX_ALTERNATIVES = 32


def prefilter_literals(lf: PatternLF) -> _Prefilter | None:
    """The prefilter of an LF family member, or ``None`` when it must scan every row.

    >>> prefilter_literals(__import__("labelfns").keyword_lf("k", ["Dog", "gift  card"], 0))
    _Prefilter(alternatives=((' dog ',), (' gift ', ' card ')), exact=False)
    """
    if lf.kind == "keyword":
        alternatives: list[tuple[str, ...]] = []
        exact = not lf.case_sensitive
        for kw in lf.keywords:
            pieces = kw.split()
            if len(pieces) != 1 or not re.fullmatch(r"[A-Za-z0-9_]+", kw):
                exact = False
            lits = []
            for i, piece in enumerate(pieces):
                left = lf.whole_word or i > 0
                right = lf.whole_word or i < len(pieces) - 1
                lit = (" " if left else "") + fold(piece) + (" " if right else "")
                if _usable(lit):
                    lits.append(lit)
            if not lits:
                return None
            alternatives.append(tuple(dict.fromkeys(lits)))
        return _Prefilter(tuple(dict.fromkeys(alternatives)), exact)
    found = _regex_requirement(lf.regex)
    if not found:
        return None
    # Any subset of a conjunction keeps the prefilter sound (each literal is needed). Keep the
    # literals of 3+ characters (short ones hit everywhere and slow the scan), else the longest.
    alts = []
    for alt in found:
        usable = list(dict.fromkeys(lit for lit in map(fold, alt) if _usable(lit)))
        if not usable:
            return None
        long = [lit for lit in usable if len(lit) >= 3]
        alts.append(tuple(long) if long else (max(usable, key=len),))
    return _Prefilter(tuple(dict.fromkeys(alts)), False)


def _usable(lit: str) -> bool:
    core = lit.strip(" ")
    return len(lit) >= _MIN_LITERAL and bool(core) and "\x01" not in lit


_DNF = list[tuple[str, ...]]  # any of the alternatives; each needs all of its literals


def _regex_requirement(regex: re.Pattern[str]) -> _DNF | None:
    """Literals every match of ``regex`` must contain, as alternatives of conjunctions
    (``None``: nothing known)."""
    if _sre_parse is None:
        return None
    try:
        parsed = _sre_parse.parse(regex.pattern, regex.flags)
    except Exception:  # noqa: BLE001 - be conservative on anything unexpected
        return None
    # Under re.ASCII or re.LOCALE, \b and \w disagree with the fold on non-ASCII text.
    unicode_words = not regex.flags & (re.ASCII | re.LOCALE)
    return _seq_requirement(list(parsed), unicode_words)


def _weight(req: _DNF) -> int:
    """How selective a requirement is: the shortest total literal length over its alternatives."""
    return min(sum(len(s) for s in alt) for alt in req)


def _and(a: _DNF | None, b: _DNF | None) -> _DNF | None:
    if a is None:
        return b
    if b is None:
        return a
    if len(a) * len(b) <= _MAX_ALTERNATIVES:
        return [tuple(dict.fromkeys(x + y)) for x in a for y in b]
    return a if _weight(a) >= _weight(b) else b


def _is_space_class(op: object, av: object) -> bool:
    c = _sre_c
    if op is c.IN:
        return list(av) == [(c.CATEGORY, c.CATEGORY_SPACE)]  # type: ignore[call-overload]
    return op is c.CATEGORY and av is c.CATEGORY_SPACE


def _seq_requirement(items: list[tuple[object, object]], unicode_words: bool = True) -> _DNF | None:
    """Requirement of a sequence. Besides literal runs it uses two facts about the fold: a word
    boundary next to a word character is a space there, and any whitespace folds to a space."""
    c = _sre_c
    req: _DNF | None = None
    run: list[str] = []
    boundary = False  # the previous node was \b

    def flush() -> None:
        nonlocal req, run
        if run:
            req = _and(req, [("".join(run),)])
            run = []

    def is_word(ch: str) -> bool:
        return ch.isalnum() or ch == "_"

    for op, av in items:
        if op is c.LITERAL:
            ch = chr(av)  # type: ignore[arg-type]
            if not run and boundary and unicode_words and is_word(ch):
                run.append(" ")
            run.append(ch)
            boundary = False
            continue
        if op is c.AT and av is c.AT_BOUNDARY and unicode_words:
            if run and is_word(run[-1]):
                run.append(" ")
            flush()
            boundary = True
            continue
        boundary = False
        if _is_space_class(op, av):  # exactly one whitespace character
            run.append(" ")
            continue
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1 and len(av[2]) == 1 \
                and _is_space_class(*av[2][0]):  # type: ignore[index]
            run.append(" ")  # at least one whitespace character
            flush()
            run.append(" ")
            continue
        flush()
        sub_req: _DNF | None = None
        if op is c.SUBPATTERN:
            sub_req = _seq_requirement(list(av[3]), unicode_words)  # type: ignore[index]
        elif op is c.BRANCH:
            reqs = [_seq_requirement(list(alt), unicode_words) for alt in av[1]]  # type: ignore[index]
            if all(r is not None for r in reqs) and sum(map(len, reqs)) <= _MAX_ALTERNATIVES:
                sub_req = [alt for r in reqs for alt in r]  # type: ignore[union-attr]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av  # type: ignore[misc]
            if lo >= 1:
                sub_req = _seq_requirement(list(sub), unicode_words)
        elif op is getattr(c, "ATOMIC_GROUP", None):
            sub_req = _seq_requirement(list(av), unicode_words)  # type: ignore[arg-type]
        # anything else (classes, anchors, lookarounds, backrefs) only breaks the literal run
        req = _and(req, sub_req)
    if run and run != [" "]:
        flush()
    return req


def match_patterns(lfs: Sequence[PatternLF], data: pd.DataFrame | Mapping[str, Sequence[str]]
                   ) -> np.ndarray:
    """Boolean matrix (rows x LFs): does each family LF match each row?

    ``data`` is a DataFrame, or a mapping from field name to the texts of that field (as
    :func:`~labelfns.patterns.field_text` gives them). Equal to calling each LF row by row.
    """
    fields = {f for lf in lfs for f in lf.fields}
    texts_by_field = {f: _texts(data[f]) for f in fields}
    n = len(next(iter(texts_by_field.values()))) if texts_by_field else len(data)
    out = np.zeros((n, len(lfs)), dtype=bool)
    if n == 0 or not lfs:
        return out
    by_field: dict[str, list[int]] = defaultdict(list)
    for j, lf in enumerate(lfs):
        for field in lf.fields:
            by_field[field].append(j)
    for field, js in by_field.items():
        out[:, js] |= _match_field(texts_by_field[field], [lfs[j] for j in js])
    return out


def _texts(column: Sequence[str] | pd.Series) -> list[str]:
    if isinstance(column, pd.Series):
        return [field_text(v) for v in column.tolist()]
    return list(column)


def _match_field(texts: list[str], lfs: list[PatternLF]) -> np.ndarray:
    n = len(texts)
    hit = np.zeros((n, len(lfs)), dtype=bool)
    plans = [prefilter_literals(lf) for lf in lfs]
    literal_ids: dict[str, int] = {}
    for j, plan in enumerate(plans):
        if plan is None:
            rx = lfs[j].regex
            hit[:, j] = [rx.search(t) is not None for t in texts]
            continue
        for alt in plan.alternatives:
            for lit in alt:
                literal_ids.setdefault(lit, len(literal_ids))
    if not literal_ids:
        return hit
    automaton = ahocorasick_rs.BytesAhoCorasick(  # a DFA scans about 2x faster than the NFAs
        [lit.encode("ascii") for lit in literal_ids], implementation=ahocorasick_rs.Implementation.DFA)
    big, starts = _fold_join(texts)
    matches = np.array(automaton.find_matches_as_indexes(big, overlapping=True),
                       dtype=np.int64).reshape(-1, 3)
    if not len(matches):
        return hit
    rows = np.searchsorted(starts, matches[:, 2] - 1, side="right") - 1  # by last character
    found = np.zeros((n, len(literal_ids)), dtype=bool)
    found[rows, matches[:, 0]] = True
    for j, plan in enumerate(plans):
        if plan is None:
            continue
        cand = np.zeros(n, dtype=bool)
        for alt in plan.alternatives:
            cand |= found[:, [literal_ids[lit] for lit in alt]].all(axis=1)
        if plan.exact:
            hit[:, j] = cand
            continue
        search = lfs[j].regex.search
        for row in np.flatnonzero(cand).tolist():
            if search(texts[row]) is not None:
                hit[row, j] = True
    return hit
