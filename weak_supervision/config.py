"""The project configuration, ``labelcycle.toml``, parsed into frozen dataclasses.

The schema is declarative: each ``[section]`` is a frozen dataclass whose fields are the valid keys,
with their types and defaults, and :class:`ProjectConfig` lists the sections. Adding a section is
adding a dataclass and a field of :class:`ProjectConfig`. Parsing is strict: an unknown section or
key, or a value of the wrong type, raises :class:`~labelfns.errors.ConfigError` naming the file, the
section and the key, listing the valid keys and suggesting the closest one.

Example
-------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "labelcycle.toml").write_text(
...     '[project]\\nlabels = ["neg", "pos"]\\n[data]\\npath = "data.csv"\\n')
>>> cfg = load_config(root)
>>> cfg.project.labels, cfg.data.text_columns, cfg.label_model.source
(('neg', 'pos'), ('text',), 'auto')
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import tomllib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from labelfns.errors import ConfigError

__all__ = [
    "CONFIG_NAME",
    "ProjectSection",
    "DataSection",
    "DevSection",
    "LFsSection",
    "LabelModelSection",
    "ApplySection",
    "ExportSection",
    "PIISection",
    "TrainSection",
    "EvaluateSection",
    "ProjectConfig",
    "load_config",
    "config_from_dict",
    "ensure_data",
]

CONFIG_NAME = "labelcycle.toml"
"""The name of a project's configuration file."""


@dataclass(frozen=True)
class ProjectSection:
    """``[project]``: what the project is about.

    ``labels`` is filled from ``labels_file`` (one label a line, blank lines and ``#`` comments
    skipped) when that is given; ``name`` defaults to the project folder's name.
    """

    name: str | None = None
    task: Literal["classification", "pii"] = "classification"
    labels: tuple[str, ...] = ()
    labels_file: str | None = None

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.labels and self.labels_file:
            yield "labels", "set either labels or labels_file, not both"
        if any(not label.strip() for label in self.labels):
            yield "labels", "labels must be non-empty strings"
        dupes = sorted({label for label in self.labels if self.labels.count(label) > 1})
        if dupes:
            yield "labels", f"labels must be unique; repeated: {', '.join(dupes)}"


@dataclass(frozen=True)
class DataSection:
    """``[data]``: the rows to label, relative to the project folder.

    ``path`` may end in a glob pattern (``"raw/part-*.csv"``): the files it matches are read in
    name order and their rows joined, as if they were one file.

    ``hide_columns`` lists columns labeling functions must not see (other answers, such as a
    coarser or finer category of the same item); the gold ``label_column`` is always hidden.

    ``generator`` names a Python script (relative to the project folder) with a function
    ``write(path, n, seed)``; when the data file does not exist, :func:`ensure_data` runs it with
    ``generator_rows`` and ``generator_seed`` to create the file. An existing data file is never
    overwritten.
    """

    path: str
    id_column: str | None = None
    text_columns: tuple[str, ...] = ("text",)
    label_column: str | None = None
    hide_columns: tuple[str, ...] = ()
    generator: str | None = None
    generator_rows: int = 600
    generator_seed: int = 0

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.generator is not None and not self.generator.endswith(".py"):
            yield "generator", f"must be a Python file such as \"generate.py\", got {self.generator!r}"
        if self.generator is not None and any(ch in self.path for ch in "*?["):
            yield "generator", "needs one data file; path is a pattern (*, ?, [...])"
        if self.generator_rows < 1:
            yield "generator_rows", f"must be at least 1, got {self.generator_rows}"
        if not self.text_columns:
            yield "text_columns", "list at least one column, e.g. text_columns = [\"text\"]"
        if len(set(self.text_columns)) != len(self.text_columns):
            yield "text_columns", "columns must be unique"
        if self.label_column is not None and self.label_column in self.text_columns:
            yield "label_column", (
                f"the gold label column {self.label_column!r} must not be one of text_columns: "
                "labeling functions would see the answer"
            )
        if self.id_column is not None and self.id_column == self.label_column:
            yield "id_column", "id_column and label_column must be different columns"


