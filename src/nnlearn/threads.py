"""How many threads the matrix products of a run use: chosen from the free cores, changed when a step slows.

NumPy's matrix products run on BLAS (OpenBLAS in NumPy's wheels), which starts one thread per core and
splits every product among them. Beside another busy program -- the browser, a notebook kernel -- one
of those threads shares its core and the others wait for it at every product: on a 2-core machine
the book's recipe then takes 2.3 times as long as on one thread (BENCHMARKS.md, "A busy core").
nnlearn therefore sets the count itself, through threadpoolctl (environment variables read after
NumPy's import would do nothing). :class:`ThreadPolicy` is the rule for a training run:

1. **Asked for.** ``ThreadPolicy(4)`` (``nnlearn train --threads 4``) or, when none is given, the
   environment variable ``NNLEARN_THREADS=4``: that many threads for the whole run.
2. **At the start** (otherwise): the cores this process may run on (``os.sched_getaffinity``) less
   the cores other programs kept busy over the last moment -- read from ``/proc/stat`` since the
   previous reading, this process's own CPU time taken out (a fresh reading waits 0.05 s); where there
   is no ``/proc/stat``, the 1-minute load average less one for this process. Rounded to the nearest
   whole, at least 1, at most what BLAS started with (so ``OPENBLAS_NUM_THREADS=1``, as the sweep's
   workers set it, keeps one thread).
3. **During the run**, between two settings: one thread and the most the start allows (the start
   count, or BLAS's own when the start chose one). Steps are timed in windows of :data:`WINDOW`;
   the median of a window is its time. A *probe* runs one window at the other setting and keeps
   it if that window is at least 10 % faster than the one before; otherwise it goes back -- at
   once if the probe has already taken as long as a whole window on the old setting (beside a busy
   core a step on two threads can take 100 times as long). A probe starts when a window on several
   threads takes :data:`SLOWER` times the best window seen on them (another program took a core),
   and otherwise every ``dwell`` windows, where ``dwell`` starts at :data:`FIRST_DWELL` and doubles
   after every probe. So the count goes down as soon as a probe shows it pays, and up only after the
   doubling wait: over ``T`` windows there are at most ``log2(T / FIRST_DWELL) + 1`` scheduled probes,
   the count goes up at most that often and down at most once more -- it cannot oscillate, and
   probing costs at most one window per probe.

The numbers must not depend on the choice: a run resumed on another count, or a run whose count
changed halfway, has to give the very same weights. OpenBLAS adds up a long sum in blocks whose
size depends on the number of threads, so nnlearn's fused engine cuts such sums itself where they
would differ (see :class:`nnlearn.engines.fused.CutSum`); and before a run changes the count, the
policy checks on the run's own shapes that one thread and several give the same bits (``check``).
Where they do not (another BLAS, the reference engine on 784 inputs), the count stays what it
was -- BLAS's own, or the one asked for -- for the whole run, and a checkpoint records it so that a
resumed run uses the same.

:func:`blas_threads` is the same start rule for one computation (``nnlearn gradcheck``, ``nnlearn
evaluate``), without the watching.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time

import numpy as np

from nnlearn.errors import InputError
from nnlearn.i18n import _

ENV = "NNLEARN_THREADS"
#: Steps per timing window.
WINDOW = 32
#: A window this many times slower than the best one at several threads starts a probe.
SLOWER = 1.5
#: A probe is kept when its window takes at most this share of the window before it.
FASTER = 0.9
#: Windows before the first scheduled probe; the wait doubles after every probe.
FIRST_DWELL = 2
#: A reading of the cores older than this (seconds) is not "the last moment": a fresh one is taken.
FRESH = 5.0
#: The shortest interval a reading of the cores spans (seconds).
SPAN = 0.05

_controller = None
_last_reading = None
_last_answer = None


def blas():
    """threadpoolctl's controller of the BLAS libraries loaded in this process (found once)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def blas_count() -> int | None:
    """The number of threads BLAS uses now (``None``: no BLAS library found)."""
    counts = [lib["num_threads"] for lib in blas().info()]
    return max(counts) if counts else None


def set_blas_count(count: int) -> None:
    """Make BLAS use ``count`` threads from now on."""
    blas().limit(limits=count)


