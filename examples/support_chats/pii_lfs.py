"""Project-specific span LFs for the support chats, next to labelcycle's built-in detectors.

Written the way a user would after reading a few chats (generated with a dev seed, never the seed
the benchmark scores on): our own reference numbers and brand names are not PII, chat participants
are people wherever they are greeted, and an address usually follows a few cue words.
"""

import re

from labelfns.spans import NOT_PII, Span, span_lf

# -- not PII: our ticket/case references, carrier tracking numbers, serials, card endings -----------
_REFERENCE = re.compile(
    r"(?i:\b(?:case|ticket|reference|ref)\b[ :]*#?[ ]?)(?P<id>[A-Z]{0,3}-?\d[\dA-Z-]{3,})"
    r"|\b(?P<cs>CS-\d{4,})\b"
    r"|(?i:\btracking(?: number)?(?: is)?\b[ :]*)(?P<tr>[A-Z0-9][A-Z0-9 ]{7,30}[A-Z0-9])"
    r"|\b(?P<ups>1Z[0-9A-Z]{14,16})\b"
    r"|(?i:\b(?:S/N|SN-|serial(?: number)?(?: is)?)[ :]*)(?P<sn>[A-Z0-9][A-Z0-9-]{5,})"
    r"|(?i:\bending(?: in)?[ ]+)(?P<last4>\d{4})\b"
    r"|(?i:\bexpires?[ ]+)(?P<exp>\d{2}/\d{2})\b"
)


@span_lf(labels=[NOT_PII])
def support_references(text):
    """Ticket, case and reference numbers, tracking numbers, serials, card endings: not PII."""
    out = []
    for m in _REFERENCE.finditer(text):
        group = next(g for g in ("id", "cs", "tr", "ups", "sn", "last4", "exp") if m.group(g))
        out.append(Span(m.start(group), m.end(group), NOT_PII))
    return out


# -- not PII: our brands and the carriers we ship with -----------------------------------------------
_BRANDS = ["ShopCo", "Northwind", "Brightcart", "Kettle & Co", "Lumen Home", "Parcelpoint",
           "UPS", "DHL", "FedEx", "Royal Mail", "La Poste", "DPD", "Hermes", "Blue Dart", "USPS"]
_BRAND_RE = re.compile(r"\b(?:" + "|".join(re.escape(b) for b in _BRANDS) + r"|Chase(?= card))\b")


@span_lf(labels=[NOT_PII])
def brand_names(text):
    """Company, brand and carrier names (also inside speaker tags such as 'Tom (ShopCo):')."""
    return [Span(m.start(), m.end(), NOT_PII) for m in _BRAND_RE.finditer(text)]


# -- PERSON: chat participants, wherever they are greeted, thanked or introduced -----------------------
_ROLES = {"agent", "customer", "support", "user", "visitor", "bot", "system"}
_SPEAKER = re.compile(r"^(?:\[\d{1,2}:\d{2}\] )?(?P<who>[^\W\d_][^\n:()\[\]]{0,40}?)"
                      r"(?: \((?P<inner>[^)\n]{1,40})\))?:", re.MULTILINE)
_CUE = (r"(?i:\b(?:hi|hey|hello|thanks|thank you|thx|bye|day|welcome|sorry|chatting with|my name is"
        r"|this is|i'm|i am|dear)\b[,!]?[ ]+)")
_WORD_USE = re.compile(r"[ ]+(?:I|do|as|you|we|it)\b")  # "May I", "Will do", "Mark as"


def _is_name(words):
    return bool(words) and words[0].lower() not in _ROLES and all(w[0].isupper() for w in words)


