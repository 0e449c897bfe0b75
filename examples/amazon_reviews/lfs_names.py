"""Keyword LFs made from the category names alone (no labels needed): a baseline to beat.

``lfs_from_class_names`` splits multi-word names ("fish aquatic pets" -> fish, aquatic, ...),
adds singular/plural forms and drops words shared by several names ("care", "baby", "toys").
They search the product title only: a title that says "Dog" is about dogs far more often than a
review that mentions a dog.
"""

from categories import LABELS

from labelfns.reviews import lfs_from_class_names

# Too generic on their own in this taxonomy (judged on the dev sample).
EXTRA_STOPWORDS = {"play", "games", "game", "food", "body", "gifts", "gift", "central", "safety",
                   "supplies", "fresh", "live", "indoor", "control", "remote", "wellness", "gear",
                   "kids", "dress", "grown", "pretend", "bath", "sports", "outdoor", "animals",
                   "tools", "health", "personal", "household", "medical", "pets", "pet", "small",
                   "action", "learning", "training", "car", "cars", "seats", "seat", "child",
                   "equipment", "electronic", "electronics", "building"}

NAME_LFS = lfs_from_class_names(
    LABELS, fields=["Title"], prefix="name_title_",
    stopwords=EXTRA_STOPWORDS | {"and", "or", "for", "the", "of", "care", "accessories", "up"})
