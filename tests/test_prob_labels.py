import dataclasses
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from labelfns.errors import DataError
from weak_supervision.label_matrix import LabelMatrix
from weak_supervision.label_model import LabelModel, MajorityVote, select_label_model
from weak_supervision.prob_labels import ProbabilisticLabels


def make_labels(**overrides):
    kwargs = dict(
        ids=np.array(["a", "b", "c"]),
        probs=np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1 / 3, 1 / 3, 1 / 3]]),
        labels=("neg", "neu", "pos"),
        source="label_model",
        covered=np.array([True, True, False]),
    )
    kwargs.update(overrides)
    return ProbabilisticLabels(**kwargs)


def test_prob_labels_derived_fields():
    pl = make_labels()
    assert pl.hard.tolist() == [0, 0, -1]  # tie -> lowest index; uncovered -> -1
    np.testing.assert_allclose(pl.confidence, [0.7, 0.4, 1 / 3])
    assert pl.covered.tolist() == [True, True, False]
    assert pl.n_rows == 3


def test_prob_labels_covered_defaults_to_all_rows_and_labels_to_indices():
    pl = ProbabilisticLabels([1, 2], np.array([[0.1, 0.9], [0.6, 0.4]]), (), "majority")
    assert pl.covered.tolist() == [True, True]
    assert pl.labels == ("0", "1")
    assert pl.hard.tolist() == [1, 0]


def test_prob_labels_to_frame():
    frame = make_labels().to_frame()
    assert frame.columns.tolist() == ["id", "proba_neg", "proba_neu", "proba_pos", "label",
                                      "confidence", "covered"]
    assert frame["label"].tolist() == ["neg", "neg", None]
    assert frame["covered"].tolist() == [True, True, False]
    np.testing.assert_allclose(frame["proba_pos"], [0.1, 0.2, 1 / 3])


def test_prob_labels_to_dict():
    d = make_labels().to_dict()
    assert d["class_counts"] == {"neg": 2, "neu": 0, "pos": 0}
    assert d["coverage"] == pytest.approx(2 / 3)
    assert d["mean_confidence"] == pytest.approx(0.55)
    assert d["source"] == "label_model"


def test_prob_labels_is_frozen_and_arrays_read_only():
    pl = make_labels()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pl.source = "other"
    with pytest.raises(ValueError):
        pl.probs[0, 0] = 1.0
    src = np.array([[0.5, 0.5]])
    pl2 = ProbabilisticLabels(["x"], src, ("a", "b"), "s")
    src[0, 0] = 0.9  # the caller's array is copied
    assert pl2.probs[0, 0] == 0.5


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"probs": np.array([[0.7, 0.2, 0.2], [0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])}, "row 0"),
        ({"ids": np.array(["a", "b"])}, "2 ids"),
        ({"labels": ("neg", "pos")}, "2 labels"),
        ({"labels": ("x", "x", "y")}, "distinct"),
        ({"covered": np.array([True])}, "covered"),
        ({"probs": np.array([0.5, 0.5])}, "2-dimensional"),
    ],
)
def test_prob_labels_rejects_invalid(overrides, match):
    with pytest.raises(DataError, match=match):
        make_labels(**overrides)


def test_prob_labels_parquet_round_trip(tmp_path):
    pl = make_labels()
    path = pl.write_parquet(tmp_path / "labels.parquet")
    back = ProbabilisticLabels.read_parquet(path)
    assert back.ids.tolist() == ["a", "b", "c"]
    assert np.array_equal(back.probs, pl.probs)
    assert back.labels == pl.labels and back.source == "label_model"
    assert back.covered.tolist() == [True, True, False]
    assert back.hard.tolist() == pl.hard.tolist()
    assert os.listdir(tmp_path) == ["labels.parquet"]  # no temp file left behind


def test_prob_labels_parquet_round_trip_int_ids_and_overwrite(tmp_path):
    path = tmp_path / "p.parquet"
    make_labels().write_parquet(path)
    pl = ProbabilisticLabels(np.arange(4), np.full((4, 2), 0.5), ("a", "b"), "majority")
    pl.write_parquet(path)
    back = ProbabilisticLabels.read_parquet(path)
    assert back.ids.tolist() == [0, 1, 2, 3] and back.labels == ("a", "b")


