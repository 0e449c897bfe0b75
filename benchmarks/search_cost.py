"""How well the label model's cost formula predicts the time of a training epoch.

Usage::

    python benchmarks/search_cost.py [--fit] [--out result.json]

:class:`weak_supervision.label_model.LabelModel` spends its dev search's ``search_budget`` in
estimated seconds (:func:`weak_supervision.label_model.estimate_fit_seconds`), a formula of the
votes, ``d = LFs * classes``, the classes and the route of the loss, so that the candidates tried
depend on the data and not on the machine's speed or load. This script times one candidate's fit
on synthetic label matrices of 12 shapes (from 2 classes x 10 LFs to 64 classes x 235 LFs, 3,000
to 1,000,000 rows; each LF votes with a fixed probability, right 70% of the time), measures the
seconds per epoch as the difference between a 210-epoch and a 10-epoch fit (the faster of two
runs each, so the one-time statistics and the first-call warm-up cancel out), and prints the
estimate beside it. ``--fit`` also refits the formula's constants (non-negative least squares on
the relative error): the constants in ``label_model.py`` come from such a fit on the project's
reference machine (2 cores).

Prints one JSON document: a row per shape (``measured_s``, ``estimated_s`` per epoch, their
``ratio``) and the share of shapes whose estimate is within 25% of the measurement.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import weak_supervision.label_model as lm  # noqa: E402

# rows, LFs, classes, probability that an LF votes on a row
SHAPES = [
    (5_000, 70, 6, 0.1), (5_000, 10, 2, 0.3), (100_000, 50, 2, 0.2), (1_000_000, 20, 3, 0.2),
    (6_000, 235, 64, 0.04), (20_000, 500, 30, 0.02), (200_000, 300, 10, 0.05),
    (50_000, 100, 20, 0.1), (20_000, 120, 64, 0.05), (3_000, 60, 64, 0.05),
    (100_000, 200, 5, 0.1), (10_000, 1000, 10, 0.01),
]


def synthetic_votes(n: int, m: int, k: int, coverage: float, *, seed: int = 0) -> np.ndarray:
    """``n x m`` votes over ``k`` classes: each LF votes with ``coverage``, right 70% of the time.

    >>> synthetic_votes(4, 3, 2, 1.0).shape
    (4, 3)
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.full((n, m), -1, dtype=np.int64)
    votes = rng.random((n, m)) < coverage
    right = rng.random((n, m)) < 0.7
    other = rng.integers(0, k, (n, m))
    L[votes] = np.where(right, y[:, None], other)[votes]
    return L


def time_epoch(L: np.ndarray, k: int) -> tuple[float, bool]:
    """Measured seconds per epoch of one candidate's fit, and whether the dense route was used."""
    stats = lm._compute_stats(L, k)
    model = lm.LabelModel(k, search=False)
    prior = np.full(k, 1.0 / k)
    best: dict[int, float] = {}
    for epochs in (10, 10, 210, 210):
        params = {"n_epochs": epochs, "lr": 0.01, "l2": 0.0, "optimizer": "sgd"}
        t0 = time.perf_counter()
        model._fit_one(L, stats, prior, params)
        best[epochs] = min(best.get(epochs, float("inf")), time.perf_counter() - t0)
    return (best[210] - best[10]) / 200, stats.overlap is not None


def refit(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Non-negative least squares of the formula's terms on the relative error."""
    from scipy.optimize import nnls

    X = np.array([[1.0, r["d"] * r["k"], r["d"] ** 2 * r["k"] if r["dense"] else 0.0,
                   0.0 if r["dense"] else r["votes"] * r["k"]] for r in rows])
    y = np.array([r["measured_s"] for r in rows])
    coef, _ = nnls(X / y[:, None], np.ones(len(y)))
    return dict(zip(("const", "params", "dense", "sparse"), map(float, coef), strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fit", action="store_true", help="also refit the formula's constants")
    parser.add_argument("--out", help="also write the JSON document here")
    args = parser.parse_args(argv)
    rows = []
    for n, m, k, coverage in SHAPES:
        L = synthetic_votes(n, m, k, coverage)
        votes = int((L >= 0).sum())
        measured, dense = time_epoch(L, k)
        estimated = lm.estimate_fit_seconds(votes, m, k, dense=dense)
        rows.append({"rows": n, "lfs": m, "k": k, "votes": votes, "d": m * k, "dense": dense,
                     "measured_s": round(measured, 6), "estimated_s": round(estimated, 6),
                     "ratio": round(estimated / measured, 3) if measured > 0 else None})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    within = [r for r in rows if r["ratio"] is not None and 0.75 <= r["ratio"] <= 1.25]
    doc: dict[str, Any] = {
        "command": "python benchmarks/search_cost.py " + shlex.join(argv or sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "shapes": rows,
        "within_25pct": f"{len(within)}/{len(rows)}",
    }
    if args.fit:
        doc["refit"] = refit(rows)
    text = json.dumps(doc)
    print(text)
    if args.out:
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
