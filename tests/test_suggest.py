"""Tests of analysis.suggest: the LF-suggestion engine and its project wrapper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.suggest as suggest_mod
from analysis.suggest import MULTI_CLASS, Suggestions, suggest_for_project, suggest_lfs
from labelfns.errors import DataError

LABELS = ("billing", "refund", "shipping")
FILLER = ("please", "help", "account", "today", "order", "thanks", "question", "hello", "issue",
          "again", "really", "soon")


def planted(n: int = 400, seed: int = 0):
    """Rows of three classes; 'zorblax' planted in 70% of refund rows and 5% of billing rows.

    The model (``pred``) gets every refund row wrong (predicts billing) and every other row right.
    """
    rng = np.random.default_rng(seed)
    texts, gold = [], []
    for i in range(n):
        y = i % 3
        words = list(rng.choice(FILLER, size=6))
        if y == 1 and rng.random() < 0.7:
            words.insert(int(rng.integers(0, 6)), "zorblax")
        if y == 0 and rng.random() < 0.05:
            words.insert(0, "zorblax")
        if y == 2:
            words.append(str(rng.choice(["parcel", "courier", "parcels"])))
        texts.append(" ".join(words))
        gold.append(y)
    gold = np.array(gold)
    dev = np.zeros(n, dtype=bool)
    dev[: n // 2] = True
    pred = np.where(gold == 1, 0, gold)
    return texts, gold, pred, dev


def dev_gold(gold, dev):
    return np.where(dev, gold, -1)


def test_suggest_lfs_finds_planted_keyword_with_right_label_and_precision():
    texts, gold, pred, dev = planted()
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("keyword",), top_k=5)
    top = s[0]
    assert (top.pattern, top.label, top.kind) == ("zorblax", "refund", "keyword")
    hit = np.array(["zorblax" in t.split() for t in texts])
    correct = int((hit & dev & (gold == 1)).sum())
    support = int((hit & dev).sum())
    assert (top.correct, top.support) == (correct, support)
    assert top.precision == pytest.approx(correct / support)
    assert top.precision_low < top.precision <= top.precision_high
    assert top.fixes == correct  # every refund row was wrong
    assert top.breaks == int((hit & dev & (gold == 0)).sum())
    assert top.pool_votes == int((hit & ~dev).sum())
    assert top.lift == pytest.approx(top.precision / np.mean(gold[dev] == 1))
    assert top.examples and all("zorblax" in e for e in top.examples)


def test_suggest_lfs_is_deterministic_for_a_seed():
    texts, gold, pred, dev = planted()
    pred = np.where(gold == 2, 0, pred)  # shipping rows are wrong too: two classes to fix
    args = dict(labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                kinds=("keyword", "phrase", "regex"), top_k=8, min_precision=0.3)
    a = suggest_lfs(texts, seed=3, **args).to_dict()
    b = suggest_lfs(texts, seed=3, **args).to_dict()
    assert a == b
    assert a["seed"] == 3 and len(a["suggestions"]) > 1


def test_suggest_lfs_never_reads_non_dev_gold():
    texts, gold, pred, dev = planted()
    noisy = gold.copy()
    noisy[~dev] = np.random.default_rng(1).integers(0, 3, size=int((~dev).sum()))
    args = dict(labels=LABELS, predicted=pred, dev_mask=dev, kinds=("keyword", "regex"))
    a = suggest_lfs(texts, gold=gold, **args).to_dict()
    b = suggest_lfs(texts, gold=noisy, **args).to_dict()
    assert a == b


def test_suggest_lfs_target_rows_focus_on_a_slice():
    texts, gold, pred, dev = planted()
    pred = pred.copy()
    pred[gold == 2] = 0  # shipping rows are now wrong too
    target = gold == 2
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    target_rows=target, kinds=("keyword", "regex"), top_k=5)
    assert len(s) and {x.label for x in s} == {"shipping"}
    assert s.n_target == int((target & dev).sum())


def test_suggest_lfs_regex_kind_catches_word_endings():
    texts, gold, pred, dev = planted()
    pred = np.where(gold == 2, 0, pred)
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("regex",), top_k=5, target_rows=gold == 2)
    rx = [x for x in s if x.label == "shipping"]
    assert rx and rx[0].pattern == r"(?<!\w)parcel\w*"
    both = np.array([("parcel" in t) for t in texts])
    assert rx[0].support == int((both & dev).sum())


def test_suggest_lfs_drops_candidates_an_existing_lf_already_casts():
    texts, gold, pred, dev = planted()
    hit = np.array(["zorblax" in t.split() for t in texts])
    L = np.where(hit, 1, -1)[:, None]
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("keyword",), L=L, lf_names=["kw_zorblax"])
    assert "zorblax" not in [x.pattern for x in s]


def test_suggest_lfs_never_reuses_an_existing_name():
    texts, gold, pred, dev = planted()
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("keyword",), lf_names=["sg_text_refund__zorblax"])
    assert s[0].name == "sg_text_refund__zorblax_2"


def test_suggest_lfs_without_errors_suggests_nothing():
    texts, gold, _, dev = planted()
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=gold, dev_mask=dev)
    assert len(s) == 0 and s.n_errors == 0 and s.n_dev == int(dev.sum())


def test_suggest_lfs_class_without_dev_rows_is_fine():
    texts, gold, pred, dev = planted()
    s = suggest_lfs(texts, labels=(*LABELS, "unused"), gold=dev_gold(gold, dev), predicted=pred,
                    dev_mask=dev, kinds=("keyword",))
    assert all(x.label != "unused" for x in s)


@pytest.mark.parametrize("bad", [
    dict(predicted=[0, 1]),
    dict(dev_mask=[True]),
    dict(kinds=("ngram",)),
    dict(gold=[5] * 6),
    dict(min_precision=1.5),
])
def test_suggest_lfs_rejects_bad_input(bad):
    args = dict(labels=("a", "b"), gold=[0, 1, 0, 1, 0, 1], predicted=[1] * 6, dev_mask=[True] * 6)
    args.update(bad)
    with pytest.raises(DataError):
        suggest_lfs(["x"] * 6, **args)


def test_suggest_lfs_dataframe_fields_mine_each_column():
    texts, gold, pred, dev = planted()
    df = pd.DataFrame({"Title": [t.split()[0] for t in texts], "Text": texts, "text": texts})
    s = suggest_lfs(df, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    fields=["Title", "Text"], kinds=("keyword",))
    assert s[0].fields == ("Text",) and s[0].pattern == "zorblax"
    assert 'fields=["Text"]' in s[0].code
    with pytest.raises(DataError, match="Body"):
        suggest_lfs(df, labels=LABELS, gold=gold, predicted=pred, dev_mask=dev, fields=["Body"])


def test_suggest_lfs_embedding_is_skipped_without_the_extra(monkeypatch):
    texts, gold, pred, dev = planted()
    monkeypatch.setattr(suggest_mod, "_embeddings_available", lambda: "extra missing (test)")
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev)
    assert s.skipped == {"embedding": "extra missing (test)"}
    assert all(x.kind != "embedding" for x in s)


def test_suggest_lfs_embedding_candidates_from_given_vectors():
    texts, gold, pred, dev = planted()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    X = centres[gold] + 0.3 * rng.normal(size=(len(gold), 16))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("embedding",), embeddings=X)
    assert s.skipped == {} and {x.kind for x in s} == {"embedding"}
    multi = [x for x in s if x.label == MULTI_CLASS]
    assert multi and multi[0].precision >= 0.9 and "margin=" in multi[0].code
    assert multi[0].fixes == int((dev & (gold == 1)).sum())  # nearest rows vote refund
    one = [x for x in s if x.label == "refund"]
    assert one and one[0].precision >= 0.9
    assert "embedding_lf(" in one[0].code and "min_similarity=" in one[0].code


def test_suggest_lfs_dev_neighbours_code_reads_the_project_when_asked():
    texts, gold, pred, dev = planted(60)
    X = np.eye(3)[gold].astype(np.float32)
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("embedding",), embeddings=X, dev_rows_from_project=True, top_k=20)
    (multi,) = [x for x in s if x.label == MULTI_CLASS]
    assert "dev_texts_by_class(Path(__file__).resolve().parent)" in multi.code
    assert "from analysis.suggest_io import dev_texts_by_class" in multi.imports
    one = [x for x in s if x.label != MULTI_CLASS]
    assert one and all("dev_texts_by_class(" in x.code for x in one)


def test_suggestions_to_frame_and_to_dict():
    texts, gold, pred, dev = planted()
    s = suggest_lfs(texts, labels=LABELS, gold=dev_gold(gold, dev), predicted=pred, dev_mask=dev,
                    kinds=("keyword", "regex"), top_k=3)
    frame = s.to_frame()
    assert list(frame["name"]) == [x.name for x in s]
    assert {"precision", "precision_low", "fixes", "breaks", "pool_coverage", "lift"} <= set(
        frame.columns)
    d = s.to_dict()
    assert d["n_errors"] == s.n_errors and d["suggestions"][0]["code"] == s[0].code
    assert len(s.top(1)) == 1 and isinstance(s.top(1), Suggestions)


def test_suggest_for_project_reads_the_latest_cycle(tmp_path):
    from test_suggest_io import recorded_cycle

    project, *_ = recorded_cycle(tmp_path / "p")
    s = suggest_for_project(project, kinds=("keyword", "phrase"), top_k=3, min_precision=0.3)
    assert isinstance(s, Suggestions) and s.n_dev == int(project.dev_mask.sum())
    assert len(s) and {x.label for x in s} == {project.labels[1]}  # the class always missed
    assert s.n_errors == int((project.dev_mask & (project.y_dev == 1)).sum())
    sliced = suggest_for_project(project, kinds=("keyword",), slice_mask=project.gold == 2)
    assert len(sliced) == 0 and sliced.n_errors == 0  # class 2 is never wrong
    with pytest.raises(DataError, match="slice_mask"):
        suggest_for_project(project, slice_mask=[True])


def test_suggest_for_project_mines_the_label_models_errors_by_default(tmp_path):
    # an end model right on every dev row (as when LFs built from the dev rows label the pool
    # around them) leaves nothing to mine; the label model still misses class 1
    from test_suggest_io import recorded_cycle

    project, _, _, path = recorded_cycle(tmp_path / "p")
    frame = pd.read_parquet(path)
    frame["end_model"] = np.maximum(project.gold, 0)
    frame.to_parquet(path, index=False)
    by_default = suggest_for_project(project, kinds=("keyword", "phrase"), top_k=3,
                                     min_precision=0.3)
    assert by_default.n_errors == int((project.dev_mask & (project.y_dev == 1)).sum()) > 0
    assert len(by_default) and {x.label for x in by_default} == {project.labels[1]}
    end = suggest_for_project(project, kinds=("keyword", "phrase"), model="end_model")
    assert end.n_errors == 0 and len(end) == 0


def test_suggest_lfs_drops_a_one_row_candidate_the_model_contradicts():
    texts = ["quux tea", "green tea", "dog bed", "cat bed"] + ["quux dog"] * 5
    gold = [0, 0, 1, 1] + [-1] * 5
    pred = [1, 0, 1, 1] + [1] * 5  # the model predicts pets on every pool row with "quux"
    dev = [True] * 4 + [False] * 5
    for support in (1, 2):  # by default (2) one dev row is never enough
        s = suggest_lfs(texts, labels=("drink", "pet"), gold=gold, predicted=pred, dev_mask=dev,
                        kinds=("keyword",), min_support=support)
        assert "quux" not in [x.pattern for x in s]
    assert not len(suggest_lfs(texts, labels=("drink", "pet"), gold=gold,
                               predicted=[1, 0, 1, 1] + [0] * 5, dev_mask=dev,
                               kinds=("keyword",)))
    agreeing = suggest_lfs(texts, labels=("drink", "pet"), gold=gold,
                           predicted=[1, 0, 1, 1] + [0] * 5, dev_mask=dev, kinds=("keyword",),
                           min_support=1)
    (quux,) = [x for x in agreeing if x.pattern == "quux"]
    assert quux.pool_agreement == 1.0 and quux.support == 1


def test_expected_gain_penalises_pool_rows_the_model_contradicts():
    from analysis.suggest import expected_gain

    args = dict(fixes=2, breaks=0, correct=2, support=2, accuracy=0.6, n_dev=300, n_pool=6000)
    trusted = expected_gain(pool_disagree=5, pool_votes=60, **args)
    contradicted = expected_gain(pool_disagree=58, pool_votes=60, **args)
    assert trusted > 0 > contradicted


def test_suggestion_evidence_rows_are_redacted_by_default():
    texts = (["refund please mail ann.lee@example.com or call 415-555-0134 zorblax"] * 4
             + ["shipping is late"] * 4)
    gold = [1] * 4 + [0] * 4
    pred = [0] * 8
    dev = [True] * 8
    args = dict(labels=LABELS, gold=gold, predicted=pred, dev_mask=dev, kinds=("keyword",),
                top_k=3, min_support=2)
    top = suggest_lfs(texts, **args)[0]
    assert top.label == "refund" and len(top.examples) == 3
    joined = " ".join(top.examples)
    assert "ann.lee@example.com" not in joined and "[EMAIL" in joined
    assert "415-555-0134" not in joined and "zorblax" in joined
    raw = suggest_lfs(texts, redact=False, **args)[0]
    assert raw.name == top.name and "ann.lee@example.com" in " ".join(raw.examples)
    assert raw.score == top.score  # redaction changes the evidence text only