def test_prob_labels_write_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "labels.parquet"
    make_labels().write_parquet(path)
    before = path.read_bytes()

    def broken_write(table, where, **kwargs):
        with open(where, "wb") as fh:
            fh.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        make_labels(source="other").write_parquet(path)
    assert path.read_bytes() == before  # the old file is intact
    assert os.listdir(tmp_path) == ["labels.parquet"]
    with pytest.raises(OSError):
        make_labels().write_parquet(tmp_path / "new.parquet")
    assert not (tmp_path / "new.parquet").exists()


def test_prob_labels_write_into_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        make_labels().write_parquet(tmp_path / "nope" / "p.parquet")


def test_prob_labels_read_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ProbabilisticLabels.read_parquet(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read"):
        ProbabilisticLabels.read_parquet(bad)
    no_probs = tmp_path / "noprobs.parquet"
    pd.DataFrame({"id": [1], "label": ["x"]}).to_parquet(no_probs)
    with pytest.raises(DataError, match="proba_"):
        ProbabilisticLabels.read_parquet(no_probs)


def test_prob_labels_reads_plain_parquet_without_metadata(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"id": ["x", "y"], "proba_cat": [0.9, 0.2], "proba_dog": [0.1, 0.8],
                  "covered": [True, False]}).to_parquet(path)
    pl = ProbabilisticLabels.read_parquet(path)
    assert pl.labels == ("cat", "dog") and pl.source == "plain"
    assert pl.hard.tolist() == [0, -1]


def test_prob_labels_from_model_with_label_matrix():
    lm = LabelMatrix(ids=np.array(["r1", "r2", "r3"]), lf_names=("a", "b", "c"),
                     L=np.array([[0, 0, 1], [1, 1, 1], [-1, -1, -1]]), labels=("ham", "spam"))
    pl = ProbabilisticLabels.from_model(MajorityVote(2).fit(lm), lm)
    assert pl.ids.tolist() == ["r1", "r2", "r3"]
    assert pl.labels == ("ham", "spam") and pl.source == "majority"
    assert pl.covered.tolist() == [True, True, False]
    assert pl.to_frame()["label"].tolist() == ["ham", "spam", None]


def test_prob_labels_from_label_model_and_choice():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    L = np.where(rng.random((300, 4)) < 0.6, np.where(rng.random((300, 4)) < 0.85, y[:, None],
                                                       1 - y[:, None]), -1)
    model = LabelModel(2, n_epochs=50).fit(L)
    pl = ProbabilisticLabels.from_model(model, L, ids=np.arange(300) + 10, labels=("n", "p"))
    assert pl.source == "label_model"
    np.testing.assert_allclose(pl.probs, model.predict_proba(L))
    assert np.array_equal(pl.hard, model.predict(L))
    choice = select_label_model(L, cardinality=2, prefer="majority")
    from_choice = ProbabilisticLabels.from_model(choice, L)
    assert from_choice.source == "majority" and from_choice.ids.tolist() == list(range(300))


def test_read_parquet_reads_a_folder_of_partitions_in_order(tmp_path):
    import numpy as np

    from weak_supervision.prob_labels import ProbabilisticLabels

    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.3, 0.7]])
    full = ProbabilisticLabels(ids=np.array(["a", "b", "c", "d"]), probs=probs,
                               labels=("neg", "pos"), source="test",
                               covered=np.array([True, True, False, True]))
    folder = tmp_path / "labels.parquet"
    folder.mkdir()
    for i, rows in enumerate((slice(0, 3), slice(3, 4))):
        part = ProbabilisticLabels(ids=full.ids[rows], probs=probs[rows], labels=("neg", "pos"),
                                   covered=full.covered[rows], source="test")
        part.write_parquet(folder / f"part-{i:05d}.parquet")
    back = ProbabilisticLabels.read_parquet(folder)
    assert back.ids.tolist() == ["a", "b", "c", "d"]
    assert np.allclose(back.probs[back.covered], probs[full.covered])
    assert back.covered.tolist() == full.covered.tolist()
