"""Built-in PII span detectors: precompiled regexes plus validators (checksums, library parsers).

Each detector is a :class:`~labelfns.spans.SpanLF` named ``pii_<kind>`` that votes one PII label:

=====================  =============  ==============================================================
LF                     label          how
=====================  =============  ==============================================================
``pii_email``          EMAIL          regex; also inside brackets/punctuation, Unicode letters
``pii_url``            URL            ``http(s)://``, ``www.``, bare ``domain.tld/path``; trailing
                                      punctuation and unbalanced ``)``/``]`` are left out
``pii_ip_address``     IP_ADDRESS     IPv4 and IPv6 candidates checked with :mod:`ipaddress`
``pii_phone``          PHONE          :class:`phonenumbers.PhoneNumberMatcher` (leniency VALID,
                                      default region US; :func:`phone_lf` for other regions)
``pii_phone_shape``    PHONE          formatted numbers by layout alone: ``(415) 555-0132``,
                                      ``415.555.0132``, ``+1 ...``, ``+44 20 7946 0958`` (10-15
                                      digits, validity not checked)
``pii_credit_card``    CREDIT_CARD    13-19 digits (one separator kind, groups of 3-6), issuer
                                      prefix and length, Luhn (python-stdnum); 12 digits, an odd
                                      last group or an unknown issuer only after "card", "paid
                                      with", "visa", ... in the same sentence
``pii_ssn``            SSN            ``ddd-dd-dddd`` / ``ddd dd dddd``; 9 bare digits only after
                                      "SSN", "social security", ...; python-stdnum ``us.ssn``
``pii_iban``           IBAN           compact or in groups of 4; python-stdnum ``iban.is_valid``
``pii_date_of_birth``  DATE_OF_BIRTH  a date with "born", "DOB", "date of birth", "birthday", ...
                                      within 50 characters before or 25 after, same sentence
``pii_address``        ADDRESS        number + capitalized street name + suffix (St, Ave, Road,
                                      ...), optional unit, optional "City, ST 12345"
``pii_order_id``       ORDER_ID       an id-shaped token (a digit, >= 5 of letters/digits/dashes)
                                      within 4 tokens after "order", "order number", "order #",
                                      "invoice", "confirmation", "booking", "reservation",
                                      "transaction", "RMA" (not "ticket", "case", "tracking",
                                      "reference": see the PII spec below)
``pii_account_id``     ACCOUNT_ID     the same after "account", "acct", "a/c", "customer id /
                                      number", "member(ship) id / number", "client id", "user id"
=====================  =============  ==============================================================

The PII spec
------------
What labelcycle counts as PII (the built-in detectors, the support-chat example's gold spans and
the benchmarks follow it):

- PERSON: names of people wherever they name a person (speaker tags, greetings, lowercase
  mentions); titles ("Ms.") and possessive "'s" stay outside; company and brand names are not
  PII, nor are names used as words ("Will do", "Mark as resolved").
- ORDER_ID: ids that identify one customer's purchase: order, invoice, confirmation, booking,
  reservation, transaction and RMA numbers (the id only: "order #A-482913" -> ``A-482913``).
- ACCOUNT_ID: account, customer, member, client and user ids (the id only).
- DATE_OF_BIRTH: a date with a birth context (the date only); other dates are not PII.
- EMAIL, PHONE, CREDIT_CARD, SSN, IBAN, IP_ADDRESS, URL, ADDRESS: the value without surrounding
  brackets or sentence punctuation.
- Not PII: support ticket, case and reference numbers, carrier tracking numbers, serial numbers,
  the last four digits of a card, card expiry dates, prices, quantities, product models,
  timestamps and order or delivery dates.

Context LFs vote :data:`~labelfns.spans.NOT_PII` on numbers that resemble PII but are not:
``not_pii_price`` ("$12.99", "12 USD"), ``not_pii_quantity`` ("3 items", "2x", "500 GB"),
``not_pii_date`` (dates without a birth context) and ``not_pii_product`` ("iPhone 13", "size 10").

:data:`PII_DETECTORS` holds the positive detectors, :data:`NOT_PII_DETECTORS` the context LFs and
:data:`BUILTIN_SPAN_LFS` both. Every regex is compiled at import and written so that matching is
linear in the text length (no nested, ambiguous repetition). For speed, most detectors try their
regex only where a match can start (numbers that follow no word character, keyword starts found
with ``bytes.find``, "@", tokens holding "/" or "www.") or skip texts that lack a required
character; the results are those of a plain scan (the tests compare both). phonenumbers only reads
windows around clusters of digits, and is skipped for clusters too short to be a national number
when no "+" is near; :func:`clear_caches` forgets the per-text results the detectors share.

Example
-------
>>> text = "Mail <ann@example.com>, card 4111 1111 1111 1111."
>>> found = detect_all(text)
>>> [s.slice(text) for s in found["pii_email"]], [s.slice(text) for s in found["pii_credit_card"]]
(['ann@example.com'], ['4111 1111 1111 1111'])
"""

from __future__ import annotations

import datetime as _dt
import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.us import ssn as _ssn

from labelfns.errors import LFError
from labelfns.spans import NOT_PII, Span, SpanLF

