"""Evaluate a chat model (a base model or a fine-tuned one) on a labelled file.

Each row becomes one chat completion request: an optional system prompt and a user message
built from the row with ``user_template.format(**row)``. Requests run in a thread pool, are
retried on 429/5xx/network failures with exponential backoff (the provider's Retry-After wins),
and every answer is cached on disk under the sha256 of model + messages + parameters, so a
second run of the same evaluation makes no request at all and an interrupted run continues
where it stopped.

Answers are mapped to the label set by guardrails (:func:`map_answer`): the exact label, then a
case-, space- and surrounding-punctuation-insensitive match, then the closest label by
``difflib`` above a cutoff (a tie between two labels is not a match). Anything else is
``invalid``: it counts as a wrong prediction in accuracy and macro-F1 and is listed as its own
slice.

Example
-------
>>> map_answer(" Spam.", ["spam", "ham"])
(0, 'normalized')
>>> map_answer("hamm", ["spam", "ham"])
(1, 'fuzzy')
>>> map_answer("I cannot tell", ["spam", "ham"])
(-1, 'invalid')
"""

from __future__ import annotations

import difflib
import hashlib
import json
import random
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from finetune.client import ProviderClient, ProviderError
from labelfns.errors import ConfigError, DataError, LabelcycleError
from weak_supervision.io import write_json
from weak_supervision.metrics import accuracy as _accuracy
from weak_supervision.metrics import macro_f1 as _macro_f1

__all__ = [
    "INVALID",
    "MATCH_KINDS",
    "RowPrediction",
    "ChatEvalResult",
    "map_answer",
    "request_key",
    "evaluate_chat_model",
    "evaluate_text_model",
    "TextEvalResult",
    "pii_leak_rate",
]

INVALID = "invalid"
"""Name of the slice (and match kind) of answers that map to no label."""

MATCH_KINDS = ("exact", "normalized", "fuzzy", INVALID)
"""How an answer was mapped to a label, strictest first."""

_STRIP = " \t\r\n\"'`.,;:!?()[]{}<>*_"
_MAX_SLEEP = 60.0


@dataclass(frozen=True)
class RowPrediction:
    """The model's answer on one row.

    Attributes
    ----------
    row : int
        Position of the row in the input (0-based).
    gold : int
        Index of the gold label in ``labels``.
    answer : str or None
        The model's raw answer (None when it returned no text).
    predicted : int
        Index of the mapped label, ``-1`` when the answer is invalid.
    match : str
        One of :data:`MATCH_KINDS`.
    cached : bool
        True when the answer came from the disk cache.
    """

    row: int
    gold: int
    answer: str | None
    predicted: int
    match: str
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        """The prediction as a dict."""
        return asdict(self)