@dataclass(frozen=True)
class DevSection:
    """``[dev]``: the labelled rows used to choose and check models.

    Either ``path`` (a labelled file with the data file's columns, appended to the rows) or
    ``sample`` (that many labelled rows of the data file, drawn with ``seed``), or neither (no dev
    set). ``label_column`` defaults to ``[data] label_column``.
    """

    path: str | None = None
    sample: int | None = None
    seed: int = 0
    label_column: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether a dev set is configured."""
        return self.path is not None or self.sample is not None

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.path is not None and self.sample is not None:
            yield "sample", (
                "set either path (a dev file) or sample (rows of the data file), not both"
            )
        if self.sample is not None and self.sample <= 0:
            yield "sample", f"must be a positive number of rows, got {self.sample}"


@dataclass(frozen=True)
class LFsSection:
    """``[lfs]``: where the labeling functions live (files relative to the project, or modules)."""

    modules: tuple[str, ...] = ()
    fault_tolerant: bool = False


@dataclass(frozen=True)
class LabelModelSection:
    """``[label_model]``: how LF votes are combined into probabilistic labels.

    ``search_budget`` caps the dev search in estimated reference seconds (a formula of the
    data's shape, not a clock: the same data tries the same candidates on any machine); see
    ``weak_supervision.label_model.LabelModel``.
    """

    source: Literal["auto", "label_model", "majority"] = "auto"
    seed: int = 123
    n_epochs: int = 500
    lr: float = 0.01
    l2: float = 0.0
    search: bool = True
    search_budget: float = 60.0

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.n_epochs < 1:
            yield "n_epochs", f"must be at least 1, got {self.n_epochs}"
        if self.lr <= 0:
            yield "lr", f"must be positive, got {self.lr}"
        if self.l2 < 0:
            yield "l2", f"must be zero or positive, got {self.l2}"
        if self.search_budget < 0:
            yield "search_budget", f"must be zero or positive, got {self.search_budget}"


@dataclass(frozen=True)
class ApplySection:
    """``[apply]``: how LFs are run over the rows.

    - ``cache``: reuse the votes of unchanged LFs on unchanged rows.
    - ``n_jobs``: processes for row-wise LFs (0 = all cores); per partition with
      ``engine = "stream"``.
    - ``engine``: ``"local"`` (all rows in memory, the default), ``"stream"`` (partitions of
      ``chunk_rows`` read one at a time: data larger than memory) or ``"dask"`` (partitions on a
      ``dask.distributed`` cluster). See ``weak_supervision.scaled.label_project_scaled``.
    - ``scheduler``: Dask scheduler address such as ``"tcp://10.0.0.5:8786"``; without it
      ``engine = "dask"`` starts a local cluster on 127.0.0.1.
    - ``chunk_rows``: rows per partition for ``"stream"`` and ``"dask"``.
    - ``n_workers``: worker processes of the local Dask cluster (0 = one per core).

    Example::

        [apply]
        engine = "dask"
        scheduler = "tcp://10.0.0.5:8786"
        chunk_rows = 250000
    """

    cache: bool = True
    n_jobs: int = 0
    engine: Literal["local", "stream", "dask"] = "local"
    scheduler: str | None = None
    chunk_rows: int = 250_000
    n_workers: int = 0

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.n_jobs < 0:
            yield "n_jobs", (
                f"must be 0 (all cores) or a positive number of processes, got {self.n_jobs}"
            )
        if self.chunk_rows < 1:
            yield "chunk_rows", f"must be a positive number of rows, got {self.chunk_rows}"
        if self.n_workers < 0:
            yield "n_workers", (
                f"must be 0 (one per core) or a positive number of workers, got {self.n_workers}"
            )
        if self.scheduler is not None and self.engine != "dask":
            yield "scheduler", f'is only used with engine = "dask" (engine is {self.engine!r})'
        if self.scheduler is not None and not self.scheduler.strip():
            yield "scheduler", 'must be an address such as "tcp://10.0.0.5:8786", or left out'


@dataclass(frozen=True)
class ExportSection:
    """``[export]``: how training labels become a chat fine-tuning set (``labelcycle export``).

    ``user_template`` names data columns as ``{column}`` (literal braces as ``{{ }}``); an empty
    ``system_prompt`` gets a default listing the labels for classification. ``task = "text"``
    answers with ``assistant_column`` instead of the class name. ``pii_free = true`` makes the
    export fail when assistant messages (and user messages, with ``scan_user_messages``) hold PII.
    """

    system_prompt: str = ""
    user_template: str = "{text}"
    task: Literal["classification", "text"] = "classification"
    assistant_column: str | None = None
    confidence_threshold: float = 0.0
    max_per_class: int | None = None
    balance: bool = False
    validation_fraction: float = 0.1
    seed: int = 123
    dedupe: bool = True
    near_duplicate_threshold: float = 0.9
    pii_free: bool = False
    scan_user_messages: bool = False

    def problems(self) -> Iterator[tuple[str, str]]:
        import string

        try:
            names = [name for _, name, _, _ in string.Formatter().parse(self.user_template)
                     if name is not None]
        except ValueError as exc:
            yield "user_template", f"{exc}; name columns as {{column}}, literal braces as {{{{ }}}}"
            names = []
        if not self.user_template.strip():
            yield "user_template", "write the user message, e.g. \"{text}\""
        if any(name == "" or name.isdigit() for name in names):
            yield "user_template", "placeholders must name a column, e.g. {text}"
        if self.task == "text" and not self.assistant_column:
            yield "assistant_column", "task \"text\" needs the column holding the answer"
        if self.task == "classification" and self.assistant_column:
            yield "assistant_column", "only for task \"text\" (classification answers with the label)"
        if not 0.0 <= self.confidence_threshold <= 1.0:
            yield "confidence_threshold", f"must be in [0, 1], got {self.confidence_threshold}"
        if self.max_per_class is not None and self.max_per_class < 1:
            yield "max_per_class", f"must be a positive number of rows, got {self.max_per_class}"
        if not 0.0 <= self.validation_fraction < 1.0:
            yield "validation_fraction", f"must be in [0, 1), got {self.validation_fraction}"
        if not 0.0 < self.near_duplicate_threshold <= 1.0:
            yield "near_duplicate_threshold", (
                f"must be in (0, 1], got {self.near_duplicate_threshold}"
            )


@dataclass(frozen=True)
class PIISection:
    """``[pii]``: find (and redact) PII spans in the texts, with span LFs.

    The section turns the PII job on (``labelcycle pii label``), next to a classification task or
    for ``task = "pii"`` (where it is always on; an absent section means the defaults).

    ``modules`` are files of user span LFs (``@span_lf``), relative to the project folder;
    ``builtins`` adds labelcycle's detectors (regexes with validators, name rules and, with
    ``ner``, spaCy NER with ``ner_model``); ``phone_region`` is one region or a list (one phone LF
    per region). ``text_column`` defaults to the project's text (the ``[data] text_columns``
    joined); ``gold_column`` holds gold spans (a list of ``{"start", "end", "label"}`` or its JSON)
    used as the label model's dev set and for evaluation. ``redact`` chooses placeholders or
    Faker surrogates (seeded with ``seed``); ``label_model`` is passed to the label-model choice.
    """

    enabled: bool = True
    modules: tuple[str, ...] = ()
    builtins: bool = True
    ner: bool = True
    ner_model: str = "en_core_web_sm"
    phone_region: str | tuple[str, ...] = "US"
    text_column: str | None = None
    gold_column: str | None = None
    redact: Literal["placeholder", "surrogate"] = "placeholder"
    seed: int = 0
    label_model: Literal["auto", "label_model", "majority"] = "auto"

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.builtins and not self.modules:
            yield "modules", "with builtins = false, list at least one span LF module"
        regions = (self.phone_region,) if isinstance(self.phone_region, str) else self.phone_region
        if not regions:
            yield "phone_region", 'list at least one region, e.g. "US" or ["US", "GB"]'
        for region in regions:
            if len(region) != 2 or not region.isalpha():
                yield "phone_region", f"{region!r} is not a two-letter region code such as \"US\""
        if self.text_column is not None and self.text_column == self.gold_column:
            yield "gold_column", "the gold span column must differ from the text column"


@dataclass(frozen=True)
class TrainSection:
    """``[train]``: the end model trained on the training labels (``labelcycle train``).

    ``model`` is "tfidf" (word n-gram TF-IDF features, ``ngram_range`` and ``max_features``) or
    "embeddings" (sentence embeddings of ``embedding_model``; needs ``labelcycle[embeddings]``),
    each followed by a logistic regression with inverse regularization ``C``. ``weighting`` turns
    the probabilistic labels into training rows: "soft" (a row per class, weighted by its
    probability), "hard" (the most probable class, weighted by its probability) or "filter"
    (the most probable class, weight 1). Rows whose top probability is below
    ``confidence_threshold`` are left out, and so are rows no LF voted on and the dev rows.
    """

    model: Literal["tfidf", "embeddings"] = "tfidf"
    weighting: Literal["soft", "hard", "filter"] = "soft"
    confidence_threshold: float = 0.0
    C: float = 1.0
    max_features: int = 50_000
    ngram_range: tuple[int, ...] = (1, 2)
    embedding_model: str = "all-MiniLM-L6-v2"
    seed: int = 123

    def problems(self) -> Iterator[tuple[str, str]]:
        if not 0.0 <= self.confidence_threshold < 1.0:
            yield "confidence_threshold", f"must be in [0, 1), got {self.confidence_threshold}"
        if self.C <= 0:
            yield "C", f"must be positive, got {self.C}"
        if self.max_features < 1:
            yield "max_features", f"must be at least 1, got {self.max_features}"
        if len(self.ngram_range) != 2 or not 1 <= self.ngram_range[0] <= self.ngram_range[1]:
            yield "ngram_range", f"must be [min, max] with 1 <= min <= max, got {list(self.ngram_range)}"


@dataclass(frozen=True)
class EvaluateSection:
    """``[evaluate]``: a labelled held-out file scored besides the dev set (``labelcycle cycle``).

    ``path`` is relative to the project folder (CSV, JSONL or Parquet with the ``[data]
    text_columns``); ``label_column`` defaults to ``[data] label_column``. ``top_confusions`` is
    how many (gold, predicted) pairs evaluation reports list.
    """

    path: str | None = None
    label_column: str | None = None
    top_confusions: int = 5

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.top_confusions < 0:
            yield "top_confusions", f"must be 0 or more, got {self.top_confusions}"


@dataclass(frozen=True)
class ProjectConfig:
    """A parsed ``labelcycle.toml``; every section field is a section of the file.

    Attributes
    ----------
    root : Path
        The folder holding the configuration; relative paths are resolved against it.
    path : Path
        The configuration file.
    """

    root: Path
    path: Path
    project: ProjectSection = field(default_factory=ProjectSection)
    data: DataSection = field(default_factory=lambda: DataSection(path=""))
    dev: DevSection = field(default_factory=DevSection)
    lfs: LFsSection = field(default_factory=LFsSection)
    label_model: LabelModelSection = field(default_factory=LabelModelSection)
    apply: ApplySection = field(default_factory=ApplySection)
    pii: PIISection = field(default_factory=lambda: PIISection(enabled=False))
    export: ExportSection = field(default_factory=ExportSection)
    train: TrainSection = field(default_factory=TrainSection)
    evaluate: EvaluateSection = field(default_factory=EvaluateSection)

    def to_dict(self) -> dict[str, Any]:
        """The sections as plain JSON-ready data (without ``root`` and ``path``).

        >>> cfg = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {"path": "d.csv"}},
        ...                        root=".")
        >>> cfg.to_dict()["data"]["text_columns"]
        ['text']
        """
        return {
            name: _plain(dataclasses.asdict(getattr(self, name))) for name in _sections()
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 hex digest of :meth:`to_dict` without ``project.name``.

        Independent of the project's name and of where its folder is; any other change counts.

        >>> raw = {"project": {"labels": ["a", "b"]}, "data": {"path": "d.csv"}}
        >>> config_from_dict(raw, root="/a").fingerprint == config_from_dict(raw, root="/b").fingerprint
        True
        """
        data = self.to_dict()
        data["project"].pop("name", None)
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _sections() -> dict[str, type]:
    """Section name -> section dataclass, from the fields of :class:`ProjectConfig`."""
    hints = typing.get_type_hints(ProjectConfig)
    return {name: tp for name, tp in hints.items() if dataclasses.is_dataclass(tp)}