def allowed_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def parse_request(value, source: str) -> int | None:
    """A thread count as asked for (``None`` or ``"auto"``: let the policy choose)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if isinstance(value, bool) or isinstance(value, float) or count < 1:
        raise InputError(_("{source} must be a positive whole number of threads or 'auto', got {value!r}",
                           source=source, value=value))
    return count


def requested(threads=None) -> tuple[int | None, str]:
    """The count asked for and where it was asked: the argument, else ``NNLEARN_THREADS``, else none."""
    if threads is not None:
        return parse_request(threads, "threads"), "threads"
    env = os.environ.get(ENV)
    if env is not None:
        return parse_request(env, ENV), ENV
    return None, "auto"


def cpu_reading():
    """(monotonic seconds, busy CPU seconds of the allowed cores, this process's CPU seconds), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            lines = f.read().splitlines()
        allowed = os.sched_getaffinity(0)
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, ValueError):
        return None
    busy = 0
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in allowed:
            # user nice system idle iowait irq softirq steal: all but idle and iowait is busy.
            values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
            busy += sum(values) - values[3] - values[4]
    own = os.times()
    return time.monotonic(), busy / tick, own.user + own.system


def busy_elsewhere() -> float:
    """How many of this process's cores other programs kept busy over the last moment.

    From ``/proc/stat``: the busy time of the allowed cores since the previous reading (taken at
    import, or by the previous call), less this process's own CPU time, over the time between. A
    reading older than :data:`FRESH` seconds is renewed over :data:`SPAN` seconds (a short wait); one
    younger than :data:`SPAN` seconds gives the previous answer again. Without ``/proc/stat``: the
    1-minute load average less one (this process).
    """
    global _last_reading, _last_answer
    now = cpu_reading()
    if now is None:
        try:
            return max(0.0, os.getloadavg()[0] - 1.0)
        except (AttributeError, OSError):  # pragma: no cover - Windows
            return 0.0
    before = _last_reading
    if before is not None and now[0] - before[0] < SPAN and _last_answer is not None:
        return _last_answer
    if before is None or now[0] - before[0] > FRESH:
        before = now
        time.sleep(SPAN)
        now = cpu_reading()
    wall, busy, own = (a - b for a, b in zip(now, before))
    _last_reading, _last_answer = now, max(0.0, (busy - own) / wall)
    return _last_answer


def start_count(ceiling: int) -> tuple[int, float]:
    """(threads to start with, free cores): the free cores rounded, between 1 and ``ceiling``."""
    free = allowed_cores() - busy_elsewhere()
    return max(1, min(ceiling, math.floor(free + 0.5))), free


def same_numbers(compute, counts) -> bool:
    """Whether ``compute()`` (a list of arrays) gives the same bits with each thread count of ``counts``."""
    results = []
    with blas().limit(limits=None):  # restores the count afterwards
        for count in counts:
            set_blas_count(count)
            results.append([np.array(a, copy=True) for a in compute()])
    first = results[0]
    return all(len(r) == len(first) and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, r))
               for r in results[1:])


