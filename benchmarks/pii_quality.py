"""PII span quality: labelcycle versus Microsoft Presidio's analyzer, per type and overall.

Usage::

    python benchmarks/pii_quality.py [--n 1000] [--seed 12345] [--bitext PATH] [--no-presidio]

Data sets (neither was used to write or tune any LF: the LFs were written on generator seeds 0
and 7, never on ``--seed`` nor on bitext):

1. **Generated support chats**: ``examples/support_chats/generate_chats.py``, ``--n`` chats of
   ``--seed``, with their gold spans (12 PII types, see labelfns.pii's PII spec).
2. **Bitext customer support** (``../shared/data/bitext_customer_support``, the 4,514-row file,
   read in place, never copied): single utterances with entity spans. ``person_name`` ->
   PERSON, ``order_id`` -> ORDER_ID, and ``invoice_id`` -> ORDER_ID (an invoice number
   identifies one customer's purchase, like an order number; labelfns.pii's ``pii_order_id``
   treats "invoice" as ORDER_ID context). ``account_type``, ``delivery_city``,
   ``delivery_country`` and ``refund_amount`` are not PII. Every other predicted span counts as a
   false positive.

Systems:

- ``labelcycle``: the support-chat project's span LFs (built-ins with its phone regions plus
  ``examples/support_chats/pii_lfs.py``), no gold given (so majority vote over token votes).
  On bitext (single utterances, not chats) the built-ins only, phone region US.
- ``labelcycle_builtins``: the built-in detectors alone (phone region US) on the chats too.
- ``presidio``: ``AnalyzerEngine`` with all default recognizers on the same spaCy model
  (en_core_web_sm), default score threshold. Its entity types are mapped to ours (see
  benchmarks/_presidio.py); the looser optional mappings (LOCATION -> ADDRESS, DATE_TIME ->
  DATE_OF_BIRTH, US_BANK_NUMBER -> ACCOUNT_ID) are applied only where they raise Presidio's
  overall F1 on that data set, i.e. in Presidio's favour.

Scores: span-level precision, recall, F1, F2 per type and micro overall, exact and overlap
matching (weak_supervision.span_metrics). Prints one JSON document, with the targets: overall
exact F1 above Presidio's by >= 0.15, PERSON F1 >= 0.85, PHONE and CREDIT_CARD F1 >= 0.95 (on the
generated chats).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "support_chats"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _presidio  # noqa: E402
import generate_chats  # noqa: E402

from labelfns.loading import load_lfs  # noqa: E402
from labelfns.spans import PII_LABELS, Span, SpanLF  # noqa: E402
from weak_supervision.config import load_config  # noqa: E402
from weak_supervision.span_metrics import SpanScores, score_spans  # noqa: E402
from weak_supervision.spans import aggregate_spans, builtin_span_lfs  # noqa: E402

DEFAULT_BITEXT = (ROOT.parent / "shared" / "data" / "bitext_customer_support"
                  / "Bitext_Sample_Customer_Support_Training_Dataset_4514.csv")
BITEXT_MAP = {"person_name": "PERSON", "order_id": "ORDER_ID", "invoice_id": "ORDER_ID"}
EXAMPLE = ROOT / "examples" / "support_chats"


def summary(scores: SpanScores) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("exact", "overlap"):
        m = getattr(scores, mode)
        out[mode] = {"micro": {k: round(getattr(m.micro, k), 4)
                               for k in ("precision", "recall", "f1", "f2")},
                     "per_type": {r.label: {k: round(getattr(r, k), 4)
                                            for k in ("precision", "recall", "f1", "f2")}
                                  | {"support": r.support} for r in m.per_type}}
    return out


def run_labelcycle(lfs: list[SpanLF], texts: list[str]) -> tuple[list[list[Span]], float]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = aggregate_spans(lfs, texts)
    return [list(d.spans) for d in result.documents], time.perf_counter() - start


def run_presidio(engine: Any, texts: list[str], gold: list[list[Span]]
                 ) -> tuple[SpanScores, dict[str, Any], float]:
    start = time.perf_counter()
    raw = _presidio.analyze(engine, texts)
    seconds = time.perf_counter() - start
    best: tuple[float, SpanScores, dict[str, str]] | None = None
    for r in range(len(_presidio.OPTIONAL_MAP) + 1):
        for extra in itertools.combinations(_presidio.OPTIONAL_MAP, r):
            mapping = _presidio.BASE_MAP | {k: _presidio.OPTIONAL_MAP[k] for k in extra}
            pred = [_presidio.to_spans(rs, mapping) for rs in raw]
            scores = score_spans(gold, pred, labels=PII_LABELS)
            if best is None or scores.exact.micro.f1 > best[0]:
                best = (scores.exact.micro.f1, scores, mapping)
    assert best is not None
    return best[1], best[2], seconds


def chats(n: int, seed: int) -> tuple[list[str], list[list[Span]]]:
    records = generate_chats.generate(n, seed=seed)
    texts = [r["text"] for r in records]
    gold = [[Span(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in records]
    return texts, gold


def bitext(path: Path) -> tuple[list[str], list[list[Span]]]:
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    texts, gold = [], []
    for row in frame.itertuples(index=False):
        texts.append(row.instruction)
        label = BITEXT_MAP.get(row.entity_type)
        if label and row.start_offset and row.end_offset:
            gold.append([Span(int(row.start_offset), int(row.end_offset), label)])
        else:
            gold.append([])
    return texts, gold


def project_lfs() -> list[SpanLF]:
    pii = load_config(EXAMPLE).pii
    return builtin_span_lfs(ner=True, ner_model=pii.ner_model, phone_region=pii.phone_region) + \
        load_lfs([EXAMPLE / m for m in pii.modules], kind=SpanLF)


def targets(result: dict[str, Any]) -> dict[str, Any]:
    lc = result["labelcycle"]["exact"]
    out: dict[str, Any] = {
        "person_f1_ge_0.85": lc["per_type"].get("PERSON", {}).get("f1", 0.0) >= 0.85,
        "phone_f1_ge_0.95": lc["per_type"].get("PHONE", {}).get("f1", 0.0) >= 0.95,
        "credit_card_f1_ge_0.95": lc["per_type"].get("CREDIT_CARD", {}).get("f1", 0.0) >= 0.95,
    }
    if "presidio" in result:
        margin = lc["micro"]["f1"] - result["presidio"]["exact"]["micro"]["f1"]
        out["overall_f1_margin_over_presidio"] = round(margin, 4)
        out["overall_f1_margin_ge_0.15"] = margin >= 0.15
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="generated chats (default 1000)")
    parser.add_argument("--seed", type=int, default=12345, help="generator seed (default 12345)")
    parser.add_argument("--bitext", type=Path, default=DEFAULT_BITEXT)
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args(argv)

    engine = None
    if not args.no_presidio:
        if not _presidio.available():
            parser.exit(2, "presidio-analyzer is not installed (pip install presidio-analyzer), "
                           "or pass --no-presidio\n")
        engine = _presidio.analyzer()

    doc: dict[str, Any] = {
        "command": "python benchmarks/pii_quality.py " + " ".join(argv or sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    texts, gold = chats(args.n, args.seed)
    result: dict[str, Any] = {"n_docs": len(texts), "seed": args.seed,
                              "n_gold_spans": sum(len(g) for g in gold)}
    pred, secs = run_labelcycle(project_lfs(), texts)
    result["labelcycle"] = summary(score_spans(gold, pred, labels=PII_LABELS)) | {"seconds": round(secs, 2)}
    pred, secs = run_labelcycle(builtin_span_lfs(ner=True), texts)
    result["labelcycle_builtins"] = summary(score_spans(gold, pred, labels=PII_LABELS)) | {
        "seconds": round(secs, 2)}
    if engine is not None:
        scores, mapping, secs = run_presidio(engine, texts, gold)
        result["presidio"] = summary(scores) | {"seconds": round(secs, 2), "mapping": mapping}
    result["targets"] = targets(result)
    doc["support_chats"] = result

    if args.bitext.is_file():
        texts, gold = bitext(args.bitext)
        result = {"file": args.bitext.name, "n_docs": len(texts),
                  "n_gold_spans": sum(len(g) for g in gold), "mapping": BITEXT_MAP}
        pred, secs = run_labelcycle(builtin_span_lfs(ner=True), texts)
        result["labelcycle_builtins"] = summary(score_spans(gold, pred, labels=PII_LABELS)) | {
            "seconds": round(secs, 2)}
        if engine is not None:
            scores, mapping, secs = run_presidio(engine, texts, gold)
            result["presidio"] = summary(scores) | {"seconds": round(secs, 2), "mapping": mapping}
        doc["bitext"] = result
    else:
        doc["bitext"] = {"skipped": f"{args.bitext} not found"}
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
