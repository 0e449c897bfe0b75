"""Per-slice figures across cycles (analysis.history)."""

from __future__ import annotations

import shutil

import pytest

from analysis.history import CycleSlices, slice_history
from weak_supervision.cycle import run_cycle
from weak_supervision.project import init_project, load_project


@pytest.fixture(scope="module")
def two_cycles(tmp_path_factory):
    root = init_project(tmp_path_factory.mktemp("hist") / "p")
    project = load_project(root)
    first = run_cycle(project, n_jobs=1)
    lf_file = root / "lfs.py"
    lf_file.write_text(lf_file.read_text() + (
        "\n\nfrom labelfns import keyword_lf as _kw\n"
        "kw_extra_refund = _kw('kw_extra_refund', ['refund', 'charged', 'invoice'], 'billing')\n"))
    project = load_project(root)
    second = run_cycle(project, n_jobs=1)
    return project, first, second


def test_slice_history_one_entry_per_cycle_oldest_first(two_cycles):
    project, first, second = two_cycles
    cycles = slice_history(project)
    assert [c.run_id for c in cycles] == [first.run_id, second.run_id]
    assert cycles[0].previous is None and cycles[0].deltas == {}
    assert cycles[1].previous == first.run_id


def test_slice_history_deltas_are_differences_of_values(two_cycles):
    project, _, _ = two_cycles
    before, after = slice_history(project)
    assert before.metric == "accuracy"
    assert set(after.deltas) <= set(after.values) & set(before.values)
    for name, delta in after.deltas.items():
        assert delta == pytest.approx(after.values[name] - before.values[name], abs=1e-6)
    overall_gold = [n for n in after.values if n.startswith("gold=")]
    assert overall_gold, "per-class slices are scored in every cycle"
    assert all(after.sizes[n] == before.sizes[n] for n in overall_gold)


def test_slice_history_skips_a_cycle_whose_files_are_gone(two_cycles):
    project, first, second = two_cycles
    folder = second.paths["predictions"].parent
    backup = folder.with_name(folder.name + ".bak")
    shutil.copytree(folder, backup)
    try:
        shutil.rmtree(folder)
        assert [c.run_id for c in slice_history(project)] == [first.run_id]
    finally:
        shutil.copytree(backup, folder)
        shutil.rmtree(backup)


def test_cycle_slices_largest_changes_orders_by_size():
    c = CycleSlices("r", "accuracy", {"a": 0.5, "b": 0.6, "c": 0.7}, {"a": 1, "b": 1, "c": 1},
                    {"a": 0.1, "b": -0.3, "c": 0.0})
    assert c.largest_changes(2) == [("b", -0.3), ("a", 0.1)]
    assert c.to_dict()["deltas"] == {"a": 0.1, "b": -0.3, "c": 0.0}
