"""Tests of analysis.suggest_embeddings: nearest-neighbour LF candidates."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.suggest_embeddings import neighbour_candidates
from labelfns.errors import DataError


def setup(n_per: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    gold = np.repeat([0, 1], n_per)
    X = np.eye(2)[gold] + 0.2 * rng.normal(size=(len(gold), 2))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    texts = [f"row {i}" for i in range(len(gold))]
    dev = np.ones(len(gold), dtype=bool)
    pred = np.zeros_like(gold)  # class 1 is always wrong
    return {"text": texts}, texts, gold, pred, dev, X


def test_neighbour_candidates_vote_the_class_of_the_nearest_dev_rows():
    cols, texts, gold, pred, dev, X = setup()
    multi, c = neighbour_candidates(cols, texts, gold=gold, pred=pred, dev=dev,
                                    err=dev & (pred != gold), min_support=2, min_precision=0.8,
                                    embeddings=X)
    assert multi.label == -1 and (multi.voted()[multi.votes] == gold[multi.votes]).mean() >= 0.8
    assert c.label == 1 and c.kind == "embedding"
    assert (gold[c.votes] == 1).mean() >= 0.8 and c.votes[gold == 1].sum() >= 2
    assert c.extra["descriptions"] == [t for t, y in zip(texts, gold, strict=True) if y == 1]


def test_neighbour_candidates_judge_each_row_by_the_other_rows():
    cols, texts, gold, pred, dev, X = setup()
    # two class-1 rows far from everything: they only match themselves, so no vote
    X = X.copy()
    X[[10, 11]] = np.array([[0.0, -1.0], [-1.0, 0.0]], dtype=np.float32)
    cands = neighbour_candidates(cols, texts, gold=gold, pred=pred, dev=dev,
                                 err=dev & (pred != gold), min_support=2, min_precision=0.8,
                                 embeddings=X)
    (c,) = [c for c in cands if c.label == 1]
    assert not c.votes[10] and not c.votes[11] and c.votes[12:].all()


def test_neighbour_candidates_check_the_vectors_shape():
    cols, texts, gold, pred, dev, X = setup()
    with pytest.raises(DataError, match="shape"):
        neighbour_candidates(cols, texts, gold=gold, pred=pred, dev=dev, err=dev,
                             min_support=2, min_precision=0.5, embeddings=X[:3])
