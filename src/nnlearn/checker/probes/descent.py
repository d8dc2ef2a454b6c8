"""Probes of numerical differentiation and gradient descent: ``numerical_diff`` (4.3.1),
``_numerical_gradient_no_batch`` and ``numerical_gradient`` (4.4), ``gradient_descent`` (4.4.1).

The difference formula and the step are read off two evaluations at 0, where rounding cannot blur
them: for f(x) = x**2 the central difference gives exactly 0 and a one-sided one gives +-h; for
f(x) = x**3 the central difference gives h**2. So the reader's h is known before any value is judged,
and a step that only costs precision is a warning, not a failure.
"""

from __future__ import annotations

import numpy as np

from nnlearn.checker.probes.base import Stop
from nnlearn.checker.targets import coupled, cube, function_1, function_2, square, weights_of
from nnlearn.checker.values import close, ratio, show, to_array, to_scalar
from nnlearn.checker.wire import Function
from nnlearn.common.gradient import numerical_diff, numerical_gradient

#: The check's own test functions, shown as what they compute: a name such as ``square`` would read
#: as one of the reader's.
SHOWN = {
    "square": "lambda x: np.sum(x**2)",
    "cube": "lambda x: np.sum(x**3)",
    "coupled": "lambda x: x[0]*x[1] + x[1]**2 * x[2]",
}


def _diff_call(name, f, x) -> str:
    return f"{name}({SHOWN.get(f.__name__, f.__name__)}, {show(x)})"


def _step(p, zero_sq, zero_cube, show_sq: str):
    """The step h and the formula read off f = x**2 and f = x**3 at 0; a one-sided difference stops the row.

    Returns h (None when the formula is not a difference over one step, such as an extrapolation).
    """
    sq, cb = to_array(zero_sq), to_array(zero_cube)
    if sq is None or cb is None or not (np.all(np.isfinite(sq)) and np.all(np.isfinite(cb))):
        return None
    sq, cb = sq.reshape(-1)[0], cb.reshape(-1)[0]
    if sq != 0 and cb > 0 and np.isclose(cb, sq * sq, rtol=1e-3):
        p.add(p.finding("forward-difference", show_sq, zero_sq, 0.0, details=[("h", {"h": f"{abs(sq):.0e}"})]))
        return abs(float(sq))
    return float(np.sqrt(cb)) if cb > 0 else None


def _judge_h(p, h, show_input: str, value_ok: bool):
    """h-too-small / h-too-large (failures) or unusual-h (a warning) for a step ``h``."""
    if h is None:
        return
    details = [("h", {"h": f"{h:.0e}"})]
    if h < 1e-9 or (h < 1e-6 and not value_ok):
        p.fail("h-too-small", show_input, details=details)
    if h > 1e-1:
        p.fail("h-too-large", show_input, details=details)
    if h < 1e-6 or h > 1e-3:
        p.add(p.finding("unusual-h", show_input, details=details))


def _first(value):
    arr = to_array(value)
    return None if arr is None or arr.size == 0 else float(arr.reshape(-1)[0])


def _precedence(p, got, expected, zero_cube, show_input: str) -> None:
    """``(f(x+h) - f(x-h)) / 2*h`` gives h**2 times the derivative, and h**4 for x**3 at 0."""
    q, cb = ratio(got, expected), _first(zero_cube)
    if q is not None and cb is not None and 0 < q < 1e-3 and np.isclose(cb, q * q, rtol=1e-3):
        p.fail("operator-precedence", show_input, got, expected, section="4.3.1")


def _judge_formula(p, zero_sq, zero_cube, shown_sq, got, expected, value_ok: bool, shown: str) -> bool:
    """The verdicts on the formula and the step read off f = x**2 and x**3 at 0 (a forward difference
    ends the row there); returns whether the values are then compared loosely (an unusual h)."""
    h = _step(p, zero_sq, zero_cube, shown_sq)
    if not value_ok:
        _precedence(p, got, expected, zero_cube, shown)
    _judge_h(p, h, shown, value_ok)
    if any(f.id == "forward-difference" for f in p.findings):
        raise Stop()
    return h is not None and (h < 1e-6 or h > 1e-3)


