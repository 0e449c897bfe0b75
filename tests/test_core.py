"""The LF type and the decorator."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from snorkel.labeling import LabelingFunction as SnorkelLF
from snorkel.preprocess import preprocessor

from labelfns import ABSTAIN, LabelingFunction, LFError, check_unique_names, labeling_function

LABELS = ("billing", "refund")


def test_decorator_without_parentheses_uses_function_name():
    @labeling_function
    def my_lf(x):
        return None

    assert isinstance(my_lf, SnorkelLF) and isinstance(my_lf, LabelingFunction)
    assert my_lf.name == "my_lf"


def test_decorator_with_name_resources_and_pre():
    @preprocessor()
    def upper(x):
        x.text = x.text.upper()
        return x

    @labeling_function(name="custom", resources={"word": "REFUND"}, pre=[upper], labels=LABELS)
    def f(x, word):
        return "refund" if word in x.text else ABSTAIN

    assert f.name == "custom"
    assert f(SimpleNamespace(text="a refund")) == 1
    assert f(SimpleNamespace(text="nope")) == -1


@pytest.mark.parametrize("value,expected", [("billing", 0), ("refund", 1), (1, 1), (np.int64(0), 0),
                                            (None, -1), (ABSTAIN, -1)])
def test_resolve_accepts_names_indices_and_abstain(value, expected):
    lf = LabelingFunction("lf", lambda x: value, labels=LABELS)
    assert lf(SimpleNamespace()) == expected


def test_unknown_class_name_error_names_lf_value_and_valid_names():
    lf = LabelingFunction("lf_typo", lambda x: "refnd", labels=LABELS)
    with pytest.raises(LFError) as info:
        lf(SimpleNamespace())
    msg = str(info.value)
    assert "lf_typo" in msg and "'refnd'" in msg and "billing, refund" in msg
    assert "did you mean 'refund'" in msg


@pytest.mark.parametrize("value", [2, -2, True, 1.5, ["refund"]])
def test_invalid_values_are_errors(value):
    lf = LabelingFunction("bad", lambda x: value, labels=LABELS)
    with pytest.raises(LFError, match="LF 'bad'"):
        lf(SimpleNamespace())


def test_class_name_without_label_set_says_how_to_bind():
    lf = LabelingFunction("unbound", lambda x: "refund")
    with pytest.raises(LFError, match="no label set is bound"):
        lf(SimpleNamespace())
    assert lf.bind(LABELS)(SimpleNamespace()) == 1
    assert lf.labels is None  # bind returns a copy


def test_check_unique_names_rejects_duplicates():
    a = LabelingFunction("same", print)
    b = LabelingFunction("same", print)
    with pytest.raises(LFError, match="LF 'same'.*number.*1 and 2"):
        check_unique_names([a, b])


def test_fingerprint_tracks_code_and_helpers(tmp_path):
    src = tmp_path / "m1.py"
    src.write_text("WORDS = ['a']\ndef helper(t):\n    return t in WORDS\n"
                   "from labelfns import labeling_function\n"
                   "@labeling_function()\ndef f(x):\n    return 1 if helper(x.text) else None\n"
                   "@labeling_function()\ndef g(x):\n    return None\n")
    from labelfns.loading import load_lfs

    f1, g1 = load_lfs([src])
    src.write_text(src.read_text().replace("WORDS = ['a']", "WORDS = ['a', 'b']"))
    f2, g2 = load_lfs([src])
    assert f1.fingerprint() != f2.fingerprint()  # the global it reads changed
    assert g1.fingerprint() == g2.fingerprint()  # untouched LF keeps its fingerprint