__all__ = [
    "email_lf",
    "url_lf",
    "ip_address_lf",
    "phone_lf",
    "phone_default_lf",
    "phone_shape_lf",
    "credit_card_lf",
    "ssn_lf",
    "iban_lf",
    "date_of_birth_lf",
    "address_lf",
    "order_id_lf",
    "account_id_lf",
    "price_lf",
    "quantity_lf",
    "date_not_dob_lf",
    "product_lf",
    "PII_DETECTORS",
    "NOT_PII_DETECTORS",
    "BUILTIN_SPAN_LFS",
    "detect_all",
    "clear_caches",
]


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------
def _next_is_word(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a letter, digit or underscore (False at the end)."""
    return i < len(text) and (text[i].isalnum() or text[i] == "_")


def _keyword_groups(groups: Sequence[tuple[Iterable[str], str]], *, not_after: str = r"\w") -> str:
    """A regex source for any of the words of ``groups`` (regex fragments starting with a letter,
    matched ignoring case), each followed by its group's ``tail`` regex, not preceded by
    ``not_after``; ``groups`` are tried in order, longer words first within a group.

    The first letter is consumed by a character set and the rest chosen by a lookbehind on it:
    ``re`` then scans for the possible first letters in C, where a leading lookahead or
    ``(?i:a|b|...)`` alternation is tried (slowly) at every position.
    """
    by_letter: dict[str, list[str]] = {}
    for words, tail in groups:
        ordered = sorted(set(words), key=len, reverse=True)
        for first in dict.fromkeys(w[0].lower() for w in ordered):
            rests = "|".join(w[1:] for w in ordered if w[0].lower() == first)
            by_letter.setdefault(first, []).append(f"(?i:{rests}){tail}")
    firsts = "".join(sorted({c for f in by_letter for c in (f, f.upper())}))
    branches = "|".join(f"(?<=[{f}{f.upper()}])(?:{'|'.join(alts)})" for f, alts in by_letter.items())
    return f"[{firsts}](?<!{not_after}[\\s\\S])(?:{branches})"


_QUANTIFIERS = frozenset("?*+{")
# the only non-ASCII characters that (?i) matches to ASCII letters: İ ı ſ K (Kelvin)
_ASCII_FOLDS = ("\u0130", "\u0131", "\u017f", "\u212a")
_ASCII_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")  # lowered
# pattern -> where in a text its matches can start (sorted), or None for "anywhere"
_STARTS: dict[re.Pattern[str], Callable[[str], Sequence[int] | None]] = {}


def _literal_prefix(word: str) -> str:
    """The leading plain characters of a keyword regex fragment ("tax" of ``tax(?:payer)?``)."""
    out = []
    for i, c in enumerate(word):
        if not (c.isalnum() or c in " /") or word[i + 1:i + 2] in _QUANTIFIERS - {""}:
            break
        out.append(c)
    return "".join(out)


def _compile_keywords(groups: Sequence[tuple[Iterable[str], str]], *,
                      not_after: str = r"\w") -> re.Pattern[str]:
    """:func:`_keyword_groups` compiled, registered for :func:`_finditer` to find fast."""
    groups = [(list(words), tail) for words, tail in groups]
    pattern = re.compile(_keyword_groups(groups, not_after=not_after))
    if not_after == r"\w":
        prefixes = {_literal_prefix(w).lower().encode("ascii") for words, _ in groups for w in words}
        _STARTS[pattern] = functools.partial(_keyword_starts, tuple(sorted(  # "member" covers
            p for p in prefixes if not any(q != p and p.startswith(q) for q in prefixes))))
    return pattern


def _keyword_starts(prefixes: tuple[bytes, ...], text: str) -> list[int] | None:
    """Where a word starting with one of ``prefixes`` (lower case) starts in ``text``, found with
    ``bytes.find`` on the lowered text; None if a character (?i) folds to ASCII is present."""
    if any(c in text for c in _ASCII_FOLDS):
        return None
    low = text.encode("ascii", "replace").lower()  # one byte per character
    starts: set[int] = set()
    for prefix in prefixes:
        i = low.find(prefix)
        while i >= 0:
            if not (i and low[i - 1] in _ASCII_WORD):  # a word starts here (not_after is \w)
                starts.add(i)
            i = low.find(prefix, i + 1)
    return sorted(starts)


_DENSE = 16  # more than one place to try per _DENSE characters: let re scan the text in C


def _matches_at(pattern: re.Pattern[str], text: str, starts: Sequence[int]) -> list[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields when its matches can only start at ``starts``
    (sorted): the pattern is tried there only, skipping places inside an earlier match."""
    if len(starts) * _DENSE > len(text):
        return list(pattern.finditer(text))
    out = []
    last = 0
    for i in starts:
        if i >= last:
            m = pattern.match(text, i)
            if m is not None:
                out.append(m)
                last = m.end()
    return out


def _finditer(pattern: re.Pattern[str], text: str) -> Iterable[re.Match[str]]:
    """``pattern.finditer(text)``, trying a pattern registered in ``_STARTS`` (keywords, prices,
    quantities) only where its matches can start."""
    find = _STARTS.get(pattern)
    starts = None if find is None else find(text)
    return pattern.finditer(text) if starts is None else _matches_at(pattern, text, starts)


def _keywords(words: Iterable[str], *, not_after: str = r"\w") -> str:
    """A regex source for any of ``words`` (regex fragments starting with a letter), ignoring case,
    not preceded by ``not_after`` (see :func:`_keyword_groups`)."""
    return _keyword_groups([(words, "")], not_after=not_after)


_DIGIT_RUN = re.compile(r"\d+")


@functools.lru_cache(maxsize=4096)
def _number_starts(text: str) -> tuple[int, ...] | None:
    """Where the numbers of ``text`` that follow no letter, digit or "_" start (cached: most
    detectors start there); None when numbers are so dense that a plain scan is faster."""
    limit = len(text) // _DENSE
    out = []
    for k, m in enumerate(_DIGIT_RUN.finditer(text)):
        if k >= limit:
            return None
        i = m.start()
        if not i or not (text[i - 1].isalnum() or text[i - 1] == "_"):
            out.append(i)
    return tuple(out)


def _number_matches(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """``list(pattern.finditer(text))`` for a pattern whose matches start with a digit that does
    not follow ``\\w`` (``\\d(?<![\\w...]\\d)...``): only tried at :func:`_number_starts`."""
    starts = _number_starts(text)
    return list(pattern.finditer(text)) if starts is None else _matches_at(pattern, text, starts)


_SENTENCE_BREAK = re.compile(r"[.!?]\s+(?=[A-Z])|\n")
_FILLER_ONLY = re.compile(r"[\s:=\-\u2013\u2014(),#]*")


def _context_near(text: str, start: int, end: int, context: re.Pattern[str], *, before: int,
                  after: int) -> bool:
    """Whether ``context`` matches within ``before`` chars before ``start`` or ``after`` chars after
    ``end``, in the same sentence (a gap of only punctuation and spaces may cross a line break)."""
    lo = max(0, start - before)
    last = None
    for last in context.finditer(text, lo, start):  # noqa: B007 - keep the closest match
        pass
    if last is not None:
        gap = text[last.end():start]
        if _FILLER_ONLY.fullmatch(gap) or not _SENTENCE_BREAK.search(gap):
            return True
    m = context.search(text, end, min(len(text), end + after))
    if m is not None:
        gap = text[end:m.start()]
        if _FILLER_ONLY.fullmatch(gap) or not _SENTENCE_BREAK.search(gap):
            return True
    return False


# ------------------------------------------------------------------------------------------------
# EMAIL
# ------------------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])"
    r"[^\W_](?:[\w%+-]|\.(?=[\w%+-]))*"  # local part: no leading, trailing or double dot
    r"@"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+"  # domain labels
    r"[^\W\d_]{2,24}(?![\w-])"  # TLD
)


_LOCAL_PART_CHARS = frozenset("_.%+-")


def _find_emails(text: str) -> list[Span]:
    out = []
    last = 0
    at = text.find("@")
    while at >= 0:
        # an address can only start where the run of local-part characters before its "@" starts
        lo = at
        while lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] in _LOCAL_PART_CHARS):
            lo -= 1
        if lo >= last:
            m = _EMAIL_RE.match(text, lo)
            if m is not None:
                out.append(Span(m.start(), m.end(), "EMAIL"))
                last = m.end()
        at = text.find("@", at + 1)
    return out


