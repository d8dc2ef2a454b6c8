"""Driving a check: each file is loaded in the child process, and each of its chapter names probed
from here (:mod:`.probes`), the verdicts decided here.

What the child says about a file is checked field by field before it is believed. When the child is
lost (a call it could not interrupt, a crash, a line on the channel the check did not ask for) the
row it was running is recorded as such, and a new child loads the file again for the rows left.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import asdict, dataclass, field

from nnlearn.checker.confine import Reaper, ended_by_signals
from nnlearn.checker.names import CLASSES, FUNCTIONS, canonical_row, rows_of
from nnlearn.checker.probes import Isolation, run_class, run_function
from nnlearn.checker.probes.base import Finding
from nnlearn.checker.remote import STARTUP_S, ChildLost, Remote
from nnlearn.checker.report import Row
from nnlearn.checker.toplevel import DEFINITIONS_S, RUN_ALONE
from nnlearn.checker.values import Opaque
from nnlearn.checker.wire import WireError, frames, need

#: The top-level states the child may report.
STATUSES = ("ok", "stopped", "exit", "error", "syntax")
#: Notes the child may send about one file (a top level ends once, its definitions may then be run
#: alone with up to four failing; it prints, and uses stand-ins).
MAX_NOTES = 8
#: The notes the child may send about a file's top level, and each one's fields.
_TEXT, _FRAMES, _CELL = "text", "frames", "cell"
NOTE_FIELDS = {
    "syntax": {"message": _TEXT, "where": _FRAMES},
    "top-stopped": {"seconds": _TEXT, "where": _FRAMES},
    "exit": {"code": _TEXT, "where": _FRAMES},
    "exception": {"exception": _TEXT, "where": _FRAMES, "cell": _CELL},
    "cell-failed": {"exception": _TEXT, "where": _FRAMES, "cell": _CELL},
    "definitions-only": {"statements": "count", "lines": _TEXT},
    "definition-failed": {"line": "count", "exception": _TEXT},
    "printed": {"lines": "count", "first": "lines"},
    "standin": {"module": _TEXT},
}


@dataclass
class JobResult:
    """What is known about one file."""

    status: str = "ok"  # of the top level: ok, stopped, exit, error, syntax, killed, crashed
    notes: list = field(default_factory=list)
    found: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)  # row -> its report.Row
    loaded: bool = False
    finished: bool = False


def run_jobs(jobs: list[dict], *, timeout: float, import_timeout: float) -> list[JobResult]:
    """Check ``jobs`` (files) in as few child processes as the reader's code allows."""
    results = [JobResult() for _ in jobs]
    cpu_s = int(60 + len(jobs) * (import_timeout + 20 * timeout))
    remote = None
    with ended_by_signals(), Reaper() as reaper:
        try:
            for job, result in zip(jobs, results):
                while not result.finished:
                    try:
                        if remote is None or remote.dead:
                            remote = None
                            remote = Remote(reaper, timeout, cpu_s)
                        _run_job(remote, job, result, timeout, import_timeout)
                    except ChildLost as lost:
                        row = None if remote is None else remote.row
                        _after_loss(result, job, row, lost, timeout if row else import_timeout)
        finally:
            if remote is not None:
                remote.close()
    return results


