"""labelcycle's command line: a thin click shell over the library.

Every command takes ``--json`` (one JSON document on stdout; progress and logs on stderr). A user's
mistake exits 1 with a message, a usage error exits 2; neither prints a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from labelfns.errors import LabelcycleError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# -- shared plumbing ----------------------------------------------------------------------------
def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _stdout_console() -> Any:
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal:  # pipes and files: wide enough that tables are not cut
        console = Console(soft_wrap=False, width=160)
    return console


def handle_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into clean CLI errors (exit 1)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except LabelcycleError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON document on stdout instead of tables.")(f)


def project_argument(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("project", required=False, default=".",
                          type=click.Path(file_okay=True, dir_okay=True, path_type=Path))(f)


def apply_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--no-cache", is_flag=True, help="Recompute every LF vote (ignore the cache).")(f)
    f = click.option("--fault-tolerant", is_flag=True, default=None,
                     help="Record LF exceptions as abstains and count them, instead of stopping.")(f)
    f = click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
                     help="Processes for row-wise LFs: 0 = all cores, 1 = in-process.")(f)
    return f


def echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[tuple[Callable[[int, int], None], Callable[[str], None]]]:
    """A rich progress bar on stderr: yields ``(progress(done, total), stage(message))``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = _stderr_console()
    if not enabled or not console.is_terminal:
        yield (lambda done, total: None), (lambda msg: None)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def stage(message: str) -> None:
            bar.update(task, description=message, completed=0, total=None)

        yield progress, stage


def _load(project_path: Path) -> Any:
    from weak_supervision.project import load_project

    return load_project(project_path)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


# -- the commands ---------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="labelcycle", prog_name="labelcycle")
def main() -> None:
    """labelcycle: programmatic weak supervision from the command line.

    Write labeling functions (LFs) in Python modules, combine their votes with a Snorkel label
    model into training labels, train a local model or export a chat fine-tuning set, and see
    which LFs help. A project is a folder with a labelcycle.toml; PROJECT defaults to the
    current folder.

    \b
    Start here:
      labelcycle cycle examples/support_chats   # the bundled example: intents and PII
      labelcycle init demo                      # a starter project of your own
      labelcycle lfs demo                       # the LF table: coverage, conflicts, precision
    """


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@json_option
@handle_errors
def init(directory: Path, force: bool, as_json: bool) -> None:
    """Create a starter project in DIRECTORY: labelcycle.toml, generated data and an LF module."""
    from weak_supervision.project import init_project

    root = init_project(directory, force=force)
    files = sorted(p.name for p in Path(root).iterdir() if not p.name.startswith("."))
    if as_json:
        echo_json({"project": str(root), "files": files})
        return
    click.echo(f"Created project {root} ({', '.join(files)}).")
    click.echo(f"Next: labelcycle label {directory}")


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@apply_options
@click.option("--engine", type=click.Choice(["local", "stream", "dask"]), default=None,
              help="Where LFs run: in memory (local), in partitions read one at a time (stream), "
                   "or on a Dask cluster (dask). Default: [apply] engine.")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (tcp://host:8786); default: a local cluster.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Workers of the local Dask cluster (0 = one per core).")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=None,
              help="Rows per partition (stream and dask).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the training labels (Parquet) to this file.")
@json_option
@handle_errors
def label(project: Path, no_cache: bool, fault_tolerant: bool | None, jobs: int | None,
          out: Path | None, engine: str | None, scheduler: str | None, workers: int | None,
          chunk_rows: int | None, as_json: bool) -> None:
    """Apply the LFs, fit the label model, and write probabilistic training labels.

    Writes .labelcycle/runs/<run>/labels.parquet (id, one probability column per class, label,
    confidence, covered) and records the run with its figures in the workspace registry.
    --engine stream reads the data in partitions (data larger than memory); --engine dask runs
    the partitions on a dask.distributed cluster (--scheduler ADDRESS, or a local one). Both
    write one labels file per partition and fit the label model from vote statistics.
    """
    from weak_supervision.config import load_config
    from weak_supervision.pipeline import label_project

    config = load_config(project)
    chosen = engine or config.apply.engine
    if chosen != "local" and config.project.task != "pii":
        _label_scaled(project, chosen, scheduler=scheduler, workers=workers,
                      chunk_rows=chunk_rows, no_cache=no_cache, fault_tolerant=fault_tolerant,
                      out=out, as_json=as_json)
        return
    if scheduler is not None or workers is not None or chunk_rows is not None:
        raise click.UsageError("--scheduler, --workers and --chunk-rows need --engine stream or dask")
    proj = _load(project)
    if proj.config.project.task == "pii":  # the labeling job of a PII project is its span job
        click.get_current_context().invoke(pii_label, project=project, no_cache=no_cache, out=out,
                                           as_json=as_json)
        return
    with progress_bar(not as_json) as (progress, stage):
        run = label_project(proj, use_cache=not no_cache, n_jobs=jobs, fault_tolerant=fault_tolerant,
                            progress=progress, stage=stage, out=out)
    err = _stderr_console()
    for message in run.warnings:
        err.print(f"[yellow]warning:[/] {message}", highlight=False)
    if as_json:
        echo_json(run.to_dict())
        return
    _print_label_run(proj, run)


def _label_scaled(project: Path, engine: str, *, scheduler: str | None, workers: int | None,
                  chunk_rows: int | None, no_cache: bool, fault_tolerant: bool | None,
                  out: Path | None, as_json: bool) -> None:
    from weak_supervision.scaled import label_project_scaled

    if out is not None:
        raise click.UsageError(f"--out is not available with --engine {engine}: the labels are "
                               "one file per partition in the run folder")
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    with progress_bar(not as_json) as (progress, stage):
        run = label_project_scaled(project, engine=engine, scheduler=scheduler, n_workers=workers,
                                   chunk_rows=chunk_rows, use_cache=not no_cache,
                                   fault_tolerant=fault_tolerant, progress=progress, stage=stage)
    for message in run.warnings:
        _stderr_console().print(f"[yellow]warning:[/] {message}", highlight=False)
    if as_json:
        echo_json(run.to_dict())
        return
    fig = run.figures
    con = _stdout_console()
    con.print(f"label run {run.run_id} ({engine}): {run.n_rows:,} rows in {run.n_partitions} "
              f"partitions, labels from {fig.get('label_source', '-')}, coverage "
              f"{_fmt(fig.get('coverage'))}", highlight=False)
    for key in ("dev_majority", "dev_label_model"):
        if isinstance(fig.get(key), dict):
            d = fig[key]
            con.print(f"  {key[4:]}: accuracy {_fmt(d.get('accuracy'))}, macro-F1 "
                      f"{_fmt(d.get('macro_f1'))} on the dev set", highlight=False)
    con.print(f"labels: {run.paths.get('labels')}", highlight=False)