email_lf = SpanLF("pii_email", _find_emails, labels=("EMAIL",))
"""EMAIL spans: ``local@domain.tld``, also inside ``<...>``, ``(...)`` and before punctuation."""


# ------------------------------------------------------------------------------------------------
# URL
# ------------------------------------------------------------------------------------------------
_URL_RE = re.compile(
    r"(?<![\w@./-])"
    r"(?:"
    r"(?P<pre>https?://|www\.)[^\s<>\"'`{}|\\^]+"
    r"|"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,24}/[^\s<>\"'`{}|\\^]*"  # bare domain with a path
    r")",
    re.IGNORECASE,
)
_URL_TRAILING = frozenset(".,;:!?'\"*")


def _trim_url(start: int, url: str) -> int:
    """The end offset of ``url`` without trailing punctuation or unbalanced closing brackets."""
    end = len(url)
    opened = {")": url.count("("), "]": url.count("[")}
    closed = {")": url.count(")"), "]": url.count("]")}
    while end:
        c = url[end - 1]
        if c in _URL_TRAILING:
            end -= 1
        elif c in closed and closed[c] > opened[c]:
            closed[c] -= 1
            end -= 1
        else:
            break
    return start + end


def _url_tokens(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the whitespace-free tokens that hold "/" or "www." (any case)."""
    low = text.lower() if "www." in text.lower() else None
    hints = [i for i in (text.find("/"), low.find("www.") if low is not None else -1) if i >= 0]
    out: list[tuple[int, int]] = []
    n = len(text)
    done = 0
    while hints:
        i = min(hints)
        start = i
        while start > done and not text[start - 1].isspace():
            start -= 1
        end = i
        while end < n and not text[end].isspace():
            end += 1
        out.append((start, end))
        done = end
        hints = [j for j in (text.find("/", end), low.find("www.", end) if low is not None else -1)
                 if j >= 0]
    return out


def _find_urls(text: str) -> list[Span]:
    if "/" not in text and "www." not in text.lower():
        return []
    out = []
    for m in (m for lo, hi in _url_tokens(text) for m in _URL_RE.finditer(text, lo, hi)):
        end = _trim_url(m.start(), m.group())
        prefix = len(m.group("pre") or "")
        if end - m.start() > prefix + 1:  # something after "http://" or "www."
            out.append(Span(m.start(), end, "URL"))
    return out


url_lf = SpanLF("pii_url", _find_urls, labels=("URL",))
"""URL spans: ``http(s)://...``, ``www....`` and bare domains followed by a path."""


# ------------------------------------------------------------------------------------------------
# IP_ADDRESS
# ------------------------------------------------------------------------------------------------
_IPV4_RE = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?!\w|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f.]*:")  # in every candidate with two colons


def _find_ips(text: str) -> list[Span]:
    out: list[Span] = []
    if ":" in text and _IPV6_HINT.search(text):
        for m in _IPV6_RE.finditer(text):
            cand = m.group()
            if cand.count(":") < 2 or _next_is_word(text, m.end()):
                continue
            for c in (cand, cand.rstrip(".")):
                if len(c) <= 45 and any(ch not in ":." for ch in c):
                    try:
                        ipaddress.IPv6Address(c)
                    except ValueError:
                        continue
                    out.append(Span(m.start(), m.start() + len(c), "IP_ADDRESS"))
                    break
    if "." in text:
        v6 = list(out)
        for m in _number_matches(_IPV4_RE, text):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            if not any(s.start <= m.start() and m.end() <= s.end for s in v6):
                out.append(Span(m.start(), m.end(), "IP_ADDRESS"))
    return out


ip_address_lf = SpanLF("pii_ip_address", _find_ips, labels=("IP_ADDRESS",))
"""IP_ADDRESS spans: IPv4 (octets 0-255, no leading zeros) and IPv6 (validated by ipaddress)."""


# ------------------------------------------------------------------------------------------------
# PHONE
# ------------------------------------------------------------------------------------------------
# Clusters of 7-24 digits joined by at most 3 spaces/brackets/dots/dashes/slashes (not newlines);
# the matcher runs on a small window around each cluster, so its cost stays proportional to the
# number of clusters, and its cap of 65535 tries never cuts a long text short. Longer runs of
# numbers (tables, lists of card numbers) are not searched.
_PHONE_CANDIDATE = re.compile(r"\d(?:[ \t().\-/\u2010-\u2015]{0,3}\d){6,}")
_PHONE_MAX_DIGITS = 24
_PHONE_BEFORE, _PHONE_AFTER = 8, 24  # context: "+", "(", "tel:" / " ext. 1234"
_PHONE_JOIN_AFTER = 8
_NON_DIGITS = re.compile(r"\D+")
_DIGIT = re.compile(r"\d")
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹]\s?$")


