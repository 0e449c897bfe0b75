"""Hand-written keyword LFs: one table of product words per class (``categories.KEYWORDS``),
applied twice with different reliability:

* ``TITLE_LFS``: the product title (``Title``), plain keyword match. Titles name the product, so
  these are the precise ones.
* ``TEXT_LFS``: the review (``Text``), negation-aware: "I bought it for my dog, not my cat" votes
  dogs only, and "no more diapers" does not vote diapering. Words mentioned in passing in
  reviews (``categories.TITLE_ONLY``) and the grocery classes are left out.

The label model learns a separate accuracy for each, so a title match counts for more.
"""

from categories import KEYWORDS, text_keywords

from labelfns.reviews import keyword_table_lfs

TITLE_LFS = keyword_table_lfs(KEYWORDS, fields=["Title"], prefix="kw_title_")
TEXT_LFS = keyword_table_lfs(text_keywords(), fields=["Text"], negation=True, window=3,
                             prefix="kw_text_")
