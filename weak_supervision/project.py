"""A labelcycle project: its configuration, its rows, their ids and the hidden gold labels.

A project is a folder holding ``labelcycle.toml``. Beside the configuration sits the workspace,
``.labelcycle/`` (the LF cache, ``runs/``, ``registry.sqlite``), created by
:func:`ensure_workspace` when something is first written, never by loading.

Example
-------
>>> import tempfile
>>> root = init_project(tempfile.mkdtemp())
>>> project = load_project(root)
>>> project.labels
('billing', 'shipping', 'product')
>>> len(project.ids) == len(project.data) == len(project.gold), "label" in project.data.columns
(True, False)
>>> int(project.dev_mask.sum())
60
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelfns.errors import ConfigError, DataError
from weak_supervision.config import CONFIG_NAME, ProjectConfig, ensure_data, load_config
from weak_supervision.io import fingerprint_frame, read_table, write_text

__all__ = [
    "WORKSPACE_NAME",
    "Project",
    "load_project",
    "ensure_workspace",
    "make_ids",
    "init_project",
]

WORKSPACE_NAME = ".labelcycle"
"""The name of the workspace folder beside ``labelcycle.toml``."""


@dataclass(frozen=True, eq=False)
class Project:
    """A loaded project; arrays are aligned with the rows of ``data``.

    Attributes
    ----------
    config : ProjectConfig
        The parsed ``labelcycle.toml``.
    root : Path
        The project folder.
    workspace : Path
        ``root / ".labelcycle"``; may not exist yet (see :func:`ensure_workspace`).
    labels : tuple of str
        The class names; class index ``i`` is ``labels[i]``.
    data : pandas.DataFrame
        What labeling functions see: every column of the data file except the gold label
        column(s), plus ``text`` (the ``text_columns`` joined with ``"\\n"``, nulls as ``""``).
        With ``[dev] path``, the dev file's rows follow the data file's rows.
    ids : numpy.ndarray of str
        One unique id a row (see :func:`make_ids`).
    dev_mask : numpy.ndarray of bool
        The rows of the dev set.
    y_dev : numpy.ndarray of int
        Class index on dev rows, -1 elsewhere.
    gold : numpy.ndarray of int
        Class index wherever a gold label is known, -1 elsewhere; for evaluation only, never
        shown to labeling functions. All -1 for the ``pii`` task (span gold is read elsewhere).
    lf_modules : tuple of (Path or str)
        LF module files (resolved paths) or dotted module names, as configured.
    data_fingerprint : str
        SHA-256 of ``data`` and ``ids``; changes when anything an LF can see changes.
    """

    config: ProjectConfig
    root: Path
    workspace: Path
    labels: tuple[str, ...]
    data: pd.DataFrame
    ids: np.ndarray
    dev_mask: np.ndarray
    y_dev: np.ndarray
    gold: np.ndarray
    lf_modules: tuple[Path | str, ...]
    data_fingerprint: str

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return len(self.ids)

    @property
    def name(self) -> str:
        """The project's name (``[project] name``, else the folder's name)."""
        return self.config.project.name or self.root.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: name, task, labels, row counts and fingerprints."""
        return {
            "name": self.name,
            "root": str(self.root),
            "task": self.config.project.task,
            "labels": list(self.labels),
            "n_rows": self.n_rows,
            "n_dev": int(self.dev_mask.sum()),
            "n_gold": int((self.gold >= 0).sum()),
            "lf_modules": [str(m) for m in self.lf_modules],
            "data_fingerprint": self.data_fingerprint,
            "config_fingerprint": self.config.fingerprint,
        }


def ensure_workspace(project: Project | str | os.PathLike[str]) -> Path:
    """Create the workspace folder (and ``runs/``) if needed and return its path.

    The workspace gets a ``.gitignore`` holding ``*`` so it is never committed by accident.

    Parameters
    ----------
    project : Project or path-like
        A loaded project, or the project folder.

    Examples
    --------
    >>> import tempfile
    >>> ws = ensure_workspace(tempfile.mkdtemp())
    >>> ws.name, (ws / "runs").is_dir()
    ('.labelcycle', True)
    """
    root = project.root if isinstance(project, Project) else Path(project)
    workspace = root / WORKSPACE_NAME
    (workspace / "runs").mkdir(parents=True, exist_ok=True)
    ignore = workspace / ".gitignore"
    if not ignore.exists():
        write_text(ignore, "*\n")
    return workspace


