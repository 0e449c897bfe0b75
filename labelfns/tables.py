"""Build many keyword/regex LFs from a table: a dict, a YAML file, a CSV file or a DataFrame.

Accepted shapes
---------------
* A mapping ``{label: [keyword, ...]}``: one keyword LF per label, named ``<prefix><label>``.
* A list of entries (YAML list, CSV rows, DataFrame rows) with the columns ``label`` and either
  ``keywords`` (a list, or a string split on ``|``) or ``pattern`` (a regex), and optionally
  ``name``, ``fields`` (list or ``|``-separated), ``whole_word``, ``case_sensitive``.

Every problem in a table is reported at once, each with its file and row.

Example
-------
>>> lfs = keywords({"pets": ["dog", "cat food"], "toys": ["lego"]})
>>> [lf.name for lf in lfs]
['kw_pets', 'kw_toys']
>>> lfs_from_table([{"label": "toys", "pattern": r"\\bbuilding blocks?\\b", "name": "rx_blocks"}])[0].kind
'regex'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from labelfns.core import check_unique_names
from labelfns.errors import LFError
from labelfns.patterns import DEFAULT_FIELDS, PatternLF, keyword_lf, regex_lf

__all__ = ["keywords", "lfs_from_table"]

_COLUMNS = ("name", "label", "keywords", "pattern", "fields", "whole_word", "case_sensitive")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def keywords(
    table: Mapping[str, Iterable[str]],
    *,
    prefix: str = "kw_",
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    whole_word: bool = True,
    case_sensitive: bool = False,
) -> list[PatternLF]:
    """One keyword LF per label of ``{label: keywords}``, named ``<prefix><label>``.

    >>> [lf.keywords for lf in keywords({"neg": "awful"})]
    [('awful',)]
    """
    if not isinstance(table, Mapping):
        raise LFError("keywords() takes a mapping {label: [keywords]}", lf=f"{prefix}*",
                      hint="use lfs_from_table for files and lists of entries")
    lfs = []
    for label, kws in table.items():
        lfs.append(keyword_lf(f"{prefix}{label}", kws, label, fields=fields,
                              whole_word=whole_word, case_sensitive=case_sensitive))
    check_unique_names(lfs)
    return lfs


def lfs_from_table(
    source: Any,
    *,
    prefix: str = "kw_",
    fields: str | Sequence[str] = DEFAULT_FIELDS,
    whole_word: bool = True,
    case_sensitive: bool = False,
) -> list[PatternLF]:
    """Keyword and regex LFs from a mapping, a list of entries, a DataFrame, or a YAML/CSV file.

    ``fields``, ``whole_word`` and ``case_sensitive`` are defaults that a row may override.

    >>> lfs = lfs_from_table([{"label": "pets", "keywords": "dog|puppy", "fields": "title|text"}])
    >>> lfs[0].name, lfs[0].fields
    ('kw_pets', ('title', 'text'))
    """
    origin = "table"
    rows: list[Any]
    if isinstance(source, (str, Path)):
        path = Path(source)
        origin = str(path)
        rows_or_map = _read_file(path)
        if isinstance(rows_or_map, Mapping):
            return keywords(rows_or_map, prefix=prefix, fields=fields, whole_word=whole_word,
                            case_sensitive=case_sensitive)
        rows = rows_or_map
    elif isinstance(source, Mapping):
        return keywords(source, prefix=prefix, fields=fields, whole_word=whole_word,
                        case_sensitive=case_sensitive)
    elif hasattr(source, "to_dict") and hasattr(source, "columns"):
        rows = source.to_dict("records")
    else:
        rows = list(source)

    lfs: list[PatternLF] = []
    problems: list[str] = []
    for i, row in enumerate(rows, start=1):
        try:
            lfs.append(_row_to_lf(row, prefix=prefix, fields=fields, whole_word=whole_word,
                                  case_sensitive=case_sensitive))
        except LFError as exc:
            problems.append(f"{origin}, row {i}: {exc}")
    if problems:
        raise LFError("invalid LF table:\n  " + "\n  ".join(problems), lf=f"{origin}")
    try:
        check_unique_names(lfs)
    except LFError as exc:
        raise LFError(f"{origin}: {exc}", lf=exc.lf) from None
    return lfs


def _read_file(path: Path) -> Any:
    if not path.is_file():
        raise LFError(f"file not found: {path}", lf=str(path))
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LFError(f"{path} is not UTF-8 (byte {exc.start})", lf=str(path),
                      hint="save the file as UTF-8") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LFError(f"{path} is not valid YAML: {exc}", lf=str(path)) from None
        if not isinstance(data, (Mapping, list)):
            raise LFError(f"{path} must hold a mapping {{label: [keywords]}} or a list of entries",
                          lf=str(path))
        return data
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        unknown = [c for c in (reader.fieldnames or []) if c not in _COLUMNS]
        if unknown:
            raise LFError(f"{path} has unknown columns {unknown}", lf=str(path),
                          hint="valid columns: " + ", ".join(_COLUMNS))
        return list(reader)
    raise LFError(f"unsupported table file {path.name}", lf=str(path),
                  hint="use .yaml, .yml, .csv or .tsv")


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split("|") if v.strip()]
    return [str(v) for v in value]


def _flag(value: Any, default: bool, key: str, name: str) -> bool:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LFError(f"{key} must be true or false, got {value!r}", lf=name)


def _row_to_lf(row: Any, *, prefix: str, fields: Any, whole_word: bool,
               case_sensitive: bool) -> PatternLF:
    if not isinstance(row, Mapping):
        raise LFError(f"an entry must be a mapping, got {row!r}", lf="?")
    unknown = [k for k in row if k not in _COLUMNS]
    label = row.get("label")
    name = str(row.get("name") or f"{prefix}{label}")
    if unknown:
        raise LFError(f"unknown keys {unknown}", lf=name, hint="valid keys: " + ", ".join(_COLUMNS))
    if label is None or str(label).strip() == "":
        raise LFError("missing 'label'", lf=name)
    kws = _split(row.get("keywords"))
    pattern = row.get("pattern")
    pattern = pattern if isinstance(pattern, str) and pattern.strip() else None
    if bool(kws) == bool(pattern):
        raise LFError("give exactly one of 'keywords' or 'pattern'", lf=name)
    row_fields = _split(row.get("fields")) or fields
    cs = _flag(row.get("case_sensitive"), case_sensitive, "case_sensitive", name)
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LFError(f"invalid regular expression {pattern!r}: {exc}", lf=name) from None
        return regex_lf(name, pattern, label, fields=row_fields, case_sensitive=cs)
    ww = _flag(row.get("whole_word"), whole_word, "whole_word", name)
    return keyword_lf(name, kws, label, fields=row_fields, whole_word=ww, case_sensitive=cs)
