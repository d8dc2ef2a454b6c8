"""Where the trials run (a Dask client: given, a running cluster's, or a local cluster's) and the driver's
loop: keep every worker thread busy with a trial; tell Optuna each result as it comes.

The driver asks Optuna for as many trials as the cluster has threads, submits each as a Dask task
and, as each task finishes, hands its record on (:meth:`TrialLoop.run`'s ``on_record``: the sweep
folder writes it and tells Optuna) and asks for the next (ask/tell). Only the driver talks to
Optuna and writes files; a task is a pure function of its arguments, so Dask may run it again
elsewhere when a worker dies. The training arrays reach each worker once: the driver scatters them
(broadcast) and every task takes that one future; when every worker holding them has died, they are
scattered again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass, replace

from nnlearn.base.errors import NnlearnError
from nnlearn.base.i18n import _
from nnlearn.sweep.study import ask
from nnlearn.sweep.trial import record, run_trial

INSTALL = 'pip install "nnlearn[sweep]"'


def require_sweep_packages():
    """Import ``optuna`` and ``distributed``, or say in one line how to install them.

    Examples
    --------
    >>> optuna, distributed = require_sweep_packages()
    >>> optuna.__name__, distributed.__name__
    ('optuna', 'distributed')
    """
    missing = []
    modules = []
    for name in ("optuna", "distributed"):
        try:
            modules.append(__import__(name))
        except ImportError:
            missing.append("dask[distributed]" if name == "distributed" else name)
    if missing:
        raise NnlearnError(
            _(
                "nnlearn sweep needs {names}; install them with: {command}",
                names=_(" and ").join(missing),
                command=INSTALL,
            )
        )
    return tuple(modules)


def connect(client=None, workers=None, scheduler=None):
    """``(client, things to close)``: ``client`` itself, a client of the cluster at ``scheduler``
    (``tcp://HOST:PORT``), or of a new local cluster of ``workers`` processes (default: the cores)."""
    import distributed

    if client is not None:
        return client, []
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise NnlearnError(
                _(
                    "cannot reach the Dask scheduler at {scheduler} ({reason}); start it with `dask "
                    "scheduler` and give its tcp://HOST:PORT",
                    scheduler=scheduler,
                    reason=exc,
                )
            ) from None
        return client, [client]
    cluster = local_cluster(workers or os.cpu_count() or 1)
    client = distributed.Client(cluster)
    return client, [client, cluster]


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` processes, one thread and one BLAS thread each."""
    import dask
    import distributed

    # One BLAS thread per worker process: K processes share the cores instead of fighting for them.
    # (This replaces Dask's default, whose MALLOC_TRIM_THRESHOLD_ made training ~30 % slower here.)
    one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    # Ctrl-C in a terminal reaches every process of the group: the workers ignore it (they inherit
    # SIG_IGN) and the driver alone stops the sweep, cleanly.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": one}):
            # No dashboard; the scheduler's small HTTP server on a free port of 127.0.0.1.
            return distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


#: How many times a trial is sent again with the data scattered anew after the workers holding it died.
RESCATTER = 3


class CriticalSections:
    """Ctrl-C while the driver writes (the study, a record) waits until the write is done.

    A ``KeyboardInterrupt`` raised in the middle of an append would leave a cut line in the
    journal. Between writes -- while waiting for trials -- Ctrl-C stops at once.
    """

    def __init__(self):
        self.inside = False
        self.pending = False
        self.previous = None

    def handler(self, signum, frame):
        if self.inside:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handler)

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    @contextlib.contextmanager
    def section(self):
        self.inside = True
        try:
            yield
        finally:
            self.inside = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


@dataclass(frozen=True)
class Task:
    """A trial to run: its number, its sampled values, and how often it was sent again."""

    number: int
    values: dict
    attempt: int = 0


class TrialLoop:
    """Run a sweep's trials on a Dask ``client`` until ``target`` trials are asked and all are back.

    ``pending`` are trials to run before asking new ones (those a dead driver left running).
    """

    def __init__(self, client, study, spec, payload: dict, n_val: int, target: int, *, pending=()):
        import distributed

        self.client, self.study, self.spec = client, study, spec
        self.payload, self.n_val, self.target = payload, n_val, target
        self.pending = deque(pending)
        self.asked = len(study.get_trials(deepcopy=False))
        self.running = {}  # a task's key -> (its future, its Task)
        self.completed = distributed.as_completed()
        self.data = self.scatter()

    def scatter(self):
        return self.client.scatter([self.payload], broadcast=True, hash=False)[0]

    def capacity(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def fill(self) -> None:
        """Submit trials until every thread has one or no trial is left to ask."""
        while len(self.running) < self.capacity() and (self.pending or self.asked < self.target):
            if self.pending:
                self.submit(self.pending.popleft())
                continue
            trial = ask(self.study, self.spec)
            self.asked += 1
            self.submit(Task(trial.number, dict(trial.params)))

    def submit(self, task: Task) -> None:
        settings = self.spec.settings(task.values).to_dict()
        future = self.client.submit(run_trial, self.data, settings, self.n_val, task.number, pure=False, retries=1)
        self.running[future.key] = (future, task)
        self.completed.add(future)

    def record_of(self, future) -> dict | None:
        """The record of a task that ended; None when it was sent again (the data had been lost)."""
        task = self.running.pop(future.key)[1]
        if future.status == "finished":
            rec = future.result()
        elif self.data.status != "finished" and task.attempt < RESCATTER:
            self.data = self.scatter()  # every worker holding the data died: send it again, run again
            self.submit(replace(task, attempt=task.attempt + 1))
            return None
        else:
            exc = future.exception() if future.status == "error" else None
            rec = record(
                task.number,
                "FAIL",
                f"{type(exc).__name__}: {exc}" if exc is not None else _("the task was {status}", status=future.status),
            )
        return rec | {"params": task.values}

    def run(self, on_record, critical: CriticalSections) -> None:
        """Run to the end; ``on_record(rec)`` for each trial, inside ``critical`` sections."""
        with critical.section():
            self.fill()
        for future in self.completed:
            with critical.section():
                rec = self.record_of(future)
                if rec is not None:
                    on_record(rec)
                self.fill()

    def cancel(self) -> None:
        """Cancel the tasks still running (their trials stay RUNNING in the study: a resume runs them)."""
        self.client.cancel([pair[0] for pair in self.running.values()])
