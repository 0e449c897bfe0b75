"""Fine-tuning jobs on any OpenAI-compatible service: upload, submit, watch, resume.

:class:`JobManager` keeps its state in the run registry's SQLite file, in two tables of its own
(the registry's ``runs`` table is not touched):

- ``finetune_files``: the sha256 of every uploaded file with its file id, per base URL and
  purpose, so the same content is never uploaded twice to the same service;
- ``finetune_jobs``: one row per job (id, base URL, model, files, status, hyperparameters,
  metadata, the request body, the fine-tuned model, the provider's error, the last event seen).

No API key is ever written there: keys stay inside the client (:mod:`finetune.client`).

Watching polls the job with capped exponential backoff and streams each new event once.
OpenAI lists events newest first and its ``after`` parameter pages towards *older* events, so
each poll reads pages from the newest until it meets the last event already seen, then hands
the new ones over oldest first. The last event id is stored after each event, so a new process
(a new ``JobManager``) resumes where the last one stopped. Network failures, timeouts, 408/409/
429 and 5xx answers are retried a bounded number of times; then a :class:`ProviderError` says
how to resume, with the job record left in place.

``submit`` adds a ``labelcycle_submit_id`` entry to the job's metadata. When creating the job
fails ambiguously (no response, or 5xx), the jobs with that metadata are looked up before
trying again, so a retry never starts a second, billed, job.

Example
-------
>>> import pathlib, tempfile, json
>>> from weak_supervision.registry import Registry
>>> from finetune.client import ClientFactory
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> line = json.dumps({"messages": [{"role": "user", "content": "Spam?"},
...                                 {"role": "assistant", "content": "no"}]})
>>> _ = (folder / "train.jsonl").write_text((line + "\\n") * 10)
>>> manager = JobManager(Registry(folder / "registry.sqlite"),
...                      ClientFactory(base_url="http://127.0.0.1:9/v1"), dry_run=True)
>>> record = manager.submit(folder / "train.jsonl", model="gpt-3.5-turbo-0125", n_epochs=2)
>>> record.status, record.request["method"]["supervised"]["hyperparameters"]
('dry_run', {'n_epochs': 2})
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from finetune.client import ProviderClient, ProviderError, redact, resolve_base_url
from finetune.validate import DEFAULT_MODEL, validate_file
from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.registry import Registry

__all__ = [
    "TERMINAL_STATUSES",
    "DRY_RUN_STATUS",
    "SUBMIT_ID_KEY",
    "JobRecord",
    "JobManager",
    "jobs_frame",
]

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")
"""Statuses after which a job never changes."""

DRY_RUN_STATUS = "dry_run"
"""Status of a record made by a dry run (nothing was sent)."""

SUBMIT_ID_KEY = "labelcycle_submit_id"
"""Metadata key added to each submitted job to detect duplicates on retries."""

_MAX_METADATA_KEYS = 16
_MAX_METADATA_KEY = 64
_MAX_METADATA_VALUE = 512
_MAX_SUFFIX = 64
_EVENT_PAGE = 100
_MAX_PAGES = 1000
_MAX_RETRY_SLEEP = 60.0

_T = TypeVar("_T")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS finetune_files (
        base_url TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        purpose TEXT NOT NULL,
        file_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        uploaded_at TEXT NOT NULL,
        PRIMARY KEY (base_url, sha256, purpose)
    )""",
    """CREATE TABLE IF NOT EXISTS finetune_jobs (
        job_id TEXT NOT NULL,
        base_url TEXT NOT NULL,
        model TEXT NOT NULL,
        training_file TEXT NOT NULL,
        validation_file TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        hyperparameters TEXT NOT NULL,
        seed INTEGER,
        suffix TEXT,
        metadata TEXT NOT NULL,
        fine_tuned_model TEXT,
        error_code TEXT,
        error_message TEXT,
        finished_at TEXT,
        trained_tokens INTEGER,
        last_event_id TEXT,
        last_event_created_at INTEGER,
        request TEXT NOT NULL,
        validation TEXT NOT NULL,
        PRIMARY KEY (base_url, job_id)
    )""",
)


