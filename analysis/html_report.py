"""A slice report as one self-contained HTML page: inline CSS, inline SVG plots, no script.

Nothing in the page refers to anything outside it: no script, stylesheet, font, image or link
to another site, so it opens offline and fetches nothing. Sections (each a ``<section id=...>``):
``summary``, ``slices`` (ranked, with examples and LFs in ``<details>``), ``gaps`` (slice gaps
with their 95% intervals), ``confusions`` (largest error pairs), ``coverage`` (per class),
``history`` (figures over cycles), ``suggestions`` (LF candidates) and ``notes``. Any ``://``
in texts is broken with a zero-width space so that no text is taken for a link.

Example
-------
>>> import pandas as pd
>>> from analysis.cycle_data import cycle_data_from_frame
>>> from analysis.slice_report import slice_report
>>> f = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "split": ["dev", "dev"],
...                   "gold": [0, 1], "end_model": [0, 0]})
>>> page = render_html(slice_report(cycle_data_from_frame(f, ("neg", "pos")), n_boot=50))
>>> page.count("<section id=")
8
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from analysis.render import (
    fmt_cell,
    fmt_gap,
    fmt_lfs,
    fmt_num,
    fmt_pct,
    fmt_score,
    suggestion_dicts,
)
from analysis.slice_report import SliceReport

__all__ = ["SECTIONS", "render_html"]

SECTIONS = ("summary", "slices", "gaps", "confusions", "coverage", "history", "suggestions",
            "notes")
"""The ids of the page's sections, in order."""

_TITLES = {"summary": "Summary", "slices": "Ranked slices", "gaps": "Slice gaps",
           "confusions": "Largest confusions", "coverage": "Coverage per class",
           "history": "History", "suggestions": "LF suggestions", "notes": "Notes"}

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330;
       background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #c8cdd6; }
