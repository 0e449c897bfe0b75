"""Does the loop close? cycle -> suggest -> accept the top-k suggestions -> cycle, measured.

Usage::

    python benchmarks/suggest_loop.py [--rounds 3] [--top-k 10] [--pii-rounds 3] [--pii-top-k 6]
                                      [--no-hand-written] [--no-pii] [--out result.json]

Two loops, each in a temporary copy of an example project (the examples are never modified):

1. **Amazon reviews** (``examples/amazon_reviews``, 64 classes, data read in place from
   ``../shared/data/amazon_reviews``): start from ``thin_lfs.py`` alone (keywords from the class
   names, no label used), run a cycle (:func:`weak_supervision.cycle.run_cycle`), then for each
   round: :func:`analysis.suggest.suggest_for_project` on the last cycle, accept the top-k
   suggestions automatically (:func:`analysis.suggest.write_lf_module` writes
   ``suggested_round<r>.py``, which is added to ``[lfs] modules``), and run the next cycle.
   The hand-written example (its own LF modules) is run the same way for reference.
2. **Support chats, PII spans** (``examples/support_chats``): the same loop with
   :func:`analysis.suggest_pii.suggest_pii_for_project` and
   :func:`weak_supervision.pii_pipeline.pii_label_project`, starting from the built-in detectors
   alone (``[pii] modules`` emptied: the example's hand-written span LFs are the reference).

Protocol: suggestions see only the dev labels (the project's ``[dev]`` sample: 300 reviews, 100
chats); every figure reported as "non-dev" is on the other rows, whose labels nothing in the loop
reads. Macro-F1 is over the classes present in those rows' gold labels
(:func:`weak_supervision.metrics.score`); PII is exact-match micro span F1
(:func:`weak_supervision.span_metrics.score_spans`, what ``pii_label_project`` reports).

Targets: on the reviews, each of the first three rounds improves non-dev macro-F1, and the three
rounds at least halve the gap between the thin start and the hand-written example; on the chats,
the rounds improve span F1. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shlex
import shutil
import sys
import tempfile
import time
import tomllib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.cycle_data import read_cycle  # noqa: E402
from analysis.suggest import suggest_for_project, write_lf_module  # noqa: E402
from weak_supervision.cycle import run_cycle  # noqa: E402
from weak_supervision.metrics import score  # noqa: E402
from weak_supervision.pii_pipeline import pii_label_project  # noqa: E402
from weak_supervision.project import load_project  # noqa: E402

AMAZON = ROOT / "examples" / "amazon_reviews"
CHATS = ROOT / "examples" / "support_chats"
THIN_MODULE = "thin_lfs.py"


# ----------------------------------------------------------------------------------------------
# temporary project copies
# ----------------------------------------------------------------------------------------------
def _set_list(text: str, section: str, key: str, values: list[str]) -> str:
    """``text`` (a labelcycle.toml) with ``key = [...]`` of ``[section]`` replaced."""
    lines = text.split("\n")
    out, current, done = [], None, False
    for line in lines:
        m = re.match(r"\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if m:
            current = m.group(1).strip()
        if current == section and re.match(rf"\s*{key}\s*=", line) and not done:
            out.append(f"{key} = {json.dumps(values)}")
            done = True
            continue
        out.append(line)
    if not done:
        raise SystemExit(f"labelcycle.toml has no {key} in [{section}]")
    return "\n".join(out)


def _set_value(text: str, section: str, key: str, value: str) -> str:
    lines, current = text.split("\n"), None
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if m:
            current = m.group(1).strip()
        if current == section and re.match(rf"\s*{key}\s*=", line):
            lines[i] = f"{key} = {json.dumps(value)}"
            return "\n".join(lines)
    raise SystemExit(f"labelcycle.toml has no {key} in [{section}]")


def copy_project(src: Path, dest: Path, *, modules: list[str] | None = None,
                 pii_modules: list[str] | None = None) -> Path:
    """Copy an example into ``dest`` (its data path made absolute, its caches of embeddings
    copied so the vectors are not computed again) with other LF modules."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".labelcycle", "__pycache__"))
    emb = src / ".labelcycle" / "embeddings"
    if emb.is_dir():
        shutil.copytree(emb, dest / ".labelcycle" / "embeddings")
    toml = dest / "labelcycle.toml"
    text = toml.read_text(encoding="utf-8")
    cfg = tomllib.loads(text)
    data_path = (src / cfg["data"]["path"]).resolve()
    if not data_path.is_file() and cfg["data"].get("generator") is None:
        raise SystemExit(f"the example's data is missing: {data_path}")
    if not (dest / cfg["data"]["path"]).exists():
        text = _set_value(text, "data", "path", str(data_path))
    if modules is not None:
        text = _set_list(text, "lfs", "modules", modules)
    if pii_modules is not None:
        text = _set_list(text, "pii", "modules", pii_modules)
    toml.write_text(text, encoding="utf-8")
    return dest


