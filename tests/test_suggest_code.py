"""Tests of analysis.suggest_code: LF source for suggestions and the LF-module writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.suggest import MULTI_CLASS, suggest_lfs
from analysis.suggest_code import str_literal, write_lf_module
from analysis.suggest_pii import suggest_pii
from labelfns.errors import LabelcycleError
from labelfns.loading import load_lfs
from labelfns.spans import Span, SpanLF
from weak_supervision.apply import apply_lfs

LABELS = ("drink", "pet", "toy")


def data():
    texts = ["green tea bags", "black tea", "tea pot", "dog leash", "dog bowl", "cat tree",
             "lego bricks", "lego set", "toy car", "herbal teas", "dog food", "lego city"]
    gold = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2])
    pred = np.array([1, 1, 0, 2, 1, 1, 0, 0, 2, 1, 1, 2])
    dev = np.array([True] * 9 + [False] * 3)
    return texts, np.where(dev, gold, -1), pred, dev


def suggestions(**kw):
    texts, gold, pred, dev = data()
    return suggest_lfs(texts, labels=LABELS, gold=gold, predicted=pred, dev_mask=dev,
                       kinds=("keyword", "phrase", "regex"), min_support=1, top_k=10, **kw)


def test_write_lf_module_round_trips_through_load_lfs_with_the_same_votes(tmp_path):
    texts, *_ = data()
    s = suggestions()
    assert len(s) >= 2
    path = write_lf_module(s, tmp_path / "accepted.py")
    lfs = load_lfs([path])
    assert [lf.name for lf in lfs] == [x.name for x in s]
    L = apply_lfs(lfs, pd.DataFrame({"text": texts}), labels=LABELS, n_jobs=1).L
    for j, x in enumerate(s):
        votes = L[:, j] == LABELS.index(x.label)
        assert int(votes.sum()) == x.support + x.pool_votes
    text = path.read_text()
    assert text.startswith('"""') and "fixes" in text and "95% CI" in text


def test_write_lf_module_refuses_to_clobber(tmp_path):
    path = tmp_path / "accepted.py"
    path.write_text("# mine\n")
    with pytest.raises(LabelcycleError, match="overwrite=True"):
        write_lf_module(suggestions(), path)
    assert path.read_text() == "# mine\n"
    write_lf_module(suggestions(), path, overwrite=True)
    assert "# mine" not in path.read_text()
    with pytest.raises(LabelcycleError, match="not both"):
        write_lf_module(suggestions(), path, overwrite=True, append=True)


def test_write_lf_module_appends_with_names_that_do_not_collide(tmp_path):
    path = tmp_path / "accepted.py"
    s = suggestions()
    write_lf_module(s.top(2), path)
    write_lf_module(s, path, append=True)
    names = [lf.name for lf in load_lfs([path])]
    assert len(names) == 2 + len(s) and len(set(names)) == len(names)
    assert f"{s[0].name}_2" in names


def test_write_lf_module_append_rejects_a_broken_file(tmp_path):
    path = tmp_path / "accepted.py"
    path.write_text("def broken(:\n")
    with pytest.raises(LabelcycleError, match="not valid Python"):
        write_lf_module(suggestions(), path, append=True)
    assert path.read_text() == "def broken(:\n"


def test_write_lf_module_writes_embedding_lfs_that_load(tmp_path):
    texts, gold, pred, dev = data()
    rng = np.random.default_rng(0)
    X = np.eye(3)[np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2])] + 0.05 * rng.normal(size=(12, 3))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    s = suggest_lfs(texts, labels=LABELS, gold=gold, predicted=pred, dev_mask=dev,
                    kinds=("embedding",), embeddings=X, embedding_cache="cache")
    assert len(s)
    path = write_lf_module(s, tmp_path / "emb.py")
    lfs = {lf.name: lf for lf in load_lfs([path])}
    assert list(lfs) == [x.name for x in s]
    for x in s:
        lf = lfs[x.name]
        assert str(lf.spec.cache_dir).endswith(".labelcycle/embeddings")
        if x.label == MULTI_CLASS:  # the dev rows of every class, inline
            assert lf.margin == pytest.approx(float(x.pattern.split(">= ")[1]))
            assert set(lf.classes) == set(LABELS)
        else:
            assert lf.min_similarity == pytest.approx(float(x.pattern.split(">= ")[1]))
            assert lf.classes == (x.label,)


def test_write_lf_module_writes_span_lfs_that_load_and_find_the_spans(tmp_path):
    texts = ["id is AB-1234 ok", "my id is CD-5678", "id is XY-9999", "nothing"]
    gold = [[(6, 13, "ACCOUNT_ID")], [(9, 16, "ACCOUNT_ID")], [(6, 13, "ACCOUNT_ID")], []]
    s = suggest_pii(texts, gold=gold, predicted=[[]] * 4, dev_mask=[True] * 4)
    path = write_lf_module(s, tmp_path / "pii_accepted.py")
    lfs = load_lfs([path], kind=SpanLF)
    assert [lf.name for lf in lfs] == [x.name for x in s]
    assert lfs[0](texts[0]) == [Span(6, 13, "ACCOUNT_ID")]


@pytest.mark.parametrize("text", ["plain", 'with "quotes" and \\ backslash', "line\nbreak " * 30,
                                  "x" * 300, "ünïcödé " * 40])
def test_str_literal_is_exact(text):
    assert eval(str_literal(text, "    ")) == text  # noqa: S307 - our own literal


def test_neighbour_lfs_written_into_a_project_read_its_dev_rows(tmp_path):
    from weak_supervision.project import init_project, load_project

    project = load_project(init_project(tmp_path / "p"))
    gold = np.where(project.dev_mask, project.y_dev, -1)
    rng = np.random.default_rng(0)
    y = np.where(gold >= 0, gold, rng.integers(0, 3, size=project.n_rows))
    X = np.eye(3)[y] + 0.1 * rng.normal(size=(project.n_rows, 3))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    pred = np.where(gold == 1, 0, np.maximum(gold, 0))
    s = suggest_lfs(project.data, labels=project.labels, gold=gold, predicted=pred,
                    dev_mask=project.dev_mask, kinds=("embedding",), embeddings=X,
                    dev_rows_from_project=True, embedding_cache="x")
    assert len(s)
    lfs = {lf.name: lf for lf in load_lfs([write_lf_module(s, project.root / "sg.py")])}
    dev_texts = project.data["text"][project.dev_mask].tolist()
    for x in s:
        lf = lfs[x.name]
        assert sorted(lf.spec.texts) == sorted(
            t for t, g in zip(dev_texts, project.y_dev[project.dev_mask], strict=True)
            if x.label == MULTI_CLASS or project.labels[g] == x.label)