nav { padding: 8px 28px; background: #e9ecf1; }
nav a { margin-right: 14px; color: #2c5aa0; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1280px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 14px 18px;
          margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e6e8ec; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f1f3f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bad { color: #b3261e; font-weight: 600; }
.muted { color: #6b7280; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.kpi b { display: block; font-size: 20px; }
details { margin: 2px 0; }
summary { cursor: pointer; color: #2c5aa0; }
pre { background: #f4f5f7; padding: 8px; overflow-x: auto; font-size: 12px; }
.card { border: 1px solid #dde1e7; border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
"""

_BLUE, _RED, _GREY, _GREEN, _ORANGE = "#2c6fbb", "#c0392b", "#8a94a6", "#2e8b57", "#d98c1f"


def _e(value: Any) -> str:
    """Escape for HTML, and break ``://`` so that no text reads as a link."""
    return html.escape("" if value is None else str(value)).replace("://", ":/\u200b/")


def _svg(width: int, height: int, body: Sequence[str], label: str) -> str:
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(label)}">' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: Any, *, anchor: str = "start", cls: str = "") -> str:
    extra = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{_e(text)}</text>'


def _short(label: str, limit: int = 30) -> str:
    """A label that fits left of a plot (``...`` in the middle when too long)."""
    return label if len(label) <= limit else label[: limit - 12] + "\u2026" + label[-11:]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = (hi - lo) / (n - 1)
    return [lo + i * step for i in range(n)]


# ----------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------


def gap_plot(report: SliceReport, *, max_slices: int = 25) -> str:
    """Dot-and-whisker SVG of each slice's gap to the overall metric with its 95% interval."""
    rows = [s for s in report.slices if s.gap is not None][:max_slices]
    if not rows:
        return '<p class="muted">No slice has dev rows to score: nothing to plot.</p>'
    values = [0.0] + [v for s in rows for v in (s.gap, s.gap_low, s.gap_high) if v is not None]
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.1, hi + 0.1
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    left, width, top, row_h = 230, 820, 30, 22
    plot_w = width - left - 30
    height = top + row_h * len(rows) + 30

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    body = [_text(left, 16, f"gap in {report.metric} to the overall figure "
                  "(dot) with its bootstrap 95% interval (line)", cls="muted")]
    for t in _ticks(lo, hi):
        body.append(f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" '
                    f'y2="{height - 24}" stroke="#eceef2"/>')
        body.append(_text(x(t), height - 8, f"{t:+.2f}", anchor="middle", cls="muted"))
    body.append(f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 24}" '
                'stroke="#1d2330" stroke-dasharray="3 3"/>')
    for i, s in enumerate(rows):
        y = top + row_h * i + row_h / 2
        worse = s.gap_high is not None and s.gap_high < 0
        color = _RED if worse else (_GREY if s.gap_low is None else _BLUE)
        body.append(_text(left - 8, y + 4, _short(f"{s.rank}. {s.name}") + f" (n={s.n_dev})",
                          anchor="end"))
        if s.gap_low is not None and s.gap_high is not None:
            body.append(f'<line x1="{x(s.gap_low):.1f}" y1="{y:.1f}" x2="{x(s.gap_high):.1f}" '
                        f'y2="{y:.1f}" stroke="{color}" stroke-width="2"/>')
        body.append(f'<circle cx="{x(s.gap):.1f}" cy="{y:.1f}" r="4.5" fill="{color}">'
                    f"<title>{_e(s.name)}: {_e(fmt_gap(s))}</title></circle>")
    return _svg(width, height, body, "slice gaps with 95% intervals")


def bar_plot(items: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str], *,
             scale: float | None = None, label: str, percent: bool = False) -> str:
    """Horizontal grouped bars: one group per item, one bar per series (None = no bar)."""
    if not items:
        return ""
    colors = (_BLUE, _ORANGE, _GREEN, _RED)
    values = [v for _, vs in items for v in vs if v is not None]
    top_value = scale if scale is not None else max(values or [1.0]) or 1.0
    left, width, bar_h = 230, 820, 14
    group_h = bar_h * len(series) + 8
    top = 26
    plot_w = width - left - 80
    height = top + group_h * len(items) + 8
    body: list[str] = []
    xpos = left
    for j, name in enumerate(series):
        body.append(f'<rect x="{xpos}" y="5" width="10" height="10" fill="{colors[j % 4]}"/>')
        body.append(_text(xpos + 14, 14, name))
        xpos += 14 + 8 * len(name) + 20
    for i, (name, vs) in enumerate(items):
        y0 = top + group_h * i
        body.append(_text(left - 8, y0 + group_h / 2 + 2, _short(name), anchor="end"))
        for j, v in enumerate(vs):
            y = y0 + bar_h * j
            if v is None:
                body.append(_text(left + 4, y + bar_h - 3, "n/a", cls="muted"))
                continue
            w = max(0.0, min(1.0, v / top_value)) * plot_w
            shown = fmt_pct(v) if percent else fmt_num(v, 0 if float(v).is_integer() else 3)
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                        f'fill="{colors[j % 4]}"><title>{_e(name)}: {_e(shown)}</title></rect>')
            body.append(_text(left + w + 4, y + bar_h - 3, shown))
    return _svg(width, height, body, label)


def line_plot(points: Sequence[str], series: dict[str, Sequence[float | None]], *,
              label: str) -> str:
    """Lines over the x positions ``points`` (cycle run ids), values in [0, 1]."""
    if not points:
        return ""
    colors = (_BLUE, _ORANGE, _GREEN, _RED, _GREY)
    left, width, top, height = 60, 820, 30, 260
    plot_w, plot_h = width - left - 30, height - top - 50
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, v)))

    body: list[str] = []
    xpos = left
    for j, name in enumerate(series):
        body.append(f'<rect x="{xpos}" y="8" width="10" height="10" fill="{colors[j % 5]}"/>')
        body.append(_text(xpos + 14, 17, name))
        xpos += 14 + 8 * len(name) + 20
    for t in _ticks(0.0, 1.0):
        body.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{left + plot_w}" y2="{y(t):.1f}" '
                    'stroke="#eceef2"/>')
        body.append(_text(left - 6, y(t) + 4, f"{t:.2f}", anchor="end", cls="muted"))
    for i, _point in enumerate(points):
        body.append(_text(x(i), height - 28, f"#{i + 1}", anchor="middle", cls="muted"))
    for j, (name, values) in enumerate(series.items()):
        pts = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colors[j % 5]}" '
                        'stroke-width="2"/>')
        for (a, b), v in zip(pts, [v for v in values if v is not None], strict=True):
            body.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{colors[j % 5]}">'
                        f"<title>{_e(name)}: {v:.3f}</title></circle>")
    body.append(_text(left + plot_w / 2, height - 8, "cycle (oldest first)", anchor="middle",
                      cls="muted"))
    return _svg(width, height, body, label)