@span_lf(labels=["PERSON"])
def chat_participants(text):
    """Names in speaker tags ('May:', '[10:02] Will Smith:', 'Agent (Ivy):'), and those names
    elsewhere: any case after a greeting, thanks or introduction ('thx will', 'this is May'),
    capitalized anywhere unless used as a word ('May I', 'Will do')."""
    out = []
    names = set()
    for m in _SPEAKER.finditer(text):
        for group in ("who", "inner"):
            value = (m.group(group) or "").strip()
            if _is_name(value.split()) and value not in _BRANDS:
                start = m.start(group) + m.group(group).index(value)
                out.append(Span(start, start + len(value), "PERSON"))
                names.add(value)
    words = {w.casefold() for n in names for w in n.split()}
    if not words:
        return out
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    greeted = re.compile(_CUE + rf"(?P<name>(?i:{alternatives}))\b")
    for m in greeted.finditer(text):
        out.append(Span(m.start("name"), m.end("name"), "PERSON"))
    for m in re.finditer(rf"(?<![\w.\n] )(?<!^)\b(?:{'|'.join(re.escape(n) for n in names)})\b",
                         text, re.MULTILINE):
        before = text[max(0, m.start() - 2):m.start()]
        if not _WORD_USE.match(text, m.end()) and not before.endswith((". ", ": ", "\n")):
            out.append(Span(m.start(), m.end(), "PERSON"))
    return out


# -- not PII: names used as words ------------------------------------------------------------------
_NAME_AS_WORD = re.compile(r"\b(?:Will do|May I|Mark as resolved|rose gold|summer sale)\b", re.IGNORECASE)


@span_lf(labels=[NOT_PII])
def names_used_as_words(text):
    """'Will do', 'May I help', 'Mark as resolved', 'rose gold': the name-like word is not a name."""
    return [Span(m.start(), m.start() + m.group().index(" "), NOT_PII)
            for m in _NAME_AS_WORD.finditer(text)]


# -- ADDRESS: what follows an address cue ---------------------------------------------------------------
_ADDRESS_CUE = re.compile(
    r"(?i:\b(?:i live at|address is|address:|new one is|address still|should be|it go to"
    r"|everything should go to|address on my account to|address please:|address for \S+ to|to)\b)"
    r"[ ]+(?P<addr>[^\n]{6,90}?)(?=[.?!]?(?:[ ]+(?:thanks|please|instead)\b|\n|$)|\?)"
)
_POSTCODE = re.compile(r"\b(?:[A-Z]{2} \d{5}|\d{5}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{6}|[A-Z]{2} \d{5})\b"
                       r"|-\d{6}\b")


@span_lf(labels=["ADDRESS"])
def address_after_cue(text):
    """'I live at <address>', 'address is <address>', ...: the rest of the line when it holds a
    comma and ends with a postcode."""
    out = []
    for m in _ADDRESS_CUE.finditer(text):
        addr = m.group("addr").rstrip(" .,")
        if "," in addr and _POSTCODE.search(addr[-12:]):
            out.append(Span(m.start("addr"), m.start("addr") + len(addr), "ADDRESS"))
    return out


# -- ids and card numbers given as the answer to an agent's question ------------------------------------
_ASKED = [
    (re.compile(r"(?i)\baccount (?:id|number)\b|\bpull things up\b"), "ACCOUNT_ID",
     re.compile(r"(?<![\w-])(?=[A-Z]*-?\d)[A-Z]{0,4}-?\d[\d-]{4,}\d(?![\w-])")),
    (re.compile(r"(?i)\bcard\b.*\?|\bpay with\?|\bfind the transaction\?"), "CREDIT_CARD",
     re.compile(r"(?<![\w-])\d{4}(?:[ -]?\d{1,6}){2,4}(?![\w-])|(?<![\w-])\d{12,19}(?![\w-])")),
]


@span_lf(labels=["ACCOUNT_ID", "CREDIT_CARD"])
def answer_to_question(text):
    """The id the customer gives in the line after the agent asks for an account id, or the card
    number after 'which card did you pay with?'."""
    out = []
    lines = text.split("\n")
    offset = 0
    starts = []
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for i in range(1, len(lines)):
        question, answer = lines[i - 1], lines[i]
        for asked, label, value in _ASKED:
            if asked.search(question):
                m = value.search(answer, answer.find(":") + 1)
                if m:
                    out.append(Span(starts[i] + m.start(), starts[i] + m.end(), label))
    return out
