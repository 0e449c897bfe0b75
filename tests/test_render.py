"""Tests of analysis.render: the terminal table, JSON, Markdown and writing reports."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.cycle_data import cycle_data_from_frame
from analysis.render import (
    FORMATS,
    format_for_path,
    render,
    report_table,
    suggestion_dicts,
    write_report,
)
from analysis.slice_report import slice_report
from labelfns.errors import ConfigError

LABELS = ("billing", "shipping")
SUGGESTION = {"name": "kw_parcel", "label": "shipping", "kind": "keyword", "pattern": "parcel",
              "code": 'kw_parcel = keyword_lf("kw_parcel", ["parcel"], "shipping")',
              "imports": ["from labelfns import keyword_lf"], "precision": 0.9,
              "precision_low": 0.6, "precision_high": 0.98, "pool_coverage": 0.12, "fixes": 4,
              "breaks": 1}


@pytest.fixture
def report():
    n = 40
    gold = np.array([0, 1] * (n // 2))
    pred = gold.copy()
    pred[1:12:2] = 0  # six shipping rows predicted as billing
    frame = pd.DataFrame({"id": [f"m{i}" for i in range(n)],
                          "text": [f"message {i} about a | pipe" for i in range(n)],
                          "split": ["dev"] * n, "gold": gold, "end_model": pred,
                          "end_model_confidence": np.linspace(0.5, 0.9, n)})
    L = np.where(gold[:, None] == 0, 0, -1)
    data = cycle_data_from_frame(frame, LABELS, L=L, lf_names=("kw_billing",), project="demo",
                                 run_id="20261121-000000-aaaaaa")
    return slice_report(data, n_boot=100)


def test_render_table_lists_ranked_slices(report):
    text = render(report, "table")
    assert "Slices of demo" in text and "gold=shipping" in text and "kw_billing (1.00)" in text
    assert text.index("gold=shipping") < text.index("gold=billing")  # ranked
    assert "note:" in text or not report.notes
    assert report_table(report, top=2).row_count == 2


def test_render_json_round_trips_with_suggestions(report):
    doc = json.loads(render(report, "json", suggestions=[SUGGESTION]))
    assert doc["slices"][0]["name"] == report.slices[0].name
    assert doc["suggestions"][0]["name"] == "kw_parcel"
    assert doc["overall"]["n_errors"] == 6 and doc["seed"] == 0


def test_render_markdown_has_every_section_and_escapes_pipes(report):
    md = render(report, "md", suggestions=[SUGGESTION])
    for heading in ("# Slice report: demo", "## Summary", "## Ranked slices", "## Examples",
                    "## Largest confusions", "## Coverage per class", "## History",
                    "## Suggestions"):
        assert heading in md
    assert "about a \\| pipe" in md
    assert "| shipping | billing | 6 | 100.0% |" in md
    assert 'kw_parcel = keyword_lf("kw_parcel", ["parcel"], "shipping")' in md
    assert "No earlier cycle recorded." in md
    assert "No LF suggestions" in render(report, "md")


def test_render_rejects_unknown_format(report):
    with pytest.raises(ConfigError, match="unknown report format 'pdf'"):
        render(report, "pdf")
    assert FORMATS == ("table", "json", "md", "html")


def test_write_report_picks_the_format_from_the_suffix_and_writes_atomically(report, tmp_path):
    for name, start in (("r.json", "{"), ("r.md", "# Slice report"), ("r.html", "<!DOCTYPE html>"),
                        ("r.txt", "Run ")):
        out = write_report(report, tmp_path / name)
        assert out.read_text(encoding="utf-8").startswith(start)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md", "r.txt"]
    write_report(report, tmp_path / "any.out", "json")
    with pytest.raises(ConfigError, match="cannot tell the report format"):
        write_report(report, tmp_path / "r.pdf")
    assert format_for_path("x.HTM") == "html"


def test_suggestion_dicts_accepts_objects_lists_and_containers():
    item = SimpleNamespace(to_dict=lambda: dict(SUGGESTION))
    container = SimpleNamespace(to_dict=lambda: {"n_dev": 3, "suggestions": [dict(SUGGESTION)]})
    assert suggestion_dicts([item])[0]["label"] == "shipping"
    assert suggestion_dicts(container)[0]["name"] == "kw_parcel"
    assert suggestion_dicts({"suggestions": [SUGGESTION]})[0]["fixes"] == 4
    assert suggestion_dicts(None) == [] and suggestion_dicts([]) == []