# Keep phonenumbers' compiled metadata patterns: checking one NANP number touches the patterns of
# ~25 regions, more than the re module's cache keeps, so they were compiled again and again.
if callable(getattr(phonenumbers, "enable_pattern_cache", None)):
    phonenumbers.enable_pattern_cache()

_NOT_PHONE_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|\d{3}-\d{2}-\d{4}")  # IPv4, US SSN


@functools.lru_cache(maxsize=64)
def _min_phone_digits(regions: tuple[str, ...]) -> int:
    """The fewest digits a valid national number of any of ``regions`` has."""
    lengths = [min(phonenumbers.PhoneMetadata.metadata_for_region(r).general_desc.possible_length
                   or (1,)) for r in regions]
    return max(1, min(lengths))


@functools.lru_cache(maxsize=4096)
def _phone_matches(window: str, region: str, leniency: int) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of every number :class:`phonenumbers.PhoneNumberMatcher` finds in
    ``window`` (cached: support texts repeat their numbers)."""
    return tuple((m.start, m.end)
                 for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=leniency))


def _find_phones(text: str, *, region: str | tuple[str, ...], leniency: str) -> list[Span]:
    level = getattr(phonenumbers.Leniency, leniency)
    regions = (region,) if isinstance(region, str) else region
    fewest = _min_phone_digits(regions)
    found: set[Span] = set()
    for m in _PHONE_CANDIDATE.finditer(text):
        n_digits = len(_NON_DIGITS.sub("", m.group()))
        if (n_digits > _PHONE_MAX_DIGITS or _DATE_RE.fullmatch(m.group())
                or _NOT_PHONE_SHAPE.fullmatch(m.group())):
            continue  # a long run of numbers, a date such as 03/04/1985, an IP address, an SSN
        lo, hi = max(0, m.start() - _PHONE_BEFORE), min(len(text), m.end() + _PHONE_AFTER)
        window = text[lo:hi]
        if (n_digits < fewest and "+" not in window
                and not _DIGIT.search(text, lo, m.start())
                and not _DIGIT.search(text, m.end(), m.end() + _PHONE_JOIN_AFTER)):
            continue  # too few digits for a national number, no "+country code" and no digits
            # close by that the matcher might read as part of this number
        spans: list[tuple[int, int]] = []
        for r in regions:
            for s, e in _phone_matches(window, r, level):
                start, end = lo + s, lo + e
                if start < m.end() and m.start() < end and not _CURRENCY_BEFORE.search(
                        text, max(0, start - 2), start):  # this candidate's number, not a neighbour's
                    spans.append((start, end))
        for start, end in spans:  # one span per number: the longest reading among the regions
            if not any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
                found.add(Span(start, end, "PHONE"))
    return sorted(found)


def phone_lf(*, region: str | Sequence[str] = "US", leniency: str = "VALID",
             name: str | None = None) -> SpanLF:
    """A PHONE detector built on :class:`phonenumbers.PhoneNumberMatcher`.

    Parameters
    ----------
    region : str or sequence of str
        The region(s) (ISO 3166-1 alpha-2) that numbers without a ``+`` country code are read
        in; with several, a number is found if it is a number of any of them (one LF, one vote).
    leniency : str
        A :class:`phonenumbers.Leniency` name: POSSIBLE, VALID, STRICT_GROUPING, EXACT_GROUPING.
    name : str, optional
        Defaults to ``"pii_phone"`` for region US with leniency VALID, else
        ``"pii_phone_<region>_<leniency>"`` (lower case).

    Examples
    --------
    >>> uk = phone_lf(region="GB")
    >>> text = "ring 020 7946 0958"
    >>> [s.slice(text) for s in uk(text)], uk.name
    (['020 7946 0958'], 'pii_phone_gb_valid')
    >>> phone_lf(region=["US", "GB"]).name
    'pii_phone_us_gb_valid'
    """
    given = [region] if isinstance(region, str) else list(region)
    regions = tuple(dict.fromkeys(str(r).upper() for r in given))
    lf_name = name or ("pii_phone" if (regions, leniency) == (("US",), "VALID")
                       else f"pii_phone_{'_'.join(r.lower() for r in regions)}_"
                            f"{str(leniency).lower()}")
    if not regions:
        raise LFError("no phone region given", lf=lf_name, hint="pass e.g. region='US'")
    for r in regions:
        if r not in phonenumbers.SUPPORTED_REGIONS:
            raise LFError(f"unknown phone region {r!r}", lf=lf_name,
                          hint="use an ISO 3166-1 alpha-2 code such as US, GB, DE, FR, IN")
    if not isinstance(getattr(phonenumbers.Leniency, str(leniency), None), int):
        raise LFError(f"unknown leniency {leniency!r}", lf=lf_name,
                      hint="use one of: POSSIBLE, VALID, STRICT_GROUPING, EXACT_GROUPING")
    return SpanLF(lf_name, _find_phones,
                  resources={"region": regions[0] if len(regions) == 1 else regions,
                             "leniency": leniency},
                  labels=("PHONE",))


phone_default_lf = phone_lf()
"""PHONE spans with the default region US and leniency VALID (``pii_phone``)."""

# Formatted numbers whose layout says "phone" even when libphonenumber calls them invalid (unused
# area codes, test numbers): NANP "(415) 555-0132", "415-555-0132", "415.555.0132" with or without
# "+1", and "+<country code>" followed by 6-14 more digits in groups.
_PHONE_SHAPE = re.compile(
    r"(?=[+(\d])(?:(?<![\w+])\+1[ .-]?)?(?:(?<![\w(])\(\d{3}\)[ ]?|\d(?<![\w.,$€£¥+-]\d)\d{2}([-.]))"
    r"\d{3}(?(1)\1|[-.])\d{4}(?![\w-]|[.,]\d)"
    r"|(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(0\))?[ .-]?\d{1,12}(?:[ .-]\d{1,12}){0,6}(?![\w-]|[.,]\d)"
)


_PHONE_SHAPE_HINT = re.compile(r"\d{3}[-.]\d{4}")  # in every NANP shape; the others have "+"


def _find_phone_shapes(text: str) -> list[Span]:
    if "+" not in text and not _PHONE_SHAPE_HINT.search(text):
        return []
    out = []
    for m in _PHONE_SHAPE.finditer(text):
        digits = len(_NON_DIGITS.sub("", m.group()))
        if 10 <= digits <= 15 and not _CURRENCY_BEFORE.search(text, max(0, m.start() - 2),
                                                                m.start()):
            out.append(Span(m.start(), m.end(), "PHONE"))
    return out


phone_shape_lf = SpanLF("pii_phone_shape", _find_phone_shapes, labels=("PHONE",))
"""PHONE spans by layout alone: ``(415) 555-0132``, ``415-555-0132``, ``415.555.0132`` (with or
without ``+1``) and ``+44 20 7946 0958``-style international numbers (10-15 digits), valid or not."""


# ------------------------------------------------------------------------------------------------
# CREDIT_CARD
# ------------------------------------------------------------------------------------------------
_CARD_RUN = re.compile(r"\d(?<![\w.,$€£¥-]\d)(?:[ -]?\d){11,}")
_CARD_CONTEXT = re.compile(
    _keywords(["card", "credit", "debit", "visa", "mastercard", "amex", "maestro", "paid with",
               "pay with", "payment"]) + r"(?![a-zA-Z])")
_DIGIT_GROUP = re.compile(r"\d+")


def _card_issuer_ok(d: str) -> bool:
    """Whether the digits ``d`` start with a known issuer prefix and have that issuer's length."""
    n, p2, p3, p4, p6 = len(d), int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    if d[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if p2 in (34, 37):  # American Express
        return n == 15
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:  # Discover
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:  # JCB
        return 16 <= n <= 19
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):  # Diners Club
        return 14 <= n <= 19
    if p2 == 62:  # UnionPay
        return 16 <= n <= 19
    if 2200 <= p4 <= 2204:  # Mir
        return n == 16
    if p2 in (50, 56, 57, 58, 63, 67):  # Maestro
        return 13 <= n <= 19
    return False


