"""Calling the reader's code inside the check's child process: a time limit per call, output
captured, and exceptions described by the reader's own file and line only.

A call past its limit is interrupted by SIGALRM, which raises :class:`CallTimeout`, a ``BaseException``
that ``except Exception`` in the reader's code does not swallow; one that cannot be interrupted is
killed by the parent on its own clock.
"""

from __future__ import annotations

import inspect
import io
import linecache
import os
import signal
import site
import sys
import sysconfig
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nnlearn.checker.wire import ReaderError, Timeout

#: Characters of the reader's printed output kept per phase (the rest is counted, not kept).
KEEP_CHARS = 4000


class CallTimeout(BaseException):
    """Raised by the alarm inside the reader's code when its time is up."""


class Capture(io.TextIOBase):
    """A text stream that keeps the first :data:`KEEP_CHARS` characters written and counts lines."""

    def __init__(self):
        super().__init__()
        self.kept: list[str] = []
        self.size = 0
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        if self.size < KEEP_CHARS:
            self.kept.append(text[: KEEP_CHARS - self.size])
        self.size += len(text)
        self.lines += text.count("\n")
        return len(text)

    def text(self) -> str:
        return "".join(self.kept)


def _system_dirs() -> tuple[str, ...]:
    """Folders whose files are Python's, installed packages' or nnlearn's -- never the reader's."""
    installed = sysconfig.get_paths()
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *(installed[k] for k in ("stdlib", "purelib", "platlib"))}
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # nnlearn's own
    try:
        paths.update(site.getsitepackages())
        paths.add(site.getusersitepackages())
    except AttributeError:  # a virtualenv without those functions
        pass
    return tuple(sorted({os.path.realpath(p) + os.sep for p in paths if p}))


SYSTEM_DIRS = _system_dirs()


@lru_cache(maxsize=4096)
def is_system_file(filename: str) -> bool:
    """Whether ``filename`` lies in Python's, an installed package's or nnlearn's folders."""
    return (os.path.realpath(filename) + os.sep).startswith(SYSTEM_DIRS)


@dataclass
class Files:
    """Which source files are the reader's, and how to name them in a report."""

    folder: str
    labels: dict = field(default_factory=dict)  # a chunk's filename -> [its name in a report, its cell or None]

    def is_reader(self, filename: str) -> bool:
        if filename in self.labels:
            return True
        if not filename or filename.startswith("<"):
            return False
        return not is_system_file(filename)

    def label(self, filename: str) -> list:
        """``[file, cell]``: how a report names a source file (``cell`` None, or a notebook cell's number)."""
        if filename in self.labels:
            return list(self.labels[filename])
        rel = os.path.relpath(filename, self.folder)
        return [rel if not rel.startswith(os.pardir * 2) else filename, None]

    def frame(self, filename: str, line: int, code: str) -> list:
        """``[file, line, code, cell]``, as notes and findings carry a place in the reader's code."""
        name, cell = self.label(filename)
        return [name, line, code.strip()[:160], cell]

    def where(self, tb, limit: int = 3) -> list:
        """The reader's frames of a traceback (see :meth:`frame`), innermost last."""
        frames = []
        while tb is not None:
            code = tb.tb_frame.f_code
            if self.is_reader(code.co_filename):
                text = linecache.getline(code.co_filename, tb.tb_lineno)
                frames.append(self.frame(code.co_filename, tb.tb_lineno, text))
            tb = tb.tb_next
        return frames[-limit:]


def describe(exc: BaseException) -> str:
    """``ValueError: shapes (2,3) and (2,) not aligned``, on one line, cut to a readable length (an
    exception whose ``__str__`` fails is named by its type)."""
    name = str.__str__(type(exc).__name__)
    try:
        message = str.__str__(str(exc))
    except BaseException:  # noqa: BLE001 -- the reader's __str__: anything may come out of it
        message = ""
    text = " ".join(f"{name}: {message}".split()) if message else name
    return text if len(text) <= 300 else text[:297] + "..."


def _on_alarm(signum, frame):
    raise CallTimeout()


class Sandbox:
    """Runs reader code: ``call(fn, *args)`` with a time limit, output captured, warnings silenced."""

    def __init__(self, files: Files, timeout: float):
        self.files = files
        self.timeout = timeout
        self.output = Capture()
        signal.signal(signal.SIGALRM, _on_alarm)

    def run(self, thunk, seconds: float):
        """``thunk()`` under a limit of ``seconds``, with the reader's output captured."""
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.output
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                signal.setitimer(signal.ITIMER_REAL, seconds)
                try:
                    return thunk()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except CallTimeout as exc:
            raise Timeout(seconds, self.files.where(exc.__traceback__)) from None
        except BaseException as exc:  # noqa: BLE001 -- whatever the reader raises is the reader's (a BaseException subclass too)
            raise ReaderError(
                str.__str__(type(exc).__name__), describe(exc), self.files.where(exc.__traceback__), exc=exc
            ) from None
        finally:
            sys.stdout, sys.stderr = saved

    def check_signature(self, fn, args, kwargs) -> None:
        """A call the reader's function cannot take (another number of parameters) is a ``signature`` error."""
        try:
            sig = inspect.signature(fn)
        except Exception:  # noqa: BLE001 -- no signature to read (a builtin, or the reader's own __signature__)
            return
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise ReaderError("TypeError", describe(exc), [], signature=True, exc=exc) from None
