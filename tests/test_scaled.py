"""The scaled labeling job (streaming engine): same result as label_project, never a partial run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from labelfns.errors import DataError, LFError
from weak_supervision.pipeline import label_project
from weak_supervision.project import init_project, load_project
from weak_supervision.registry import Registry
from weak_supervision.scaled import MANIFEST_NAME, label_project_scaled, read_manifest


def _project(tmp_path, n_rows=600, *, edit=None, search=False):
    root = init_project(tmp_path / "p", n_rows=n_rows)
    cfg = root / "labelcycle.toml"  # a short label model fit keeps the tests fast
    fit = f"seed = 123\nn_epochs = 60\nsearch = {str(search).lower()}\n"
    cfg.write_text(cfg.read_text().replace("seed = 123\n", fit))
    if edit is not None:
        edit(root)
    return root


def _same_as_in_memory(root, **kwargs):
    memory = label_project(load_project(root), n_jobs=1)
    scaled = label_project_scaled(root, **kwargs)
    labels = pq.read_table(scaled.paths["labels"]).to_pandas()
    expected = memory.labels.to_frame()
    assert labels["id"].tolist() == expected["id"].tolist()
    np.testing.assert_allclose(labels.filter(like="proba_").to_numpy(),
                               expected.filter(like="proba_").to_numpy(), atol=1e-9)
    matrix = pq.read_table(scaled.paths["matrix"]).to_pandas()
    np.testing.assert_array_equal(matrix.drop(columns="id").to_numpy(), memory.matrix.L)
    assert scaled.choice.reason == memory.choice.reason
    for key in ("n_rows", "n_dev", "coverage", "conflict_rate", "label_source", "dev_label_model"):
        assert scaled.figures[key] == pytest.approx(memory.figures[key]), key
    return memory, scaled


def test_label_project_scaled_equals_label_project(tmp_path):
    root = _project(tmp_path, search=True)  # the dev search too gives the same choice
    _, scaled = _same_as_in_memory(root, chunk_rows=100)
    assert scaled.n_partitions == 6
    manifest = read_manifest(scaled.paths["manifest"].parent)
    assert manifest["complete"] and len(manifest["partitions"]) == 6
    assert not (scaled.paths["manifest"].parent / "_work").exists()
    record = Registry(root / ".labelcycle" / "registry.sqlite").get_run(scaled.run_id)
    assert record.kind == "label" and record.status == "ok"
    assert record.figures["engine"] == "stream"


def test_label_project_scaled_generated_ids_repeat_like_make_ids(tmp_path):
    def edit(root):
        cfg = root / "labelcycle.toml"
        cfg.write_text(cfg.read_text().replace('id_column = "id"\n', ""))
        data = pd.read_csv(root / "data.csv")
        pd.concat([data, data.iloc[:40]]).drop(columns="id").to_csv(root / "data.csv", index=False)

    _, scaled = _same_as_in_memory(_project(tmp_path, edit=edit), chunk_rows=150)
    ids = pq.read_table(scaled.paths["matrix"]).column("id").to_pylist()
    assert len(set(ids)) == len(ids) == 640 and any(i.endswith("-2") for i in ids)


def test_label_project_scaled_with_dev_file(tmp_path):
    def edit(root):
        data = pd.read_csv(root / "data.csv")
        data.iloc[:450].to_csv(root / "data.csv", index=False)
        data.iloc[450:].to_parquet(root / "dev.parquet")
        cfg = root / "labelcycle.toml"
        cfg.write_text(cfg.read_text().replace("sample = 60 ", 'path = "dev.parquet" '))

    _, scaled = _same_as_in_memory(_project(tmp_path, edit=edit), chunk_rows=200)
    assert scaled.figures["n_dev"] == 150


def test_label_project_scaled_cache_recomputes_only_a_new_lf(tmp_path):
    root = _project(tmp_path)
    first = label_project_scaled(root, chunk_rows=200)
    assert first.figures["cached_votes"] == 0
    lfs = root / "lfs.py"
    lfs.write_text(lfs.read_text() + '\nextra = keyword_lf("kw_extra", ["order"], "shipping")\n')
    second = label_project_scaled(root, chunk_rows=200)
    assert second.stats.n_lfs == first.stats.n_lfs + 1
    assert second.figures["cached_votes"] == 600 * first.stats.n_lfs  # every old vote reused


def test_label_project_scaled_failure_publishes_no_manifest(tmp_path):
    root = _project(tmp_path)
    lfs = root / "lfs.py"
    lfs.write_text(lfs.read_text() + "\n@labeling_function()\ndef broken(x):\n"
                   "    if 'refund' in x.text.lower():\n        raise ValueError('boom')\n")
    with pytest.raises(LFError, match="broken"):
        label_project_scaled(root, chunk_rows=100)
    registry = Registry(root / ".labelcycle" / "registry.sqlite")
    record = registry.list_runs("label")[0]
    assert record.status == "failed"
    folder = root / ".labelcycle" / "runs" / record.id
    assert not (folder / MANIFEST_NAME).exists()
    with pytest.raises(DataError, match="did not complete"):
        read_manifest(folder)


def test_label_project_scaled_differing_schemas_name_files_and_columns(tmp_path):
    def edit(root):
        data = pd.read_csv(root / "data.csv")
        (root / "parts").mkdir()
        data.iloc[:300].to_csv(root / "parts" / "a.csv", index=False)
        data.iloc[300:].rename(columns={"text": "body"}).to_csv(root / "parts" / "b.csv",
                                                                index=False)
        cfg = root / "labelcycle.toml"
        cfg.write_text(cfg.read_text().replace('path = "data.csv"', 'path = "parts/*.csv"'))

    with pytest.raises(DataError, match=r"a\.csv vs .*b\.csv: .*b\.csv lacks 'text'"):
        label_project_scaled(_project(tmp_path, edit=edit))


@pytest.mark.parametrize(("line", "message"), [
    ("chunk_rows = 0", "chunk_rows: must be a positive number of rows"),
    ('scheduler = "tcp://127.0.0.1:8786"', 'scheduler: is only used with engine = "dask"'),
    ('engine = "spark"', "engine must be one of 'local', 'stream', 'dask'"),
])
def test_apply_section_validates_scaled_engine_keys(tmp_path, line, message):
    from labelfns.errors import ConfigError
    from weak_supervision.config import load_config

    root = _project(tmp_path, n_rows=20)
    cfg = root / "labelcycle.toml"
    cfg.write_text(cfg.read_text().replace("[apply]\n", f"[apply]\n{line}\n"))
    with pytest.raises(ConfigError, match=message):
        load_config(root)


def test_apply_section_engine_stream_is_the_scaled_default(tmp_path):
    root = _project(tmp_path, n_rows=120)
    cfg = root / "labelcycle.toml"
    cfg.write_text(cfg.read_text().replace("[apply]\n", '[apply]\nengine = "stream"\nchunk_rows = 50\n'))
    run = label_project_scaled(root)
    assert run.engine == "stream" and run.n_partitions == 3
