import dataclasses

import pytest

from labelfns.errors import ConfigError
from weak_supervision.config import (
    ApplySection,
    DataSection,
    ProjectConfig,
    config_from_dict,
    load_config,
)

MINIMAL = '[project]\nlabels = ["neg", "pos"]\n[data]\npath = "data.csv"\n'

FULL = """
[project]
name = "demo"
task = "classification"
labels = ["neg", "pos"]
[data]
path = "data.csv"
id_column = "id"
text_columns = ["title", "body"]
label_column = "label"
[dev]
sample = 300
seed = 7
[lfs]
modules = ["lfs.py", "pkg.more_lfs"]
fault_tolerant = true
[label_model]
source = "majority"
seed = 1
n_epochs = 100
lr = 1
l2 = 0.5
search = false
[apply]
cache = false
n_jobs = 1
"""


def write(tmp_path, text, name="labelcycle.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_minimal_defaults(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL).parent)
    assert cfg.root == tmp_path.resolve()
    assert cfg.path.name == "labelcycle.toml"
    assert cfg.project.name == tmp_path.name
    assert cfg.project.task == "classification"
    assert cfg.data.text_columns == ("text",) and cfg.data.id_column is None
    assert not cfg.dev.enabled
    assert cfg.lfs.modules == () and cfg.lfs.fault_tolerant is False
    assert (cfg.label_model.source, cfg.label_model.seed, cfg.label_model.n_epochs) == (
        "auto", 123, 500)
    assert cfg.label_model.lr == 0.01 and cfg.label_model.search is True
    assert cfg.label_model.search_budget == 60.0
    assert cfg.apply == ApplySection(cache=True, n_jobs=0)


def test_load_config_full(tmp_path):
    cfg = load_config(write(tmp_path, FULL))
    assert cfg.project.name == "demo"
    assert cfg.data.text_columns == ("title", "body")
    assert cfg.dev.sample == 300 and cfg.dev.seed == 7
    assert cfg.dev.label_column == "label"  # defaults to [data] label_column
    assert cfg.lfs.modules == ("lfs.py", "pkg.more_lfs") and cfg.lfs.fault_tolerant
    assert cfg.label_model.source == "majority"
    assert cfg.label_model.lr == 1.0 and isinstance(cfg.label_model.lr, float)
    assert cfg.apply.n_jobs == 1 and cfg.apply.cache is False


def test_config_sections_are_frozen(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.data.path = "other.csv"


def test_load_config_missing_says_to_run_init(tmp_path):
    with pytest.raises(ConfigError, match=r"labelcycle init .*nowhere"):
        load_config(tmp_path / "nowhere")


def test_load_config_invalid_toml_names_file(tmp_path):
    write(tmp_path, "[project\nlabels = 1\n")
    with pytest.raises(ConfigError, match=r"labelcycle\.toml is not valid TOML.*line 1"):
        load_config(tmp_path)


def test_load_config_non_utf8(tmp_path):
    (tmp_path / "labelcycle.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"labelcycle\.toml is not valid UTF-8"):
        load_config(tmp_path)


def test_unknown_key_names_file_section_valid_keys_and_suggestion(tmp_path):
    write(tmp_path, MINIMAL.replace("labels =", "lables ="))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert "labelcycle.toml" in message
    assert "unknown key 'lables' in [project]" in message
    assert "Valid keys: name, task, labels, labels_file" in message
    assert "Did you mean 'labels'?" in message


def test_unknown_section_suggests_closest(tmp_path):
    write(tmp_path, MINIMAL + "[label_modle]\nseed = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert "labelcycle.toml" in message and "unknown section [label_modle]" in message
    assert "[apply]" in message and "Did you mean [label_model]?" in message


def test_top_level_key_points_to_its_section(tmp_path):
    write(tmp_path, 'seed = 3\n' + MINIMAL)
    with pytest.raises(ConfigError, match=r"'seed' is outside any section.*under \[dev\]"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[apply]\nn_jobs = "4"\n', r"\[apply\] n_jobs must be an integer, got '4'"),
        ("[apply]\nn_jobs = true\n", r"\[apply\] n_jobs must be an integer, got True"),
        ('[apply]\ncache = "yes"\n', r"\[apply\] cache must be true or false"),
        ('[lfs]\nmodules = "lfs.py"\n', r"\[lfs\] modules must be a list of strings"),
        ("[lfs]\nmodules = [1]\n", r"\[lfs\] modules must be a list of strings"),
        ('[label_model]\nlr = "fast"\n', r"\[label_model\] lr must be a number"),
        ("[dev]\npath = 3\n", r"\[dev\] path must be a string, got 3"),
        ("[apply]\ncache = {a = 1}\n", r"cache must be true or false"),
    ],
)
def test_wrong_type_names_key_and_expected_type(tmp_path, snippet, expected):
    write(tmp_path, MINIMAL.replace('[data]\npath = "data.csv"\n',
                                    '[data]\npath = "data.csv"\nlabel_column = "y"\n') + snippet)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(tmp_path)
    assert "labelcycle.toml" in str(info.value)


def test_source_must_be_allowed(tmp_path):
    write(tmp_path, MINIMAL + '[label_model]\nsource = "snorkel"\n')
    expected = r"source must be one of 'auto', 'label_model', 'majority'"
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path)


def test_task_must_be_allowed(tmp_path):
    write(tmp_path, MINIMAL.replace("[project]\n", '[project]\ntask = "ner"\n'))
    with pytest.raises(ConfigError, match=r"task must be one of 'classification', 'pii'"):
        load_config(tmp_path)


def test_labels_required_for_classification(tmp_path):
    write(tmp_path, '[data]\npath = "data.csv"\n')
    with pytest.raises(ConfigError, match=r"labels is required for task 'classification'"):
        load_config(tmp_path)


def test_pii_task_needs_no_labels(tmp_path):
    write(tmp_path, '[project]\ntask = "pii"\n[data]\npath = "data.csv"\n')
    assert load_config(tmp_path).project.labels == ()


def test_labels_must_be_unique_and_non_empty(tmp_path):
    write(tmp_path, MINIMAL.replace('["neg", "pos"]', '["neg", "pos", "neg"]'))
    with pytest.raises(ConfigError, match=r"\[project\] labels: .*unique; repeated: neg"):
        load_config(tmp_path)
    write(tmp_path, MINIMAL.replace('["neg", "pos"]', '["neg", " "]'))
    with pytest.raises(ConfigError, match=r"non-empty"):
        load_config(tmp_path)


def test_labels_file_read_one_per_line(tmp_path):
    (tmp_path / "labels.txt").write_text("# classes\nneg\n\n pos \n")
    write(tmp_path, '[project]\nlabels_file = "labels.txt"\n[data]\npath = "d.csv"\n')
    assert load_config(tmp_path).project.labels == ("neg", "pos")


def test_labels_file_missing_or_duplicated(tmp_path):
    write(tmp_path, '[project]\nlabels_file = "labels.txt"\n[data]\npath = "d.csv"\n')
    with pytest.raises(ConfigError, match=r"labels_file .*labels\.txt not found"):
        load_config(tmp_path)
    (tmp_path / "labels.txt").write_text("a\na\n")
    with pytest.raises(ConfigError, match=r"labels in labels\.txt: .*repeated: a"):
        load_config(tmp_path)


def test_labels_and_labels_file_exclusive(tmp_path):
    write(tmp_path, MINIMAL.replace("[project]\n", '[project]\nlabels_file = "l.txt"\n'))
    with pytest.raises(ConfigError, match=r"either labels or labels_file"):
        load_config(tmp_path)


def test_data_path_required(tmp_path):
    write(tmp_path, '[project]\nlabels = ["a", "b"]\n')
    with pytest.raises(ConfigError, match=r"labelcycle\.toml: \[data\] needs the key 'path'"):
        load_config(tmp_path)


def test_dev_path_and_sample_exclusive(tmp_path):
    write(tmp_path, MINIMAL + '[dev]\npath = "dev.csv"\nsample = 10\nlabel_column = "y"\n')
    with pytest.raises(ConfigError, match=r"\[dev\] sample: set either path .* or sample"):
        load_config(tmp_path)


@pytest.mark.parametrize("n", [0, -5])
def test_dev_sample_positive(tmp_path, n):
    write(tmp_path, MINIMAL + f'[dev]\nsample = {n}\nlabel_column = "y"\n')
    with pytest.raises(ConfigError, match=rf"\[dev\] sample: must be a positive .* got {n}"):
        load_config(tmp_path)


def test_dev_needs_a_label_column(tmp_path):
    write(tmp_path, MINIMAL + "[dev]\nsample = 10\n")
    with pytest.raises(ConfigError, match=r"\[dev\] needs a label column"):
        load_config(tmp_path)


def test_label_column_cannot_be_text(tmp_path):
    write(tmp_path, MINIMAL.replace('path = "data.csv"\n',
                                    'path = "data.csv"\nlabel_column = "text"\n'))
    with pytest.raises(ConfigError, match=r"\[data\] label_column: .*must not be one of text_col"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("[label_model]\nn_epochs = 0\n", r"n_epochs: must be at least 1"),
        ("[label_model]\nlr = 0\n", r"lr: must be positive"),
        ("[label_model]\nl2 = -1\n", r"l2: must be zero or positive"),
        ("[label_model]\nsearch_budget = -5\n", r"search_budget: must be zero or positive"),
        ("[apply]\nn_jobs = -1\n", r"n_jobs: must be 0"),
        ("[data]\ntext_columns = []\n", r"text_columns: list at least one"),
    ],
)
def test_value_checks(tmp_path, snippet, expected):
    text = MINIMAL + snippet
    if snippet.startswith("[data]"):
        text = '[project]\nlabels = ["a"]\n[data]\npath = "d.csv"\n' + snippet.split("\n", 1)[1]
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected):
        load_config(tmp_path)


def test_fingerprint_ignores_location_but_not_values(tmp_path):
    a = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {"path": "d.csv"}},
                         root=tmp_path / "one")
    b = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {"path": "d.csv"}},
                         root=tmp_path / "two")
    c = config_from_dict({"project": {"labels": ["a", "b"]}, "data": {"path": "e.csv"}},
                         root=tmp_path / "one")
    assert a.fingerprint != c.fingerprint
    assert a.project.name == "one" and b.project.name == "two"
    assert a.fingerprint == b.fingerprint  # name and location do not count
    assert len(a.fingerprint) == 64


def test_schema_is_declarative():
    fields = {f.name for f in dataclasses.fields(ProjectConfig)}
    assert {"project", "data", "dev", "lfs", "label_model", "apply"} <= fields
    assert {f.name for f in dataclasses.fields(DataSection)} == {
        "path", "id_column", "text_columns", "label_column", "hide_columns", "generator",
        "generator_rows", "generator_seed"}