def _find_cards(text: str) -> list[Span]:
    out = []
    for run in _number_matches(_CARD_RUN, text):
        groups = list(_DIGIT_GROUP.finditer(text, run.start(), run.end()))
        lengths = [g.end() - g.start() for g in groups]
        i, n = 0, len(groups)
        while i < n:
            # candidate last groups: one group of 13-19 digits, or groups of 4, then 3-6 digits
            # with one kind of separator, 13-19 digits in all ("4111 1111 1111 1111", "3782 822463
            # 10005")
            # (12 digits, a last group of 1-2 digits: only with a card word nearby, see below)
            ends: list[int] = []
            if 12 <= lengths[i] <= 19:
                ends.append(i)
            elif lengths[i] == 4:
                total, sep, j = 4, None, i
                while j + 1 < n and 1 <= lengths[j + 1] <= 6 and total + lengths[j + 1] <= 19:
                    s = text[groups[j].end():groups[j + 1].start()]
                    if sep is not None and s != sep:
                        break
                    sep, total, j = s, total + lengths[j + 1], j + 1
                    if total >= 12:
                        ends.append(j)
                    if lengths[j] < 3:
                        break
            for j in reversed(ends):  # the longest valid card starting at group i
                start, end = groups[i].start(), groups[j].end()
                digits = "".join(g.group() for g in groups[i:j + 1])
                usual = len(digits) >= 13 and lengths[j] >= 3 and _card_issuer_ok(digits)
                if (_luhn.is_valid(digits) and not _next_is_word(text, end) and (
                        usual or _context_near(text, start, end, _CARD_CONTEXT, before=40,
                                               after=0))):
                    out.append(Span(start, end, "CREDIT_CARD"))
                    i = j
                    break
            i += 1
    return out


credit_card_lf = SpanLF("pii_credit_card", _find_cards, labels=("CREDIT_CARD",))
"""CREDIT_CARD spans: issuer prefix and length, Luhn checksum; spaces or dashes between groups."""


# ------------------------------------------------------------------------------------------------
# SSN
# ------------------------------------------------------------------------------------------------
# ddd-dd-dddd / ddd dd dddd (group "sep"), or 9 bare digits; one scan for both shapes
_SSN_RE = re.compile(r"\d(?<![\w-]\d)(?:(?<!\d[ .]\d)\d\d(?P<sep>[- ])\d\d(?P=sep)\d{4}(?![\w-]|[ .]\d)"
                     r"|\d{8}(?![\w-]|\.\d))")
_SSN_CONTEXT = re.compile(
    _keywords([r"ssn", r"ss\#", r"ss\s*no", r"social(?:\s+security)?(?:\s+(?:number|no|num|\#))?",
               r"tax(?:payer)?\s+id", r"itin"]) + r"(?![a-zA-Z])"
)


def _find_ssns(text: str) -> list[Span]:
    out = []
    for m in _number_matches(_SSN_RE, text):
        sep = m.group("sep")
        if sep is not None:
            if _ssn.is_valid(m.group().replace(sep, "")):
                out.append(Span(m.start(), m.end(), "SSN"))
        elif _ssn.is_valid(m.group()) and _context_near(text, m.start(), m.end(), _SSN_CONTEXT,
                                                        before=30, after=0):
            out.append(Span(m.start(), m.end(), "SSN"))
    return out


ssn_lf = SpanLF("pii_ssn", _find_ssns, labels=("SSN",))
"""SSN spans: ``ddd-dd-dddd`` / ``ddd dd dddd``, or 9 digits after an SSN context word."""


# ------------------------------------------------------------------------------------------------
# IBAN
# ------------------------------------------------------------------------------------------------
_IBAN_RE = re.compile(
    r"[A-Z](?<!\w[A-Z])[A-Z]\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
)


