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
from labelfns.tables import keywords, lfs_from_table

__all__ = [
    "ABSTAIN",
    "LabelingFunction",
    "labeling_function",
    "keyword_lf",
    "regex_lf",
    "keywords",
    "lfs_from_table",
    "load_lfs",
    "check_unique_names",
    "PatternLF",
    "LabelcycleError",
    "ConfigError",
    "DataError",
    "LFError",
    "NotFittedError",
]
