import numpy as np
import pytest

from labelfns.errors import LFError
from labelfns.spans import NOT_PII, PII_LABELS, SPAN_LABELS, Span, SpanLF, span_lf


def _const(spans):
    return lambda text: spans


def test_pii_labels_are_the_documented_set():
    assert PII_LABELS == ("PERSON", "EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS",
                          "URL", "ADDRESS", "DATE_OF_BIRTH", "ORDER_ID", "ACCOUNT_ID")
    assert NOT_PII == "O"
    assert SPAN_LABELS == PII_LABELS + ("O",)


def test_span_slice_and_to_dict():
    span = Span(4, 9, "EMAIL")
    assert span.slice("to: a@b.c now") == "a@b.c"
    assert span.to_dict() == {"start": 4, "end": 9, "label": "EMAIL"}
    with pytest.raises(AttributeError):
        span.start = 1  # frozen


def test_span_lf_accepts_tuples_and_spans_sorted_without_duplicates():
    lf = SpanLF("mixed", _const([(5, 7, "PHONE"), Span(0, 2, "PERSON"), [0, 2, "PERSON"],
                                  (0, 1, NOT_PII)]))
    assert lf("abcdefgh") == [Span(0, 1, "O"), Span(0, 2, "PERSON"), Span(5, 7, "PHONE")]


def test_span_lf_accepts_generators_and_numpy_offsets():
    def gen(text):
        yield np.int64(0), np.int64(2), "URL"

    out = SpanLF("gen", gen)("abc")
    assert out == [Span(0, 2, "URL")]
    assert type(out[0].start) is int and type(out[0].end) is int


def test_span_lf_empty_text_and_empty_result():
    assert SpanLF("none", _const([]))("") == []


@pytest.mark.parametrize("bad", [(0, 11, "EMAIL"), (-1, 3, "EMAIL"), (3, 3, "EMAIL"),
                                 (5, 2, "EMAIL")])
def test_span_lf_out_of_range_names_lf_span_and_length(bad):
    lf = SpanLF("my_lf", _const([bad]))
    with pytest.raises(LFError) as info:
        lf("0123456789")
    msg = str(info.value)
    assert "'my_lf'" in msg
    assert f"start={bad[0]}, end={bad[1]}" in msg
    assert "length 10" in msg
    assert info.value.lf == "my_lf"


def test_span_lf_bad_label_names_lf_and_valid_labels():
    lf = SpanLF("labeler", _const([(0, 2, "NAME")]))
    with pytest.raises(LFError, match=r"LF 'labeler'.*unknown label 'NAME'.*length 5.*PERSON"):
        lf("hello")


def test_span_lf_restricted_labels_reject_others():
    lf = SpanLF("emails_only", _const([(0, 2, "PHONE")]), labels=["EMAIL"])
    with pytest.raises(LFError, match="use one of: EMAIL"):
        lf("hello")


def test_span_lf_unknown_label_in_declaration():
    with pytest.raises(LFError, match="unknown span labels.*'NAME'"):
        SpanLF("x", _const([]), labels=["NAME"])


@pytest.mark.parametrize("bad", [(0.0, 2, "EMAIL"), (True, 2, "EMAIL"), ("0", 2, "EMAIL")])
def test_span_lf_non_integer_offsets(bad):
    with pytest.raises(LFError, match="non-integer offsets"):
        SpanLF("floaty", _const([bad]))("hello")


@pytest.mark.parametrize("bad", [(0, 2), "span", 3, {"start": 0}])
def test_span_lf_item_not_a_span(bad):
    with pytest.raises(LFError, match=r"LF 'shape'.*not a span \(text length 5\)"):
        SpanLF("shape", _const([bad]))("hello")


@pytest.mark.parametrize("bad", [None, Span(0, 1, "O"), "spans", 5])
def test_span_lf_result_not_a_list(bad):
    with pytest.raises(LFError, match="not a list of spans"):
        SpanLF("result", _const(bad))("hello")


def test_span_lf_wraps_exceptions_with_name_and_row():
    def boom(text):
        if text == "b":
            raise KeyError("oops")
        return []

    lf = SpanLF("boom", boom)
    with pytest.raises(LFError, match="LF 'boom' on row 1: raised KeyError") as info:
        lf.apply_batch(["a", "b"])
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(LFError, match="LF 'boom': raised KeyError"):
        lf("b")


def test_span_lf_apply_batch_error_row_is_position():
    def picky(text):
        return [(0, 5, "PERSON")]

    with pytest.raises(LFError) as info:
        SpanLF("picky", picky).apply_batch(["hello", "hello", "hi"])
    assert info.value.row == 2


def test_span_lf_non_str_text():
    with pytest.raises(LFError, match="expected a str text, got float"):
        SpanLF("t", _const([]))(float("nan"))


def test_span_lf_resources_injected():
    def find(text, *, word):
        i = text.find(word)
        return [] if i < 0 else [(i, i + len(word), "PERSON")]

    lf = SpanLF("find", find, resources={"word": "Ann"})
    assert lf("hi Ann") == [Span(3, 6, "PERSON")]
    assert lf.apply_batch(["Ann", "Bob"]) == [[Span(0, 3, "PERSON")], []]


def test_span_lf_rejects_bad_construction():
    with pytest.raises(LFError, match="non-empty string"):
        SpanLF(" ", _const([]))
    with pytest.raises(LFError, match="expected a function"):
        SpanLF("x", 3)
    with pytest.raises(LFError, match="resources must be a mapping"):
        SpanLF("x", _const([]), resources=[1])


def test_span_lf_decorator_without_parentheses():
    @span_lf
    def at_sign(text):
        return [(i, i + 1, "EMAIL") for i, c in enumerate(text) if c == "@"]

    assert isinstance(at_sign, SpanLF)
    assert at_sign.name == "at_sign"
    assert at_sign("a@b@") == [Span(1, 2, "EMAIL"), Span(3, 4, "EMAIL")]


def test_span_lf_decorator_with_parentheses():
    @span_lf(name="char_finder", resources={"char": "#"}, labels=["ORDER_ID"])
    def find(text, *, char):
        return [(i, i + 1, "ORDER_ID") for i, c in enumerate(text) if c == char]

    assert find.name == "char_finder"
    assert find.labels == ("ORDER_ID",)
    assert find("a#") == [Span(1, 2, "ORDER_ID")]


def test_span_lf_decorator_positional_name_is_an_error():
    with pytest.raises(LFError, match=r"span_lf\(name='x'\)"):
        span_lf("x")


def test_span_lf_fingerprint_tracks_resources():
    def find(text, *, word):
        return []

    a = SpanLF("f", find, resources={"word": "a"})
    b = SpanLF("f", find, resources={"word": "b"})
    assert a.fingerprint() == SpanLF("f", find, resources={"word": "a"}).fingerprint()
    assert a.fingerprint() != b.fingerprint()
    assert repr(a) == "SpanLF('f')"
