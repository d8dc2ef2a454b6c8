"""Judging each row on its own code. A row that fails while it calls reader functions that have
already failed is probed again with those replaced by the book's, and that verdict stands, the row
recording that it uses them: one mistake is reported once, where it is. Probing as it is first keeps
a row right that works around its dependency (a ``loss`` that applies softmax to a ``predict`` without).
"""

from __future__ import annotations

import contextlib

import numpy as np

from nnlearn.checker.booklayout.common.functions import sum_squared_error
from nnlearn.checker.values import Opaque
from nnlearn.common.functions import sigmoid, softmax
from nnlearn.common.gradient import gradient_descent, numerical_gradient


def book_cross_entropy_error(y, t):
    """The book's ``common/functions.py`` cross-entropy: one-hot rows or labels, batch average."""
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t)
    if y.ndim == 1:
        t, y = t.reshape(1, t.size), y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t.reshape(-1)] + 1e-7)) / y.shape[0]


def book_predict(params: dict, x):
    """The book's ``TwoLayerNet.predict`` with the weights ``params`` (W1, b1, W2, b2), in float64."""
    p = {k: np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
    z1 = sigmoid(np.asarray(x, dtype=np.float64) @ p["W1"] + p["b1"].reshape(-1))
    return softmax(z1 @ p["W2"] + p["b2"].reshape(-1))


def book_numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


#: The book's version of each function row, standing in for a failing one.
REFERENCES = {
    "sigmoid": sigmoid,
    "softmax": softmax,
    "mean_squared_error": sum_squared_error,
    "cross_entropy_error": book_cross_entropy_error,
    "numerical_diff": book_numerical_diff,
    "_numerical_gradient_no_batch": numerical_gradient,
    "numerical_gradient": numerical_gradient,
    "gradient_descent": gradient_descent,
}


def judged(run, stand_ins):
    """``run()`` (a fresh probe, run) as it is; if it fails, again inside ``stand_ins()`` (a context that
    yields the rows it stood in for; ``stand_ins(only=[row])`` stands in for that row alone). Returns
    the probe whose verdict stands and the rows it uses: the second, unless it fails the same way as
    the first (then the mistake is the row's own). When one of several stand-ins is enough, only that
    one is blamed (a right one-sample softmax is not blamed for a label-only loss beside it)."""
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
    if len(uses) > 1 and not failures(second):
        for row in uses:
            with stand_ins(only=[row]) as alone:
                third = run()
            if not failures(third):
                return third, alone
    return second, uses


class Isolation:
    """The reader's failing function rows so far (handles in the child), and the stand-ins for them.

    A row that passes with only a warning of the book's earlier versions (the one-sample softmax,
    the one-form cross entropy, the 1-D gradient) is "limited": it is stood in for too, so that a
    network that uses it where it stops working is judged on its own code, and the report can say
    where the limited function was used (see :func:`nnlearn.checker.report.escalated`).
    """

    def __init__(self, remote):
        self.remote = remote
        self.failing: dict = {}  # row -> the reader's function, an Opaque handle

    def failed(self, row: str, obj) -> None:
        if row in REFERENCES and isinstance(obj, Opaque):
            self.failing[row] = obj

    @contextlib.contextmanager
    def applied(self, fn, cls=None, stop=frozenset(), only=None, net=None, methods=None):
        """While probing ``fn``: every failing reader function it calls, at any depth (through the
        reader's other functions and, with ``cls``, the class's other methods), is the book's, in the
        module where it is looked up (swapped in the child, :func:`nnlearn.checker.child.reachable`);
        so are the failing ``methods`` of the network ``net`` it calls (row -> (spelling, kind, path)).

        Yields the list of rows stood in for; ``only``: these rows alone.
        """
        failing = {row: obj for row, obj in self.failing.items() if only is None or row in only}
        methods = {row: m for row, m in (methods or {}).items() if only is None or row in only}
        if not isinstance(net, Opaque) or net.handle < 0:
            methods = {}
        if not (failing or methods) or not isinstance(fn, Opaque) or fn.handle < 0:
            yield []
            return
        rows, token = self.remote.isolate(fn, failing, cls, stop, net, methods)
        try:
            yield sorted(rows, key=lambda row: (row in methods, row))  # the functions first, then the methods
        finally:
            if not self.remote.dead:
                self.remote.restore(token)