@dataclass(frozen=True)
class ChatEvalResult:
    """Scores and per-row predictions of a chat model on a labelled file.

    Attributes
    ----------
    model : str
        The model evaluated.
    labels : tuple of str
        The label set; class ``i`` is ``labels[i]``.
    n : int
        Rows scored.
    accuracy, macro_f1 : float
        Over all rows; invalid answers count as wrong (macro-F1 over the gold classes).
    n_invalid : int
        Answers that map to no label.
    n_requests : int
        HTTP requests made, retries included (0 when everything came from the cache).
    n_cache_hits : int
        Rows answered from the cache.
    predictions : tuple of RowPrediction
        One per row, in input order.

    Example
    -------
    >>> r = ChatEvalResult("m", ("a", "b"), 2, 0.5, 0.33, 1, 0, 2,
    ...                    (RowPrediction(0, 0, "a", 0, "exact", True),
    ...                     RowPrediction(1, 1, "?", -1, "invalid", True)))
    >>> r.invalid_rate, r.to_frame()["slice"].tolist()
    (0.5, ['valid', 'invalid'])
    """

    model: str
    labels: tuple[str, ...]
    n: int
    accuracy: float
    macro_f1: float
    n_invalid: int
    n_requests: int
    n_cache_hits: int
    predictions: tuple[RowPrediction, ...]

    @property
    def invalid_rate(self) -> float:
        """Fraction of rows whose answer maps to no label."""
        return self.n_invalid / self.n if self.n else 0.0

    @property
    def accuracy_valid(self) -> float | None:
        """Accuracy over the rows with a valid answer (None when there is none)."""
        valid = [p for p in self.predictions if p.predicted != -1]
        if not valid:
            return None
        return float(np.mean([p.predicted == p.gold for p in valid]))

    def invalid(self) -> tuple[RowPrediction, ...]:
        """The rows of the ``invalid`` slice."""
        return tuple(p for p in self.predictions if p.predicted == -1)

    def to_frame(self) -> pd.DataFrame:
        """Per-row predictions: row, gold, gold_label, answer, predicted, predicted_label,
        match, correct, cached, slice (``"invalid"`` or ``"valid"``)."""
        rows = []
        for p in self.predictions:
            rows.append({
                "row": p.row, "gold": p.gold, "gold_label": self.labels[p.gold],
                "answer": p.answer, "predicted": p.predicted,
                "predicted_label": self.labels[p.predicted] if p.predicted >= 0 else None,
                "match": p.match, "correct": p.predicted == p.gold, "cached": p.cached,
                "slice": INVALID if p.predicted == -1 else "valid",
            })
        columns = ["row", "gold", "gold_label", "answer", "predicted", "predicted_label",
                   "match", "correct", "cached", "slice"]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """Summary, match counts and the two slices (the invalid rows listed with their answer).

        Example
        -------
        >>> r = ChatEvalResult("m", ("a",), 1, 0.0, 0.0, 1, 1, 0,
        ...                    (RowPrediction(0, 0, "zzz", -1, "invalid", False),))
        >>> r.to_dict()["slices"]["invalid"]["rows"]
        [{'row': 0, 'answer': 'zzz', 'gold_label': 'a'}]
        """
        invalid = self.invalid()
        valid_n = self.n - len(invalid)
        return {
            "model": self.model,
            "labels": list(self.labels),
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n_invalid": self.n_invalid,
            "invalid_rate": self.invalid_rate,
            "n_requests": self.n_requests,
            "n_cache_hits": self.n_cache_hits,
            "matches": {kind: sum(p.match == kind for p in self.predictions)
                        for kind in MATCH_KINDS},
            "slices": {
                "valid": {"n": valid_n, "accuracy": self.accuracy_valid},
                INVALID: {"n": len(invalid), "rows": [
                    {"row": p.row, "answer": p.answer, "gold_label": self.labels[p.gold]}
                    for p in invalid]},
            },
        }


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip(_STRIP)
    return " ".join(text.split())


def _check_labels(labels: Sequence[str]) -> tuple[str, ...]:
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise ConfigError("labels must be a list of label names, e.g. ['spam', 'ham']")
    out = tuple(labels)
    if not out:
        raise ConfigError("labels is empty; pass the label names the model should answer with")
    seen: dict[str, str] = {}
    for label in out:
        if not isinstance(label, str) or not _normalize(label):
            raise ConfigError(f"label {label!r} must be a non-empty string")
        key = _normalize(label)
        if key in seen:
            raise ConfigError(f"labels {seen[key]!r} and {label!r} are the same once case, "
                              "spaces and punctuation are ignored; rename one")
        seen[key] = label
    return out


def map_answer(answer: str | None, labels: Sequence[str], *,
               cutoff: float = 0.8) -> tuple[int, str]:
    """Map a model's answer to a label index.

    Parameters
    ----------
    answer : str or None
        The model's text.
    labels : sequence of str
        The label set.
    cutoff : float, default 0.8
        Lowest ``difflib`` similarity ratio accepted for a fuzzy match.

    Returns
    -------
    (int, str)
        The label index (``-1`` for none) and the match kind: ``"exact"``, ``"normalized"``
        (ignoring case, repeated spaces and surrounding punctuation/quotes), ``"fuzzy"`` (the
        single closest label by ratio >= cutoff) or ``"invalid"``.

    Example
    -------
    >>> map_answer("ham", ["spam", "ham"]), map_answer('"HAM"', ["spam", "ham"])
    ((1, 'exact'), (1, 'normalized'))
    >>> map_answer("ca", ["cat", "car"])  # as close to both: not a match
    (-1, 'invalid')
    """
    labels = _check_labels(labels)
    if answer is None or not isinstance(answer, str):
        return -1, INVALID
    if answer in labels:
        return labels.index(answer), "exact"
    norm = _normalize(answer)
    if not norm:
        return -1, INVALID
    normalized = [_normalize(label) for label in labels]
    if norm in normalized:
        return normalized.index(norm), "normalized"
    ratios = [difflib.SequenceMatcher(None, norm, label).ratio() for label in normalized]
    best = max(ratios)
    if best >= cutoff and ratios.count(best) == 1:
        return ratios.index(best), "fuzzy"
    return -1, INVALID


