"""labelcycle label --engine stream|dask on a starter project: same labels as the local engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from cli import main  # noqa: E402
from weak_supervision.prob_labels import ProbabilisticLabels  # noqa: E402


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines") / "demo"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    return root


def _label(project, *args):
    result = CliRunner().invoke(main, ["label", str(project), "--json", *args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return doc, ProbabilisticLabels.read_parquet(doc["files"]["labels"])


@pytest.mark.parametrize("engine", ["stream", "dask"])
def test_label_engine_matches_the_local_engine(project, engine):
    local_doc, local = _label(project, "--jobs", "1")
    args = ["--engine", engine, "--chunk-rows", "70"]
    if engine == "dask":
        args += ["--workers", "1"]
    doc, scaled = _label(project, *args)
    assert doc["engine"] == engine and doc["figures"]["n_partitions"] == 5
    assert scaled.ids.tolist() == local.ids.tolist()
    assert np.allclose(scaled.probs, local.probs, atol=1e-6)
    assert scaled.covered.tolist() == local.covered.tolist()
    assert doc["label_model"]["chosen"] == local_doc["label_model"]["chosen"]


@pytest.mark.filterwarnings("error::UserWarning")
def test_train_reads_labels_of_a_streamed_run(project):
    _label(project, "--engine", "stream", "--chunk-rows", "100")
    result = CliRunner().invoke(main, ["train", str(project), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["figures"]["n_used_rows"] > 0


def test_engine_options_are_checked(project):
    runner = CliRunner()
    no_engine = runner.invoke(main, ["label", str(project), "--scheduler", "tcp://127.0.0.1:9"])
    assert no_engine.exit_code == 2 and "--engine" in no_engine.output
    stream = runner.invoke(main, ["label", str(project), "--engine", "stream", "--scheduler",
                                  "tcp://127.0.0.1:9"])
    assert stream.exit_code == 2 and "--engine dask" in stream.output
    out = runner.invoke(main, ["label", str(project), "--engine", "stream", "--out", "x.parquet"])
    assert out.exit_code == 2 and "partition" in out.output
