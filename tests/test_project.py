import ast
import tomllib

import numpy as np
import pytest

from labelfns.errors import ConfigError, DataError
from weak_supervision.project import (
    WORKSPACE_NAME,
    ensure_workspace,
    init_project,
    load_project,
    make_ids,
)


def make(tmp_path, data, *, config="", labels='["neg", "pos"]', name="data.csv",
         data_section='path = "data.csv"\nlabel_column = "label"\n'):
    (tmp_path / name).write_text(data, encoding="utf-8")
    (tmp_path / "labelcycle.toml").write_text(
        f"[project]\nlabels = {labels}\n[data]\n{data_section}{config}", encoding="utf-8"
    )
    return tmp_path


ROWS = "id,text,label,stars\nr1,bad,neg,1\nr2,good,,5\nr3,fine,pos,4\nr4,meh,,3\n"


def test_load_project_hides_gold_from_data(tmp_path):
    p = load_project(make(tmp_path, ROWS, data_section=(
        'path = "data.csv"\nid_column = "id"\nlabel_column = "label"\n')))
    assert list(p.data.columns) == ["id", "text", "stars"]
    assert "label" not in p.data.columns
    assert p.gold.tolist() == [0, -1, 1, -1]
    assert p.ids.tolist() == ["r1", "r2", "r3", "r4"]
    assert p.labels == ("neg", "pos")
    assert p.data["stars"].tolist() == [1, 5, 4, 3]
    assert not p.dev_mask.any() and (p.y_dev == -1).all()
    assert p.root == tmp_path.resolve() and p.workspace == p.root / WORKSPACE_NAME


def test_load_project_joins_text_columns(tmp_path):
    data = "title,body,label\nHello,World,neg\n,only body,pos\n"
    p = load_project(make(tmp_path, data, data_section=(
        'path = "data.csv"\ntext_columns = ["title", "body"]\nlabel_column = "label"\n')))
    assert p.data["text"].tolist() == ["Hello\nWorld", "\nonly body"]
    assert list(p.data.columns) == ["title", "body", "text"]


def test_load_project_jsonl_nulls_and_int_ids(tmp_path):
    data = '{"id": 1, "text": null, "label": "neg"}\n{"id": 2, "text": "x", "label": null}\n'
    p = load_project(make(tmp_path, data, name="d.jsonl", data_section=(
        'path = "d.jsonl"\nid_column = "id"\nlabel_column = "label"\n')))
    assert p.data["text"].tolist() == ["", "x"]
    assert p.ids.tolist() == ["1", "2"]
    assert p.gold.tolist() == [0, -1]


def test_load_project_warns_when_text_column_replaced(tmp_path):
    data = "text,body\nold,new\n"
    with pytest.warns(UserWarning, match="column 'text' is replaced"):
        p = load_project(make(tmp_path, data, data_section=(
            'path = "data.csv"\ntext_columns = ["body"]\n')))
    assert p.data["text"].tolist() == ["new"]


def test_generated_ids_stable_unique_and_content_based(tmp_path):
    data = "text\nhello\nworld\nhello\nhello\n"
    p = load_project(make(tmp_path, data, data_section='path = "data.csv"\n'))
    ids = p.ids.tolist()
    assert len(set(ids)) == 4
    assert ids[2] == ids[0] + "-2" and ids[3] == ids[0] + "-3"
    assert all(len(i.split("-")[0]) == 16 for i in ids)
    assert load_project(tmp_path).ids.tolist() == ids
    # ids of distinct texts do not depend on their position
    assert make_ids(["world", "hello"]).tolist() == [ids[1], ids[0]]


def test_id_column_duplicates_name_ids(tmp_path):
    data = "id,text\na,x\nb,y\na,z\nc,w\nb,v\n"
    with pytest.raises(DataError) as info:
        load_project(make(tmp_path, data, data_section='path = "data.csv"\nid_column = "id"\n'))
    message = str(info.value)
    assert "data.csv" in message and "'id'" in message
    assert "2 repeated ids: 'a', 'b'" in message


def test_id_column_empty_value(tmp_path):
    data = "id,text\na,x\n,y\n"
    with pytest.raises(DataError, match=r"data\.csv: row 2: id column 'id' is empty"):
        load_project(make(tmp_path, data, data_section='path = "data.csv"\nid_column = "id"\n'))


def test_unknown_gold_label_names_file_row_value_and_labels(tmp_path):
    data = "id,text,label\nr1,a,neg\nr2,b,pos\nr3,c,nuetral\nr4,d,other\n"
    with pytest.raises(DataError) as info:
        load_project(make(tmp_path, data, data_section=(
            'path = "data.csv"\nid_column = "id"\nlabel_column = "label"\n')))
    message = str(info.value)
    assert "data.csv: row 3 (id 'r3')" in message
    assert "'nuetral'" in message and "column 'label'" in message
    assert "1 more rows" in message
    assert "valid labels: neg, pos" in message


