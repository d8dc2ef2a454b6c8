"""Running the reader's file in the check's child process as ``python FILE`` would (its folder first on
``sys.path`` and the working directory, ``__name__ == "__main__"``, a notebook's cells in order), and
turning everything that can happen at its top level into a note. A script that trains for minutes at
import (the book's ``train_neuralnet.py``) is stopped when its budget is spent, and the names it
defined until then are checked.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import itertools
import linecache
import os
import sys
import time
import types

from nnlearn.checker.sandbox import Capture
from nnlearn.checker.standin import served, used
from nnlearn.checker.wire import ReaderError, Timeout

#: Lines of the reader's printed output that a note shows.
SHOWN_LINES = 5
#: The top-level states after which the file's imports and definitions are run alone.
RUN_ALONE = ("error", "stopped")
#: Seconds each import or definition may take when the definitions are run on their own, and all of
#: them together (the limit of the parent's request for them).
DEFINITION_S = 5.0
DEFINITIONS_S = 10.0
#: Lines whose definition failed that are said, each in a note (the parent takes at most 8 notes a file).
FAILED_SHOWN = 4


class JobEnvironment:
    """The process state a reader's file runs in, set up on entry and put back on exit."""

    def __init__(self, job: dict, base_path: list, files):
        self.job = job
        self.base_path = base_path
        self.files = files
        self.saved = None

    def __enter__(self):
        self.saved = (os.getcwd(), list(sys.path), list(sys.argv), sys.modules.get("__main__"))
        os.chdir(self.job["folder"])
        sys.path[:] = [self.job["folder"], *self.base_path]
        sys.argv[:] = [self.job.get("path") or ""]
        # The previous file's finders cached what "..", "." held for *its* folder.
        sys.path_importer_cache.clear()
        importlib.invalidate_caches()
        return self

    def __exit__(self, *exc):
        cwd, path, argv, main = self.saved
        os.chdir(cwd)
        sys.path[:] = path
        sys.path_importer_cache.clear()
        sys.argv[:] = argv
        sys.modules["__main__"] = main
        self.forget_modules()
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        return False

    def forget_modules(self) -> None:
        """Drop the reader's modules and the stand-ins, so that the next file imports its own."""
        for name, module in list(sys.modules.items()):
            filename = getattr(module, "__file__", None)
            if filename is None:  # a namespace package: its folders
                paths = list(getattr(module, "__path__", None) or [])
                reader = any(isinstance(p, str) and self.files.is_reader(p) for p in paths)
            else:
                reader = isinstance(filename, str) and self.files.is_reader(filename)
            if reader or served(name, module):
                del sys.modules[name]


def _where_of_syntax_error(exc: SyntaxError, files, chunk: dict, source: str) -> list:
    """The reader's line of a syntax error; a NUL byte (which Python reports without a line) at its own."""
    line, text = exc.lineno, exc.text or ""
    if not line and "\x00" in source:
        line = source.count("\n", 0, source.index("\x00")) + 1
        text = source.splitlines()[line - 1].replace("\x00", "\\x00")
    return [files.frame(exc.filename or chunk["filename"], line, text)] if line else []


