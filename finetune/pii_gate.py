"""The PII gate: find PII in the messages of chat fine-tuning records before they are written.

:func:`scan_records` runs PII span detectors (by default the regex/validator detectors of
:mod:`labelfns.pii`; optionally spaCy's PERSON NER too) over the messages of the chosen roles and
reports where PII was found: file, line, record id, message, PII type and character offsets. A
report never holds the PII text itself, so it can be shared and logged.

The exporter uses a :class:`PIIGate`: for a task declared PII-free (``[export] pii_free = true``)
an export whose assistant messages (and, optionally, user messages) hold PII fails with the list of
offending records, unless PII is explicitly allowed (``allow_pii=True``, CLI ``--allow-pii``).

Example
-------
>>> good = {"messages": [{"role": "user", "content": "mail me at a@b.co"},
...                      {"role": "assistant", "content": "Sure, I will mail you."}]}
>>> bad = {"messages": [{"role": "user", "content": "hi"},
...                     {"role": "assistant", "content": "Write to ann@example.com"}]}
>>> report = scan_records([good, bad], ids=["r1", "r2"])
>>> report.ok, [(f.line, f.record_id, f.pii_type, f.start, f.end) for f in report.findings]
(False, [(2, 'r2', 'EMAIL', 9, 24)])
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelfns.errors import ConfigError, DataError
from labelfns.pii import PII_DETECTORS
from labelfns.spans import NOT_PII, SpanLF

__all__ = ["PIIFinding", "PIIGateReport", "PIIGate", "scan_records"]

_ROLES = ("system", "user", "assistant", "tool", "function")


@dataclass(frozen=True)
class PIIFinding:
    """One PII span found in a message (offsets only, never the text).

    Attributes
    ----------
    line : int
        1-based position of the record (its line in the JSONL file).
    record_id : str, int or None
        Source id of the record, when known.
    file : str or None
        The file the record belongs to, when known.
    message : int
        0-based index of the message within the record.
    role : str
        The message's role.
    pii_type : str
        PII label (``EMAIL``, ``PHONE``, ``CREDIT_CARD``, ...).
    start, end : int
        Character offsets in the message content (end exclusive).
    detector : str
        Name of the span LF that found it.

    Example
    -------
    >>> PIIFinding(3, "r7", None, 2, "assistant", "PHONE", 4, 18, "pii_phone").to_dict()["end"]
    18
    """

    line: int
    record_id: Any
    file: str | None
    message: int
    role: str
    pii_type: str
    start: int
    end: int
    detector: str

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict."""
        return {"file": self.file, "line": self.line, "record_id": self.record_id,
                "message": self.message, "role": self.role, "pii_type": self.pii_type,
                "start": self.start, "end": self.end, "detector": self.detector}


