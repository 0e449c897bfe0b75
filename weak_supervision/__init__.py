"""weak_supervision: apply LFs, combine their votes, produce training labels.

>>> from weak_supervision import apply_lfs, LabelModel, MajorityVote, LabelMatrix

Names are imported lazily, so ``import weak_supervision`` does not load torch until a label model
is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "apply_lfs": "weak_supervision.apply",
    "LabelMatrix": "weak_supervision.label_matrix",
    "LFCache": "weak_supervision.cache",
    "LabelModel": "weak_supervision.label_model",
    "MajorityVote": "weak_supervision.label_model",
    "select_label_model": "weak_supervision.label_model",
    "LabelModelChoice": "weak_supervision.label_model",
    "ProbabilisticLabels": "weak_supervision.prob_labels",
    "lf_summary": "weak_supervision.lf_summary",
    "LFSummary": "weak_supervision.lf_summary",
    "load_project": "weak_supervision.project",
    "init_project": "weak_supervision.project",
    "Project": "weak_supervision.project",
    "label_project": "weak_supervision.pipeline",
    "Registry": "weak_supervision.registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'weak_supervision' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
