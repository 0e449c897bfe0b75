"""The run registry: one SQLite row per run (apply, fit, export, ...) of a project.

The database lives at ``.labelcycle/registry.sqlite``. It is opened in WAL mode with one connection
per call and ``BEGIN IMMEDIATE`` writes, so several processes can record runs at once. A
``schema_version`` table records the schema so later versions can migrate old registries. Inputs and
figures are stored as JSON; keys that look like secrets (API keys, tokens, passwords) are refused.

Example
-------
>>> import pathlib, tempfile
>>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "registry.sqlite")
>>> run = reg.start_run("apply", config_fingerprint="abc", inputs={"n_rows": 10})
>>> reg.finish_run(run, status="ok", figures={"coverage": 0.8})
>>> rec = reg.latest("apply")
>>> rec.id == run, rec.status, rec.figures
(True, 'ok', {'coverage': 0.8})
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from labelfns.errors import DataError
from weak_supervision.io import json_default

__all__ = [
    "REGISTRY_NAME",
    "SCHEMA_VERSION",
    "FINAL_STATUSES",
    "RunRecord",
    "Registry",
    "run_dir",
    "runs_frame",
]

REGISTRY_NAME = "registry.sqlite"
"""The registry's file name inside the workspace."""

SCHEMA_VERSION = 1
"""The schema this code writes; older registries are migrated on open."""

FINAL_STATUSES = ("ok", "failed", "cancelled")
"""The statuses :meth:`Registry.finish_run` accepts; a started run is ``"running"``."""