@dataclass(frozen=True)
class PIIGateReport:
    """What :func:`scan_records` found.

    Attributes
    ----------
    findings : tuple of PIIFinding
        Every PII span, in record order.
    n_records : int
        Records scanned.
    n_skipped : int
        Lines that were not a JSON object with a ``messages`` list (not scanned).
    roles : tuple of str
        The roles scanned.
    detectors : tuple of str
        Names of the detectors run.

    Example
    -------
    >>> scan_records([{"messages": [{"role": "assistant", "content": "ok"}]}]).to_dict()["ok"]
    True
    """

    findings: tuple[PIIFinding, ...]
    n_records: int
    n_skipped: int
    roles: tuple[str, ...]
    detectors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no PII was found."""
        return not self.findings

    @property
    def flagged(self) -> tuple[tuple[str | None, int], ...]:
        """``(file, line)`` of every record with PII, in order."""
        return tuple(dict.fromkeys((f.file, f.line) for f in self.findings))

    @property
    def n_flagged(self) -> int:
        """The number of records with PII."""
        return len(self.flagged)

    def type_counts(self) -> dict[str, int]:
        """PII type -> number of spans found.

        Example
        -------
        >>> r = scan_records([{"messages": [{"role": "assistant", "content": "a@b.co, c@d.co"}]}])
        >>> r.type_counts()
        {'EMAIL': 2}
        """
        return dict(Counter(f.pii_type for f in self.findings))

    def describe(self, *, limit: int = 10) -> str:
        """A short text listing the offending records (at most ``limit``), without PII text.

        Example
        -------
        >>> r = scan_records([{"messages": [{"role": "assistant", "content": "call 415-555-0132"}]}],
        ...                  ids=["t1"], file="train.jsonl")
        >>> print(r.describe())
        1 of 1 record(s) hold PII in assistant messages (PHONE 1):
          train.jsonl line 1 (id 't1'): PHONE at 5-17
        """
        if self.ok:
            return f"no PII found in {self.roles_text} messages of {self.n_records} record(s)"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.type_counts().items()))
        lines = [f"{self.n_flagged} of {self.n_records} record(s) hold PII in {self.roles_text} "
                 f"messages ({counts}):"]
        by_record: dict[tuple[str | None, int], list[PIIFinding]] = {}
        for f in self.findings:
            by_record.setdefault((f.file, f.line), []).append(f)
        for (file, line), found in list(by_record.items())[:limit]:
            where = f"{file} line {line}" if file else f"record {line}"
            rid = found[0].record_id
            ident = f" (id {rid!r})" if rid is not None else ""
            spans = ", ".join(f"{f.pii_type} at {f.start}-{f.end}"
                              + (f" in the {f.role} message" if len(self.roles) > 1 else "")
                              for f in found)
            lines.append(f"  {where}{ident}: {spans}")
        if len(by_record) > limit:
            lines.append(f"  ... and {len(by_record) - limit} more record(s)")
        return "\n".join(lines)

    @property
    def roles_text(self) -> str:
        return "/".join(self.roles)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (offsets only, no PII text)."""
        return {"ok": self.ok, "n_records": self.n_records, "n_skipped": self.n_skipped,
                "n_flagged": self.n_flagged, "roles": list(self.roles),
                "detectors": list(self.detectors), "type_counts": self.type_counts(),
                "findings": [f.to_dict() for f in self.findings]}

    def to_frame(self) -> Any:
        """One row per finding (file, line, record_id, message, role, pii_type, start, end,
        detector).

        Example
        -------
        >>> scan_records([]).to_frame().columns.tolist()[:3]
        ['file', 'line', 'record_id']
        """
        import pandas as pd

        columns = ["file", "line", "record_id", "message", "role", "pii_type", "start", "end",
                   "detector"]
        return pd.DataFrame([f.to_dict() for f in self.findings], columns=columns)

    def merge(self, other: PIIGateReport) -> PIIGateReport:
        """Both reports' findings and counts together (e.g. train and validation files)."""
        return PIIGateReport(self.findings + other.findings, self.n_records + other.n_records,
                             self.n_skipped + other.n_skipped, self.roles, self.detectors)


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: scanned as their joined text
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        return "".join(t for t in texts if isinstance(t, str))
    return None


def _check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = (roles,)
    out = tuple(roles)
    bad = [r for r in out if r not in _ROLES]
    if bad or not out:
        raise ConfigError(f"roles must be a non-empty list of {', '.join(_ROLES)}; got "
                          f"{list(out)!r}")
    return out


def _detectors(detectors: Sequence[SpanLF], use_ner: bool) -> tuple[SpanLF, ...]:
    out = tuple(detectors)
    for d in out:
        if not isinstance(d, SpanLF):
            raise ConfigError(f"detectors must be span LFs (labelfns.spans.SpanLF), got "
                              f"{type(d).__name__}")
    if use_ner:
        from labelfns.ner import person_ner_lf

        out = out + (person_ner_lf(),)
    return out


