"""Label models on WRENCH data sets: majority vote, stock Snorkel and labelcycle's choice.

Usage::

    python benchmarks/wrench.py DIR [DIR ...] [--seed 123] [--snorkel-seeds 0 1 2 3 4]
                                              [--keep-exemplars]

e.g. ``python benchmarks/wrench.py ../shared/data/wrench_youtube ../shared/data/wrench_sms
../shared/data/wrench_trec``.

Each ``DIR`` holds WRENCH-format splits: ``train.json`` (optional), ``valid.json`` and
``test.json``, each one JSON object ``{"<id>": {"label": int, "weak_labels": [int, ...],
"data": {...}}}`` (``weak_labels`` are the precomputed LF votes, -1 = abstain), and optionally
``label.json`` (class id -> name). The protocol:

- the label models are fitted on ``train.json`` (on ``valid.json`` when there is no train split);
  copies of WRENCH that append labelled exemplars to ``train.json`` (``youtube``: ids >= 1586,
  ``trec``: ids >= 4965; see :data:`STANDARD_TRAIN_SIZES`) get them dropped, so the train split is
  the standard one, unless ``--keep-exemplars``;
- ``valid.json``'s labels are the dev set (the only gold labels any method sees); ``test.json`` is
  only scored;
- ``majority``: labelcycle's :class:`MajorityVote` (ties to the lowest class index);
  ``snorkel``: stock ``snorkel.labeling.model.LabelModel(cardinality=k).fit(L_train)`` with its
  default arguments. Its default seed is drawn at random when snorkel is imported, so it is run
  once per ``--snorkel-seeds`` seed and the mean is reported (with the range);
  ``labelcycle``: :func:`select_label_model` with the dev set and its defaults (its ``params``
  are the label model's chosen settings, ``reason`` says why it or majority vote was chosen);
- the votes are checked against the rows where the folder's ``readme.txt`` lists the LFs as
  regular expressions (``CLASS<TAB>REGEX<TAB>example`` lines, the Learning-From-Rules format of
  ``sms`` and ``trec``): the rules are applied to each split's lower-cased texts
  (:func:`rederive_votes`) and the share of rows whose stored votes they reproduce is reported
  under ``votes``. When the rules reproduce the fitting split (at least 99% of its rows) but not
  another split (under 90%), that split's stored votes do not belong to its rows and are replaced
  by the re-derived ones (``--votes stored`` keeps them; both runs are worth reporting);
- predictions are the argmax of each model's probabilities (ties to the lowest class index);
  ``accuracy`` and ``macro_f1`` are computed on the test rows at least one LF votes on (the same
  rows for every method: the others get no label from any of them), ``all_rows`` counts the
  uncovered rows as wrong (labelcycle's convention in :mod:`weak_supervision.metrics`).

Prints one JSON line per data set; a summary (means over the data sets, and whether labelcycle's
choice is at least the better of the other two on each) goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labelfns.errors import DataError  # noqa: E402
from weak_supervision.label_model import MajorityVote, select_label_model  # noqa: E402
from weak_supervision.metrics import score  # noqa: E402

STANDARD_TRAIN_SIZES: dict[str, int] = {"youtube": 1586, "sms": 4571, "trec": 4965}
"""WRENCH's train split sizes (README); rows with larger integer ids are appended exemplars."""

DEFAULT_SNORKEL_SEEDS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Split:
    """One WRENCH split: ids, texts, LF votes ``L`` (rows x LFs) and gold labels ``y``."""

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    L: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class WrenchDataset:
    """A WRENCH data set: its name, class names, splits and the appended exemplars dropped."""

    name: str
    labels: tuple[str, ...]
    train: Split | None
    valid: Split
    test: Split
    dropped: int = 0


