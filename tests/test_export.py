"""Tests for finetune.export: filters, duplicates, split, sidecar, atomic writes, the project export."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from finetune import export as export_mod
from finetune.export import (
    FILTERS,
    SIDECAR_FILE,
    TRAIN_FILE,
    VALIDATION_FILE,
    duplicate_groups,
    export_chat,
    export_project,
    lsh_parameters,
    minhash_signatures,
    normalize_text,
)
from finetune.pii_gate import PIIGate
from finetune.templates import PromptTemplate
from finetune.validate import validate_file, validate_records
from labelfns.errors import ConfigError, DataError
from weak_supervision.prob_labels import ProbabilisticLabels

LABELS = ("billing", "shipping", "product")
TEMPLATE = PromptTemplate("Classify the message.", "Message: {text}")
_WORDS = ("refund invoice parcel courier screen battery charger payment account address order "
          "delivery tracking colour size jacket blender tablet receipt discount warranty label "
          "return box late broken missing wrong double charge card bank fee plan renewal crash "
          "app camera update manual step desk chair lamp cable adapter speaker sound left right "
          "monday friday morning week month weeks again still never always today soon").split()


def distinct_texts(n: int, *, seed: int = 0, words: int = 12) -> list[str]:
    """``n`` texts of random words: no two are exact or near duplicates."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, size=words)) + f" #{i}" for i in range(n)]


def make_labels(ids, hard, *, conf=0.9, covered=None, names=LABELS) -> ProbabilisticLabels:
    hard = np.asarray(hard)
    k = len(names)
    conf = np.broadcast_to(np.asarray(conf, dtype=float), hard.shape)
    probs = np.tile(((1 - conf) / (k - 1))[:, None], (1, k))
    probs[np.arange(hard.size), hard] = conf
    return ProbabilisticLabels(np.asarray(ids), probs, names, "label_model", covered=covered)


