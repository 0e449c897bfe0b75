"""Scaling of the labeling job: the in-memory engine, streaming, and Dask with 1 and 2 workers.

Usage::

    python benchmarks/scale.py --workdir /tmp/scale [--sizes 100k,1M,10M]
                               [--engines local,stream,dask1,dask2] [--chunk-rows 250000]
                               [--data ../shared/data/amazon_reviews/reviews.csv]

For each size the script generates (once, into ``--workdir``) a project of synthetic product
reviews: a category per row drawn with the categories' frequencies in the Amazon reviews file,
a title and a text drawn from that category's words (70%) and all reviews' words (30%), written as
Parquet files of 1M rows. The 50 LFs are those of ``benchmarks/apply_speed.py`` (40 keyword LFs
from category names, 10 regex LFs); 500 gold rows form the dev sample. Nothing is copied from the
data file: only word counts are taken from it.

Each engine runs ``labelcycle label`` end to end (apply, label model, probabilistic labels; no
cache) in a fresh child process, which reports wall time, rows/s and its peak memory (the
driver's; Dask workers and ``apply_lfs``'s forked pool are separate processes, reported apart
where measurable). Prints one JSON document (also written to ``--workdir/scale-<time>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "amazon_reviews" / "reviews.csv"
FILE_ROWS = 1_000_000
ENGINES = ("local", "stream", "dask1", "dask2")

_LFS = '''"""The 50 LFs of benchmarks/apply_speed.py, built from the reviews' category names."""
import sys

import pandas as pd

sys.path.insert(0, {bench!r})
from apply_speed import build_lfs  # noqa: E402