def read_split(path: Path) -> Split:
    """Read one WRENCH split file, rows ordered by integer id when the ids are integers.

    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "valid.json"
    >>> _ = p.write_text(json.dumps({"1": {"label": 1, "weak_labels": [1, -1], "data": {"text": "b"}},
    ...                              "0": {"label": 0, "weak_labels": [0, 0], "data": {"text": "a"}}}))
    >>> s = read_split(p)
    >>> s.ids, s.L.tolist(), s.y.tolist()
    (('0', '1'), [[0, 0], [1, -1]], [0, 1])
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"WRENCH split {path} not found") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{path} must hold a non-empty JSON object {{id: {{label, weak_labels, data}}}}")
    keys = list(raw)
    if all(k.lstrip("-").isdigit() for k in keys):
        keys.sort(key=int)
    rows, texts, labels = [], [], []
    width = None
    for key in keys:
        item = raw[key]
        if not isinstance(item, dict) or "weak_labels" not in item or "label" not in item:
            raise DataError(f"{path}: entry {key!r} needs 'label' and 'weak_labels'")
        votes = item["weak_labels"]
        if width is None:
            width = len(votes)
        if len(votes) != width:
            raise DataError(f"{path}: entry {key!r} has {len(votes)} weak labels, the first had {width}")
        rows.append(votes)
        labels.append(item["label"])
        data = item.get("data") or {}
        texts.append(str(data.get("text", "")) if isinstance(data, dict) else str(data))
    return Split(tuple(keys), tuple(texts), np.asarray(rows, dtype=np.int64).reshape(len(keys), width or 0),
                 np.asarray(labels, dtype=np.int64))


def _subset(split: Split, keep: np.ndarray) -> Split:
    return Split(tuple(np.asarray(split.ids)[keep]), tuple(np.asarray(split.texts, dtype=object)[keep]),
                 split.L[keep], split.y[keep])


def read_dataset(folder: str | Path, *, keep_exemplars: bool = False) -> WrenchDataset:
    """Read a WRENCH data set folder (``train.json`` optional, ``valid.json``, ``test.json``).

    Parameters
    ----------
    folder : path-like
        The data set folder; its name without a ``wrench_`` prefix is the data set's name.
    keep_exemplars : bool, default False
        Keep train rows beyond the standard split size (see :data:`STANDARD_TRAIN_SIZES`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = write_synthetic(pathlib.Path(tempfile.mkdtemp()) / "wrench_toy", n=40)
    >>> ds = read_dataset(d)
    >>> ds.name, ds.labels, ds.train.L.shape[1] == ds.test.L.shape[1]
    ('toy', ('neg', 'pos'), True)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"WRENCH data set folder {folder} not found")
    name = folder.name.removeprefix("wrench_")
    train = read_split(folder / "train.json") if (folder / "train.json").is_file() else None
    valid = read_split(folder / "valid.json")
    test = read_split(folder / "test.json")
    dropped = 0
    size = STANDARD_TRAIN_SIZES.get(name)
    if train is not None and size is not None and not keep_exemplars \
            and all(i.isdigit() for i in train.ids):
        keep = np.array([int(i) < size for i in train.ids])
        dropped = int((~keep).sum())
        if dropped:
            train = _subset(train, keep)
    n_lfs = {s.L.shape[1] for s in (train, valid, test) if s is not None}
    if len(n_lfs) != 1:
        raise DataError(f"{folder}: the splits have different numbers of LFs: {sorted(n_lfs)}")
    k = int(max(int(s.y.max()) for s in (train, valid, test) if s is not None and s.y.size)) + 1
    k = max(k, int(max(s.L.max() for s in (train, valid, test) if s is not None and s.L.size)) + 1)
    labels = tuple(str(i) for i in range(k))
    if (folder / "label.json").is_file():
        names = json.loads((folder / "label.json").read_text(encoding="utf-8"))
        labels = tuple(str(names.get(str(i), i)) for i in range(max(k, len(names))))
    return WrenchDataset(name, labels, train, valid, test, dropped)


