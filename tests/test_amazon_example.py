"""examples/amazon_reviews: the project loads, its LF modules import and behave (needs ../shared)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from labelfns.embeddings import EmbeddingLF
from labelfns.patterns import PatternLF
from weak_supervision.apply import apply_lfs
from weak_supervision.label_model import select_label_model
from weak_supervision.metrics import score
from weak_supervision.pipeline import load_project_lfs
from weak_supervision.project import load_project

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "amazon_reviews"
ABSENT = ("grown up toys", "baby child care")


@pytest.fixture(scope="module")
def project():
    data = ROOT.parent / "shared" / "data" / "amazon_reviews" / "reviews.csv"
    if not data.is_file():
        pytest.skip(f"shared data not found at {data}")
    return load_project(EXAMPLE)


@pytest.fixture(scope="module")
def lfs(project):
    return load_project_lfs(project)


def benchmark_module():
    spec = importlib.util.spec_from_file_location("bench_amazon", ROOT / "benchmarks" / "amazon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_project_has_64_classes_and_a_300_row_dev_sample(project):
    assert len(project.labels) == 64 and project.n_rows == 6012
    assert int(project.dev_mask.sum()) == 300
    assert (project.y_dev[project.dev_mask] >= 0).all() and (project.y_dev[~project.dev_mask] == -1).all()
    assert (project.gold >= 0).all()
    present = {project.labels[i] for i in np.unique(project.gold)}
    assert set(project.labels) - present == set(ABSENT)
    assert "Cat2" not in project.data.columns
    assert project.data["text"].iloc[0] == f"{project.data['Title'].iloc[0]}\n{project.data['Text'].iloc[0]}"


def test_example_dev_sample_leaves_classes_without_dev_rows(project):
    in_dev = {project.labels[i] for i in np.unique(project.y_dev[project.dev_mask])}
    assert 40 <= len(in_dev) < 62  # the tail classes have no dev row: LFs must cover them blind


def test_example_lf_modules_import_and_read_only_visible_text(project, lfs):
    names = [lf.name for lf in lfs]
    assert len(names) == len(set(names)) > 150
    kinds = {type(lf).__name__ for lf in lfs}
    assert {"PatternLF", "NegatedKeywordLF", "EmbeddingLF"} <= kinds
    for lf in lfs:
        assert isinstance(lf, (PatternLF, EmbeddingLF)), lf.name  # fields are declared
        assert set(lf.fields) <= {"Title", "Text", "text"}, lf.name
    voted = {lf.label for lf in lfs if isinstance(lf, PatternLF)}
    assert voted <= set(project.labels)
    assert len(voted) >= 60  # keyword LFs for nearly every class, also those without dev rows


def test_example_keyword_lfs_beat_the_zero_shot_reference_on_dev(project, lfs):
    keyword_lfs = [lf for lf in lfs if isinstance(lf, PatternLF)]
    dev = project.dev_mask
    matrix = apply_lfs(keyword_lfs, project.data[dev], labels=project.labels, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        choice = select_label_model(matrix, cardinality=64, prefer="majority")
    s = score(project.y_dev[dev], choice.model.predict(matrix.L))
    assert s.coverage > 0.7 and s.accuracy > 0.51


def test_example_embedding_lfs_are_lazy_and_cached_in_the_workspace(lfs):
    embedding = [lf for lf in lfs if isinstance(lf, EmbeddingLF)]
    assert [lf.name for lf in embedding] == ["emb_descriptions", "emb_dev_neighbours"]
    for lf in embedding:
        assert Path(lf.spec.cache_dir) == EXAMPLE / ".labelcycle" / "embeddings"
        assert lf.spec._vectors is None  # nothing embedded at import
    neighbours = embedding[1]
    assert len(neighbours.spec.texts) == 300


def test_example_mined_module_matches_its_generator(project, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("mine_lfs", EXAMPLE / "mine_lfs.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    (tmp_path / "labelcycle.toml").write_text(
        (EXAMPLE / "labelcycle.toml").read_text().replace(
            "../../../shared", str(ROOT.parent / "shared")).replace(
            'labels_file = "labels.txt"', f'labels_file = "{EXAMPLE / "labels.txt"}"'))
    for name in ("lfs_names.py", "lfs_keywords.py", "lfs_mined.py", "lfs_embeddings.py"):
        (tmp_path / name).write_text("")
    module.main()
    assert (tmp_path / "lfs_mined.py").read_text() == (EXAMPLE / "lfs_mined.py").read_text()


def test_project_hides_the_other_label_columns(project):
    assert not {"Cat1", "Cat3", "flat_cat", "Cat2"} & set(project.data.columns)
    assert {"Title", "Text", "text"} <= set(project.data.columns)