def make_ids(texts: Any) -> np.ndarray:
    """Stable content ids: the first 16 hex digits of SHA-1 of each text.

    Repeated texts get ``-2``, ``-3``, ... in order of appearance, so ids are unique and do not
    depend on row order for distinct texts.

    >>> make_ids(["a", "b", "a"]).tolist()
    ['86f7e437faa5a7fc', 'e9d71f5ee7c92d6d', '86f7e437faa5a7fc-2']
    """
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        base = hashlib.sha1(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        count = seen.get(base, 0) + 1
        seen[base] = count
        out.append(base if count == 1 else f"{base}-{count}")
    return np.array(out, dtype=str)


def load_project(path_or_dir: str | os.PathLike[str]) -> Project:
    """Load a project: its configuration, rows, ids, dev set and gold labels.

    Parameters
    ----------
    path_or_dir : path-like
        The project folder or its ``labelcycle.toml``.

    Returns
    -------
    Project

    Raises
    ------
    ConfigError
        The configuration is missing or invalid, or an LF module file is missing.
    DataError
        A data or dev file is missing, unreadable, empty or lacks a column; ids repeat; a gold
        label is not in the label set; ``[dev] sample`` asks for more rows than are labelled.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "labelcycle.toml").write_text(
    ...     '[project]\\nlabels = ["neg", "pos"]\\n'
    ...     '[data]\\npath = "d.csv"\\nlabel_column = "label"\\n[dev]\\nsample = 1\\n')
    >>> _ = (root / "d.csv").write_text("text,label\\nbad,neg\\ngood,\\nfine,pos\\n")
    >>> p = load_project(root)
    >>> list(p.data.columns), p.gold.tolist(), int(p.dev_mask.sum())
    (['text'], [0, -1, 1], 1)
    """
    config = load_config(path_or_dir)
    ensure_data(config)  # a [data] generator writes the data file when it is absent
    root = config.root
    data_cfg, dev_cfg = config.data, config.dev
    labels = config.project.labels
    label_cols = [c for c in dict.fromkeys([data_cfg.label_column, dev_cfg.label_column]) if c]
    keep_text = [*data_cfg.text_columns, *([data_cfg.id_column] if data_cfg.id_column else []),
                 *label_cols]

    data_path = root / data_cfg.path
    required = [*data_cfg.text_columns, *([data_cfg.id_column] if data_cfg.id_column else [])]
    if data_cfg.label_column:
        required.append(data_cfg.label_column)
    if dev_cfg.sample is not None and dev_cfg.label_column:
        required.append(dev_cfg.label_column)
    sources: list[tuple[Path, int, int]] = []
    frames = []
    for path in _data_files(data_path, config.path):
        part = read_table(path, columns=list(dict.fromkeys(required)), text_columns=keep_text)
        sources.append((path, sum(len(f) for f in frames), len(part)))
        frames.append(part)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    n_data = len(frame)

    gold_values = _column_or_empty(frame, data_cfg.label_column)
    dev_mask = np.zeros(n_data, dtype=bool)
    y_dev_values = pd.Series([None] * n_data, dtype=object)

    if dev_cfg.path is not None:
        dev_path = root / dev_cfg.path
        hidden_data = [c for c in label_cols if c in frame.columns]
        dev_required = [c for c in frame.columns if c not in hidden_data] + [dev_cfg.label_column]
        dev = read_table(dev_path, columns=dev_required, text_columns=keep_text, what="dev file")
        dev_labels = dev[dev_cfg.label_column]
        empty = [i for i, v in enumerate(dev_labels) if _is_missing(v)]
        if empty:
            raise DataError(
                f"dev file {dev_path}: row {empty[0] + 1} has no value in label column "
                f"{dev_cfg.label_column!r} ({len(empty)} such rows); every dev row needs a label"
            )
        visible = [c for c in frame.columns if c not in hidden_data]
        frame = pd.concat([frame[visible], dev[visible]], ignore_index=True)
        gold_values = pd.concat([gold_values, dev_labels.astype(object)], ignore_index=True)
        y_dev_values = pd.concat([y_dev_values, dev_labels.astype(object)], ignore_index=True)
        dev_mask = np.concatenate([dev_mask, np.ones(len(dev), dtype=bool)])
        sources.append((dev_path, n_data, len(dev)))

    hidden = set(label_cols) | set(data_cfg.hide_columns)
    missing_hidden = [c for c in data_cfg.hide_columns if c not in frame.columns]
    if missing_hidden:
        raise DataError(f"{data_path}: [data] hide_columns names {missing_hidden}, which the data "
                        f"does not have; columns: {', '.join(map(str, frame.columns))}")
    overlap = set(data_cfg.hide_columns) & set(data_cfg.text_columns)
    if overlap:
        raise DataError(f"{data_path}: {sorted(overlap)} is in both text_columns and hide_columns")
    visible = [c for c in frame.columns if c not in hidden]
    data = frame[visible].copy()
    if "text" in data.columns and "text" not in data_cfg.text_columns:
        warnings.warn(
            f"{data_path}: the column 'text' is replaced by the joined text_columns "
            f"{list(data_cfg.text_columns)} in what labeling functions see; rename it to keep it",
            stacklevel=2,
        )
        data = data.drop(columns="text")
    data["text"] = _join_text(frame, data_cfg.text_columns)

    ids = _ids(frame, data_cfg.id_column, data["text"], sources)
    row_names = ids if data_cfg.id_column else None

    if config.project.task == "classification":
        y_dev = _encode(y_dev_values, labels, dev_cfg.label_column, sources, row_names)
        gold = _encode(gold_values, labels, data_cfg.label_column, sources, row_names)
        if dev_cfg.sample is not None:
            sample_values = _column_or_empty(frame.iloc[:n_data], dev_cfg.label_column)
            sample_codes = _encode(sample_values, labels, dev_cfg.label_column, sources, row_names)
            dev_mask = _sample_dev(sample_codes, dev_cfg.sample, dev_cfg.seed, data_path)
            y_dev = np.where(dev_mask, sample_codes, -1)
    else:
        gold = np.full(len(frame), -1, dtype=np.int64)
        y_dev = np.full(len(frame), -1, dtype=np.int64)
        if dev_cfg.sample is not None:
            has = ~np.array([_is_missing(v) for v in
                             _column_or_empty(frame, dev_cfg.label_column)], dtype=bool)
            dev_mask = _sample_dev(np.where(has, 0, -1), dev_cfg.sample, dev_cfg.seed, data_path)

    fingerprint = fingerprint_frame(data.assign(__id__=ids))
    return Project(
        config=config,
        root=root,
        workspace=root / WORKSPACE_NAME,
        labels=labels,
        data=data,
        ids=ids,
        dev_mask=dev_mask,
        y_dev=y_dev.astype(np.int64),
        gold=gold.astype(np.int64),
        lf_modules=_resolve_modules(config),
        data_fingerprint=fingerprint,
    )


def _data_files(path: Path, config_path: Path) -> list[Path]:
    """The data file, or the files a glob pattern (``*``, ``?``, ``[``) in ``[data] path`` matches,
    sorted by name; their rows are read in that order."""
    if not any(ch in path.name for ch in "*?["):
        return [path]
    matches = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    if not matches:
        raise DataError(
            f"{config_path}: [data] path {path} matches no file; check the folder and the pattern"
        )
    return matches


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _column_or_empty(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in frame.columns:
        return pd.Series([None] * len(frame), dtype=object)
    return frame[column].astype(object).reset_index(drop=True)


def _join_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    parts = [frame[c].map(lambda v: "" if _is_null(v) else str(v)) for c in columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + "\n" + part
    return text.astype(str)


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _where(i: int, sources: list[tuple[Path, int, int]], row_names: np.ndarray | None) -> str:
    """Human-readable location of combined row ``i``: file and 1-based row (and id)."""
    for path, start, _length in reversed(sources):
        if i >= start:
            text = f"{path}: row {i - start + 1}"
            if row_names is not None:
                text += f" (id {str(row_names[i])!r})"
            return text
    return f"row {i + 1}"


def _encode(
    values: pd.Series,
    labels: tuple[str, ...],
    column: str | None,
    sources: list[tuple[Path, int, int]],
    row_names: np.ndarray | None,
) -> np.ndarray:
    """Class indices of ``values`` (-1 where missing); unknown values raise DataError."""
    index = {label: i for i, label in enumerate(labels)}
    codes = np.full(len(values), -1, dtype=np.int64)
    bad: list[int] = []
    for i, value in enumerate(values):
        if _is_missing(value):
            continue
        key = _label_text(value)
        if key in index:
            codes[i] = index[key]
        else:
            bad.append(i)
    if bad:
        first = bad[0]
        more = f" ({len(bad) - 1} more rows have unknown labels)" if len(bad) > 1 else ""
        raise DataError(
            f"{_where(first, sources, row_names)}: label {values.iloc[first]!r} in column "
            f"{column!r} is not a project label{more}; valid labels: {', '.join(labels)}. "
            "Fix the value, or add it to [project] labels"
        )
    return codes


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sample_dev(codes: np.ndarray, n: int, seed: int, path: Path) -> np.ndarray:
    labelled = np.flatnonzero(codes >= 0)
    if n > len(labelled):
        raise DataError(
            f"[dev] sample = {n} but the data file {path} has only {len(labelled)} labelled rows; "
            "lower [dev] sample or label more rows"
        )
    rng = np.random.default_rng(seed)
    chosen = rng.choice(labelled, size=n, replace=False)
    mask = np.zeros(len(codes), dtype=bool)
    mask[chosen] = True
    return mask


def _ids(
    frame: pd.DataFrame,
    id_column: str | None,
    text: pd.Series,
    sources: list[tuple[Path, int, int]],
) -> np.ndarray:
    if id_column is None:
        return make_ids(text)
    values = frame[id_column]
    missing = [i for i, v in enumerate(values) if _is_missing(v)]
    if missing:
        raise DataError(
            f"{_where(missing[0], sources, None)}: id column {id_column!r} is empty "
            f"({len(missing)} rows without an id); give every row an id, or remove "
            "[data] id_column to use generated ids"
        )
    ids = np.array([_label_text(v) for v in values], dtype=str)
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = set(uniq[counts > 1].tolist())
        first = list(dict.fromkeys(i for i in ids.tolist() if i in dup))
        shown = ", ".join(map(repr, first[:5])) + (", ..." if len(first) > 5 else "")
        files = " and ".join(str(p) for p, _, _ in sources)
        raise DataError(
            f"{files}: id column {id_column!r} has {len(first)} repeated ids: {shown}; "
            "ids must be unique across the data and dev rows"
        )
    return ids


def _resolve_modules(config: ProjectConfig) -> tuple[Path | str, ...]:
    out: list[Path | str] = []
    for entry in config.lfs.modules:
        if entry.endswith(".py") or "/" in entry or os.sep in entry:
            path = (config.root / entry).resolve()
            if not path.is_file():
                raise ConfigError(
                    f"{config.path}: [lfs] modules lists {entry!r} but {path} does not exist; "
                    "fix the path (relative to the project folder) or create the file"
                )
            out.append(path)
        else:
            out.append(entry)
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# The starter project written by `labelcycle init`.

_LABELS = ("billing", "shipping", "product")

_TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for order {order}, please refund the extra payment.",
        "Hi, this is {name}. My invoice shows the wrong amount for last month.",
        "Can I get a refund? The subscription renewed without asking me.",
        "Why is there a {amount} fee on my card? I never agreed to it.",
        "My payment failed but the money left my account anyway.",
        "Please update the billing address on my account to {city}.",
        "The discount code did not apply and I paid full price.",
        "How do I cancel my plan before the next charge?",
        "{name} here: the receipt for {order} is missing the VAT number.",
        "You billed me {amount} for an item I returned weeks ago.",
    ],
    "shipping": [
        "My package for order {order} still has not arrived.",
        "The tracking number says delivered but nothing is at my door in {city}.",
        "Hi, {name} here. Can you ship to a different address?",
        "Delivery was supposed to be Tuesday, it is now a week late.",
        "The courier left the parcel with a neighbour I do not know.",
        "Is express shipping available to {city}?",
        "Order {order} was sent to my old address, please redirect it.",
        "The box arrived crushed and half empty.",
        "When will my order ship? It has been processing for days.",
        "I paid for next-day delivery and it took five days, I want the fee back.",
    ],
    "product": [
        "The blender stopped working after two uses.",
        "Hi, {name} here. Does this charger work with older phones?",
        "The screen on my new tablet flickers constantly.",
        "Which size should I order? I am usually between a medium and a large.",
        "The instructions for assembling the desk are missing step 4.",
        "My headphones only play sound in the left ear.",
        "Is the jacket waterproof or just water resistant?",
        "The app keeps crashing when I open the camera.",
        "The item in order {order} is a different colour than the photo.",
        "Battery drains in an hour, is this a defect? Should I get a refund?",
    ],
}

_NOISE = [
    "Hello, I need some help please.",
    "Can someone call me back? This is {name}.",
    "Thanks for the quick answer yesterday!",
    "Still waiting on a reply to my last message about order {order}.",
]

_CONFIG_TEMPLATE = """\
# labelcycle project configuration (written by `labelcycle init`).
[project]
name = "{name}"
task = "classification"
labels = ["billing", "shipping", "product"]

[data]
path = "data.csv"
id_column = "id"
text_columns = ["text"]
label_column = "label"   # gold labels: hidden from labeling functions, used for evaluation

[dev]
sample = 60              # labelled rows of data.csv held out to choose and check models
seed = 0

[lfs]
modules = ["lfs.py"]
fault_tolerant = false

[label_model]
source = "auto"
seed = 123

[apply]
cache = true
n_jobs = 1
"""

_LFS_TEMPLATE = '''\
"""Labeling functions of this project.

Each labeling function votes for a class name ("billing", "shipping" or "product"), or returns
None to abstain. Edit them, add more, and run labelcycle again to see what changed.
"""

import re

from labelfns import keyword_lf, labeling_function, regex_lf

billing_words = keyword_lf(
    "kw_billing", ["refund", "invoice", "charged", "payment", "billed", "receipt"], "billing"
)
shipping_words = keyword_lf(
    "kw_shipping", ["package", "tracking", "delivery", "courier", "parcel", "ship"], "shipping"
)
money_amount = regex_lf("re_money_amount", r"[$\u20ac\u00a3]\\s?\\d+", "billing")

_DEFECT = re.compile(r"\\b(stopped working|flickers|crash\\w*|defect|broken|only play)\\b", re.I)


@labeling_function()
def product_defect(x):
    """A message describing something broken is about the product."""
    return "product" if _DEFECT.search(x.text) else None


@labeling_function()
def product_question(x):
    """A question about the item itself (size, compatibility, material)."""
    text = x.text.lower()
    if "?" in text and any(w in text for w in ("size", "work with", "waterproof", "colour")):
        return "product"
    return None
'''


def _starter_rows(n: int = 300, *, seed: int = 0) -> list[dict[str, str]]:
    """``n`` seeded support messages with their label; templates overlap on purpose."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = _LABELS[int(rng.integers(len(_LABELS)))]
        if rng.random() < 0.08:
            template = _NOISE[int(rng.integers(len(_NOISE)))]
        else:
            options = _TEMPLATES[label]
            template = options[int(rng.integers(len(options)))]
        text = template.format(
            name=fake.first_name(),
            order=f"#{int(rng.integers(10000, 99999))}",
            amount=f"${int(rng.integers(5, 200))}",
            city=fake.city(),
        )
        if rng.random() < 0.25:
            text = text.lower()
        rows.append({"id": f"msg-{i + 1:04d}", "text": text, "label": label})
    return rows


def init_project(
    directory: str | os.PathLike[str], *, force: bool = False, n_rows: int = 300, seed: int = 0
) -> Path:
    """Write a runnable starter project: ``labelcycle.toml``, ``data.csv`` and ``lfs.py``.

    Parameters
    ----------
    directory : path-like
        A new or empty folder.
    force : bool, default False
        Write into a non-empty folder, overwriting those three files (nothing else is touched).
    n_rows : int, default 300
        Rows of generated support messages (3 classes, with a gold ``label`` column).
    seed : int, default 0
        Seed of the generated data.

    Returns
    -------
    Path
        The project folder.

    Raises
    ------
    ConfigError
        The folder is not empty and ``force`` is false, or is a file.

    Examples
    --------
    >>> import tempfile
    >>> root = init_project(tempfile.mkdtemp())
    >>> sorted(p.name for p in root.iterdir())
    ['data.csv', 'labelcycle.toml', 'lfs.py']
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"cannot create a project at {root}: it is a file, not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise ConfigError(
            f"{root} is not empty; choose a new or empty folder, or pass force=True "
            "(`labelcycle init --force`) to overwrite labelcycle.toml, data.csv and lfs.py there"
        )
    root.mkdir(parents=True, exist_ok=True)
    name = root.resolve().name
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "text", "label"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(_starter_rows(n_rows, seed=seed))
    write_text(root / "data.csv", buffer.getvalue())
    write_text(root / "lfs.py", _LFS_TEMPLATE)
    write_text(root / CONFIG_NAME, _CONFIG_TEMPLATE.format(name=name.replace('"', "")))
    return root