def run_top_level(job: dict, sandbox, budget: float):
    """Run the job's code chunks in a fresh ``__main__``; returns ``(namespace, status, notes)``, the
    notes saying how it ended (:func:`closing_notes` then says what it printed and which stand-ins it used).

    ``status`` is ``ok``, ``stopped`` (budget spent), ``exit`` (``sys.exit``), ``error`` (an
    exception) or ``syntax``. After ``stopped`` or ``error`` (:data:`RUN_ALONE`) the parent asks for
    :func:`definitions_only`, under a limit of its own.
    """
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update(__builtins__=builtins, __file__=job.get("path"), __cached__=None)
    sys.modules["__main__"] = module
    sandbox.output = Capture()
    start = time.monotonic()
    status, notes = "ok", []
    for chunk in job["chunks"]:
        source = chunk["source"]
        linecache.cache[chunk["filename"]] = (len(source), None, source.splitlines(True), chunk["filename"])
        try:
            code = compile(source, chunk["filename"], "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            where = _where_of_syntax_error(exc, sandbox.files, chunk, source) if isinstance(exc, SyntaxError) else []
            notes.append({"kind": "syntax", "message": getattr(exc, "msg", str(exc)), "where": where})
            status = "syntax"
            break
        remaining = budget - (time.monotonic() - start)
        try:
            sandbox.run(lambda: exec(code, namespace), max(remaining, 0.01))
        except Timeout as exc:
            status = "stopped"
            notes.append({"kind": "top-stopped", "seconds": f"{budget:g}", "where": exc.where})
            break
        except ReaderError as exc:
            status = _exception_note(exc, chunk, notes)
            break
    return namespace, status, notes


def closing_notes(sandbox) -> list:
    """The notes of a file once it has run: what it printed, and the stand-ins it imported."""
    notes = []
    if sandbox.output.size:
        lines = sandbox.output.text().splitlines()
        notes.append({"kind": "printed", "lines": sandbox.output.lines or len(lines), "first": lines[:SHOWN_LINES]})
    stand_ins = used()
    modules = [m for m in stand_ins if not any(other.startswith(m + ".") for other in stand_ins)]
    if modules:
        notes.append({"kind": "standin", "module": ", ".join(modules)})
    return notes


def _exception_note(exc: ReaderError, chunk: dict, notes: list) -> str:
    if isinstance(exc.exc, SystemExit):
        code = exc.exc.code
        notes.append({"kind": "exit", "code": repr(code) if code is not None else "", "where": exc.where})
        return "exit"
    kind = "cell-failed" if chunk.get("cell") is not None else "exception"
    notes.append({"kind": kind, "exception": exc.text, "where": exc.where, "cell": chunk.get("cell")})
    return "error"


def _is_definition(node) -> bool:
    """An import, a def or class, a constant (``h = 1e-4``), or a change to ``sys.path`` (the book's
    ``sys.path.append(os.pardir)``, without which its imports of ``common`` fail)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
            return True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return ast.unparse(node.value.func).startswith("sys.path.")
    return False


def definitions_only(job: dict, sandbox, namespace: dict) -> list:
    """The file's top level stopped: run its imports and definitions alone, each on its own (one that
    fails is skipped), so that what the file defines is checked. Returns the notes saying what was
    skipped."""
    skipped, notes = [], []
    start = time.monotonic()
    for chunk in job["chunks"]:
        try:
            tree = ast.parse(chunk["source"], chunk["filename"])
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        for node in tree.body:
            if not _is_definition(node):
                skipped.append(node.lineno)
                continue
            left = DEFINITIONS_S - (time.monotonic() - start)
            if left <= 0:  # the time for the definitions is spent: the rest is skipped
                skipped.append(node.lineno)
                continue
            code = compile(ast.Module(body=[node], type_ignores=[]), chunk["filename"], "exec", dont_inherit=True)
            try:
                sandbox.run(lambda code=code: exec(code, namespace), min(DEFINITION_S, left))
            except (Timeout, ReaderError) as exc:
                text = exc.text if isinstance(exc, ReaderError) else str(exc)
                if len(notes) < FAILED_SHOWN:
                    notes.append({"kind": "definition-failed", "line": node.lineno, "exception": text[:400]})
    return [{"kind": "definitions-only", "statements": len(skipped), "lines": _line_ranges(skipped)}, *notes]


def _line_ranges(lines: list) -> str:
    """``3, 10-14, 20``: the lines skipped, as ranges of consecutive statements' first lines."""
    parts = []
    for _, run in itertools.groupby(enumerate(lines), lambda pair: pair[1] - pair[0]):  # consecutive lines
        run = [line for _, line in run]
        parts.append(f"{run[0]}" if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(parts[:8]) + (", ..." if len(parts) > 8 else "")
