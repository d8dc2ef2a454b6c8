"""The driver's loop: keep every worker thread busy with a trial; tell Optuna each result as it comes.

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
import signal
import threading
from collections import deque
from dataclasses import dataclass, replace

from nnlearn.base.i18n import _
from nnlearn.sweep.study import ask
from nnlearn.sweep.trial import record, run_trial

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

    ``pending`` are trials to run before asking new ones (those a dead driver left running);
    ``trial`` is the task function (:func:`~nnlearn.sweep.trial.run_trial`, or a wrapper of it).
    """

    def __init__(self, client, study, spec, payload: dict, n_val: int, target: int, *, pending=(), trial=run_trial):
        import distributed

        self.client, self.study, self.spec = client, study, spec
        self.payload, self.n_val, self.target, self.trial = payload, n_val, target, trial
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
        future = self.client.submit(self.trial, self.data, settings, self.n_val, task.number, pure=False, retries=1)
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
