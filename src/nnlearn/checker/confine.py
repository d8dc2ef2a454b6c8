"""Confining the check's child process: its hard limits, and the end of everything it starts.

The child runs with hard limits (soft = hard, so that its code cannot raise them) on memory, CPU time,
file size and processes; as root it also loses the capabilities that would lift them. While a check
runs, this process is a *child subreaper* on Linux, so that a process the reader's code starts and
abandons is adopted here and killed at the end (:class:`Reaper`). SIGTERM and SIGHUP end a check as
Ctrl-C does (:func:`ended_by_signals`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

import psutil

#: The child's address space.
MEMORY_MB = 2048
#: The largest file the reader's code may write.
MAX_FILE_MB = 256
#: Processes and threads the reader's code may add to the user's (RLIMIT_NPROC; root is exempt).
EXTRA_PROCESSES = 64
#: Set in the child's environment.
CHILD_VARIABLE = "NNLEARN_CHECK_CHILD"
#: Linux's prctl options and the capabilities that lift limits.
PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 24, 36, 37
CAP_SYS_ADMIN, CAP_SYS_RESOURCE = 21, 24


LIBC = None  # the C library, for prctl: Linux only
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        LIBC = ctypes.CDLL(None, use_errno=True)


def _user_tasks() -> int:
    """Processes and threads of this user now (what RLIMIT_NPROC counts)."""
    uid = os.getuid()
    tasks = psutil.process_iter(["uids", "num_threads"])
    return sum(p.info["num_threads"] or 0 for p in tasks if p.info["uids"] and p.info["uids"].real == uid)


def limits(cpu_s: int):
    """The function ``subprocess.Popen`` runs in the child before it starts Python (``preexec_fn``): the
    hard limits, and (as root) the capabilities that would lift them dropped from the bounding set."""
    import resource

    nproc = _user_tasks() + EXTRA_PROCESSES if os.getuid() != 0 else None
    settings = [
        (resource.RLIMIT_AS, MEMORY_MB << 20),
        (resource.RLIMIT_CPU, cpu_s),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, MAX_FILE_MB << 20),
    ]
    if nproc and hasattr(resource, "RLIMIT_NPROC"):
        settings.append((resource.RLIMIT_NPROC, nproc))

    def apply():  # runs in the child between fork and exec
        if LIBC is not None:  # root: without these the reader's code could raise a hard limit again
            for cap in (CAP_SYS_RESOURCE, CAP_SYS_ADMIN):
                LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
        for limit, value in settings:
            _, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            # soft = hard, so that the child cannot raise it; else (a system that refuses to lower this
            # hard limit) the soft one at least; else (RLIMIT_AS on macOS) none
            for pair in ((value, value), (value, hard)):
                try:
                    resource.setrlimit(limit, pair)
                    break
                except (ValueError, OSError):
                    continue

    return apply


def environment() -> dict:
    """The child's environment: this process's (the reader's code sees it all), and the check's settings."""
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"  # plt.show() in the reader's file must not open a window and wait
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the check leaves no __pycache__ in the reader's folder
    env[CHILD_VARIABLE] = "1"  # nnlearn.check() called by the reader's file does not start a check of its own
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # one BLAS thread: less memory under RLIMIT_AS, no oversubscription
    env.pop("PYTHONSTARTUP", None)
    return env


def _children() -> set:
    """The pids whose parent is this process."""
    return {child.pid for child in psutil.Process().children()}


class Reaper:
    """While a check runs: this process adopts the orphans of the reader's code (Linux), and ends them.

    ``sweep()`` kills and reaps every process adopted since the first running check began -- neither
    the processes this process had started before, nor the live children of checks running in other
    threads -- then whatever those left behind, until none is left. The state is the process's: the
    subreaper flag is set while any check runs, and put back when the last one ends.
    """

    lock = threading.RLock()
    users = 0
    enabled = False
    before: set = set()
    ours: set = set()  # the live child processes of every running check

    def __enter__(self):
        cls = type(self)
        with cls.lock:
            if cls.users == 0 and LIBC is not None:
                old = ctypes.c_int(0)
                if LIBC.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(old), 0, 0, 0) == 0 and old.value == 0:
                    cls.enabled = LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
                cls.before = _children()
            cls.users += 1
        return self

    def __init__(self):
        self.mine: dict = {}  # pid -> Popen: the children this check started and has not ended yet

    def start(self, *args, **kwargs) -> subprocess.Popen:
        """``subprocess.Popen(*args, **kwargs)``, its process known as a check's own before any sweep looks."""
        with type(self).lock:
            proc = subprocess.Popen(*args, **kwargs)
            type(self).ours.add(proc.pid)
            self.mine[proc.pid] = proc
        return proc

    def end(self, proc: subprocess.Popen) -> None:
        """Kill a child this check started, with its process group, and reap it."""
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            proc.kill()
        proc.wait()
        with type(self).lock:
            type(self).ours.discard(proc.pid)
            self.mine.pop(proc.pid, None)

    def sweep(self) -> None:
        if LIBC is None:
            return
        cls = type(self)
        for _ in range(200):
            with cls.lock:
                adopted = _children() - cls.before - cls.ours
            if not adopted:
                return
            for pid in adopted:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for pid in adopted:
                with contextlib.suppress(OSError):
                    os.waitpid(pid, os.WNOHANG)
            time.sleep(0.005)

    def __exit__(self, *exc):
        for proc in list(self.mine.values()):  # a child an interruption left behind (Ctrl-C while it started)
            self.end(proc)
        self.sweep()
        cls = type(self)
        with cls.lock:
            cls.users -= 1
            if cls.users == 0 and cls.enabled:
                LIBC.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
                cls.enabled = False
        return False


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP while a check runs: it ends as Ctrl-C ends it, the child with it."""


@contextlib.contextmanager
def ended_by_signals():
    """SIGTERM and SIGHUP raise :class:`Interrupted` while a check runs (in the main thread, where the
    program has not set handlers of its own), so that the child is killed on the way out."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
            if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL, None):
                saved[sig] = signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)
