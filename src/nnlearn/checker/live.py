"""Checking live objects: a module, a namespace such as ``globals()``, one function or one class.

The objects never cross into the child process. A module, or a script's namespace, is checked by its
file. For a notebook's namespace (or a function, or a class) the *source* of the chapter's definitions
is sent, read from the cells IPython keeps in ``linecache``, with what it needs from the namespace:
the modules, functions and classes it uses and simple constants. Anything else is said not carried.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import os
import sys
import textwrap

import numpy as np

from nnlearn.base.i18n import N_
from nnlearn.checker.i18n import CheckInputError, CheckTypeError
from nnlearn.checker.names import ROWS, code_owner, find, is_plain_callable, referenced_names, rows_of
from nnlearn.checker.source import chunk

#: Constants larger than this many elements are not carried into the check.
MAX_ARRAY = 10_000
_SIMPLE = (int, float, complex, str, bytes, bool, type(None))


def job_for_object(target) -> dict:
    """The job of checking ``target`` (see :func:`nnlearn.checker.check`)."""
    if inspect.ismodule(target):
        path = getattr(target, "__file__", None)
        if not path or not str(path).endswith(".py"):
            raise CheckInputError(
                N_("module {name} has no .py file to check; pass its namespace, vars({name}), instead"),
                name=target.__name__,
            )
        return {"path_target": path}
    if isinstance(target, dict):
        path = target.get("__file__")
        script = target.get("__name__") == "__main__" and isinstance(path, str) and path.endswith(".py")
        if script and os.path.isfile(path):
            return {"path_target": path}  # a script's globals(): its file says everything
        found = {n: f.obj for n, f in find(target).items() if _is_users(f.obj)}
        return _job(target, found, rows=None)
    if is_plain_callable(target) or inspect.isclass(target):
        found = {n: f.obj for n, f in find({getattr(target, "__name__", ""): target}).items()}
        if not found:
            raise CheckInputError(
                N_(
                    "{name!r} is not one of the chapter's names; check one of {names}, or a whole "
                    "namespace: nnlearn.check(globals())"
                ),
                name=getattr(target, "__name__", str(target)),
                names=", ".join(ROWS),
            )
        return _job(dict(_namespace_of(target)), found, rows=list(rows_of(found)))
    raise CheckTypeError(
        N_("nnlearn.check takes a path, a module, a namespace such as globals(), a function or a class, got {type}"),
        type=type(target).__name__,
    )


def _namespace_of(target) -> dict:
    """The globals a function, or the methods of a class, look names up in."""
    functions = [target] if not inspect.isclass(target) else list(vars(target).values())
    for fn in functions:
        fn = code_owner(fn)
        if fn is not None:
            return fn.__globals__
    return vars(sys.modules.get(target.__module__, builtins))


def _is_users(obj) -> bool:
    """Defined by the user (``__main__`` or a cell), not imported from an installed module or nnlearn."""
    module = getattr(obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj), "__module__", "")
    return module in ("__main__", None) or module.startswith("__")


def _job(namespace: dict, found: dict, rows) -> dict:
    builder = _Builder(namespace)
    for name, obj in found.items():
        builder.define(_spelling(namespace, obj, name), obj)
    chunks = builder.imports_and_constants() + builder.definitions
    return {
        "folder": os.getcwd(),
        "path": None,
        "display": "globals()" if rows is None else rows[0],
        "chunks": chunks,
        "notes": builder.notes,
        "rows": rows,
    }


def _spelling(namespace, obj, default):
    return next((k for k, v in namespace.items() if v is obj), getattr(obj, "__name__", default))


class _Builder:
    """Collects the source of definitions and what they need from the namespace."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.done: set = set()
        self.imports: list[str] = []
        self.constants: list[str] = []
        self.definitions: list[dict] = []
        self.notes: list[dict] = []

    def define(self, name: str, obj) -> None:
        if name in self.done:
            return
        self.done.add(name)
        source = definition_source(obj)
        if source is None:  # a function typed into ``python -c`` or a console: Python kept no source
            kind = "no-source" if inspect.isroutine(obj) or inspect.isclass(obj) else "not-carried"
            self.notes.append({"kind": kind, "name": name, "type": type(obj).__name__})
            return
        text, filename, first_line = source
        if getattr(obj, "__name__", name) != name:  # bound under another name (softmax = Softmax())
            text += f"\n{name} = {obj.__name__}\n" if inspect.isroutine(obj) or inspect.isclass(obj) else ""
        for needed in sorted(_needed_names(obj)):
            self.need(needed)
        self.definitions.append(chunk(text, f"<nnlearn-check:{name}>", ["", name], first_line=first_line))

    def need(self, name: str) -> None:
        if name in self.done or name not in self.namespace or hasattr(builtins, name):
            return
        value = self.namespace[name]
        if inspect.ismodule(value):
            self.done.add(name)
            module = value.__name__
            self.imports.append(
                f"import {module}"
                if module == name
                else f"import {module} as {name}"
                if "." not in module
                else f"import {module}\n{name} = {module}"
            )
        elif (inspect.isroutine(value) or inspect.isclass(value)) and not _is_users(value):
            self.done.add(name)
            self.imports.append(f"from {value.__module__} import {value.__qualname__} as {name}")
        elif inspect.isroutine(value) or inspect.isclass(value) or is_plain_callable(value) and _is_users(value):
            self.define(name, value)
        else:
            self.done.add(name)
            self._constant(name, value)

    def _constant(self, name: str, value) -> None:
        if isinstance(value, _SIMPLE) or (
            isinstance(value, (tuple, list)) and all(isinstance(v, _SIMPLE) for v in value)
        ):
            self.constants.append(f"{name} = {value!r}")
        elif isinstance(value, np.ndarray) and value.size <= MAX_ARRAY and value.dtype.kind in "biuf":
            self.constants.append(f"{name} = __import__('numpy').array({value.tolist()!r}, dtype={str(value.dtype)!r})")
        else:
            self.notes.append({"kind": "not-carried", "name": name, "type": type(value).__name__})

    def imports_and_constants(self) -> list:
        text = "\n".join(self.imports + self.constants)
        if not text:
            return []
        return [chunk(text + "\n", "<nnlearn-check:imports>", ["", "imports"])]


