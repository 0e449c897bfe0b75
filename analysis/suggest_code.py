"""The source code of suggested LFs, and :func:`write_lf_module`: accepted suggestions as an LF module.

Each suggestion carries the source of one LF (a ``keyword_lf`` / ``regex_lf`` / ``embedding_lf``
assignment, or a decorated ``@span_lf`` function for PII) and the imports it needs.
:func:`write_lf_module` writes a list of them as an ordinary module the user reads and edits: a
docstring, the imports, then one LF per block with a comment of its evidence (dev precision and
interval, the errors it fixes, the rows it breaks, pool coverage, a few example rows). The file
loads with :func:`labelfns.loading.load_lfs` like any hand-written module.

Example
-------
>>> import tempfile, pathlib
>>> from analysis.suggest import suggest_lfs
>>> from labelfns.loading import load_lfs
>>> s = suggest_lfs(["a tea", "the tea", "dog"], labels=["drink", "pet"], gold=[0, 0, 1],
...                 predicted=[1, 1, 1], dev_mask=[True] * 3, kinds=("keyword",))
>>> path = write_lf_module(s, pathlib.Path(tempfile.mkdtemp()) / "accepted.py")
>>> [lf.name for lf in load_lfs([path])]
['sg_text_drink__tea']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from labelfns.errors import LabelcycleError
from weak_supervision.io import write_text

__all__ = ["candidate_code", "str_literal", "write_lf_module"]

_WIDTH = 100
_CACHE_EXPR = 'Path(__file__).resolve().parent / ".labelcycle" / "embeddings"'


def str_literal(text: str, indent: str, width: int = _WIDTH) -> str:
    """A Python expression equal to ``text``: one literal, or parenthesized pieces if long.

    >>> eval(str_literal("a " * 80, "    "), {}) == "a " * 80
    True
    """
    one = repr(text)
    if len(indent) + len(one) + 1 <= width:
        return one
    room = max(20, width - len(indent) - 8)
    pieces: list[str] = []
    rest = text
    while rest:
        if len(rest) <= room:
            pieces.append(rest)
            break
        cut = rest.rfind(" ", room // 2, room)
        cut = room if cut < 0 else cut + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    inner = indent + "    "
    return "(\n" + "\n".join(inner + repr(p) for p in pieces) + "\n" + indent + ")"


def _q(value: Any) -> str:
    """A string literal, in double quotes when that needs no escaping."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    text = str(value)
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def _fields_arg(fields: Sequence[str]) -> str:
    return "" if tuple(fields) == ("text",) else f", fields={_q(fields)}"


def _raw(pattern: str) -> str:
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if '"' not in pattern and trailing % 2 == 0 and pattern.isprintable():
        return f'r"{pattern}"'
    return repr(pattern)


def candidate_code(name: str, cand: Any, labels: Sequence[str], *, cache: str | None = None,
                   loader: bool = False) -> tuple[str, tuple[str, ...]]:
    """The source of one LF for a classification candidate, and the imports it needs.

    ``cache``: write embedding LFs with the project's embeddings cache (the folder
    ``.labelcycle/embeddings`` beside the module). ``loader``: neighbour LFs read the dev rows
    from the project beside the module (:func:`analysis.suggest_io.dev_texts_by_class`) instead
    of holding them as literals.

    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(kind="keyword", label=0, fields=("Title",), pattern="tea", extra={})
    >>> candidate_code("kw_tea", c, ["drink"])[0]
    'kw_tea = keyword_lf("kw_tea", ["tea"], "drink", fields=["Title"])'
    """
    lab = _q(labels[cand.label])
    if cand.kind in ("keyword", "phrase"):
        code = f'{name} = keyword_lf("{name}", {_q([cand.pattern])}, {lab}{_fields_arg(cand.fields)})'
        return _wrap(code), ("from labelfns import keyword_lf",)
    if cand.kind == "regex":
        code = f'{name} = regex_lf("{name}", {_raw(cand.pattern)}, {lab}{_fields_arg(cand.fields)})'
        return _wrap(code), ("from labelfns import regex_lf",)
    if cand.kind == "embedding" and cand.label < 0:
        return _dev_neighbours_code(name, cand, labels, cache=cache, loader=loader)
    if cand.kind == "embedding":
        descs = cand.extra["descriptions"]
        imports: tuple[str, ...] = ("from labelfns.embeddings import embedding_lf",)
        lines = [f"{name} = embedding_lf(", f'    "{name}",']
        if loader:
            lines.append(f"    {{{lab}: dev_texts_by_class(Path(__file__).resolve().parent)[{lab}]}},")
            imports += ("from pathlib import Path",
                        "from analysis.suggest_io import dev_texts_by_class")
        else:
            lines.append(f"    {{{lab}: [")
            lines += [f"        {str_literal(d, '        ')}," for d in descs]
            lines.append("    ]},")
        lines += [f"    fields={_q(cand.fields)},",
                  f"    min_similarity={cand.extra['threshold']!r},"]
        if cache is not None:
            lines.append(f"    cache_dir={_CACHE_EXPR},")
            imports = tuple(dict.fromkeys(("from pathlib import Path", *imports)))
        lines.append(")")
        return "\n".join(lines), imports
    raise LabelcycleError(f"no code for a candidate of kind {cand.kind!r}")