def _iban_mod97_ok(compact: str) -> bool:
    """The ISO 7064 mod 97-10 check of an IBAN (a fast pre-check before python-stdnum's)."""
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _find_ibans(text: str) -> list[Span]:
    out = []
    for m in _IBAN_RE.finditer(text):
        cand = m.group()
        while len(cand.replace(" ", "")) >= 15:
            if _iban_mod97_ok(cand.replace(" ", "")) and _iban.is_valid(cand):
                out.append(Span(m.start(), m.start() + len(cand), "IBAN"))
                break
            if " " not in cand:
                break
            cand = cand[:cand.rindex(" ")]  # a trailing word may have been taken as a group
    return out


iban_lf = SpanLF("pii_iban", _find_ibans, labels=("IBAN",))
"""IBAN spans, compact or in groups of four, checked with python-stdnum (country, checksum)."""


# ------------------------------------------------------------------------------------------------
# dates: DATE_OF_BIRTH and "a date that is not a birth date"
# ------------------------------------------------------------------------------------------------
_MONTH_NAMES = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTHS = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
_MONTH_START = _keywords(_MONTH_NAMES, not_after=r"[\w./-]")
_DATE_RE = re.compile(
    rf"""(?:
      (?P<f>\d)(?<![\w./-]\d)(?:                                     # starts with a digit
          (?P<iy>\d{{3}})(?P<isep>[-/.])(?P<im>\d{{1,2}})(?P=isep)(?P<id>\d{{1,2}})   # 1985-03-04
        | (?P<na>\d?)(?P<nsep>[-/.])(?P<nb>\d{{1,2}})(?P=nsep)(?P<ny>\d{{4}}|\d{{2}}) # 03/04/1985
        | (?P<d2>\d?)(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?(?P<m2>(?i:{_MONTHS}))\.?   # 4th of March 1985
          (?:,?[ ]+(?P<y2>\d{{4}}))?
      )
    | (?P<m1>{_MONTH_START})\.?[ ]+                                      # March 4, 1985
      (?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?[ ]+(?P<y1>\d{{4}}))?
    )(?![\w/-]|\.\d)""",
    re.VERBOSE,
)
_DOB_CONTEXT = re.compile(
    r"(?i)\b(?:born|d\.?o\.?b|date\s+of\s+birth|birth\s*date|birth\s*day|b-?day|birth)(?![a-z])"
)


def _valid_date(y: int | None, m: int, d: int) -> bool:
    if y is not None and not 1900 <= y <= 2100:
        return False
    try:
        _dt.date(2000 if y is None else y, m, d)
    except ValueError:
        return False
    return True


def _date_ok(m: re.Match[str]) -> bool:
    g = m.groupdict()
    if g["iy"]:
        return _valid_date(int(g["f"] + g["iy"]), int(g["im"]), int(g["id"]))
    if g["nsep"]:
        y = g["ny"]
        if len(y) == 2 and g["nsep"] == ".":
            return False  # "1.2.34" is more likely a version number
        year = int(y) if len(y) == 4 else 2000 + int(y) % 100
        a, b = int(g["f"] + g["na"]), int(g["nb"])
        return _valid_date(year, a, b) or _valid_date(year, b, a)
    month = _MONTH_NAMES.get((g["m1"] or g["m2"]).casefold())  # "ſept" matches (?i:sept)
    if month is None:
        return False
    day = int(g["d1"] or g["f"] + g["d2"])
    year = g["y1"] or g["y2"]
    return _valid_date(int(year) if year else None, month, day)


_DATE_NOT_AFTER = frozenset("./-")  # with \w: what a date does not follow


def _date_matches(text: str) -> list[re.Match[str]]:
    """What ``_DATE_RE.finditer(text)`` yields, trying only the places where a date can start: a
    digit not inside a number or word, and a word before ``[.] <digit>`` (a month name)."""
    numbers = _number_starts(text)
    if numbers is None:
        return list(_DATE_RE.finditer(text))
    out: list[re.Match[str]] = []
    last = 0
    for p in numbers:  # a date starts with a number, or a month before one
        if p < last or p and text[p - 1] in _DATE_NOT_AFTER:
            continue
        q = p
        while q > 0 and text[q - 1] == " ":
            q -= 1
        if q < p:
            if q > 0 and text[q - 1] == ".":
                q -= 1
            end = q
            while q > 0 and text[q - 1].isalpha():
                q -= 1
            if 3 <= end - q <= 9 and q >= last:
                m = _DATE_RE.match(text, q)
                if m is not None:
                    out.append(m)
                    last = m.end()
                    continue
        m = _DATE_RE.match(text, p)
        if m is not None:
            out.append(m)
            last = m.end()
    return out


@functools.lru_cache(maxsize=4096)
def _dates(text: str) -> tuple[tuple[int, int, bool], ...]:
    """Valid dates in ``text`` as ``(start, end, has_birth_context)`` (cached: two LFs use it)."""
    return tuple(
        (m.start(), m.end(),
         _context_near(text, m.start(), m.end(), _DOB_CONTEXT, before=50, after=25))
        for m in _date_matches(text) if _date_ok(m)
    )


def _find_dobs(text: str) -> list[Span]:
    return [Span(s, e, "DATE_OF_BIRTH") for s, e, dob in _dates(text) if dob]


def _find_other_dates(text: str) -> list[Span]:
    return [Span(s, e, NOT_PII) for s, e, dob in _dates(text) if not dob]


date_of_birth_lf = SpanLF("pii_date_of_birth", _find_dobs, labels=("DATE_OF_BIRTH",))
"""DATE_OF_BIRTH spans: a date (``1985-03-04``, ``03/04/1985``, ``March 4, 1985``, ``4th of March
1985``, ...) with "born", "DOB", "date of birth", "birthday" nearby in the same sentence."""

date_not_dob_lf = SpanLF("not_pii_date", _find_other_dates, labels=(NOT_PII,))
"""NOT_PII votes on dates without a birth context (order dates, delivery dates, ...)."""


# ------------------------------------------------------------------------------------------------
# ADDRESS
# ------------------------------------------------------------------------------------------------
_STREET_FULL = ("Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Square|Terrace|Parkway|"
                "Highway|Circle|Trail|Way|Alley|Crescent|Close|Plaza|Loop|Pike|Expressway|Freeway")