def probe_numerical_diff(fn, p):
    shown_sq = _diff_call("numerical_diff", square, 0.0)
    zero_sq = p.call(fn, square, 0.0, show_input=shown_sq)
    zero_cube = p.call(fn, cube, 0.0, show_input=_diff_call("numerical_diff", cube, 0.0))
    shown = _diff_call("numerical_diff", function_1, 5)
    got = p.call(fn, function_1, 5, show_input=shown)
    expected = numerical_diff(function_1, 5)
    value_ok = close(got, 0.2, rtol=1e-6)
    loose = _judge_formula(p, zero_sq, zero_cube, shown_sq, to_scalar(got), 0.2, value_ok, shown)
    if not value_ok:
        p.wrong(shown, got, expected)
    for f, x, exact in ((function_1, 10, 0.3), (np.sin, 1.0, np.cos(1.0))):
        shown = _diff_call("numerical_diff", f, x)
        got = p.call(fn, f, x, show_input=shown)
        if not close(got, exact, rtol=1e-2 if loose else 1e-6):
            p.wrong(shown, got, exact)


def probe_gradient(fn, p, two_d: bool):
    """``_numerical_gradient_no_batch`` (vectors only) and ``numerical_gradient`` (``two_d``: matrices too)."""
    name = p.row
    x = np.array([3.0, 4.0])
    shown = _diff_call(name, function_2, x)
    first = p.call(fn, function_2, x, show_input=shown, mutation="x-not-restored")
    if np.ndim(first) == 0 and to_scalar(first) is not None:
        p.note = "one-d-note"  # the book's gradient_1d.py calls its numerical_diff numerical_gradient
        return probe_numerical_diff(fn, p)
    shown_sq = _diff_call(name, square, np.zeros(2))
    zero_sq = p.call(fn, square, np.zeros(2), show_input=shown_sq, mutation="x-not-restored")
    zero_cube = p.call(fn, cube, np.zeros(2), show_input=_diff_call(name, cube, np.zeros(2)), mutation="x-not-restored")
    expected = numerical_gradient(function_2, x.copy())
    value_ok = close(first, expected, rtol=1e-6, atol=1e-6)
    loose = _judge_formula(p, zero_sq, zero_cube, shown_sq, first, expected, value_ok, shown)
    tol = dict(rtol=1e-3, atol=1e-3) if loose else dict(rtol=1e-6, atol=1e-6)
    _expect_gradient(p, fn, name, function_2, x, expected, tol)
    for point in (np.array([0.0, 2.0]), np.array([3.0, 0.0])):
        _expect_gradient(p, fn, name, function_2, point, 2 * point, tol)
    _expect_gradient(p, fn, name, coupled, np.array([1.0, 2.0, 3.0]), np.array([2.0, 13.0, 4.0]), tol)
    _probe_in_place(fn, p, name, np.array([1.0, 2.0, 3.0]), tol, one_d=True)
    if two_d:
        _probe_two_d(fn, p, name, tol)
    _probe_dtypes(fn, p, name, first)


def _expect_gradient(p, fn, name, f, x, expected, tol, finding_id="wrong-result"):
    shown = _diff_call(name, f, x)
    outcome = p.attempt(fn, f, x, show_input=shown, mutation="x-not-restored")
    if any(finding.id == "x-not-restored" for finding in p.findings):
        raise Stop()  # the values after a shifted point say nothing more
    if not outcome.ok:
        if finding_id != "wrong-result":
            p.fail(finding_id, shown, got=outcome.error.text, expected=expected, where=outcome.error.where)
        p.raised(outcome.error, shown, f"{name}(f, x)")
    if not close(outcome.value, expected, **tol):
        p.wrong(shown, outcome.value, expected, finding_id=finding_id)
    return outcome.value


