"""A deliberately thin start: keywords from the class names only, on the product title.

``benchmarks/suggest_loop.py`` starts the LF-suggestion loop from this module instead of the
hand-written ones (``[lfs] modules`` in ``labelcycle.toml``), to measure how far accepted
suggestions (``labelcycle suggest``) take a project that has almost no LFs. No label was looked
at: ``lfs_from_class_names`` splits the names into words, adds singular and plural forms and drops
words shared by several names; the default stopwords are the only other filter.
"""

from pathlib import Path

from labelfns.reviews import lfs_from_class_names

HERE = Path(__file__).resolve().parent
LABELS = [line.strip() for line in (HERE / "labels.txt").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.lstrip().startswith("#")]

THIN_LFS = lfs_from_class_names(LABELS, fields=["Title"], prefix="thin_title_")
