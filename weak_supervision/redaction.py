"""Redaction: replace PII spans with placeholders or realistic surrogates, consistently per document.

What :class:`Redactor` guarantees for one document:

- **Consistency.** Every occurrence of the same value gets the same replacement: ``[PERSON_1]``
  each time the same person appears, ``[EMAIL_1]``, ``[EMAIL_2]``, ... numbered per type in order
  of first appearance. Identity ignores case and whitespace ("Maria  Lopez" = "maria lopez"), and
  a one-word PERSON value that is a word of exactly one longer PERSON value of the document is
  that person ("Maria" = "Maria Lopez").
- **Re-tagging.** Every other occurrence of a string already found as PII in the document is
  replaced too (exact string search, word-boundary aware: "Tom" in "Tomorrow" is left alone), so
  a name detected once is hidden everywhere; so are the capitalized words of a detected full
  name ("Maria" after "Maria Lopez").
- **No survivor.** The redacted text contains no detected value as a whole word (checked after
  redacting; a surrogate that would reintroduce one is replaced by a placeholder).
- **Surrogates** (``mode="surrogate"``) are Faker values of the same type, seeded from ``seed``
  and the document id, so the output depends only on them.

The mapping (replacement -> original values) is returned in :attr:`RedactedDocument.mapping` and
written by :func:`write_mapping` to a side file; it never belongs in a report or a log.

Overlapping input spans are merged first (the longest span's type wins).

Example
-------
>>> text = "Hi Maria Lopez, mail maria@x.org. Thanks, Maria"
>>> spans = [(3, 14, "PERSON"), (21, 32, "EMAIL")]
>>> Redactor().redact(text, spans).text
'Hi [PERSON_1], mail [EMAIL_1]. Thanks, [PERSON_1]'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from labelfns.errors import ConfigError, DataError, LabelcycleError
from labelfns.spans import Span
from weak_supervision.io import atomic_write

__all__ = ["Replacement", "RedactedDocument", "Redactor", "redact", "find_survivors",
           "write_mapping"]

Mode = Literal["placeholder", "surrogate"]
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Replacement:
    """One replaced stretch of the original text.

    Attributes
    ----------
    start, end : int
        Offsets in the original text (end exclusive).
    label : str
        The PII type.
    original : str
        The replaced text.
    replacement : str
        What stands there now (a placeholder or a surrogate).
    retagged : bool
        True when the stretch was not among the input spans but repeats a detected value.
    """

    start: int
    end: int
    label: str
    original: str
    replacement: str
    retagged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (holds the original value: keep it out of reports)."""
        return {"start": self.start, "end": self.end, "label": self.label,
                "original": self.original, "replacement": self.replacement,
                "retagged": self.retagged}


@dataclass(frozen=True)
class RedactedDocument:
    """A redacted text and what was replaced.

    Attributes
    ----------
    id : object
        The document id.
    text : str
        The redacted text.
    replacements : tuple of Replacement
        In text order.

    Examples
    --------
    >>> doc = Redactor().redact("call Tom", [(5, 8, "PERSON")], id="c1")
    >>> doc.text, doc.mapping
    ('call [PERSON_1]', {'[PERSON_1]': {'label': 'PERSON', 'originals': ['Tom']}})
    """

    id: Any
    text: str
    replacements: tuple[Replacement, ...] = ()

    @property
    def mapping(self) -> dict[str, dict[str, Any]]:
        """Replacement -> ``{"label", "originals"}`` (the distinct original strings, in order)."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.replacements:
            entry = out.setdefault(r.replacement, {"label": r.label, "originals": []})
            if r.original not in entry["originals"]:
                entry["originals"].append(r.original)
        return out

    def mapping_records(self) -> list[dict[str, Any]]:
        """The mapping as side-file lines: ``{"id", "replacement", "label", "originals"}``."""
        ident = self.id.item() if hasattr(self.id, "item") else self.id
        return [{"id": ident, "replacement": k, **v} for k, v in self.mapping.items()]

    def counts(self) -> dict[str, int]:
        """Replacements per type (no values): safe for reports."""
        out: dict[str, int] = {}
        for r in self.replacements:
            out[r.label] = out.get(r.label, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "text", "replacements": {type: count}}``: the redacted text and counts only."""
        ident = self.id.item() if hasattr(self.id, "item") else self.id
        return {"id": ident, "text": self.text, "replacements": self.counts()}

    def to_frame(self) -> pd.DataFrame:
        """One row per replacement (holds original values: keep it out of reports)."""
        return pd.DataFrame([r.to_dict() for r in self.replacements],
                            columns=["start", "end", "label", "original", "replacement", "retagged"])