def _print_label_run(proj: Any, run: Any) -> None:
    from rich.table import Table

    con = _stdout_console()
    f = run.figures
    con.print(f"[bold]{proj.name}[/]: {f['n_rows']:,} rows, {f['n_lfs']} LFs, "
              f"coverage {f['coverage']:.1%}, conflicts {f['conflict_rate']:.1%}", highlight=False)
    faults = f.get("faults") or {}
    if faults:
        con.print("LF faults (recorded as abstain): " +
                  ", ".join(f"{k}: {v}" for k, v in faults.items()), highlight=False)
    table = Table(title="Label models on the dev set", title_justify="left")
    for col in ("model", "accuracy", "macro-F1", "dev rows", "chosen"):
        table.add_column(col)
    for name, key in (("majority vote", "dev_majority"), ("Snorkel label model", "dev_label_model")):
        s = f.get(key)
        chosen = "yes" if key.endswith(run.choice.chosen) else ""
        if s:
            table.add_row(name, _fmt(s.get("accuracy")), _fmt(s.get("macro_f1")), _fmt(s.get("n")), chosen)
        else:
            table.add_row(name, "-", "-", "-", chosen)
    con.print(table)
    con.print(f"Training labels from: {run.choice.chosen} ({run.choice.reason})", highlight=False)
    con.print(f"Wrote {run.paths['labels']}" + (f" and {run.paths['out']}" if "out" in run.paths else ""),
              highlight=False)
    con.print(f"Run {run.run_id}; LF table: labelcycle lfs {proj.root}", highlight=False)


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@apply_options
@click.option("--sort", type=click.Choice(["order", "coverage", "precision", "conflicts"]),
              default="order", show_default=True, help="Row order of the table.")
@json_option
@handle_errors
def lfs(project: Path, no_cache: bool, fault_tolerant: bool | None, jobs: int | None, sort: str,
        as_json: bool) -> None:
    """The LF table: polarity, coverage, overlaps, conflicts, and on the dev set precision with a
    Wilson 95% interval beside the label model's learned accuracy, plus flags."""
    from weak_supervision.pipeline import analyze_lfs

    proj = _load(project)
    with progress_bar(not as_json) as (progress, _stage):
        summary, _matrix, _choice = analyze_lfs(proj, use_cache=not no_cache, n_jobs=jobs,
                                                fault_tolerant=fault_tolerant, progress=progress)
    frame = summary.to_frame()
    if sort != "order" and sort in frame.columns:
        frame = frame.sort_values(sort, ascending=False, na_position="last")
    if as_json:
        echo_json({"project": proj.name, "lfs": summary.to_dict()})
        return
    _print_lf_table(frame)


def _print_lf_table(frame: Any) -> None:
    from rich.table import Table

    def num(v: Any, digits: int = 2) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)

    has_dev = "precision" in frame.columns
    table = Table(title="Labeling functions", title_justify="left")
    table.add_column("LF", no_wrap=True)
    table.add_column("polarity")
    for col in ("coverage", "overlaps", "conflicts"):
        table.add_column(col, justify="right")
    if has_dev:
        table.add_column("dev correct/incorrect", justify="right")
        table.add_column("precision [95% CI]", justify="right", no_wrap=True)
    if "learned_accuracy" in frame.columns:
        table.add_column("learned acc.", justify="right")
    table.add_column("flags")
    for name, row in frame.iterrows():
        polarity = row.get("polarity")
        cells = [str(name), ", ".join(map(str, polarity)) if isinstance(polarity, (list, tuple)) else
                 str(polarity), num(row["coverage"], 3), num(row["overlaps"], 3), num(row["conflicts"], 3)]
        if has_dev:
            cells.append(f"{row.get('correct', 0)}/{row.get('incorrect', 0)}")
            p = row.get("precision")
            cells.append("-" if p is None or p != p else
                         f"{p:.2f} [{row['precision_low']:.2f}, {row['precision_high']:.2f}]")
        if "learned_accuracy" in frame.columns:
            cells.append(num(row["learned_accuracy"]))
        flags = row.get("flags")
        cells.append(", ".join(flags) if isinstance(flags, (list, tuple)) else (flags or ""))
        table.add_row(*cells)
    _stdout_console().print(table)


# -- labelcycle pii ------------------------------------------------------------------------------
def _say(message: str) -> None:
    click.echo(message, err=True)


def _warnings_to_stderr(caught: list[Any]) -> None:
    for w in caught:
        _say(f"warning: {w.message}")