# version -> statements taking a registry from version - 1 to version.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            config_fingerprint TEXT NOT NULL,
            inputs TEXT NOT NULL,
            figures TEXT NOT NULL
        )""",
        "CREATE INDEX runs_kind_started ON runs (kind, started_at)",
    ),
}

_RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
_KIND = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SECRET_WORDS = {"password", "passwd", "secret", "authorization", "apikey"}
_SECRET_VALUE = re.compile(r"(?i)^(bearer\s+\S+|sk-[A-Za-z0-9_-]{16,})")


@dataclass(frozen=True)
class RunRecord:
    """One recorded run.

    Attributes
    ----------
    id : str
        ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC start time and a random suffix); sorts by start time.
    kind : str
        What ran: ``"apply"``, ``"fit"``, ``"export"``, ...
    started_at, finished_at : str
        ISO 8601 UTC timestamps; ``finished_at`` is None while running.
    status : str
        ``"running"``, or one of :data:`FINAL_STATUSES`.
    config_fingerprint : str
        The project configuration's fingerprint at the start.
    inputs, figures : dict
        JSON data recorded at the start and at the end.
    """

    id: str
    kind: str
    started_at: str
    finished_at: str | None
    status: str
    config_fingerprint: str
    inputs: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None while running."""
        if self.finished_at is None:
            return None
        delta = datetime.fromisoformat(self.finished_at) - datetime.fromisoformat(self.started_at)
        return delta.total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON data."""
        return asdict(self)


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """Runs as a DataFrame indexed by id (inputs and figures as dict cells).

    >>> runs_frame([RunRecord("20260101-000000-abcdef", "fit", "2026-01-01T00:00:00+00:00",
    ...                       None, "running", "x")]).loc["20260101-000000-abcdef", "status"]
    'running'
    """
    columns = [f for f in RunRecord.__dataclass_fields__ if f != "id"]
    frame = pd.DataFrame([r.to_dict() for r in records], columns=["id", *columns])
    return frame.set_index("id")


class Registry:
    """Runs recorded in a SQLite file (created, with its folder, on first use).

    Parameters
    ----------
    path : path-like
        The database file, normally ``workspace / REGISTRY_NAME``.
    timeout : float, default 30.0
        Seconds to wait for another process's write to finish.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "registry.sqlite")
    >>> a = reg.start_run("fit", config_fingerprint="c1", inputs={})
    >>> [r.status for r in reg.list_runs()]
    ['running']
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._ready = False

    def __repr__(self) -> str:
        return f"Registry({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._prepare()
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return con

    def _prepare(self) -> None:
        """Create the file, switch it to WAL and migrate the schema to :data:`SCHEMA_VERSION`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open()
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = con.execute("SELECT version FROM schema_version").fetchone()
                version = 0 if row is None else int(row[0])
                if version > SCHEMA_VERSION:
                    raise DataError(
                        f"{self.path} was written by a newer labelcycle (registry schema "
                        f"{version}, this version reads up to {SCHEMA_VERSION}); upgrade labelcycle"
                    )
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[target]:
                        con.execute(statement)
                if row is None:
                    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                elif version != SCHEMA_VERSION:
                    con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path} is not a usable labelcycle registry ({exc}); move it away and "
                "run again to start a new one"
            ) from None
        finally:
            con.close()
        self._ready = True

    @property
    def schema_version(self) -> int:
        """The schema version stored in the database."""
        with self._connect() as con:
            return int(con.execute("SELECT version FROM schema_version").fetchone()[0])

    def start_run(
        self, kind: str, *, config_fingerprint: str, inputs: Mapping[str, Any]
    ) -> str:
        """Record the start of a run and return its id.

        Parameters
        ----------
        kind : str
            What runs (letters, digits, ``_.-``).
        config_fingerprint : str
            :attr:`ProjectConfig.fingerprint` of the project.
        inputs : mapping
            JSON-ready description of the inputs (paths, fingerprints, options). Keys that look
            like secrets raise ValueError.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> len(reg.start_run("apply", config_fingerprint="c", inputs={"lfs": 3}))
        22
        """
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise ValueError(f"kind must be a word like 'apply' or 'fit', got {kind!r}")
        payload = _to_json(inputs, "inputs")
        for _attempt in range(10):
            now = datetime.now(UTC)
            run_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            try:
                with self._connect() as con:
                    con.execute(
                        "INSERT INTO runs (id, kind, started_at, finished_at, status, "
                        "config_fingerprint, inputs, figures) VALUES (?, ?, ?, NULL, 'running', "
                        "?, ?, '{}')",
                        (run_id, kind, now.isoformat(), str(config_fingerprint), payload),
                    )
                return run_id
            except sqlite3.IntegrityError:
                continue
        raise RuntimeError(f"could not allocate a unique run id in {self.path}")

    def finish_run(self, run_id: str, *, status: str, figures: Mapping[str, Any]) -> None:
        """Record the end of a run: its status and its figures (metrics, counts, paths).

        Raises
        ------
        DataError
            No run has this id.
        ValueError
            Unknown status, a secret-looking key, or the run already finished.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> run = reg.start_run("fit", config_fingerprint="c", inputs={})
        >>> reg.finish_run(run, status="failed", figures={"error": "no LFs"})
        >>> reg.get_run(run).status
        'failed'
        """
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
        payload = _to_json(figures, "figures")
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                row = con.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
                if row is None:
                    raise DataError(self._unknown(con, run_id))
                if row["status"] != "running":
                    raise ValueError(f"run {run_id} already finished with status {row['status']!r}")
                con.execute(
                    "UPDATE runs SET status = ?, finished_at = ?, figures = ? WHERE id = ?",
                    (status, datetime.now(UTC).isoformat(), payload, run_id),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id.

        Raises
        ------
        DataError
            No run has this id; the message lists the latest ones.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> reg.get_run(reg.start_run("fit", config_fingerprint="c", inputs={"k": 1})).inputs
        {'k': 1}
        """
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise DataError(self._unknown(con, run_id))
        return _record(row)

    def list_runs(self, kind: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Recorded runs, newest first, optionally of one kind and at most ``limit`` of them.

        >>> import pathlib, tempfile
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> ids = [reg.start_run(k, config_fingerprint="c", inputs={}) for k in ("fit", "apply")]
        >>> [r.kind for r in reg.list_runs()], [r.kind for r in reg.list_runs("fit", limit=1)]
        (['apply', 'fit'], ['fit'])
        """
        query = "SELECT * FROM runs"
        params: list[Any] = []
        if kind is not None:
            query += " WHERE kind = ?"
            params.append(kind)
        query += " ORDER BY started_at DESC, seq DESC"
        if limit is not None:
            if limit < 0:
                raise ValueError(f"limit must be >= 0, got {limit}")
            query += " LIMIT ?"
            params.append(int(limit))
        with self._connect() as con:
            rows = con.execute(query, params).fetchall()
        return [_record(row) for row in rows]

    def latest(self, kind: str, status: str | None = "ok") -> RunRecord | None:
        """The newest run of ``kind`` with ``status`` (any status if None), or None.

        >>> import pathlib, tempfile
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> run = reg.start_run("fit", config_fingerprint="c", inputs={})
        >>> reg.latest("fit") is None, reg.latest("fit", status="running").id == run
        (True, True)
        """
        query = "SELECT * FROM runs WHERE kind = ?"
        params: list[Any] = [kind]
        if status is not None:
            query += " AND status = ?"
            params.append(status)
        query += " ORDER BY started_at DESC, seq DESC LIMIT 1"
        with self._connect() as con:
            row = con.execute(query, params).fetchone()
        return None if row is None else _record(row)

    def _unknown(self, con: sqlite3.Connection, run_id: str) -> str:
        recent = [r[0] for r in con.execute(
            "SELECT id FROM runs ORDER BY started_at DESC, seq DESC LIMIT 5")]
        known = f"; latest runs: {', '.join(recent)}" if recent else "; no runs recorded yet"
        return f"no run {run_id!r} in {self.path}{known}"


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        kind=row["kind"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        config_fingerprint=row["config_fingerprint"],
        inputs=json.loads(row["inputs"]),
        figures=json.loads(row["figures"]),
    )


def _looks_secret(key: str) -> bool:
    """Whether a dict key names a secret (``api_key``, ``access_token``; not ``n_tokens``)."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()
    parts = [p for p in re.split(r"[^a-z0-9]+", words) if p]
    if not parts:
        return False
    joined = "".join(parts)
    if "apikey" in joined or parts[-1] == "token" or (parts[-1] == "key" and "api" in parts):
        return True
    return any(p in _SECRET_WORDS for p in parts)


def _check_no_secrets(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _looks_secret(str(key)):
                raise ValueError(
                    f"{where}: key {key!r} looks like a secret; never record credentials in the "
                    "run registry (pass them through the environment instead)"
                )
            _check_no_secrets(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_no_secrets(item, f"{where}[{i}]")
    elif isinstance(value, str) and _SECRET_VALUE.match(value):
        raise ValueError(f"{where}: the value looks like an API key or bearer token; not recorded")


def _to_json(value: Mapping[str, Any], where: str) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(value).__name__}")
    _check_no_secrets(value, where)
    return json.dumps(dict(value), sort_keys=True, default=json_default)


def run_dir(workspace: str | os.PathLike[str], run_id: str, *, create: bool = False) -> Path:
    """The folder of a run's files: ``workspace / "runs" / run_id``.

    Parameters
    ----------
    workspace : path-like
        The project's ``.labelcycle`` folder.
    run_id : str
        A run id as returned by :meth:`Registry.start_run` (checked, so it cannot escape
        ``runs/``).
    create : bool, default False
        Create the folder (and its parents).

    Examples
    --------
    >>> run_dir("/p/.labelcycle", "20261121-101500-ab12cd").as_posix()
    '/p/.labelcycle/runs/20261121-101500-ab12cd'
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a run id: {run_id!r} (expected e.g. '20261121-101500-ab12cd')")
    path = Path(workspace) / "runs" / run_id
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