@dataclass(frozen=True)
class JobRecord:
    """A fine-tuning job as recorded in ``finetune_jobs``.

    Attributes
    ----------
    job_id, base_url, model : str
        The provider's job id, the service it runs on, the base model.
    training_file, validation_file : str or None
        File ids on the provider (``file-dryrun-...`` in dry runs).
    status : str
        ``validating_files``, ``queued``, ``running``, one of :data:`TERMINAL_STATUSES`, or
        ``dry_run``.
    created_at, updated_at, finished_at : str or None
        ISO 8601 UTC times.
    hyperparameters : dict
        The provider's (resolved) hyperparameters once known, else the requested ones.
    seed, suffix, metadata
        As submitted (metadata includes :data:`SUBMIT_ID_KEY`).
    fine_tuned_model : str or None
        The model to call once the job succeeded.
    error_code, error_message : str or None
        The provider's error for a failed job.
    trained_tokens : int or None
        Tokens billed, when the provider reports them.
    last_event_id : str or None
        The newest event already streamed by :meth:`JobManager.watch`.
    request : dict
        The body sent to ``POST /fine_tuning/jobs`` (or that would be, in a dry run).
    validation : dict
        Dry runs: statistics of the validated training file (examples, tokens, billed tokens).

    Example
    -------
    >>> JobRecord("ftjob-1", "http://x/v1", "m", "file-1", None, "failed", "t", "t",
    ...           {}, 1, None, {}).terminal
    True
    """

    job_id: str
    base_url: str
    model: str
    training_file: str
    validation_file: str | None
    status: str
    created_at: str
    updated_at: str
    hyperparameters: dict[str, Any]
    seed: int | None
    suffix: str | None
    metadata: dict[str, str]
    fine_tuned_model: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    finished_at: str | None = None
    trained_tokens: int | None = None
    last_event_id: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        """True once the job succeeded, failed or was cancelled."""
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data.

        Example
        -------
        >>> JobRecord("ftjob-1", "u", "m", "f", None, "running", "t", "t", {}, 1, None,
        ...           {}).to_dict()["status"]
        'running'
        """
        return asdict(self)


def jobs_frame(records: list[JobRecord]) -> pd.DataFrame:
    """Job records as a DataFrame indexed by job id.

    Example
    -------
    >>> jobs_frame([JobRecord("ftjob-1", "u", "m", "f", None, "running", "t", "t", {}, 1,
    ...                       None, {})]).loc["ftjob-1", "status"]
    'running'
    """
    columns = [name for name in JobRecord.__dataclass_fields__ if name != "job_id"]
    frame = pd.DataFrame([r.to_dict() for r in records], columns=["job_id", *columns])
    return frame.set_index("job_id")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(unix: Any) -> str | None:
    if isinstance(unix, bool) or not isinstance(unix, (int, float)) or unix <= 0:
        return None
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds")


def _public_url(url: str) -> str:
    """``url`` without user:password@ (never recorded)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hyperparameters(n_epochs: Any, batch_size: Any, learning_rate_multiplier: Any) -> dict:
    out: dict[str, Any] = {}
    for name, value, kind in (("n_epochs", n_epochs, int), ("batch_size", batch_size, int),
                              ("learning_rate_multiplier", learning_rate_multiplier, float)):
        if value is None:
            continue
        if value == "auto":
            out[name] = "auto"
            continue
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0
        if kind is int:
            ok = ok and float(value).is_integer()
        if not ok:
            want = "a positive integer" if kind is int else "a positive number"
            raise ConfigError(f"{name} must be {want} or 'auto', got {value!r}")
        out[name] = int(value) if kind is int else float(value)
    return out


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a dict of str -> str, got {type(metadata).__name__}")
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= _MAX_METADATA_KEY:
            raise ConfigError(f"metadata key {key!r} must be a string of 1-{_MAX_METADATA_KEY} "
                              "characters")
        if key == SUBMIT_ID_KEY:
            raise ConfigError(f"metadata key {SUBMIT_ID_KEY!r} is reserved by labelcycle")
        if not isinstance(value, str) or len(value) > _MAX_METADATA_VALUE:
            raise ConfigError(f"metadata[{key!r}] must be a string of at most "
                              f"{_MAX_METADATA_VALUE} characters (convert numbers with str())")
        if redact(value) != value:
            raise ConfigError(f"metadata[{key!r}] looks like an API key or bearer token; never "
                              "send or record credentials as metadata")
        out[key] = value
    if len(out) > _MAX_METADATA_KEYS - 1:
        raise ConfigError(f"metadata has {len(out)} keys; at most {_MAX_METADATA_KEYS - 1} "
                          f"(labelcycle adds {SUBMIT_ID_KEY!r})")
    return out