def load_config(path_or_dir: str | os.PathLike[str]) -> ProjectConfig:
    """Read and validate a project's ``labelcycle.toml``.

    Parameters
    ----------
    path_or_dir : path-like
        The configuration file, or the project folder holding ``labelcycle.toml``.

    Returns
    -------
    ProjectConfig

    Raises
    ------
    ConfigError
        No configuration, invalid TOML, an unknown section or key, a wrong type or value.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "labelcycle.toml").write_text('[project]\\nlabels = ["a", "b"]\\n'
    ...     '[data]\\npath = "d.csv"\\nlabel_column = "y"\\n[dev]\\nsample = 5\\n')
    >>> cfg = load_config(root / "labelcycle.toml")
    >>> cfg.dev.sample, cfg.dev.label_column
    (5, 'y')
    """
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        folder = path.parent if path.suffix == ".toml" else path
        raise ConfigError(
            f"no project configuration at {path}; run `labelcycle init {folder}` to create a "
            "starter project, or pass the folder that holds labelcycle.toml"
        )
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid UTF-8 (byte offset {exc.start}); re-encode it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return config_from_dict(raw, root=path.parent, source=path)


def config_from_dict(
    raw: dict[str, Any],
    *,
    root: str | os.PathLike[str],
    source: str | os.PathLike[str] | None = None,
) -> ProjectConfig:
    """Validate already-parsed TOML data into a :class:`ProjectConfig`.

    Parameters
    ----------
    raw : dict
        Section name -> table, as :func:`tomllib.loads` returns it.
    root : path-like
        The project folder (relative paths in the configuration are resolved against it).
    source : path-like, optional
        The file named in error messages; defaults to ``root / "labelcycle.toml"``.

    Examples
    --------
    >>> cfg = config_from_dict({"data": {"path": "d.csv"}, "project": {"task": "pii"}}, root=".")
    >>> cfg.project.task
    'pii'
    """
    root = Path(root).resolve()
    source = Path(source) if source is not None else root / CONFIG_NAME
    sections = _sections()
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(_unknown_section(source, name, value, sections))
    parsed = {name: _parse_section(source, name, cls, raw.get(name, {}))
              for name, cls in sections.items()}
    if "pii" not in raw:  # no [pii] section: the PII job is off, except for task = "pii"
        task = raw.get("project", {}).get("task") if isinstance(raw.get("project"), dict) else None
        parsed["pii"] = dataclasses.replace(parsed["pii"], enabled=task == "pii")
    config = ProjectConfig(root=root, path=source, **parsed)
    return _resolve(config)