LFS, LABELS = build_lfs(pd.read_csv({data!r}, keep_default_na=False, dtype=str))
'''


def parse_size(text: str) -> int:
    """``"100k"`` -> 100000, ``"1M"`` -> 1000000."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()])


def _vocab(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    counts = texts.str.split().explode().value_counts()
    return counts.index.to_numpy(dtype=object), (counts / counts.sum()).to_numpy()


def generate(data: Path, folder: Path, n_rows: int, seed: int = 0) -> None:
    """Write ``n_rows`` synthetic reviews as Parquet files of 1M rows under ``folder / "data"``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = pd.read_csv(data, keep_default_na=False, dtype=str)
    classes = base["Cat2"].value_counts()
    names = classes.index.to_list()
    prior = (classes / classes.sum()).to_numpy()
    all_title, all_text = _vocab(base["Title"]), _vocab(base["Text"])
    per_class = {c: (_vocab(g["Title"]), _vocab(g["Text"])) for c, g in base.groupby("Cat2")}
    rng = np.random.default_rng(seed)
    out = folder / "data"
    out.mkdir(parents=True, exist_ok=True)

    def words(n: int, own: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray],
              lo: int, hi: int) -> list[str]:
        width = hi
        own_idx = rng.choice(len(own[0]), size=(n, width), p=own[1])
        other_idx = rng.choice(len(other[0]), size=(n, width), p=other[1])
        pick_own = rng.random((n, width)) < 0.7
        grid = np.where(pick_own, own[0][own_idx], other[0][other_idx])
        lengths = rng.integers(lo, hi + 1, size=n)
        return [" ".join(row[:k]) for row, k in zip(grid.tolist(), lengths.tolist(), strict=True)]

    for f, start in enumerate(range(0, n_rows, FILE_ROWS)):
        n = min(FILE_ROWS, n_rows - start)
        cls = rng.choice(len(names), size=n, p=prior)
        titles = np.empty(n, dtype=object)
        texts = np.empty(n, dtype=object)
        for c in np.unique(cls):
            rows = np.flatnonzero(cls == c)
            t_v, x_v = per_class[names[c]]
            titles[rows] = words(len(rows), t_v, all_title, 4, 10)
            texts[rows] = words(len(rows), x_v, all_text, 20, 60)
        table = pa.table({"id": [f"r{start + i}" for i in range(n)], "Title": titles.tolist(),
                          "Text": texts.tolist(), "Cat2": [names[c] for c in cls]})
        pq.write_table(table, out / f"part-{f:03d}.parquet", row_group_size=125_000)


def make_project(data: Path, folder: Path, n_rows: int) -> Path:
    """The project folder for ``n_rows`` (generated if its data is missing)."""
    if not (folder / "data").is_dir():
        generate(data, folder, n_rows)
    from apply_speed import build_lfs  # noqa: PLC0415 - benchmarks/ is on sys.path below

    _, labels = build_lfs(pd.read_csv(data, keep_default_na=False, dtype=str))
    (folder / "lfs.py").write_text(_LFS.format(bench=str(ROOT / "benchmarks"), data=str(data)))
    toml = (
        '[project]\nname = "scale"\nlabels = ' + json.dumps(labels) + "\n"
        '[data]\npath = "data/part-*.parquet"\nid_column = "id"\n'
        'text_columns = ["Title", "Text"]\nlabel_column = "Cat2"\n'
        "[dev]\nsample = 500\nseed = 0\n"
        '[lfs]\nmodules = ["lfs.py"]\n'
        "[apply]\ncache = false\nn_jobs = 0\n"
    )
    (folder / "labelcycle.toml").write_text(toml)
    return folder


def run_one(engine: str, root: Path, chunk_rows: int) -> dict:
    """One engine, end to end, in this process; returns its figures."""
    started = time.perf_counter()
    if engine == "local":
        from weak_supervision.pipeline import label_project
        from weak_supervision.project import load_project

        project = load_project(root)
        t_load = time.perf_counter() - started
        run = label_project(project, use_cache=False, n_jobs=0)
        timings = {"load": t_load, **run.timings}
        n = run.matrix.n_rows
        source = run.choice.chosen
    else:
        from weak_supervision.scaled import label_project_scaled

        workers = {"stream": None, "dask1": 1, "dask2": 2}[engine]
        run = label_project_scaled(root, engine="stream" if engine == "stream" else "dask",
                                   n_workers=workers, chunk_rows=chunk_rows, use_cache=False)
        timings, n, source = run.timings, run.n_rows, run.choice.chosen
    wall = time.perf_counter() - started
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"engine": engine, "rows": n, "wall_s": round(wall, 1),
            "rows_per_s": round(n / wall), "apply_rows_per_s": round(n / timings["apply"]),
            "peak_driver_mb": round(self_rss), "peak_child_mb": round(child_rss),
            "label_source": source, "timings": {k: round(v, 1) for k, v in timings.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, required=True,
                    help="where projects are generated and run (kept for re-runs)")
    ap.add_argument("--sizes", default="100k,1M", help="comma-separated, e.g. 100k,1M,10M")
    ap.add_argument("--engines", default=",".join(ENGINES), help="subset of " + ",".join(ENGINES))
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--run-one", help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if args.run_one:
        print(json.dumps(run_one(args.run_one, args.root, args.chunk_rows)))
        return
    if not args.data.is_file():
        sys.exit(f"data not found: {args.data} (pass --data)")
    engines = [e for e in args.engines.split(",") if e]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        sys.exit(f"unknown engine(s) {unknown}; choose from {', '.join(ENGINES)}")
    result: dict = {
        "command": "python benchmarks/scale.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]},
        "n_lfs": 50, "chunk_rows": args.chunk_rows, "runs": []}
    for size in [parse_size(s) for s in args.sizes.split(",") if s]:
        folder = make_project(args.data, args.workdir / f"rows-{size}", size)
        for engine in engines:
            cmd = [sys.executable, __file__, "--run-one", engine, "--root", str(folder),
                   "--chunk-rows", str(args.chunk_rows), "--workdir", str(args.workdir)]
            load = os.getloadavg()[0]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                entry = {"engine": engine, "rows": size, "error": proc.stderr.strip()[-2000:]}
            else:
                entry = json.loads(proc.stdout.strip().splitlines()[-1])
            entry["load_avg_before"] = round(load, 2)
            entry["rows_per_s_per_core"] = (
                round(entry["rows_per_s"] / (1 if engine == "dask1" else (os.cpu_count() or 1)))
                if "rows_per_s" in entry else None)
            result["runs"].append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
    result["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.workdir / f"scale-{stamp}.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
