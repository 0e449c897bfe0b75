"""Partition planning and reading, and the per-partition tasks of the scaled engines."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelfns import keyword_lf
from labelfns.errors import DataError
from weak_supervision.streaming import (
    LocalRunner,
    PartitionJob,
    apply_partition,
    check_schemas,
    find_duplicate_ids,
    plan_partitions,
    read_partition,
)


def _rows(n: int) -> pd.DataFrame:
    texts = [f"row {i}, with \"quotes\"\nand a newline" if i % 3 == 0 else f"plain row {i}"
             for i in range(n)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts,
                         "label": ["a" if i % 2 else "b" for i in range(n)]})


def _read_all(parts) -> pd.DataFrame:
    return pd.concat([read_partition(p) for p in parts], ignore_index=True)


def test_plan_partitions_csv_larger_than_chunk_keeps_quoted_newlines(tmp_path):
    df = _rows(1000)
    path = tmp_path / "rows.csv"
    df.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    parts = plan_partitions([path], chunk_rows=64)
    assert len(parts) > 10
    back = _read_all(parts)
    pd.testing.assert_frame_equal(back, df.astype(str), check_dtype=False)
    assert [p.index for p in parts] == list(range(len(parts)))


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_plan_partitions_jsonl_and_parquet_read_every_row_once(tmp_path, fmt):
    df = _rows(700)
    path = tmp_path / f"rows.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in df.to_dict("records")))
    else:
        pq.write_table(pa.Table.from_pandas(df), path, row_group_size=50)
    parts = plan_partitions([path], chunk_rows=120)
    assert len(parts) >= 5
    pd.testing.assert_frame_equal(_read_all(parts), df, check_dtype=False)


def test_plan_partitions_splits_one_large_parquet_row_group(tmp_path):
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(_rows(500)), path)  # one row group
    parts = plan_partitions([path], chunk_rows=100)
    assert [(p.start, p.stop) for p in parts] == [(i, i + 100) for i in range(0, 500, 100)]
    assert _read_all(parts)["id"].tolist() == [f"r{i}" for i in range(500)]


def test_check_schemas_names_files_and_columns(tmp_path):
    (tmp_path / "a.csv").write_text("id,text,label\n1,x,a\n")
    (tmp_path / "b.csv").write_text("id,body,label\n2,y,b\n")
    with pytest.raises(DataError, match=r"b\.csv lacks 'text'.*has 'body'"):
        check_schemas([tmp_path / "a.csv", tmp_path / "b.csv"])


def test_check_schemas_names_differing_parquet_types(tmp_path):
    pq.write_table(pa.table({"id": [1], "text": ["x"]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"id": ["1"], "text": ["x"]}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"types differ: id \(int64 vs string\)"):
        check_schemas([tmp_path / "a.parquet", tmp_path / "b.parquet"])


def test_read_partition_reports_bad_utf8_with_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"text\nok\n\xff\xfe broken\n")
    with pytest.raises(DataError, match="bad.csv"):
        _read_all(plan_partitions([path], chunk_rows=10))


def _job(tmp_path, columns, *, id_column="id", lfs=None) -> PartitionJob:
    lfs = lfs or [keyword_lf("kw_row", ["row"], "a"), keyword_lf("kw_plain", ["plain"], "b")]
    for sub in ("label_matrix.parquet", "labels.parquet", "_work"):
        (tmp_path / "out" / sub).mkdir(parents=True, exist_ok=True)
    return PartitionJob(lfs=lfs, lf_names=tuple(lf.name for lf in lfs), labels=("a", "b"),
                        columns=tuple(columns), text_columns=("text",), hidden=("label",),
                        id_column=id_column, label_column="label", dev_label_column="label",
                        out_dir=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))


def test_apply_partition_writes_votes_and_returns_statistics(tmp_path):
    path = tmp_path / "rows.csv"
    _rows(300).to_csv(path, index=False)
    parts = plan_partitions([path], chunk_rows=100)
    job = _job(tmp_path, ["id", "text", "label"])
    results = LocalRunner().map(apply_partition, parts, job)
    assert sum(r.n_rows for r in results) == 300
    assert sum(r.n_labelled for r in results) == 300
    matrix = pq.read_table(tmp_path / "out" / "label_matrix.parquet").to_pandas()
    assert matrix["id"].tolist() == [f"r{i}" for i in range(300)]
    assert (matrix["kw_plain"] == np.where(np.arange(300) % 3 == 0, -1, 1)).all()
    assert sum(r.stats.vote_counts()[1, 1] for r in results) == 200
    again = LocalRunner().map(apply_partition, parts, job)  # second run: all votes cached
    assert sum(sum(r.cached.values()) for r in again) == 600


def test_apply_partition_names_file_when_a_partition_lacks_a_column(tmp_path):
    path = tmp_path / "rows.jsonl"
    lines = [{"id": f"r{i}", "text": "t", "label": "a"} for i in range(40)]
    lines += [{"id": f"s{i}", "label": "a"} for i in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    parts = plan_partitions([path], chunk_rows=20)
    job = _job(tmp_path, ["id", "text", "label"])
    with pytest.raises(DataError, match=r"rows\.jsonl \(from line \d+\) lacks 'text'"):
        LocalRunner().map(apply_partition, parts, job)


def test_find_duplicate_ids_across_partitions(tmp_path):
    path = tmp_path / "rows.csv"
    texts = ["same", "x", "same", "y", "same", "x", "z", "same"]
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    parts = plan_partitions([path], chunk_rows=2)
    assert len(parts) >= 3
    job = _job(tmp_path, ["text"], id_column=None)
    LocalRunner().map(apply_partition, parts, job)
    fixes = find_duplicate_ids(job, parts, generated=True)
    got = {(i, int(p), int(o)) for i, (ps, occ) in fixes.items() for p, o in zip(ps, occ, strict=False)}
    seen: dict[str, int] = {}
    expected = set()
    for part in parts:
        for pos, text in enumerate(read_partition(part)["text"]):
            seen[text] = seen.get(text, 0) + 1
            if seen[text] > 1:
                expected.add((part.index, pos, seen[text]))
    assert got == expected and len(expected) == 4  # same x3 more, x once more


def test_find_duplicate_ids_in_id_column_raises_naming_them(tmp_path):
    path = tmp_path / "rows.csv"
    pd.DataFrame({"id": ["a", "b", "c", "a"], "text": ["1", "2", "3", "4"]}).to_csv(path, index=False)
    parts = plan_partitions([path], chunk_rows=2)
    job = _job(tmp_path, ["id", "text"])
    LocalRunner().map(apply_partition, parts, job)
    with pytest.raises(DataError, match="repeated ids: 'a'"):
        find_duplicate_ids(job, parts, generated=False)