def scan_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--label-model", "label_model", default="auto", show_default=True,
                     type=click.Choice(["auto", "label_model", "majority"]),
                     help="How token votes are combined (auto: the label model; majority vote "
                          "when it cannot be fitted).")(f)
    f = click.option("--phone-region", "phone_regions", multiple=True, default=("US",),
                     show_default=True, help="Region of phone numbers without a country code "
                                             "(repeat for several).")(f)
    f = click.option("--no-ner", is_flag=True, help="Skip spaCy NER (regex and name rules only).")(f)
    f = click.option("--lfs", "lf_files", multiple=True,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A .py file of extra span LFs (@span_lf); repeat for several.")(f)
    f = click.option("--id-col", "id_col", default=None,
                     help="Column of row ids (default: the row index, from 0).")(f)
    f = click.option("--text-col", "text_col", required=True, help="Column holding the text.")(f)
    return f


def _scan(file: Path, text_col: str, id_col: str | None, lf_files: tuple[Path, ...],
          no_ner: bool, phone_regions: tuple[str, ...], label_model: str) -> Any:
    import warnings

    from weak_supervision.pii_pipeline import scan_file

    _say(f"scanning {file} (column {text_col!r}){' without NER' if no_ner else ''}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = scan_file(file, text_column=text_col, id_column=id_col, modules=list(lf_files),
                           ner=not no_ner, phone_region=list(phone_regions), prefer=label_model,
                           progress=lambda done, total: _say(f"  span LFs {done}/{total}"))
    _warnings_to_stderr([w for w in caught if issubclass(w.category, UserWarning)])
    return result


def _print_span_counts(title: str, counts: dict[str, int], n_rows: int, rows_with_pii: int) -> None:
    from rich.table import Table

    table = Table(title=f"{title}: {rows_with_pii:,} of {n_rows:,} rows hold PII",
                  title_justify="left")
    table.add_column("type")
    table.add_column("spans", justify="right")
    for label, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        table.add_row(label, f"{n:,}")
    _stdout_console().print(table)


@main.group(context_settings=CONTEXT_SETTINGS)
def pii() -> None:
    """Find, redact and score PII spans (names, emails, phones, cards, ids, ...).

    Span LFs (built-in detectors, spaCy NER, your own @span_lf functions) vote on tokens; the
    label model combines them into spans with a confidence. Every subcommand takes --json.

    \b
      labelcycle pii scan chats.csv --text-col text --out spans.jsonl
      labelcycle pii redact chats.csv --text-col text --out redacted.csv --mapping map.jsonl
      labelcycle pii eval spans.jsonl gold.jsonl
      labelcycle pii label PROJECT     # the project's [pii] job
    """


@pii.command("scan", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@scan_options
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output JSON Lines file: one line per input row.")
@json_option
@handle_errors
def pii_scan(file: Path, text_col: str, id_col: str | None, lf_files: tuple[Path, ...],
             no_ner: bool, phone_regions: tuple[str, ...], label_model: str, out: Path,
             as_json: bool) -> None:
    """Find PII spans in FILE (CSV, JSON Lines or Parquet).

    Writes one JSON line per input row to --out: {"id": <id column or row index>, "spans":
    [{"start", "end", "label", "confidence"}]}, character offsets, end exclusive.
    """
    from weak_supervision.pii_pipeline import write_spans_jsonl

    result = _scan(file, text_col, id_col, lf_files, no_ner, phone_regions, label_model)
    write_spans_jsonl(out, result.aggregation.documents)
    _say(f"wrote {out}")
    summary = result.to_dict()
    if as_json:
        echo_json({"file": str(file), "out": str(out), **summary})
        return
    _print_span_counts("PII spans", summary["spans_per_label"], summary["n_rows"],
                       summary["rows_with_pii"])


@pii.command("redact", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@scan_options
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output table (.csv, .jsonl or .parquet): the input plus <text-col>_redacted.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Side file (JSON Lines) for the replacement -> original values mapping.")
@click.option("--surrogates", is_flag=True,
              help="Realistic fake values (Faker, seeded) instead of [TYPE_n] placeholders.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the surrogates.")
@json_option
@handle_errors
def pii_redact(file: Path, text_col: str, id_col: str | None, lf_files: tuple[Path, ...],
               no_ner: bool, phone_regions: tuple[str, ...], label_model: str, out: Path,
               mapping: Path | None, surrogates: bool, seed: int, as_json: bool) -> None:
    """Redact PII in FILE's text column: each value becomes [PERSON_1], [EMAIL_1], ... (the same
    value gets the same placeholder within a row), or a surrogate with --surrogates.

    The mapping from replacements to original values goes only to the --mapping side file.
    """
    from weak_supervision.pii_pipeline import redact_scan, write_table
    from weak_supervision.redaction import write_mapping

    if out.resolve() == file.resolve() or (mapping is not None and mapping.resolve() in
                                           (file.resolve(), out.resolve())):
        raise click.ClickException("--out and --mapping must be new files, not the input file "
                                   "(or each other)")
    result = _scan(file, text_col, id_col, lf_files, no_ner, phone_regions, label_model)
    frame, docs = redact_scan(result, text_column=text_col,
                              mode="surrogate" if surrogates else "placeholder", seed=seed)
    write_table(out, frame)
    _say(f"wrote {out}")
    if mapping is not None:
        n = write_mapping(mapping, docs)
        _say(f"wrote the mapping ({n:,} lines) to {mapping}; it holds the original PII")
    counts: dict[str, int] = {}
    for doc in docs:
        for label, n in doc.counts().items():
            counts[label] = counts.get(label, 0) + n
    summary = result.to_dict()
    if as_json:
        echo_json({"file": str(file), "out": str(out), "mapping": str(mapping) if mapping else None,
                   "column": f"{text_col}_redacted", "replacements": counts, **summary})
        return
    _print_span_counts("Replacements", counts, summary["n_rows"], summary["rows_with_pii"])


@pii.command("eval", context_settings=CONTEXT_SETTINGS)
@click.argument("pred", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("gold", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@handle_errors
def pii_eval(pred: Path, gold: Path, as_json: bool) -> None:
    """Score predicted spans (PRED, as written by `pii scan`) against GOLD spans (JSON Lines
    {"id", "text", "spans": [{"start", "end", "label"}]}): precision, recall, F1 and F2 per type
    and overall (micro), with exact and with overlap matching."""
    import warnings

    from weak_supervision.span_metrics import evaluate_files

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = evaluate_files(pred, gold)
    _warnings_to_stderr(caught)
    if as_json:
        echo_json(scores.to_dict())
        return
    _print_span_scores(scores, f"{pred} vs {gold} ({scores.n_docs:,} documents)")


def _print_span_scores(scores: Any, title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("type")
    for mode in ("exact", "overlap"):
        for col in ("P", "R", "F1", "F2"):
            table.add_column(f"{mode} {col}", justify="right")
    table.add_column("gold", justify="right")
    rows = [r.label for r in scores.exact.per_type] + ["ALL"]
    for label in rows:
        e, o = scores.exact[label], scores.overlap[label]
        cells = [f"{getattr(m, k):.3f}" for m in (e, o) for k in ("precision", "recall", "f1", "f2")]
        table.add_row("ALL (micro)" if label == "ALL" else label, *cells, f"{e.support:,}")
    _stdout_console().print(table)


@pii.command("label", context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--no-cache", is_flag=True, help="Re-run every span LF (ignore the span cache).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the spans (JSON Lines) to this file.")
@json_option
@handle_errors
def pii_label(project: Path, no_cache: bool, out: Path | None, as_json: bool) -> None:
    """Run the project's PII job ([pii] section or task = "pii"): find spans, score them against
    the gold spans, redact, and record the run.

    Writes .labelcycle/runs/<run>/spans.jsonl, redacted.jsonl, redaction_map.jsonl (the side
    file with the original values) and summary.json.
    """
    from weak_supervision.config import ensure_data, load_config
    from weak_supervision.pii_pipeline import pii_label_project

    generated = ensure_data(load_config(project))
    if generated is not None:
        _say(f"generated the data file {generated}")
    proj = _load(project)
    with progress_bar(not as_json) as (progress, stage):
        run = pii_label_project(proj, use_cache=not no_cache, progress=progress,
                                stage=lambda msg: (stage(msg), _say(msg)), out=out)
    for message in run.warnings:
        _say(f"warning: {message}")
    if as_json:
        echo_json(run.to_dict())
        return
    f = run.figures
    _print_span_counts(f"{proj.name}: PII spans", f["spans_per_label"], f["n_rows"],
                       f["rows_with_pii"])
    _stdout_console().print(f"Token labels from: {run.aggregation.choice.chosen} "
                            f"({run.aggregation.choice.reason})", highlight=False)
    if run.scores is not None:
        rows = "held-out gold rows" if f.get("eval_rows") == "held_out" else "gold rows (also dev)"
        _print_span_scores(run.scores, f"Scores on {f['n_eval']:,} {rows}")
    _stdout_console().print(f"Wrote {run.paths['spans']}, {run.paths['redacted'].name} and the "
                            f"mapping side file {run.paths['mapping'].name}; run {run.run_id}",
                            highlight=False)


# -- cycles ---------------------------------------------------------------------------------------
@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--label-run", default=None, help="Train on this label run (default: the latest).")
@json_option
@handle_errors
def train(project: Path, label_run: str | None, as_json: bool) -> None:
    """Train the local end model ([train]: TF-IDF or embeddings + logistic regression) on the
    training labels, never on the dev rows, and save it in the run folder."""
    from weak_supervision.cycle import train_project

    proj = _load(project)
    with progress_bar(not as_json) as (_progress, stage):
        run = train_project(proj, label_run_id=label_run, stage=stage)
    if as_json:
        echo_json(run.to_dict())
        return
    con = _stdout_console()
    con.print(f"Trained run {run.run_id} on label run {run.label_run_id}", highlight=False)
    for key, value in run.figures.items():
        if not isinstance(value, (dict, list)):
            con.print(f"  {key}: {_fmt(value)}", highlight=False)


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A labelled CSV/JSONL/Parquet file (default: the dev set).")
@click.option("--label-col", default=None, help="Its gold label column (default: the project's).")
@click.option("--model-run", default=None, help="The train run whose model to use (default: latest).")
@json_option
@handle_errors
def evaluate(project: Path, data: Path | None, label_col: str | None, model_run: str | None,
             as_json: bool) -> None:
    """Score the end model: accuracy, macro-F1 (over the classes present), a per-class table and
    the most frequent confusions."""
    from weak_supervision.cycle import evaluate_project

    proj = _load(project)
    result = evaluate_project(proj, data=data, label_col=label_col, model_run_id=model_run)
    if as_json:
        echo_json(result.to_dict())
        return
    _print_eval(result)


def _print_eval(result: Any) -> None:
    from rich.table import Table

    con = _stdout_console()
    con.print(f"{result.model} on {result.source}: {result.n} rows, accuracy {result.accuracy:.3f}, "
              f"macro-F1 {result.macro_f1:.3f}", highlight=False)
    table = Table(title="Per class", title_justify="left")
    for col in ("label", "precision", "recall", "f1", "support"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for c in result.to_dict()["per_class"]:
        table.add_row(str(c.get("label")), _fmt(c.get("precision")), _fmt(c.get("recall")),
                      _fmt(c.get("f1")), _fmt(c.get("support")))
    con.print(table)
    pairs = result.to_dict()["confusions"][:5]
    if pairs:
        con.print("Most frequent confusions: " + "; ".join(
            f"{p.get('gold')} -> {p.get('predicted')} ({p.get('count')})" for p in pairs), highlight=False)


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--no-cache", is_flag=True, help="Recompute every LF vote (ignore the cache).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="Processes for row-wise LFs: 0 = all cores, 1 = in-process.")
@json_option
@handle_errors
def cycle(project: Path, no_cache: bool, jobs: int | None, as_json: bool) -> None:
    """One label-then-train cycle: apply the LFs, fit and pick the label model, train the end
    model, score all three on the dev set, record the run and say what changed since the last
    cycle. With a [pii] section, the project's PII job runs too (spans, scores, redaction)."""
    from weak_supervision.cycle import run_cycle

    proj = _load(project)
    if proj.config.project.task == "pii":  # a PII project's cycle is its span job
        click.get_current_context().invoke(pii_label, project=project, no_cache=no_cache, out=None,
                                           as_json=as_json)
        return
    pii_run = None
    with progress_bar(not as_json) as (_progress, stage):
        result = run_cycle(proj, use_cache=not no_cache, n_jobs=jobs, stage=stage)
        if proj.config.pii.enabled:
            from weak_supervision.pii_pipeline import pii_label_project

            pii_run = pii_label_project(proj, use_cache=not no_cache, stage=stage)
        top_slices, suggestions = _cycle_analysis(proj, result.run_id, stage)
    if as_json:
        doc = result.to_dict()
        doc["pii"] = pii_run.to_dict() if pii_run is not None else None
        doc["top_slices"] = [s.to_dict() for s in top_slices]
        doc["suggestions"] = suggestions.to_dict()["suggestions"] if suggestions is not None else []
        echo_json(doc)
        return
    _print_cycle(proj, result, pii_run)
    _print_cycle_analysis(top_slices, suggestions)


def _cycle_analysis(proj: Any, run_id: str, stage: Callable[[str], None]) -> tuple[list[Any], Any]:
    """The top three slices and LF suggestions of a cycle, for its closing summary."""
    from analysis.cycle_data import load_cycle_data
    from analysis.slice_report import slice_report
    from analysis.suggest import suggest_for_project

    stage("ranking slices and suggesting LFs")
    report = slice_report(load_cycle_data(proj, run_id), n_boot=200, n_examples=0)
    # keyword, phrase and regex candidates only: embedding neighbours are `labelcycle suggest`'s
    suggestions = suggest_for_project(proj, run_id=run_id, top_k=3,
                                      kinds=("keyword", "phrase", "regex"))
    return list(report.top(3)), suggestions


def _print_cycle_analysis(top_slices: list[Any], suggestions: Any) -> None:
    con = _stdout_console()
    if top_slices:
        con.print("Slices to work on (labelcycle slices):", highlight=False)
        for s in top_slices:
            gap = "" if s.gap is None else f", gap {s.gap:+.3f}"
            con.print(f"  {s.name}: {s.n_dev} dev rows, {s.n_errors} errors{gap}", highlight=False)
    if suggestions is not None and len(suggestions):
        con.print("Suggested LFs (labelcycle suggest --write FILE):", highlight=False)
        for s in suggestions:
            con.print(f"  {s.name} -> {s.label}: dev precision {s.precision:.2f} "
                      f"[{s.precision_low:.2f}, {s.precision_high:.2f}], fixes "
                      f"{_fmt(getattr(s, 'fixes', None))}, breaks {_fmt(getattr(s, 'breaks', None))}",
                      highlight=False)


def _print_cycle(proj: Any, result: Any, pii_run: Any) -> None:
    from rich.table import Table

    con = _stdout_console()
    fig = result.label_run.figures
    con.print(f"[bold]{proj.name}[/] cycle {result.run_id}: {fig['n_rows']:,} rows, {fig['n_lfs']} LFs, "
              f"coverage {fig['coverage']:.1%}", highlight=False)
    table = Table(title="Dev set", title_justify="left")
    for col in ("model", "accuracy", "macro-F1", "coverage"):
        table.add_column(col, justify="left" if col == "model" else "right")
    names = {"majority": "majority vote", "label_model": "Snorkel label model", "end_model": "end model"}
    for split, models in result.evaluations.items():
        for key, ev in models.items():
            label = names.get(key, key) + ("" if split == "dev" else f" ({split})")
            table.add_row(label, _fmt(ev.accuracy), _fmt(ev.macro_f1), _fmt(ev.coverage))
    con.print(table)
    diff = result.diff
    if diff is not None:
        changes = [f"{len(diff.lfs_added)} LFs added", f"{len(diff.lfs_removed)} removed",
                   f"{len(diff.lfs_edited)} edited"]
        con.print("Since the last cycle: " + ", ".join(changes), highlight=False)
        for m in diff.metrics:
            if m.delta:
                con.print(f"  {m.name}: {_fmt(m.before)} -> {_fmt(m.after)} ({m.delta:+.3f})",
                          highlight=False)
    if pii_run is not None:
        doc = pii_run.to_dict()
        scores = (doc.get("figures") or {}).get("scores") or doc.get("scores") or {}
        micro = (scores.get("exact") or {}).get("micro")
        line = f"PII job (run {doc.get('run_id')}): "
        if micro:
            line += (f"span P {micro['precision']:.3f}, R {micro['recall']:.3f}, F1 {micro['f1']:.3f} "
                     f"(exact match, {scores.get('n_docs')} chats with gold spans); ")
        files = doc.get("files") or {}
        line += f"redacted text in {files.get('redacted', 'the run folder')}"
        con.print(line, highlight=False)


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@json_option
@handle_errors
def history(project: Path, as_json: bool) -> None:
    """One row per cycle: LF count, coverage, label source, the dev figures of each model and the
    slices whose dev accuracy moved most since the cycle before; then the chat models evaluated
    on the project (zero-shot, fine-tuned) beside them."""
    from rich.table import Table

    from analysis.history import slice_history
    from weak_supervision.cycle import history as cycle_history

    proj = _load(project)
    rows = cycle_history(proj)
    slices = {c.run_id: c for c in slice_history(proj, run_ids=[r.run_id for r in rows])}
    chats = _chat_runs(proj)
    if as_json:
        cycles = []
        for r in rows:
            doc = r.to_dict()
            doc["slices"] = slices[r.run_id].to_dict() if r.run_id in slices else None
            cycles.append(doc)
        echo_json({"cycles": cycles, "chat_models": chats})
        return
    table = Table(title="Cycles", title_justify="left")
    for col in ("run", "LFs", "coverage", "labels from", "majority F1", "label model F1",
                "end model F1", "LF changes", "slices that moved most (dev accuracy)"):
        table.add_column(col)
    for r in rows:
        d = r.to_dict()
        dev = d["dev"]
        moved = slices[r.run_id].largest_changes(3) if r.run_id in slices else []
        table.add_row(d["run_id"], _fmt(d["n_lfs"]), _fmt(d["coverage"]), _fmt(d["label_source"]),
                      *[_fmt((dev.get(m) or {}).get("macro_f1"))
                        for m in ("majority", "label_model", "end_model")],
                      f"+{len(d['lfs_added'])} -{len(d['lfs_removed'])} ~{len(d['lfs_edited'])}",
                      ", ".join(f"{name} {delta:+.3f}" for name, delta in moved) or "-")
    _stdout_console().print(table)
    if chats:
        chat_table = Table(title="Chat models (labelcycle finetune evaluate)", title_justify="left")
        for col in ("run", "model", "task", "prompt", "rows", "accuracy", "macro-F1", "invalid",
                    "PII leak rate"):
            chat_table.add_column(col)
        for c in chats:
            chat_table.add_row(c["run_id"], str(c["model"]), c["task"], str(c.get("prompt") or "-"),
                               _fmt(c.get("n")), _fmt(c.get("accuracy")), _fmt(c.get("macro_f1")),
                               _fmt(c.get("invalid_rate")), _fmt(c.get("pii_leak_rate")))
        _stdout_console().print(chat_table)


def _chat_runs(proj: Any) -> list[dict[str, Any]]:
    """The project's chat-model evaluations, oldest first, beside the cycles in history."""
    from weak_supervision.pipeline import registry_for

    out = []
    for run in reversed(registry_for(proj).list_runs("chat_eval")):
        if run.status != "ok":
            continue
        out.append({"run_id": run.id, "model": run.inputs.get("model"),
                    "task": run.inputs.get("task", "classification"),
                    "prompt": run.inputs.get("prompt"), **{k: v for k, v in run.figures.items()
                                                           if k != "model"}})
    return out


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("run_a")
@click.argument("run_b")
@click.option("--project", "-p", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The project.")
@json_option
@handle_errors
def diff(run_a: str, run_b: str, project: Path, as_json: bool) -> None:
    """What changed between two cycles: LFs added, removed and edited, and every figure."""
    from weak_supervision.cycle import diff_runs

    result = diff_runs(_load(project), run_a, run_b)
    if as_json:
        echo_json(result.to_dict())
        return
    con = _stdout_console()
    d = result.to_dict()
    for key in ("lfs_added", "lfs_removed", "lfs_edited"):
        con.print(f"{key.replace('_', ' ')}: {', '.join(d[key]) or '-'}", highlight=False)
    for name, m in d["metrics"].items():
        con.print(f"{name}: {_fmt(m['before'])} -> {_fmt(m['after'])}", highlight=False)


# -- slices and suggestions -----------------------------------------------------------------------
def slice_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `slices` and `suggest`: which cycle, which model, extra slices."""
    f = click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the bootstrap (and of suggestion sampling).")(f)
    f = click.option("--predictions", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Score another model's predictions (CSV/JSONL/Parquet: id, prediction"
                          "[, valid, answer]), e.g. a chat model's.")(f)
    f = click.option("--chat-run", default=None,
                     help="Score a chat model's dev answers from this `finetune evaluate` run "
                          "(or 'latest'); invalid answers become a slice.")(f)
    f = click.option("--model", "model", type=click.Choice(["end_model", "label_model", "majority"]),
                     default=None, help="The model whose errors to slice (default: the end model).")(f)
    f = click.option("--slices", "slice_files", multiple=True,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="A module of @slicing_function slices (repeatable); those in the LF "
                          "modules are used too.")(f)
    f = click.option("--run", "run_id", default=None,
                     help="The cycle run (PII projects: the pii run); default the latest.")(f)
    return f


def _chat_predictions(proj: Any, chat_run: str) -> Path:
    """The predictions file of a chat_eval run (``latest``: the newest one that has one)."""
    from weak_supervision.pipeline import registry_for

    runs = [r for r in registry_for(proj).list_runs("chat_eval") if r.status == "ok"
            and (chat_run == "latest" or r.id == chat_run)]
    for run in runs:
        path = (run.figures or {}).get("predictions")
        if path and Path(path).is_file():
            return Path(path)
    what = "no chat evaluation" if chat_run == "latest" else f"chat evaluation run {chat_run!r}"
    raise LabelcycleError(f"{what} of the dev set with saved answers in this project; run "
                          "`labelcycle finetune evaluate --model M` (without --data/--limit) first")


def _slice_report(proj: Any, run_id: str | None, slice_files: tuple[Path, ...],
                  predictions: Path | None, model: str | None, seed: int,
                  chat_run: str | None = None, **kw: Any) -> Any:
    from analysis.slice_report import build_report

    if chat_run is not None:
        if predictions is not None:
            raise click.UsageError("give --predictions or --chat-run, not both")
        predictions = _chat_predictions(proj, chat_run)
    return build_report(proj, run_id=run_id, slice_modules=[str(p) for p in slice_files],
                        predictions=predictions, model=model, seed=seed, **kw)


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@slice_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md", "html"]), default=None,
              help="Output format (default: table on the terminal; with --out, from its suffix).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file (written whole, then renamed).")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Show the top N slices only.")
@click.option("--examples", type=click.IntRange(min=0), default=3, show_default=True,
              help="Example rows per slice.")
@click.option("--no-redact", is_flag=True, help="Show example rows without redacting PII.")
@click.option("--boot", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples for the 95%% intervals (0: no intervals).")
@json_option
@handle_errors
def slices(project: Path, run_id: str | None, slice_files: tuple[Path, ...],
           predictions: Path | None, model: str | None, chat_run: str | None, seed: int,
           fmt: str | None,
           out: Path | None, top: int | None, examples: int, no_redact: bool, boot: int,
           as_json: bool) -> None:
    """Where the model is wrong: built-in and your slices, ranked by expected gain, with the gap
    to overall (bootstrap 95% interval), coverage, conflicts, top LFs and examples. The HTML
    report (--format html) also holds plots, the cycle history and LF suggestions."""
    from analysis.render import render, report_table, write_report

    proj = _load(project)
    report = _slice_report(proj, run_id, slice_files, predictions, model, seed, chat_run,
                           n_boot=boot, n_examples=examples, redact=not no_redact)
    if as_json:
        fmt = "json"
    suggestions = _html_suggestions(proj, report, run_id, seed) if (
        fmt == "html" or (out is not None and fmt is None and out.suffix in (".html", ".htm"))) else None
    if out is not None:
        path = write_report(report, out, fmt, suggestions=suggestions, top=top)
        if as_json:
            echo_json({"report": str(path), **report.to_dict()})
        else:
            _say(f"wrote {path}")
        return
    if fmt in (None, "table"):
        con = _stdout_console()
        con.print(report_table(report, top=top))
        for note in report.notes:
            _say(note)
        return
    click.echo(render(report, fmt, suggestions=suggestions, top=top))


def _html_suggestions(proj: Any, report: Any, run_id: str | None, seed: int) -> Any:
    """LF suggestions for the HTML report; none (with a note on stderr) when they cannot be made."""
    try:
        from analysis.suggest import suggest_for_project
    except ImportError:
        return None
    try:
        return suggest_for_project(proj, run_id=run_id, seed=seed,
                                   redact=bool(getattr(report, "redacted", True)))
    except LabelcycleError as exc:
        _say(f"no LF suggestions in the report: {exc}")
        return None


@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--run", "run_id", default=None,
              help="The cycle run (PII projects: the pii run); default the latest.")
@click.option("--slice", "slice_name", default=None,
              help="Focus on the errors of this slice (a name from `labelcycle slices`).")
@click.option("--slices", "slice_files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A module of @slicing_function slices, for --slice (repeatable).")
@click.option("--top", "top_k", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many candidates to show (and write).")
@click.option("--min-precision", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Leave out candidates whose dev precision is lower.")
@click.option("--accept", "accepted", multiple=True,
              help="With --write: write only these candidates (by name; repeatable). "
                   "Default: every candidate shown.")
@click.option("--write", "write_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the candidates as an LF module you can read and edit.")
@click.option("--append", is_flag=True, help="With --write: add to an existing module.")
@click.option("--model", "model", type=click.Choice(["label_model", "end_model", "majority"]),
              default="label_model", show_default=True,
              help="Whose dev errors to mine: the label model's are the rows a new LF can fix.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the suggestions.")
@click.option("--no-redact", is_flag=True,
              help="Show the evidence rows of the candidates without redacting PII.")
@json_option
@handle_errors
def suggest(project: Path, run_id: str | None, slice_name: str | None,
            slice_files: tuple[Path, ...], top_k: int, min_precision: float,
            accepted: tuple[str, ...], write_path: Path | None, append: bool, model: str,
            seed: int, no_redact: bool, as_json: bool) -> None:
    """Candidate LFs for the errors of the latest cycle (or of one slice): keywords, phrases and
    regexes with high lift toward the right class, embedding neighbours when that extra is
    installed, token patterns around missed spans for PII. Each shows its dev precision with a
    95% interval, pool coverage, and the dev errors it would fix and correct rows it would
    break. --write FILE saves them as a normal LF module; add it to [lfs] modules to use it."""
    from analysis.suggest import suggest_for_project, write_lf_module

    proj = _load(project)
    mask = None
    if slice_name is not None:
        from analysis.slice_report import find_slice

        mask = find_slice(proj, slice_name, run_id=run_id,
                          slice_modules=[str(p) for p in slice_files]).mask
    found = suggest_for_project(proj, run_id=run_id, top_k=top_k, slice_mask=mask, model=model,
                                min_precision=min_precision, seed=seed, redact=not no_redact)
    chosen = list(found)
    if accepted:
        names = {s.name for s in chosen}
        unknown = [a for a in accepted if a not in names]
        if unknown:
            raise LabelcycleError(f"no candidate called {', '.join(map(repr, unknown))}; "
                                  f"candidates: {', '.join(sorted(names)) or '(none)'}")
        chosen = [s for s in chosen if s.name in set(accepted)]
    written = None
    if write_path is not None:
        if not chosen:
            raise LabelcycleError("no candidate LF to write (try a lower --min-precision or "
                                  "another --slice)")
        written = write_lf_module(chosen, write_path, append=append)
    if as_json:
        doc = found.to_dict()
        doc["written"] = str(written) if written is not None else None
        doc["written_lfs"] = [s.name for s in chosen] if written is not None else []
        echo_json(doc)
        return
    _print_suggestions(found, title=f"LF suggestions for {proj.name}"
                       + (f" (slice {slice_name})" if slice_name else ""))
    if written is not None:
        _say(f"wrote {len(chosen)} LFs to {written}; add it to [lfs] modules in labelcycle.toml "
             "and run `labelcycle cycle`")


def _print_suggestions(found: Any, *, title: str, top: int | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("name", "votes", "kind", "pattern", "dev precision [95% CI]", "fixes", "breaks",
                "pool coverage"):
        table.add_column(col, justify="right" if col in ("fixes", "breaks") else "left")
    for s in list(found)[:top]:
        # span suggestions (PII) fix missed spans (new true positives) and break nothing counted
        fixes = getattr(s, "fixes", getattr(s, "new_tp", None))
        table.add_row(s.name, str(s.label), s.kind, str(s.pattern)[:60],
                      f"{s.precision:.2f} [{s.precision_low:.2f}, {s.precision_high:.2f}]",
                      _fmt(fixes), _fmt(getattr(s, "breaks", None)), f"{s.pool_coverage:.1%}")
    _stdout_console().print(table)
    for kind, why in (getattr(found, "skipped", None) or {}).items():
        _say(f"{kind} candidates not tried: {why}")


# -- export ---------------------------------------------------------------------------------------
@main.command(context_settings=CONTEXT_SETTINGS)
@project_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for train.jsonl, validation.jsonl and sidecar.jsonl.")
@click.option("--run", "run_id", default=None, help="The label run to export (default: the latest).")
@click.option("--model", "-m", default="gpt-4o-mini-2024-07-18", show_default=True,
              help="The model the files are checked for (token limits).")
@click.option("--allow-pii", is_flag=True, help="Export even if a PII-free task's answers hold PII.")
@json_option
@handle_errors
def export(project: Path, out_dir: Path, run_id: str | None, model: str, allow_pii: bool,
           as_json: bool) -> None:
    """Export the training labels as an OpenAI chat fine-tuning set (train/validation JSONL).

    Prompts come from the project's [export] section. Filters (confidence threshold, per-class
    caps, exact and near duplicates), a seeded stratified split and a leakage check run first;
    the files are validated before they are published, and the dev rows are never exported.
    """
    from finetune.export import export_project

    proj = _load(project)
    result = export_project(proj, out_dir=out_dir, run_id=run_id, allow_pii=allow_pii, model=model)
    if as_json:
        echo_json(result.to_dict())
        return
    con = _stdout_console()
    fig = result.figures()
    con.print(f"Exported {fig['n_train']} training and {fig['n_validation']} validation examples "
              f"from {fig['n_input']} rows to {out_dir}", highlight=False)
    removed = {k: v for k, v in fig["filters"].items() if v}
    if removed:
        con.print("Removed: " + ", ".join(f"{k} {v}" for k, v in removed.items()), highlight=False)
    for message in fig.get("warnings", []):
        _stderr_console().print(f"[yellow]warning:[/] {message}", highlight=False)
    con.print(f"Next: labelcycle finetune estimate {out_dir / 'train.jsonl'} --model {model}",
              highlight=False)


# -- fine-tuning ----------------------------------------------------------------------------------
def base_url_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--base-url", envvar="OPENAI_BASE_URL", default=None,
                        help="An OpenAI-compatible API root (default: $OPENAI_BASE_URL, else "
                             "OpenAI's). The key comes from $OPENAI_API_KEY or "
                             "~/.config/labelcycle/credentials.toml, never from the project.")(f)


def model_option(required: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--model", "-m", required=required, default=None if required else
                        "gpt-4o-mini-2024-07-18", show_default=not required,
                        help="The model to fine-tune or evaluate.")


@main.group(context_settings=CONTEXT_SETTINGS)
def finetune() -> None:
    """Check, price, run and evaluate fine-tuning jobs (OpenAI chat JSONL).

    Works with any OpenAI-compatible endpoint (--base-url). Only submit, status, events,
    checkpoints, cancel, watch and evaluate need an account; validate and estimate work offline.
    """


@finetune.command("validate", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@model_option(required=False)
@json_option
@handle_errors
def finetune_validate(file: Path, model: str, as_json: bool) -> None:
    """Check a chat fine-tuning file the way the API would, offline; exit 1 on any error.

    Every problem is reported with its line number and error name (the names of OpenAI's
    data-preparation cookbook, e.g. missing_content, unrecognized_role, and labelcycle's own,
    e.g. invalid_json, too_many_tokens).
    """
    from finetune.validate import validate_file

    report = validate_file(file, model=model)
    if as_json:
        echo_json(report.to_dict())
    else:
        _print_validation(file, report)
    if not report.ok:
        sys.exit(1)


def _print_validation(file: Path, report: Any) -> None:
    con = _stdout_console()
    st = report.stats
    con.print(f"[bold]{file}[/]: {st.n_examples} examples, {len(report.errors)} errors, "
              f"{len(report.warnings)} warnings", highlight=False)
    for p in [*report.errors, *report.warnings][:200]:
        where = f"line {p.line}" if p.line is not None else "file"
        kind = "error" if p in report.errors else "warning"
        con.print(f"  {where}: {kind} {p.error}: {p.message}", highlight=False, markup=False)
    if st.n_counted:
        con.print(f"tokens per example: min {st.tokens_min}, mean {st.tokens_mean:.0f}, p95 "
                  f"{st.tokens_p95:.0f}, max {st.tokens_max}; {st.n_over_limit} over the limit of "
                  f"{st.token_limit}; {st.n_epochs} epochs by default, {st.billed_tokens:,} billed tokens"
                  + (" (approximate)" if st.approximate else ""), highlight=False)
    con.print("OK" if report.ok else "NOT OK: fix the errors above", highlight=False)


@finetune.command("estimate", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@model_option(required=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs (default: OpenAI's rule from the example count).")
@click.option("--zero-shot-prompt-tokens", type=click.FloatRange(min=0), default=None,
              help="Prompt tokens per request of the zero-shot prompt, for the break-even.")
@click.option("--prompt-tokens", "ft_prompt_tokens", type=click.FloatRange(min=0), default=None,
              help="Prompt tokens per request with the fine-tuned model, for the break-even.")
@click.option("--output-tokens", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Output tokens per request, for the break-even.")
@click.option("--horizon-months", type=click.FloatRange(min=0, min_open=True), default=12.0,
              show_default=True, help="Months in which training must pay for itself.")
@json_option
@handle_errors
def finetune_estimate(file: Path, model: str, epochs: int | None, zero_shot_prompt_tokens: float | None,
                      ft_prompt_tokens: float | None, output_tokens: float, horizon_months: float,
                      as_json: bool) -> None:
    """Estimate the training cost of FILE (billed tokens x epochs x price), and with the prompt
    lengths, the monthly volume above which the fine-tuned model pays off.

    Prices come from finetune/prices.toml: edit it when prices change.
    """
    from finetune.costs import break_even, estimate_training_cost, model_prices
    from finetune.validate import validate_file

    report = validate_file(file, model=model)
    estimate = estimate_training_cost(report, model, n_epochs=epochs)
    doc: dict[str, Any] = {"file": str(file), **estimate.to_dict(), "validation_ok": report.ok}
    if zero_shot_prompt_tokens is not None and ft_prompt_tokens is not None:
        prices = model_prices(model)
        if prices is None or estimate.cost_usd is None:
            raise LabelcycleError(f"no prices for {model!r} in finetune/prices.toml: add them to get "
                                  "the break-even")
        be = break_even(zero_shot_prompt_tokens=zero_shot_prompt_tokens,
                        fine_tuned_prompt_tokens=ft_prompt_tokens, output_tokens=output_tokens,
                        zero_shot_prices=prices.base, fine_tuned_prices=prices.fine_tuned,
                        training_cost_usd=estimate.cost_usd, horizon_months=horizon_months)
        doc["break_even"] = be.to_dict()
    if as_json:
        echo_json(doc)
        return
    con = _stdout_console()
    cost = "unknown (no price in finetune/prices.toml)" if estimate.cost_usd is None else \
        f"${estimate.cost_usd:,.2f}"
    con.print(f"{estimate.n_examples} examples x {estimate.n_epochs} epochs = "
              f"{estimate.billed_tokens:,} billed tokens" +
              (" (approximate)" if estimate.approximate else "") + f"; training cost {cost}",
              highlight=False)
    if "break_even" in doc:
        volume = doc["break_even"].get("monthly_requests")
        con.print("fine-tuning never pays off at these prices and prompt lengths" if volume is None else
                  f"fine-tuning pays off above {volume:,.0f} requests a month "
                  f"(within {horizon_months:g} months)", highlight=False)


def project_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--project", "-p", type=click.Path(file_okay=False, path_type=Path), default=".",
                        show_default=True,
                        help="The project whose workspace records uploads and jobs.")(f)


def _job_manager(project: Path, base_url: str | None, dry_run: bool = False) -> Any:
    from finetune.client import ClientFactory
    from finetune.jobs import JobManager
    from weak_supervision.project import ensure_workspace
    from weak_supervision.registry import Registry

    if not (project / "labelcycle.toml").is_file():
        raise LabelcycleError(f"{project} is not a labelcycle project (no labelcycle.toml): run inside "
                              "one or pass --project DIR")
    registry = Registry(ensure_workspace(project) / "registry.sqlite")
    return JobManager(registry, ClientFactory(base_url=base_url), dry_run=dry_run,
                      poll_interval=5.0)


def _print_job(record: Any) -> None:
    d = record.to_dict()
    con = _stdout_console()
    con.print(f"job {d.get('job_id')}: {d.get('status')} (model {d.get('model')})", highlight=False)
    if d.get("fine_tuned_model"):
        con.print(f"fine-tuned model: {d['fine_tuned_model']}", highlight=False)
    if d.get("error_code") or d.get("error_message"):
        con.print(f"error {d.get('error_code')}: {d.get('error_message')}", highlight=False)


@finetune.command("submit", context_settings=CONTEXT_SETTINGS)
@click.argument("train_file", type=click.Path(dir_okay=False, path_type=Path))
@model_option(required=True)
@click.option("--validation", "validation_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="A validation JSONL file.")
@click.option("--epochs", default=None, help="n_epochs (a number or 'auto').")
@click.option("--batch-size", default=None, help="batch_size (a number or 'auto').")
@click.option("--lr-multiplier", default=None, help="learning_rate_multiplier (a number or 'auto').")
@click.option("--suffix", default=None, help="Suffix of the fine-tuned model's name.")
@click.option("--seed", type=int, default=123, show_default=True)
@click.option("--watch/--no-watch", default=False, help="Poll until the job ends, printing events.")
@click.option("--dry-run", is_flag=True, help="Validate and record what would be sent; no network.")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_submit(train_file: Path, model: str, validation_file: Path | None, epochs: str | None,
                    batch_size: str | None, lr_multiplier: str | None, suffix: str | None, seed: int,
                    watch: bool, dry_run: bool, project: Path, base_url: str | None, as_json: bool) -> None:
    """Upload TRAIN_FILE (once per content) and create a supervised fine-tuning job."""
    def num(v: str | None) -> Any:
        if v is None or v == "auto":
            return v
        try:
            return float(v) if "." in v else int(v)
        except ValueError:
            raise click.BadParameter(f"expected a number or 'auto', got {v!r}") from None

    from finetune.export import export_provenance

    with _job_manager(project, base_url, dry_run) as jobs:
        metadata = {"project": project.resolve().name,
                    **export_provenance(jobs.registry, train_file)}  # export/label run, LF set
        record = jobs.submit(train_file, model=model, validation_file=validation_file,
                             n_epochs=num(epochs), batch_size=num(batch_size),
                             learning_rate_multiplier=num(lr_multiplier), suffix=suffix, seed=seed,
                             metadata=metadata)
        if watch and not dry_run:
            record = jobs.watch(record.job_id, on_event=None if as_json else _print_event)
    if as_json:
        echo_json(record.to_dict())
    else:
        _print_job(record)


def _event_line(event: dict[str, Any]) -> str:
    return f"[{event.get('level', 'info')}] {event.get('message', '')}"


def _print_event(event: dict[str, Any]) -> None:
    _stderr_console().print(_event_line(event), highlight=False, markup=False)


@finetune.command("status", context_settings=CONTEXT_SETTINGS)
@click.argument("job_id")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_status(job_id: str, project: Path, base_url: str | None, as_json: bool) -> None:
    """The job's status (and fine-tuned model name, or its error)."""
    with _job_manager(project, base_url) as jobs:
        record = jobs.status(job_id)
    echo_json(record.to_dict()) if as_json else _print_job(record)


@finetune.command("watch", context_settings=CONTEXT_SETTINGS)
@click.argument("job_id")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_watch(job_id: str, project: Path, base_url: str | None, as_json: bool) -> None:
    """Poll a job until it ends, printing each new event once (resumes after a restart)."""
    with _job_manager(project, base_url) as jobs:
        record = jobs.watch(job_id, on_event=None if as_json else _print_event)
    echo_json(record.to_dict()) if as_json else _print_job(record)


@finetune.command("events", context_settings=CONTEXT_SETTINGS)
@click.argument("job_id")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_events(job_id: str, limit: int, project: Path, base_url: str | None, as_json: bool) -> None:
    """The job's latest events."""
    with _job_manager(project, base_url) as jobs:
        events = jobs.events(job_id, limit=limit)
    if as_json:
        echo_json({"job_id": job_id, "events": events})
    else:
        for event in events:
            _stdout_console().print(_event_line(event), highlight=False, markup=False)


@finetune.command("checkpoints", context_settings=CONTEXT_SETTINGS)
@click.argument("job_id")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_checkpoints(job_id: str, project: Path, base_url: str | None, as_json: bool) -> None:
    """The job's checkpoints (model names and step metrics)."""
    with _job_manager(project, base_url) as jobs:
        checkpoints = jobs.checkpoints(job_id)
    if as_json:
        echo_json({"job_id": job_id, "checkpoints": checkpoints})
    else:
        for cp in checkpoints:
            _stdout_console().print(f"step {cp.get('step_number')}: {cp.get('fine_tuned_model_checkpoint')}",
                                    highlight=False)


@finetune.command("cancel", context_settings=CONTEXT_SETTINGS)
@click.argument("job_id")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_cancel(job_id: str, project: Path, base_url: str | None, as_json: bool) -> None:
    """Cancel a running job."""
    with _job_manager(project, base_url) as jobs:
        record = jobs.cancel(job_id)
    echo_json(record.to_dict()) if as_json else _print_job(record)


@finetune.command("list", context_settings=CONTEXT_SETTINGS)
@project_option
@json_option
@handle_errors
def finetune_list(project: Path, as_json: bool) -> None:
    """The jobs recorded in the project's workspace."""
    with _job_manager(project, None, dry_run=True) as jobs:
        records = jobs.list_jobs()
    if as_json:
        echo_json({"jobs": [r.to_dict() for r in records]})
    else:
        for r in records:
            _print_job(r)


@finetune.command("evaluate", context_settings=CONTEXT_SETTINGS)
@model_option(required=True)
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A labelled CSV/JSONL/Parquet file (default: the project's dev rows).")
@click.option("--label-col", default=None, help="The gold label column of --data.")
@click.option("--prompt", type=click.Choice(["fine-tuned", "zero-shot"]), default="fine-tuned",
              show_default=True,
              help="fine-tuned: the short prompt of [export]; zero-shot: the long prompt with every class.")
@click.option("--task", type=click.Choice(["classification", "text"]), default=None,
              help="text: a text-to-text task (e.g. summaries), scored by its PII leak rate "
                   "(default: [export] task).")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N rows.")
@project_option
@base_url_option
@json_option
@handle_errors
def finetune_evaluate(model: str, data: Path | None, label_col: str | None, prompt: str,
                      task: str | None, concurrency: int, limit: int | None, project: Path,
                      base_url: str | None, as_json: bool) -> None:
    """Score a chat model (zero-shot or fine-tuned) on labelled rows: accuracy, macro-F1 and the
    answers outside the label set; or, for a text-to-text task, the share of outputs that leak
    PII. Recorded in the run registry beside the local models (see labelcycle history).

    Answers are cached in the workspace: the same model and prompt are never asked twice.
    """
    from finetune.project_eval import evaluate_chat_on_project, evaluate_text_on_project

    proj = _load(project)
    if (task or proj.config.export.task) == "text":
        text_result, run_id = evaluate_text_on_project(proj, model=model, data=data, base_url=base_url,
                                                       concurrency=concurrency, limit=limit)
        if as_json:
            echo_json({"run_id": run_id, **text_result.to_dict()})
        else:
            _stdout_console().print(
                f"{model} on {text_result.n} rows: PII leak rate {text_result.leak_rate:.1%} "
                f"({text_result.n_leaking} outputs hold PII); run {run_id}", highlight=False)
        return
    result, run_id = evaluate_chat_on_project(proj, model=model, data=data, label_col=label_col,
                                              prompt=prompt, base_url=base_url,
                                              concurrency=concurrency, limit=limit)
    if as_json:
        echo_json({"run_id": run_id, **result.to_dict()})
        return
    con = _stdout_console()
    con.print(f"{model} on {result.n} rows ({prompt} prompt): accuracy {result.accuracy:.3f}, "
              f"macro-F1 {result.macro_f1:.3f}, {result.n_invalid} answers outside the label set",
              highlight=False)
    con.print(f"Run {run_id}", highlight=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
