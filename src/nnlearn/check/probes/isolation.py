"""Judging each row on its own code. A row is probed as it is; when it fails and it calls reader
functions that have already failed, it is probed again with those replaced by the book's (in the
module where the row looks them up), and that second verdict stands, with the row recording that it
uses them.

So a ``gradient_descent`` that calls a broken ``numerical_gradient``, or a ``TwoLayerNet.loss`` that
calls a broken ``cross_entropy_error``, is judged on what it does itself, and the report says to fix
the function it uses first -- one mistake is reported once, where it is. Probing as it is first
keeps a row right that works around its dependency (a ``loss`` that applies softmax itself to a
``predict`` without it).
"""

from __future__ import annotations

import contextlib

import numpy as np

from nnlearn.check.values import Opaque
from nnlearn.functions import sigmoid, softmax
from nnlearn.gradient import gradient_descent, numerical_gradient


def book_cross_entropy_error(y, t):
    """The book's ``common/functions.py`` cross-entropy: one-hot rows or labels, batch average."""
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t)
    if y.ndim == 1:
        t, y = t.reshape(1, t.size), y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t.reshape(-1)] + 1e-7)) / y.shape[0]


def book_numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def book_mean_squared_error(y, t):
    return 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2)


#: The book's version of each function row, standing in for a failing one.
REFERENCES = {
    "sigmoid": sigmoid,
    "softmax": softmax,
    "mean_squared_error": book_mean_squared_error,
    "cross_entropy_error": book_cross_entropy_error,
    "numerical_diff": book_numerical_diff,
    "_numerical_gradient_no_batch": numerical_gradient,
    "numerical_gradient": numerical_gradient,
    "gradient_descent": gradient_descent,
}


def judged(run, stand_ins):
    """``run()`` (a fresh probe, run) as it is; if it fails, again inside ``stand_ins()`` (a context that
    yields the rows it stood in for). Returns the probe whose verdict stands and the rows it uses: the
    second, unless it fails the same way as the first (then the mistake is the row's own)."""
    probe = run()
    if all(f.severity != "fail" for f in probe.findings):
        return probe, []
    with stand_ins() as uses:
        if not uses:
            return probe, []
        second = run()
    failures = lambda p: {f.id for f in p.findings if f.severity == "fail"}  # noqa: E731
    if failures(second) == failures(probe):  # the same mistake either way: the row's own, not its dependency's
        return probe, []
    return second, uses


class Isolation:
    """The reader's failing function rows so far (handles in the child), and the stand-ins for them."""

    def __init__(self, remote):
        self.remote = remote
        self.failing: dict = {}  # row -> the reader's function, an Opaque handle

    def failed(self, row: str, obj) -> None:
        if row in REFERENCES and isinstance(obj, Opaque):
            self.failing[row] = obj

    @contextlib.contextmanager
    def applied(self, fn):
        """While probing ``fn``: every global it names that is a failing reader function is the book's
        (swapped in the child, in the module where ``fn`` looks it up).

        Yields the list of rows stood in for.
        """
        if not self.failing or not isinstance(fn, Opaque) or fn.handle < 0:
            yield []
            return
        rows, token = self.remote.isolate(fn, self.failing)
        try:
            yield sorted(rows)
        finally:
            if not self.remote.dead:
                self.remote.restore(token)
