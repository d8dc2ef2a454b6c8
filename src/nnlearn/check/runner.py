"""Running the reader's code in a child process with limits, and following what it reports.

The child (:mod:`nnlearn.check.child`) runs under ``sys.executable`` with a cap on its memory
(``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``), in a session of its own so that it and anything it
starts can be killed together. Each call of the reader's code must return within ``timeout``
seconds: the child interrupts it with an alarm, and when that does not work (a bare ``except``
that swallows it, a long call in C) the parent kills the child ``GRACE`` seconds later, records
the row as ``timeout``, and starts a new child for the rest. A child that dies (memory, CPU, a
crash) is recorded the same way.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from nnlearn.check.names import rows_of

#: The command line of the child (``python -c BOOT FD``): the current folder is taken off
#: ``sys.path`` before nnlearn is imported, so a reader's file named like a module cannot shadow it.
BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
        "from nnlearn.check.child import main; main()")

#: Seconds the parent waits beyond a limit before it kills the child (the child's own alarm comes
#: first; this only ends a child whose code swallowed the alarm or is stuck in C).
GRACE = 1.0


def grace(limit: float, top_level: bool) -> float:
    """How long past ``limit`` the parent waits. Killing the child at a file's top level loses the
    whole file, and one long call in C (decompressing a data set, a large product) delays the alarm,
    so the top level gets half its budget more (2 to 10 s)."""
    return max(GRACE, min(10.0, limit / 2)) if top_level else GRACE


#: Seconds a child may take to start (import NumPy and nnlearn) on a busy machine.
STARTUP_S = 60.0
#: Bytes of one message line, and of the child's own output kept for a crash report.
MAX_LINE = 4 << 20
KEEP_OUTPUT = 16 << 10
DEFAULT_MEMORY_MB = 2048
#: Set in the child's environment.
CHILD_VARIABLE = "NNLEARN_CHECK_CHILD"


@dataclass
class JobResult:
    """What the child reported about one file."""

    key: int
    status: str = "ok"  # of the top level: ok, stopped, exit, error, syntax, killed, crashed
    notes: list = field(default_factory=list)
    found: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)  # row -> the result's JSON
    loaded: bool = False
    finished: bool = False


class CheckerBug(RuntimeError):
    """The child process hit a bug of the checker itself (its traceback is the message)."""


def _limits(memory_mb: int, cpu_s: int):
    def apply():  # runs in the child between fork and exec
        import resource

        for limit, value in ((resource.RLIMIT_AS, memory_mb << 20), (resource.RLIMIT_CPU, cpu_s),
                             (resource.RLIMIT_CORE, 0)):
            soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, hard))

    return apply


def _environment() -> dict:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"  # plt.show() in the reader's file must not open a window and wait
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env[CHILD_VARIABLE] = "1"  # nnlearn.check() called by the reader's file does not start a check of its own
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # one BLAS thread: less memory under RLIMIT_AS, no oversubscription
    env.pop("PYTHONSTARTUP", None)
    return env


class Child:
    """One child process and the reading of its messages."""

    def __init__(self, work: dict, memory_mb: int, cpu_s: int):
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(write_fd)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=_environment(), start_new_session=True,
            preexec_fn=_limits(memory_mb, cpu_s) if os.name == "posix" else None)
        os.close(write_fd)
        self.messages = os.fdopen(read_fd, "rb")
        self.output = bytearray()
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        self.proc.stdin.write(json.dumps(work).encode())
        self.proc.stdin.close()
        self.buffer = b""

    def _drain(self) -> None:
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            if len(self.output) < KEEP_OUTPUT:
                self.output += chunk[: KEEP_OUTPUT - len(self.output)]

    def next_message(self, deadline: float):
        """The next message, None at end of file, or "timeout" when ``deadline`` passes first."""
        while b"\n" not in self.buffer:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return "timeout"
            ready, _, _ = select.select([self.messages], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self.messages.fileno(), 65536)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE and b"\n" not in self.buffer:
                raise CheckerBug("the check's child process sent an oversized message")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def ending(self) -> str:
        """Why the child ended: ``signal SIGKILL`` or ``exit code 3``."""
        code = self.proc.wait()
        self.drain.join(timeout=1)
        self.messages.close()
        if code < 0:
            try:
                return signal.Signals(-code).name
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"


def run_jobs(jobs: list[dict], *, timeout: float, import_timeout: float,
             memory_mb: int = DEFAULT_MEMORY_MB) -> list[JobResult]:
    """Run ``jobs`` (files to check) in as few child processes as the reader's code allows."""
    results = {job["key"]: JobResult(job["key"]) for job in jobs}
    pending = [dict(job, skip=[]) for job in jobs]
    cpu_s = int(60 + len(jobs) * (import_timeout + 20 * timeout))
    while pending:
        work = {"jobs": pending, "timeout": timeout, "import_timeout": import_timeout}
        child = Child(work, memory_mb, cpu_s)
        try:
            pending = _follow(child, pending, results, timeout, import_timeout)
        finally:
            if child.proc.poll() is None:
                child.kill()
    return [results[job["key"]] for job in jobs]


