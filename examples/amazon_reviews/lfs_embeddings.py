"""Embedding LFs (extra ``labelcycle[embeddings]``): vote the nearest class in the embedding space
of all-MiniLM-L6-v2, and abstain when the best class does not beat the runner-up by a margin.

* ``emb_descriptions``: zero-shot, against one hand-written description per class
  (``categories.DESCRIPTIONS``); needs no labels and covers the classes without dev rows.
* ``emb_dev_neighbours``: nearest labelled dev review (each dev row's own vote comes from the
  other dev rows: a description equal to the row's text is skipped).

Margins were chosen on the dev sample (coverage vs. precision): 0.05 for the descriptions
(about 55% of dev rows at 76% precision), 0.06 for the neighbours (47% at 84%). Vectors are cached
in the project's workspace, ``.labelcycle/embeddings``; the first run embeds ~6,000 reviews (a few
minutes on 2 cores), later runs read the cache.
"""

from pathlib import Path

from categories import DESCRIPTIONS

from labelfns.embeddings import embedding_lf
from weak_supervision.project import load_project

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".labelcycle" / "embeddings"

emb_descriptions = embedding_lf("emb_descriptions", DESCRIPTIONS, fields=["text"], margin=0.05,
                                cache_dir=CACHE)


def _dev_examples() -> dict[str, list[str]]:
    """The dev rows' texts grouped by their gold class (the only labels an LF may use)."""
    project = load_project(HERE)
    examples: dict[str, list[str]] = {}
    for text, y in zip(project.data["text"][project.dev_mask], project.y_dev[project.dev_mask],
                       strict=True):
        examples.setdefault(project.labels[int(y)], []).append(text)
    return examples


emb_dev_neighbours = embedding_lf("emb_dev_neighbours", _dev_examples(), fields=["text"],
                                  margin=0.06, cache_dir=CACHE)