def _probe_in_place(fn, p, name, w, tol, one_d):
    """The book's f = lambda W: net.loss(x, t): f ignores its argument and reads the array itself."""
    loss_W = Function("weighted_square", arg=1, label="lambda W: net.loss(x, t)")  # reads the array w itself
    expected = 2 * weights_of(w) * w
    shown = _diff_call(name, loss_W, w)
    outcome = p.attempt(fn, loss_W, w, show_input=shown, mutation="x-not-restored")
    if outcome.ok and close(outcome.value, np.zeros_like(w)):
        p.fail("copy-not-in-place", shown, outcome.value, expected, details=[("zeros", {})])
    if not one_d and (not outcome.ok or not close(outcome.value, expected, **tol)):
        got = outcome.error.text if not outcome.ok else outcome.value
        p.fail("one-dimensional-only", shown, got, expected, where=outcome.error.where if not outcome.ok else ())
    if not outcome.ok:
        p.raised(outcome.error, shown, f"{name}(f, x)")
    if not close(outcome.value, expected, **tol):
        p.wrong(shown, outcome.value, expected)


def _probe_two_d(fn, p, name, tol):
    """A gradient right for vectors but not for matrices is the book's 4.4 version: a warning (the
    report makes it a failure where the same file uses it on a matrix)."""
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    try:
        _expect_gradient(p, fn, name, square, x, 2 * x, tol, finding_id="one-dimensional-only")
        _probe_in_place(fn, p, name, np.array([[0.5, -1.0], [2.0, 1.5]]), tol, one_d=False)
    except Stop as stop:
        if stop.finding is None or stop.finding.id != "one-dimensional-only":
            raise
        stop.finding.severity = "warn"
        stop.finding.details.append(["one-d-version", {}])


def _probe_dtypes(fn, p, name, first):
    """Integer arrays (the book's own code returns a wrong gradient: a warning) and float32 ones."""
    if isinstance(first, np.ndarray) and first.dtype == np.float32:
        shown = _diff_call(name, function_2, np.array([3.0, 4.0]))
        p.add(p.finding("float32-precision", shown, first, details=[("dtype", {"dtype": "float32"})]))
    xi = np.array([3, 4])
    shown = _diff_call(name, function_2, xi)
    outcome = p.attempt(fn, function_2, xi, show_input=shown, mutation="x-not-restored")
    if outcome.ok and not close(outcome.value, [6.0, 8.0], rtol=1e-3, atol=1e-3):
        p.add(p.finding("integer-input", shown, outcome.value, np.array([6.0, 8.0])))
    xf = np.array([3.0, 4.0], dtype=np.float32)
    shown = _diff_call(name, function_2, xf)
    got = p.call(fn, function_2, xf, show_input=shown, mutation="x-not-restored")
    if not close(got, [6.0, 8.0], rtol=5e-2, atol=5e-2):
        p.wrong(shown, got, np.array([6.0, 8.0]))


def _descent_result(value):
    """The x of ``gradient_descent``'s result: the book's ch04 script returns ``(x, x_history)``."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and to_array(value[0]) is not None:
        if np.shape(to_array(value[0])) == (2,):
            return value[0]
    return value


def probe_gradient_descent(fn, p):
    init = np.array([-3.0, 4.0])
    for lr, steps in ((0.1, 3), (0.2, 3), (1e-10, 100), (0.1, 100)):
        x0 = init.copy()
        shown = f"gradient_descent(function_2, init_x={show(x0)}, lr={lr!r}, step_num={steps})"
        got = _descent_result(p.call(fn, function_2, x0, lr, steps, show_input=shown, mutation="init-x-mutated"))
        expected = init * (1 - 2 * lr) ** steps
        if close(got, expected, rtol=1e-4, atol=1e-4):
            continue
        if close(got, init * (1 + 2 * lr) ** steps, rtol=1e-3, atol=1e-3):
            p.fail("lr-sign", shown, got, expected)
        for k in range(0, 2 * steps + 2):
            if k != steps and close(got, init * (1 - 2 * lr) ** k, rtol=1e-4, atol=1e-6):
                p.fail("step-count", shown, got, expected, details=[("steps", {"steps": k, "expected": steps})])
        p.wrong(shown, got, expected)