RULES_REPRODUCE_FIT = 0.99
"""The share of the fitting split's rows the readme's rules must reproduce to be trusted."""
STORED_VOTES_FIT = 0.90
"""A split whose stored votes match the trusted rules on fewer rows than this gets the rules' votes."""


def read_rules(folder: str | Path, labels: tuple[str, ...]) -> list[tuple[int, re.Pattern[str]]] | None:
    """The LFs listed in ``folder/readme.txt`` as ``CLASS<TAB>REGEX[<TAB>example]`` lines.

    ``CLASS`` is matched to a class name by its first three letters, case-insensitively
    (``ENTITY`` -> ``ENTY``, ``spam`` -> ``spam``). Returns ``None`` when there is no readme, no
    such line, a class that matches no name or more than one, or a regex that does not compile.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "readme.txt").write_text(
    ...     "intro\\nspam\\t( |^)(free)[^\\w]*( |$)\\tfree!\\nham\\t( |^)(ok)( |$)\\n")
    >>> [(c, r.pattern) for c, r in read_rules(d, ("ham", "spam"))]
    [(1, '( |^)(free)[^\\\\w]*( |$)'), (0, '( |^)(ok)( |$)')]
    """
    path = Path(folder) / "readme.txt"
    if not path.is_file():
        return None
    prefixes: dict[str, list[int]] = {}
    for i, name in enumerate(labels):
        prefixes.setdefault(name[:3].lower(), []).append(i)
    rules: list[tuple[int, re.Pattern[str]]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or " " in parts[0].strip():
            continue
        owners = prefixes.get(parts[0].strip()[:3].lower(), [])
        if len(owners) != 1:
            return None
        try:
            rules.append((owners[0], re.compile(parts[1])))
        except re.error:
            return None
    return rules or None


def rederive_votes(rules: list[tuple[int, re.Pattern[str]]], texts: tuple[str, ...]) -> np.ndarray:
    """The rules' votes on the lower-cased ``texts`` (rows x rules, -1 = abstain).

    >>> rederive_votes([(1, re.compile("free")), (0, re.compile("^ok"))], ("Free now", "ok", "x")).tolist()
    [[1, -1], [-1, 0], [-1, -1]]
    """
    out = np.full((len(texts), len(rules)), -1, dtype=np.int64)
    for i, text in enumerate(texts):
        low = text.lower()
        for j, (cls, rule) in enumerate(rules):
            if rule.search(low):
                out[i, j] = cls
    return out


def check_votes(ds: WrenchDataset, rules: list[tuple[int, re.Pattern[str]]] | None, *,
                replace: bool = True) -> tuple[WrenchDataset, dict[str, Any] | None]:
    """Compare each split's stored votes with the readme's rules; replace the votes that do not fit.

    Returns the data set (with re-derived votes on the splits whose stored ones do not belong to
    their rows, when the rules reproduce the fitting split and ``replace``) and a report: per
    split, the share of rows whose stored votes the rules reproduce, and the splits replaced.
    """
    if rules is None or len(rules) != ds.valid.L.shape[1]:
        return ds, None
    splits = {"train": ds.train, "valid": ds.valid, "test": ds.test}
    derived = {name: rederive_votes(rules, s.texts) for name, s in splits.items() if s is not None}
    matching = {name: round(float((derived[name] == splits[name].L).all(axis=1).mean()), 4)
                for name in derived}
    fit = "train" if ds.train is not None else "valid"
    trusted = matching[fit] >= RULES_REPRODUCE_FIT
    replaced = [name for name in derived
                if replace and trusted and name != fit and matching[name] < STORED_VOTES_FIT]
    report = {"checked_with": "readme.txt rules", "rows_matching_stored": matching,
              "rules_trusted": trusted, "replaced": replaced}
    if not replaced:
        return ds, report
    new = {name: Split(s.ids, s.texts, derived[name], s.y) if name in replaced else s
           for name, s in splits.items() if s is not None}
    return WrenchDataset(ds.name, ds.labels, new.get("train"), new["valid"], new["test"],
                         ds.dropped), report


def _hard(probs: np.ndarray) -> np.ndarray:
    return np.argmax(probs, axis=1).astype(np.int64)


def _figures(y: np.ndarray, pred: np.ndarray, covered: np.ndarray) -> dict[str, Any]:
    on = score(y[covered], pred[covered]) if covered.any() else None
    everywhere = score(y, np.where(covered, pred, -1))
    return {
        "accuracy": round(on.accuracy, 4) if on else None,
        "macro_f1": round(on.macro_f1, 4) if on else None,
        "all_rows": {"accuracy": round(everywhere.accuracy, 4),
                     "macro_f1": round(everywhere.macro_f1, 4)},
    }


@contextlib.contextmanager
def _quiet():
    """Silence Snorkel's logging, tqdm bars and warnings."""
    level = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(level)


def stock_snorkel(L_train: np.ndarray, L_test: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Test probabilities of ``snorkel.labeling.model.LabelModel(cardinality=k).fit(L_train)``.

    Only the seed (random at import by default) and the progress bar are set.
    """
    from snorkel.labeling.model import LabelModel as SnorkelLabelModel

    with _quiet():
        model = SnorkelLabelModel(cardinality=k, verbose=False)
        model.fit(L_train, seed=seed, progress_bar=False)
        return model.predict_proba(L_test)


def evaluate_dataset(ds: WrenchDataset, *, seed: int = 123,
                     snorkel_seeds: tuple[int, ...] = DEFAULT_SNORKEL_SEEDS,
                     votes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The three methods' test figures on one data set (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ds = read_dataset(write_synthetic(pathlib.Path(tempfile.mkdtemp()) / "toy", n=200))
    >>> row = evaluate_dataset(ds, snorkel_seeds=(0,))
    >>> sorted(row["majority"]), {"chosen", "reason"} <= set(row["labelcycle"])
    (['accuracy', 'all_rows', 'macro_f1'], True)
    """
    started = time.perf_counter()
    train = ds.train if ds.train is not None else ds.valid
    k = len(ds.labels)
    test_cov = (ds.test.L != -1).any(axis=1)

    majority = MajorityVote(k).fit(train.L)
    row: dict[str, Any] = {
        "dataset": ds.name,
        "n_train": int(train.L.shape[0]),
        "fit_on": "train" if ds.train is not None else "valid",
        "dropped_exemplars": ds.dropped,
        "n_dev": int(ds.valid.L.shape[0]),
        "n_test": int(ds.test.L.shape[0]),
        "n_lfs": int(train.L.shape[1]),
        "classes": list(ds.labels),
        "test_coverage": round(float(test_cov.mean()), 4),
        "majority": _figures(ds.test.y, _hard(majority.predict_proba(ds.test.L)), test_cov),
    }
    if votes is not None:
        row["votes"] = votes

    runs = [_figures(ds.test.y, _hard(stock_snorkel(train.L, ds.test.L, k, s)), test_cov)
            for s in snorkel_seeds]
    snorkel: dict[str, Any] = {}
    for key in ("accuracy", "macro_f1"):
        values = [r[key] for r in runs if r[key] is not None]
        snorkel[key] = round(float(np.mean(values)), 4) if values else None
        snorkel[f"{key}_range"] = [min(values), max(values)] if values else None
    snorkel["all_rows"] = {key: round(float(np.mean([r["all_rows"][key] for r in runs])), 4)
                           for key in ("accuracy", "macro_f1")}
    snorkel["seeds"] = list(snorkel_seeds)
    row["snorkel"] = snorkel

    with _quiet():
        choice = select_label_model(train.L, cardinality=k, Y_dev=ds.valid.y, L_dev=ds.valid.L,
                                    seed=seed)
    chosen = choice.model
    lc = _figures(ds.test.y, _hard(chosen.predict_proba(ds.test.L)), test_cov)
    lc["chosen"] = choice.chosen
    if choice.chosen == "label_model":
        lc["params"] = dict(chosen.best_params_)
    lc["reason"] = choice.reason
    row["labelcycle"] = lc
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def write_synthetic(folder: str | Path, *, n: int = 300, n_lfs: int = 6, k: int = 2,
                    seed: int = 0) -> Path:
    """Write a small WRENCH-format data set (train/valid/test, label.json) for tests and demos.

    LF ``j`` votes on about 40% of the rows, right with probability 0.65 to 0.9.

    >>> import tempfile, pathlib
    >>> d = write_synthetic(pathlib.Path(tempfile.mkdtemp()) / "toy", n=30)
    >>> sorted(p.name for p in d.iterdir())
    ['label.json', 'test.json', 'train.json', 'valid.json']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    acc = np.linspace(0.65, 0.9, n_lfs)
    names = ["neg", "pos"] if k == 2 else [f"c{i}" for i in range(k)]
    for split, rows in (("train", n), ("valid", max(n // 5, 10)), ("test", max(n // 5, 10))):
        y = rng.integers(0, k, rows)
        votes = rng.random((rows, n_lfs)) < 0.4
        right = rng.random((rows, n_lfs)) < acc
        wrong = (y[:, None] + rng.integers(1, k, (rows, n_lfs))) % k
        L = np.where(votes, np.where(right, y[:, None], wrong), -1)
        data = {str(i): {"label": int(y[i]), "weak_labels": [int(v) for v in L[i]],
                         "data": {"text": f"row {i} of {split}"}} for i in range(rows)}
        (folder / f"{split}.json").write_text(json.dumps(data), encoding="utf-8")
    (folder / "label.json").write_text(json.dumps({str(i): c for i, c in enumerate(names)}),
                                       encoding="utf-8")
    return folder


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over data sets and, per metric, where labelcycle is below the better of the others.

    >>> r = {"dataset": "x", "majority": {"accuracy": 0.5, "macro_f1": 0.5},
    ...      "snorkel": {"accuracy": 0.6, "macro_f1": 0.4}, "labelcycle": {"accuracy": 0.6, "macro_f1": 0.5}}
    >>> summarize([r])["below_best"]
    {'accuracy': [], 'macro_f1': []}
    """
    out: dict[str, Any] = {"mean": {}, "below_best": {}}
    for key in ("accuracy", "macro_f1"):
        out["mean"][key] = {m: round(float(np.mean([r[m][key] for r in rows])), 4)
                            for m in ("majority", "snorkel", "labelcycle")}
        out["below_best"][key] = [
            r["dataset"] for r in rows
            if r["labelcycle"][key] < max(r["majority"][key], r["snorkel"][key])]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="WRENCH data set folders")
    parser.add_argument("--seed", type=int, default=123, help="labelcycle's label model seed")
    parser.add_argument("--snorkel-seeds", type=int, nargs="+", default=list(DEFAULT_SNORKEL_SEEDS),
                        help="seeds of the stock Snorkel runs (mean reported)")
    parser.add_argument("--keep-exemplars", action="store_true",
                        help="keep exemplar rows appended to train.json")
    parser.add_argument("--votes", choices=("auto", "stored"), default="auto",
                        help="auto: replace stored votes that the readme's rules show do not "
                             "belong to their rows; stored: use them as they are")
    args = parser.parse_args(argv)
    rows = []
    for folder in args.folders:
        try:
            ds = read_dataset(folder, keep_exemplars=args.keep_exemplars)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        ds, votes = check_votes(ds, read_rules(folder, ds.labels), replace=args.votes == "auto")
        row = evaluate_dataset(ds, seed=args.seed, snorkel_seeds=tuple(args.snorkel_seeds),
                               votes=votes)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if rows:
        print(json.dumps({"summary": summarize(rows)}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