# ----------------------------------------------------------------------------------------------
# sections
# ----------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()
           ) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
                        for j, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(report: SliceReport) -> str:
    o = report.overall
    kpis = [("dev rows", o["n_dev"]), ("pool rows", o["n_pool"]), ("errors", o["n_errors"])]
    if report.task == "pii":
        kpis.append(("span F1", fmt_num(o.get("span_f1"))))
    else:
        kpis += [("accuracy", fmt_num(o.get("accuracy"))), ("macro-F1", fmt_num(o.get("macro_f1")))]
    kpis += [("LF coverage (dev)", fmt_pct(o.get("coverage"))),
             ("coverage (pool)", fmt_pct(o.get("pool_coverage"))),
             ("conflict (pool)", fmt_pct(o.get("pool_conflict_rate")))]
    boxes = "".join(f'<div class="kpi"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in kpis)
    top = report.top(3)
    lead = ("<p>Work on these slices first: " + ", ".join(
        f"<b>{_e(s.name)}</b> ({fmt_pct(s.expected_gain)} of dev rows to gain)" for s in top)
        + ".</p>") if top else "<p>No slice does worse than the whole dev set.</p>"
    return f'<div class="kpis">{boxes}</div>{lead}'


def _slices(report: SliceReport) -> str:
    score = "span F1" if report.task == "pii" else "accuracy / macro-F1"
    rows = []
    for s in report.slices:
        gap_cls = ' class="bad"' if s.gap_high is not None and s.gap_high < 0 else ""
        details = []
        if s.top_lfs:
            details.append(_table(["LF", "fires", "share", "precision"],
                                  [[_e(t.lf), t.fires, fmt_pct(t.share), fmt_num(t.precision)]
                                   for t in s.top_lfs], numeric=(1, 2, 3)))
        if s.examples:
            if report.task == "pii":
                ex = [[_e(e["id"]), e["missed"], e["spurious"], _e(e["text"])]
                      for e in s.examples]
                details.append(_table(["id", "missed", "spurious", "text"], ex, numeric=(1, 2)))
            else:
                ex = [[_e(e["id"]), _e(e["gold"] or "?"), _e(e["predicted"]),
                       fmt_num(e.get("confidence"), 2), _e(e["text"])] for e in s.examples]
                details.append(_table(["id", "gold", "predicted", "confidence", "text"], ex,
                                      numeric=(3,)))
        more = (f"<details><summary>{len(s.examples)} example(s), top LFs</summary>"
                f"{''.join(details)}</details>") if details else ""
        note = f'<br><span class="muted">{_e(s.note)}</span>' if s.note else ""
        rows.append([s.rank, f"<b>{_e(s.name)}</b><br><span class=\"muted\">{_e(s.description)}"
                     f"</span>{note}{more}", s.n_dev,
                     f"{s.n_errors} ({fmt_pct(s.error_share)})", _e(fmt_score(s, report.task)),
                     f"<span{gap_cls}>{_e(fmt_gap(s))}</span>", fmt_pct(s.expected_gain),
                     fmt_pct(s.coverage), fmt_pct(s.conflict_rate), s.n_pool,
                     fmt_pct(s.pool_coverage), _e(fmt_lfs(s))])
    intro = ("<p>Ranked by <b>expected gain</b>: the share of dev rows (PII: span decisions) "
             "that would become right if the slice's error rate fell to the overall one, "
             "discounted for small slices. Gaps are the slice's figure minus the overall one, "
             "with a bootstrap 95% interval; an interval entirely below zero is in red.</p>")
    return intro + _table(
        ["#", "slice", "dev rows", "errors (share)", score, "gap [95% CI]", "expected gain",
         "coverage", "conflict", "pool rows", "pool coverage", "top LFs (precision)"],
        rows, numeric=(0, 2, 3, 4, 5, 6, 7, 8, 9, 10))


def _confusions(report: SliceReport) -> str:
    if not report.confusions:
        return '<p class="muted">No errors on the dev set.</p>'
    items = [(f"{c['gold']} \u2192 {c['predicted']}", [float(c["count"])])
             for c in report.confusions]
    plot = bar_plot(items, ["dev rows" if report.task != "pii" else "spans"],
                    label="largest error pairs")
    table = _table(["gold", "predicted", "count", "share of errors"],
                   [[_e(c["gold"]), _e(c["predicted"]), c["count"], fmt_pct(c["share"])]
                    for c in report.confusions], numeric=(2, 3))
    return plot + table


def _coverage(report: SliceReport) -> str:
    rows = report.class_coverage
    if not rows:
        return '<p class="muted">No classes to show.</p>'
    if report.task == "pii":
        items = [(r["label"], [r["recall"], r["precision"]]) for r in rows]
        plot = bar_plot(items, ["recall", "precision"], scale=1.0, label="recall per type",
                        percent=True)
    else:
        items = [(r["label"], [r["dev_coverage"], r["dev_voted_right"], r["pool_predicted"]])
                 for r in rows]
        plot = bar_plot(items, ["any LF vote (dev)", "a vote for the class (dev)",
                                "predicted share (pool)"], scale=1.0,
                        label="LF coverage per class", percent=True)
    keys = list(rows[0])
    table = _table(keys, [[_e(fmt_cell(k, r[k])) for k in keys] for r in rows],
                   numeric=tuple(range(1, len(keys))))
    return plot + table


def _history(report: SliceReport) -> str:
    hist = report.history
    if not hist:
        return '<p class="muted">No cycle recorded yet.</p>'
    points = [str(h.get("run_id")) for h in hist]
    if report.task == "pii":
        series = {"span F1": [h.get("span_f1") for h in hist]}
        header = ["#", "run", "LFs", "rows with PII", "span F1"]
        rows = [[i + 1, _e(h.get("run_id")), fmt_num(h.get("n_lfs")),
                 fmt_num(h.get("rows_with_pii")), fmt_num(h.get("span_f1"))]
                for i, h in enumerate(hist)]
    else:
        def f1(h: dict[str, Any], m: str) -> float | None:
            return ((h.get("dev") or {}).get(m) or {}).get("macro_f1")

        series = {"end model macro-F1": [f1(h, "end_model") for h in hist],
                  "label model macro-F1": [f1(h, "label_model") for h in hist],
                  "majority macro-F1": [f1(h, "majority") for h in hist],
                  "LF coverage": [h.get("coverage") for h in hist]}
        header = ["#", "run", "LFs", "coverage", "majority F1", "label model F1", "end model F1",
                  "LF changes"]
        rows = [[i + 1, _e(h.get("run_id")), fmt_num(h.get("n_lfs")), fmt_pct(h.get("coverage")),
                 fmt_num(f1(h, "majority")), fmt_num(f1(h, "label_model")),
                 fmt_num(f1(h, "end_model")),
                 _e(f"+{len(h.get('lfs_added') or ())} -{len(h.get('lfs_removed') or ())} "
                    f"~{len(h.get('lfs_edited') or ())}")] for i, h in enumerate(hist)]
    return line_plot(points, series, label="figures over cycles") + _table(
        header, rows, numeric=tuple(range(2, len(header))))


def _suggestions(items: list[dict[str, Any]]) -> str:
    if not items:
        return ('<p class="muted">No LF suggestions in this report (run '
                "<code>labelcycle suggest</code>).</p>")
    cards = []
    for d in items:
        code = "\n".join([*d.get("imports", ()), "", str(d.get("code", ""))]).strip()
        cards.append(
            f'<div class="card"><b>{_e(d.get("name", "?"))}</b> \u2192 {_e(d.get("label", "?"))}'
            f' <span class="muted">({_e(d.get("kind", ""))}: {_e(d.get("pattern", ""))})</span>'
            f"<br>precision {fmt_num(d.get('precision'), 2)} (95% CI "
            f"{fmt_num(d.get('precision_low'), 2)}\u2013{fmt_num(d.get('precision_high'), 2)}), "
            f"pool coverage {fmt_pct(d.get('pool_coverage'))}, fixes {_e(d.get('fixes', '-'))}, "
            f"breaks {_e(d.get('breaks', '-'))}<pre><code>{_e(code)}</code></pre></div>")
    return "".join(cards)


def _notes(report: SliceReport) -> str:
    items = list(report.notes) + [
        f"Intervals: {report.n_boot} bootstrap resamples of the dev rows, seed {report.seed}; "
        "slices with fewer than 2 dev rows have none.",
        "Example texts are redacted (built-in PII detectors)." if report.redacted
        else "Example texts are NOT redacted."]
    return "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in items) + "</ul>"


def render_html(report: SliceReport, *, suggestions: Any = None) -> str:
    """The report as one self-contained HTML page (see the module docstring).

    Parameters
    ----------
    report : SliceReport
    suggestions : optional
        LF suggestions (``Suggestions``, a list of ``Suggestion`` or of dicts); the section
        says so when there are none.

    Returns
    -------
    str
    """
    items = suggestion_dicts(suggestions)
    bodies = {
        "summary": _summary(report),
        "slices": _slices(report),
        "gaps": gap_plot(report),
        "confusions": _confusions(report),
        "coverage": _coverage(report),
        "history": _history(report),
        "suggestions": _suggestions(items),
        "notes": _notes(report),
    }
    name = report.project or "(unnamed project)"
    nav = "".join(f'<a href="#{key}">{_e(_TITLES[key])}</a>' for key in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{_e(_TITLES[key])}</h2>{bodies[key]}</section>'
                       for key in SECTIONS)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Slice report: {_e(name)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>Slice report: {_e(name)}</h1><p>run {_e(report.run_id or '-')} \u00b7 "
        f"label run {_e(report.label_run_id or '-')} \u00b7 model {_e(report.model)} \u00b7 "
        f"metric {_e(report.metric)}</p></header><nav>{nav}</nav><main>{sections}</main>"
        "</body></html>\n")
