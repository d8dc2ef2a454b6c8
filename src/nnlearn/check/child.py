"""The check's child process: runs each reader's file, finds its chapter names and probes them.

Started by :mod:`nnlearn.check.runner` as ``python -c BOOT FD`` (``runner.BOOT`` calls :func:`main`). It reads its work, one JSON
document, from stdin, and reports on the file descriptor FD as JSON lines, so that nothing the
reader prints can be taken for a report:

``job`` (a file begins) -> ``loaded`` (its top level ran: status, notes, names found) -> ``tick``
... ``result`` per row -> ``end``; ``bye`` when all is done; ``internal`` for a bug of
the checker itself. A ``tick`` precedes every call of the reader's code and names the row and the
call's time limit, so that the parent can tell a call that never returns from many quick ones, and
knows which row to blame.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import sys
import traceback

from nnlearn.check.names import CLASSES, FUNCTIONS, find, rows_of
from nnlearn.check.probes import Isolation, run_class, run_function
from nnlearn.check.standin import install, used
from nnlearn.check.sandbox import Files, Sandbox
from nnlearn.check.toplevel import JobEnvironment, run_top_level

class Channel:
    """JSON lines to the parent on their own file descriptor."""

    def __init__(self, fd: int):
        self.out = os.fdopen(fd, "w", encoding="utf-8")

    def send(self, **message) -> None:
        self.out.write(json.dumps(message, default=str) + "\n")
        self.out.flush()

    def tick(self, row, seconds: float) -> None:
        self.send(ev="tick", row=row, s=seconds)


def main() -> None:
    channel = Channel(int(sys.argv[1]))
    work = json.loads(sys.stdin.read())
    sys.stdin = io.StringIO("")  # input() in the reader's file reads nothing, and says so (EOFError)
    sys.dont_write_bytecode = True  # the check leaves no __pycache__ in the reader's folder
    install()
    base_path = list(sys.path)
    try:
        for job in work["jobs"]:
            run_job(job, work, channel, base_path)
        channel.send(ev="bye")
    except BaseException:  # a bug of the checker: say so, with its traceback
        channel.send(ev="internal", traceback=traceback.format_exc())
    # The parent ends this process (and anything the reader's code started) once it reads "bye".


def origin(obj, spelling: str, files: Files) -> dict:
    """Whose code ``obj`` is: ``{"yours": True}``, or where it was imported from."""
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    for module_name in used():
        if getattr(sys.modules.get(module_name), spelling, None) is obj:
            return {"yours": False, "module": module_name, "standin": True}
    filenames = []
    if inspect.isclass(target):
        filenames = [f.__code__.co_filename for f in vars(target).values() if hasattr(f, "__code__")]
        module = sys.modules.get(target.__module__)
        filenames.append(getattr(module, "__file__", None) or "")
    elif hasattr(target, "__code__"):
        filenames = [target.__code__.co_filename]
    if any(f and files.is_reader(f) for f in filenames):
        return {"yours": True}
    return {"yours": False, "module": getattr(target, "__module__", None) or type(obj).__name__, "standin": False}


def run_job(job: dict, work: dict, channel: Channel, base_path: list) -> None:
    files = Files(job["folder"], {c["filename"]: c["label"] for c in job["chunks"] if c.get("label")})
    sandbox = Sandbox(files, work["timeout"], tick=channel.tick)
    channel.send(ev="job", key=job["key"])
    with JobEnvironment(job, base_path, files):
        namespace, status, notes = run_top_level(job, sandbox, work["import_timeout"])
        found = find(namespace)
        origins = {name: origin(f.obj, f.spelling, files) for name, f in found.items()}
        channel.send(ev="loaded", key=job["key"], status=status, notes=notes,
                     found={name: {"spelling": f.spelling, **origins[name]} for name, f in found.items()})
        wanted, skip = set(job["rows"]), set(job.get("skip", ()))
        results, isolation = {}, Isolation()
        for name in (*FUNCTIONS, *CLASSES):
            rows = [r for r in rows_of([name]) if r in wanted and r not in skip]
            if name not in found or not origins[name]["yours"] or not rows:
                continue
            entry = found[name]
            if name in FUNCTIONS:
                row_results = [run_function(name, entry.spelling, entry.obj, sandbox, isolation)]
            else:
                row_results = run_class(name, entry.spelling, entry.obj, sandbox, rows, isolation)
            for row in row_results:
                results[row.name] = row
                channel.send(ev="result", row=row.name, result=row.to_json())
    channel.send(ev="end", key=job["key"])