def request_key(model: str, messages: Sequence[Mapping[str, Any]],
                params: Mapping[str, Any]) -> str:
    """The cache key of a request: sha256 of its model, messages and parameters.

    Example
    -------
    >>> k = request_key("m", [{"role": "user", "content": "hi"}], {"temperature": 0})
    >>> len(k), k == request_key("m", [{"role": "user", "content": "hi"}], {"temperature": 0})
    (64, True)
    """
    payload = json.dumps({"model": model, "messages": list(messages), "params": dict(params)},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _read_cache(cache_dir: Path, key: str) -> dict[str, Any] | None:
    path = _cache_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("key") != key or "answer" not in data:
        warnings.warn(f"{path}: unreadable cache entry; asking the model again", stacklevel=3)
        return None
    return data


def _gold_index(value: Any, labels: tuple[str, ...], row: int, column: str) -> int:
    if isinstance(value, str) and value in labels:
        return labels.index(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
            and 0 <= int(value) < len(labels):
        return int(value)
    raise DataError(f"row {row}: gold label {value!r} in column {column!r} is not one of "
                    f"{', '.join(labels)} (nor an index 0-{len(labels) - 1}); fix the label or "
                    "drop rows without one")


def _rows(records: Any) -> list[Mapping[str, Any]]:
    if isinstance(records, pd.DataFrame):
        return records.to_dict("records")
    if isinstance(records, Mapping) or isinstance(records, (str, bytes)):
        raise DataError("records must be a DataFrame or a list of dicts (one per row)")
    rows = list(records)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"row {i} is a {type(row).__name__}, not a dict of fields")
    return rows


def _messages(row: Mapping[str, Any], i: int, system_prompt: str | None,
              user_template: str) -> list[dict[str, str]]:
    try:
        user = user_template.format(**row)
    except KeyError as exc:
        raise DataError(f"row {i}: user_template uses {{{exc.args[0]}}} but the row has no such "
                        f"field; fields: {', '.join(map(str, row))}") from None
    except (IndexError, ValueError) as exc:
        raise ConfigError(f"user_template {user_template!r} is not a valid format string with "
                          f"named fields ({exc}); write e.g. 'Classify: {{text}}'") from None
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": user})
    return messages


class _Caller:
    """Runs one uncached request with retries and writes its answer to the cache."""

    def __init__(self, client: ProviderClient, *, model: str, params: dict[str, Any],
                 cache_dir: Path, max_retries: int, retry_backoff: float, seed: int) -> None:
        self.client = client
        self.model = model
        self.params = params
        self.cache_dir = cache_dir
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.seed = seed
        self.lock = threading.Lock()
        self.n_requests = 0
        self.hint = (f"answers received so far are cached in {cache_dir}; run the evaluation "
                     "again to continue")

    def __call__(self, item: tuple[str, list[dict[str, str]]]) -> tuple[str, str | None]:
        key, messages = item
        rng = random.Random(f"{self.seed}:{key}")
        for attempt in range(self.max_retries + 1):
            with self.lock:
                self.n_requests += 1
            try:
                response = self.client.chat_completion(model=self.model, messages=messages,
                                                       **self.params)
                break
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.max_retries:
                    tries = f" (gave up after {attempt + 1} attempts)" if exc.retryable else ""
                    raise ProviderError(
                        f"{exc.action}{tries}", base_url=exc.base_url,
                        status_code=exc.status_code, code=exc.code, message=exc.message,
                        retryable=exc.retryable, retry_after=exc.retry_after,
                        original=exc.original, hint=self.hint) from None
                if exc.retry_after is not None:
                    wait = exc.retry_after
                else:
                    wait = self.retry_backoff * (2 ** attempt) * (0.5 + rng.random() / 2)
                time.sleep(min(max(wait, 0.0), _MAX_SLEEP))
        choices = response.get("choices") or [{}]
        message = (choices[0] or {}).get("message") or {}
        content = message.get("content")
        answer = content.strip() if isinstance(content, str) else None
        path = _cache_path(self.cache_dir, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {
            "key": key, "model": self.model, "messages": messages, "params": self.params,
            "answer": answer, "finish_reason": (choices[0] or {}).get("finish_reason"),
            "response_model": response.get("model"), "usage": response.get("usage"),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        })
        return key, answer


def evaluate_chat_model(records: pd.DataFrame | Iterable[Mapping[str, Any]], *, model: str,
                        labels: Sequence[str], client_factory: Callable[[], ProviderClient],
                        system_prompt: str | None, user_template: str,
                        cache_dir: str | Path, label_column: str = "label",
                        concurrency: int = 4, max_retries: int = 5, seed: int = 123,
                        request_params: Mapping[str, Any] | None = None, cutoff: float = 0.8,
                        retry_backoff: float = 1.0) -> ChatEvalResult:
    """Ask a chat model to label every row and score its answers against the gold labels.

    Parameters
    ----------
    records : DataFrame or iterable of dict
        Rows with the fields ``user_template`` uses and the gold label in ``label_column``
        (a label name, or its index in ``labels``).
    model : str
        Model to call (e.g. ``"ft:gpt-4o-mini-2024-07-18:acme::abc123"``).
    labels : sequence of str
        The label set the model must answer with.
    client_factory : callable
        Returns a :class:`~finetune.client.ProviderClient`; called only if some answer is
        not cached.
    system_prompt : str or None
        System message (None: no system message).
    user_template : str
        ``str.format`` template of the user message, e.g. ``"Classify: {text}"``.
    cache_dir : path-like
        Folder of the response cache (created if missing).
    label_column : str, default "label"
        Column holding the gold label.
    concurrency : int, default 4
        Requests in flight at once.
    max_retries : int, default 5
        Retries of a request on 429, 5xx and network failures.
    seed : int, default 123
        Sent to the model as ``seed``; also seeds the backoff jitter.
    request_params : dict, optional
        More request fields (``{"max_tokens": 5}``); a None value removes a default one
        (``{"temperature": None}`` for models that refuse it). Defaults: ``temperature=0``.
    cutoff : float, default 0.8
        Fuzzy-match cutoff of :func:`map_answer`.
    retry_backoff : float, default 1.0
        First backoff in seconds when the provider gives no Retry-After.

    Returns
    -------
    ChatEvalResult

    Raises
    ------
    DataError
        No rows, a missing field or an unknown gold label (the message names the row).
    ProviderError
        A request failed for good; answers received so far stay cached.

    Example
    -------
    >>> import tempfile
    >>> from finetune.client import ClientFactory
    >>> cache = tempfile.mkdtemp()
    >>> rows = [{"text": "win money", "label": "spam"}]
    >>> key = request_key("m", [{"role": "user", "content": "win money"}],
    ...                   {"seed": 123, "temperature": 0.0})
    >>> import pathlib; p = pathlib.Path(cache) / key[:2] / f"{key}.json"
    >>> p.parent.mkdir(parents=True); _ = p.write_text(json.dumps({"key": key, "answer": "Spam"}))
    >>> r = evaluate_chat_model(rows, model="m", labels=["spam", "ham"], system_prompt=None,
    ...                         user_template="{text}", cache_dir=cache,
    ...                         client_factory=ClientFactory(base_url="http://127.0.0.1:9/v1"))
    >>> r.accuracy, r.n_requests, r.n_cache_hits
    (1.0, 0, 1)
    """
    label_set = _check_labels(labels)
    rows = _rows(records)
    if not rows:
        raise DataError("no rows to evaluate; pass the labelled rows (a DataFrame or dicts)")
    golds: list[int] = []
    for i, row in enumerate(rows):
        if label_column not in row:
            raise DataError(f"row {i} has no {label_column!r} column with the gold label; "
                            f"fields: {', '.join(map(str, row))}")
        golds.append(_gold_index(row[label_column], label_set, i, label_column))
    keys, answers, hits, n_requests = _complete(
        rows, model=model, client_factory=client_factory, system_prompt=system_prompt,
        user_template=user_template, cache_dir=cache_dir, concurrency=concurrency,
        max_retries=max_retries, seed=seed, request_params=request_params,
        retry_backoff=retry_backoff)

    predictions = []
    for i, (gold, key) in enumerate(zip(golds, keys, strict=True)):
        index, match = map_answer(answers[key], label_set, cutoff=cutoff)
        predictions.append(RowPrediction(row=i, gold=gold, answer=answers[key], predicted=index,
                                         match=match, cached=key in hits))
    y_true = np.asarray(golds, dtype=np.int64)
    y_pred = np.asarray([p.predicted for p in predictions], dtype=np.int64)
    n_invalid = int((y_pred == -1).sum())
    return ChatEvalResult(
        model=model, labels=label_set, n=len(rows), accuracy=_accuracy(y_true, y_pred),
        macro_f1=_macro_f1(y_true, y_pred), n_invalid=n_invalid, n_requests=n_requests,
        n_cache_hits=sum(p.cached for p in predictions), predictions=tuple(predictions))


def _complete(rows: list[Mapping[str, Any]], *, model: str,
              client_factory: Callable[[], ProviderClient], system_prompt: str | None,
              user_template: str, cache_dir: str | Path, concurrency: int, max_retries: int,
              seed: int, request_params: Mapping[str, Any] | None, retry_backoff: float
              ) -> tuple[list[str], dict[str, str | None], set[str], int]:
    """Ask the model once per distinct prompt (cached answers are reused).

    Returns each row's request key, the answers by key, the keys answered from the cache, and
    the number of requests made.
    """
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}")
    if max_retries < 0:
        raise ConfigError(f"max_retries must be >= 0, got {max_retries}")
    params: dict[str, Any] = {"temperature": 0.0, "seed": seed}
    for name, value in (request_params or {}).items():
        if name in ("model", "messages", "stream", "n"):
            raise ConfigError(f"request_params may not set {name!r}")
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    params = dict(sorted(params.items()))
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    todo: dict[str, list[dict[str, str]]] = {}
    answers: dict[str, str | None] = {}
    for i, row in enumerate(rows):
        messages = _messages(row, i, system_prompt, user_template)
        key = request_key(model, messages, params)
        keys.append(key)
        if key in answers or key in todo:
            continue
        cached = _read_cache(cache, key)
        if cached is not None:
            answers[key] = cached["answer"]
        else:
            todo[key] = messages
    hits = set(answers)
    n_requests = 0
    if todo:
        client = client_factory()
        caller = _Caller(client, model=model, params=params, cache_dir=cache,
                         max_retries=max_retries, retry_backoff=retry_backoff, seed=seed)
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="chat-eval")
        try:
            for key, answer in pool.map(caller, todo.items()):
                answers[key] = answer
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            n_requests = caller.n_requests
            client.close()
    return keys, answers, hits, n_requests