def _needed_names(obj) -> set:
    """The names a function's code, or every method of a class, refers to."""
    functions = (
        [obj]
        if not inspect.isclass(obj)
        else [v.__func__ if isinstance(v, (staticmethod, classmethod)) else v for v in vars(obj).values()]
    )
    found = set()
    for fn in functions:
        found |= referenced_names(fn)
    if inspect.isclass(obj):
        found.update(b.__name__ for b in obj.__bases__ if b is not object)
    return found


def definition_source(obj):
    """``(source, filename, first line)`` of a function's or class's definition, dedented; or None."""
    target = obj if inspect.isroutine(obj) or inspect.isclass(obj) else type(obj)
    try:
        lines, first = inspect.getsourcelines(target)
        filename = inspect.getsourcefile(target) or ""
    except (OSError, TypeError):
        found = _class_source_from_methods(target) if inspect.isclass(target) else None
        if found is None:
            return None
        lines, first, filename = found
    return textwrap.dedent("".join(lines)), filename, max(first, 1)


def _class_source_from_methods(cls):
    """A class defined in a Jupyter cell has no file for ``inspect``; its methods' code knows the cell."""
    for value in vars(cls).values():
        code = getattr(value, "__code__", None)
        if code is None:
            continue
        source = "".join(linecache.getlines(code.co_filename))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ClassDef)
                and node.name == cls.__name__
                and node.lineno <= code.co_firstlineno <= (node.end_lineno or node.lineno)
            ):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = source.splitlines(True)[start - 1 : node.end_lineno]
                return lines, start, code.co_filename
    return None