def _span_tuple(item: Any) -> tuple[int, int, str]:
    if isinstance(item, dict):
        return int(item["start"]), int(item["end"]), str(item["label"])
    if hasattr(item, "start") and hasattr(item, "end") and hasattr(item, "label"):
        return int(item.start), int(item.end), str(item.label)
    start, end, label = item[0], item[1], item[2]
    return int(start), int(end), str(label)


def _merge(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans merged into one; its type is the longest member's."""
    merged: list[list[Any]] = []  # start, end, label, longest length
    for s, e, label in sorted(spans):
        if merged and s < merged[-1][1]:
            cur = merged[-1]
            if e - s > cur[3]:
                cur[2], cur[3] = label, e - s
            cur[1] = max(cur[1], e)
        else:
            merged.append([s, e, label, e - s])
    return [(s, e, label) for s, e, label, _ in merged]


def _identity(value: str) -> str:
    return _WS.sub(" ", value).strip().casefold()


def _word_pattern(value: str) -> re.Pattern[str]:
    """``value`` as an exact-string pattern, with word boundaries where its ends are word chars."""
    left = r"(?<!\w)" if value[:1].isalnum() or value[:1] == "_" else ""
    right = r"(?!\w)" if value[-1:].isalnum() or value[-1:] == "_" else ""
    return re.compile(left + re.escape(value) + right)


def find_survivors(text: str, values: Iterable[str]) -> list[str]:
    """The ``values`` that occur in ``text`` as whole words (exact string, word-boundary aware).

    Examples
    --------
    >>> find_survivors("Tomorrow, [PERSON_1] wrote to Ann.", ["Tom", "Ann"])
    ['Ann']
    """
    out = []
    for value in dict.fromkeys(values):
        if value.strip() and _word_pattern(value).search(text):
            out.append(value)
    return out


class Redactor:
    """Replace PII spans consistently within each document.

    Parameters
    ----------
    mode : {"placeholder", "surrogate"}
        ``[TYPE_n]`` placeholders, or realistic Faker values of the same type.
    seed : int, default 0
        Seed of the surrogates (combined with each document's id).
    locale : str, default "en_US"
        Faker locale of the surrogates.
    retag : bool, default True
        Also replace every other whole-word occurrence of a detected value. Without it only the
        given spans are replaced, and the no-survivor guarantee does not hold.
    name_parts : bool, default True
        With ``retag``, also replace the capitalized words of a multi-word PERSON value on their
        own ("Maria" after "Maria Lopez"), as the same person.

    Examples
    --------
    >>> r = Redactor(mode="surrogate", seed=1)
    >>> doc = r.redact("Tom: hi, I'm Tom", [(0, 3, "PERSON")], id="a")
    >>> doc.text.count("Tom"), len(doc.replacements)
    (0, 2)
    >>> r.redact("Tom: hi, I'm Tom", [(0, 3, "PERSON")], id="a").text == doc.text
    True
    """

    def __init__(self, *, mode: Mode = "placeholder", seed: int = 0, locale: str = "en_US",
                 retag: bool = True, name_parts: bool = True) -> None:
        self.mode = mode
        self.seed = seed
        self.locale = locale
        self.retag = retag
        self.name_parts = name_parts
        self._faker: Any = None

    def _check(self) -> None:
        if self.mode not in ("placeholder", "surrogate"):
            raise ConfigError(f"redaction mode must be 'placeholder' or 'surrogate', got {self.mode!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"the redaction seed must be an int, got {self.seed!r}")

    def redact(self, text: str | None, spans: Iterable[Any], *, id: Any = None) -> RedactedDocument:
        """Redact one document.

        Parameters
        ----------
        text : str or None
            The text (None counts as "").
        spans : iterable
            :class:`~labelfns.spans.Span`, PII spans with ``start``/``end``/``label``,
            ``{"start", "end", "label"}`` dicts or ``(start, end, label)`` tuples.
        id : object, optional
            The document id (seeds surrogates; named in errors).

        Raises
        ------
        DataError
            A span is outside the text.
        """
        self._check()
        text = "" if text is None else text
        raw = [_span_tuple(s) for s in spans]
        for s, e, label in raw:
            if not 0 <= s < e <= len(text):
                raise DataError(f"document {id!r}: span {Span(s, e, label).to_dict()} is outside "
                                f"the text of length {len(text)}")
        found = _merge(raw)
        if not found:
            return RedactedDocument(id, text, ())
        # every input span's value (also of spans merged into a longer one) is re-tagged
        values = {(text[s:e], label) for s, e, label in found}
        values |= {(text[s:e], label) for s, e, label in raw}
        if self.retag and self.name_parts:
            for s, e, label in found:
                words = text[s:e].split()
                if label == "PERSON" and len(words) > 1:
                    values.update((w, label) for w in words
                                  if len(w) > 1 and w[0].isupper() and w.isalpha())
        retagged: list[tuple[int, int, str]] = []
        if self.retag:
            taken = [(s, e) for s, e, _ in found]
            for value, label in sorted(values, key=lambda v: (-len(v[0]), v[0], v[1])):
                if not value.strip():
                    continue
                for m in _word_pattern(value).finditer(text):
                    if not any(m.start() < e and s < m.end() for s, e in taken):
                        retagged.append((m.start(), m.end(), label))
                        taken.append((m.start(), m.end()))
        marked = {(s, e) for s, e, _ in retagged}
        everything = sorted(found + retagged)
        names = self._names(text, everything, id, avoid={_identity(text[s:e]) for s, e, _ in raw})
        parts: list[str] = []
        replacements: list[Replacement] = []
        pos = 0
        for s, e, label in everything:
            original = text[s:e]
            new = names[(label, self._key(label, original, names))]
            parts.append(text[pos:s])
            parts.append(new)
            pos = e
            replacements.append(Replacement(s, e, label, original, new, (s, e) in marked))
        parts.append(text[pos:])
        out = "".join(parts)
        detected = [text[s:e] for s, e, _ in everything] + [text[s:e] for s, e, _ in raw]
        survivors = find_survivors(out, detected) if self.retag else []
        if survivors:  # only possible through surrogates or adjacency: fall back to placeholders
            if self.mode == "surrogate":
                fallback = Redactor(mode="placeholder", seed=self.seed, retag=self.retag,
                                    name_parts=self.name_parts)
                return fallback.redact(text, [(s, e, lab) for s, e, lab in found], id=id)
            raise LabelcycleError(f"document {id!r}: redaction left {len(survivors)} detected "
                                  "value(s) in the text; please report this as a bug")
        return RedactedDocument(id, out, tuple(replacements))

    # -- naming -----------------------------------------------------------------------------------
    @staticmethod
    def _key(label: str, value: str, names: dict[tuple[str, str], str]) -> str:
        key = _identity(value)
        alias = names.get(("#alias", label + "\x00" + key))
        return alias if alias is not None else key

    def _names(self, text: str, spans: Sequence[tuple[int, int, str]], doc_id: Any,
               avoid: set[str]) -> dict[tuple[str, str], str]:
        """(label, identity) -> replacement, numbered per type by first appearance."""
        names: dict[tuple[str, str], str] = {}
        persons = {_identity(text[s:e]) for s, e, label in spans if label == "PERSON"}
        long_names = [p for p in persons if " " in p]
        for p in persons:
            if " " not in p:
                owners = [n for n in long_names if p in n.split(" ")]
                if len(owners) == 1:
                    names[("#alias", "PERSON\x00" + p)] = owners[0]
        counters: dict[str, int] = {}
        order: list[tuple[str, str, str]] = []
        for s, e, label in spans:
            key = self._key(label, text[s:e], names)
            if (label, key) not in names:
                counters[label] = counters.get(label, 0) + 1
                names[(label, key)] = f"[{label}_{counters[label]}]"
                order.append((label, key, text[s:e]))
        if self.mode == "surrogate":
            self._surrogates(names, order, doc_id,
                             avoid=avoid | {_identity(text[s:e]) for s, e, _ in spans})
        return names

    def _surrogates(self, names: dict[tuple[str, str], str], order: list[tuple[str, str, str]],
                    doc_id: Any, avoid: set[str]) -> None:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker(self.locale)
        fake = self._faker
        digest = hashlib.sha256(f"{self.seed}\x00{doc_id!r}".encode()).digest()
        fake.seed_instance(int.from_bytes(digest[:8], "big"))
        used: set[str] = set()
        for label, key, original in order:
            for _ in range(20):
                value = _surrogate(fake, label, original)
                ident = _identity(value)
                if ident not in avoid and ident not in used and not any(
                        a and _word_pattern(a).search(value.casefold()) for a in avoid):
                    break
            else:
                value = names[(label, key)]
            used.add(_identity(value))
            names[(label, key)] = value


def _surrogate(fake: Any, label: str, original: str) -> str:
    """A Faker value of the same type (and roughly the same shape for names)."""
    if label == "PERSON":
        words = original.split()
        if len(words) == 1:
            value = fake.first_name()
        else:
            value = f"{fake.first_name()} {fake.last_name()}"
        return value.lower() if original.islower() else value
    makers = {
        "EMAIL": fake.email,
        "PHONE": fake.phone_number,
        "CREDIT_CARD": fake.credit_card_number,
        "SSN": fake.ssn,
        "IBAN": fake.iban,
        "IP_ADDRESS": fake.ipv4_public if "." in original else fake.ipv6,
        "URL": fake.url,
        "ADDRESS": lambda: _WS.sub(" ", fake.address().replace("\n", ", ")),
        "DATE_OF_BIRTH": lambda: fake.date_of_birth(minimum_age=18, maximum_age=90).strftime("%m/%d/%Y"),
        "ORDER_ID": lambda: fake.bothify("??-#######", letters="ABCDEFGHJKLMNPQRSTUVWXYZ"),
        "ACCOUNT_ID": lambda: fake.bothify("AC-########"),
    }
    maker = makers.get(label)
    return maker() if maker is not None else fake.bothify(f"{label[:3]}-######")


def redact(texts: Sequence[str | None], spans: Sequence[Iterable[Any]], *,
           ids: Sequence[Any] | None = None, mode: Mode = "placeholder", seed: int = 0
           ) -> list[RedactedDocument]:
    """Redact many documents (each one consistent on its own).

    Examples
    --------
    >>> [d.text for d in redact(["a Tom", "Tom b"], [[(2, 5, "PERSON")], []])]
    ['a [PERSON_1]', 'Tom b']
    """
    if len(texts) != len(spans):
        raise DataError(f"{len(texts)} texts but {len(spans)} span lists")
    if ids is None:
        ids = list(range(len(texts)))
    redactor = Redactor(mode=mode, seed=seed)
    return [redactor.redact(t, s, id=i) for t, s, i in zip(texts, spans, ids, strict=True)]


def write_mapping(path: str | os.PathLike[str], documents: Iterable[RedactedDocument]) -> int:
    """Write the replacement -> originals mapping of each document as JSON Lines (atomically);
    return the number of lines. The file holds the original PII: store it like the input data.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "map.jsonl"
    >>> write_mapping(p, redact(["hi Tom"], [[(3, 6, "PERSON")]], ids=["c1"]))
    1
    >>> p.read_text()
    '{"id": "c1", "replacement": "[PERSON_1]", "label": "PERSON", "originals": ["Tom"]}\\n'
    """
    n = 0
    with atomic_write(path) as fh:
        for doc in documents:
            for record in doc.mapping_records():
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n