class ThreadPolicy:
    """The thread count of one training run (see the module's docstring for the rule).

    Parameters
    ----------
    threads : int, "auto" or None
        The count asked for; ``None``: ``NNLEARN_THREADS``, else the policy chooses.
    check : callable or None
        Computes what a step computes (a list of arrays); the count changes only if it gives the same
        bits on one thread and on several. ``None``: unknown, so the count never changes.

    The trainer calls :meth:`start` before its first step, :meth:`observe` with each step's duration
    and :meth:`stop` at the end (which restores BLAS's count); :meth:`record` says what was used.

    Examples
    --------
    >>> policy = ThreadPolicy(1)
    >>> policy.start(); blas_count(); policy.stop()
    1
    >>> policy.record()["threads"], policy.record()["source"]
    (1, 'threads')
    """

    def __init__(self, threads=None, check=None):
        self.asked, self.source = requested(threads)
        self.check = check
        self.decided = False
        self.count = None  # the BLAS threads in use (None: no BLAS library found)
        self.first = None
        self.high = None  # the setting other than one thread
        self.adaptive = False
        self.invariant = None
        self.free = None
        self.pinned_by = None
        self.restore = None
        self.switches = []  # [steps observed so far, new count] for every change
        self.steps = 0
        self.times = []
        self.best = {}
        self.probing = None  # while a probe runs: the count to go back to
        self.before = None
        self.dwell = FIRST_DWELL
        self.since_probe = 0
        self.probe_seconds = 0.0
        self.skip = 0

    def decide(self) -> None:
        """Choose the start count (once; :meth:`start`, :meth:`state` and :meth:`record` call this)."""
        if self.decided:
            return
        self.decided = True
        default = blas_count()
        if default is None:
            return
        ceiling = max(1, min(default, allowed_cores()))
        widest = max(ceiling, self.asked or 1)
        if self.check is not None and widest > 1:
            self.invariant = same_numbers(self.check, (1, widest))
        if self.asked is not None:
            self.count = self.asked
        elif not self.invariant:
            self.count = default  # the numbers could depend on the count: BLAS's own, as without nnlearn
        else:
            self.count, self.free = start_count(ceiling)
            self.high = self.count if self.count > 1 else ceiling
            self.adaptive = self.high > 1
        self.first = self.count

    def state(self) -> dict:
        """What a checkpoint keeps: the count in use and whether the numbers depend on it."""
        self.decide()
        return {"count": self.count, "invariant": self.invariant}

    def resume(self, saved) -> None:
        """Continue a run whose checkpoint holds ``saved`` (:meth:`state`): unless its numbers are known
        not to depend on the thread count, keep the count it was on, whatever is asked now."""
        if not isinstance(saved, dict) or saved.get("invariant") is True:
            return
        count = saved.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            self.decide()
            if self.count is not None:
                self.count = self.first = count
                self.adaptive = False
                self.pinned_by = "checkpoint"

    def start(self) -> None:
        """Apply the count; :meth:`stop` gives BLAS its own back."""
        self.decide()
        if self.count is not None and self.restore is None:
            self.restore = blas().limit(limits=self.count)
            self.skip = 2  # the first steps allocate buffers and wake threads up

    def stop(self) -> None:
        if self.restore is not None:
            self.restore.restore_original_limits()
            self.restore = None

    def observe(self, seconds: float) -> None:
        """One step took ``seconds``; every :data:`WINDOW` steps the window is judged (and may switch)."""
        self.steps += 1
        if not self.adaptive:
            return
        if self.probing is not None:
            # A probe that has taken as long as a whole window on the old count cannot win: it ends at
            # once (two threads beside a busy core can be 100 times slower per step than one).
            self.probe_seconds += seconds
            if self.probe_seconds > WINDOW * self.before:
                self.end_probe(kept=False)
                return
        if self.skip:
            self.skip -= 1
            return
        self.times.append(seconds)
        if len(self.times) == WINDOW:
            window = statistics.median(self.times)
            self.times.clear()
            self.judge(window)

    def judge(self, window: float) -> None:
        """The rule of the module's docstring, for one window's time."""
        if self.probing is not None:
            self.end_probe(kept=window <= FASTER * self.before, window=window)
            return
        best = self.best[self.count] = min(window, self.best.get(self.count, math.inf))
        self.since_probe += 1
        if (self.count > 1 and window > SLOWER * best) or self.since_probe >= self.dwell:
            self.probing, self.before, self.probe_seconds = self.count, window, 0.0
            self.dwell *= 2
            self.since_probe = 0
            self.switch(1 if self.count > 1 else self.high)

    def end_probe(self, kept: bool, window: float | None = None) -> None:
        back, self.probing = self.probing, None
        if kept:
            self.best[self.count] = window
        else:
            self.best[back] = self.before  # the other count is no better: the slow window is the new normal
            self.switch(back)

    def switch(self, count: int) -> None:
        self.count = count
        set_blas_count(count)
        self.switches.append([self.steps, count])
        self.times.clear()
        self.skip = 2

    def record(self) -> dict:
        """What the run used, for its config and summary: ``threads`` is the count in use now."""
        self.decide()
        return {
            "threads": self.count, "first": self.first, "asked": self.asked, "source": self.source,
            "free_cores": None if self.free is None else round(self.free, 2), "adaptive": self.adaptive,
            "same_numbers_on_any_count": self.invariant, "pinned_by": self.pinned_by,
            "switches": [list(s) for s in self.switches],
        }


@contextlib.contextmanager
def blas_threads(threads=None):
    """Run a computation (gradcheck, evaluation) on the count asked for, else on the free cores.

    Yields the count; BLAS's own is restored afterwards.
    """
    asked, _source = requested(threads)
    default = blas_count()
    if default is None:
        yield None
        return
    count = asked if asked is not None else start_count(max(1, min(default, allowed_cores())))[0]
    with blas().limit(limits=count):
        yield count


_last_reading = cpu_reading()