def dataset(n: int = 60, *, seed: int = 0):
    frame = pd.DataFrame({"id": [f"r{i:03d}" for i in range(n)],
                          "text": distinct_texts(n, seed=seed)})
    hard = np.arange(n) % 3
    return frame, make_labels(frame["id"], hard)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def export(frame, labels, out, **kwargs):
    kwargs.setdefault("template", TEMPLATE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_chat(frame, labels=labels, ids=frame["id"], out_dir=out, **kwargs)


# -- records -------------------------------------------------------------------------------------
def test_export_chat_writes_chat_records(tmp_path):
    frame, labels = dataset(60)
    result = export(frame, labels, tmp_path)
    train = read_jsonl(tmp_path / TRAIN_FILE)
    val = read_jsonl(tmp_path / VALIDATION_FILE)
    assert (len(train), len(val)) == (result.n_train, result.n_validation) == (54, 6)
    by_text = dict(zip(frame["text"], np.array(LABELS)[np.arange(60) % 3], strict=True))
    for rec in train + val:
        system, user, assistant = rec["messages"]
        assert system == {"role": "system", "content": "Classify the message."}
        assert user["role"] == "user" and user["content"].startswith("Message: ")
        assert assistant == {"role": "assistant",
                             "content": by_text[user["content"][len("Message: "):]]}
    assert result.train_report.ok and result.validation_report.ok
    assert result.token_stats["train"]["n_examples"] == 54
    assert result.files == {"train": tmp_path / TRAIN_FILE,
                            "validation": tmp_path / VALIDATION_FILE,
                            "sidecar": tmp_path / SIDECAR_FILE}
    json.dumps(result.to_dict())
    assert result.to_frame()["remaining"].iloc[-1] == 60


def test_export_chat_text_task_answers_with_a_column(tmp_path):
    frame, _ = dataset(30)
    frame["summary"] = [f"Summary {i}." for i in range(30)]
    frame.loc[3, "summary"] = None
    frame.loc[4, "summary"] = "   "
    result = export(frame, None, tmp_path, task="text", assistant_column="summary",
                    template=PromptTemplate("Summarise.", "{text}"))
    assert result.filters["missing_answer"] == 2
    assert result.n_train + result.n_validation == 28
    rec = read_jsonl(tmp_path / TRAIN_FILE)[0]
    assert rec["messages"][-1]["content"].startswith("Summary ")
    assert result.class_counts == {}


def test_export_chat_classification_and_text_need_their_inputs(tmp_path):
    frame, labels = dataset(20)
    with pytest.raises(ConfigError, match="needs labels"):
        export(frame, None, tmp_path)
    with pytest.raises(ConfigError, match="needs assistant_column"):
        export(frame, None, tmp_path, task="text")
    with pytest.raises(ConfigError, match="only for task|is for task='text'"):
        export(frame, labels, tmp_path, assistant_column="text")
    with pytest.raises(ConfigError, match="'body'.*available columns: id, text"):
        export(frame, labels, tmp_path, template=PromptTemplate(None, "{body}"))
    with pytest.raises(ConfigError, match="validation_fraction"):
        export(frame, labels, tmp_path, validation_fraction=1.0)
    assert not any(tmp_path.iterdir())


def test_export_chat_ids_must_match_the_labels(tmp_path):
    frame, labels = dataset(20)
    frame.loc[5, "id"] = "unknown-id"
    with pytest.raises(DataError, match="1 of 20 rows have no probabilistic label.*unknown-id"):
        export(frame, labels, tmp_path)
    frame.loc[5, "id"] = "r000"
    with pytest.raises(DataError, match="ids must be unique.*r000"):
        export(frame, labels, tmp_path)


# -- filters -------------------------------------------------------------------------------------
def test_export_chat_counts_every_filter(tmp_path):
    n = 60
    frame, _ = dataset(n)
    texts = frame["text"].tolist()
    long_text = ("where is my parcel, it was due last tuesday and the tracking page has shown "
                 "nothing at all since then, please check with the courier")
    texts[10] = texts[11].upper()  # exact duplicate of row 11 (after normalisation)
    texts[12] = "  " + texts[11].replace(" ", "   ") + "\n"  # another one
    texts[20] = long_text
    texts[21] = long_text + "!"  # near duplicate
    texts[30] = "   "  # blank user message after rendering
    texts[31] = "bad \ud800 surrogate"
    frame["text"] = pd.Series(texts, dtype=object)  # arrow strings cannot hold a lone surrogate
    hard = np.arange(n) % 3
    conf = np.full(n, 0.9)
    conf[40:45] = 0.4  # below threshold
    conf[11] = 0.95  # the most confident copy of row 11's text is row 11 itself
    covered = np.ones(n, dtype=bool)
    covered[50:53] = False
    labels = make_labels(frame["id"], hard, conf=conf, covered=covered)
    exclude = np.zeros(n, dtype=bool)
    exclude[55:60] = True
    result = export(frame, labels, tmp_path, confidence_threshold=0.5, exclude=exclude,
                    template=PromptTemplate(None, "{text}"))
    assert result.filters == {"excluded": 5, "uncovered": 3, "below_threshold": 5,
                              "invalid_text": 2, "too_long": 0, "exact_duplicate": 2,
                              "near_duplicate": 1}
    assert list(result.filters) == [k for k in FILTERS if k in result.filters]
    assert result.n_train + result.n_validation == n - 18
    sidecar = read_jsonl(tmp_path / SIDECAR_FILE)
    kept = {e["id"] for e in sidecar}
    assert "r011" in kept and not {"r010", "r012"} & kept
    assert len({"r020", "r021"} & kept) == 1


def test_export_chat_drops_examples_over_the_token_limit(tmp_path):
    frame, labels = dataset(30)
    frame.loc[7, "text"] = "word " * 70_000  # > 65,536 tokens (gpt-4o-mini's per-example limit)
    result = export(frame, labels, tmp_path)
    assert result.filters["too_long"] == 1
    assert "r007" not in {e["id"] for e in read_jsonl(tmp_path / SIDECAR_FILE)}


def test_export_chat_max_per_class_and_balance(tmp_path):
    n = 90
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": distinct_texts(n)})
    hard = np.array([0] * 50 + [1] * 30 + [2] * 10)
    labels = make_labels(frame["id"], hard)
    capped = export(frame, labels, tmp_path / "a", max_per_class=20, validation_fraction=0)
    assert capped.filters["class_cap"] == 30 + 10
    assert {k: v["train"] for k, v in capped.class_counts.items()} == {
        "billing": 20, "shipping": 20, "product": 10}
    balanced = export(frame, labels, tmp_path / "b", balance=True, validation_fraction=0)
    assert balanced.filters["balance"] == 40 + 20
    assert {v["train"] for v in balanced.class_counts.values()} == {10}
    again = export(frame, labels, tmp_path / "c", balance=True, validation_fraction=0)
    assert (tmp_path / "b" / SIDECAR_FILE).read_bytes() == (tmp_path / "c" / SIDECAR_FILE).read_bytes()
    other = export(frame, labels, tmp_path / "d", balance=True, validation_fraction=0, seed=7)
    assert other.n_train == again.n_train
    ids_b = {e["id"] for e in read_jsonl(tmp_path / "b" / SIDECAR_FILE)}
    ids_d = {e["id"] for e in read_jsonl(tmp_path / "d" / SIDECAR_FILE)}
    assert ids_b != ids_d
    with pytest.raises(ConfigError, match="need classes"):
        export(frame, None, tmp_path / "e", task="text", assistant_column="text", balance=True)


def test_export_chat_empty_export_error_lists_the_filters(tmp_path):
    frame, _ = dataset(30)
    covered = np.ones(30, dtype=bool)
    covered[:4] = False
    labels = make_labels(frame["id"], np.arange(30) % 3, conf=0.8, covered=covered)
    with pytest.raises(DataError) as info:
        export(frame, labels, tmp_path / "out", confidence_threshold=0.99)
    message = str(info.value)
    assert "nothing to export" in message
    assert "30 rows in" in message
    assert "uncovered 4" in message and "below_threshold 26" in message
    assert "lower confidence_threshold (now 0.99)" in message
    assert not (tmp_path / "out").exists()


def test_export_chat_too_few_examples_fails_validation_and_writes_nothing(tmp_path):
    frame, labels = dataset(8)
    with pytest.raises(DataError, match="too_few_examples.*Nothing was written.*8 rows in"):
        export(frame, labels, tmp_path / "out", validation_fraction=0)
    assert not (tmp_path / "out").exists()


# -- split and leakage ---------------------------------------------------------------------------
def test_export_chat_split_is_stratified_and_deterministic(tmp_path):
    n = 200
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": distinct_texts(n)})
    hard = np.array([0] * 100 + [1] * 60 + [2] * 40)
    labels = make_labels(frame["id"], hard)
    a = export(frame, labels, tmp_path / "a", validation_fraction=0.2)
    assert a.class_counts == {"billing": {"train": 80, "validation": 20},
                              "shipping": {"train": 48, "validation": 12},
                              "product": {"train": 32, "validation": 8}}
    b = export(frame, labels, tmp_path / "b", validation_fraction=0.2)
    for name in (TRAIN_FILE, VALIDATION_FILE, SIDECAR_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    c = export(frame, labels, tmp_path / "c", validation_fraction=0.2, seed=99)
    assert c.class_counts == a.class_counts
    val_a = {e["id"] for e in read_jsonl(tmp_path / "a" / SIDECAR_FILE) if e["file"] == VALIDATION_FILE}
    val_c = {e["id"] for e in read_jsonl(tmp_path / "c" / SIDECAR_FILE) if e["file"] == VALIDATION_FILE}
    assert val_a != val_c
    assert b.leakage == {"groups": 0, "moved_to_train": 0}


def test_export_chat_no_duplicate_crosses_the_split(tmp_path):
    n = 120
    base = distinct_texts(n // 2, words=20)
    texts = []
    for i, t in enumerate(base):
        texts.append(t)
        texts.append(t.upper() if i % 2 else t + " !")  # an exact or a near duplicate
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts})
    labels = make_labels(frame["id"], np.repeat(np.arange(n // 2) % 3, 2))
    result = export(frame, labels, tmp_path, dedupe=False, validation_fraction=0.3)
    assert "exact_duplicate" not in result.filters
    assert result.leakage["moved_to_train"] > 0
    assert result.leakage["groups"] > 0
    assert result.n_train + result.n_validation == n
    train = [r["messages"][1]["content"] for r in read_jsonl(tmp_path / TRAIN_FILE)]
    val = [r["messages"][1]["content"] for r in read_jsonl(tmp_path / VALIDATION_FILE)]
    groups = duplicate_groups(train + val).groups
    assert not set(groups[:len(train)]) & set(groups[len(train):])
    assert not {normalize_text(t) for t in train} & {normalize_text(t) for t in val}
    moved = [e for e in read_jsonl(tmp_path / SIDECAR_FILE) if e["moved_for_leakage"]]
    assert len(moved) == result.leakage["moved_to_train"]
    assert all(e["file"] == TRAIN_FILE for e in moved)


def test_export_chat_dedupe_keeps_one_of_each_group(tmp_path):
    base = distinct_texts(30, words=20)
    texts = base + [t.title() for t in base[:10]] + [t + "." for t in base[10:20]]
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})
    labels = make_labels(frame["id"], np.arange(len(texts)) % 3)
    result = export(frame, labels, tmp_path)
    assert result.filters["exact_duplicate"] == 10
    assert result.filters["near_duplicate"] == 10
    assert result.n_train + result.n_validation == 30
    assert result.leakage == {"groups": 0, "moved_to_train": 0}


# -- sidecar and files ---------------------------------------------------------------------------
def test_export_chat_sidecar_maps_records_to_source_ids(tmp_path):
    frame, labels = dataset(45)
    export(frame, labels, tmp_path)
    by_id = frame.set_index("id")
    probs = labels.to_frame().set_index("id")
    files = {name: read_jsonl(tmp_path / name) for name in (TRAIN_FILE, VALIDATION_FILE)}
    sidecar = read_jsonl(tmp_path / SIDECAR_FILE)
    assert len(sidecar) == sum(len(v) for v in files.values())
    for entry in sidecar:
        record = files[entry["file"]][entry["line"] - 1]
        assert record["messages"][1]["content"] == "Message: " + by_id.loc[entry["id"], "text"]
        assert frame["id"].iloc[entry["row"]] == entry["id"]
        assert record["messages"][2]["content"] == entry["label"]
        for name, p in entry["probs"].items():
            assert p == pytest.approx(probs.loc[entry["id"], f"proba_{name}"])
        assert entry["confidence"] == pytest.approx(max(entry["probs"].values()))


def test_export_chat_atomic_when_a_write_fails(tmp_path, monkeypatch):
    frame, labels = dataset(40)
    out = tmp_path / "out"
    real = export_mod._write_lines
    calls = []

    def failing(path, lines):
        calls.append(path)
        if len(calls) == 3:  # the sidecar, after both data files were written
            real(path, lines[:2])
            raise OSError("disk full")
        real(path, lines)

    monkeypatch.setattr(export_mod, "_write_lines", failing)
    with pytest.raises(OSError, match="disk full"):
        export(frame, labels, out)
    assert len(calls) == 3
    assert not out.exists()
    # an earlier export in the folder stays as it was, and no temp file is left beside it
    monkeypatch.setattr(export_mod, "_write_lines", real)
    export(frame, labels, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls.clear()
    monkeypatch.setattr(export_mod, "_write_lines", failing)
    with pytest.raises(OSError):
        export(frame, labels, out, seed=5)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_export_chat_without_validation_removes_a_stale_validation_file(tmp_path):
    frame, labels = dataset(40)
    export(frame, labels, tmp_path)
    assert (tmp_path / VALIDATION_FILE).exists()
    result = export(frame, labels, tmp_path, validation_fraction=0)
    assert result.validation_report is None and "validation" not in result.files
    assert not (tmp_path / VALIDATION_FILE).exists()


def test_export_chat_escapes_unicode_line_separators(tmp_path):
    frame, labels = dataset(20)
    frame.loc[0, "text"] = "line one\u2028line two\u2029three\x85four {braces} \U0001f600"
    export(frame, labels, tmp_path, validation_fraction=0)
    text = (tmp_path / TRAIN_FILE).read_text(encoding="utf-8")
    assert len(text.splitlines()) == 20
    contents = [r["messages"][1]["content"] for r in read_jsonl(tmp_path / TRAIN_FILE)]
    assert "Message: line one\u2028line two\u2029three\x85four {braces} \U0001f600" in contents


# -- PII gate ------------------------------------------------------------------------------------
def test_export_chat_pii_gate_blocks_pii_in_answers(tmp_path):
    frame, _ = dataset(30)
    frame["reply"] = [f"Reply number {i}, all sorted." for i in range(30)]
    frame.loc[4, "reply"] = "Write to ann.lee@example.com please"
    kwargs = dict(task="text", assistant_column="reply", template=PromptTemplate(None, "{text}"),
                  validation_fraction=0)
    with pytest.raises(DataError) as info:
        export(frame, None, tmp_path / "a", pii_gate=PIIGate(), **kwargs)
    message = str(info.value)
    assert "(id 'r004'): EMAIL at 9-28" in message
    assert "ann.lee" not in message
    assert not (tmp_path / "a").exists()
    with pytest.warns(UserWarning, match="PII allowed"):
        result = export_chat(frame, ids=frame["id"], out_dir=tmp_path / "b",
                             pii_gate=PIIGate(allow_pii=True), **kwargs)
    assert result.pii.n_flagged == 1 and result.n_train == 30
    clean = export(frame.drop(index=4), None, tmp_path / "c", pii_gate=PIIGate(), **kwargs)
    assert clean.pii.ok


# -- near duplicates -----------------------------------------------------------------------------
def test_minhash_signatures_are_seeded():
    texts = distinct_texts(5, words=15)
    a = minhash_signatures(texts, seed=1)
    assert a.shape == (5, 128) and a.dtype == np.uint64
    assert np.array_equal(a, minhash_signatures(texts, seed=1))
    assert not np.array_equal(a, minhash_signatures(texts, seed=2))
    with pytest.raises(ConfigError, match="power of two"):
        minhash_signatures(texts, num_perm=100)


def test_minhash_agreement_tracks_jaccard():
    text = " ".join(distinct_texts(1, words=60))
    variant = text[: len(text) // 2] + " something else entirely here " + text[len(text) // 2:]
    sig = minhash_signatures([text, variant, "totally unrelated words"])
    k = 5
    a = {text[i:i + k] for i in range(len(text) - k + 1)}
    b = {variant[i:i + k] for i in range(len(variant) - k + 1)}
    jaccard = len(a & b) / len(a | b)
    assert abs((sig[0] == sig[1]).mean() - jaccard) < 0.12
    assert (sig[0] == sig[2]).mean() < 0.1


def test_lsh_parameters_catch_pairs_at_the_threshold():
    for threshold in (0.5, 0.8, 0.9, 0.95):
        bands, rows = lsh_parameters(threshold, 128)
        assert bands * rows <= 128
        assert 1 - (1 - threshold ** rows) ** bands >= 0.99


def test_duplicate_groups_exact_only_and_empty_texts():
    g = duplicate_groups(["a b", "A  B", "", "", "c"], threshold=None)
    assert g.groups[0] == g.groups[1] and g.groups[2] == g.groups[3]
    assert len(set(g.groups.tolist())) == 3
    assert g.n_candidate_pairs == 0 and g.bands == 0
    assert duplicate_groups([]).groups.size == 0


def test_duplicate_groups_scale_to_many_rows():
    texts = distinct_texts(20_000, words=14)
    texts += [t + " ok" for t in texts[:2000]]
    start = time.perf_counter()
    g = duplicate_groups(texts, threshold=0.8)
    elapsed = time.perf_counter() - start
    assert elapsed < 20  # about 0.3 s on 2 cores; 100k rows take about 1.5 s
    assert (g.groups[:2000] == g.groups[20_000:]).mean() > 0.95
    assert len(np.unique(g.groups)) == pytest.approx(20_000, abs=200)


# -- property: whatever the exporter writes passes the validator ---------------------------------
_TRICKY = ["", " ", "{", "}", "{{x}}", "{text}", "\u2028", "\x00", "é", "\U0001f600", "\ud800",
           "\t\n", "\\", '"', "null"]
_cells = st.one_of(st.text(min_size=2, max_size=30),
                   st.text(alphabet="{}ab \u2028\x85\n\u00e9\U0001f600\\\"", min_size=1, max_size=12),
                   st.sampled_from(_TRICKY), st.none(), st.integers(-5, 5))
_rows = st.one_of(st.lists(st.tuples(_cells, _cells), max_size=4),
                  st.lists(st.tuples(_cells, _cells), min_size=15, max_size=50))
_templates = st.sampled_from(["{text}", "Q: {text} {{literal}}", "{text!r}", "{text}\n{other}",
                              "{other}:{text:>3}"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows,
       template=_templates,
       system=st.one_of(st.none(), st.text(max_size=20)),
       names=st.lists(st.text(min_size=1, max_size=8).filter(str.strip), min_size=2, max_size=4,
                      unique=True),
       seed=st.integers(0, 2**16), threshold=st.sampled_from([0.0, 0.3, 0.6]),
       fraction=st.sampled_from([0.0, 0.1, 0.3]), dedupe=st.booleans(),
       task=st.sampled_from(["classification", "text"]))
def test_export_chat_property_written_records_pass_the_validator(
        rows, template, system, names, seed, threshold, fraction, dedupe, task):
    import tempfile

    frame = pd.DataFrame({"text": [r[0] for r in rows], "other": [r[1] for r in rows]},
                         dtype=object)
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(len(names)), size=len(rows)) if rows else \
        np.zeros((0, len(names)))
    labels = ProbabilisticLabels(np.arange(len(rows)), probs, tuple(names), "lm",
                                 covered=rng.random(len(rows)) < 0.9)
    out = Path(tempfile.mkdtemp())
    kwargs: dict = dict(template=PromptTemplate(system, template), seed=seed,
                        validation_fraction=fraction, dedupe=dedupe, out_dir=out)
    if task == "classification":
        kwargs.update(labels=labels, confidence_threshold=threshold)
    else:
        kwargs.update(task="text", assistant_column="other")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = export_chat(frame, **kwargs)
    except DataError as exc:
        message = str(exc)
        assert "nothing to export" in message or "too_few_examples" in message, message
        assert not out.exists() or not any(out.iterdir())
        event("refused: " + ("empty" if "nothing to export" in message else "too few"))
        return
    event("written")
    written = 0
    for name in (TRAIN_FILE, VALIDATION_FILE):
        path = out / name
        if not path.exists():
            continue
        lines = path.read_bytes().split(b"\n")
        assert lines[-1] == b""
        report = validate_records(lines[:-1])
        assert [p for p in report.errors if p.line is not None] == []
        assert [w.error for w in report.warnings if w.line is not None] == []
        written += len(lines) - 1
    assert validate_file(out / TRAIN_FILE).ok
    assert written == result.n_train + result.n_validation
    assert len(read_jsonl(out / SIDECAR_FILE)) == written


# -- the project export --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def labelled_project(tmp_path_factory):
    from weak_supervision.pipeline import label_project
    from weak_supervision.project import init_project, load_project

    root = init_project(tmp_path_factory.mktemp("proj") / "demo", n_rows=300)
    project = load_project(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = label_project(project, n_jobs=1)
    return project, run


def test_export_project_end_to_end(labelled_project, tmp_path):
    from weak_supervision.pipeline import registry_for

    project, run = labelled_project
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = export_project(project, out_dir=tmp_path / "export")
    assert result.filters["excluded"] == int(project.dev_mask.sum()) == 60
    sidecar = read_jsonl(tmp_path / "export" / SIDECAR_FILE)
    dev_ids = set(project.ids[project.dev_mask].tolist())
    assert sidecar and not dev_ids & {e["id"] for e in sidecar}
    assert set(e["label"] for e in sidecar) <= set(project.labels)
    train = read_jsonl(tmp_path / "export" / TRAIN_FILE)
    assert "billing, shipping, product" in train[0]["messages"][0]["content"]
    assert result.train_report.ok
    record = registry_for(project).get_run(result.run_id)
    assert record.kind == "export" and record.status == "ok"
    assert record.inputs["label_run"] == run.run_id
    assert record.figures["n_train"] == result.n_train
    assert record.figures["filters"] == result.filters
    assert (project.workspace / "runs" / result.run_id / "export.json").is_file()


def test_export_project_overrides_and_run_id(labelled_project, tmp_path):
    project, run = labelled_project
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = export_project(project, out_dir=tmp_path, run_id=run.run_id,
                                system_prompt="Route the ticket.", user_template="Ticket: {text}",
                                confidence_threshold=0.5, validation_fraction=0.0)
    assert result.options["confidence_threshold"] == 0.5
    first = read_jsonl(tmp_path / TRAIN_FILE)[0]["messages"]
    assert first[0]["content"] == "Route the ticket." and first[1]["content"].startswith("Ticket: ")
    with pytest.raises(ConfigError, match="unknown export option.*'treshold'"):
        export_project(project, out_dir=tmp_path, treshold=0.5)
    with pytest.raises(ConfigError, match="confidence_threshold"):
        export_project(project, out_dir=tmp_path, confidence_threshold=2.0)
    with pytest.raises(ConfigError, match="'body'"):
        export_project(project, out_dir=tmp_path, user_template="{body}")


def test_export_project_pii_free_fails_on_pii_and_allow_pii_exports(labelled_project, tmp_path):
    from weak_supervision.pipeline import registry_for

    project, _ = labelled_project
    # the starter messages hold order numbers ("order #12345"): PII in the user messages
    with pytest.raises(DataError, match="PII-free.*ORDER_ID"):
        export_project(project, out_dir=tmp_path / "a", pii_free=True, scan_user_messages=True)
    assert not (tmp_path / "a").exists()
    failed = registry_for(project).latest("export", status="failed")
    assert failed is not None and "PII" in failed.figures["error"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = export_project(project, out_dir=tmp_path / "b", pii_free=True)  # answers only
        allowed = export_project(project, out_dir=tmp_path / "c", pii_free=True,
                                 scan_user_messages=True, allow_pii=True)
    assert ok.pii.ok
    assert not allowed.pii.ok and allowed.n_train == ok.n_train


def test_export_project_needs_a_label_run(tmp_path):
    from weak_supervision.project import init_project, load_project

    project = load_project(init_project(tmp_path / "fresh"))
    with pytest.raises(DataError, match="no successful label run.*labelcycle label"):
        export_project(project, out_dir=tmp_path / "out")


def test_export_project_text_task_from_config(tmp_path):
    from weak_supervision.project import load_project

    n = 40
    rows = pd.DataFrame({"id": [f"t{i}" for i in range(n)], "text": distinct_texts(n),
                         "reply": [f"Thanks, ticket {i} is solved." for i in range(n)],
                         "label": ["a", "b"] * (n // 2)})
    rows.loc[3, "reply"] = "Mail me at ann.lee@example.com"
    rows.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "labelcycle.toml").write_text(
        '[project]\nlabels = ["a", "b"]\n'
        '[data]\npath = "data.csv"\nid_column = "id"\nlabel_column = "label"\n'
        '[dev]\nsample = 5\n'
        '[export]\ntask = "text"\nassistant_column = "reply"\nsystem_prompt = "Reply."\n'
        'user_template = "Ticket {id}: {text}"\npii_free = true\n')
    project = load_project(tmp_path)
    with pytest.raises(DataError, match=r"id 't3'\): EMAIL"):
        export_project(project, out_dir=tmp_path / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = export_project(project, out_dir=tmp_path / "out", allow_pii=True)
    assert result.filters["excluded"] == 5 and result.task == "text"
    assert result.n_train + result.n_validation == n - 5
    record = read_jsonl(tmp_path / "out" / TRAIN_FILE)[0]["messages"]
    assert record[0]["content"] == "Reply." and record[1]["content"].startswith("Ticket t")
    assert record[2]["content"].startswith(("Thanks, ticket", "Mail me"))
    assert "label" not in read_jsonl(tmp_path / "out" / SIDECAR_FILE)[0]