def _dev_neighbours_code(name: str, cand: Any, labels: Sequence[str], *, cache: str | None,
                         loader: bool) -> tuple[str, tuple[str, ...]]:
    margin = cand.extra["margin"]
    imports: list[str] = ["from labelfns.embeddings import embedding_lf"]
    lines = [f"{name} = embedding_lf(", f'    "{name}",']
    if loader:
        lines.append("    dev_texts_by_class(Path(__file__).resolve().parent),")
        imports += ["from pathlib import Path", "from analysis.suggest_io import dev_texts_by_class"]
    else:
        lines.append("    {")
        for c, texts in cand.extra["by_class"].items():
            lines.append(f"        {_q(labels[c])}: [")
            lines += [f"            {str_literal(t, '            ')}," for t in texts]
            lines.append("        ],")
        lines.append("    },")
    lines += [f"    fields={_q(cand.fields)},", f"    margin={margin!r},", "    min_similarity=-1.0,"]
    if cache is not None:
        lines.append(f"    cache_dir={_CACHE_EXPR},")
        if "from pathlib import Path" not in imports:
            imports.append("from pathlib import Path")
    lines.append(")")
    return "\n".join(lines), tuple(imports)


def _wrap(code: str) -> str:
    """A one-line call assignment, one argument group per line when it is too long."""
    if len(code) <= _WIDTH:
        return code
    head, _, rest = code.partition("(")
    return f"{head}(\n    {rest[:-1]},\n)"


# ----------------------------------------------------------------------------------------------
# the module writer
# ----------------------------------------------------------------------------------------------
_HEADER = """\
Labeling functions accepted from labelcycle's LF suggestions.

Each LF's comment gives its evidence on the dev rows it was mined from: precision with its 95%
Wilson interval, the dev errors it would fix, the correct rows it would break, and its coverage of
the unlabelled pool. Edit or delete freely; add this file to [lfs] modules in labelcycle.toml.
"""


