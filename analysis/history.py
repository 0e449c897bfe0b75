"""Per-slice figures of every cycle and how they moved: the slice columns of ``labelcycle history``.

Each successful cycle's predictions (``predictions.parquet``) are scored on the built-in slices
(no bootstrap, no examples); each slice's figure is compared with the same slice in the cycle
before. Slices are matched by name, so ``gold=billing`` in cycle 3 is compared with
``gold=billing`` in cycle 2; a slice that did not exist before has no delta.

Example
-------
>>> import tempfile
>>> from weak_supervision.project import init_project, load_project
>>> from weak_supervision.cycle import run_cycle
>>> project = load_project(init_project(tempfile.mkdtemp()))
>>> _ = run_cycle(project, n_jobs=1); _ = run_cycle(project, n_jobs=1)
>>> cycles = slice_history(project)
>>> len(cycles), cycles[1].deltas["gold=billing"]
(2, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.cycle_data import load_cycle_data
from analysis.slice_report import slice_report
from labelfns.errors import DataError
from weak_supervision.pipeline import registry_for
from weak_supervision.project import Project

__all__ = ["CycleSlices", "slice_history"]


@dataclass(frozen=True)
class CycleSlices:
    """One cycle's slice figures and their change since the cycle before.

    Attributes
    ----------
    run_id : str
        The cycle run.
    metric : str
        What ``values`` hold: ``"accuracy"`` (classification) or ``"span_f1"`` (PII).
    values : dict of str to float or None
        Slice name -> the model's figure on the slice's dev rows (None: no dev rows).
    sizes : dict of str to int
        Slice name -> dev rows in the slice.
    deltas : dict of str to float
        Slice name -> change since the previous cycle (slices present and scored in both).
    previous : str or None
        The cycle compared with.
    """

    run_id: str
    metric: str
    values: dict[str, float | None]
    sizes: dict[str, int]
    deltas: dict[str, float] = field(default_factory=dict)
    previous: str | None = None

    def largest_changes(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` slices that moved most (by absolute change), largest first, ties by name."""
        moved = [(name, d) for name, d in self.deltas.items() if d != 0]
        return sorted(moved, key=lambda item: (-abs(item[1]), item[0]))[:k]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"run_id": self.run_id, "metric": self.metric, "previous": self.previous,
                "values": dict(self.values), "sizes": dict(self.sizes),
                "deltas": dict(self.deltas)}


def _cycle_runs(project: Project) -> list[str]:
    kind = "pii" if project.config.project.task == "pii" else "cycle"
    runs = [r for r in registry_for(project).list_runs(kind) if r.status == "ok"]
    return [r.id for r in reversed(runs)]  # the registry lists newest first


def slice_history(project: Project, *, run_ids: Sequence[str] | None = None) -> list[CycleSlices]:
    """Built-in slice figures of each successful cycle, oldest first, with deltas.

    Parameters
    ----------
    project : Project
        The loaded project.
    run_ids : sequence of str, optional
        The cycles to score, oldest first (default: all successful ones). A cycle whose files
        are gone (workspace cleaned) is skipped.

    Returns
    -------
    list of CycleSlices
    """
    out: list[CycleSlices] = []
    for run_id in (list(run_ids) if run_ids is not None else _cycle_runs(project)):
        try:
            report = slice_report(load_cycle_data(project, run_id), n_boot=0, n_examples=0)
        except (DataError, FileNotFoundError):
            continue
        values = {s.name: s.value for s in report.slices}
        sizes = {s.name: s.n_dev for s in report.slices}
        previous = out[-1] if out else None
        deltas: dict[str, float] = {}
        if previous is not None:
            for name, value in values.items():
                before = previous.values.get(name)
                if value is not None and before is not None:
                    deltas[name] = round(value - before, 6)
        out.append(CycleSlices(run_id, report.metric, values, sizes, deltas,
                               previous.run_id if previous else None))
    return out
