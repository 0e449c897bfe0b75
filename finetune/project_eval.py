"""Evaluate a chat model (zero-shot or fine-tuned) on a project's labelled rows, and record it.

The figures land in the project's run registry as a ``chat_eval`` run, beside the label model's and
the local end model's, so a zero-shot baseline, a fine-tuned model and the end model can be
compared side by side (``labelcycle history``).

Example
-------
>>> from weak_supervision.project import init_project, load_project
>>> import tempfile
>>> project = load_project(init_project(tempfile.mkdtemp() + "/demo"))
>>> frame, _ = evaluation_rows(project)
>>> len(frame), "label" in frame.columns
(60, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from finetune.chat_eval import ChatEvalResult, TextEvalResult, evaluate_chat_model, evaluate_text_model
from finetune.client import ClientFactory
from finetune.templates import default_system_prompt
from labelfns.errors import DataError
from weak_supervision.io import atomic_write, read_table
from weak_supervision.project import Project, ensure_workspace
from weak_supervision.registry import Registry, run_dir

__all__ = ["evaluate_chat_on_project", "evaluate_text_on_project", "evaluation_rows", "prompts_for",
           "pii_detector"]

PromptKind = Literal["fine-tuned", "zero-shot"]


def prompts_for(project: Project, kind: PromptKind) -> tuple[str, str]:
    """(system prompt, user template) for a prompt kind.

    ``fine-tuned`` is the short prompt the export trains with (``[export]``); ``zero-shot`` adds
    the full list of classes and the instructions a model needs without fine-tuning.
    """
    export = project.config.export
    labels = list(project.labels)
    short = export.system_prompt or default_system_prompt(labels)
    if kind == "fine-tuned":
        return short, export.user_template
    listing = "\n".join(f"- {name}" for name in labels)
    long = (f"{short}\n\nThe classes are:\n{listing}\n\nAnswer with exactly one class name from the "
            "list, spelled as in the list, and nothing else.")
    return long, export.user_template


def evaluation_rows(project: Project, data: str | Path | None = None,
                    label_col: str | None = None) -> tuple[pd.DataFrame, str]:
    """The rows to evaluate on, with their gold class name in a ``label`` column.

    Without ``data``: the project's dev rows. With ``data``: a CSV/JSONL/Parquet file whose text
    is built like the project's (``text_columns``) and whose gold labels are in ``label_col``
    (default: the project's label column).
    """
    labels = project.labels
    if data is None:
        frame = project.data.loc[project.dev_mask].copy()
        gold = project.y_dev[project.dev_mask]
        if not len(frame):
            raise DataError("the project has no dev set: pass --data FILE with labelled rows")
        frame["label"] = [labels[i] for i in gold]
        return frame.reset_index(drop=True), "dev"
    path = Path(data)
    column = label_col or project.config.data.label_column
    if not column:
        raise DataError(f"{path}: name the column holding the gold labels (--label-col)")
    text_cols = list(project.config.data.text_columns)
    frame = read_table(path, columns=[*text_cols, column], what="evaluation data")
    frame["text"] = frame[text_cols].astype(str).agg("\n".join, axis=1) if len(text_cols) > 1 \
        else frame[text_cols[0]].astype(str)
    values = frame[column].astype(str).str.strip()
    unknown = sorted(set(values) - set(labels))
    if unknown:
        row = int(np.flatnonzero(~values.isin(labels))[0]) + 1
        raise DataError(f"{path}: row {row} has the label {unknown[0]!r}, not in the label set "
                        f"({len(unknown)} unknown value(s)); valid labels: {', '.join(labels)}")
    frame["label"] = values
    return frame, str(path)


def evaluate_chat_on_project(project: Project, *, model: str, data: str | Path | None = None,
                             label_col: str | None = None, prompt: PromptKind = "fine-tuned",
                             base_url: str | None = None, concurrency: int = 4,
                             limit: int | None = None) -> tuple[ChatEvalResult, str]:
    """Ask ``model`` to label the evaluation rows, score it, and record a ``chat_eval`` run.

    Returns the result and the run id. Answers are cached in ``.labelcycle/chat_cache`` (the same
    model and messages are never sent twice).
    """
    frame, source = evaluation_rows(project, data, label_col)
    if limit is not None:
        frame = frame.iloc[:limit]
    system_prompt, user_template = prompts_for(project, prompt)
    workspace = ensure_workspace(project)
    registry = Registry(workspace / "registry.sqlite")
    factory = ClientFactory(base_url=base_url)
    run_id = registry.start_run("chat_eval", config_fingerprint=project.config.fingerprint, inputs={
        "model": model, "prompt": prompt, "data": source, "n_rows": len(frame),
        "base_url": _public_url(getattr(factory, "base_url", None))})
    try:
        result = evaluate_chat_model(frame, model=model, labels=project.labels,
                                     client_factory=factory, system_prompt=system_prompt,
                                     user_template=user_template,
                                     cache_dir=workspace / "chat_cache", label_column="label",
                                     concurrency=concurrency)
        figures = _figures(result)
        if data is None and limit is None:
            figures["predictions"] = str(write_chat_predictions(
                run_dir(workspace, run_id, create=True) / "predictions.parquet", project, result))
    except BaseException as exc:
        registry.finish_run(run_id, status="failed", figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    registry.finish_run(run_id, status="ok", figures=figures)
    return result, run_id


def write_chat_predictions(path: Path, project: Project, result: ChatEvalResult) -> Path:
    """The chat model's answer on each dev row (id, prediction, valid, answer), as Parquet.

    ``labelcycle slices --chat-run RUN`` slices these predictions (invalid answers are a slice).
    """
    dev_ids = [str(i) for i in np.asarray(project.ids)[project.dev_mask]]
    labels = tuple(result.labels)
    frame = pd.DataFrame({
        "id": [dev_ids[p.row] for p in result.predictions],
        "prediction": [labels[p.predicted] if p.predicted >= 0 else None for p in result.predictions],
        "valid": [p.predicted >= 0 for p in result.predictions],
        "answer": [p.answer for p in result.predictions],
    })
    with atomic_write(path, mode="wb") as fh:
        frame.to_parquet(fh, index=False)
    return path


def _figures(result: ChatEvalResult) -> dict[str, Any]:
    doc = result.to_dict()
    keep = ("model", "n", "accuracy", "macro_f1", "invalid_rate", "accuracy_valid", "n_invalid")
    return {k: doc[k] for k in keep if k in doc}


def _public_url(url: str | None) -> str | None:
    """A base URL without credentials (``user:pass@`` is dropped)."""
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('@', 1)[1]}"


def pii_detector(project: Project, *, ner: bool = True) -> Any:
    """A function text -> PII spans, from the built-in span LFs with the project's ``[pii]``
    settings (``not PII`` votes are left out)."""
    from labelfns.spans import NOT_PII
    from weak_supervision.spans import builtin_span_lfs

    cfg = project.config.pii
    lfs = builtin_span_lfs(ner=ner and cfg.ner, ner_model=cfg.ner_model, phone_region=cfg.phone_region)

    def detect(text: str) -> list[Any]:
        return [sp for lf in lfs for sp in lf(text) if sp.label != NOT_PII]

    return detect


def evaluate_text_on_project(project: Project, *, model: str, data: str | Path | None = None,
                             base_url: str | None = None, concurrency: int = 4,
                             limit: int | None = None, ner: bool = True
                             ) -> tuple[TextEvalResult, str]:
    """Run ``model`` on a text-to-text task (``[export] task = "text"``, e.g. chat summaries) and
    record its PII leak rate as a ``chat_eval`` run. Rows: ``data``, else the dev rows."""
    export = project.config.export
    if data is None:
        frame = project.data.loc[project.dev_mask].reset_index(drop=True)
        source = "dev"
        if not len(frame):
            raise DataError("the project has no dev set: pass --data FILE")
    else:
        frame, source = read_table(Path(data), what="evaluation data"), str(data)
    if limit is not None:
        frame = frame.iloc[:limit]
    system_prompt = export.system_prompt or ("Summarize the conversation in one or two sentences. "
                                             "Never include names, contact details or other "
                                             "personal data.")
    workspace = ensure_workspace(project)
    registry = Registry(workspace / "registry.sqlite")
    factory = ClientFactory(base_url=base_url)
    run_id = registry.start_run("chat_eval", config_fingerprint=project.config.fingerprint, inputs={
        "model": model, "task": "text", "data": source, "n_rows": len(frame),
        "base_url": _public_url(getattr(factory, "base_url", None))})
    try:
        result = evaluate_text_model(frame, model=model, client_factory=factory,
                                     system_prompt=system_prompt, user_template=export.user_template,
                                     cache_dir=workspace / "chat_cache",
                                     detector=pii_detector(project, ner=ner), concurrency=concurrency)
    except BaseException as exc:
        registry.finish_run(run_id, status="failed", figures={"error": f"{type(exc).__name__}: {exc}"})
        raise
    doc = result.to_dict()
    registry.finish_run(run_id, status="ok", figures={k: doc[k] for k in (
        "model", "task", "n", "n_leaking", "pii_leak_rate")})
    return result, run_id
