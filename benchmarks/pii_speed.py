"""PII throughput: labelcycle's regex detectors and full span pipeline versus Presidio's analyzer.

Usage::

    python benchmarks/pii_speed.py [--n 500] [--seed 12345] [--no-presidio]

On ``--n`` generated support chats (examples/support_chats/generate_chats.py), all systems on the
same texts, models loaded and warmed up before timing, one process:

1. ``regex``: labelcycle's built-in regex/validator detectors (labelfns.pii.BUILTIN_SPAN_LFS, 16
   LFs incl. the NOT_PII context LFs), each run over all texts (texts/s).
2. ``pipeline``: the full span pipeline, :func:`weak_supervision.spans.aggregate_spans` with every
   built-in LF including spaCy NER (``nlp.pipe``, NER only, on the sentences that may name a
   person), tokenization, the token label
   matrix, majority vote and span rebuilding (texts/s). No cache.
3. ``presidio``: Presidio's ``BatchAnalyzerEngine`` (``nlp.pipe`` over the full en_core_web_sm
   pipeline, every default recognizer), texts/s; and its per-text ``analyze`` loop.

Warm-up runs use other texts; every system is timed ``--repeat`` times (best counts), labelcycle
after :func:`labelfns.pii.clear_caches` each time (labelfns.pii keeps the dates and phone numbers
of recent texts, which a repeat would otherwise find). The pipeline's spaCy LF reads only the
sentences that may name a person (``person_ner_lf(lines="names")``, the default). ``cpu_seconds``
(process time of the best run) is reported beside the wall-clock figures the targets use.
Targets: regex >= 100x Presidio, full pipeline >= 3x Presidio (against Presidio's faster mode).
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples" / "support_chats"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _presidio  # noqa: E402
import generate_chats  # noqa: E402

from labelfns.pii import BUILTIN_SPAN_LFS, clear_caches  # noqa: E402
from weak_supervision.spans import aggregate_spans, builtin_span_lfs  # noqa: E402


def timed(f: Any) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def best_of(f: Any, repeat: int, *, before: Any = None) -> tuple[float, float]:
    """The best wall-clock time of ``repeat`` runs of ``f`` and that run's process time."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        if before is not None:
            before()
        cpu = time.process_time()
        wall = timed(f)
        best = min(best, (wall, time.process_time() - cpu))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="generated chats (default 500)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--repeat", type=int, default=2,
                        help="timed runs of each system; the best counts")
    args = parser.parse_args(argv)

    texts = [r["text"] for r in generate_chats.generate(args.n, seed=args.seed)]
    # warm-up texts differ from the timed ones, so no per-text cache can help the timed runs
    warm = [r["text"] for r in generate_chats.generate(20, seed=args.seed + 1)]
    chars = sum(map(len, texts))
    out: dict[str, Any] = {
        "command": "python benchmarks/pii_speed.py " + " ".join(argv or sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "n_texts": len(texts), "mean_chars": round(chars / len(texts), 1),
    }

    def regex() -> None:
        for lf in BUILTIN_SPAN_LFS:
            lf.apply_batch(texts)

    for lf in BUILTIN_SPAN_LFS:  # warm up (phonenumbers metadata)
        lf.apply_batch(warm)
    secs, cpu = best_of(regex, args.repeat, before=clear_caches)
    out["regex"] = {"seconds": round(secs, 3), "cpu_seconds": round(cpu, 3),
                    "texts_per_s": round(len(texts) / secs, 1), "n_lfs": len(BUILTIN_SPAN_LFS)}

    lfs = builtin_span_lfs(ner=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aggregate_spans(lfs, warm)  # loads spaCy and the tokenizer
        secs, cpu = best_of(lambda: aggregate_spans(lfs, texts), args.repeat, before=clear_caches)
    out["pipeline"] = {"seconds": round(secs, 3), "cpu_seconds": round(cpu, 3),
                       "texts_per_s": round(len(texts) / secs, 1), "n_lfs": len(lfs)}

    if not args.no_presidio:
        if not _presidio.available():
            parser.exit(2, "presidio-analyzer is not installed, or pass --no-presidio\n")
        engine = _presidio.analyzer()
        _presidio.analyze(engine, warm)  # warm up
        secs_batch, cpu_batch = best_of(lambda: _presidio.analyze(engine, texts, batch=True),
                                        args.repeat)
        secs_loop, cpu_loop = best_of(lambda: _presidio.analyze(engine, texts, batch=False),
                                      args.repeat)
        best = min(secs_batch, secs_loop)
        out["presidio"] = {"batch_seconds": round(secs_batch, 3), "loop_seconds": round(secs_loop, 3),
                           "cpu_seconds": round(cpu_batch if secs_batch <= secs_loop else cpu_loop, 3),
                           "texts_per_s": round(len(texts) / best, 1)}
        out["speedup"] = {
            "regex_vs_presidio": round(out["regex"]["texts_per_s"] / out["presidio"]["texts_per_s"], 1),
            "pipeline_vs_presidio": round(out["pipeline"]["texts_per_s"]
                                          / out["presidio"]["texts_per_s"], 2),
        }
        out["targets"] = {"regex_ge_100x": out["speedup"]["regex_vs_presidio"] >= 100,
                          "pipeline_ge_3x": out["speedup"]["pipeline_vs_presidio"] >= 3}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
