"""Seeded generator of short texts full of matching edge cases (Unicode case folds, NUL,
newlines, symbols), shared by the engine and applier tests."""

from __future__ import annotations

import numpy as np

VOCAB = ["dog", "Dogs", "DOG", "hotdog", "c++", "C++!", "gift", "card", "gift card", "not", "for",
         "my", "money", "back", "12", "oz", "12oz", "lbs", "5", "stars", "ſtars", "\u212aitten",
         "kitten", "İstanbul", "ılık", "café", "CAFÉ", "naïve", "—", "“dog”", "dog—cat", "\x00",
         "\n", "\t", "  ", ",", ".", "!", "?", "(dog)", "_dog_", "dog_", "über", "straße", "日本",
         "😀", "not\nfor my dog", "5-star", "e-mail", "refund", "REFUNDED", "money-back"]


def random_texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        k = int(rng.integers(0, 12))
        words = rng.choice(VOCAB, size=k)
        seps = rng.choice([" ", "", "  ", "\n", ", "], size=k)
        texts.append("".join(w + s for w, s in zip(words, seps, strict=True)))
    return texts
