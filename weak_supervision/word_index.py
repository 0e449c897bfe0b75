"""Posting lists of a text column: which rows hold a given whole word, without scanning.

The words of a row are the runs of its fold (:func:`~weak_supervision.pattern_engine.fold`)
other than spaces: exactly what a space-padded literal of the pattern engine (``" gift "``) hits.
Each word gets a 64-bit *code*: for words of up to :data:`EXACT_CHARS` characters the word
itself, 6 bits a character (the fold has 38 word characters), so equal codes mean equal words;
longer words get a hash with the top bit set (equal codes may then be different words).

So the rows holding a word of up to ten characters are exactly its posting list, and
:meth:`WordIndex.matches` gives a whole-word, case-insensitive, single-word keyword LF its votes
without reading a text. For other LFs whose prefilter literals hold whole words (phrases, case-
sensitive keywords, regexes, long words), :meth:`WordIndex.candidates` gives a superset of the
rows they can match; the engine confirms those rows, so votes stay exact.

Postings are built from the folded chunks the engine scans anyway (in the worker processes), one
*segment* per chunk: the sorted distinct codes of the segment, and for each the segment's rows
holding it. They are stored in the cache directory, keyed by the column's name and row order
(:func:`index_key`), as ``words/<key[:2]>/<key>.w3``: the magic ``LCW3``, little-endian uint32
rows and segments, uint64 codes and postings, 4 bytes of padding, then int64 segment first rows
(segments + 1), int64 segment code offsets (segments + 1), uint64 codes, int64 posting offsets
(codes + 1) and uint16 rows within their segment. A look-up memory-maps the file and reads only
the codes and rows it needs. Writes are atomic; a damaged file is a miss.

Example
-------
>>> from weak_supervision.pattern_engine import fold_texts
>>> index = join_postings([(3, word_postings(fold_texts(["A gift card", "no", "Gift!"])))])
>>> index.matches([(" gift ",)]).tolist(), index.candidates([(" gift ", " card ")]).tolist()
([True, False, True], [True, False, False])
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from weak_supervision.pattern_engine import FoldedTexts

__all__ = ["WordIndex", "Postings", "word_postings", "join_postings", "word_code", "index_key",
           "whole_words", "load_word_index", "save_word_index", "EXACT_CHARS"]

EXACT_CHARS = 10  # words of up to this many characters have exact codes (6 bits each)
SEGMENT_ROWS = 1 << 16  # rows of a segment are stored as uint16
_MAGIC = b"LCW3"
_SUFFIX = ".w3"
_HEAD = struct.Struct("<4sIIQQ4x")  # 32 bytes: the arrays stay 8-byte aligned
_LONG = np.uint64(1 << 63)
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0xBF58476D1CE4E5B9)


def _digit_table() -> np.ndarray:
    """Fold byte -> 6-bit digit (1..38) of the word characters; 0 for space and NUL (the fold
    makes no other byte; any would be 63, still a word character)."""
    table = np.full(256, 63, dtype=np.uint8)
    table[[0, 32]] = 0
    chars = "abcdefghijklmnopqrstuvwxyz0123456789_\x01"
    table[[ord(c) for c in chars]] = np.arange(1, len(chars) + 1)
    return table


_DIGITS = _digit_table()
_DIGIT_BYTES = _DIGITS.tobytes()
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _pack8(x: np.ndarray) -> np.ndarray:
    """Eight bytes of 6-bit digits (little-endian in a uint64) packed into the low 48 bits,
    in place."""
    for keep, shift, moved in ((0x003F003F003F003F, 2, 0x0FC00FC00FC00FC0),
                               (0x00000FFF00000FFF, 4, 0x00FFF00000FFF000),
                               (0x0000000000FFFFFF, 8, 0x0000FFFFFF000000)):
        low = x & np.uint64(keep)
        x >>= np.uint64(shift)
        x &= np.uint64(moved)
        x |= low
    return x


def _word_codes(data: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """(start offset, code) of every word (run of bytes other than space and NUL) of folded
    bytes, in order (see the module docs for the codes)."""
    d = np.frombuffer(bytes(data).translate(_DIGIT_BYTES), dtype=np.uint8)
    w = d != 0
    if len(w) and (w[0] or w[-1]):
        starts, codes = _word_codes(b" " + bytes(data) + b" ")
        return starts - 1, codes
    edges = np.flatnonzero(w[1:] != w[:-1]) + 1  # alternately a word's start and its end
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return starts, np.zeros(0, np.uint64)
    buf = np.concatenate([d, np.zeros(16, np.uint8)])
    win = np.ndarray(shape=(len(d) + 8,), dtype="<u8", buffer=buf, strides=(1,))
    length = ends - starts
    codes = win[starts]
    codes &= _MASKS[np.minimum(length, 8)]
    codes = _pack8(codes)
    mid = np.flatnonzero(length > 8)  # characters 9 and 10 go to bits 48 to 59
    tail = win[starts[mid] + 8] & _MASKS[np.minimum(length[mid] - 8, 2)]
    codes[mid] |= ((tail & np.uint64(0x3F)) << np.uint64(48)) | ((tail & np.uint64(0x3F00)) << np.uint64(46))
    long = mid[length[mid] > EXACT_CHARS]
    if len(long):  # a hash of the first ten characters, the last eight and the length
        with np.errstate(over="ignore"):
            h = codes[long] * _K1
            h ^= win[ends[long] - 8] * _K2
            h ^= length[long].astype(np.uint64) * _K3
            h ^= h >> np.uint64(31)
            h *= _K1
        codes[long] = (h >> np.uint64(1)) | _LONG
    return starts, codes


def word_code(word: str) -> tuple[int, bool]:
    """The code of a folded word and whether it is exact (the word has at most ten characters).

    >>> word_code("gift")[1], word_code("electronics")[1], word_code("ab") == word_code("ba")
    (True, False, False)
    """
    _, codes = _word_codes(b" " + word.encode("ascii") + b" ")
    if len(codes) != 1:
        raise ValueError(f"not one folded word: {word!r}")
    return int(codes[0]), len(word) <= EXACT_CHARS


@dataclass(frozen=True)
class Postings:
    """Posting lists of consecutive rows, segment by segment (see the module docs)."""

    seg_rows: np.ndarray  # int64 (segments + 1): first row of each segment, then the row count
    seg_codes: np.ndarray  # int64 (segments + 1): offset of each segment's codes
    codes: np.ndarray  # uint64: each segment's distinct codes, sorted
    offsets: np.ndarray  # int64 (codes + 1): where each code's rows start in ``rows``
    rows: np.ndarray  # uint16: rows holding the code, within the segment, ascending


def word_postings(folded: FoldedTexts, segment_rows: int = SEGMENT_ROWS) -> Postings:
    """The :class:`Postings` of folded rows, one segment per ``segment_rows`` rows (at most
    :data:`SEGMENT_ROWS`).

    >>> from weak_supervision.pattern_engine import fold_texts
    >>> p = word_postings(fold_texts(["a b a", "", "B"]))
    >>> len(p.codes), p.rows.tolist()
    (2, [0, 0, 2])
    """
    if not 0 < segment_rows <= SEGMENT_ROWS:
        raise ValueError(f"segment_rows must be 1 to {SEGMENT_ROWS}, got {segment_rows}")
    n = len(folded.starts)
    bounds = [(lo, min(lo + segment_rows, n)) for lo in range(0, n, segment_rows)]
    return _join([(hi - lo, _segment(folded.rows(lo, hi))) for lo, hi in bounds])


def _segment(folded: FoldedTexts) -> Postings:
    n = len(folded.starts)
    starts, codes = _word_codes(folded.data)
    first = np.searchsorted(starts, folded.starts)  # each row's first word
    rows = np.repeat(np.arange(n, dtype=np.uint16), np.diff(first, append=len(starts)))
    labels, uniques = pd.factorize(codes)  # a hash table: no sort of every word
    order = np.argsort(uniques)
    rank = np.empty(len(order), dtype=np.uint16 if len(order) <= 1 << 16 else np.int32)
    rank[order] = np.arange(len(order))
    ids = rank[labels]
    by = np.argsort(ids, kind="stable")  # keeps each code's rows ascending (radix on 16 bits)
    ids, rows = ids[by], rows[by]
    keep = np.ones(len(ids), dtype=bool)
    keep[1:] = (ids[1:] != ids[:-1]) | (rows[1:] != rows[:-1])  # a word twice in a row
    ids = ids[keep]  # sorted, and holding every id: each code's rows start where its id does
    offsets = np.concatenate(([0], np.flatnonzero(ids[1:] != ids[:-1]) + 1, [len(ids)])) \
        if len(ids) else np.zeros(1, np.int64)
    return Postings(np.array([0, n], np.int64), np.array([0, len(order)], np.int64),
                    uniques[order].astype(np.uint64), offsets, rows[keep])


def _join(parts: Sequence[tuple[int, Postings]]) -> Postings:
    first = np.cumsum([0] + [rows for rows, _ in parts])
    seg_rows, seg_codes, codes, offsets, rows = [], [0], [], [np.zeros(1, np.int64)], []
    n_codes = n_posts = 0
    for lo, (_, p) in zip(first[:-1].tolist(), parts, strict=True):
        seg_rows.append(p.seg_rows[:-1] + lo)
        seg_codes.extend((p.seg_codes[1:] + n_codes).tolist())
        codes.append(p.codes)
        offsets.append(p.offsets[1:] + n_posts)
        rows.append(p.rows)
        n_codes += len(p.codes)
        n_posts += len(p.rows)
    seg_rows.append(np.array([first[-1]], np.int64))
    cat = np.concatenate
    return Postings(cat(seg_rows).astype(np.int64), np.array(seg_codes, np.int64),
                    cat(codes + [np.zeros(0, np.uint64)]), cat(offsets),
                    cat(rows + [np.zeros(0, np.uint16)]))


def join_postings(parts: Sequence[tuple[int, Postings]]) -> WordIndex:
    """The index of consecutive row runs, given as ``(rows, word_postings(...))``, joined.

    >>> from weak_supervision.pattern_engine import fold_texts
    >>> parts = [(n, word_postings(fold_texts(t))) for n, t in ((3, ["a", "b", "c"]), (1, ["a"]))]
    >>> join_postings(parts).matches([(" a ",)]).tolist()
    [True, False, False, True]
    """
    return WordIndex(_join(parts))


def whole_words(alternative: Sequence[str]) -> list[str]:
    """The words of the literals of a prefilter alternative that stand as whole words in the
    fold: pieces with a space on both sides (``" gift "``, ``"card "`` has none, ``" e mail "``
    two), of ASCII word characters only.

    >>> whole_words([" gift ", "card ", " e mail ", "x y"])
    ['gift', 'e', 'mail']
    """
    out = []
    for lit in alternative:
        pieces = lit.split(" ")
        for piece in pieces[1:-1]:  # the first and last pieces lack a space on one side
            if piece and piece.isascii() and "\x00" not in piece and "\x01" not in piece:
                out.append(piece)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class WordIndex:
    """The :class:`Postings` of a whole column, and look-ups."""

    postings: Postings

    @property
    def n_rows(self) -> int:
        return int(self.postings.seg_rows[-1])

    def _rows(self, word: str) -> tuple[np.ndarray, bool]:
        """Rows holding ``word`` (a superset unless exact) and whether the answer is exact."""
        code, exact = word_code(word)
        p = self.postings
        key = np.uint64(code)
        out = np.zeros(self.n_rows, dtype=bool)
        seg_codes = p.seg_codes.tolist()
        seg_rows = p.seg_rows.tolist()
        for s in range(len(seg_rows) - 1):
            lo, hi = seg_codes[s], seg_codes[s + 1]
            i = lo + int(np.searchsorted(p.codes[lo:hi], key))
            if i < hi and p.codes[i] == key:
                out[p.rows[p.offsets[i]:p.offsets[i + 1]].astype(np.int64) + seg_rows[s]] = True
        return out, exact

    def matches(self, alternatives: Sequence[Sequence[str]]) -> np.ndarray | None:
        """The rows holding any of the words, when each alternative is exactly one whole word
        (``" gift "``) with an exact code; else ``None``. The rows an exact keyword prefilter
        (case-insensitive single words, whole-word) hits are its votes."""
        words = [whole_words(alt) for alt in alternatives]
        if not words or any(len(w) != 1 or list(alt) != [f" {w[0]} "]
                            for w, alt in zip(words, alternatives, strict=True)):
            return None
        out = np.zeros(self.n_rows, dtype=bool)
        for (w,) in words:
            rows, exact = self._rows(w)
            if not exact:
                return None
            out |= rows
        return out

    def candidates(self, alternatives: Sequence[Sequence[str]]) -> np.ndarray | None:
        """Rows that may match a prefilter (any alternative; each needs all of its literals),
        or ``None`` when some alternative has no whole word (no pruning possible)."""
        words = [whole_words(alt) for alt in alternatives]
        if not words or any(not w for w in words):
            return None
        out = np.zeros(self.n_rows, dtype=bool)
        for ws in words:
            cand = self._rows(ws[0])[0]
            for w in ws[1:]:
                cand &= self._rows(w)[0]
            out |= cand
        return out


def index_key(field: str, rows_digest: str) -> str:
    """Key of a column's index: its name and the digest of its row hashes in order
    (:attr:`weak_supervision.cache.RowIndex.order`).

    >>> len(index_key("text", "ab" * 20))
    40
    """
    return hashlib.sha1(f"{field}\x1f{rows_digest}".encode()).hexdigest()


def _path(directory: str | os.PathLike[str], key: str) -> Path:
    return Path(directory) / "words" / key[:2] / f"{key}{_SUFFIX}"


def load_word_index(directory: str | os.PathLike[str], key: str, n_rows: int) -> WordIndex | None:
    """The stored index under ``key`` for ``n_rows`` rows, or ``None`` (missing or damaged).
    The arrays are memory-mapped: a look-up reads only the pages it needs."""
    path = _path(directory, key)
    try:
        with open(path, "rb") as fh:
            magic, rows, segs, n_codes, n_posts = _HEAD.unpack(fh.read(_HEAD.size))
            size = os.fstat(fh.fileno()).st_size
        sizes = [8 * (segs + 1), 8 * (segs + 1), 8 * n_codes, 8 * (n_codes + 1), 2 * n_posts]
        if magic != _MAGIC or rows != n_rows or not rows or size != _HEAD.size + sum(sizes):
            return None
        raw = np.memmap(path, dtype=np.uint8, mode="r").view(np.ndarray)  # no subclass overhead
        arrays, at = [], _HEAD.size
        for nbytes, dtype in zip(sizes, ("<i8", "<i8", "<u8", "<i8", "<u2"), strict=True):
            arrays.append(raw[at:at + nbytes].view(dtype))
            at += nbytes
        p = Postings(np.array(arrays[0]), np.array(arrays[1]), *arrays[2:])
        if p.seg_rows[0] != 0 or p.seg_rows[-1] != rows or p.seg_codes[-1] != n_codes \
                or p.offsets[-1] != n_posts:
            return None
        return WordIndex(p)
    except Exception:  # noqa: BLE001 - a missing or damaged index is a miss, never an error
        return None


def save_word_index(directory: str | os.PathLike[str], key: str, index: WordIndex) -> None:
    """Store ``index`` under ``key`` (atomically)."""
    p = index.postings
    path = _path(directory, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_HEAD.pack(_MAGIC, index.n_rows, len(p.seg_rows) - 1, len(p.codes), len(p.rows)))
            for array, dtype in ((p.seg_rows, "<i8"), (p.seg_codes, "<i8"), (p.codes, "<u8"),
                                 (p.offsets, "<i8"), (p.rows, "<u2")):
                fh.write(np.ascontiguousarray(array, dtype=dtype).tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
