"""Tests of analysis.html_report: the self-contained HTML page, parsed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from analysis.cycle_data import cycle_data_from_frame
from analysis.html_report import SECTIONS, render_html
from analysis.slice_report import slice_report

LABELS = ("billing", "shipping", "product")
HISTORY = [
    {"run_id": "20261120-000000-aaaaaa", "n_lfs": 3, "coverage": 0.4, "lfs_added": [],
     "lfs_removed": [], "lfs_edited": [],
     "dev": {"end_model": {"macro_f1": 0.6}, "label_model": {"macro_f1": 0.5}}},
    {"run_id": "20261121-000000-bbbbbb", "n_lfs": 5, "coverage": 0.6, "lfs_added": ["a", "b"],
     "lfs_removed": [], "lfs_edited": [],
     "dev": {"end_model": {"macro_f1": 0.7}, "label_model": {"macro_f1": 0.65}}},
]


class Page(HTMLParser):
    """Collects section ids, tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)
        if tag == "section":
            self.sections.append(dict(attrs).get("id"))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def _parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture
def report():
    n = 60
    gold = np.array([0, 1, 2] * (n // 3))
    pred = gold.copy()
    pred[1:30:3] = 0
    pred[2:12:3] = 1
    texts = [f"message {i}" for i in range(n)]
    texts[1] = "see https://example.org/track?id=1 <script>alert(1)</script> mail a@b.co"
    frame = pd.DataFrame({"id": [f"m{i}" for i in range(n)], "text": texts, "split": ["dev"] * n,
                          "gold": gold, "end_model": pred,
                          "label_model": np.where(np.arange(n) % 4 == 0, -1, gold),
                          "label_model_confidence": np.linspace(0.3, 1.0, n)})
    L = np.where(np.arange(n)[:, None] % 4 == 0, -1, gold[:, None])
    data = cycle_data_from_frame(frame, LABELS, L=L, lf_names=("lf_one",), project="demo <b>")
    return slice_report(data, n_boot=100, history=HISTORY)


def test_render_html_has_every_section_and_plots(report):
    page = _parse(render_html(report))
    assert page.sections == list(SECTIONS)
    assert page.tags.count("svg") >= 4  # gaps, confusions, coverage, history
    text = " ".join(page.text)
    assert "Slice report: demo <b>" in text  # escaped, shown as text
    assert "gold=shipping" in text and "shipping \u2192 billing" in text
    assert "20261121-000000-bbbbbb" in text
    assert "No LF suggestions" in text


def test_render_html_fetches_nothing(report):
    raw = render_html(report)
    page = _parse(raw)
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.tags)
    refs = [v for k, v in page.attrs if k in ("href", "src", "action", "xlink:href", "srcset")]
    assert refs and all(v.startswith("#") for v in refs)
    assert "http://" not in raw and "https://" not in raw
    assert not re.search(r"""["'(=\s]//""", raw)  # no protocol-relative reference
    assert "url(" not in " ".join(page.styles) and "@import" not in " ".join(page.styles)
    assert "a@b.co" not in raw  # example texts are redacted by default


def test_render_html_escapes_texts_when_not_redacted(report):
    from dataclasses import replace

    plain = replace(report, slices=tuple(
        replace(s, examples=({"id": "x", "text": "<script>alert(1)</script> https://x.org",
                              "gold": "billing", "predicted": "shipping", "confidence": 0.9},))
        for s in report.slices))
    raw = render_html(plain)
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    assert "https://" not in raw and "https:/\u200b/x.org" in raw


def test_render_html_suggestions_section(report):
    suggestion = {"name": "kw_parcel", "label": "shipping", "kind": "keyword",
                  "pattern": "parcel", "code": 'kw_parcel = keyword_lf("kw_parcel", ["parcel"], '
                                               '"shipping")',
                  "imports": ["from labelfns import keyword_lf"], "precision": 0.91,
                  "precision_low": 0.62, "precision_high": 0.98, "pool_coverage": 0.125,
                  "fixes": 4, "breaks": 1}
    page = _parse(render_html(report, suggestions=[suggestion]))
    text = " ".join(page.text)
    assert "kw_parcel" in text and "precision 0.91 (95% CI 0.62\u20130.98)" in text
    assert "pool coverage 12.5%" in text and "fixes 4" in text and "breaks 1" in text
    assert 'keyword_lf("kw_parcel", ["parcel"], "shipping")' in text
    assert "No LF suggestions" not in text


def test_render_html_without_history_or_errors():
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "split": ["dev", "dev"],
                          "gold": [0, 1], "end_model": [0, 1]})
    page = _parse(render_html(slice_report(cycle_data_from_frame(frame, LABELS), n_boot=10)))
    text = " ".join(page.text)
    assert page.sections == list(SECTIONS)
    assert "No cycle recorded yet." in text and "No errors on the dev set." in text