def _looks_like_path(value: str | os.PathLike[str]) -> bool:
    if isinstance(value, os.PathLike):
        return True
    text = str(value)
    return (os.sep in text or "/" in text or Path(text).suffix.lower() in (".jsonl", ".json")
            or Path(text).exists())


def _error_of(job: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = job.get("error")
    if not isinstance(error, Mapping):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (str(code) if code else None, redact(str(message)) if message else None)


def _resolved_hyperparameters(job: Mapping[str, Any]) -> dict[str, Any] | None:
    method = job.get("method")
    if isinstance(method, Mapping):
        kind = method.get("type") or "supervised"
        inner = method.get(kind)
        if isinstance(inner, Mapping) and isinstance(inner.get("hyperparameters"), Mapping):
            return {k: v for k, v in inner["hyperparameters"].items() if v is not None}
    hyper = job.get("hyperparameters")
    if isinstance(hyper, Mapping):
        return {k: v for k, v in hyper.items() if v is not None}
    return None


class JobManager:
    """Upload training files and run fine-tuning jobs, recorded in the registry's database.

    Parameters
    ----------
    registry : weak_supervision.registry.Registry
        The project's registry; its SQLite file also holds ``finetune_files`` and
        ``finetune_jobs``.
    client_factory : callable
        Returns a :class:`~finetune.client.ProviderClient`, e.g.
        :class:`~finetune.client.ClientFactory`. Called once, at the first network call; a
        ``base_url`` attribute on it is read without calling it.
    dry_run : bool, default False
        Validate and record what would be sent, with no network call and no key needed.
    poll_interval : float, default 10.0
        First wait between polls in :meth:`watch`, in seconds; doubled while nothing changes.
    max_poll_interval : float, default 120.0
        Cap of the wait between polls and between retries.
    max_wait : float, default 86400.0
        Seconds :meth:`watch` waits for a terminal status before raising (the job stays
        resumable).
    max_attempts : int, default 5
        Attempts of one request on network errors, timeouts, 408/409/429 and 5xx.
    retry_backoff : float, default 1.0
        First wait between attempts (doubled each time, or the provider's Retry-After).

    Example
    -------
    >>> import pathlib, tempfile
    >>> from weak_supervision.registry import Registry
    >>> from finetune.client import ClientFactory
    >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "registry.sqlite")
    >>> JobManager(reg, ClientFactory(base_url="http://127.0.0.1:9/v1"), dry_run=True).list_jobs()
    []
    """

    def __init__(self, registry: Registry, client_factory: Callable[[], ProviderClient], *,
                 dry_run: bool = False, poll_interval: float = 10.0,
                 max_poll_interval: float = 120.0, max_wait: float = 86400.0,
                 max_attempts: int = 5, retry_backoff: float = 1.0) -> None:
        self.registry = registry
        self.client_factory = client_factory
        self.dry_run = dry_run
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self._client_obj: ProviderClient | None = None
        self._base_url: str | None = None
        self._tables_ready = False

    def __repr__(self) -> str:
        return (f"JobManager({self.registry!r}, base_url={self.base_url!r}, "
                f"dry_run={self.dry_run})")

    def __enter__(self) -> JobManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections (a later call opens new ones)."""
        if self._client_obj is not None:
            self._client_obj.close()
            self._client_obj = None

    # -- plumbing -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The service's base URL (from the factory's ``base_url``, else from its client)."""
        if self._base_url is None:
            url = getattr(self.client_factory, "base_url", None)
            if url is None:
                url = resolve_base_url(None) if self.dry_run else self._client().base_url
            self._base_url = _public_url(str(url).rstrip("/"))
        return self._base_url

    def _client(self) -> ProviderClient:
        if self.dry_run:
            raise RuntimeError("internal error: a dry run tried to use the network")
        if self._client_obj is None:
            self._client_obj = self.client_factory()
        return self._client_obj

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._tables_ready:
            _ = self.registry.schema_version  # creates the file, WAL mode, the runs schema
        con = sqlite3.connect(self.registry.path, timeout=self.registry.timeout,
                              isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.registry.timeout * 1000)}")
            if not self._tables_ready:
                con.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    con.execute(statement)
                con.execute("COMMIT")
                self._tables_ready = True
            yield con
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.registry.path}: cannot use the fine-tuning tables ({exc}); "
                            "is it a labelcycle registry?") from None
        finally:
            con.close()

    def _retry(self, call: Callable[[], _T], *, hint: str,
               recover: Callable[[], _T | None] | None = None) -> _T:
        """Run ``call``; retry retryable ProviderErrors up to ``max_attempts`` times."""
        delay = self.retry_backoff
        for attempt in range(1, max(1, self.max_attempts) + 1):
            try:
                return call()
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                if attempt >= self.max_attempts:
                    raise ProviderError(
                        f"{exc.action} (gave up after {attempt} attempts)", base_url=exc.base_url,
                        status_code=exc.status_code, code=exc.code, message=exc.message,
                        retryable=True, retry_after=exc.retry_after, original=exc.original,
                        hint=hint) from None
                wait = exc.retry_after if exc.retry_after is not None else delay
                time.sleep(min(max(wait, 0.0), _MAX_RETRY_SLEEP))
                delay = min(delay * 2, self.max_poll_interval)
                if recover is not None and (exc.status_code is None or exc.status_code >= 500):
                    found = recover()
                    if found is not None:
                        return found
        raise RuntimeError("unreachable")  # pragma: no cover

    # -- files ----------------------------------------------------------------------------

    def upload(self, path: str | os.PathLike[str], *, purpose: str = "fine-tune") -> str:
        """Upload a file once per content and base URL; return its file id.

        Parameters
        ----------
        path : path-like
            The JSONL file.
        purpose : str, default "fine-tune"
            The provider's file purpose.

        Returns
        -------
        str
            The provider's file id; the id recorded earlier for the same sha256 when that file
            still exists there. Dry runs validate the file and return ``file-dryrun-<sha256>``.

        Raises
        ------
        DataError
            Missing file, or (dry run) a file the validator rejects.
        ProviderError
            The upload failed (after retries for temporary failures).

        Example
        -------
        >>> import pathlib, tempfile, json
        >>> from weak_supervision.registry import Registry
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> line = json.dumps({"messages": [{"role": "assistant", "content": "ok"}]})
        >>> _ = (folder / "t.jsonl").write_text((line + "\\n") * 10)
        >>> JobManager(Registry(folder / "r.sqlite"), lambda: None, dry_run=True).upload(
        ...     folder / "t.jsonl")[:12]
        'file-dryrun-'
        """
        return self._upload(Path(path), purpose=purpose, model=DEFAULT_MODEL)[0]

    def _upload(self, path: Path, *, purpose: str, model: str) -> tuple[str, dict[str, Any]]:
        if not path.exists():
            raise DataError(f"{path}: file not found; pass the JSONL file written by the export "
                            "step")
        if not path.is_file():
            raise DataError(f"{path}: not a file; pass the JSONL training file")
        sha = _sha256(path)
        if self.dry_run:
            stats: dict[str, Any] = {}
            if purpose == "fine-tune":
                report = validate_file(path, model=model)
                if not report.ok:
                    shown = "; ".join(f"line {p.line}: {p.error}: {p.message}"
                                      if p.line else f"{p.error}: {p.message}"
                                      for p in report.errors[:5])
                    more = len(report.errors) - 5
                    raise DataError(f"{path} would be rejected ({len(report.errors)} error(s)): "
                                    f"{shown}{f'; and {more} more' if more > 0 else ''}")
                s = report.stats
                stats = {"path": str(path), "sha256": sha, "n_examples": s.n_examples,
                         "total_tokens": s.total_tokens, "n_epochs_default": s.n_epochs,
                         "billed_tokens_default_epochs": s.billed_tokens,
                         "billing_tokens_per_epoch": s.billing_tokens_per_epoch,
                         "n_warnings": len(report.warnings)}
            return f"file-dryrun-{sha[:24]}", stats
        base_url = self.base_url
        with self._db() as con:
            row = con.execute(
                "SELECT file_id FROM finetune_files WHERE base_url = ? AND sha256 = ? "
                "AND purpose = ?", (base_url, sha, purpose)).fetchone()
        hint = f"nothing was recorded for {path.name}; run the upload again"
        if row is not None:
            file_id = row["file_id"]
            try:
                self._retry(lambda: self._client().retrieve_file(file_id), hint=hint)
                return file_id, {}
            except ProviderError as exc:
                if exc.status_code != 404:
                    raise
            with self._db() as con:  # deleted or expired on the provider: upload again
                con.execute("DELETE FROM finetune_files WHERE base_url = ? AND sha256 = ? "
                            "AND purpose = ?", (base_url, sha, purpose))
        obj = self._retry(lambda: self._client().upload_file(path, purpose=purpose), hint=hint)
        file_id = str(obj["id"])
        with self._db() as con:
            con.execute("INSERT OR REPLACE INTO finetune_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (base_url, sha, purpose, file_id, path.name, path.stat().st_size, _now()))
        return file_id, {}

    def _file_arg(self, value: str | os.PathLike[str] | None, *, model: str,
                  ) -> tuple[str | None, dict[str, Any]]:
        if value is None:
            return None, {}
        if _looks_like_path(value):
            return self._upload(Path(value), purpose="fine-tune", model=model)
        return str(value), {}

    # -- jobs -----------------------------------------------------------------------------

    def submit(self, train_file: str | os.PathLike[str], *, model: str,
               validation_file: str | os.PathLike[str] | None = None,
               n_epochs: int | str | None = None, batch_size: int | str | None = None,
               learning_rate_multiplier: float | str | None = None, suffix: str | None = None,
               seed: int | None = 123, metadata: Mapping[str, str] | None = None) -> JobRecord:
        """Create a supervised fine-tuning job and record it.

        Parameters
        ----------
        train_file, validation_file : path-like or str
            A JSONL path (uploaded first, once per content) or a provider file id.
        model : str
            Base model to fine-tune.
        n_epochs, batch_size, learning_rate_multiplier : int, float or "auto", optional
            Hyperparameters; None leaves them out (the provider chooses).
        suffix : str, optional
            Up to 64 characters added to the fine-tuned model's name.
        seed : int or None, default 123
            The provider's training seed.
        metadata : dict of str -> str, optional
            E.g. ``{"run_id": ..., "lf_fingerprint": ...}``; at most 15 keys.

        Returns
        -------
        JobRecord
            Status as the provider reported it (``dry_run`` in dry runs).

        Raises
        ------
        ConfigError
            Invalid hyperparameters, suffix or metadata.
        ProviderError
            The job could not be created (nothing is recorded).

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> reg = Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> manager = JobManager(reg, lambda: None, dry_run=True)
        >>> manager.submit("file-abc", model="gpt-4o-mini-2024-07-18", metadata={"run": "1"}
        ...                ).request["metadata"]
        {'run': '1'}
        """
        if not isinstance(model, str) or not model.strip():
            raise ConfigError("model must be the name of the base model to fine-tune")
        if suffix is not None and (not isinstance(suffix, str) or not 0 < len(suffix)
                                   <= _MAX_SUFFIX):
            raise ConfigError(f"suffix must be 1-{_MAX_SUFFIX} characters, got {suffix!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"seed must be an integer or None, got {seed!r}")
        hyper = _hyperparameters(n_epochs, batch_size, learning_rate_multiplier)
        meta = _metadata(metadata)
        train_id, validation = self._file_arg(train_file, model=model)
        training_id = train_id or ""
        validation_id, _ = self._file_arg(validation_file, model=model)
        body: dict[str, Any] = {
            "model": model,
            "training_file": training_id,
            "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
        }
        if validation_id is not None:
            body["validation_file"] = validation_id
        if seed is not None:
            body["seed"] = seed
        if suffix is not None:
            body["suffix"] = suffix
        now = _now()
        if self.dry_run:
            if meta:
                body["metadata"] = meta
            digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            record = JobRecord(
                job_id=f"dryrun-{digest[:20]}", base_url=self.base_url, model=model,
                training_file=training_id, validation_file=validation_id, status=DRY_RUN_STATUS,
                created_at=now, updated_at=now, hyperparameters=hyper, seed=seed, suffix=suffix,
                metadata=meta, request=body, validation=validation)
            self._save(record)
            return record
        token = secrets.token_hex(12)
        body["metadata"] = {**meta, SUBMIT_ID_KEY: token}
        job = self._retry(lambda: self._client().create_job(**body),
                          hint="no job was recorded; submit again",
                          recover=lambda: self._find_submitted(token))
        record = JobRecord(
            job_id=str(job["id"]), base_url=self.base_url, model=model, training_file=training_id,
            validation_file=validation_id, status=str(job.get("status") or "validating_files"),
            created_at=_iso(job.get("created_at")) or now, updated_at=now, hyperparameters=hyper,
            seed=seed, suffix=suffix, metadata=body["metadata"], request=body)
        record = self._merge(record, job)
        self._save(record)
        return record

    def _find_submitted(self, token: str) -> dict[str, Any] | None:
        """A job already created with this submit id (an earlier attempt that did get through)."""
        try:
            jobs = self._client().list_jobs(metadata={SUBMIT_ID_KEY: token}, limit=10)
        except ProviderError:
            return None
        for job in jobs:
            meta = job.get("metadata") or {}
            if isinstance(meta, Mapping) and meta.get(SUBMIT_ID_KEY) == token:
                return job
        return None

    def _merge(self, record: JobRecord, job: Mapping[str, Any]) -> JobRecord:
        """The record updated with what the provider says about the job."""
        code, message = _error_of(job)
        hyper = _resolved_hyperparameters(job)
        changes: dict[str, Any] = {"updated_at": _now()}
        if job.get("status"):
            changes["status"] = str(job["status"])
        if job.get("fine_tuned_model"):
            changes["fine_tuned_model"] = str(job["fine_tuned_model"])
        if code or message:
            changes["error_code"], changes["error_message"] = code, message
        if _iso(job.get("finished_at")):
            changes["finished_at"] = _iso(job.get("finished_at"))
        tokens = job.get("trained_tokens")
        if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
            changes["trained_tokens"] = tokens
        if hyper:
            changes["hyperparameters"] = hyper
        return JobRecord(**{**asdict(record), **changes})

    def _save(self, record: JobRecord) -> None:
        """Insert or update the record; the watch position is only ever moved by ``watch``."""
        r = record
        columns = ("job_id", "base_url", "model", "training_file", "validation_file", "status",
                   "created_at", "updated_at", "hyperparameters", "seed", "suffix", "metadata",
                   "fine_tuned_model", "error_code", "error_message", "finished_at",
                   "trained_tokens", "request", "validation")
        values = (r.job_id, r.base_url, r.model, r.training_file, r.validation_file, r.status,
                  r.created_at, r.updated_at, json.dumps(r.hyperparameters, sort_keys=True),
                  r.seed, r.suffix, json.dumps(r.metadata, sort_keys=True), r.fine_tuned_model,
                  r.error_code, r.error_message, r.finished_at, r.trained_tokens,
                  json.dumps(r.request, sort_keys=True), json.dumps(r.validation, sort_keys=True))
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
        with self._db() as con:
            con.execute(
                f"INSERT INTO finetune_jobs ({', '.join(columns)}) VALUES "
                f"({', '.join('?' * len(columns))}) ON CONFLICT (base_url, job_id) DO UPDATE "
                f"SET {updates}", values)

    def _get(self, job_id: str) -> tuple[JobRecord, int | None]:
        with self._db() as con:
            rows = con.execute("SELECT * FROM finetune_jobs WHERE job_id = ?",
                               (job_id,)).fetchall()
            if not rows:
                recent = [r[0] for r in con.execute(
                    "SELECT job_id FROM finetune_jobs ORDER BY created_at DESC LIMIT 5")]
                known = f"; recorded jobs: {', '.join(recent)}" if recent else \
                    "; no job recorded yet (submit one first)"
                raise DataError(f"no fine-tuning job {job_id!r} in {self.registry.path}{known}")
        if len(rows) > 1:
            rows = [r for r in rows if r["base_url"] == self.base_url] or rows[:1]
        row = rows[0]
        return _record(row), row["last_event_created_at"]

    def _offline(self, record: JobRecord) -> bool:
        """Whether to answer from the table alone (dry runs, dry-run records)."""
        return self.dry_run or record.status == DRY_RUN_STATUS

    def _check_url(self, record: JobRecord) -> None:
        if record.base_url != self.base_url:
            raise ConfigError(f"job {record.job_id} runs on {record.base_url}, but this manager "
                              f"talks to {self.base_url}; use a client for {record.base_url}")

    def status(self, job_id: str) -> JobRecord:
        """Ask the provider for the job's status and record it.

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> m.status(m.submit("file-1", model="gpt-4o-mini-2024-07-18").job_id).status
        'dry_run'
        """
        return self._update(job_id, lambda: self._client().retrieve_job(job_id),
                            hint=f"the job record is kept; ask for the status of {job_id} again")

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel the job on the provider and record the new status.

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> m.cancel(m.submit("file-1", model="gpt-4o-mini-2024-07-18").job_id).status
        'dry_run'
        """
        return self._update(job_id, lambda: self._client().cancel_job(job_id),
                            hint=f"the job record is kept; cancel {job_id} again")

    def _update(self, job_id: str, call: Callable[[], dict[str, Any]], *, hint: str) -> JobRecord:
        """Make one provider call about a recorded job and record what it answered."""
        record, _ = self._get(job_id)
        if self._offline(record):
            return record
        self._check_url(record)
        record = self._merge(record, self._retry(call, hint=hint))
        self._save(record)
        return record

    def events(self, job_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """The job's latest ``limit`` events, oldest first (does not move the watch position).

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> m.events(m.submit("file-1", model="gpt-4o-mini-2024-07-18").job_id)
        []
        """
        if limit <= 0:
            raise ConfigError(f"limit must be positive, got {limit}")
        record, _ = self._get(job_id)
        if self._offline(record):
            return []
        self._check_url(record)
        out: list[dict[str, Any]] = []
        ids: set[str] = set()
        after: str | None = None
        while len(out) < limit:
            page, has_more = self._retry(
                lambda a=after: self._client().list_events(job_id, after=a,
                                                           limit=min(100, limit - len(out))),
                hint="nothing was changed; ask again")
            fresh = [e for e in page if str(e.get("id")) not in ids]
            ids.update(str(e.get("id")) for e in fresh)
            out.extend(fresh)
            if not has_more or not fresh:  # (no new id: a cursor that does not move)
                break
            after = str(page[-1]["id"])
        return out[:limit][::-1]

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """The job's checkpoints as the provider lists them (step, metrics, model name).

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> m.checkpoints(m.submit("file-1", model="gpt-4o-mini-2024-07-18").job_id)
        []
        """
        record, _ = self._get(job_id)
        if self._offline(record):
            return []
        self._check_url(record)
        out: list[dict[str, Any]] = []
        ids: set[str] = set()
        after: str | None = None
        for _ in range(_MAX_PAGES):
            page, has_more = self._retry(
                lambda a=after: self._client().list_checkpoints(job_id, after=a),
                hint="nothing was changed; ask again")
            fresh = [c for c in page if str(c.get("id")) not in ids]
            ids.update(str(c.get("id")) for c in fresh)
            out.extend(fresh)
            if not has_more or not fresh:  # (no new id: a cursor that does not move)
                break
            after = str(page[-1]["id"])
        return out

    def list_jobs(self) -> list[JobRecord]:
        """Every recorded job (dry runs included), newest first, from the table only.

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> [r.status for r in (m.submit("file-1", model="gpt-4o-mini-2024-07-18"),)]
        ['dry_run']
        >>> len(m.list_jobs())
        1
        """
        with self._db() as con:
            rows = con.execute("SELECT * FROM finetune_jobs ORDER BY created_at DESC, "
                               "rowid DESC").fetchall()
        return [_record(row) for row in rows]

    def watch(self, job_id: str, *,
              on_event: Callable[[dict[str, Any]], None] | None = None) -> JobRecord:
        """Poll the job until it succeeds, fails or is cancelled, streaming new events.

        Parameters
        ----------
        job_id : str
            A job recorded by :meth:`submit` (by this or an earlier process).
        on_event : callable, optional
            Called with each new event (a dict with ``id``, ``created_at``, ``level``,
            ``message``, ``type``, ``data``), oldest first, each event once across restarts.

        Returns
        -------
        JobRecord
            The final record; a failed job carries ``error_code`` and ``error_message``.

        Raises
        ------
        ProviderError
            The provider stayed unreachable after ``max_attempts``; the record is kept and a
            later ``watch`` resumes from the last event seen.
        LabelcycleError
            ``max_wait`` passed before a terminal status (resumable the same way).

        Example
        -------
        >>> import pathlib, tempfile
        >>> from weak_supervision.registry import Registry
        >>> m = JobManager(Registry(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"), lambda: None,
        ...                dry_run=True)
        >>> m.watch(m.submit("file-1", model="gpt-4o-mini-2024-07-18").job_id).status
        'dry_run'
        """
        record, _ = self._get(job_id)
        if self._offline(record):
            return record
        self._check_url(record)
        hint = (f"job {job_id} stays recorded in {self.registry.path}; call watch({job_id!r}) "
                "again to resume from the last event seen")
        deadline = time.monotonic() + self.max_wait
        interval = self.poll_interval
        streamed: set[str] = set()
        while True:
            job = self._retry(lambda: self._client().retrieve_job(job_id), hint=hint)
            before = record.status
            record = self._merge(self._get(job_id)[0], job)
            self._save(record)
            n_new = self._stream_events(job_id, on_event, streamed, hint)
            if record.terminal:
                return self._get(job_id)[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LabelcycleError(
                    f"job {job_id} is still {record.status!r} after waiting {self.max_wait:g} s; "
                    f"{hint}")
            if n_new or record.status != before:
                interval = self.poll_interval
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, self.max_poll_interval)

    def _stream_events(self, job_id: str, on_event: Callable[[dict[str, Any]], None] | None,
                       streamed: set[str], hint: str) -> int:
        """Fetch events newer than the last one seen; hand them over oldest first."""
        record, seen_at = self._get(job_id)
        seen = record.last_event_id
        new: list[dict[str, Any]] = []
        ids: set[str] = set()
        after: str | None = None
        for _ in range(_MAX_PAGES):
            page, has_more = self._retry(
                lambda a=after: self._client().list_events(job_id, after=a, limit=_EVENT_PAGE),
                hint=hint)
            stop = fresh = False
            for event in page:
                created = event.get("created_at")
                if event.get("id") == seen or (seen_at is not None and isinstance(created, int)
                                               and created < seen_at):
                    stop = True
                    break
                if str(event.get("id")) not in ids:
                    ids.add(str(event.get("id")))
                    new.append(event)
                    fresh = True
            if stop or not has_more or not fresh:  # (no new id: a cursor that does not move)
                break
            after = str(page[-1]["id"])
        count = 0
        for event in reversed(new):
            event_id = str(event.get("id"))
            if event_id in streamed:
                continue
            if on_event is not None:
                on_event(event)
            streamed.add(event_id)
            count += 1
            created = event.get("created_at")
            with self._db() as con:
                con.execute(
                    "UPDATE finetune_jobs SET last_event_id = ?, last_event_created_at = ? "
                    "WHERE base_url = ? AND job_id = ?",
                    (event_id, created if isinstance(created, int) else None, record.base_url,
                     job_id))
        return count


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"], base_url=row["base_url"], model=row["model"],
        training_file=row["training_file"], validation_file=row["validation_file"],
        status=row["status"], created_at=row["created_at"], updated_at=row["updated_at"],
        hyperparameters=json.loads(row["hyperparameters"]), seed=row["seed"],
        suffix=row["suffix"], metadata=json.loads(row["metadata"]),
        fine_tuned_model=row["fine_tuned_model"], error_code=row["error_code"],
        error_message=row["error_message"], finished_at=row["finished_at"],
        trained_tokens=row["trained_tokens"], last_event_id=row["last_event_id"],
        request=json.loads(row["request"]), validation=json.loads(row["validation"]),
    )