_STREET_ABBR = "St|Ave|Av|Rd|Blvd|Ln|Dr|Ct|Pl|Sq|Ter|Pkwy|Hwy|Cir|Trl|Cres|Plz"
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    "NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
_ADDRESS_RE = re.compile(
    rf"""\d(?<![\w$€£¥.,/:#-]\d)
    \d{{0,5}}[A-Za-z]?(?:-\d{{1,5}})?                              # house number: 12, 221B, 12-14
    [ ]+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ ]+)?  # pre-direction
    (?:(?:[A-Z][\w'’-]*|\d{{1,3}}(?:st|nd|rd|th))\.?[ ]+){{1,4}}?  # street name: Main, 5th, St.
    (?:(?:{_STREET_FULL})\b|(?:{_STREET_ABBR})\b\.?)               # suffix
    (?:[ ]+(?:NE|NW|SE|SW|N|S|E|W)\b\.?)?                          # post-direction
    (?:,?[ ]*(?:(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|Bldg)\.?[ ]*\#?|\#)[ ]?
       [A-Za-z0-9-]{{1,6}}\b)?                                     # unit
    (?:,[ ]*[A-Z][a-zA-Z]+(?:[ ][A-Z][a-zA-Z]+){{0,2}},?[ ]+(?:{_US_STATES})\b
       (?:[ ]+\d{{5}}(?:-\d{{4}})?\b)?                             # , City, ST 12345
     |,?[ ]+\d{{5}}(?:-\d{{4}})?(?![\w-]))?                        # or just a ZIP code
    """,
    re.VERBOSE,
)


def _find_addresses(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "ADDRESS") for m in _number_matches(_ADDRESS_RE, text)]


address_lf = SpanLF("pii_address", _find_addresses, labels=("ADDRESS",))
"""ADDRESS spans: "221B Baker Street", "1600 Pennsylvania Ave NW, Washington, DC 20500", ..."""


# ------------------------------------------------------------------------------------------------
# ORDER_ID / ACCOUNT_ID
# ------------------------------------------------------------------------------------------------
_ORDER_CONTEXT = _compile_keywords([(
    ["order", "invoice", "confirmation", "booking", "reservation", "transaction", "rma"],
    r"(?![a-zA-Z])(?:[ ]*(?i:number|num|no\.?|id|code|\#)(?![a-zA-Z]))?")])
_ACCOUNT_CONTEXT = _compile_keywords([
    (["account", "acct", "a/c"], r"(?![a-zA-Z])(?:[ ]*(?i:number|num|no\.?|id|\#)(?![a-zA-Z]))?"),
    (["customer", "member", "membership", "client", "user", "subscriber"],
     r"[ ]*(?i:number|num|no\.?|id|\#)(?![a-zA-Z])"),
])
_TOKEN = re.compile(r"\S+")
_ID_SHAPE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_HAS_DIGIT = re.compile(r"\d")
_ID_STRIP = "#:;,.!?()[]{}\"'<>"
_ID_MAX_TOKENS, _ID_MAX_CHARS = 4, 60


def _find_ids(text: str, *, context: re.Pattern[str], label: str) -> list[Span]:
    out = []
    pos = 0
    for ctx in _finditer(context, text):
        if ctx.start() < pos:
            continue
        tokens = _TOKEN.finditer(text, ctx.end(), min(len(text), ctx.end() + _ID_MAX_CHARS))
        for k, tok in enumerate(tokens):
            if k >= _ID_MAX_TOKENS:
                break
            raw = tok.group()
            core = raw.strip(_ID_STRIP)
            if core:
                start = tok.start() + raw.index(core)
                end = start + len(core)
                if (len(core) >= 5 and _ID_SHAPE.fullmatch(core) and _HAS_DIGIT.search(core)
                        and not _DATE_RE.fullmatch(core) and not _next_is_word(text, end)):
                    out.append(Span(start, end, label))
                    pos = end
                    break
            if raw[-1] in ".!?;":  # the sentence ended before an id showed up
                break
    return out


order_id_lf = SpanLF("pii_order_id", _find_ids,
                     resources={"context": _ORDER_CONTEXT, "label": "ORDER_ID"},
                     labels=("ORDER_ID",))
"""ORDER_ID spans: an id-shaped token shortly after "order", "order #", "invoice", "confirmation",
"booking", "reservation", "transaction", "RMA" (support ticket, case, tracking and reference numbers
are not PII: see the module's PII spec)."""

account_id_lf = SpanLF("pii_account_id", _find_ids,
                       resources={"context": _ACCOUNT_CONTEXT, "label": "ACCOUNT_ID"},
                       labels=("ACCOUNT_ID",))
"""ACCOUNT_ID spans: an id-shaped token shortly after "account", "acct", "customer id",
"member number", "client id", "user id", ..."""


# ------------------------------------------------------------------------------------------------
# context LFs voting NOT_PII
# ------------------------------------------------------------------------------------------------
_AMOUNT = r"\d*(?:[,.]\d{3})*(?:[.,]\d{1,2})?"  # after a first digit: 1,234.56 / 12,99
_PRICE_SYMBOL = rf"(?<=[$€£¥₹])[ ]?\d{_AMOUNT}(?!\d)"  # $12.99
_PRICE_CODE = (  # USD 12
    rf"(?<=[UEGCAI])(?<!\w[UEGCAI])(?:(?<=U)(?:S\$|SD)|(?<=E)UR|(?<=G)BP|(?<=C)(?:AD|HF)|(?<=A)UD"
    rf"|(?<=I)NR)[ ]?\d{_AMOUNT}(?!\d)")
_PRICE_NUMBER = (  # 12 USD, 20 dollars
    rf"(?<=\d)(?<![\w.,]\d){_AMOUNT}[ ]?(?:USD|EUR|GBP|CAD|AUD|INR|CHF|[Dd]ollars?|[Ee]uros?"
    r"|[Bb]ucks|[Cc]ents?|[Pp]ounds?|[Rr]upees?)(?!\w)")