def _unknown_section(source: Path, name: str, value: Any, sections: dict[str, type]) -> str:
    valid = ", ".join(f"[{s}]" for s in sections)
    if not isinstance(value, dict):
        owners = [s for s, cls in sections.items()
                  if name in {f.name for f in dataclasses.fields(cls)}]
        hint = f" Did you mean to put it under [{owners[0]}]?" if owners else ""
        return f"{source}: key {name!r} is outside any section. Valid sections: {valid}.{hint}"
    close = difflib.get_close_matches(name, list(sections), n=1)
    hint = f" Did you mean [{close[0]}]?" if close else ""
    return f"{source}: unknown section [{name}]. Valid sections: {valid}.{hint}"


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is tuple:
        item = _describe(typing.get_args(tp)[0]).removeprefix("a ").removeprefix("an ")
        return f"a list of {item}s"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None))
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _convert(value: Any, tp: Any) -> Any:
    """``value`` as type ``tp``, or raise TypeError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _convert(value, arg)
            except TypeError:
                pass
        raise TypeError
    if origin is Literal:
        if value in typing.get_args(tp) and isinstance(value, str):
            return value
        raise TypeError
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError
        item = typing.get_args(tp)[0]
        return tuple(_convert(v, item) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeError
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise TypeError
    if tp is str:
        if isinstance(value, str):
            return value
        raise TypeError
    raise TypeError


def _parse_section(source: Path, name: str, cls: type, table: Any) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table (a section), got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in table:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{source}: unknown key {key!r} in [{name}]. "
                f"Valid keys: {', '.join(fields)}.{hint}"
            )
    missing = [f.name for f in fields.values()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               and f.name not in table]
    if missing:
        raise ConfigError(
            f"{source}: [{name}] needs the key {', '.join(map(repr, missing))}"
            + (' (e.g. path = "data.csv")' if name == "data" and "path" in missing else "")
        )
    values = {}
    for key, value in table.items():
        try:
            values[key] = _convert(value, hints[key])
        except TypeError:
            raise ConfigError(
                f"{source}: [{name}] {key} must be {_describe(hints[key])}, got {value!r}"
            ) from None
    section = cls(**values)
    for key, message in getattr(section, "problems", lambda: iter(()))():
        raise ConfigError(f"{source}: [{name}] {key}: {message}")
    return section


def _resolve(config: ProjectConfig) -> ProjectConfig:
    """Fill derived values (name, labels from labels_file, dev label column) and cross-check."""
    source = config.path
    project = config.project
    if project.name is None:
        project = dataclasses.replace(project, name=config.root.name)
    if project.labels_file is not None:
        labels = _read_labels_file(source, config.root / project.labels_file)
        from_file = dataclasses.replace(project, labels=labels, labels_file=None)
        for _key, message in from_file.problems():
            raise ConfigError(f"{source}: labels in {project.labels_file}: {message}")
        project = dataclasses.replace(project, labels=labels)
    if project.task == "classification" and not project.labels:
        raise ConfigError(
            f"{source}: [project] labels is required for task 'classification'; add e.g. "
            'labels = ["neg", "pos"], or labels_file = "labels.txt" with one label a line'
        )
    if project.task == "pii" and not config.pii.enabled:
        raise ConfigError(f"{source}: [pii] enabled = false contradicts [project] task = 'pii'; "
                          "remove one of them")
    dev = config.dev
    if dev.enabled and dev.label_column is None:
        if config.data.label_column is None:
            raise ConfigError(
                f"{source}: [dev] needs a label column; set [dev] label_column or "
                "[data] label_column"
            )
        dev = dataclasses.replace(dev, label_column=config.data.label_column)
    if dev.label_column is not None and dev.label_column in config.data.text_columns:
        raise ConfigError(
            f"{source}: [dev] label_column {dev.label_column!r} must not be one of "
            "[data] text_columns: labeling functions would see the answer"
        )
    return dataclasses.replace(config, project=project, dev=dev)


def _read_labels_file(source: Path, path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: [project] labels_file {path} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{source}: [project] labels_file {path} is not valid UTF-8; re-encode it"
        ) from None
    labels = tuple(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    if not labels:
        raise ConfigError(
            f"{source}: [project] labels_file {path} holds no labels; write one label a line"
        )
    return labels


def ensure_data(config: ProjectConfig) -> Path | None:
    r"""Create the data file with the ``[data] generator`` script when it does not exist yet.

    The script is imported from the project folder and its ``write(path, n, seed)`` is called
    with a temporary path beside the data file (same suffix); the result is then linked into place
    only if the data file still does not exist, so an existing file is never overwritten.

    Parameters
    ----------
    config : ProjectConfig
        The project's configuration.

    Returns
    -------
    Path or None
        The data file when it was generated now, None when it already existed or no generator
        is configured.

    Raises
    ------
    ConfigError
        The generator file is missing, has no ``write`` function, or fails.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "gen.py").write_text(
    ...     "def write(path, n, seed):\n"
    ...     "    open(path, 'w').write('text\\n' + 'hi\\n' * n)\n")
    >>> cfg = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {
    ...     "path": "d.csv", "generator": "gen.py", "generator_rows": 2}}, root=root)
    >>> ensure_data(cfg).name, ensure_data(cfg)
    ('d.csv', None)
    """
    data = config.data
    target = config.root / data.path
    if data.generator is None or target.exists():
        return None
    script = (config.root / data.generator).resolve()
    where = f"{config.path}: [data] generator"
    if not script.is_file():
        raise ConfigError(f"{where} {data.generator!r} not found at {script}; fix the path "
                          "(relative to the project folder) or provide the data file")
    from labelfns.loading import load_module

    try:
        module = load_module(script)
    except Exception as exc:  # noqa: BLE001 - the user's script may raise anything on import
        raise ConfigError(f"{where}: {exc}") from None
    write = getattr(module, "write", None)
    if not callable(write):
        raise ConfigError(f"{where} {script.name} has no function write(path, n, seed)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.stem}.{os.getpid()}.generating{target.suffix}"
    try:
        write(tmp, data.generator_rows, data.generator_seed)
        if not tmp.is_file():
            raise ConfigError(f"{where}: write() did not create {tmp}")
        try:
            os.link(tmp, target)  # fails if the file appeared meanwhile: never overwrite it
        except FileExistsError:
            return None
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's script may raise anything
        raise ConfigError(f"{where} failed: {type(exc).__name__}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
