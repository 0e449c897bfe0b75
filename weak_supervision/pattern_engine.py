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
4. Confirmation searches only *windows* around the literal hits (``regex.search(text, pos, endpos)``)
   when the regex's match width is bounded (see :func:`window_plan`). Python's engine reads the real
   text to the left of ``pos`` (``\\b``, ``^``, look-behinds see it), so only the right edge can
   differ from a whole-text search: a match found well inside the window is a real match, a match
   touching the edge is re-checked on the whole text, and no match in the window means none anywhere.
   Unbounded single-character repeats (``\\d+``, ``\\s+``) count as at most ``_RUN_CAP`` characters;
   a window holding a longer run of such characters is re-checked on the whole text.

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

import itertools
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick_rs
import numpy as np
import pandas as pd

from labelfns.patterns import PatternLF, field_text

try:  # Python >= 3.11 keeps the parser private; it is stable across 3.11-3.13
    from re import _compiler as _sre_compile
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre_parse = None
    _sre_c = None
    _sre_compile = None

__all__ = ["match_patterns", "PatternMatcher", "FoldedTexts", "fold", "fold_texts",
           "prefilter_literals", "window_plan"]

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
    if raw.isascii():
        big = raw.encode("ascii").translate(_ASCII_TABLE)
        # the separators' NULs start the rows (two bytes after each): unless a text holds a NUL
        nuls = np.flatnonzero(np.frombuffer(big, dtype=np.uint8) == 0)
        if len(nuls) == max(len(texts) - 1, 0):
            starts = np.empty(len(texts), dtype=np.int64)
            if len(texts):
                starts[0] = 0
                starts[1:] = nuls + 2
            return b" " + big + b" ", starts + 1
    big = _SEP.join(fold(t) for t in texts).encode("ascii")
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        starts[1:] = np.cumsum(lengths[:-1] + len(_SEP))
    return b" " + big + b" ", starts + 1


@dataclass(frozen=True)
class FoldedTexts:
    """Texts folded and joined for the automaton: ``data[starts[i]:starts[i] + lengths[i]]`` is
    the fold of text ``i``; rows are separated by ``" \\x00 "`` and the whole is padded by a space.
    :meth:`rows` cuts out a run of rows without copying."""

    data: bytes | memoryview
    starts: np.ndarray
    lengths: np.ndarray

    def rows(self, first: int, stop: int) -> FoldedTexts:
        """The same for rows ``first`` to ``stop - 1`` (a view, no copy).

        >>> f = fold_texts(["A", "Dog!", "x"])
        >>> g = f.rows(1, 2)
        >>> bytes(g.data[g.starts[0]:g.starts[0] + g.lengths[0]])
        b'dog '
        """
        if stop <= first:
            return FoldedTexts(b"", self.starts[:0], self.lengths[:0])
        lo = int(self.starts[first]) - 1
        hi = int(self.starts[stop - 1] + self.lengths[stop - 1]) + 1
        return FoldedTexts(memoryview(self.data)[lo:hi], self.starts[first:stop] - lo,
                           self.lengths[first:stop])


def fold_texts(texts: list[str]) -> FoldedTexts:
    """The :class:`FoldedTexts` of ``texts``: fold once, match with many LF sets or row runs.

    >>> fold_texts(["Hi!", "ok"]).data
    b' hi  \\x00 ok '
    """
    big, starts = _fold_join(texts)
    return FoldedTexts(big, starts, np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))


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
    return _Prefilter(_drop_subsumed(alts), False)


