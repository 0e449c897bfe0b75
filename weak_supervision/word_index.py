"""Word signatures of a text column: which rows may hold a given whole word, without scanning.

Each row gets a signature of 64 to 1024 bits (:func:`bits_for`, by the column's text length):
every word of its fold (:func:`~weak_supervision.pattern_engine.fold`, words being the runs of
non-space characters) sets two bits chosen by a 64-bit hash of the word.
A row holding the word has both bits set, so the rows whose signature has every bit of an LF's
whole-word prefilter literals set are a superset of the rows it can match (a Bloom filter: other
rows are false candidates, about 1% a word for reviews of 40 distinct words; they only cost a
confirmation). Candidates then go through the usual engine, so votes stay exact.

Signatures are built from the folded chunks the engine scans anyway (in the worker processes) and
stored in the cache directory, keyed by the column's name and row hashes (:func:`index_key`), as
``words/<key[:2]>/<key>.w2``: the magic ``LCW2``, little-endian uint32 rows and bits, then for
each bit the packed bitmap of the rows that have it (``ceil(rows / 8)`` bytes, as ``numpy.packbits``
writes it). A look-up reads only the bitmaps of its words' bits (memory-mapped), never the whole
file. Writes are atomic; a damaged file is a miss.

Example
-------
>>> from weak_supervision.pattern_engine import fold_texts
>>> index = WordIndex(word_signatures(fold_texts(["A gift card", "no", "Gift!"])), 3)
>>> index.candidates([(" gift ",)]).tolist()
[True, False, True]
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

from weak_supervision.pattern_engine import FoldedTexts

__all__ = ["WordIndex", "word_signatures", "bits_for", "join_signatures", "index_key", "whole_words",
           "load_word_index", "save_word_index"]

NBITS = 1024
_MAGIC = b"LCW2"
_SUFFIX = ".w2"
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_K4 = np.uint64(0xBF58476D1CE4E5B9)
_ALLOWED_BITS = frozenset(1 << k for k in range(6, 11))  # 64 ... NBITS


_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _word_hashes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start offset, 64-bit hash) of every word (run of bytes other than space and NUL) of
    folded bytes; the hash mixes the word's first and last 8 bytes and its length."""
    w = (data | np.uint8(32)) != 32  # NUL | 32 == space; every other folded byte is a word byte
    if len(w) and (w[0] or w[-1]):
        data = np.concatenate(([np.uint8(32)], data, [np.uint8(32)]))
        starts, h = _word_hashes(data)
        return starts - 1, h
    edges = np.flatnonzero(w[1:] != w[:-1]) + 1  # alternately a word's start and its end
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return starts, np.zeros(0, np.uint64)
    buf = np.concatenate([data, np.zeros(8, np.uint8)])
    win = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=buf, strides=(1,))
    length = ends - starts
    first = win[starts] & _MASKS[np.minimum(length, 8)]
    long = np.flatnonzero(length > 8)
    with np.errstate(over="ignore"):
        h = first * _K1
        h ^= length.astype(np.uint64) * _K3
        if len(long):  # most words fit in 8 bytes; the others mix in their last 8
            h[long] ^= win[ends[long] - 8] * _K2
        h ^= h >> np.uint64(29)
        h *= _K4
    return starts, h


def _bits(h: np.ndarray, nbits: int) -> tuple[np.ndarray, np.ndarray]:
    shift = np.uint64(64 - (nbits.bit_length() - 1))  # the high bits mix best
    return (h >> shift).astype(np.intp), ((h >> np.uint64(20)) & np.uint64(nbits - 1)).astype(np.intp)


def bits_for(mean_chars: float) -> int:
    """Signature bits for texts of ``mean_chars`` characters on average: a power of two from
    64 to ``NBITS``, about 3 a character (some 16 a word), so about 1 in 10 bits is set.

    >>> bits_for(40), bits_for(330), bits_for(5000)
    (128, 1024, 1024)
    """
    want = max(64, int(mean_chars * 3))
    return min(NBITS, 1 << (want - 1).bit_length())


