"""Tests of weak_supervision.end_model: training on probabilistic labels, weighting modes,
missing classes, determinism and safe saving/loading."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest

from labelfns.errors import ConfigError, DataError, LabelcycleError, NotFittedError
from weak_supervision.end_model import (
    META_FILE,
    MODEL_FILE,
    EndModel,
    EndModelWarning,
    training_rows,
)
from weak_supervision.prob_labels import ProbabilisticLabels

_WORDS = {
    0: ["refund", "invoice", "charged", "payment", "billing", "card", "fee", "price"],
    1: ["parcel", "courier", "tracking", "delivery", "shipped", "box", "address", "late"],
    2: ["screen", "battery", "broken", "charger", "size", "colour", "button", "crash"],
}
_FILLER = ["the", "my", "is", "a", "please", "hello", "thanks", "order", "help", "today"]


def synthetic_task(n: int, *, k: int = 2, seed: int = 0, noise: float = 0.3
                   ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts with class-specific words, gold labels, and noisy soft labels (right ~70%)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    texts = []
    for c in y:
        words = list(rng.choice(_WORDS[int(c)], size=2)) + list(rng.choice(_FILLER, size=4))
        rng.shuffle(words)
        texts.append(" ".join(words))
    probs = np.full((n, k), 0.0)
    noisy = np.where(rng.random(n) < noise, rng.integers(0, k, n), y)
    conf = rng.uniform(0.55, 0.95, n)
    probs[np.arange(n), noisy] = conf
    for i in range(n):
        others = [c for c in range(k) if c != noisy[i]]
        probs[i, others] = (1 - conf[i]) / len(others)
    return texts, y, probs


def test_end_model_soft_labels_beat_predicting_the_majority_class():
    texts, y, probs = synthetic_task(600, k=3, seed=1)
    test_texts, y_test, _ = synthetic_task(300, k=3, seed=2)
    model = EndModel(seed=0).fit(texts, probs)
    accuracy = float(np.mean(model.predict(test_texts) == y_test))
    baseline = float(np.bincount(y_test).max() / len(y_test))
    noisy_labels = float(np.mean(np.argmax(probs, axis=1) == y))
    assert accuracy > 0.9 > noisy_labels  # learns past the label noise
    assert accuracy > baseline + 0.4


def test_end_model_is_deterministic_for_a_seed():
    texts, _, probs = synthetic_task(300, seed=3)
    a = EndModel(seed=7).fit(texts, probs).predict_proba(texts[:50])
    b = EndModel(seed=7).fit(texts, probs).predict_proba(texts[:50])
    np.testing.assert_array_equal(a, b)


def test_end_model_predict_proba_rows_sum_to_one():
    texts, _, probs = synthetic_task(200, k=3, seed=4)
    p = EndModel().fit(texts, probs).predict_proba(["refund please", "", "unknown words"])
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_end_model_save_load_round_trip(tmp_path):
    texts, _, probs = synthetic_task(200, seed=5)
    model = EndModel(C=0.5, ngram_range=(1, 1), seed=9).fit(texts, probs, labels=["neg", "pos"])
    folder = model.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [META_FILE, MODEL_FILE]
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["labels"] == ["neg", "pos"] and meta["params"]["C"] == 0.5
    loaded = EndModel.load(folder)
    assert loaded.labels_ == ("neg", "pos") and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.predict_labels(["refund invoice"]) == ["neg"]


class NotTrusted:
    """A type skops does not trust by default."""

    def __init__(self) -> None:
        self.value = 1


def test_end_model_load_refuses_untrusted_types(tmp_path):
    import skops.io as sio

    model = EndModel().fit(["up up", "down down"], [[0.9, 0.1], [0.1, 0.9]])
    folder = model.save(tmp_path / "m")
    sio.dump({"vectorizer": NotTrusted(), "classifier": None}, folder / MODEL_FILE)
    with pytest.raises(LabelcycleError, match="NotTrusted.*trusted="):
        EndModel.load(folder)
    untrusted = sio.get_untrusted_types(file=folder / MODEL_FILE)
    assert isinstance(EndModel.load(folder, trusted=untrusted).vectorizer_, NotTrusted)


def test_end_model_load_errors(tmp_path):
    with pytest.raises(DataError, match="no saved end model"):
        EndModel.load(tmp_path)
    folder = EndModel().fit(["up", "down"], [[0.9, 0.1], [0.1, 0.9]]).save(tmp_path / "m")
    meta = json.loads((folder / META_FILE).read_text())
    (folder / META_FILE).write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(DataError, match="newer labelcycle"):
        EndModel.load(folder)
    (folder / MODEL_FILE).write_bytes(b"not a zip")
    (folder / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(DataError, match="not a readable skops file"):
        EndModel.load(folder)


@pytest.mark.parametrize(
    ("weighting", "threshold", "rows", "classes", "weights"),
    [
        ("soft", 0.0, [0, 0, 1, 3, 3], [0, 1, 0, 0, 1], [0.6, 0.4, 0.995, 0.2, 0.8]),
        ("hard", 0.0, [0, 1, 3], [0, 0, 1], [0.6, 0.995, 0.8]),
        ("filter", 0.0, [0, 1, 3], [0, 0, 1], [1.0, 1.0, 1.0]),
        ("filter", 0.7, [1, 3], [0, 1], [1.0, 1.0]),
        ("soft", 0.7, [1, 3, 3], [0, 0, 1], [0.995, 0.2, 0.8]),
    ],
)
def test_training_rows_weighting_modes(weighting, threshold, rows, classes, weights):
    probs = np.array([[0.6, 0.4], [0.995, 0.005], [0.5, 0.5], [0.2, 0.8]])
    covered = np.array([True, True, False, True])
    r, c, w = training_rows(probs, covered, weighting=weighting, confidence_threshold=threshold)
    assert r.tolist() == rows and c.tolist() == classes
    np.testing.assert_allclose(w, weights)


def test_end_model_weighting_changes_the_fit():
    texts, _, probs = synthetic_task(200, seed=6)
    soft = EndModel(weighting="soft").fit(texts, probs).predict_proba(texts[:5])
    hard = EndModel(weighting="hard").fit(texts, probs).predict_proba(texts[:5])
    assert not np.allclose(soft, hard)


def test_end_model_threshold_and_uncovered_rows_are_left_out():
    texts = ["alpha one", "beta two", "alpha three", "beta four", "gamma five"]
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9], [0.5, 0.5]])
    model = EndModel(weighting="filter", confidence_threshold=0.7).fit(texts, probs)
    assert model.n_train_rows_ == 3  # the 0.6 row and the uniform (uncovered) row are dropped
    assert "gamma" not in model.vectorizer_.vocabulary_
    pl = ProbabilisticLabels(list("abcde"), probs, ("x", "y"), "label_model",
                             covered=[True, True, True, False, True])
    model = EndModel().fit(texts, pl)
    assert model.labels_ == ("x", "y") and model.n_train_rows_ == 4


def test_end_model_missing_classes_keep_their_columns():
    texts, _, probs2 = synthetic_task(200, seed=7)
    probs = np.column_stack([probs2, np.zeros(len(probs2))])  # class 2 never labelled
    with pytest.warns(EndModelWarning, match="no training rows for class.*c"):
        model = EndModel().fit(texts, probs, labels=["a", "b", "c"])
    p = model.predict_proba(texts[:10])
    assert p.shape == (10, 3) and np.all(p[:, 2] == 0)
    assert model.trained_classes_.tolist() == [0, 1]


def test_end_model_with_one_class_always_predicts_it():
    with pytest.warns(EndModelWarning):
        model = EndModel(weighting="hard").fit(["a b", "c d"], [[0.0, 1.0, 0.0], [0.1, 0.9, 0.0]])
    assert model.classifier_ is None
    assert model.predict(["anything", "else"]).tolist() == [1, 1]
    np.testing.assert_array_equal(model.predict_proba(["x"]), [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "bert"}, "kind"),
        ({"weighting": "average"}, "weighting"),
        ({"confidence_threshold": 1.0}, "confidence_threshold"),
        ({"C": 0}, "C must"),
        ({"max_features": 0}, "max_features"),
        ({"ngram_range": (2, 1)}, "ngram_range"),
    ],
)
def test_end_model_rejects_bad_params(params, message):
    with pytest.raises(ConfigError, match=message):
        EndModel(**params).fit(["a", "b"], [[1, 0], [0, 1]])


def test_end_model_rejects_bad_input():
    with pytest.raises(DataError, match="3 texts but 2 rows"):
        EndModel().fit(["a", "b", "c"], [[1, 0], [0, 1]])
    with pytest.raises(DataError, match="no rows to train on"):
        EndModel().fit(["a", "b"], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(DataError, match="non-negative"):
        EndModel().fit(["a", "b"], [[-1, 2], [0, 1]])
    with pytest.raises(DataError, match="single string"):
        EndModel().fit("ab", [[1, 0], [0, 1]])
    with pytest.raises(NotFittedError):
        EndModel().predict(["a"])


def test_end_model_embeddings_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "labelfns.embeddings", None)
    with pytest.raises(LabelcycleError, match=r"labelcycle\[embeddings\]"):
        EndModel(kind="embeddings").fit(["a", "b"], [[1, 0], [0, 1]])


def test_end_model_embeddings_kind_trains_and_round_trips(tmp_path):
    embeddings = pytest.importorskip("labelfns.embeddings")
    try:
        embeddings.embed(["probe"])
    except LabelcycleError as exc:
        pytest.skip(f"sentence embeddings unavailable: {exc}")
    texts, y, probs = synthetic_task(120, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = EndModel(kind="embeddings").fit(texts, probs)
    assert model.vectorizer_ is None
    assert float(np.mean(model.predict(texts) == y)) > 0.7
    loaded = EndModel.load(model.save(tmp_path / "emb"))
    np.testing.assert_allclose(loaded.predict_proba(texts[:5]), model.predict_proba(texts[:5]))
