"""Probes of the activation functions: ``sigmoid`` (3.2.4) and ``softmax`` (3.5), and the chapter's
example functions ``function_1`` (4.3.2) and ``function_2`` (4.3.3).

The expected values are nnlearn's (``nnlearn.sigmoid``, ``nnlearn.softmax``); the mistakes are
recognised by computing what each would give on the same input.
"""

from __future__ import annotations

import numpy as np

from nnlearn.checker.targets import function_1
from nnlearn.checker.values import close, frozen, has_nan, show
from nnlearn.common.functions import sigmoid, softmax

BOOK_X = frozen([-1.0, 1.0, 2.0])
SOFTMAX_A = frozen([0.3, 2.9, 4.0])
SOFTMAX_BIG = frozen([1010.0, 1000.0, 990.0])
#: Two samples: the rows must be normalised each on its own.
SOFTMAX_BATCH = frozen([[0.3, 2.9, 4.0], [1.0, 2.0, 3.0]])
#: A square batch: a row maximum without keepdims=True is subtracted along the columns, silently.
SOFTMAX_SQUARE = frozen([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0], [0.0, 0.5, 5.0]])


def _call_text(name: str, *args) -> str:
    return f"{name}({', '.join(show(a) for a in args)})"


def probe_sigmoid(fn, p):
    x = BOOK_X
    shown = _call_text("sigmoid", x)
    first = p.attempt(fn, x, show_input=shown)
    if not first.ok:
        if first.error.kind == "TypeError" and p.attempt(fn, 0.5).ok:
            p.fail("math-not-numpy", shown, got=first.error.text, where=first.error.where)
        p.raised(first.error, shown, "sigmoid(x)")
    expected = sigmoid(x)
    if not close(first.value, expected):
        if close(first.value, 1 / (1 + np.exp(x))):
            p.fail("exp-sign", shown, first.value, expected)
        if close(first.value, 1 + np.exp(-x)):
            p.fail("operator-precedence", shown, first.value, expected, section="3.2.4")
        p.wrong(shown, first.value, expected)
    cases = [
        np.float64(0.0),
        np.array([[-1.0, 0.0], [1.0, 2.0]]),
        np.array([-1, 0, 1]),
        np.array([-3.0, 0.5, 4.0], dtype=np.float32),
    ]
    for arg in cases:
        _expect(p, fn, "sigmoid", arg, sigmoid(np.asarray(arg, dtype=np.float64)), rtol=1e-6)
    big = np.array([-1000.0, 1000.0])
    got = p.call(fn, big, show_input=_call_text("sigmoid", big))
    if not close(got, [0.0, 1.0], atol=1e-12):
        if has_nan(got):
            p.fail("sigmoid-overflow", _call_text("sigmoid", big), got, np.array([0.0, 1.0]))
        p.wrong(_call_text("sigmoid", big), got, np.array([0.0, 1.0]))


def _expect(p, fn, name, arg, expected, rtol=1e-6, atol=1e-9):
    shown = _call_text(name, arg)
    got = p.call(fn, arg, show_input=shown)
    if not close(got, expected, rtol=rtol, atol=atol):
        p.wrong(shown, got, expected)
    return got


def whole_batch(a):
    """Softmax normalising the whole batch at once (the one-sample softmax of 3.5 given a batch)."""
    e = np.exp(a - np.max(a))
    return e / np.sum(e)


def columns(a):
    """Softmax normalising each column (``axis=0``) instead of each row."""
    e = np.exp(a - np.max(a, axis=0))
    return e / np.sum(e, axis=0)


def probe_softmax(fn, p):
    shown = _call_text("softmax", SOFTMAX_A)
    first = p.attempt(fn, SOFTMAX_A, show_input=shown)
    batch_first = p.attempt(fn, SOFTMAX_BATCH, show_input=_call_text("softmax", SOFTMAX_BATCH))
    if not first.ok:
        if batch_first.ok and close(batch_first.value, softmax(SOFTMAX_BATCH)):
            p.fail("softmax-axis", shown, got=first.error.text, expected=softmax(SOFTMAX_A), where=first.error.where)
        p.raised(first.error, shown, "softmax(a)")
    _expect(p, fn, "softmax", SOFTMAX_A, softmax(SOFTMAX_A))
    shown = _call_text("softmax", SOFTMAX_BIG)
    got = p.call(fn, SOFTMAX_BIG, show_input=shown)
    if not close(got, softmax(SOFTMAX_BIG), atol=1e-15):
        p.fail("softmax-overflow" if has_nan(got) else "wrong-result", shown, got, softmax(SOFTMAX_BIG))
    for arg in (np.array([1, 2, 3]), SOFTMAX_A.astype(np.float32)):
        _expect(p, fn, "softmax", arg, softmax(arg.astype(np.float64)), rtol=1e-6 if arg.dtype != np.float32 else 1e-5)
    _probe_softmax_batch(fn, p)


def _probe_softmax_batch(fn, p):
    """A batch normalised as a whole (or refused) is the one-sample softmax of 3.5: a warning. A batch
    normalised otherwise wrongly is a failure."""
    single = None
    for batch in (SOFTMAX_BATCH, SOFTMAX_SQUARE):
        shown = _call_text("softmax", batch)
        outcome = p.attempt(fn, batch, show_input=shown)
        expected = softmax(batch)
        if not outcome.ok:
            single = single or p.finding(
                "softmax-single-sample", shown, outcome.error.text, expected, where=outcome.error.where
            )
        elif close(outcome.value, whole_batch(batch)):
            single = single or p.finding(
                "softmax-single-sample", shown, outcome.value, expected, details=[("whole-batch", {})]
            )
        elif not close(outcome.value, expected):
            if has_nan(outcome.value):
                p.fail("softmax-overflow", shown, outcome.value, expected)
            details = [("axis0", {})] if close(outcome.value, columns(batch)) else []
            p.fail("softmax-axis", shown, outcome.value, expected, details=details)
    if single:
        p.add(single)


def probe_function_1(fn, p):
    for arg in (5, 10, np.arange(0.0, 2.0, 0.5)):
        _expect(p, fn, "function_1", arg, function_1(np.asarray(arg, dtype=np.float64)), rtol=1e-12)


def probe_function_2(fn, p):
    for arg in (np.array([3.0, 4.0]), np.array([0.0, 2.0]), np.array([-3.0, 0.5])):
        _expect(p, fn, "function_2", arg, float(np.sum(arg**2)), rtol=1e-12)
