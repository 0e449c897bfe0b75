"""Tests of analysis.builtin_slices: the slices every report includes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.builtin_slices import Slice, builtin_slices, length_bins
from analysis.cycle_data import CycleData, cycle_data_from_frame, read_predictions
from labelfns.errors import DataError

LABELS = ("billing", "shipping", "product")


def _data(**extra) -> CycleData:
    frame = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f"],
        "text": ["x" * n for n in (5, 10, 20, 40, 80, 160)],
        "split": ["dev", "dev", "dev", "dev", "pool", "pool"],
        "gold": [0, 0, 1, 1, -1, -1],  # no dev row of "product"
        "end_model": [0, 1, 1, 2, 0, 1],
        "label_model": [0, 0, 1, -1, 0, 2],
        "label_model_confidence": [0.9, 0.55, 0.8, np.nan, 0.99, 0.4],
        **extra,
    })
    L = np.array([[0, -1], [0, 1], [1, 1], [-1, -1], [0, -1], [2, 2]])
    return cycle_data_from_frame(frame, LABELS, L=L, lf_names=("lf_a", "lf_b"))


def _by_name(slices: list[Slice]) -> dict[str, list[bool]]:
    return {s.name: np.asarray(s.mask).tolist() for s in slices}


def test_builtin_slices_classification_names_and_masks():
    slices = _by_name(builtin_slices(_data()))
    assert list(slices)[:6] == ["gold=billing", "gold=shipping", "gold=product",
                                "predicted=billing", "predicted=shipping", "predicted=product"]
    assert slices["gold=product"] == [False] * 6  # a class with no dev rows: an empty slice
    assert slices["predicted=shipping"] == [False, True, True, False, False, True]
    assert slices["uncovered"] == [False, False, False, True, False, False]
    assert slices["conflict"] == [False, True, False, False, False, False]
    assert slices["low_confidence"] == [False, True, False, False, False, True]
    assert slices["models_disagree"] == [False, True, False, False, False, True]
    assert "invalid_answer" not in slices and "predicted=(none)" not in slices
    assert [n for n in slices if n.startswith("length:")] == ["length:short", "length:medium",
                                                             "length:long"]


def test_builtin_slices_predicted_class_follows_the_model():
    slices = _by_name(builtin_slices(_data(), model="label_model"))
    assert slices["predicted=(none)"] == [False, False, False, True, False, False]
    with pytest.raises(DataError, match="no predictions of model 'chat'"):
        builtin_slices(_data(), model="chat")


def test_builtin_slices_invalid_answers_when_chat_predictions_are_present():
    ext = read_predictions(pd.DataFrame({"id": list("abcd"), "prediction": ["billing", "??", 1, ""],
                                         "answer": ["billing", "??", "shipping", ""]}),
                           ids=list("abcdef"), labels=LABELS,
                           dev_mask=np.array([True] * 4 + [False] * 2))
    data = _data(**{c: ext[c] for c in ext.columns if c != "id"})
    slices = _by_name(builtin_slices(data))
    assert slices["invalid_answer"] == [False, True, False, True, False, False]
    assert slices["predicted=billing"] == [True, False, False, False, False, False]  # external


def test_builtin_slices_without_lfs_leave_lf_slices_out():
    frame = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
                          "end_model": [0]})
    names = [s.name for s in builtin_slices(cycle_data_from_frame(frame, LABELS))]
    assert "uncovered" not in names and "conflict" not in names and "length:all" in names


def test_length_bins_cover_every_row_once():
    lengths = np.array([3, 3, 3, 10, 50, 51, 52, 200])
    bins = length_bins(lengths)
    total = np.sum([m for _, _, m in bins], axis=0)
    assert total.tolist() == [1] * len(lengths)
    assert [d for _, d, _ in bins] == ["at most 3 characters", "4-50 characters",
                                       "more than 50 characters"]
    assert [n for n, _, _ in length_bins(np.array([7, 7, 7]))] == ["length:all"]
    assert length_bins(np.array([], dtype=int)) == []
    with pytest.raises(DataError):
        length_bins(lengths, n_bins=0)


def test_slice_to_dict_counts_rows():
    assert Slice("s", "g", "d", np.array([True, True, False])).to_dict()["n"] == 2