def test_unknown_gold_label_without_ids_names_row(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv: row 2: label 'x'"):
        load_project(make(tmp_path, "text,label\na,neg\nb,x\n"))


def test_gold_labels_are_stripped(tmp_path):
    assert load_project(make(tmp_path, "text,label\na, pos \n")).gold.tolist() == [1]


DEV_DATA = "id,text,label\n" + "".join(
    f"r{i},text {i},{'pos' if i % 3 == 0 else 'neg' if i % 3 == 1 else ''}\n" for i in range(60)
)


def _sampled(tmp_path, n, seed):
    make(tmp_path, DEV_DATA, config=f"[dev]\nsample = {n}\nseed = {seed}\n",
         data_section='path = "data.csv"\nid_column = "id"\nlabel_column = "label"\n')
    return load_project(tmp_path)


def test_dev_sample_deterministic_and_only_labelled(tmp_path):
    a = _sampled(tmp_path, 10, seed=0)
    b = _sampled(tmp_path, 10, seed=0)
    c = _sampled(tmp_path, 10, seed=1)
    assert a.dev_mask.sum() == 10
    assert np.array_equal(a.dev_mask, b.dev_mask)
    assert not np.array_equal(a.dev_mask, c.dev_mask)
    assert (a.gold[a.dev_mask] >= 0).all()
    assert np.array_equal(a.y_dev[a.dev_mask], a.gold[a.dev_mask])
    assert (a.y_dev[~a.dev_mask] == -1).all()
    expected = np.random.default_rng(0).choice(np.flatnonzero(a.gold >= 0), 10, replace=False)
    assert np.array_equal(np.flatnonzero(a.dev_mask), np.sort(expected))


def test_dev_sample_larger_than_labelled_rows(tmp_path):
    with pytest.raises(DataError) as info:
        _sampled(tmp_path, 100, seed=0)
    message = str(info.value)
    assert "sample = 100" in message and "only 40 labelled rows" in message
    assert "data.csv" in message


def test_dev_path_and_sample_are_exclusive(tmp_path):
    make(tmp_path, DEV_DATA, config='[dev]\nsample = 5\npath = "dev.csv"\n')
    with pytest.raises(ConfigError, match="either path"):
        load_project(tmp_path)


def test_dev_file_rows_appended_and_marked(tmp_path):
    (tmp_path / "dev.csv").write_text("id,text,label,extra\nd1,great,pos,x\nd2,awful,neg,y\n")
    # the data file has no label column; the dev file's label column is named in [dev]
    p = load_project(make(tmp_path, "id,text\nr1,a\nr2,b\nr3,c\n",
                          data_section='path = "data.csv"\nid_column = "id"\n',
                          config='[dev]\npath = "dev.csv"\nlabel_column = "label"\n'))
    assert p.ids.tolist() == ["r1", "r2", "r3", "d1", "d2"]
    assert p.dev_mask.tolist() == [False, False, False, True, True]
    assert p.y_dev.tolist() == [-1, -1, -1, 1, 0]
    assert p.gold.tolist() == [-1, -1, -1, 1, 0]
    assert list(p.data.columns) == ["id", "text"]
    assert p.data["text"].tolist() == ["a", "b", "c", "great", "awful"]


def test_dev_file_missing_column_names_dev_file(tmp_path):
    (tmp_path / "dev.csv").write_text("text,label\ngreat,pos\n")
    make(tmp_path, "text,stars,label\na,1,neg\n", config='[dev]\npath = "dev.csv"\n')
    with pytest.raises(DataError) as info:
        load_project(tmp_path)
    message = str(info.value)
    assert message.startswith("dev file") and "dev.csv" in message and "'stars'" in message


def test_dev_file_rows_need_labels(tmp_path):
    (tmp_path / "dev.csv").write_text("text,label\ngreat,pos\nmeh,\n")
    make(tmp_path, "text,label\na,neg\n", config='[dev]\npath = "dev.csv"\n')
    with pytest.raises(DataError, match=r"dev\.csv: row 2 has no value in label column 'label'"):
        load_project(tmp_path)


def test_dev_file_unknown_label_names_dev_file(tmp_path):
    (tmp_path / "dev.csv").write_text("text,label\ngreat,pos\nmeh,maybe\n")
    make(tmp_path, "text,label\na,neg\n", config='[dev]\npath = "dev.csv"\n')
    with pytest.raises(DataError, match=r"dev\.csv: row 2: label 'maybe'"):
        load_project(tmp_path)


def test_dev_ids_unique_across_files(tmp_path):
    (tmp_path / "dev.csv").write_text("id,text,label\nr1,great,pos\n")
    make(tmp_path, "id,text,label\nr1,a,neg\n", config='[dev]\npath = "dev.csv"\n',
         data_section='path = "data.csv"\nid_column = "id"\nlabel_column = "label"\n')
    with pytest.raises(DataError, match=r"data\.csv and .*dev\.csv.*repeated ids: 'r1'"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [("text,label\n", r"data\.csv has no rows"), ("body\nx\n", r"no column 'text'.*body")],
)
def test_data_errors_come_from_read_table(tmp_path, data, expected):
    with pytest.raises(DataError, match=expected):
        load_project(make(tmp_path, data, data_section='path = "data.csv"\n'))


def test_missing_data_file(tmp_path):
    (tmp_path / "labelcycle.toml").write_text(
        '[project]\nlabels = ["a", "b"]\n[data]\npath = "nope.csv"\n')
    with pytest.raises(DataError, match=r"data file not found: .*nope\.csv"):
        load_project(tmp_path)


def test_lf_modules_resolved(tmp_path):
    (tmp_path / "lfs.py").write_text("")
    p = load_project(make(tmp_path, "text\na\n", data_section='path = "data.csv"\n',
                          config='[lfs]\nmodules = ["lfs.py", "pkg.more"]\n'))
    assert p.lf_modules == ((tmp_path / "lfs.py").resolve(), "pkg.more")


def test_lf_module_missing_file(tmp_path):
    make(tmp_path, "text\na\n", data_section='path = "data.csv"\n',
         config='[lfs]\nmodules = ["lfz.py"]\n')
    with pytest.raises(ConfigError, match=r"\[lfs\] modules lists 'lfz\.py'"):
        load_project(tmp_path)


def test_pii_task_has_no_class_gold(tmp_path):
    (tmp_path / "data.csv").write_text('text,spans\nCall Ann,"[[5, 8, ""PERSON""]]"\n')
    (tmp_path / "labelcycle.toml").write_text(
        '[project]\ntask = "pii"\n[data]\npath = "data.csv"\nlabel_column = "spans"\n')
    p = load_project(tmp_path)
    assert p.labels == () and p.gold.tolist() == [-1]
    assert "spans" not in p.data.columns


def test_data_fingerprint_tracks_visible_data_only(tmp_path):
    fp = load_project(make(tmp_path, "text,label\na,neg\nb,pos\n")).data_fingerprint
    assert load_project(make(tmp_path, "text,label\na,pos\nb,pos\n")).data_fingerprint == fp
    assert load_project(make(tmp_path, "text,label\na,neg\nc,pos\n")).data_fingerprint != fp


def test_workspace_created_only_on_demand(tmp_path):
    p = load_project(make(tmp_path, "text\na\n", data_section='path = "data.csv"\n'))
    assert not p.workspace.exists()
    ws = ensure_workspace(p)
    assert ws == p.workspace and (ws / "runs").is_dir()
    assert (ws / ".gitignore").read_text() == "*\n"
    assert ensure_workspace(tmp_path) == ws  # idempotent, accepts the folder


def test_init_project_is_runnable(tmp_path):
    root = init_project(tmp_path / "new")
    assert sorted(p.name for p in root.iterdir()) == ["data.csv", "labelcycle.toml", "lfs.py"]
    config = tomllib.loads((root / "labelcycle.toml").read_text())
    assert config["lfs"]["modules"] == ["lfs.py"]
    tree = ast.parse((root / "lfs.py").read_text())
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "labelfns"]
    assert imports and {a.name for a in imports[0].names} <= {
        "labeling_function", "keyword_lf", "regex_lf", "ABSTAIN"}
    p = load_project(root)
    assert p.n_rows == 300 and p.labels == ("billing", "shipping", "product")
    assert set(p.gold.tolist()) == {0, 1, 2}
    assert p.dev_mask.sum() == 60 and "label" not in p.data.columns
    assert len(set(p.ids.tolist())) == 300