@dataclass(frozen=True)
class TextEvalResult:
    """Outputs of a chat model on a text-to-text task, and how many of them leak PII.

    ``leaking`` holds, per leaking row, the row number and the PII types found (never the values).
    """

    model: str
    n: int
    n_leaking: int
    n_requests: int
    n_cache_hits: int
    outputs: tuple[str | None, ...] = field(repr=False)
    leaking: tuple[tuple[int, tuple[str, ...]], ...] = field(repr=False, default=())

    @property
    def leak_rate(self) -> float:
        return self.n_leaking / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts and the leaking rows (row number and PII types only)."""
        return {"model": self.model, "task": "text", "n": self.n, "n_leaking": self.n_leaking,
                "pii_leak_rate": self.leak_rate, "n_requests": self.n_requests,
                "n_cache_hits": self.n_cache_hits,
                "leaking": [{"row": r, "types": list(t)} for r, t in self.leaking]}


def evaluate_text_model(records: pd.DataFrame | Iterable[Mapping[str, Any]], *, model: str,
                        client_factory: Callable[[], ProviderClient], system_prompt: str | None,
                        user_template: str, cache_dir: str | Path,
                        detector: Callable[[str], Sequence[Any]], concurrency: int = 4,
                        max_retries: int = 5, seed: int = 123,
                        request_params: Mapping[str, Any] | None = None,
                        retry_backoff: float = 1.0) -> TextEvalResult:
    """Run a chat model on a text-to-text task (e.g. summaries) and measure its PII leak rate.

    ``detector`` maps a text to the PII spans found in it (objects with a ``label``, or
    ``(start, end, label)`` tuples); a row leaks when its output has at least one.

    Example
    -------
    >>> import tempfile
    >>> from finetune.client import ClientFactory
    >>> cache = tempfile.mkdtemp()
    >>> key = request_key("m", [{"role": "user", "content": "chat 1"}], {"seed": 123, "temperature": 0.0})
    >>> import pathlib; p = pathlib.Path(cache) / key[:2] / f"{key}.json"
    >>> p.parent.mkdir(parents=True); _ = p.write_text(json.dumps({"key": key, "answer": "Mail bo@x.org"}))
    >>> finds = lambda text: [(0, 1, "EMAIL")] if "@" in text else []
    >>> r = evaluate_text_model([{"text": "chat 1"}], model="m", system_prompt=None,
    ...                         user_template="{text}", cache_dir=cache, detector=finds,
    ...                         client_factory=ClientFactory(base_url="http://127.0.0.1:9/v1"))
    >>> r.leak_rate, r.leaking
    (1.0, ((0, ('EMAIL',)),))
    """
    rows = _rows(records)
    if not rows:
        raise DataError("no rows to evaluate; pass the rows (a DataFrame or dicts)")
    keys, answers, hits, n_requests = _complete(
        rows, model=model, client_factory=client_factory, system_prompt=system_prompt,
        user_template=user_template, cache_dir=cache_dir, concurrency=concurrency,
        max_retries=max_retries, seed=seed, request_params=request_params,
        retry_backoff=retry_backoff)
    outputs = tuple(answers[k] for k in keys)
    leaking = []
    for i, text in enumerate(outputs):
        found = detector(text or "")
        if found:
            types = sorted({getattr(sp, "label", None) or sp[2] for sp in found})
            leaking.append((i, tuple(types)))
    return TextEvalResult(model=model, n=len(rows), n_leaking=len(leaking), n_requests=n_requests,
                          n_cache_hits=sum(k in hits for k in keys), outputs=outputs,
                          leaking=tuple(leaking))


def pii_leak_rate(outputs: Iterable[str | None], detector: Callable[[str], Sequence[Any]]) -> float:
    """Fraction of generated texts in which ``detector`` finds at least one PII span.

    Parameters
    ----------
    outputs : iterable of str or None
        Model outputs (None counts as an empty text).
    detector : callable
        Any function text -> list of spans (e.g. a PII detector of :mod:`labelfns.pii`).

    Returns
    -------
    float

    Raises
    ------
    DataError
        ``outputs`` is empty.
    LabelcycleError
        The detector failed; the message names the output.

    Example
    -------
    >>> import re
    >>> emails = lambda text: [m.span() for m in re.finditer(r"\\S+@\\S+", text)]
    >>> pii_leak_rate(["write to a@b.org", "no contact", None, "c@d.io"], emails)
    0.5
    """
    texts = list(outputs)
    if not texts:
        raise DataError("no outputs to check for PII")
    leaking = 0
    for i, text in enumerate(texts):
        try:
            spans = detector("" if text is None else str(text))
        except Exception as exc:
            name = getattr(detector, "__name__", type(detector).__name__)
            raise LabelcycleError(f"PII detector {name!r} failed on output {i}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        leaking += spans is not None and len(list(spans)) > 0
    return leaking / len(texts)
