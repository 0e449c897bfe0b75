"""Slice reports as text: a terminal table (rich), JSON, Markdown, or HTML (:mod:`analysis.html_report`).

:func:`render` returns the text of one format, :func:`write_report` writes it atomically;
:func:`report_table` is the rich table itself, for a CLI that prints in colour.

Example
-------
>>> import pandas as pd
>>> from analysis.cycle_data import cycle_data_from_frame
>>> from analysis.slice_report import slice_report
>>> f = pd.DataFrame({"id": list("abc"), "text": ["a", "b", "c"], "split": ["dev"] * 3,
...                   "gold": [0, 1, 1], "end_model": [0, 1, 0]})
>>> report = slice_report(cycle_data_from_frame(f, ("neg", "pos")), n_boot=100)
>>> render(report, "md").splitlines()[0]
'# Slice report: (unnamed project)'
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from analysis.slice_report import SliceReport, SliceStats
from labelfns.errors import ConfigError
from weak_supervision.io import json_default, write_text

__all__ = ["FORMATS", "render", "write_report", "report_table", "suggestion_dicts",
           "format_for_path"]

FORMATS = ("table", "json", "md", "html")
"""The formats :func:`render` knows."""

_SUFFIXES = {".txt": "table", ".json": "json", ".md": "md", ".markdown": "md", ".html": "html",
             ".htm": "html"}


# ----------------------------------------------------------------------------------------------
# shared formatting (also used by analysis.html_report)
# ----------------------------------------------------------------------------------------------


def fmt_num(value: Any, digits: int = 3) -> str:
    """A figure for people: ``-`` for None.

    >>> fmt_num(None), fmt_num(0.12345), fmt_num(7)
    ('-', '0.123', '7')
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_pct(value: float | None) -> str:
    """A share as a percentage (``-`` for None).

    >>> fmt_pct(0.1234)
    '12.3%'
    """
    return "-" if value is None else f"{100 * value:.1f}%"


_SHARE_KEYS = ("dev_coverage", "dev_voted_right", "pool_predicted", "recall", "precision")


def fmt_cell(key: str, value: Any) -> str:
    """A class-coverage cell: shares as percentages, counts as they are.

    >>> fmt_cell("dev_coverage", 0.5), fmt_cell("dev_rows", 3)
    ('50.0%', '3')
    """
    return fmt_pct(value) if key in _SHARE_KEYS else fmt_num(value)


def fmt_gap(s: SliceStats) -> str:
    """The gap with its interval, or why there is none.

    >>> from types import SimpleNamespace
    >>> fmt_gap(SimpleNamespace(gap=-0.1, gap_low=-0.2, gap_high=0.0, interval_note=None))
    '-0.100 [-0.200, +0.000]'
    """
    if s.gap is None:
        return "-"
    if s.gap_low is None or s.gap_high is None:
        return f"{s.gap:+.3f} (no interval)"
    return f"{s.gap:+.3f} [{s.gap_low:+.3f}, {s.gap_high:+.3f}]"


def fmt_lfs(s: SliceStats) -> str:
    """The slice's top LFs with their precision there: ``kw_a (0.91), kw_b (-)``."""
    return ", ".join(f"{t.lf} ({fmt_num(t.precision, 2)})" for t in s.top_lfs) or "-"


def fmt_score(s: SliceStats | dict[str, Any], task: str) -> str:
    """Accuracy and macro-F1 (PII: span F1) of a slice or of the overall figures."""
    get = s.get if isinstance(s, dict) else (lambda k: getattr(s, k))
    if task == "pii":
        return fmt_num(get("span_f1"))
    return f"{fmt_num(get('accuracy'))} / {fmt_num(get('macro_f1'))}"


