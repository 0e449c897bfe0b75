import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelfns.errors import DataError
from weak_supervision.io import (
    atomic_write,
    fingerprint_frame,
    read_table,
    write_json,
    write_text,
)

REPO = Path(__file__).resolve().parents[1]


def test_read_table_csv_keeps_text_and_converts_plain_numbers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        "id,text,stars,score,zip,note\n"
        "001,NA,5,1.5,02134,\n"
        "002,,3,,10001,null\n",
        encoding="utf-8",
    )
    df = read_table(path, columns=["text"], text_columns=["id"])
    assert df["id"].tolist() == ["001", "002"]
    assert df["text"].tolist() == ["NA", ""]
    assert df["note"].tolist() == ["", "null"]
    assert df["zip"].tolist() == ["02134", "10001"]  # leading zero: stays text
    assert df["stars"].dtype == np.int64 and df["stars"].tolist() == [5, 3]
    assert df["score"].dtype == np.float64 and np.isnan(df["score"][1])


def test_read_table_csv_text_columns_never_numeric(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,n\n1,2\n3,4\n", encoding="utf-8")
    df = read_table(path, text_columns=["text"])
    assert df["text"].tolist() == ["1", "3"]
    assert df["n"].tolist() == [2, 4]


def test_read_table_csv_strips_bom_and_keeps_multiline_cells(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes('\ufefftext\n"line one\nline two"\n'.encode())
    df = read_table(path, columns=["text"])
    assert df["text"].tolist() == ["line one\nline two"]


def test_read_table_jsonl_skips_blank_lines_and_keeps_types(tmp_path):
    path = tmp_path / "d.ndjson"
    path.write_text('{"text": "a", "n": 1, "tags": ["x"]}\n\n{"text": "b", "n": null}\n')
    df = read_table(path, columns=["text"])
    assert df["text"].tolist() == ["a", "b"]
    assert df["tags"][0] == ["x"]


def test_read_table_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["a", "b"], "n": [1, 2]}).to_parquet(path)
    df = read_table(path, columns=["text", "n"])
    assert df["text"].tolist() == ["a", "b"] and df["n"].tolist() == [1, 2]


def test_read_table_unknown_suffix_lists_supported(tmp_path):
    path = tmp_path / "d.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match=r"d\.xlsx.*unsupported.*\.csv.*\.jsonl.*\.parquet"):
        read_table(path)


def test_read_table_missing_file_names_it_and_suggests(tmp_path):
    (tmp_path / "data.csv").write_text("text\na\n")
    with pytest.raises(DataError, match=r"not found: .*dta\.csv.*did you mean 'data\.csv'"):
        read_table(tmp_path / "dta.csv")


def test_read_table_non_utf8_names_line_and_offset(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text\nok\ncaf\xe9\n")
    with pytest.raises(DataError) as info:
        read_table(path)
    message = str(info.value)
    assert "latin.csv" in message
    assert "line 3" in message and "byte offset 11" in message
    assert "re-encode" in message and "UTF-8" in message


def test_read_table_non_utf8_jsonl(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"text": "\xff"}\n')
    with pytest.raises(DataError, match=r"d\.jsonl.*line 1, byte offset 10"):
        read_table(path)


def test_read_table_malformed_jsonl_names_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b",}\n')
    with pytest.raises(DataError, match=r"d\.jsonl: line 3 is not valid JSON"):
        read_table(path)


def test_read_table_jsonl_non_object_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a"}\n["b"]\n')
    with pytest.raises(DataError, match=r"line 2 holds a JSON list"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("h.csv", "text,label\n"), ("e.csv", ""), ("e.jsonl", "\n\n")],
)
def test_read_table_empty_table(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=rf"{name.replace('.', '[.]')}.*(no rows|is empty)"):
        read_table(path)


def test_read_table_missing_columns_lists_available(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,label\nx,pos\n")
    with pytest.raises(DataError) as info:
        read_table(path, columns=["text", "label", "id"], what="dev file")
    message = str(info.value)
    assert message.startswith("dev file ")
    assert "d.csv" in message and "'text', 'id'" in message
    assert "available columns: body, label" in message


def test_read_table_bad_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"d\.parquet cannot be read as Parquet"):
        read_table(path)


def test_atomic_write_replaces_on_success(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with atomic_write(path) as fh:
        fh.write("new")
        assert path.read_text() == "old"  # not visible before the block ends
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_failure_leaves_target_and_no_temp(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_failure_creates_nothing(tmp_path):
    with pytest.raises(ValueError), atomic_write(tmp_path / "new.bin", "wb") as fh:
        fh.write(b"x")
        raise ValueError
    assert list(tmp_path.iterdir()) == []


def test_write_json_handles_numpy_and_paths(tmp_path):
    path = tmp_path / "a.json"
    write_json(path, {"n": np.int64(3), "x": np.array([1.5]), "p": Path("a/b"), "é": "ü"})
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "n": 3, "x": [1.5], "p": "a/b", "é": "ü"}
    write_text(tmp_path / "t.txt", "héllo")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"


def test_fingerprint_frame_sensitive_to_values_and_names():
    df = pd.DataFrame({"text": ["a", "b"], "n": [1, 2]})
    fp = fingerprint_frame(df)
    assert fp == fingerprint_frame(df.copy()) == fingerprint_frame(df.set_index(pd.Index([5, 6])))
    assert fp != fingerprint_frame(df.assign(n=[1, 3]))
    assert fp != fingerprint_frame(df.rename(columns={"n": "m"}))
    assert fp != fingerprint_frame(df.iloc[::-1].reset_index(drop=True))
    assert len(fp) == 64


def test_fingerprint_frame_handles_list_cells():
    df = pd.DataFrame({"tags": [["a"], ["b", "c"]]})
    assert fingerprint_frame(df) != fingerprint_frame(pd.DataFrame({"tags": [["a"], ["b"]]}))


def test_row_hashes_depend_only_on_chosen_columns():
    from weak_supervision.cache import row_hashes

    df = pd.DataFrame({"text": ["a", "b", "a"], "n": [1, 2, 3]})
    h = row_hashes(df, ["text"])
    assert h.dtype == np.uint64 and h.shape == (3,)
    assert h[0] == h[2] != h[1]
    h2 = row_hashes(df, ["text", "n"])
    assert h2[0] != h2[2]
    with pytest.raises(KeyError, match="'nope'"):
        row_hashes(df, ["nope"])


def test_hashes_stable_across_processes():
    from weak_supervision.cache import row_hashes

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import pandas as pd;"
        "from weak_supervision.io import fingerprint_frame;"
        "from weak_supervision.cache import row_hashes;"
        "df = pd.DataFrame({'text': ['a', 'b'], 'n': [1, 2]});"
        "print(fingerprint_frame(df), *row_hashes(df, ['text', 'n']).tolist())"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True,
                       check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2")
    ]
    df = pd.DataFrame({"text": ["a", "b"], "n": [1, 2]})
    here = " ".join([fingerprint_frame(df), *map(str, row_hashes(df, ["text", "n"]).tolist())])
    assert runs[0] == runs[1] == here + "\n"