def _follow(child: Child, pending: list, results: dict, timeout: float, import_timeout: float) -> list:
    """Read the child's messages until it says bye; returns the jobs still to do when it had to be
    killed or died."""
    job, row, limit = None, None, import_timeout
    deadline = time.monotonic() + STARTUP_S
    while True:
        message = child.next_message(deadline)
        if message == "timeout" or message is None:
            if message == "timeout":
                child.kill()
            return _after_loss(child, pending, results, job, row, killed=message == "timeout", seconds=limit)
        event = message.get("ev")
        if event == "internal":
            raise CheckerBug(message.get("traceback", ""))
        if event == "bye":  # a thread the reader started may keep the child alive: the parent ends it
            child.kill()
            return []
        if event == "job":
            job, row, limit = results[message["key"]], None, import_timeout
        elif event == "tick":
            row, limit = message.get("row"), float(message.get("s", timeout))
        else:
            _record(job, message)
            row, limit = (None, import_timeout) if event == "end" else (row, timeout)
        deadline = time.monotonic() + limit + grace(limit, row is None)


def _record(job: JobResult, message: dict) -> None:
    event = message["ev"]
    if event == "loaded" and not job.loaded:
        job.loaded, job.status, job.notes, job.found = True, message["status"], message["notes"], message["found"]
    elif event == "result":
        job.rows[message["row"]] = message["result"]
    elif event == "end":
        job.finished = True


def _after_loss(child: Child, pending, results, job, row, *, killed: bool, seconds: float) -> list:
    """The child was killed or died: record it on the row (or the top level) it was running, and
    return the jobs left, the current one without its finished rows and that row."""
    why = "killed" if killed else child.ending()
    if killed:
        child.ending()
    done_keys = {k for k, r in results.items() if r.finished}
    left = [j for j in pending if j["key"] not in done_keys]
    if job is None or not left:
        if not killed and job is None:
            raise CheckerBug(f"the check's child process ended before it started ({why}): "
                             + child.output.decode(errors="replace")[-2000:])
        return left
    current = left[0]
    if row is None:  # the top level itself: nothing of this file can be checked
        job.status = "killed" if killed else "crashed"
        job.notes.append({"kind": "import-killed" if killed else "import-crashed", "seconds": f"{seconds:g}",
                          "why": why})
        job.finished = True
        return left[1:]
    # A method that hangs is that row's failure; a class that cannot even be built leaves its methods untested.
    for r in rows_of([row]):
        if r in current["rows"] and r not in job.rows:
            job.rows[r] = _lost_row(r, job, killed, seconds, why) if r == row else _untested_row(r, job)
    current = dict(current, skip=sorted(set(current["skip"]) | set(job.rows)))
    return [current, *left[1:]]


def _spelling(row: str, job: JobResult) -> str:
    cls, _, method = row.partition(".")
    spelling = job.found.get(cls, {}).get("spelling", cls)
    return f"{spelling}.{method}" if method else spelling


def _untested_row(row: str, job: JobResult) -> dict:
    return {"name": row, "spelling": _spelling(row, job), "status": "untested", "findings": [], "note": None,
            "uses": []}


def _lost_row(row: str, job: JobResult, killed: bool, seconds: float, why: str) -> dict:
    finding = {"id": "timeout" if killed else "crashed", "severity": "fail", "section": "", "input": "",
               "got": "", "expected": "", "where": [],
               "details": [["seconds", {"seconds": f"{seconds:g}"}]] if killed else
               [["signal", {"signal": why}] if not why.startswith("exit") else ["exit-code", {"code": why[10:]}]]}
    return {"name": row, "spelling": _spelling(row, job), "status": "fail",
            "findings": [finding], "note": None, "uses": []}