def suggestion_dicts(suggestions: Any) -> list[dict[str, Any]]:
    """Plain dicts from LF suggestions: a ``Suggestions`` object, a list of ``Suggestion``
    objects (anything with ``to_dict()``) or of dicts, or None.

    >>> suggestion_dicts([{"name": "kw_tea", "label": "drinks"}])[0]["name"]
    'kw_tea'
    >>> suggestion_dicts(None)
    []
    """
    if suggestions is None:
        return []
    if hasattr(suggestions, "to_dict") and not isinstance(suggestions, dict):
        doc = suggestions.to_dict()
        if isinstance(doc, dict) and "suggestions" in doc:
            return [dict(d) for d in doc["suggestions"]]
        return [dict(doc)]
    if isinstance(suggestions, dict):
        return [dict(d) for d in suggestions.get("suggestions", [suggestions])]
    out = []
    for item in suggestions:
        out.append(dict(item.to_dict() if hasattr(item, "to_dict") else item))
    return out


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The format of an output file from its suffix.

    >>> format_for_path("report.html"), format_for_path("slices.md")
    ('html', 'md')
    """
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError(f"cannot tell the report format of {path}: use a suffix among "
                          f"{', '.join(_SUFFIXES)} or pass the format")
    return fmt


# ----------------------------------------------------------------------------------------------
# table
# ----------------------------------------------------------------------------------------------


def report_table(report: SliceReport, *, top: int | None = None) -> Table:
    """The ranked slices as a rich table (``top`` rows at most).

    >>> import pandas as pd
    >>> from analysis.cycle_data import cycle_data_from_frame
    >>> from analysis.slice_report import slice_report
    >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
    ...                   "end_model": [0]})
    >>> report_table(slice_report(cycle_data_from_frame(f, ("neg",)), n_boot=0)).row_count
    3
    """
    score = "span F1" if report.task == "pii" else "acc / macro-F1"
    table = Table(title=f"Slices of {report.project or '(unnamed project)'} "
                        f"({report.model}, ranked by expected gain)", title_justify="left")
    for col, justify in (("#", "right"), ("slice", "left"), ("dev", "right"),
                         ("errors", "right"), (score, "right"),
                         (f"gap in {report.metric} [95% CI]", "right"), ("gain", "right"),
                         ("coverage", "right"), ("conflict", "right"), ("pool", "right"),
                         ("top LFs (precision)", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for s in report.slices[: top if top is not None else None]:
        table.add_row(str(s.rank), s.name, str(s.n_dev),
                      f"{s.n_errors} ({fmt_pct(s.error_share)})", fmt_score(s, report.task),
                      fmt_gap(s), fmt_pct(s.expected_gain), fmt_pct(s.coverage),
                      fmt_pct(s.conflict_rate), str(s.n_pool), fmt_lfs(s))
    return table


def _table_text(report: SliceReport, *, top: int | None, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    o = report.overall
    console.print(f"Run {report.run_id or '-'}: {o['n_dev']} dev rows, {o['n_pool']} pool rows; "
                  f"overall {report.metric} {fmt_num(o.get('value'))}, "
                  f"{o['n_errors']} errors, LF coverage {fmt_pct(o.get('coverage'))}",
                  highlight=False)
    console.print(report_table(report, top=top))
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _md_table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _markdown(report: SliceReport, *, top: int | None, suggestions: list[dict[str, Any]],
              n_example_slices: int = 5) -> str:
    o = report.overall
    lines = [f"# Slice report: {report.project or '(unnamed project)'}", "",
             f"Run `{report.run_id or '-'}` (label run `{report.label_run_id or '-'}`); "
             f"model `{report.model}`; metric {report.metric}; {report.n_boot} bootstrap "
             f"resamples, seed {report.seed}; example texts "
             f"{'redacted' if report.redacted else 'NOT redacted'}.", "", "## Summary", ""]
    summary = [["dev rows", o["n_dev"]], ["pool rows", o["n_pool"]], ["errors", o["n_errors"]]]
    if report.task == "pii":
        summary.append(["span F1", fmt_num(o.get("span_f1"))])
    else:
        summary += [["accuracy", fmt_num(o.get("accuracy"))],
                    ["macro-F1", fmt_num(o.get("macro_f1"))]]
    summary += [["LF coverage (dev)", fmt_pct(o.get("coverage"))],
                ["conflict rate (dev)", fmt_pct(o.get("conflict_rate"))],
                ["coverage (pool)", fmt_pct(o.get("pool_coverage"))],
                ["confidence (pool)", fmt_num(o.get("pool_confidence"))]]
    lines += _md_table(["figure", "value"], summary)
    score = "span F1" if report.task == "pii" else "accuracy / macro-F1"
    lines += ["", "## Ranked slices", "",
              "Ranked by expected gain: the share of dev rows that would become right if the "
              "slice's error rate fell to the overall one (see docs/slices.md).", ""]
    lines += _md_table(
        ["#", "slice", "dev rows", "errors (share)", score, "gap [95% CI]", "expected gain",
         "coverage", "conflict", "pool rows", "pool coverage", "top LFs (precision)", "note"],
        ([s.rank, s.name, s.n_dev, f"{s.n_errors} ({fmt_pct(s.error_share)})",
          fmt_score(s, report.task), fmt_gap(s), fmt_pct(s.expected_gain), fmt_pct(s.coverage),
          fmt_pct(s.conflict_rate), s.n_pool, fmt_pct(s.pool_coverage), fmt_lfs(s),
          s.note or ""] for s in report.slices[: top if top is not None else None]))
    lines += ["", "## Examples", ""]
    shown = [s for s in report.slices if s.examples][:n_example_slices]
    if not shown:
        lines.append("No example rows.")
    for s in shown:
        lines += [f"### {s.rank}. {s.name}", "", s.description, ""]
        for e in s.examples:
            if report.task == "pii":
                head = f"missed {e['missed']}, spurious {e['spurious']}"
            else:
                head = f"gold {e['gold'] or '?'}, predicted {e['predicted']}"
                if e.get("confidence") is not None:
                    head += f" ({e['confidence']:.2f})"
            lines.append(f"- `{_cell(e['id'])}` {head}: {_cell(e['text'])}")
        lines.append("")
    lines += ["## Largest confusions", ""]
    lines += (_md_table(["gold", "predicted", "count", "share of errors"],
                        ([c["gold"], c["predicted"], c["count"], fmt_pct(c["share"])]
                         for c in report.confusions))
              if report.confusions else ["No errors on the dev set."])
    lines += ["", "## Coverage per class", ""]
    if report.class_coverage:
        keys = list(report.class_coverage[0])
        lines += _md_table(keys, ([fmt_cell(k, c[k]) for k in keys] for c in report.class_coverage))
    else:
        lines.append("No classes to show.")
    lines += ["", "## History", ""]
    lines += _history_md(report) or ["No earlier cycle recorded."]
    lines += ["", "## Suggestions", ""]
    if not suggestions:
        lines.append("No LF suggestions (run `labelcycle suggest`).")
    for d in suggestions:
        lines += [f"### {d.get('name', '?')} -> {d.get('label', '?')}", "",
                  f"precision {fmt_num(d.get('precision'), 2)} (95% CI "
                  f"{fmt_num(d.get('precision_low'), 2)}-{fmt_num(d.get('precision_high'), 2)}), "
                  f"pool coverage {fmt_pct(d.get('pool_coverage'))}, fixes {d.get('fixes', '-')}, "
                  f"breaks {d.get('breaks', '-')}", "", "```python",
                  *([*d.get("imports", ()), ""] if d.get("imports") else []),
                  str(d.get("code", "")).rstrip(), "```", ""]
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(lines).rstrip() + "\n"


def _history_md(report: SliceReport) -> list[str]:
    if not report.history:
        return []
    if report.task == "pii":
        return _md_table(["run", "LFs", "rows with PII", "span F1"],
                         ([h.get("run_id"), fmt_num(h.get("n_lfs")), fmt_num(h.get("rows_with_pii")),
                           fmt_num(h.get("span_f1"))] for h in report.history))
    return _md_table(
        ["run", "LFs", "coverage", "majority F1", "label model F1", "end model F1"],
        ([h.get("run_id"), fmt_num(h.get("n_lfs")), fmt_pct(h.get("coverage")),
          *[fmt_num(((h.get("dev") or {}).get(m) or {}).get("macro_f1"))
            for m in ("majority", "label_model", "end_model")]] for h in report.history))


# ----------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------


def render(report: SliceReport, fmt: str = "table", *, suggestions: Any = None,
           top: int | None = None, width: int = 160) -> str:
    """The report as text in one of :data:`FORMATS`.

    Parameters
    ----------
    report : SliceReport
    fmt : {"table", "json", "md", "html"}, default "table"
        A plain-text rich table, JSON (``report.to_dict()`` plus ``"suggestions"``), Markdown,
        or a self-contained HTML page.
    suggestions : optional
        LF suggestions to include (see :func:`suggestion_dicts`); ignored by "table".
    top : int, optional
        Show at most this many slices in the table and Markdown (JSON and HTML hold all).
    width : int, default 160
        Width of the terminal table.

    Raises
    ------
    ConfigError
        Unknown format.

    Example
    -------
    >>> import json, pandas as pd
    >>> from analysis.cycle_data import cycle_data_from_frame
    >>> from analysis.slice_report import slice_report
    >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
    ...                   "end_model": [0]})
    >>> json.loads(render(slice_report(cycle_data_from_frame(f, ("neg",)), n_boot=0), "json"))["model"]
    'end_model'
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    items = suggestion_dicts(suggestions)
    if fmt == "table":
        return _table_text(report, top=top, width=width)
    if fmt == "json":
        doc = report.to_dict()
        doc["suggestions"] = items
        return json.dumps(doc, indent=2, ensure_ascii=False, default=json_default) + "\n"
    if fmt == "md":
        return _markdown(report, top=top, suggestions=items)
    from analysis.html_report import render_html

    return render_html(report, suggestions=items)


def write_report(report: SliceReport, path: str | os.PathLike[str], fmt: str | None = None, *,
                 suggestions: Any = None, top: int | None = None) -> Path:
    """Write the report to ``path`` atomically; the format defaults to the file's suffix.

    Example
    -------
    >>> import pathlib, tempfile, pandas as pd
    >>> from analysis.cycle_data import cycle_data_from_frame
    >>> from analysis.slice_report import slice_report
    >>> f = pd.DataFrame({"id": ["a"], "text": ["x"], "split": ["dev"], "gold": [0],
    ...                   "end_model": [0]})
    >>> out = write_report(slice_report(cycle_data_from_frame(f, ("neg",)), n_boot=0),
    ...                    pathlib.Path(tempfile.mkdtemp()) / "slices.html")
    >>> out.read_text().startswith("<!DOCTYPE html>")
    True
    """
    path = Path(path)
    text = render(report, fmt or format_for_path(path), suggestions=suggestions, top=top)
    write_text(path, text)
    return path
