"""The provider client: the one module of labelcycle that imports the ``openai`` SDK.

Any OpenAI-compatible service works: pass its ``base_url``. The API key comes, in this order,
from the ``api_key`` argument, the ``OPENAI_API_KEY`` environment variable, or a credentials
file outside the project, ``~/.config/labelcycle/credentials.toml`` (``$XDG_CONFIG_HOME`` is
honoured)::

    api_key = "sk-..."                       # used for any base_url without its own entry

    [base_urls."https://api.together.xyz/v1"]
    api_key = "..."

The key is never printed, logged or stored: reprs show only the base URL, and every error text
built here has the key (and anything shaped like ``sk-...`` or ``Bearer ...``) redacted.

Errors of the SDK become :class:`ProviderError` (a :class:`~labelfns.errors.LabelcycleError`)
carrying the HTTP status, the provider's error code and message, whether retrying can help,
the ``Retry-After`` delay and the original exception (``original``). Results are plain dicts
(the SDK's models dumped to JSON-ready data), so callers never touch SDK types.

Example
-------
>>> client = make_client(base_url="http://127.0.0.1:9/v1", api_key="sk-example-not-a-real-key")
>>> client
ProviderClient(base_url='http://127.0.0.1:9/v1')
>>> redact("sent sk-example-not-a-real-key", "sk-example-not-a-real-key")
'sent ***'
"""

from __future__ import annotations

import email.utils
import math
import os
import re
import stat
import time
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai

from labelfns.errors import ConfigError, LabelcycleError

