"""Throughput of apply_lfs versus Snorkel's PandasLFApplier on 50 keyword/regex LFs.

Usage::

    python benchmarks/apply_speed.py [--data ../shared/data/amazon_reviews/reviews.csv]
                                     [--rows 505000] [--snorkel-rows 20000]

What it measures, on the Amazon reviews (Title, Text) replicated to ``--rows`` rows (each copy gets
trailing spaces so every row has its own content hash, as distinct rows would):

1. Snorkel's ``PandasLFApplier`` on the first ``--snorkel-rows`` rows (rows/s), and labelcycle's
   ``apply_lfs`` on the same rows: the two matrices must be equal.
2. ``apply_lfs`` on all rows, in one process and on all cores, without cache (rows/s). Each call
   starts from nothing: no cache, no memo, rows not deduplicated.
3. The cache: a cold run of the 50 LFs into an empty cache (it also stores a word index of each
   text column, posting lists built in the workers from the texts they fold anyway), then a
   re-run after adding one keyword LF (same process, same DataFrame: the row index of its
   pyarrow-backed columns is memoised; the 50 others are read from the cache, in row order;
   the new LF's votes are the union of its words' posting lists, no text is read); then the
   same after adding one regex LF whose literals are whole words (it scans only the rows holding
   them); then a re-run with everything cached.

"A full run" has two fair readings, both reported: the cold cached run (what the first
``labelcycle apply`` on a project costs: compute, hash, store) and the uncached all-cores run (the
fastest way to get the matrix at all). ``add_one_lf_share_of_uncached_all_cores`` is the stricter
figure; the cold cached run does no serial work in the parent beyond hashing and storing.

Prints one JSON document; the numbers in docs/benchmarks.md come from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labelfns import keyword_lf, regex_lf  # noqa: E402
from weak_supervision.apply import apply_lfs  # noqa: E402
from weak_supervision.cache import LFCache  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "amazon_reviews" / "reviews.csv"

REGEXES = [
    ("rx_weight", r"\b\d+(\.\d+)?\s?(oz|ounces?|lbs?|pounds?|grams?|kg)\b", "grocery"),
    ("rx_batteries", r"\b(aa|aaa|9v|lithium)\s+batter(y|ies)\b", "electronics"),
    ("rx_my_pet", r"\bmy\s+(dog|puppy|cat|kitten|bird|parrot|fish)s?\b", "pets"),
    ("rx_kid_age", r"\b(\d+|two|three|four|five)[- ]?(year|yr|month)[- ]?olds?\b", "baby"),
    ("rx_flavor", r"\b(flavou?rs?|tastes?|tasty|delicious)\b", "grocery"),
    ("rx_skin", r"\b(moisturi[sz](er|ing)|lotion|acne|wrinkles?)\b", "beauty"),
    ("rx_hair", r"\b(shampoo|conditioner|curl(s|y)?|frizz)\b", "beauty"),
    ("rx_assembly", r"\b(assembl(e|y|ed)|instructions)\b", "toys"),
    ("rx_size_fit", r"\b(fits?|size[ds]?)\s+(perfectly|great|small|large)\b", "clothing"),
    ("rx_not_recommend", r"\b(would\s+not|wouldn't|do\s+not|don't)\s+recommend\b", "other"),
]


def class_keywords(name: str) -> list[str]:
    """Keywords from a category name: its words, singular and plural."""
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if len(w) > 2 and w not in {"and", "the"}]
    out: list[str] = []
    for w in words:
        out.append(w)
        out.append(w[:-1] if w.endswith("s") else w + "s")
    return list(dict.fromkeys(out))


def build_lfs(df: pd.DataFrame, n_keyword: int = 40) -> tuple[list, list[str]]:
    classes = df["Cat2"].value_counts().index.tolist()
    labels = sorted(set(classes) | {lab for _, _, lab in REGEXES})
    lfs = []
    for cls in classes:
        kws = class_keywords(cls)
        if kws and len(lfs) < n_keyword:
            fields = ["Title", "Text"] if len(lfs) % 2 == 0 else ["Text"]
            lfs.append(keyword_lf(f"kw_{re.sub(r'[^a-z0-9]+', '_', cls.lower())}", kws, cls, fields=fields))
    for name, pattern, lab in REGEXES:
        lfs.append(regex_lf(name, pattern, lab, fields=["Text"]))
    return lfs, labels


def replicate(df: pd.DataFrame, n_rows: int) -> pd.DataFrame:
    copies = -(-n_rows // len(df))
    parts = []
    for k in range(copies):
        part = df.copy()
        if k:
            part["Text"] = part["Text"] + " " * k
        parts.append(part)
    return pd.concat(parts, ignore_index=True).iloc[:n_rows].reset_index(drop=True)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--rows", type=int, default=505_000)
    ap.add_argument("--snorkel-rows", type=int, default=20_000)
    args = ap.parse_args()
    if not args.data.is_file():
        sys.exit(f"data not found: {args.data} (pass --data)")

    from snorkel.labeling import PandasLFApplier

    base = pd.read_csv(args.data, keep_default_na=False, dtype=str)[["Title", "Text", "Cat2"]]
    lfs, labels = build_lfs(base)
    assert len(lfs) == 50, len(lfs)
    data = replicate(base[["Title", "Text"]], args.rows)
    bound = [lf.bind(labels) for lf in lfs]
    result: dict = {"command": "python benchmarks/apply_speed.py " + " ".join(sys.argv[1:]),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                    "n_lfs": len(lfs), "n_rows": len(data)}

    # 1. Snorkel versus labelcycle on the same rows and LF objects.
    small = data.iloc[: args.snorkel_rows]
    L_snorkel, t_snorkel = timed(lambda: PandasLFApplier(bound).apply(small, progress_bar=False))
    lm_small, t_small = timed(lambda: apply_lfs(lfs, small, labels=labels, n_jobs=1))
    equal = bool(np.array_equal(lm_small.L, L_snorkel))
    result["snorkel"] = {"rows": len(small), "seconds": round(t_snorkel, 2),
                         "rows_per_s": round(len(small) / t_snorkel)}
    result["labelcycle_same_rows_1proc"] = {"seconds": round(t_small, 3),
                                            "rows_per_s": round(len(small) / t_small)}
    result["equal_to_snorkel"] = equal

    # 2. All rows, no cache.
    lm1, t1 = timed(lambda: apply_lfs(lfs, data, labels=labels, n_jobs=1))
    lmN, tN = timed(lambda: apply_lfs(lfs, data, labels=labels, n_jobs=0))
    same = bool(np.array_equal(lm1.L, lmN.L))
    periodic = bool(np.array_equal(lm1.L[: len(small)], lm_small.L))
    snork_rate = len(small) / t_snorkel
    result["labelcycle_1proc"] = {"seconds": round(t1, 2), "rows_per_s": round(len(data) / t1),
                                  "speedup_vs_snorkel": round(len(data) / t1 / snork_rate, 1)}
    result["labelcycle_all_cores"] = {"seconds": round(tN, 2), "rows_per_s": round(len(data) / tN),
                                      "speedup_vs_snorkel": round(len(data) / tN / snork_rate, 1)}
    result["parallel_equals_single"] = same and periodic

    # 3. Cache: cold run, then one LF added.
    with tempfile.TemporaryDirectory() as tmp:
        cache = LFCache(tmp)
        _, t_cold = timed(lambda: apply_lfs(lfs, data, labels=labels, cache=cache, n_jobs=0))
        extra = keyword_lf("kw_extra_gift", ["gift", "present", "birthday"], labels[0], fields=["Text"])
        lm_add, t_add = timed(lambda: apply_lfs(lfs + [extra], data, labels=labels, cache=cache, n_jobs=0))
        extra_rx = regex_lf("rx_extra_gift_card", r"\bgift\s+cards?\b", labels[0], fields=["Text"])
        lm_rx, t_rx = timed(lambda: apply_lfs(lfs + [extra_rx], data, labels=labels, cache=cache,
                                              n_jobs=0))
        _, t_warm = timed(lambda: apply_lfs(lfs, data, labels=labels, cache=cache, n_jobs=0))
        index_mb = sum(p.stat().st_size for p in Path(tmp).glob("words/*/*")) / 2**20
    # The new LFs' columns (computed from word-index candidates) against Snorkel on the first rows.
    new_ok = all(bool(np.array_equal(lm.L[: len(small), 50], PandasLFApplier([lf.bind(labels)]).apply(
        small, progress_bar=False)[:, 0])) for lm, lf in ((lm_add, extra), (lm_rx, extra_rx)))
    result["cache"] = {"cold_seconds": round(t_cold, 2), "add_one_lf_seconds": round(t_add, 2),
                       "add_one_lf_share_of_cold": round(t_add / t_cold, 4),
                       "add_one_lf_share_of_uncached_all_cores": round(t_add / tN, 4),
                       "add_one_regex_lf_seconds": round(t_rx, 2),
                       "add_one_regex_lf_share_of_cold": round(t_rx / t_cold, 4),
                       "add_one_regex_lf_share_of_uncached_all_cores": round(t_rx / tN, 4),
                       "word_index_mb": round(index_mb, 1),
                       "new_lf_columns_equal_snorkel_on_first_rows": new_ok,
                       "all_cached_seconds": round(t_warm, 2),
                       "cached_columns_equal": bool(np.array_equal(lm_add.L[:, :50], lm1.L))}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