def add_module(root: Path, section: str, module: str) -> None:
    """Append ``module`` to ``[section] modules`` of the project's labelcycle.toml."""
    toml = root / "labelcycle.toml"
    text = toml.read_text(encoding="utf-8")
    current = list(tomllib.loads(text)[section]["modules"])
    toml.write_text(_set_list(text, section, "modules", [*current, module]), encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# classification
# ----------------------------------------------------------------------------------------------
def _cycle_figures(project: Any, n_jobs: int) -> dict[str, Any]:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cycle = run_cycle(project, n_jobs=n_jobs)
    frame, _, names = read_cycle(project, run_id=cycle.run_id)
    pred = frame["end_model"].to_numpy()
    dev = project.dev_mask
    rest = ~dev & (project.gold >= 0)
    dev_scores = score(project.gold[dev], pred[dev])
    rest_scores = score(project.gold[rest], pred[rest])
    return {"cycle_run_id": cycle.run_id, "n_lfs": len(names),
            "coverage": round(float(cycle.figures.get("coverage") or 0.0), 4),
            "label_source": cycle.figures.get("label_source"),
            "dev_macro_f1": round(dev_scores.macro_f1, 4),
            "dev_accuracy": round(dev_scores.accuracy, 4),
            "non_dev_macro_f1": round(rest_scores.macro_f1, 4),
            "non_dev_accuracy": round(rest_scores.accuracy, 4),
            "n_dev": int(dev.sum()), "n_non_dev": int(rest.sum()),
            "seconds": round(time.perf_counter() - t, 1)}


def classification_loop(work: Path, *, rounds: int, top_k: int, seed: int, n_jobs: int,
                        hand_written: bool, model: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"project": str(AMAZON.relative_to(ROOT)), "top_k": top_k,
                           "errors_of": model or "default"}
    extra = {} if model is None else {"model": model}
    if hand_written:
        hand = copy_project(AMAZON, work / "amazon_hand")
        out["hand_written"] = _cycle_figures(load_project(hand), n_jobs)
    root = copy_project(AMAZON, work / "amazon_loop", modules=[THIN_MODULE])
    project = load_project(root)
    history = [{"round": 0, **_cycle_figures(project, n_jobs), "accepted": []}]
    for r in range(1, rounds + 1):
        t = time.perf_counter()
        suggestions = suggest_for_project(project, top_k=top_k, seed=seed, **extra)
        took = time.perf_counter() - t
        module = f"suggested_round{r}.py"
        accepted = list(suggestions)
        if accepted:
            write_lf_module(accepted, root / module)
            add_module(root, "lfs", module)
        project = load_project(root)
        figures = _cycle_figures(project, n_jobs)
        history.append({"round": r, **figures, "suggest_seconds": round(took, 1),
                        "dev_errors_before": suggestions.n_errors,
                        "skipped_kinds": suggestions.skipped,
                        "accepted": [{"name": s.name, "label": s.label, "kind": s.kind,
                                      "pattern": s.pattern, "dev_precision": round(s.precision, 3),
                                      "dev_support": s.support, "fixes": s.fixes,
                                      "breaks": s.breaks,
                                      "pool_coverage": round(s.pool_coverage, 4)}
                                     for s in accepted]})
    out["rounds"] = history
    f1 = [h["non_dev_macro_f1"] for h in history]
    first3 = f1[: min(4, len(f1))]
    improves = all(b > a for a, b in zip(first3, first3[1:], strict=False))
    target: dict[str, Any] = {"each_of_first_three_rounds_improves_non_dev_macro_f1": improves}
    if hand_written and len(f1) >= 4:
        gap = out["hand_written"]["non_dev_macro_f1"] - f1[0]
        closed = (f1[3] - f1[0]) / gap if gap > 0 else None
        target["gap_thin_to_hand_written"] = round(gap, 4)
        target["share_of_gap_closed_after_three_rounds"] = (None if closed is None
                                                             else round(closed, 3))
        target["three_rounds_halve_the_gap"] = bool(closed is not None and closed >= 0.5)
    target["met"] = all(v for k, v in target.items() if isinstance(v, bool))
    out["targets"] = target
    return out


# ----------------------------------------------------------------------------------------------
# PII
# ----------------------------------------------------------------------------------------------
def _pii_figures(project: Any) -> dict[str, Any]:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = pii_label_project(project)
    fig = run.figures
    return {"pii_run_id": run.run_id, "n_lfs": fig.get("n_lfs"), "eval_rows": fig.get("eval_rows"),
            "n_eval": fig.get("n_eval"), "non_dev_exact_micro": fig.get("exact_micro"),
            "non_dev_span_f1": (fig.get("exact_micro") or {}).get("f1"),
            "non_dev_f1_per_type": fig.get("exact_f1_per_type"),
            "seconds": round(time.perf_counter() - t, 1)}


def pii_loop(work: Path, *, rounds: int, top_k: int, seed: int) -> dict[str, Any]:
    from analysis.suggest_pii import suggest_pii_for_project

    out: dict[str, Any] = {"project": str(CHATS.relative_to(ROOT)), "top_k": top_k,
                           "start": "built-in span detectors only ([pii] modules = [])"}
    hand = copy_project(CHATS, work / "chats_hand")
    out["hand_written"] = _pii_figures(load_project(hand))
    root = copy_project(CHATS, work / "chats_loop", pii_modules=[])
    project = load_project(root)
    history = [{"round": 0, **_pii_figures(project), "accepted": []}]
    for r in range(1, rounds + 1):
        t = time.perf_counter()
        suggestions = suggest_pii_for_project(project, top_k=top_k, seed=seed)
        took = time.perf_counter() - t
        module = f"pii_suggested_round{r}.py"
        accepted = list(suggestions)
        if accepted:
            write_lf_module(accepted, root / module)
            add_module(root, "pii", module)
        project = load_project(root)
        history.append({"round": r, **_pii_figures(project), "suggest_seconds": round(took, 1),
                        "accepted": [{"name": s.name, "label": s.label, "kind": s.kind,
                                      "pattern": s.pattern,
                                      "dev_precision": round(s.precision, 3),
                                      "dev_new_spans": s.new_tp,
                                      "dev_f1_gain": round(s.f1_gain, 4)} for s in accepted]})
    out["rounds"] = history
    f1 = [h["non_dev_span_f1"] or 0.0 for h in history]
    out["targets"] = {"span_f1_improves": bool(len(f1) > 1 and f1[-1] > f1[0]),
                      "no_round_lowers_span_f1": all(b >= a for a, b in zip(f1, f1[1:],
                                                                            strict=False))}
    out["targets"]["met"] = out["targets"]["span_f1_improves"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="suggest/accept rounds (reviews)")
    parser.add_argument("--top-k", type=int, default=10,
                        help="suggestions accepted per round (the API default)")
    parser.add_argument("--pii-rounds", type=int, default=3, help="rounds on the chats (PII)")
    parser.add_argument("--pii-top-k", type=int, default=6, help="PII suggestions per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1, help="processes for row-wise LFs")
    parser.add_argument("--no-hand-written", action="store_true",
                        help="skip the hand-written reference cycle (no gap figure)")
    parser.add_argument("--no-pii", action="store_true", help="skip the support-chat loop")
    parser.add_argument("--no-classification", action="store_true",
                        help="skip the Amazon reviews loop")
    parser.add_argument("--errors-of", choices=("end_model", "label_model", "majority"),
                        default=None, help="whose dev errors the suggestions mine (default: "
                                           "suggest_for_project's)")
    parser.add_argument("--workdir", type=Path, help="keep the project copies here")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="labelcycle-suggest-loop-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "protocol": "suggestions read dev labels only; non-dev figures on the other rows",
    }
    try:
        if not args.no_classification:
            result["amazon_reviews"] = classification_loop(
                work, rounds=args.rounds, top_k=args.top_k, seed=args.seed, n_jobs=args.n_jobs,
                hand_written=not args.no_hand_written, model=args.errors_of)
        if not args.no_pii:
            result["support_chats_pii"] = pii_loop(work, rounds=args.pii_rounds,
                                                   top_k=args.pii_top_k, seed=args.seed)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["targets_met"] = all(v["targets"]["met"] for k, v in result.items()
                                if isinstance(v, dict) and "targets" in v)
    text = json.dumps(result, indent=2, default=lambda v: v.item() if isinstance(v, np.generic)
                      else str(v))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