__all__ = [
    "DEFAULT_BASE_URL",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "ProviderError",
    "ProviderClient",
    "ClientFactory",
    "credentials_path",
    "resolve_api_key",
    "resolve_base_url",
    "make_client",
    "redact",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"

_SECRET_SHAPES = re.compile(r"(?i)\b(?:sk-[A-Za-z0-9_\-]{8,}|bearer\s+[A-Za-z0-9_\-.=]{8,})")
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_NOT_RETRYABLE_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


def redact(text: str, *secrets: str | None) -> str:
    """Return ``text`` with each secret, and anything shaped like an API key, replaced by ``***``.

    Parameters
    ----------
    text : str
        Text that may contain a key (an error message, a repr).
    *secrets : str
        Exact values to remove (the API key in use); empty values are ignored.

    Example
    -------
    >>> redact("key my-own-key and Bearer abcdefghijkl", "my-own-key")
    'key *** and ***'
    """
    out = str(text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "***")
    return _SECRET_SHAPES.sub("***", out)


class ProviderError(LabelcycleError):
    """A request to the provider failed.

    Attributes
    ----------
    status_code : int or None
        HTTP status; None when no response came back (connection failure, timeout).
    code : str or None
        The provider's error code (``"rate_limit_exceeded"``, ``"invalid_training_file"``...).
    message : str
        The provider's message (redacted).
    retryable : bool
        True for connection failures, timeouts, 408, 409, 429 (except quota errors) and 5xx.
    retry_after : float or None
        Seconds the provider asked to wait (``retry-after-ms`` / ``Retry-After`` headers).
    original : BaseException or None
        The SDK exception, kept for retry decisions (never shown: it may hold request headers).

    Example
    -------
    >>> err = ProviderError("create the job", base_url="http://x/v1", status_code=503,
    ...                     code=None, message="overloaded", retryable=True)
    >>> str(err)
    'create the job at http://x/v1 failed: HTTP 503: overloaded (temporary; retry later)'
    """

    def __init__(self, action: str, *, base_url: str, status_code: int | None, code: str | None,
                 message: str, retryable: bool, retry_after: float | None = None,
                 original: BaseException | None = None, hint: str | None = None) -> None:
        self.action = action
        self.base_url = base_url
        self.status_code = status_code
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.original = original
        where = "no response" if status_code is None else f"HTTP {status_code}"
        text = f"{action} at {base_url} failed: {where}"
        if code:
            text += f" [{code}]"
        text += f": {message}"
        if hint:
            text += f". {hint}"
        elif retryable:
            text += " (temporary; retry later)"
        super().__init__(text)

    def __reduce__(self) -> Any:  # pickling must not carry the SDK exception (it holds headers)
        return (LabelcycleError, (str(self),))


def credentials_path() -> Path:
    """Where the credentials file is read from (it need not exist).

    Example
    -------
    >>> credentials_path().name
    'credentials.toml'
    """
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "labelcycle" / "credentials.toml"


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL to use: the argument, else ``$OPENAI_BASE_URL``, else OpenAI's; no trailing ``/``.

    Example
    -------
    >>> resolve_base_url("http://127.0.0.1:8000/v1/")
    'http://127.0.0.1:8000/v1'
    """
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    url = str(url).strip().rstrip("/")
    if not re.match(r"https?://[^/\s]+", url):
        raise ConfigError(f"base_url {url!r} is not an http(s) URL; use e.g. {DEFAULT_BASE_URL}")
    return url


def _key_from_file(path: Path, base_url: str) -> str | None:
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # The parser's message may quote the line holding the key: do not repeat it.
        raise ConfigError(f"{path}: cannot read the credentials file ({type(exc).__name__}); "
                          "fix its TOML syntax (api_key = \"...\")") from None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(f"{path} is readable by other users; run `chmod 600 {path}`", stacklevel=3)
    per_url = data.get("base_urls", {})
    if not isinstance(per_url, dict):
        raise ConfigError(f"{path}: [base_urls] must be a table of "
                          "[base_urls.\"https://host/v1\"] tables with an api_key")
    for url, entry in per_url.items():
        if str(url).strip().rstrip("/") == base_url:
            key = entry.get("api_key") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key.strip():
                raise ConfigError(f"{path}: [base_urls.\"{url}\"] needs api_key = \"...\"")
            return key.strip()
    key = data.get("api_key")
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(f"{path}: api_key must be a non-empty string")
    return key.strip()


def resolve_api_key(base_url: str, api_key: str | None = None) -> str:
    """Find the API key for ``base_url``: argument, then ``$OPENAI_API_KEY``, then the file.

    Raises
    ------
    ConfigError
        No key anywhere; the message names the three places (never a key).

    Example
    -------
    >>> resolve_api_key("http://127.0.0.1:1/v1", "sk-example-not-a-real-key")[:3]
    'sk-'
    """
    if api_key is not None:
        if not str(api_key).strip():
            raise ConfigError("api_key is empty; pass the provider's API key or leave it unset")
        return str(api_key).strip()
    env = os.environ.get(API_KEY_ENV, "").strip()
    if env:
        return env
    path = credentials_path()
    key = _key_from_file(path, base_url)
    if key:
        return key
    raise ConfigError(
        f"no API key for {base_url}: pass api_key=..., set the {API_KEY_ENV} environment "
        f"variable, or write api_key = \"...\" (optionally under [base_urls.\"{base_url}\"]) in "
        f"{path} (outside the project, chmod 600). Never put the key in the project folder")


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if name == "retry-after" else None
            if parsed is None:
                continue
            seconds = parsed.timestamp() - time.time()
        if math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _convert(exc: Exception, action: str, base_url: str, key: str) -> ProviderError:
    """Turn an SDK exception into a ProviderError (redacted)."""
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        body = exc.body
        message = None
        if isinstance(body, Mapping):
            inner = body.get("error") if isinstance(body.get("error"), Mapping) else body
            message = inner.get("message")
        code = exc.code or None
        text = redact(str(message or exc.message or "no message"), key)
        retryable = (status in _RETRYABLE_STATUS or status >= 500) \
            and code not in _NOT_RETRYABLE_CODES
        hint = None
        if status == 401:
            hint = (f"the API key was refused; check {API_KEY_ENV} or {credentials_path()} "
                    "for this base_url")
        elif status == 404:
            hint = "check the id and that base_url points at the provider that created it"
        elif code in _NOT_RETRYABLE_CODES:
            hint = "the account has no quota left; check the provider's billing page"
        return ProviderError(action, base_url=base_url, status_code=status, code=code,
                             message=text, retryable=retryable,
                             retry_after=_retry_after(exc.response), original=exc, hint=hint)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(action, base_url=base_url, status_code=None, code="timeout",
                             message="the request timed out", retryable=True, original=exc)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        return ProviderError(action, base_url=base_url, status_code=None, code="connection_error",
                             message=f"could not connect{detail}", retryable=True, original=exc)
    return ProviderError(action, base_url=base_url, status_code=None, code=None,
                         message=redact(f"{type(exc).__name__}: {exc}", key), retryable=False,
                         original=exc)


def _plain(obj: Any) -> Any:
    """An SDK model or page item as JSON-ready data."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return obj


class ProviderClient:
    """Thin wrapper over the SDK calls labelcycle needs; results are plain dicts.

    Build it with :func:`make_client`. Each method raises :class:`ProviderError` on failure.

    Example
    -------
    >>> make_client(base_url="http://127.0.0.1:9/v1", api_key="k" * 20).base_url
    'http://127.0.0.1:9/v1'
    """

    def __init__(self, sdk: Any, *, base_url: str, key: str) -> None:
        self._sdk = sdk
        self.base_url = base_url
        self.__key = key  # only to redact it from error texts

    def __repr__(self) -> str:
        return f"ProviderClient(base_url={self.base_url!r})"

    def __getstate__(self) -> Any:
        raise TypeError("ProviderClient holds credentials and cannot be pickled; pass a "
                        "ClientFactory instead")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._sdk.close()

    def _call(self, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except openai.OpenAIError as exc:
            raise _convert(exc, action, self.base_url, self.__key) from None

    def upload_file(self, path: str | os.PathLike[str], *, purpose: str = "fine-tune") -> dict:
        """``POST /files``: upload a file; returns the file object (``id``, ``bytes``...)."""
        p = Path(path)
        with p.open("rb") as fh:
            obj = self._call(f"upload {p.name}", self._sdk.files.create,
                             file=(p.name, fh), purpose=purpose)
        return _plain(obj)

    def retrieve_file(self, file_id: str) -> dict:
        """``GET /files/{file_id}``."""
        return _plain(self._call(f"look up file {file_id}", self._sdk.files.retrieve, file_id))

    def create_job(self, **params: Any) -> dict:
        """``POST /fine_tuning/jobs`` with the given body fields; returns the job."""
        return _plain(self._call("create the fine-tuning job", self._sdk.fine_tuning.jobs.create,
                                 **params))

    def retrieve_job(self, job_id: str) -> dict:
        """``GET /fine_tuning/jobs/{job_id}``."""
        return _plain(self._call(f"get job {job_id}", self._sdk.fine_tuning.jobs.retrieve,
                                 job_id))

    def cancel_job(self, job_id: str) -> dict:
        """``POST /fine_tuning/jobs/{job_id}/cancel``."""
        return _plain(self._call(f"cancel job {job_id}", self._sdk.fine_tuning.jobs.cancel,
                                 job_id))

    def list_jobs(self, *, metadata: Mapping[str, str] | None = None, limit: int = 20) -> list:
        """``GET /fine_tuning/jobs`` (first page), optionally filtered by metadata."""
        kwargs: dict[str, Any] = {"limit": limit}
        if metadata:
            kwargs["metadata"] = dict(metadata)
        page = self._call("list fine-tuning jobs", self._sdk.fine_tuning.jobs.list, **kwargs)
        return [_plain(job) for job in page.data]

    def list_events(self, job_id: str, *, after: str | None = None,
                    limit: int = 100) -> tuple[list[dict], bool]:
        """``GET /fine_tuning/jobs/{job_id}/events``: one page, newest first, and ``has_more``."""
        kwargs: dict[str, Any] = {"limit": limit}
        if after is not None:
            kwargs["after"] = after
        page = self._call(f"list events of job {job_id}",
                          self._sdk.fine_tuning.jobs.list_events, job_id, **kwargs)
        return [_plain(e) for e in page.data], bool(getattr(page, "has_more", False))

    def list_checkpoints(self, job_id: str, *, after: str | None = None,
                         limit: int = 100) -> tuple[list[dict], bool]:
        """``GET /fine_tuning/jobs/{job_id}/checkpoints``: one page and ``has_more``."""
        kwargs: dict[str, Any] = {"limit": limit}
        if after is not None:
            kwargs["after"] = after
        page = self._call(f"list checkpoints of job {job_id}",
                          self._sdk.fine_tuning.jobs.checkpoints.list, job_id, **kwargs)
        return [_plain(c) for c in page.data], bool(getattr(page, "has_more", False))

    def chat_completion(self, **params: Any) -> dict:
        """``POST /chat/completions`` with the given body fields; returns the completion."""
        return _plain(self._call(f"chat completion with {params.get('model')}",
                                 self._sdk.chat.completions.create, **params))


def make_client(*, base_url: str | None = None, api_key: str | None = None,
                timeout: float = 60, max_retries: int = 2) -> ProviderClient:
    """Create a :class:`ProviderClient` for an OpenAI-compatible service.

    Parameters
    ----------
    base_url : str, optional
        The service's API root (``https://api.openai.com/v1`` by default, or
        ``$OPENAI_BASE_URL``).
    api_key : str, optional
        The key; by default ``$OPENAI_API_KEY``, then the credentials file (see
        :func:`credentials_path`).
    timeout : float, default 60
        Seconds per request.
    max_retries : int, default 2
        Retries done by the SDK itself (connection errors, 408/409/429/5xx) before an error
        reaches labelcycle, whose own retry loops come on top.

    Returns
    -------
    ProviderClient

    Raises
    ------
    ConfigError
        No API key, or a malformed base URL / credentials file.

    Example
    -------
    >>> make_client(base_url="http://127.0.0.1:9/v1", api_key="sk-example-not-a-real-key",
    ...             max_retries=0).base_url
    'http://127.0.0.1:9/v1'
    """
    url = resolve_base_url(base_url)
    key = resolve_api_key(url, api_key)
    if timeout <= 0:
        raise ConfigError(f"timeout must be positive seconds, got {timeout}")
    if max_retries < 0:
        raise ConfigError(f"max_retries must be >= 0, got {max_retries}")
    sdk = openai.OpenAI(api_key=key, base_url=url, timeout=timeout, max_retries=max_retries)
    return ProviderClient(sdk, base_url=url, key=key)


@dataclass(frozen=True)
class ClientFactory:
    """A printable recipe for :func:`make_client` (the key is hidden from repr and pickling).

    Managers call it only when they need the network, and read ``base_url`` without calling it
    (dry runs need no key).

    Example
    -------
    >>> factory = ClientFactory(base_url="http://127.0.0.1:9/v1", api_key="sk-example-not-a-real-key")
    >>> factory
    ClientFactory(base_url='http://127.0.0.1:9/v1', timeout=60, max_retries=2)
    >>> factory().base_url
    'http://127.0.0.1:9/v1'
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False, compare=False)
    timeout: float = 60
    max_retries: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", resolve_base_url(self.base_url))

    def __reduce__(self) -> Any:
        if self.api_key is not None:
            raise TypeError("a ClientFactory holding an api_key cannot be pickled; leave api_key "
                            f"unset and use {API_KEY_ENV} or the credentials file")
        return (ClientFactory, (self.base_url, None, self.timeout, self.max_retries))

    def __call__(self) -> ProviderClient:
        return make_client(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout,
                           max_retries=self.max_retries)