def word_signatures(folded: FoldedTexts, nbits: int = NBITS) -> np.ndarray:
    """The signatures of folded rows, bit-major: ``uint8`` array of shape
    ``(nbits, ceil(rows / 8))``, row ``b`` the packed bitmap of the rows having bit ``b``
    (``nbits`` a power of two, see :func:`bits_for`).

    >>> from weak_supervision.pattern_engine import fold_texts
    >>> word_signatures(fold_texts(["a b", "", "c"])).shape
    (1024, 1)
    """
    n = len(folded.starts)
    data = np.frombuffer(folded.data, dtype=np.uint8)
    starts, h = _word_hashes(data)
    out = np.zeros((nbits, -(-n // 8)), dtype=np.uint8)
    if not len(starts) or not n:
        return out
    # rows are separated by " \x00 " and the fold holds no other NUL: a word's row is the number
    # of NULs before it (else look its start up)
    nuls = np.cumsum(data == 0, dtype=np.int32)
    if int(nuls[-1]) == n - 1:
        rows = nuls[starts]
    else:  # pragma: no cover - FoldedTexts always separate rows so
        rows = np.searchsorted(folded.starts, starts, side="right") - 1
    b1, b2 = _bits(h, nbits)
    # Block by block of rows, so the bool matrix being set stays in the CPU cache.
    block = _BLOCK_ROWS
    cuts = np.searchsorted(rows, np.arange(0, n + block, block)).tolist()
    for k, lo in enumerate(range(0, n, block)):
        hi = min(lo + block, n)
        m = _scratch(nbits, block)
        a, c = cuts[k], cuts[k + 1]
        r = rows[a:c] - lo
        m[b1[a:c], r] = True
        m[b2[a:c], r] = True
        out[:, lo // 8:(hi + 7) // 8] = np.packbits(m[:, :hi - lo], axis=1)
    return out


_BLOCK_ROWS = 512  # a multiple of 8
_SCRATCH: dict[tuple[int, int], np.ndarray] = {}


def _scratch(nbits: int, n: int) -> np.ndarray:
    """A zeroed ``(nbits, n)`` bool matrix, reused chunk after chunk (no fresh pages to fault)."""
    out = _SCRATCH.get((nbits, n))
    if out is None:
        if len(_SCRATCH) >= 4:
            _SCRATCH.clear()
        out = _SCRATCH[(nbits, n)] = np.zeros((nbits, n), dtype=bool)
    else:
        out.fill(False)
    return out


def join_signatures(parts: Sequence[tuple[int, np.ndarray]]) -> np.ndarray:
    """The signatures of consecutive row runs, given as ``(rows, word_signatures(...))``, joined.

    >>> from weak_supervision.pattern_engine import fold_texts
    >>> parts = [(n, word_signatures(fold_texts(t))) for n, t in ((3, ["a", "b", "c"]), (1, ["a"]))]
    >>> WordIndex(join_signatures(parts), 4).candidates([(" a ",)]).tolist()
    [True, False, False, True]
    """
    if not parts:
        return np.zeros((NBITS, 0), dtype=np.uint8)
    if len({p.shape[0] for _, p in parts}) != 1:
        raise ValueError("signature parts have different bit counts")
    if all(rows % 8 == 0 for rows, _ in parts[:-1]):  # whole bytes: no repacking
        return np.concatenate([p for _, p in parts], axis=1)
    bits = [np.unpackbits(p, axis=1, count=rows) for rows, p in parts]
    return np.packbits(np.concatenate(bits, axis=1), axis=1)


def whole_words(alternative: Sequence[str]) -> list[str]:
    """The words of the literals of a prefilter alternative that stand as whole words in the
    fold (``" gift "``: spaces on both sides and none inside); other literals are left out.

    >>> whole_words([" gift ", "card ", " a b "])
    ['gift']
    """
    out = []
    for lit in alternative:
        core = lit[1:-1]
        if (len(lit) >= 3 and lit[0] == " " and lit[-1] == " " and core and " " not in core
                and "\x00" not in core and "\x01" not in core and core.isascii()):
            out.append(core)
    return out


@dataclass(frozen=True)
class WordIndex:
    """Bit-major row signatures (:func:`word_signatures`) of ``n_rows`` rows, and look-ups."""

    bitmaps: np.ndarray
    n_rows: int

    def _has(self, word: str) -> np.ndarray:
        _, h = _word_hashes(np.frombuffer(b" " + word.encode("ascii") + b" ", dtype=np.uint8))
        b1, b2 = _bits(h, len(self.bitmaps))
        both = np.bitwise_and(self.bitmaps[int(b1[0])], self.bitmaps[int(b2[0])])
        return np.unpackbits(both, count=self.n_rows).view(bool)

    def candidates(self, alternatives: Sequence[Sequence[str]]) -> np.ndarray | None:
        """Rows that may match a prefilter (any alternative; each needs all of its literals),
        or ``None`` when some alternative has no whole-word literal (no pruning possible)."""
        words = [whole_words(alt) for alt in alternatives]
        if not words or any(not w for w in words):
            return None
        n = self.n_rows
        out = np.zeros(n, dtype=bool)
        for ws in words:
            cand = np.ones(n, dtype=bool)
            for w in ws:
                cand &= self._has(w)
            out |= cand
        return out


def index_key(field: str, unique: np.ndarray, inverse: np.ndarray) -> str:
    """Key of a column's index: its name and row hashes in order (``unique[inverse]``).

    >>> len(index_key("text", np.array([1], np.uint64), np.array([0, 0])))
    40
    """
    h = hashlib.sha1(f"{field}\x1f".encode())
    h.update(np.ascontiguousarray(unique, dtype="<u8").tobytes())
    h.update(np.ascontiguousarray(inverse, dtype="<i8").tobytes())
    return h.hexdigest()


def _path(directory: str | os.PathLike[str], key: str) -> Path:
    return Path(directory) / "words" / key[:2] / f"{key}{_SUFFIX}"


def load_word_index(directory: str | os.PathLike[str], key: str, n_rows: int) -> WordIndex | None:
    """The stored index under ``key`` for ``n_rows`` rows, or ``None`` (missing or damaged).
    The bitmaps are memory-mapped: a look-up reads only the pages of the bits it needs."""
    path = _path(directory, key)
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            size = os.fstat(fh.fileno()).st_size
        if len(head) != 12 or head[:4] != _MAGIC:
            return None
        rows, bits = struct.unpack("<II", head[4:])
        stride = -(-rows // 8)
        if rows != n_rows or bits not in _ALLOWED_BITS or size != 12 + bits * stride or not rows:
            return None
        return WordIndex(np.memmap(path, dtype=np.uint8, mode="r", offset=12, shape=(bits, stride)),
                         rows)
    except Exception:  # noqa: BLE001 - a missing or damaged index is a miss, never an error
        return None


def save_word_index(directory: str | os.PathLike[str], key: str, signatures: np.ndarray,
                    n_rows: int) -> None:
    """Store the bit-major signatures of ``n_rows`` rows under ``key`` (atomically)."""
    if signatures.shape[0] not in _ALLOWED_BITS or signatures.shape[1:] != (-(-n_rows // 8),):
        raise ValueError(f"signatures of shape {signatures.shape} do not fit {n_rows} rows")
    path = _path(directory, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<II", n_rows, len(signatures)))
            fh.write(np.ascontiguousarray(signatures, dtype=np.uint8).tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
