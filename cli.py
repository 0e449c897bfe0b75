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
    model into training labels, and see which LFs help. A project is a folder with a
    labelcycle.toml; PROJECT defaults to the current folder.

    \b
    Start here:
      labelcycle init demo     # a runnable starter project
      labelcycle label demo    # apply LFs, fit the label model, write training labels
      labelcycle lfs demo      # the LF table: coverage, conflicts, precision on dev
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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the training labels (Parquet) to this file.")
@json_option
@handle_errors
def label(project: Path, no_cache: bool, fault_tolerant: bool | None, jobs: int | None,
          out: Path | None, as_json: bool) -> None:
    """Apply the LFs, fit the label model, and write probabilistic training labels.

    Writes .labelcycle/runs/<run>/labels.parquet (id, one probability column per class, label,
    confidence, covered) and records the run with its figures in the workspace registry.
    """
    from weak_supervision.pipeline import label_project

    proj = _load(project)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