# the first character is consumed by one set, so re scans for it in C
_PRICE_RE = re.compile(rf"[$€£¥₹UEGCAI\d](?:{_PRICE_SYMBOL}|{_PRICE_CODE}|{_PRICE_NUMBER})")
_PRICE_CODES = ("US$", "USD", "EUR", "GBP", "CAD", "AUD", "INR", "CHF")
_CURRENCY_SYMBOL = re.compile("[$€£¥₹]")


def _price_starts(text: str) -> Sequence[int] | None:
    """Where a price can start: a currency symbol or a number (anywhere if a code is present)."""
    if any(code in text for code in _PRICE_CODES):
        return None
    numbers = _number_starts(text)
    if numbers is None:
        return None
    symbols = [m.start() for m in _CURRENCY_SYMBOL.finditer(text)]
    return sorted({*numbers, *symbols}) if symbols else numbers


_STARTS[_PRICE_RE] = _price_starts
_QUANTITY_RE = re.compile(
    r"\d(?<![\w.,]\d)\d*(?:[.,]\d+)?[ ]?(?:[xX]|[Ii]tems?|pcs|[Pp]ieces?|[Uu]nits?"
    r"|[Pp]acks?|boxes|bottles|kg|g|lbs?|oz|ml|cm|mm|km|inch(?:es)?|ft|feet|%|percent|[GMTK]B|hours?|hrs?"
    r"|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?|yrs?|times|people|persons"
    r"|stars?|pairs?)(?!\w)"  # 3 items, 2x, 500 GB
    r"|x(?<!\wx)\d{1,3}(?!\w)"  # x2
)
_X_COUNT = re.compile(r"x(?=\d)")


def _quantity_starts(text: str) -> Sequence[int] | None:
    """Where a quantity can start: a number, or "x" before a digit ("x2")."""
    numbers = _number_starts(text)
    if numbers is None:
        return None
    xs = [m.start() for m in _X_COUNT.finditer(text)]
    return sorted({*numbers, *xs}) if xs else numbers


_STARTS[_QUANTITY_RE] = _quantity_starts
_PRODUCT_RE = _compile_keywords([
    (["iPhone", "iPad", "Galaxy", "Pixel", "PlayStation", "PS", "Xbox", "Kindle", "Surface",
      "ThinkPad", "Ryzen", "RTX", "GTX", "Windows", "Android", "iOS", "macOS", "Series",
      "Gen", "Generation", "size", "model", "version", r"ver\.", "mk"],
     r"[ ]?[A-Z]?\d+(?:\.\d+)*[A-Za-z]?(?:[ ](?:Pro|Max|Plus|Ultra|Mini|mini|Lite|XL|SE))*(?!\w)"),
    (["v"], r"\d+(?:\.\d+)*(?!\w)"),  # v2, v1.2.3
])


def _find_not_pii(text: str, *, pattern: re.Pattern[str]) -> list[Span]:
    return [Span(m.start(), m.end(), NOT_PII) for m in _finditer(pattern, text)]


price_lf = SpanLF("not_pii_price", _find_not_pii, resources={"pattern": _PRICE_RE},
                  labels=(NOT_PII,))
"""NOT_PII votes on amounts of money: "$1,234.56", "€ 12", "12 USD", "20 dollars"."""

quantity_lf = SpanLF("not_pii_quantity", _find_not_pii, resources={"pattern": _QUANTITY_RE},
                     labels=(NOT_PII,))
"""NOT_PII votes on quantities and measures: "3 items", "2x", "x2", "500 GB", "12 months"."""

product_lf = SpanLF("not_pii_product", _find_not_pii, resources={"pattern": _PRODUCT_RE},
                    labels=(NOT_PII,))
"""NOT_PII votes on product and model names with numbers: "iPhone 13 Pro", "size 10", "v2.1"."""


# ------------------------------------------------------------------------------------------------
# registries
# ------------------------------------------------------------------------------------------------
PII_DETECTORS: tuple[SpanLF, ...] = (
    email_lf,
    url_lf,
    ip_address_lf,
    phone_default_lf,
    phone_shape_lf,
    credit_card_lf,
    ssn_lf,
    iban_lf,
    date_of_birth_lf,
    address_lf,
    order_id_lf,
    account_id_lf,
)
"""The built-in regex/validator detectors that vote a PII label."""

NOT_PII_DETECTORS: tuple[SpanLF, ...] = (price_lf, quantity_lf, date_not_dob_lf, product_lf)
"""The built-in context LFs that vote :data:`~labelfns.spans.NOT_PII`."""

BUILTIN_SPAN_LFS: tuple[SpanLF, ...] = PII_DETECTORS + NOT_PII_DETECTORS
"""Every built-in regex span LF (the spaCy and name LFs live in :mod:`labelfns.ner`)."""


def detect_all(text: str, detectors: Sequence[SpanLF] = PII_DETECTORS) -> dict[str, list[Span]]:
    """Run span LFs on one text.

    Parameters
    ----------
    text : str
        The text.
    detectors : sequence of SpanLF
        LFs with unique names; default :data:`PII_DETECTORS`.

    Returns
    -------
    dict
        LF name -> its spans (possibly empty), in the order of ``detectors``.

    Examples
    --------
    >>> detect_all("ip 10.0.0.1", [ip_address_lf])
    {'pii_ip_address': [Span(start=3, end=11, label='IP_ADDRESS')]}
    """
    seen: dict[str, int] = {}
    for i, lf in enumerate(detectors):
        name = getattr(lf, "name", None)
        if not isinstance(name, str) or not callable(lf):
            raise LFError(f"detector number {i + 1} is not a span LF ({type(lf).__name__})",
                          lf=repr(lf), hint="pass SpanLF objects (see labelfns.spans.span_lf)")
        if name in seen:
            raise LFError(f"the name is used by detectors number {seen[name] + 1} and {i + 1}",
                          lf=name, hint="give every span LF a unique name")
        seen[name] = i
    return {lf.name: lf(text) for lf in detectors}


def clear_caches() -> None:
    """Forget the per-text results the detectors share or keep (where the numbers and dates of
    recent texts are, the phone numbers of recent number windows); results do not change, only
    the time they take.

    Examples
    --------
    >>> clear_caches()
    """
    _dates.cache_clear()
    _phone_matches.cache_clear()
    _number_starts.cache_clear()
