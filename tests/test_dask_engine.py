"""The Dask engine: same votes as the streaming engine, clean failures, no partial publication."""

from __future__ import annotations

import socket
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

import dask  # noqa: E402
from distributed import LocalCluster  # noqa: E402

from labelfns import labeling_function  # noqa: E402
from labelfns.errors import DataError, LabelcycleError, LFError  # noqa: E402
from weak_supervision.dask_engine import DaskRunner, check_shippable  # noqa: E402
from weak_supervision.pipeline import label_project  # noqa: E402
from weak_supervision.project import init_project, load_project  # noqa: E402
from weak_supervision.registry import Registry  # noqa: E402
from weak_supervision.scaled import MANIFEST_NAME, label_project_scaled  # noqa: E402


@pytest.fixture(scope="module")
def threaded_scheduler():
    """A one-worker cluster inside this process (fast to start)."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _project(tmp_path, n_rows=500, extra_lfs=""):
    root = init_project(tmp_path / "p", n_rows=n_rows)
    cfg = root / "labelcycle.toml"
    fit = "seed = 123\nn_epochs = 60\nsearch = false\n"  # a short fit keeps the tests fast
    cfg.write_text(cfg.read_text().replace("seed = 123\n", fit))
    if extra_lfs:
        lfs = root / "lfs.py"
        lfs.write_text(lfs.read_text() + extra_lfs)
    return root


def _frames(run):
    return (pq.read_table(run.paths["matrix"]).to_pandas(),
            pq.read_table(run.paths["labels"]).to_pandas())


def test_dask_matrix_equals_streaming_row_for_row(tmp_path, threaded_scheduler):
    root = _project(tmp_path)
    stream = label_project_scaled(root, chunk_rows=120, use_cache=False)
    seen = []
    run = label_project_scaled(root, engine="dask", scheduler=threaded_scheduler, chunk_rows=120,
                               use_cache=False, progress=lambda done, total: seen.append(done))
    assert run.engine == "dask" and run.n_partitions == 5
    assert seen == [1, 2, 3, 4, 5]  # progress once per partition
    for a, b in zip(_frames(stream), _frames(run), strict=True):
        assert a.equals(b)
    memory = label_project(load_project(root), use_cache=False, n_jobs=1)  # the in-memory engine
    matrix = _frames(run)[0]
    assert matrix["id"].tolist() == memory.matrix.ids.tolist()
    np.testing.assert_array_equal(matrix.drop(columns="id").to_numpy(), memory.matrix.L)
    assert run.figures["n_rows"] == 500 and (run.paths["manifest"]).is_file()


def test_dask_unanswering_scheduler_fails_within_timeout(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(LabelcycleError, match=rf"no Dask scheduler answered at tcp://127.0.0.1:{port}"):
        label_project_scaled(_project(tmp_path, n_rows=50), engine="dask",
                             scheduler=f"tcp://127.0.0.1:{port}", scheduler_timeout=1.0)
    assert time.perf_counter() - started < 15
    record = Registry(tmp_path / "p" / ".labelcycle" / "registry.sqlite").list_runs("label")[0]
    assert record.status == "failed"


def test_dask_unserialisable_lf_is_named(tmp_path, threaded_scheduler):
    extra = ("\nimport threading\n\n@labeling_function(resources={'lock': threading.Lock()})\n"
             "def guarded(x, lock):\n    return None\n")
    with pytest.raises(LFError, match="LF 'guarded': cannot be sent to Dask workers"):
        label_project_scaled(_project(tmp_path, n_rows=50, extra_lfs=extra), engine="dask",
                             scheduler=threaded_scheduler)


def test_check_shippable_passes_plain_lfs():
    @labeling_function()
    def short(x):
        return "a" if len(x.text) < 5 else None

    assert isinstance(check_shippable([short]), bytes)


def test_dask_partition_with_other_columns_is_named(tmp_path, threaded_scheduler):
    root = _project(tmp_path, n_rows=50)
    lines = "".join(f'{{"id": "r{i}", "text": "refund {i}"}}\n' for i in range(30))
    lines += "".join(f'{{"id": "s{i}", "body": "late"}}\n' for i in range(30))
    (root / "rows.jsonl").write_text(lines)
    cfg = root / "labelcycle.toml"
    text = cfg.read_text().replace('path = "data.csv"', 'path = "rows.jsonl"')
    text = text.replace('label_column = "label"', "").replace("sample = 60 ", "")
    cfg.write_text(text)
    with pytest.raises(DataError, match=r"rows\.jsonl \(from line \d+\) lacks 'text'"):
        label_project_scaled(root, engine="dask", scheduler=threaded_scheduler, chunk_rows=10)


_KILL_ONCE = """
import os
from pathlib import Path

_MARK = Path({mark!r})

@labeling_function()
def crash_once(x):
    if not _MARK.exists():
        _MARK.write_text("died")
        os._exit(1)  # the worker process dies mid-partition
    return None
"""

_KILL_ALWAYS = """
import os

@labeling_function()
def crash_always(x):
    os._exit(1)
"""


@pytest.mark.slow  # starts worker processes (twice: one dies)
def test_dask_worker_death_is_retried(tmp_path):
    root = _project(tmp_path, n_rows=200, extra_lfs=_KILL_ONCE.format(mark=str(tmp_path / "m")))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        run = label_project_scaled(root, engine="dask", scheduler=cluster.scheduler_address,
                                   chunk_rows=100, use_cache=False)
    assert (tmp_path / "m").read_text() == "died"
    stream = label_project_scaled(root, chunk_rows=100, use_cache=False)
    for a, b in zip(_frames(stream), _frames(run), strict=True):
        assert a.equals(b)


@pytest.mark.slow  # starts a worker process
def test_dask_worker_deaths_fail_cleanly_without_manifest(tmp_path):
    root = _project(tmp_path, n_rows=100, extra_lfs=_KILL_ALWAYS)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with pytest.raises(LabelcycleError, match="workers died"):
            label_project_scaled(root, engine="dask", scheduler=cluster.scheduler_address,
                                 use_cache=False)
    record = Registry(root / ".labelcycle" / "registry.sqlite").list_runs("label")[0]
    assert record.status == "failed"
    assert not (root / ".labelcycle" / "runs" / record.id / MANIFEST_NAME).exists()


def test_dask_runner_maps_in_order_with_shared_value():
    runner = DaskRunner(n_workers=1, processes=False)
    try:
        assert runner.map(pow, [1, 2, 3], 2) == [1, 4, 9]
        assert runner.n_workers == 1
    finally:
        runner.close()