def _drop_subsumed(alts: list[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Alternatives without those that need a superset of another's literals (they add no
    candidate, only automaton hits)."""
    unique = list(dict.fromkeys(alts))
    sets = [set(a) for a in unique]
    return tuple(a for i, a in enumerate(unique)
                 if not any(j != i and sets[j] < sets[i] for j in range(len(unique))))


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


# -- windowed confirmation ------------------------------------------------------------------------
_RUN_CAP = 8  # characters an unbounded single-character repeat is assumed to take in a window
_MAX_WIDTH = 512  # wider matches are not worth windowing: the regex runs on the whole text


@dataclass(frozen=True)
class _WindowPlan:
    """How far around a literal hit a match of the regex can reach (see the module docs)."""

    width: int  # the longest match, each unbounded single-character repeat capped at _RUN_CAP
    ahead: int  # the longest look-ahead body: how far past a match's end the engine reads
    runs: re.Pattern[str] | None  # finds a run longer than the cap of any repeated item


_SINGLE = (frozenset({_sre_c.LITERAL, _sre_c.NOT_LITERAL, _sre_c.ANY, _sre_c.IN, _sre_c.CATEGORY})
           if _sre_c is not None else frozenset())  # nodes matching exactly one character


def window_plan(regex: re.Pattern[str]) -> _WindowPlan | None:
    """The window plan of ``regex``, or ``None`` when windows cannot be exact for it
    (back-references, conditionals, unbounded look-aheads, unbounded repeats of more than one
    character, or matches wider than ``_MAX_WIDTH``).

    >>> plan = window_plan(re.compile(r"\\bmy\\s+dogs?\\b"))
    >>> plan.width, plan.ahead, plan.runs.search("my" + " " * 9 + "dog") is not None
    (14, 0, True)
    >>> window_plan(re.compile(r"(a)\\1")) is None
    True
    """
    if _sre_parse is None:
        return None
    try:
        parsed = _sre_parse.parse(regex.pattern, regex.flags)
        items: dict[str, tuple[int, object]] = {}
        widths = _width(list(parsed), items, capped=True)
        if widths is None or widths[0] > _MAX_WIDTH:
            return None
        runs = None
        if items:  # one finder: a run of cap + 1 characters of any repeated item
            state = parsed.state
            alts = [_sre_parse.SubPattern(state, [(_sre_c.MAX_REPEAT, (cap + 1, cap + 1, sub))])
                    for cap, sub in items.values()]
            node = alts[0] if len(alts) == 1 else \
                _sre_parse.SubPattern(state, [(_sre_c.BRANCH, (None, alts))])
            runs = _sre_compile.compile(node, regex.flags & ~re.VERBOSE)
        return _WindowPlan(widths[0], widths[1], runs)
    except Exception:  # noqa: BLE001 - anything unexpected: no windows, whole-text search
        return None


def _width(nodes: list[tuple[object, object]], items: dict[str, tuple[int, object]], *,
           capped: bool) -> tuple[int, int] | None:
    """(longest match, longest look-ahead body) of a node sequence, or ``None`` if unbounded.
    With ``capped``, an unbounded repeat of one character counts ``max(min, _RUN_CAP)`` characters
    and its item is recorded in ``items``."""
    c = _sre_c
    total = ahead = 0
    for op, av in nodes:
        if op in _SINGLE:
            total += 1
        elif op is c.AT:
            pass
        elif op is c.SUBPATTERN:
            if av[1] or av[2]:  # type: ignore[index]  # scoped flags: a run finder could miss
                return None
            sub = _width(list(av[3]), items, capped=capped)  # type: ignore[index]
            if sub is None:
                return None
            total += sub[0]
            ahead = max(ahead, sub[1])
        elif op is getattr(c, "ATOMIC_GROUP", None):
            sub = _width(list(av), items, capped=capped)  # type: ignore[arg-type]
            if sub is None:
                return None
            total += sub[0]
            ahead = max(ahead, sub[1])
        elif op is c.BRANCH:
            subs = [_width(list(alt), items, capped=capped) for alt in av[1]]  # type: ignore[index]
            if any(s is None for s in subs):
                return None
            total += max(s[0] for s in subs)  # type: ignore[index]
            ahead = max(ahead, *(s[1] for s in subs))  # type: ignore[index]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av  # type: ignore[misc]
            body = list(sub)
            if hi == _sre_c.MAXREPEAT:
                if not capped or len(body) != 1 or body[0][0] not in _SINGLE:
                    return None
                cap = max(int(lo), _RUN_CAP)
                key = repr(body)
                items[key] = (max(cap, items.get(key, (0, None))[0]), sub)
                total += cap
                continue
            inner = _width(body, items, capped=capped)
            if inner is None:
                return None
            total += int(hi) * inner[0]
            ahead = max(ahead, inner[1])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            direction, body = av  # type: ignore[misc]
            inner = _width(list(body), {}, capped=False)  # must be truly bounded
            if inner is None:
                return None
            if direction == 1:  # look-ahead: reads past the current position
                ahead = max(ahead, inner[0] + inner[1])
            # a look-behind reads only to the left, which a windowed search sees exactly
        else:  # back-references, conditionals, anything new
            return None
    return total, ahead


# -- the engine ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LFPlan:
    prefilter: _Prefilter | None
    alternatives: tuple[tuple[int, ...], ...]  # the prefilter's literals as ids
    window: _WindowPlan | None


class PatternMatcher:
    """Family LFs compiled once (prefilters, automata, window plans) for many batches of rows.

    >>> from labelfns import keyword_lf
    >>> m = PatternMatcher([keyword_lf("kw", ["dog"], 0)])
    >>> m.match({"text": ["a dog", "dogs"]}).tolist()
    [[True], [False]]
    """

    def __init__(self, lfs: Sequence[PatternLF]) -> None:
        self.lfs = list(lfs)
        self.fields = sorted({f for lf in self.lfs for f in lf.fields})
        self._by_field: dict[str, list[int]] = defaultdict(list)
        for j, lf in enumerate(self.lfs):
            for field in lf.fields:
                self._by_field[field].append(j)
        self._plans: list[_LFPlan] = []
        literal_ids: dict[str, int] = {}
        for lf in self.lfs:
            pre = prefilter_literals(lf)
            window = None
            if pre is not None:
                for alt in pre.alternatives:
                    for lit in alt:
                        literal_ids.setdefault(lit, len(literal_ids))
                if not pre.exact:
                    window = window_plan(lf.regex)
            ids = tuple(tuple(literal_ids[lit] for lit in alt) for alt in pre.alternatives) \
                if pre is not None else ()
            self._plans.append(_LFPlan(pre, ids, window))
        self._literal_ids = literal_ids
        self._fields: dict[str, _FieldState] = {}
        for field, js in self._by_field.items():
            alts = {j: self._plans[j].alternatives for j in js if self._plans[j].prefilter is not None}
            self._fields[field] = _FieldState(alts, list(literal_ids))

    def match(self, data: pd.DataFrame | Mapping[str, Sequence[str]], *,
              folded: Mapping[str, FoldedTexts] | None = None) -> np.ndarray:
        """Boolean matrix (rows x LFs): does each LF match each row of ``data`` (a DataFrame, or
        a mapping from field name to texts as :func:`~labelfns.patterns.field_text` gives them)?

        ``folded`` may give a field's texts already folded (:func:`fold_texts`); then ``data``
        needs that field only when :meth:`needs_texts` says so.
        """
        folded = folded or {}
        texts_by_field = {f: _texts(data[f]) for f in self.fields
                          if f not in folded or self.needs_texts(f)}
        sizes = [len(t) for t in texts_by_field.values()] + [len(v.starts) for v in folded.values()]
        n = sizes[0] if sizes else len(data)
        out = np.zeros((n, len(self.lfs)), dtype=bool)
        if n == 0 or not self.lfs:
            return out
        for field, js in self._by_field.items():
            out[:, js] |= self._match_field(field, texts_by_field.get(field), js, n,
                                            folded.get(field))
        return out

    def needs_texts(self, field: str) -> bool:
        """Whether matching ``field`` reads the texts themselves, beyond their fold (a regex
        confirms candidates, or an LF has no literal to prefilter with)."""
        plans = [self._plans[j].prefilter for j in self._by_field.get(field, ())]
        return any(pre is None or not pre.exact for pre in plans)

    def _match_field(self, field: str, texts: list[str] | None, js: list[int], n: int,
                     folded: FoldedTexts | None) -> np.ndarray:
        hit = np.zeros((n, len(js)), dtype=bool)
        for k, j in enumerate(js):
            if self._plans[j].prefilter is None:
                rx = self.lfs[j].regex
                hit[:, k] = [rx.search(t) is not None for t in texts]
        state = self._fields[field]
        if state.automaton is None:
            return hit
        if folded is None:
            folded = fold_texts(texts)  # type: ignore[arg-type]
        big, starts = folded.data, folded.starts
        raw = state.automaton.find_matches_as_indexes(big, overlapping=True)
        matches = np.fromiter(itertools.chain.from_iterable(raw), dtype=np.int64,
                              count=3 * len(raw)).reshape(-1, 3)
        del raw
        if not len(matches):
            return hit
        lit = state.used[matches[:, 0]]
        rows = np.searchsorted(starts, matches[:, 2] - 1, side="right") - 1  # by last character
        found = np.zeros((len(self._literal_ids), n), dtype=bool)
        found[lit, rows] = True
        lengths = counts = None
        if texts is None and self.needs_texts(field):
            raise ValueError(f"matching field {field!r} needs its texts, not only their fold")
        for k, j in enumerate(js):
            plan = self._plans[j]
            pre = plan.prefilter
            if pre is None:
                continue
            cand = np.zeros(n, dtype=bool)
            for ids in state.alternatives[j]:
                cand |= found[ids[0]] if len(ids) == 1 else found[list(ids)].all(axis=0)
            if pre.exact or not cand.any():
                hit[:, k] = cand
                continue
            regex = self.lfs[j].regex
            if plan.window is None:
                search = regex.search
                for row in np.flatnonzero(cand).tolist():
                    if search(texts[row]) is not None:
                        hit[row, k] = True
                continue
            if lengths is None:
                lengths = folded.lengths
                counts = np.bincount(lit, minlength=len(self._literal_ids))
            # Every literal of the alternative a match takes lies in (or next to) the match, so
            # windows around the hits of one literal per alternative (the rarest) find every match.
            anchors = list({min(ids, key=counts.__getitem__) for ids in state.alternatives[j]})
            sel = np.isin(lit, anchors) & cand[rows]
            hit[:, k] = _confirm_windows(regex, plan.window, texts, rows[sel],
                                         matches[sel, 1] - starts[rows[sel]],
                                         matches[sel, 2] - starts[rows[sel]], starts, lengths, n)
        return hit


class _FieldState:
    """The automaton of one field over the literals its LFs' alternatives need."""

    def __init__(self, alternatives: dict[int, tuple[tuple[int, ...], ...]],
                 literals: list[str]) -> None:
        self.alternatives = dict(alternatives)
        used = sorted({i for alts in self.alternatives.values() for alt in alts for i in alt})
        self.used = np.asarray(used, dtype=np.int64)
        self.automaton = None
        if used:
            self.automaton = ahocorasick_rs.BytesAhoCorasick(  # a DFA scans ~2x faster than NFAs
                [literals[i].encode("ascii") for i in used],
                implementation=ahocorasick_rs.Implementation.DFA)


def _confirm_windows(regex: re.Pattern[str], window: _WindowPlan, texts: list[str], rows: np.ndarray,
                     a: np.ndarray, b: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                     n: int) -> np.ndarray:
    """Rows with a match of ``regex``, searching windows around the hits ``[a, b)`` (text
    offsets, which may reach one character past either end: the fold's padding)."""
    out = np.zeros(n, dtype=bool)
    width, ahead = window.width, window.ahead
    # A match next to a hit starts at >= a - width - 1 and the engine reads at most to its end
    # + ahead (+1 for \b and $ at the end); see the module docs.
    lo = np.maximum(a - width - 1, 0)
    hi = np.minimum(b + width + ahead + 3, lengths[rows])
    glo, ghi = lo + starts[rows], hi + starts[rows]  # global offsets: rows never overlap
    order = np.argsort(glo, kind="stable")
    glo, ghi, rows = glo[order], ghi[order], rows[order]
    reach = np.maximum.accumulate(ghi)
    new = np.ones(len(glo), dtype=bool)
    new[1:] = glo[1:] > reach[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], len(glo)] - 1
    w_rows = rows[first]
    w_lo = (glo[first] - starts[w_rows]).tolist()
    w_hi = (reach[last] - starts[w_rows]).tolist()
    search = regex.search
    runs = window.runs
    margin = ahead + 2
    settled = -1  # the last row whose answer is known
    for row, pos, end in zip(w_rows.tolist(), w_lo, w_hi, strict=True):
        if row == settled:
            continue
        text = texts[row]
        m = search(text, pos, end)
        if m is not None:
            if end < len(text) and m.end() + margin > end:  # may depend on the cut: check all
                out[row] = search(text) is not None
            else:
                out[row] = True
            settled = row
        elif runs is not None and end - pos > _RUN_CAP and runs.search(text, pos, end) is not None:
            out[row] = search(text) is not None  # a long run: a match may reach past the window
            settled = row
    return out


def match_patterns(lfs: Sequence[PatternLF], data: pd.DataFrame | Mapping[str, Sequence[str]]
                   ) -> np.ndarray:
    """Boolean matrix (rows x LFs): does each family LF match each row?

    ``data`` is a DataFrame, or a mapping from field name to the texts of that field (as
    :func:`~labelfns.patterns.field_text` gives them). Equal to calling each LF row by row. To
    match many batches with the same LFs, build one :class:`PatternMatcher` and call its ``match``.
    """
    return PatternMatcher(lfs).match(data)


def _texts(column: Sequence[str] | pd.Series) -> list[str]:
    if isinstance(column, pd.Series):
        return [field_text(v) for v in column.tolist()]
    return list(column) if not isinstance(column, list) else column
