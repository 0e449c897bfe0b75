"""Stable fingerprints of LF code and values, for the content-addressed cache.

A function's fingerprint covers its source (or bytecode), the values it closes over, and the module
globals it reads: plain data by value, functions and classes of the same module by their own code.
Editing one LF therefore changes that LF's fingerprint and no other, while editing a helper changes the
fingerprint of every LF that calls it.

Example
-------
>>> fingerprint_value({"b": [1, 2], "a": "x"}) == fingerprint_value({"a": "x", "b": [1, 2]})
True
>>> def f(x): return 1
>>> len(fingerprint_function(f))
64
"""

from __future__ import annotations

import hashlib
import inspect
import re
import textwrap
import types
from typing import Any

__all__ = ["fingerprint_value", "fingerprint_function"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_PLAIN = (str, bytes, int, float, complex, bool, type(None))


def fingerprint_value(value: Any) -> str:
    """SHA-256 hex digest of a canonical description of ``value``."""
    return hashlib.sha256(_describe(value, set()).encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint_function(f: Any) -> str:
    """SHA-256 hex digest of a callable's code and of what it reads (see module docs)."""
    return hashlib.sha256(_describe(f, set()).encode("utf-8", "surrogatepass")).hexdigest()


def _describe(value: Any, seen: set[int]) -> str:
    if isinstance(value, _PLAIN):
        return f"{type(value).__name__}:{value!r}"
    if id(value) in seen:
        return "<cycle>"
    if isinstance(value, (list, tuple)):
        seen = seen | {id(value)}
        return f"{type(value).__name__}[" + ",".join(_describe(v, seen) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        seen = seen | {id(value)}
        return "set{" + ",".join(sorted(_describe(v, seen) for v in value)) + "}"
    if isinstance(value, dict):
        seen = seen | {id(value)}
        items = sorted((_describe(k, seen), _describe(v, seen)) for k, v in value.items())
        return "dict{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    if isinstance(value, re.Pattern):
        return f"re:{value.pattern!r}:{value.flags}"
    if isinstance(value, types.ModuleType):
        return f"module:{value.__name__}"
    if isinstance(value, (types.FunctionType, types.MethodType)):
        return _describe_function(value, seen | {id(value)})
    fp = getattr(value, "fingerprint", None)
    if callable(fp) and not isinstance(value, type):
        try:
            return f"{type(value).__qualname__}:fp:{fp()}"
        except Exception:  # noqa: BLE001 - fall back to the generic description
            pass
    if isinstance(value, type):
        return _describe_class(value)
    if hasattr(value, "__array__") and hasattr(value, "tobytes"):
        return f"array:{getattr(value, 'dtype', '')}:{getattr(value, 'shape', '')}:" + hashlib.sha256(
            value.tobytes()).hexdigest()
    # Other objects (models, clients, ...) by type and their address-free repr.
    return f"{type(value).__module__}.{type(value).__qualname__}:{_ADDRESS.sub('', repr(value))[:2000]}"


def _describe_class(cls: type) -> str:
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        src = ""
    return f"class:{cls.__module__}.{cls.__qualname__}:{src}"


def _source_or_code(f: types.FunctionType) -> str:
    try:
        return textwrap.dedent(inspect.getsource(f))
    except (OSError, TypeError):
        return _code_description(f.__code__)


def _code_description(code: types.CodeType) -> str:
    consts = [(_code_description(c) if isinstance(c, types.CodeType) else repr(c))
              for c in code.co_consts]
    return f"code:{code.co_code.hex()}:{consts}:{code.co_names}"


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


def _describe_function(f: Any, seen: set[int]) -> str:
    if isinstance(f, types.MethodType):
        return "method:" + _describe_function(f.__func__, seen)
    parts = [f"fn:{f.__module__}.{f.__qualname__}", _source_or_code(f)]
    if f.__defaults__:
        parts.append("defaults:" + _describe(f.__defaults__, seen))
    if f.__kwdefaults__:
        parts.append("kwdefaults:" + _describe(f.__kwdefaults__, seen))
    if f.__closure__:
        cells = []
        for name, cell in zip(f.__code__.co_freevars, f.__closure__, strict=False):
            try:
                cells.append(f"{name}={_describe(cell.cell_contents, seen)}")
            except ValueError:  # empty cell
                cells.append(f"{name}=<empty>")
        parts.append("closure:" + ";".join(cells))
    module = f.__module__
    globs = f.__globals__
    for name in sorted(_global_names(f.__code__)):
        if name not in globs:
            continue
        value = globs[name]
        if isinstance(value, types.ModuleType):
            parts.append(f"g:{name}=module:{value.__name__}")
        elif isinstance(value, (types.FunctionType, type)):
            if getattr(value, "__module__", None) == module:
                parts.append(f"g:{name}=" + _describe(value, seen))
            else:
                parts.append(f"g:{name}=ref:{value.__module__}.{value.__qualname__}")
        else:
            parts.append(f"g:{name}=" + _describe(value, seen))
    return "\n".join(parts)