def test_init_project_deterministic(tmp_path):
    a = init_project(tmp_path / "a")
    b = init_project(tmp_path / "b")
    assert (a / "data.csv").read_bytes() == (b / "data.csv").read_bytes()
    c = init_project(tmp_path / "c", seed=1)
    assert (a / "data.csv").read_bytes() != (c / "data.csv").read_bytes()


def test_init_project_refuses_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"is not empty.*force"):
        init_project(tmp_path)
    assert not (tmp_path / "labelcycle.toml").exists()
    init_project(tmp_path, force=True)
    assert (tmp_path / "labelcycle.toml").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_init_project_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        init_project(tmp_path / "f")


def test_hide_columns_are_not_shown_to_lfs(tmp_path):
    (tmp_path / "labelcycle.toml").write_text(
        '[project]\nlabels = ["a", "b"]\n[data]\npath = "d.csv"\nlabel_column = "y"\n'
        'hide_columns = ["y_coarse"]\n')
    (tmp_path / "d.csv").write_text("text,y,y_coarse\nx,a,A\nz,b,B\n")
    project = load_project(tmp_path)
    assert list(project.data.columns) == ["text"]
    (tmp_path / "labelcycle.toml").write_text(
        (tmp_path / "labelcycle.toml").read_text().replace('"y_coarse"', '"nope"'))
    with pytest.raises(DataError, match="hide_columns names \\['nope'\\]"):
        load_project(tmp_path)