def scan_records(
    records: Iterable[dict[str, Any] | str | bytes],
    *,
    detectors: Sequence[SpanLF] = PII_DETECTORS,
    roles: Sequence[str] = ("assistant",),
    use_ner: bool = False,
    ids: Sequence[Any] | None = None,
    file: str | None = None,
) -> PIIGateReport:
    """Find PII in the messages of chat records.

    Parameters
    ----------
    records : iterable of dict, str or bytes
        Chat examples (``{"messages": [...]}``), or their JSONL lines.
    detectors : sequence of SpanLF
        PII detectors; default :data:`labelfns.pii.PII_DETECTORS`. Spans voting
        :data:`~labelfns.spans.NOT_PII` are ignored.
    roles : sequence of str
        Roles whose messages are scanned; default only ``assistant`` (what the model learns to say).
    use_ner : bool
        Also run spaCy's PERSON NER (:func:`labelfns.ner.person_ner_lf`); needs the model package.
    ids : sequence, optional
        Source id of each record, reported with the findings.
    file : str, optional
        File name reported with the findings.

    Returns
    -------
    PIIGateReport

    Example
    -------
    >>> lines = ['{"messages": [{"role": "assistant", "content": "card 4111 1111 1111 1111"}]}']
    >>> [(f.pii_type, f.start, f.end) for f in scan_records(lines).findings]
    [('CREDIT_CARD', 5, 24)]
    """
    roles_t = _check_roles(roles)
    wanted = set(roles_t)
    lfs = _detectors(detectors, use_ner)
    id_list = list(ids) if ids is not None else None
    # (line, message index, role, text) of every message to scan
    todo: list[tuple[int, int, str, str]] = []
    n_records = n_skipped = 0
    for line, raw in enumerate(records, start=1):
        n_records += 1
        obj = raw
        if isinstance(raw, (str, bytes)):
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError):
                obj = None
        messages = obj.get("messages") if isinstance(obj, dict) else None
        if not isinstance(messages, list):
            n_skipped += 1
            continue
        for k, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in wanted:
                continue
            text = _content_text(message.get("content"))
            if text:
                todo.append((line, k, str(message["role"]), text))
    if id_list is not None and len(id_list) != n_records:
        raise DataError(f"{len(id_list)} ids given for {n_records} records; pass one id a record")
    # each distinct text is scanned once (classification answers repeat a lot)
    unique = list(dict.fromkeys(t for *_, t in todo))
    spans: dict[str, list[tuple[int, int, str, str]]] = {t: [] for t in unique}
    for lf in lfs:
        for text, found in zip(unique, lf.apply_batch(unique), strict=True):
            spans[text].extend((s.start, s.end, s.label, lf.name) for s in found
                               if s.label != NOT_PII)
    findings = []
    for line, k, role, text in todo:
        seen = set()
        for start, end, label, name in sorted(spans[text]):
            if (start, end, label) in seen:
                continue
            seen.add((start, end, label))
            rid = id_list[line - 1] if id_list is not None else None
            findings.append(PIIFinding(line, rid, file, k, role, label, start, end, name))
    return PIIGateReport(tuple(findings), n_records, n_skipped, roles_t,
                         tuple(lf.name for lf in lfs))


@dataclass(frozen=True)
class PIIGate:
    """The PII check an export runs on its records before writing them.

    Parameters
    ----------
    roles : tuple of str
        Roles to scan (default ``("assistant",)``; add ``"user"`` to scan prompts too).
    detectors : tuple of SpanLF
        PII detectors (default :data:`labelfns.pii.PII_DETECTORS`).
    use_ner : bool
        Also run spaCy's PERSON NER.
    allow_pii : bool
        Write the export anyway when PII is found (the report is kept in the result).

    Example
    -------
    >>> gate = PIIGate(roles=("assistant", "user"))
    >>> rec = {"messages": [{"role": "user", "content": "I am at 10.0.0.1"},
    ...                     {"role": "assistant", "content": "noted"}]}
    >>> gate.scan([rec]).type_counts()
    {'IP_ADDRESS': 1}
    """

    roles: tuple[str, ...] = ("assistant",)
    detectors: tuple[SpanLF, ...] = field(default=PII_DETECTORS, repr=False)
    use_ner: bool = False
    allow_pii: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", _check_roles(self.roles))
        object.__setattr__(self, "detectors", tuple(self.detectors))

    def scan(self, records: Iterable[dict[str, Any] | str | bytes], *,
             ids: Sequence[Any] | None = None, file: str | None = None) -> PIIGateReport:
        """:func:`scan_records` with this gate's roles and detectors."""
        return scan_records(records, detectors=self.detectors, roles=self.roles,
                            use_ner=self.use_ner, ids=ids, file=file)

    def enforce(self, report: PIIGateReport) -> None:
        """Raise DataError listing the offending records, unless the report is clean or PII is
        allowed.

        Example
        -------
        >>> gate = PIIGate()
        >>> gate.enforce(gate.scan([{"messages": [{"role": "assistant", "content": "a@b.co"}]}]))
        Traceback (most recent call last):
        labelfns.errors.DataError: the export is declared PII-free but 1 of 1 record(s) hold PII in assistant messages (EMAIL 1):
          record 1: EMAIL at 0-6
        Redact or remove these rows (or fix the answer column), or pass allow_pii=True (labelcycle export --allow-pii) to export them anyway.
        """  # noqa: E501
        if report.ok or self.allow_pii:
            return
        raise DataError(
            "the export is declared PII-free but " + report.describe()
            + "\nRedact or remove these rows (or fix the answer column), or pass allow_pii=True "
            "(labelcycle export --allow-pii) to export them anyway."
        )

    def to_dict(self) -> dict[str, Any]:
        """The gate's settings as JSON-ready data."""
        return {"roles": list(self.roles), "detectors": [d.name for d in self.detectors],
                "use_ner": self.use_ner, "allow_pii": self.allow_pii}
