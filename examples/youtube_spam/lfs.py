"""Labeling functions for YouTube comment spam, after the Snorkel spam tutorial.

Each LF votes HAM (0), SPAM (1) or abstains (None). The tutorial's two TextBlob LFs (polarity and
subjectivity) are replaced by word-list heuristics, since TextBlob is not a labelcycle dependency.
"""

import re

from labelfns import keyword_lf, labeling_function, regex_lf
from labelfns.ner import person_ner_lf

HAM = 0
SPAM = 1

# -- keywords: spammers talk about their own channel and ask for things -----------------------
keyword_my = keyword_lf(
    "keyword_my", ["my channel", "my video", "my videos", "my page", "my music", "my songs",
                   "my playlist", "my new"], SPAM)
keyword_subscribe = keyword_lf("keyword_subscribe", ["subscribe", "subscribers", "sub4sub"], SPAM)
keyword_please = keyword_lf("keyword_please", ["please", "plz", "pls", "plzz"], SPAM)
keyword_song = keyword_lf("keyword_song", ["song", "lyrics", "voice", "dance"], HAM)

# -- regular expressions --------------------------------------------------------------------
regex_check_out = regex_lf("regex_check_out", r"check\W+(\w+\W+)?out", SPAM)
regex_link = regex_lf("regex_link", r"https?://|www\.|\.com\b|\.ly/", SPAM)
regex_money = regex_lf("regex_money", r"\b(earn|make)\b.{0,30}\b(money|\$|dollars?|cash)\b", SPAM)


# -- heuristics ------------------------------------------------------------------------------
@labeling_function()
def short_comment(x):
    """Ham comments are often short, such as 'cool video!'."""
    return HAM if len(x.text.split()) < 5 else None


_POSITIVE = re.compile(
    r"\b(love|loved|awesome|amazing|beautiful|best|great|perfect|cute|favou?rite|legend|"
    r"genius|masterpiece|catchy)\b", re.I)


@labeling_function()
def positive_words(x):
    """Instead of TextBlob polarity: praise for the video, without a link, is ham."""
    if _POSITIVE.search(x.text) and not regex_link.regex.search(x.text):
        return HAM
    return None


_OPINION = re.compile(r"\bi\s+(think|remember|miss|wish|feel|can'?t believe)\b", re.I)


@labeling_function()
def first_person_opinion(x):
    """Instead of TextBlob subjectivity: a personal opinion, without a link, is ham."""
    if _OPINION.search(x.text) and not regex_link.regex.search(x.text):
        return HAM
    return None


_person = person_ner_lf()


@labeling_function()
def has_person_nlp(x):
    """Ham comments mention specific people and are short (spaCy NER, en_core_web_sm)."""
    if len(x.text.split()) < 20 and _person(x.text):
        return HAM
    return None