def _run_job(remote: Remote, job: dict, result: JobResult, timeout: float, import_timeout: float) -> None:
    remote.row = None
    if any("matplotlib" in chunk["source"] for chunk in job["chunks"]):
        # pyplot's first import takes seconds on a busy machine, and is not the reader's code
        remote.request("warm", STARTUP_S)
    start = time.monotonic()
    reply = remote.request(
        "load",
        import_timeout,
        top_level=True,
        timeout=timeout,
        import_timeout=import_timeout,
        job={k: job[k] for k in ("folder", "path", "chunks")},
    )
    if reply.get("status") == "stopped" and time.monotonic() - start < import_timeout:
        remote.lose("forged")  # "stopped at its time limit" before that time had passed here
    definitions = None
    if reply.get("status") in RUN_ALONE:  # its imports and definitions run alone, under a limit of their own
        definitions = remote.request("definitions", DEFINITIONS_S, top_level=True)
    try:
        status, notes, found = _loaded(reply, definitions)
    except WireError:
        remote.lose("forged")
    unreached = sorted(set(_defined(job)) - set(found), key=list(FUNCTIONS | CLASSES).index)
    if unreached and status == "ok":  # a file that ran to its end defines them: the child hid them
        remote.lose("forged")
    if not result.loaded:
        result.loaded, result.status, result.notes = True, status, notes
        if unreached and status in ("exit", "stopped"):  # defined after the point where it stopped: not
            # vouched for (after an error the report vouches for nothing anyway, and says so)
            result.notes.append({"kind": "unreached", "names": ", ".join(_defined(job)[n] for n in unreached)})
        result.found = {
            name: {k: v for k, v in info.items() if k not in ("handle", "methods", "parameters")}
            for name, info in found.items()
        }
    wanted, skip = set(job["rows"]), set(result.rows)
    isolation = Isolation(remote)
    for name in (*FUNCTIONS, *CLASSES):
        rows = [r for r in rows_of([name]) if r in wanted and r not in skip]
        info = found.get(name)
        if info is None or not info["yours"] or not rows:
            continue
        obj = Opaque(info["handle"], name, True)
        remote.row = name
        if name in FUNCTIONS:
            row_results = [run_function(name, info["spelling"], obj, remote, isolation, info.get("parameters", []))]
        else:
            row_results = run_class(name, info["spelling"], obj, remote, rows, isolation, info["methods"])
        result.rows.update((row.name, row) for row in row_results)
    result.finished = True
    try:
        remote.end_job()
    except ChildLost:  # every row is judged: a process that will not end is only killed (lose did)
        pass


#: Words of source that can bind a module's names otherwise than the syntax tree shows.
_DYNAMIC = re.compile(
    r"\b(exec|eval|globals|locals|vars|__dict__|setattr|delattr|__import__|importlib|modules|"
    r"__builtins__|builtins)\b"
)


def _defined(job: dict) -> dict:
    """The chapter's names that the job's code defines with a plain ``def`` or ``class`` at its top
    level and binds nowhere else: {name: spelling}. Read from the source here, where the reader's
    code does not run, to hold the child to: a file that ran to its end defines each of them."""
    bound: dict = {}
    defined: dict = {}
    for chunk in job["chunks"]:
        source = chunk["source"]
        if _DYNAMIC.search(source):
            return {}
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return {}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names = [node.id]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.Import) and any(a.name == "__main__" for a in node.names):
                    return {}  # the module itself, whose attributes may be set: __main__.sigmoid = ...
                names = [(a.asname or a.name).partition(".")[0] for a in node.names]
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                names = list(node.names)
            for name in names:
                bound[name] = bound.get(name, 0) + 1
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.decorator_list:
                row = canonical_row(node.name)
                is_class = isinstance(node, ast.ClassDef)
                if row is not None and "." not in row and (row in CLASSES) == is_class:
                    defined.setdefault(row, node.name)
    return {row: spelling for row, spelling in defined.items() if bound.get(spelling) == 1}


def _text(value, limit: int = 4000) -> bool:
    return type(value) is str and len(value) <= limit


def _note(note) -> dict:
    need(type(note) is dict and note.get("kind") in NOTE_FIELDS, "a note of a kind the check does not write")
    fields = NOTE_FIELDS[note["kind"]]
    need(set(note) == {"kind", *fields}, "a note with other fields")
    for name, kind in fields.items():
        value = note[name]
        if kind == _FRAMES:
            frames(value)
        elif kind == _CELL:
            need(value is None or type(value) is int, "a cell that is not a number")
        elif kind == "count":
            need(type(value) is int and value >= 0, "a count that is not one")
        elif kind == "lines":
            need(type(value) is list and len(value) <= 20 and all(_text(v) for v in value), "lines that are not text")
        else:
            need(_text(value), "a note's text that is not text")
    return note


