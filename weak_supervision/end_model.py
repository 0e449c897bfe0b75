"""The end model: a text classifier trained on probabilistic labels.

Label models only label rows some LF votes on; the end model learns from those rows' text and
labels every row, including the ones no LF covers. :class:`EndModel` is TF-IDF word n-grams (or
sentence embeddings) followed by a logistic regression, trained on probabilistic labels in one of
three ways (``weighting``):

- ``"soft"``: each row once per class with probability >= 0.01, weighted by that probability;
- ``"hard"``: the most probable class, weighted by its probability;
- ``"filter"``: the most probable class with weight 1.

Rows whose top probability is below ``confidence_threshold`` are left out in every mode, and so are
rows no LF voted on (``covered`` false, or, for a plain array, a uniform row).

Saving and trust. :meth:`EndModel.save` writes ``model.json`` (settings, labels, format version)
and ``model.skops`` (the fitted vectorizer and classifier) with skops, not pickle: loading a skops
file never runs code stored in it, and :meth:`EndModel.load` refuses any type outside skops'
default trusted set (scikit-learn, NumPy, SciPy) unless you list it in ``trusted``. Only list types
after checking them (``skops.io.get_untrusted_types(file=...)``) in a file whose origin you trust.

Example
-------
>>> texts = ["refund my payment", "where is my parcel", "refund please", "parcel is late"]
>>> probs = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.1, 0.9]]
>>> model = EndModel(seed=0).fit(texts, probs)
>>> model.predict(["a refund for the payment", "the parcel"]).tolist()
[0, 1]
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from labelfns.errors import ConfigError, DataError, LabelcycleError, NotFittedError
from weak_supervision.io import atomic_write, write_json
from weak_supervision.prob_labels import ProbabilisticLabels

__all__ = ["EndModel", "EndModelWarning", "training_rows", "MODEL_FILE", "META_FILE"]

MODEL_FILE = "model.skops"
"""The fitted vectorizer and classifier, in skops format."""
META_FILE = "model.json"
"""The model's settings, labels and format version."""

_FORMAT_VERSION = 1
_MIN_SOFT_WEIGHT = 0.01
_UNIFORM_TOL = 1e-9
_KINDS = ("tfidf", "embeddings")
_WEIGHTINGS = ("soft", "hard", "filter")


class EndModelWarning(UserWarning):
    """An end model trained without rows for some classes (it never predicts them)."""


