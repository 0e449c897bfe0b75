"""Load LFs from user files (``lfs.py``) or dotted modules (``mypkg.lfs``).

A module's LFs are every module-level :class:`snorkel.labeling.LabelingFunction` and every
module-level list or tuple of them, collected in definition order. Names must be unique across all
modules: duplicates are rejected before any work. An error while importing a module is reported with
the user's file, line and source line, not a traceback into labelcycle.

Example
-------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "lfs.py").write_text(
...     "from labelfns import keyword_lf\\n"
...     "kw_a = keyword_lf('kw_a', ['apple'], 'fruit')\\n")
>>> [lf.name for lf in load_lfs([d / "lfs.py"])]
['kw_a']
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from snorkel.labeling import LabelingFunction as _SnorkelLF
from snorkel.slicing import SlicingFunction as _SnorkelSF

from labelfns.core import check_unique_names
from labelfns.errors import LabelcycleError

__all__ = ["load_lfs", "load_module", "collect_lfs"]


def load_lfs(sources: Iterable[str | Path], *, base_dir: str | Path | None = None,
             kind: type = _SnorkelLF) -> list[Any]:
    """Import each source and return its LFs, in order; duplicate names are an error.

    Parameters
    ----------
    sources : iterable of str or Path
        ``.py`` files (relative to ``base_dir``) or dotted module names.
    base_dir : path, optional
        Folder that relative file paths are resolved against (default: the current directory).
    kind : type
        What to collect (default: Snorkel LFs; the slicing functions of ``analysis`` use this too).
    """
    lfs: list[Any] = []
    seen: set[int] = set()
    for source in sources:
        module = load_module(source, base_dir=base_dir)
        for lf in collect_lfs(module, kind=kind):
            if id(lf) not in seen:
                seen.add(id(lf))
                lfs.append(lf)
    check_unique_names(lfs)
    return lfs


def collect_lfs(module: types.ModuleType, *, kind: type = _SnorkelLF) -> list[Any]:
    """The module-level objects of type ``kind`` (and lists/tuples of them), in definition order.

    Snorkel's slicing functions are a subclass of its LFs: unless ``kind`` asks for them, they
    are left out, so one module may hold a project's LFs and its slicing functions.
    """
    def wanted(value: Any) -> bool:
        return isinstance(value, kind) and (issubclass(kind, _SnorkelSF)
                                            or not isinstance(value, _SnorkelSF))

    found: list[Any] = []
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        if wanted(value):
            found.append(value)
        elif isinstance(value, (list, tuple)) and value and all(wanted(v) for v in value):
            found.extend(value)
    return found


def load_module(source: str | Path, *, base_dir: str | Path | None = None) -> types.ModuleType:
    """Import a ``.py`` file or a dotted module name, turning import errors into clear messages."""
    text = str(source)
    looks_like_file = text.endswith(".py") or "/" in text or "\\" in text
    if not looks_like_file:
        try:
            return importlib.import_module(text)
        except ModuleNotFoundError as exc:
            if exc.name and text.startswith(exc.name):
                raise LabelcycleError(
                    f"LF module {text!r} not found: it is neither a .py file nor an importable "
                    "module; give a path like lfs.py or install the package") from None
            raise _import_error(text, exc) from None
        except Exception as exc:  # noqa: BLE001 - user code may raise anything
            raise _import_error(text, exc) from None
    path = Path(text)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    path = path.resolve()
    if not path.is_file():
        raise LabelcycleError(f"LF module not found: {path}")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    mod_name = f"labelcycle_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd file types
        raise LabelcycleError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so LF modules can import their sibling helpers
    sys.modules[mod_name] = module  # so row-wise workers can pickle functions by reference
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - user code may raise anything
        sys.modules.pop(mod_name, None)
        raise _import_error(str(path), exc) from None
    return module


def _import_error(where: str, exc: BaseException) -> LabelcycleError:
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.lineno:
        line = (exc.text or "").rstrip()
        msg = f"{exc.filename or where}, line {exc.lineno}: {kind}: {exc.msg}"
        if line:
            msg += f"\n    {exc.lineno} | {line}"
        return LabelcycleError(f"cannot import LF module {where}: {msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    target = Path(where).name
    user_frames: Sequence[traceback.FrameSummary] = [
        f for f in frames if Path(f.filename).name == target or f.filename == where]
    frame = user_frames[-1] if user_frames else (frames[-1] if frames else None)
    msg = f"{kind}: {exc}"
    if frame is not None:
        msg = f"{frame.filename}, line {frame.lineno}: {msg}"
        if frame.line:
            msg += f"\n    {frame.lineno} | {frame.line}"
    return LabelcycleError(f"cannot import LF module {where}: {msg}")
