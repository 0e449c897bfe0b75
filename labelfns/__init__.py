"""labelfns: write labeling functions (LFs) as plain Python.

>>> from labelfns import labeling_function, keyword_lf, regex_lf, ABSTAIN
>>> kw = keyword_lf("kw_refund", ["refund", "money back"], "refund")
>>> @labeling_function()
... def short_message(x):
...     return "other" if len(x.text) < 10 else ABSTAIN
"""

from labelfns.core import ABSTAIN, LabelingFunction, check_unique_names, labeling_function
from labelfns.errors import ConfigError, DataError, LabelcycleError, LFError, NotFittedError
from labelfns.loading import load_lfs
from labelfns.patterns import PatternLF, keyword_lf, regex_lf
from labelfns.reviews import lfs_from_class_names, lfs_from_sample, negated_keyword_lf, write_lf_module
from labelfns.spans import Span, SpanLF, span_lf
from labelfns.tables import keywords, lfs_from_table

__all__ = [
    "ABSTAIN",
    "LabelingFunction",
    "labeling_function",
    "keyword_lf",
    "regex_lf",
    "keywords",
    "lfs_from_table",
    "negated_keyword_lf",
    "lfs_from_class_names",
    "lfs_from_sample",
    "write_lf_module",
    "embedding_lf",
    "span_lf",
    "Span",
    "SpanLF",
    "load_lfs",
    "check_unique_names",
    "PatternLF",
    "LabelcycleError",
    "ConfigError",
    "DataError",
    "LFError",
    "NotFittedError",
]


def __getattr__(name: str):  # the embeddings LF imports lazily (optional extra)
    if name in ("embedding_lf", "embed"):
        from labelfns import embeddings

        return getattr(embeddings, name)
    raise AttributeError(f"module 'labelfns' has no attribute {name!r}")