def _existing_names(text: str, where: Path) -> set[str]:
    """Module-level identifiers and LF names (first string argument of calls) in ``text``."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise LabelcycleError(f"{where} is not valid Python (line {exc.lineno}: {exc.msg}); fix "
                              "it before appending suggestions") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Call):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(
                    node.args[0].value, str):
                names.add(node.args[0].value)
            for kw in node.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    names.add(str(kw.value.value))
    return names


def _rename(code: str, old: str, new: str) -> str:
    """``code`` with the LF ``old`` renamed ``new`` (its variable or function, and its name)."""
    code = re.sub(rf"^{re.escape(old)} = ", f"{new} = ", code, count=1, flags=re.MULTILINE)
    code = re.sub(rf"^def {re.escape(old)}\(", f"def {new}(", code, count=1, flags=re.MULTILINE)
    return code.replace(f'"{old}"', f'"{new}"', 1)


def _block(item: Any, code: str) -> list[str]:
    lines = [f"# {item.label}: {item.kind} {item.pattern!r}"[:_WIDTH]]
    evidence = item.evidence()
    words, line = evidence.split(), "#"
    for w in words:
        if len(line) + len(w) + 1 > _WIDTH:
            lines.append(line)
            line = "#"
        line += " " + w
    lines.append(line)
    for ex in getattr(item, "examples", ())[:3]:
        flat = " ".join(str(ex).split())
        lines.append(("# e.g. " + flat)[:_WIDTH])
    return [*lines, code]


def _import_lines(imports: Iterable[str]) -> list[str]:
    std = sorted({i for i in imports if i.startswith(("import re", "from pathlib"))})
    ours = sorted({i for i in imports if i.startswith(("from weak_supervision", "from analysis"))})
    merged = sorted(i.split(" import ")[1] for i in imports if i.startswith("from labelfns import "))
    imports = {i for i in imports if not i.startswith("from labelfns import ")}
    if merged:
        imports.add("from labelfns import " + ", ".join(merged))
    rest = sorted({i for i in imports} - set(std) - set(ours))
    return std + ([""] if std and rest else []) + rest + ours


def write_lf_module(
    suggestions: Iterable[Any],
    path: str | Path,
    *,
    overwrite: bool = False,
    append: bool = False,
    header: str | None = None,
) -> Path:
    """Write accepted suggestions as an LF module, atomically.

    Parameters
    ----------
    suggestions : iterable of Suggestion or SpanSuggestion
        What to write, in order (e.g. ``suggestions.top(5)``).
    path : str or Path
        The ``.py`` file.
    overwrite : bool, default False
        Replace an existing file.
    append : bool, default False
        Add to an existing file: the new LFs go after its content, renamed (``_2``, ``_3``, ...)
        where a name is already used there; imports it lacks are added with them.
    header : str, optional
        The module docstring of a new file (default: explains the file).

    Returns
    -------
    Path

    Raises
    ------
    LabelcycleError
        The file exists and neither ``overwrite`` nor ``append`` is set, or (``append``) it is
        not valid Python.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.suggest import suggest_lfs
    >>> s = suggest_lfs(["a tea", "the tea", "dog"], labels=["drink", "pet"], gold=[0, 0, 1],
    ...                 predicted=[1, 1, 1], dev_mask=[True] * 3, kinds=("keyword",))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "acc.py"
    >>> _ = write_lf_module(s, p); _ = write_lf_module(s, p, append=True)
    >>> "sg_text_drink__tea_2" in p.read_text()
    True
    """
    path = Path(path)
    items = list(suggestions)
    if overwrite and append:
        raise LabelcycleError("write_lf_module: choose overwrite or append, not both")
    existing = ""
    if path.exists():
        if not (overwrite or append):
            raise LabelcycleError(f"{path} exists; pass overwrite=True to replace it or "
                                  "append=True to add the new LFs to it (--force / --append)")
        if append:
            existing = path.read_text(encoding="utf-8")
    taken = _existing_names(existing, path) if existing else set()
    blocks: list[list[str]] = []
    imports: set[str] = set()
    for item in items:
        code, name = item.code, item.name
        if name in taken:
            new, i = name, 2
            while new in taken:
                new, i = f"{name}_{i}", i + 1
            code, name = _rename(code, name, new), new
        taken.add(name)
        blocks.append(_block(item, code))
        imports |= set(item.imports)
    body: list[str] = []
    for b in blocks:
        body += ["", "", *b] if body else b
    if existing:
        missing = [i for i in _import_lines(imports) if i and i not in existing]
        parts = [existing.rstrip("\n"), "", ""]
        if missing:
            parts += ["# -- added by labelcycle suggest " + "-" * 40, *missing, "", ""]
        text = "\n".join(parts + body) + "\n"
    else:
        doc = (header if header is not None else _HEADER).strip("\n").replace('"""', "'''")
        text = "\n".join([f'"""{doc}\n"""', "", *_import_lines(imports), "", "", *body]) + "\n"
    compile(text, str(path), "exec")  # a writer bug must not leave a broken module behind
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)
    return path
