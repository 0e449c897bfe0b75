"""Tests of analysis.slicing: the slicing-function type, its decorator, loading and applying."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from snorkel.preprocess import preprocessor
from snorkel.slicing import PandasSFApplier
from snorkel.slicing import SlicingFunction as SnorkelSF
from snorkel.slicing import slicing_function as snorkel_slicing_function

from analysis.slicing import (
    SlicingFunction,
    SlicingFunctionError,
    apply_slices,
    load_slicing_functions,
    slicing_function,
)
from labelfns.errors import LabelcycleError, LFError

ROWS = pd.DataFrame({"text": ["Refund please", "where is my parcel", "hi"], "n": [3, 1, 2]})


def test_slicing_function_decorator_with_and_without_parentheses():
    @slicing_function
    def refund(x):
        return "refund" in x.text.lower()

    @slicing_function(name="longer_than", resources={"limit": 5})
    def longer(x, limit):
        return len(x.text) > limit

    assert refund.name == "refund" and longer.name == "longer_than"
    assert isinstance(refund, SnorkelSF) and isinstance(longer, SlicingFunction)
    assert refund(SimpleNamespace(text="REFUND")) is True
    assert longer(SimpleNamespace(text="hi")) is False


def test_slicing_function_runs_preprocessors_first():
    @preprocessor()
    def lower(x):
        x.text = x.text.lower()
        return x

    @slicing_function(pre=[lower])
    def shouting(x):
        return x.text.isupper()

    assert apply_slices([shouting], pd.DataFrame({"text": ["HEY"]}))["shouting"].tolist() == [False]


def test_slicing_function_is_accepted_by_snorkel_applier():
    @slicing_function
    def short(x):
        return len(x.text) < 5

    S = PandasSFApplier([short]).apply(ROWS, progress_bar=False)
    assert S["short"].tolist() == [0, 0, 1]


def test_slicing_function_rejects_non_bool_return():
    sf = SlicingFunction("bad", lambda x: "yes")
    with pytest.raises(SlicingFunctionError, match="slicing function 'bad'.*returned 'yes'"):
        sf(SimpleNamespace(text="x"))
    with pytest.raises(SlicingFunctionError, match="on row 'r2'"):
        apply_slices([SlicingFunction("two", lambda x: 2 if x.n == 1 else False)], ROWS,
                     ids=["r1", "r2", "r3"])


def test_slicing_function_rejects_empty_name():
    with pytest.raises(SlicingFunctionError, match="non-empty"):
        SlicingFunction(" ", lambda x: True)


def test_apply_slices_names_function_and_row_when_it_raises():
    @slicing_function
    def needs_field(x):
        return x.missing > 0

    with pytest.raises(SlicingFunctionError) as info:
        apply_slices([needs_field], ROWS, ids=["a", "b", "c"])
    message = str(info.value)
    assert "slicing function 'needs_field' on row 'a'" in message
    assert "AttributeError" in message
    assert info.value.lf == "needs_field" and info.value.row == "a"
    assert isinstance(info.value, LFError)


def test_apply_slices_accepts_snorkel_functions_and_keeps_order():
    @snorkel_slicing_function()
    def snorkel_short(x):
        return len(x.text) < 5

    @slicing_function
    def many(x):
        return x["n"] >= 2

    out = apply_slices([many, snorkel_short], ROWS)
    assert list(out.columns) == ["many", "snorkel_short"]
    assert out["many"].tolist() == [True, False, True]
    assert out["snorkel_short"].tolist() == [False, False, True]
    assert out.dtypes.tolist() == [bool, bool]


def test_apply_slices_rejects_duplicate_names():
    a = SlicingFunction("dup", lambda x: True)
    b = SlicingFunction("dup", lambda x: False)
    with pytest.raises(SlicingFunctionError, match="slicing function 'dup'.*used by slicing"):
        apply_slices([a, b], ROWS)


def test_apply_slices_rejects_ids_of_wrong_length():
    with pytest.raises(LabelcycleError, match="2 ids for 3 rows"):
        apply_slices([SlicingFunction("t", lambda x: True)], ROWS, ids=["a", "b"])


def test_load_slicing_functions_from_file_in_definition_order(tmp_path):
    (tmp_path / "slice_helpers.py").write_text("LIMIT = 10\n")
    (tmp_path / "slices.py").write_text(
        "from snorkel.slicing import slicing_function as snorkel_sf\n"
        "from analysis.slicing import slicing_function\n"
        "from slice_helpers import LIMIT\n"
        "@slicing_function\n"
        "def short(x):\n    return len(x.text) < LIMIT\n"
        "@snorkel_sf()\n"
        "def from_snorkel(x):\n    return True\n"
        "more = [slicing_function(name='q')(lambda x: '?' in x.text)]\n")
    sfs = load_slicing_functions(["slices.py"], base_dir=tmp_path)
    assert [sf.name for sf in sfs] == ["short", "from_snorkel", "q"]


def test_load_slicing_functions_import_error_names_file_and_line(tmp_path):
    (tmp_path / "broken.py").write_text("from analysis.slicing import slicing_function\n"
                                        "x = 1\nraise ValueError('boom')\n")
    with pytest.raises(LabelcycleError) as info:
        load_slicing_functions([tmp_path / "broken.py"])
    assert "broken.py, line 3" in str(info.value) and "boom" in str(info.value)


def test_load_slicing_functions_module_without_any_is_an_error(tmp_path):
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(LabelcycleError, match="defines no slicing function"):
        load_slicing_functions([tmp_path / "empty.py"])


def test_load_slicing_functions_rejects_duplicates_across_modules(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("from analysis.slicing import slicing_function\n"
                                     "@slicing_function\ndef same(x):\n    return True\n")
    with pytest.raises(SlicingFunctionError, match="'same'"):
        load_slicing_functions(["a.py", "b.py"], base_dir=tmp_path)
