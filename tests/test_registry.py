import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labelfns.errors import DataError
from weak_supervision.registry import (
    SCHEMA_VERSION,
    Registry,
    RunRecord,
    run_dir,
    runs_frame,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def reg(tmp_path):
    return Registry(tmp_path / ".labelcycle" / "registry.sqlite")


def test_registry_round_trip(reg):
    run_id = reg.start_run("apply", config_fingerprint="cfg1",
                           inputs={"data": Path("data.csv"), "n_lfs": np.int64(3)})
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", run_id)
    running = reg.get_run(run_id)
    assert running.status == "running" and running.finished_at is None
    assert running.duration is None
    reg.finish_run(run_id, status="ok", figures={"coverage": np.float64(0.5), "per_lf": [1, 2]})
    rec = reg.get_run(run_id)
    assert isinstance(rec, RunRecord)
    assert (rec.id, rec.kind, rec.status, rec.config_fingerprint) == (run_id, "apply", "ok", "cfg1")
    assert rec.inputs == {"data": "data.csv", "n_lfs": 3}
    assert rec.figures == {"coverage": 0.5, "per_lf": [1, 2]}
    assert rec.finished_at >= rec.started_at and rec.duration >= 0
    assert rec.to_dict()["figures"] == {"coverage": 0.5, "per_lf": [1, 2]}
    assert reg.path.is_file()


def test_registry_list_newest_first_and_filters(reg):
    ids = [reg.start_run(kind, config_fingerprint="c", inputs={"i": i})
           for i, kind in enumerate(["apply", "fit", "apply", "fit"])]
    assert [r.id for r in reg.list_runs()] == ids[::-1]
    assert [r.id for r in reg.list_runs("apply")] == [ids[2], ids[0]]
    assert [r.id for r in reg.list_runs(limit=2)] == [ids[3], ids[2]]
    assert reg.list_runs("export") == []
    frame = runs_frame(reg.list_runs())
    assert list(frame.index) == ids[::-1] and frame.loc[ids[0], "kind"] == "apply"


def test_registry_latest_respects_status(reg):
    assert reg.latest("fit") is None
    a = reg.start_run("fit", config_fingerprint="c", inputs={})
    reg.finish_run(a, status="ok", figures={})
    b = reg.start_run("fit", config_fingerprint="c", inputs={})
    reg.finish_run(b, status="failed", figures={"error": "boom"})
    reg.start_run("fit", config_fingerprint="c", inputs={})
    assert reg.latest("fit").id == a
    assert reg.latest("fit", status="failed").id == b
    assert reg.latest("fit", status=None).status == "running"


def test_registry_unknown_run_lists_latest(reg):
    a = reg.start_run("fit", config_fingerprint="c", inputs={})
    with pytest.raises(DataError, match=rf"no run 'nope' in .*registry\.sqlite; latest runs: {a}"):
        reg.get_run("nope")
    with pytest.raises(DataError, match="no run 'nope'"):
        reg.finish_run("nope", status="ok", figures={})


def test_registry_finish_checks_status_and_twice(reg):
    a = reg.start_run("fit", config_fingerprint="c", inputs={})
    with pytest.raises(ValueError, match="status must be one of ok, failed, cancelled"):
        reg.finish_run(a, status="done", figures={})
    reg.finish_run(a, status="cancelled", figures={})
    with pytest.raises(ValueError, match="already finished with status 'cancelled'"):
        reg.finish_run(a, status="ok", figures={})


@pytest.mark.parametrize(
    "key", ["api_key", "OPENAI_API_KEY", "apiKey", "authorization", "token", "access_token",
            "password", "db_password", "client_secret", "secret"],
)
def test_registry_refuses_secret_keys(reg, key):
    with pytest.raises(ValueError, match=rf"key '{key}' looks like a secret"):
        reg.start_run("export", config_fingerprint="c", inputs={key: "x"})
    a = reg.start_run("export", config_fingerprint="c", inputs={})
    with pytest.raises(ValueError, match="looks like a secret"):
        reg.finish_run(a, status="ok", figures={"nested": {key: "x"}})
    assert reg.get_run(a).status == "running"  # nothing was written
    assert len(reg.list_runs()) == 1


def test_registry_allows_token_counts(reg):
    a = reg.start_run("export", config_fingerprint="c",
                      inputs={"n_tokens": 10, "max_tokens": 5, "token_count": 1, "tokenizer": "x"})
    assert reg.get_run(a).inputs["n_tokens"] == 10


def test_registry_refuses_secret_values(reg):
    with pytest.raises(ValueError, match="looks like an API key"):
        reg.start_run("export", config_fingerprint="c",
                      inputs={"headers": ["Bearer abcdef123"]})


def test_registry_rejects_bad_kind(reg):
    with pytest.raises(ValueError, match="kind must be a word"):
        reg.start_run("", config_fingerprint="c", inputs={})


def test_registry_schema_version_and_wal(reg):
    reg.list_runs()
    assert reg.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(reg.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    finally:
        con.close()
    Registry(reg.path).list_runs()  # re-opening does not add a second version row
    con = sqlite3.connect(reg.path)
    try:
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    finally:
        con.close()


def test_registry_refuses_newer_schema(reg):
    reg.list_runs()
    con = sqlite3.connect(reg.path)
    con.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(DataError, match="newer labelcycle"):
        Registry(reg.path).list_runs()


def test_registry_not_a_database(tmp_path):
    path = tmp_path / "registry.sqlite"
    path.write_bytes(b"x" * 4096)
    with pytest.raises(DataError, match=r"registry\.sqlite is not a usable labelcycle registry"):
        Registry(path).list_runs()


WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from weak_supervision.registry import Registry
reg = Registry(sys.argv[2])
for i in range(int(sys.argv[3])):
    run = reg.start_run("apply", config_fingerprint=sys.argv[4], inputs={"i": i})
    reg.finish_run(run, status="ok", figures={"i": i, "writer": sys.argv[4]})
"""


def test_registry_concurrent_writers(tmp_path):
    path = tmp_path / "registry.sqlite"
    n = 25
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(REPO), str(path), str(n), name],
                         stderr=subprocess.PIPE, text=True)
        for name in ("w1", "w2")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    runs = Registry(path).list_runs()
    assert len(runs) == 2 * n
    assert len({r.id for r in runs}) == 2 * n
    assert all(r.status == "ok" for r in runs)
    for name in ("w1", "w2"):
        mine = [r.figures["i"] for r in runs if r.config_fingerprint == name]
        assert sorted(mine) == list(range(n))


def test_run_dir_checks_id(tmp_path):
    path = run_dir(tmp_path, "20261121-101500-ab12cd")
    assert path == tmp_path / "runs" / "20261121-101500-ab12cd" and not path.exists()
    assert run_dir(tmp_path, "20261121-101500-ab12cd", create=True).is_dir()
    with pytest.raises(ValueError, match="not a run id"):
        run_dir(tmp_path, "../../etc")