def _as_texts(texts: Iterable[Any], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise DataError(f"{what} must be a sequence of strings, got a single string")
    out = []
    for value in texts:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append("")
        else:
            out.append(str(value))
    return out


def _as_probs(probs: Any, covered: Any, labels: Sequence[str] | None
              ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(probs, covered, labels)`` from a ProbabilisticLabels or a rows x classes array."""
    if isinstance(probs, ProbabilisticLabels):
        cov = probs.covered if covered is None else np.asarray(covered, dtype=bool)
        names = tuple(labels or probs.labels)
        if len(names) != probs.probs.shape[1]:
            raise DataError(f"{len(names)} labels given for {probs.probs.shape[1]} classes")
        return np.asarray(probs.probs, dtype=np.float64), cov, names
    arr = np.asarray(probs, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise DataError(f"probs must be rows x classes with at least 2 classes, got shape {arr.shape}")
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0):
        raise DataError("probs must be finite and non-negative")
    sums = arr.sum(axis=1)
    if arr.size and np.any(sums <= 0):
        bad = int(np.flatnonzero(sums <= 0)[0])
        raise DataError(f"probs row {bad} sums to 0; every row needs a class distribution")
    arr = arr / sums[:, None] if arr.size else arr
    if covered is None:
        cov = (arr.max(axis=1) - arr.min(axis=1)) > _UNIFORM_TOL if arr.size else np.zeros(0, bool)
    else:
        cov = np.asarray(covered, dtype=bool)
    names = tuple(labels) if labels is not None else tuple(str(i) for i in range(arr.shape[1]))
    if len(names) != arr.shape[1]:
        raise DataError(f"{len(names)} labels given for {arr.shape[1]} probability columns")
    return arr, cov, names


def training_rows(
    probs: np.ndarray,
    covered: np.ndarray,
    *,
    weighting: str = "soft",
    confidence_threshold: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training samples probabilistic labels turn into: ``(row, class, weight)`` arrays.

    Parameters
    ----------
    probs : numpy.ndarray, shape (rows, classes)
        Class probabilities per row.
    covered : numpy.ndarray of bool
        Rows some LF voted on; the others are dropped.
    weighting : {"soft", "hard", "filter"}, default "soft"
        See the module docstring.
    confidence_threshold : float, default 0.0
        Rows whose top probability is below this are dropped.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Source row index, class index and sample weight of each training sample, in row order.

    Example
    -------
    >>> import numpy as np
    >>> rows, y, w = training_rows(np.array([[0.7, 0.3], [0.5, 0.5], [0.995, 0.005]]),
    ...                            np.array([True, False, True]))
    >>> rows.tolist(), y.tolist(), w.round(3).tolist()
    ([0, 0, 2], [0, 1, 0], [0.7, 0.3, 0.995])
    """
    if weighting not in _WEIGHTINGS:
        raise ConfigError(f"weighting must be one of {', '.join(_WEIGHTINGS)}, got {weighting!r}")
    n, k = probs.shape
    confidence = probs.max(axis=1) if n else np.zeros(0)
    keep = np.asarray(covered, dtype=bool) & (confidence >= confidence_threshold)
    rows = np.flatnonzero(keep)
    if weighting == "soft":
        sub = probs[rows]
        r, c = np.nonzero(sub >= _MIN_SOFT_WEIGHT)
        return rows[r].astype(np.int64), c.astype(np.int64), sub[r, c]
    top = np.argmax(probs[rows], axis=1).astype(np.int64) if rows.size else np.zeros(0, np.int64)
    weights = confidence[rows] if weighting == "hard" else np.ones(rows.size)
    return rows.astype(np.int64), top, weights.astype(np.float64)


class EndModel:
    """A TF-IDF (or sentence-embedding) logistic regression trained on probabilistic labels.

    Parameters
    ----------
    kind : {"tfidf", "embeddings"}, default "tfidf"
        Features: word n-gram TF-IDF, or sentence embeddings from :func:`labelfns.embeddings.embed`
        (needs the optional extra ``labelcycle[embeddings]``).
    confidence_threshold : float, default 0.0
        Leave out rows whose top probability is below this.
    weighting : {"soft", "hard", "filter"}, default "soft"
        How probabilistic labels become training samples (see the module docstring).
    C : float, default 1.0
        Inverse regularization strength of the logistic regression.
    max_features : int, default 50000
        Vocabulary size of the TF-IDF features.
    ngram_range : (int, int), default (1, 2)
        Word n-gram lengths of the TF-IDF features.
    seed : int, default 123
        Seed of the logistic regression (the fit is deterministic for a fixed seed).
    embedding_model : str, default "all-MiniLM-L6-v2"
        The sentence-embedding model when ``kind="embeddings"``.

    Attributes
    ----------
    labels_ : tuple of str
        Class names; column ``i`` of :meth:`predict_proba` is ``labels_[i]``.
    trained_classes_ : numpy.ndarray of int
        Classes that had training samples (the others always get probability 0).
    n_train_rows_, n_train_samples_ : int
        Source rows used, and samples after the soft expansion.
    vectorizer_ : TfidfVectorizer or None
        The fitted TF-IDF vectorizer (None for embeddings).
    classifier_ : LogisticRegression or None
        None when only one class had training samples (then it is always predicted).

    Example
    -------
    >>> m = EndModel(weighting="filter", confidence_threshold=0.6).fit(
    ...     ["good", "bad", "fine", "awful"], [[0.9, 0.1], [0.1, 0.9], [0.55, 0.45], [0.2, 0.8]])
    >>> m.n_train_rows_, m.predict_proba(["good"]).shape
    (3, (1, 2))
    """

    def __init__(
        self,
        *,
        kind: str = "tfidf",
        confidence_threshold: float = 0.0,
        weighting: str = "soft",
        C: float = 1.0,
        max_features: int = 50_000,
        ngram_range: tuple[int, int] = (1, 2),
        seed: int = 123,
        embedding_model: str = "all-MiniLM-L6-v2",
        cache_dir: str | None = None,
    ) -> None:
        self.kind = kind
        self.confidence_threshold = confidence_threshold
        self.weighting = weighting
        self.C = C
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.seed = seed
        self.embedding_model = embedding_model
        self.cache_dir = cache_dir

    def __repr__(self) -> str:
        return (f"EndModel(kind={self.kind!r}, weighting={self.weighting!r}, "
                f"confidence_threshold={self.confidence_threshold!r}, C={self.C!r})")

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to ``__init__``.

        >>> EndModel(C=2.0).get_params()["C"]
        2.0
        """
        return {"kind": self.kind, "confidence_threshold": self.confidence_threshold,
                "weighting": self.weighting, "C": self.C, "max_features": self.max_features,
                "ngram_range": list(self.ngram_range), "seed": self.seed,
                "embedding_model": self.embedding_model}

    # -- validation ----------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"kind must be one of {', '.join(_KINDS)}, got {self.kind!r}")
        if self.weighting not in _WEIGHTINGS:
            raise ConfigError(f"weighting must be one of {', '.join(_WEIGHTINGS)}, "
                              f"got {self.weighting!r}")
        t = self.confidence_threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t < 1.0:
            raise ConfigError(f"confidence_threshold must be in [0, 1), got {t!r}")
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not self.C > 0:
            raise ConfigError(f"C must be a positive number, got {self.C!r}")
        if isinstance(self.max_features, bool) or not isinstance(self.max_features, int) \
                or self.max_features < 1:
            raise ConfigError(f"max_features must be an int >= 1, got {self.max_features!r}")
        ng = tuple(self.ngram_range)
        if len(ng) != 2 or not all(isinstance(v, int) for v in ng) or not 1 <= ng[0] <= ng[1]:
            raise ConfigError(f"ngram_range must be (min, max) with 1 <= min <= max, got {ng!r}")

    # -- features ------------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> np.ndarray:
        try:
            from labelfns.embeddings import embed
        except ImportError as exc:
            raise LabelcycleError(
                "kind='embeddings' needs the optional extra labelcycle[embeddings] "
                "(pip install 'labelcycle[embeddings]'); or use kind='tfidf'") from exc
        return np.asarray(embed(texts, model=self.embedding_model, cache_dir=self.cache_dir),
                          dtype=np.float64)

    def _features(self, texts: list[str]) -> Any:
        if self.kind == "embeddings":
            return self._embed(texts)
        return self.vectorizer_.transform(texts)

    # -- fitting -------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str] | Iterable[str],
        probs: ProbabilisticLabels | np.ndarray | Sequence[Sequence[float]],
        *,
        covered: Sequence[bool] | np.ndarray | None = None,
        labels: Sequence[str] | None = None,
    ) -> EndModel:
        """Train on ``texts`` and their probabilistic labels.

        Parameters
        ----------
        texts : sequence of str
            One text per row of ``probs``.
        probs : ProbabilisticLabels or array-like, shape (rows, classes)
            Class probabilities. For a plain array, rows are normalised to sum to 1 and uniform
            rows count as not covered.
        covered : array-like of bool, optional
            Rows some LF voted on (overrides the default above).
        labels : sequence of str, optional
            Class names (default: those of a ProbabilisticLabels, else "0", "1", ...).

        Returns
        -------
        EndModel
            self

        Raises
        ------
        DataError
            Texts and probabilities do not align, or no row is left to train on.

        Example
        -------
        >>> EndModel().fit(["a cat", "a dog"], [[1.0, 0.0], [0.0, 1.0]], labels=["x", "y"]).labels_
        ('x', 'y')
        """
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._check_params()
        text_list = _as_texts(texts)
        P, cov, names = _as_probs(probs, covered, labels)
        if len(text_list) != P.shape[0]:
            raise DataError(f"{len(text_list)} texts but {P.shape[0]} rows of probabilities; "
                            "they must align row by row")
        if cov.shape != (P.shape[0],):
            raise DataError(f"covered has {cov.size} entries for {P.shape[0]} rows")
        rows, y, w = training_rows(P, cov, weighting=self.weighting,
                                   confidence_threshold=float(self.confidence_threshold))
        if rows.size == 0:
            raise DataError(
                f"no rows to train on: of {P.shape[0]} rows, {int(cov.sum())} are covered by an "
                f"LF and none has a top probability >= {self.confidence_threshold}; lower "
                "confidence_threshold or write LFs that cover more rows")
        k = P.shape[1]
        used, position = np.unique(rows, return_inverse=True)
        used_texts = [text_list[i] for i in used]
        if self.kind == "tfidf":
            self.vectorizer_ = TfidfVectorizer(
                ngram_range=tuple(self.ngram_range), max_features=int(self.max_features),
                sublinear_tf=True, strip_accents="unicode", token_pattern=r"(?u)\b\w+\b",
                dtype=np.float64)
            try:
                base = self.vectorizer_.fit_transform(used_texts)
            except ValueError as exc:  # empty vocabulary
                raise DataError(f"cannot build TF-IDF features from the training texts: {exc}") \
                    from None
        else:
            self.vectorizer_ = None
            base = self._embed(used_texts)
        X = base[position]
        present = np.unique(y)
        self.labels_ = names
        self.n_classes_ = k
        self.trained_classes_ = present.astype(np.int64)
        self.n_train_rows_ = int(used.size)
        self.n_train_samples_ = int(rows.size)
        self.class_weights_ = np.bincount(y, weights=w, minlength=k)
        if present.size == 1:
            self.classifier_ = None
        else:
            self.classifier_ = LogisticRegression(C=float(self.C), max_iter=2000,
                                                  random_state=int(self.seed))
            self.classifier_.fit(X, y, sample_weight=w)
        missing = [names[c] for c in range(k) if c not in set(present.tolist())]
        if missing:
            warnings.warn(
                f"no training rows for class(es) {', '.join(missing)}: the end model never "
                "predicts them; write LFs that vote for them", EndModelWarning, stacklevel=2)
        return self

    # -- prediction ----------------------------------------------------------------------------

    def _fitted(self) -> None:
        if not hasattr(self, "trained_classes_"):
            raise NotFittedError("this EndModel is not fitted yet; call fit(texts, probs) first")

    def predict_proba(self, texts: Sequence[str] | Iterable[str]) -> np.ndarray:
        """``rows x classes`` probabilities; classes without training rows get 0.

        >>> m = EndModel().fit(["yes", "no", "yes yes"], [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
        >>> m.predict_proba(["yes"]).shape, float(m.predict_proba(["yes"])[0, 2])
        ((1, 3), 0.0)
        """
        self._fitted()
        text_list = _as_texts(texts)
        out = np.zeros((len(text_list), self.n_classes_), dtype=np.float64)
        if not text_list:
            return out
        if self.classifier_ is None:
            out[:, int(self.trained_classes_[0])] = 1.0
            return out
        proba = self.classifier_.predict_proba(self._features(text_list))
        out[:, np.asarray(self.classifier_.classes_, dtype=np.int64)] = proba
        return out

    def predict(self, texts: Sequence[str] | Iterable[str]) -> np.ndarray:
        """Most probable class index per text (lowest index on ties).

        >>> EndModel().fit(["up", "down"], [[0.9, 0.1], [0.1, 0.9]]).predict(["up"]).tolist()
        [0]
        """
        return np.argmax(self.predict_proba(texts), axis=1).astype(np.int64)

    def predict_labels(self, texts: Sequence[str] | Iterable[str]) -> list[str]:
        """Most probable class name per text.

        >>> m = EndModel().fit(["up", "down"], [[0.9, 0.1], [0.1, 0.9]], labels=["u", "d"])
        >>> m.predict_labels(["down"])
        ['d']
        """
        return [self.labels_[i] for i in self.predict(texts)]

    # -- persistence ---------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``model.json`` and ``model.skops`` into ``folder`` (created if needed), atomically.

        Returns
        -------
        Path
            The folder.

        Example
        -------
        >>> import tempfile
        >>> m = EndModel().fit(["up", "down"], [[0.9, 0.1], [0.1, 0.9]])
        >>> sorted(p.name for p in m.save(tempfile.mkdtemp()).iterdir())
        ['model.json', 'model.skops']
        """
        import sklearn
        import skops.io as sio

        self._fitted()
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        state = {"vectorizer": self.vectorizer_, "classifier": self.classifier_}
        with atomic_write(target / MODEL_FILE, mode="wb") as fh:
            sio.dump(state, fh)
        meta = {
            "format": "labelcycle.end_model",
            "version": _FORMAT_VERSION,
            "params": self.get_params(),
            "labels": list(self.labels_),
            "trained_classes": self.trained_classes_.tolist(),
            "n_train_rows": self.n_train_rows_,
            "n_train_samples": self.n_train_samples_,
            "class_weights": self.class_weights_.tolist(),
            "sklearn_version": sklearn.__version__,
        }
        write_json(target / META_FILE, meta)
        return target

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, trusted: Sequence[str] | None = None
             ) -> EndModel:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        folder : path-like
            The folder holding ``model.json`` and ``model.skops``.
        trusted : sequence of str, optional
            Type names to trust beyond skops' defaults. Files written by :meth:`save` need none;
            a file holding other types is refused with their names. Only add names after
            checking them, for files whose origin you trust (see the module docstring).

        Raises
        ------
        DataError
            Files missing or unreadable, or written by a newer format version.
        LabelcycleError
            The model file holds untrusted types.

        Example
        -------
        >>> import tempfile
        >>> folder = EndModel().fit(["up", "down"], [[0.9, 0.1], [0.1, 0.9]]).save(tempfile.mkdtemp())
        >>> EndModel.load(folder).predict(["down"]).tolist()
        [1]
        """
        import skops.io as sio

        folder = Path(folder)
        meta_path, model_path = folder / META_FILE, folder / MODEL_FILE
        if not meta_path.is_file() or not model_path.is_file():
            raise DataError(f"no saved end model in {folder}: expected {META_FILE} and {MODEL_FILE}; "
                            "train one first (labelcycle train)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{meta_path} is not valid JSON ({exc}); retrain the model") from None
        if not isinstance(meta, dict) or meta.get("format") != "labelcycle.end_model":
            raise DataError(f"{meta_path} is not a labelcycle end model description")
        if int(meta.get("version", 0)) > _FORMAT_VERSION:
            raise DataError(f"{meta_path} was written by a newer labelcycle (format "
                            f"{meta['version']}, this one reads {_FORMAT_VERSION}); upgrade")
        try:
            untrusted = sio.get_untrusted_types(file=model_path)
        except Exception as exc:  # noqa: BLE001 - a damaged zip raises several types
            raise DataError(f"{model_path} is not a readable skops file ({exc}); retrain") from None
        allowed = set(trusted or ())
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            raise LabelcycleError(
                f"{model_path} holds types that are not trusted by default: "
                f"{', '.join(refused)}. Load it only if you trust where the file came from, "
                "passing them as trusted=[...] after checking each one")
        state = sio.load(model_path, trusted=[t for t in untrusted if t in allowed])
        params = dict(meta["params"])
        params["ngram_range"] = tuple(params.get("ngram_range", (1, 2)))
        model = cls(**params)
        model.labels_ = tuple(meta["labels"])
        model.n_classes_ = len(model.labels_)
        model.trained_classes_ = np.asarray(meta["trained_classes"], dtype=np.int64)
        model.n_train_rows_ = int(meta["n_train_rows"])
        model.n_train_samples_ = int(meta["n_train_samples"])
        model.class_weights_ = np.asarray(meta["class_weights"], dtype=np.float64)
        model.vectorizer_ = state["vectorizer"]
        model.classifier_ = state["classifier"]
        return model