def _loaded(reply: dict, definitions: dict | None = None):
    """The top level's status, notes and names, from the child's answer to ``load`` and, after a top
    level that stopped (``toplevel.RUN_ALONE``), to ``definitions``, checked."""
    status, notes, names = reply.get("status"), reply.get("notes"), reply
    need(status in STATUSES, "a status the check does not know")
    need(type(notes) is list, "notes that are not a list")
    if definitions is not None:
        need(
            set(reply) == {"status", "notes"} and type(definitions.get("notes")) is list,
            "names before the definitions were run alone",
        )
        notes, names = notes + definitions["notes"], definitions
    need(len(notes) <= MAX_NOTES, "more notes than a file has")
    notes = [_note(n) for n in notes]
    found = names.get("found")
    need(type(found) is dict, "names that are not a dict")
    for name, info in found.items():
        need(name in FUNCTIONS or name in CLASSES, "a name that is not the chapter's")
        need(
            type(info) is dict and _text(info.get("spelling"), 200) and type(info.get("yours")) is bool,
            "a name without its spelling",
        )
        if info["yours"]:
            need(
                set(info) <= {"spelling", "yours", "handle", "methods", "parameters"}
                and type(info.get("handle")) is int,
                "a name of yours without its handle",
            )
            parameters = info.get("parameters", [])  # shown in a fix's code: identifiers only
            need(
                type(parameters) is list
                and len(parameters) <= 8
                and all(_text(n, 60) and n.isidentifier() for n in parameters),
                "parameters that are not names",
            )
            if name in CLASSES:
                methods = info.get("methods")
                need(
                    type(methods) is dict
                    and set(methods) == {r for r in rows_of([name]) if "." in r}
                    and all(m is None or _text(m, 200) for m in methods.values()),
                    "a class without its methods",
                )
        else:
            need(
                set(info) == {"spelling", "yours", "module", "standin"}
                and _text(info["module"], 400)
                and type(info["standin"]) is bool,
                "a name not yours without its origin",
            )
    return status, notes, found


def _after_loss(result: JobResult, job: dict, row, lost: ChildLost, seconds: float) -> None:
    """The child was lost: record it on the row it was running (or the file's top level). A class that
    cannot even be built leaves its methods untested; the rows done stay done."""
    if row is None:  # the top level itself: nothing of this file can be checked
        result.status = "killed" if lost.kind == "killed" else "crashed"
        notes = {"killed": {"kind": "import-killed", "seconds": f"{seconds:g}"}, "forged": {"kind": "import-forged"}}
        result.notes.append(notes.get(lost.kind, {"kind": "import-crashed", "why": lost.why}))
        result.finished = True
        return
    before = len(result.rows)
    for r in rows_of([row]):
        if r in job["rows"] and r not in result.rows:
            result.rows[r] = _lost_row(r, result, lost, seconds) if r == row else _untested_row(r, result)
    if lost.kind == "forged":  # code that writes to the channel is not given another process: the rest
        # of the file is not checked (a file forging in every function would cost a child each)
        for r in job["rows"]:
            if r not in result.rows and result.found.get(r.partition(".")[0], {}).get("yours"):
                result.rows[r] = _untested_row(r, result)
        result.finished = True
    if len(result.rows) == before:  # nothing left to blame: another child would only repeat this
        result.finished = True


def _spelling(row: str, result: JobResult) -> str:
    cls, _, method = row.partition(".")
    spelling = result.found.get(cls, {}).get("spelling", cls)
    return f"{spelling}.{method}" if method else spelling


def _untested_row(row: str, result: JobResult) -> Row:
    return Row(row, "untested", _spelling(row, result))


def _lost_row(row: str, result: JobResult, lost: ChildLost, seconds: float) -> Row:
    if lost.kind == "killed":
        details = [["seconds", {"seconds": f"{seconds:g}"}]]
    elif lost.kind == "forged":
        details = [["forged", {}]]
    elif lost.why.startswith("exit code "):
        details = [["exit-code", {"code": lost.why.removeprefix("exit code ")}]]
    else:
        details = [["signal", {"signal": lost.why}]]
    finding = Finding("timeout" if lost.kind == "killed" else "crashed", "fail", "", details=details)
    return Row(row, "fail", _spelling(row, result), [asdict(finding)])
