"""How many threads a command's matrix products use: chosen once, when the command starts.

BLAS starts a thread per core; beside another busy program the others wait for the one sharing a core
at every product (on 2 cores the book's recipe takes 3 times as long; BENCHMARKS.md). So a command takes
``--threads N``, else ``NNLEARN_THREADS``, else the cores free at its start (``/proc/stat`` over
:data:`SPAN`). OpenBLAS's sums depend on its thread count, so the promise is: same seed, same thread
count, same machine -> the same bits; a run records its count and ``--resume`` continues on it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass

from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _

ENV = "NNLEARN_THREADS"
#: More threads than this is a typo, not a machine (and would make BLAS allocate for each).
MOST = 1024
#: Seconds over which the free cores are measured.
SPAN = 0.05


def must(value) -> str:
    """What a thread count must be, and the ``value`` given (``--threads``'s error says it too)."""
    return _("must be a whole number of threads from 1 to {most} or 'auto', got {value!r}", most=MOST, value=value)


def blas():
    """threadpoolctl's controller of the BLAS libraries loaded in this process."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def blas_count() -> int | None:
    """The number of threads BLAS uses now (``None``: no BLAS library found)."""
    return max((lib["num_threads"] for lib in blas().info()), default=None)


def allowed_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_request(value, source: str) -> int | None:
    """A thread count as asked for (``None`` or ``"auto"``: the free cores). ASCII digits only."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    text = value.strip() if isinstance(value, str) else value
    ok = (isinstance(text, int) and not isinstance(text, bool)) or (
        isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 6
    )
    if not ok or not 1 <= int(text) <= MOST:
        raise InputError(f"{source} {must(value)}")
    return int(text)


def cpu_reading():
    """(monotonic seconds, busy CPU seconds of the allowed cores, this process's CPU seconds), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            lines = f.read().splitlines()
        allowed, tick = os.sched_getaffinity(0), os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, ValueError):
        return None
    busy = 0
    for name, *fields in (line.split() for line in lines):
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in allowed:
            values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
            busy += sum(values) - values[3] - values[4]  # all but idle and iowait
    own = os.times()
    return time.monotonic(), busy / tick, own.user + own.system


def busy_elsewhere() -> float:
    """How many of this process's cores other programs keep busy now (over :data:`SPAN` seconds)."""
    before = cpu_reading()
    if before is None:  # no /proc/stat: the load average less this process (Windows has neither: 0)
        return max(0.0, os.getloadavg()[0] - 1.0) if hasattr(os, "getloadavg") else 0.0
    time.sleep(SPAN)
    wall, busy, own = (a - b for a, b in zip(cpu_reading(), before))
    return max(0.0, (busy - own) / wall)


@dataclass(frozen=True)
class Choice:
    """A command's thread count: ``count`` (None: no BLAS found), where it came from, and BLAS's own."""

    count: int | None
    source: str  # "threads", "NNLEARN_THREADS", "free cores" or "run" (a resumed run's recorded count)
    default: int | None
    busy: float | None = None  # cores other programs kept busy at the start ("free cores" only)
    asked: int | None = None  # a resumed run's: the count asked for now, not used

    def note(self) -> str | None:
        """One line for the user when the count is not the one BLAS or the user would expect."""
        if self.source == "free cores" and self.count != self.default:
            return _(
                "other programs keep {busy} cores busy: using {count} BLAS thread(s) instead of {default}; "
                "--threads N to choose",
                busy=f"{self.busy:.1f}",
                count=self.count,
                default=self.default,
            )
        if self.source == "run" and self.asked not in (None, self.count):
            return _(
                "the run continues on the {count} BLAS thread(s) it started on, so that its numbers are those "
                "of an uninterrupted run (not on the {asked} asked for)",
                count=self.count,
                asked=self.asked,
            )
        return None

    def record(self) -> dict:
        """What a run's config and summary say about its threads."""
        return {
            "threads": self.count,
            "source": self.source,
            "blas_default": self.default,
            "busy_cores": None if self.busy is None else round(self.busy, 2),
        }


def asked(threads=None) -> tuple[int | None, str]:
    """The count asked for and where: ``threads``, else ``NNLEARN_THREADS``; ``(None, "free cores")``."""
    for value, source in ((threads, "threads"), (os.environ.get(ENV), ENV)):
        count = parse_request(value, source)
        if count is not None:
            return count, source
    return None, "free cores"


def choose(threads=None, recorded: int | None = None) -> Choice:
    """The count for a command: a resumed run's ``recorded`` one, else ``threads``, else
    ``NNLEARN_THREADS``, else the free cores between 1 and BLAS's own count."""
    default = blas_count()
    if default is None:
        return Choice(None, "no BLAS", None)
    count, source = asked(threads)
    if recorded is not None:
        return Choice(recorded, "run", default, asked=count)
    if count is not None:
        return Choice(count, source, default)
    busy = busy_elsewhere()
    free = min(default, allowed_cores()) - busy
    return Choice(max(1, math.floor(free + 0.5)), "free cores", default, busy)


@contextlib.contextmanager
def using(choice: Choice):
    """BLAS runs on ``choice.count`` threads inside the block; its own count is restored after it."""
    with blas().limit(limits=choice.count) if choice.count else contextlib.nullcontext():
        yield choice


def blas_threads(threads=None):
    """:func:`choose` and :func:`using` in one: ``with blas_threads(args.threads) as choice: ...``."""
    return using(choose(threads))
