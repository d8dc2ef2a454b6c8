"""Numerical differentiation, partial derivatives, gradients and gradient descent (chapter 4.3-4.4).

These are the book's algorithms, written so that their numbers are the book's to the last digit:
the central difference ``(f(x + h) - f(x - h)) / (2 * h)`` with ``h = 1e-4``.
"""

from __future__ import annotations

import warnings

import numpy as np

from nnlearn.base.constraints import (
    COUNT,
    FLAG,
    Options,
    callable_name,
    check,
    check_callable,
    check_finite,
    check_real_point,
    check_real_result,
)
from nnlearn.base.errors import DivergenceError, InputError, InputTypeError
from nnlearn.base.i18n import _
from nnlearn.common.derivatives import complex_copy, derivative

_METHODS = ("central", "forward", "backward")
_GRADIENT_METHODS = _METHODS + ("complex", "richardson", "auto")


def numerical_diff(f, x, h=1e-4, method="central"):
    """Derivative of a function of one variable by a finite difference (``x`` may be an array of points).

    ``h`` too large and the secant is not the tangent (truncation error); too small and ``x + h``
    rounds to ``x`` (rounding error): the book's 1e-4 balances the two for the ``central`` difference,
    whose error shrinks like h**2 (the ``forward`` and ``backward`` differences' only like h).

    Examples
    --------
    The chapter's function f(x) = 0.01x**2 + 0.1x, whose true slope is 0.2 at 5 and 0.3 at 10:

    >>> def function_1(x):
    ...     return 0.01 * x**2 + 0.1 * x
    >>> numerical_diff(function_1, 5)
    0.1999999999990898
    >>> numerical_diff(function_1, 10)
    0.2999999999986347

    The "bad" forward difference with h = 10e-50: 5 + 1e-49 rounds to 5, so the difference is 0.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     numerical_diff(function_1, 5, h=10e-50, method="forward")
    0.0

    ``x`` must be a number and ``f`` must return one:

    >>> numerical_diff(function_1, "5")
    Traceback (most recent call last):
    ...
    nnlearn.base.errors.InputTypeError: x must be a real number or an array of real numbers, got str '5'
    """
    Options(_METHODS).check(method, "method")
    check_callable(f)
    check_real_point(x)
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)  # several points at once, for an f that takes an array
    h = check("h", h)
    if np.any(np.asarray(x) + h == np.asarray(x)):
        warnings.warn(
            _(
                "h={h:g} is below the spacing of floating-point numbers at x, so x + h == x and the difference is lost "
                "to rounding; use h around 1e-4",
                h=h,
            ),
            RuntimeWarning,
            stacklevel=2,
        )
    # The same expressions as the book's, only with each value of f checked on its way.
    if method == "central":
        return (_real(f, x + h) - _real(f, x - h)) / (2 * h)
    if method == "forward":
        return (_real(f, x + h) - _real(f, x)) / h
    return (_real(f, x) - _real(f, x - h)) / h


def _real(f, t):
    """f(t), refused with a one-line error when it is not a real number (None, a complex number)."""
    value = f(t)
    check_real_result(value, f, t)
    return value


def numerical_gradient(f, x, h=None, method="central"):
    """Gradient of ``f`` at ``x`` by central differences, one element of ``x`` at a time.

    Each element of ``x`` (a writable, finite float array of any shape) is perturbed **in place**,
    so ``f`` may read the same array elsewhere, as the book's ``lambda W: net.loss(x, t)`` does, and
    is restored exactly afterwards, also when ``f`` raises. ``h`` is the book's 1e-4 for ``central``,
    ``forward`` and ``backward``; the other methods of :func:`nnlearn.derivative` (``complex``, which
    calls ``f`` on a complex copy of ``x``, ``richardson``, ``auto``) need float64 and give partial
    derivatives to machine precision. Returns float64, the shape of ``x``.

    Examples
    --------
    >>> def function_2(x):
    ...     return x[0]**2 + x[1]**2
    >>> numerical_gradient(function_2, np.array([3.0, 4.0]))
    array([6., 8.])
    >>> numerical_gradient(function_2, np.array([3.0, 4.0])).tolist()
    [6.00000000000378, 7.999999999999119]
    >>> numerical_gradient(function_2, np.array([0.0, 2.0]))
    array([0., 4.])
    >>> numerical_gradient(function_2, np.array([3.0, 0.0]))
    array([6., 0.])

    To machine precision:

    >>> numerical_gradient(function_2, np.array([3.0, 4.0]), method="auto").tolist()
    [6.0, 8.0]
    """
    Options(_GRADIENT_METHODS).check(method, "method")
    check_callable(f, _("a function of the array x"))
    if method in _METHODS and h is None:
        h = 1e-4
    if h is not None:
        h = check("h", h)
    _check_array_to_perturb(x)
    if method != "central":
        return _gradient_by(f, x, h, method)
    _check_step_survives(x, h)
    grad = central_differences(f, x, h)
    _warn_not_finite(grad, f, h)
    return grad


def central_differences(f, x, h, flat_indices=None):
    """The book's loop: each element perturbed in place by +-h, f twice, the element restored.

    With ``flat_indices``, only those elements (the others' partial derivatives left 0).
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    every = np.ndindex(x.shape) if flat_indices is None else zip(*np.unravel_index(flat_indices, x.shape))
    for idx in every:
        tmp_val = x[idx]
        try:
            x[idx] = float(tmp_val) + h
            fxh1 = _scalar(f(x), f, idx)
            x[idx] = float(tmp_val) - h
            fxh2 = _scalar(f(x), f, idx)
        finally:
            x[idx] = tmp_val
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: the caller says it in words
            grad[idx] = (fxh1 - fxh2) / (2 * h)
    return grad


def _warn_not_finite(grad: np.ndarray, f, h) -> None:
    """Say where the gradient is NaN or inf: the other methods warn the same way, and a NaN returned in
    silence looked like a bug in the reader's network."""
    bad = np.argwhere(~np.isfinite(grad))
    if not len(bad):
        return
    idx = tuple(int(i) for i in bad[0])
    where = f"x[{', '.join(map(str, idx))}]" if idx else "x"
    more = _(" (and {n} more)", n=len(bad) - 1) if len(bad) > 1 else ""
    warnings.warn(
        _(
            "the gradient is {value} at {where}{more}: {f} is not finite (NaN or inf) within h={h} of that "
            "point; x lies outside f's domain there, or f overflows",
            value=grad[idx],
            where=where,
            more=more,
            f=callable_name(f),
            h=format(h, "g"),
        ),
        RuntimeWarning,
        stacklevel=3,
    )


def _check_array_to_perturb(x) -> None:
    """``x`` must be what the book's loop can perturb in place: a writable, finite float ndarray."""
    if not isinstance(x, np.ndarray):
        raise InputTypeError(
            _(
                "numerical_gradient perturbs x in place, so x must be a NumPy float array, got {type}; pass "
                "np.array(x, dtype=np.float64)",
                type=type(x).__name__,
            )
        )
    if x.dtype.kind in "biu":
        raise InputTypeError(
            _(
                "x is an integer array ({dtype}): x[i] + h would be stored back as an integer, so every partial derivative "
                "would be wrong (the book's own numerical_gradient gives [5000, 15000] for x0**2 + x1**2 at np.array([1, "
                "2]), its repository's issue #51); pass x.astype(np.float64)",
                dtype=x.dtype,
            )
        )
    if x.dtype.kind != "f":
        raise InputTypeError(
            _("x must be a float array, got {dtype}; pass np.asarray(x, dtype=np.float64)", dtype=x.dtype)
        )
    if not x.flags.writeable:
        raise InputError(
            _(
                "x is read-only, but numerical_gradient perturbs it in place (as the book's does, and "
                "restores it); pass a writable copy, x.copy()"
            )
        )
    check_finite(x, "x", _("a gradient needs a point of finite numbers"))


def _check_step_survives(x, h) -> None:
    """Refuse an ``x`` where ``x[i] +- h`` rounds back to ``x[i]`` in x's dtype (that partial derivative
    would silently be 0); warn where the step is only a few units in the last place."""
    wide = x.astype(np.float64)
    lost = ((wide + h).astype(x.dtype) == x) | ((wide - h).astype(x.dtype) == x)
    if lost.any():
        idx = tuple(int(i) for i in np.argwhere(lost)[0])
        where = f"x[{', '.join(map(str, idx))}] = {x[idx]:g}" if x.ndim else f"x = {x[()]:g}"
        fix = (
            _("pass x.astype(np.float64)")
            if x.dtype != np.float64
            else _("use a step h above {step:.1g}", step=np.spacing(x[idx]))
        )
        raise InputError(
            _(
                "x is {dtype}: {where} plus or minus the step h={h:g} rounds back to itself (the {dtype} numbers there are "
                "{spacing:.2g} apart), so that partial derivative would be 0; {fix}",
                dtype=x.dtype,
                where=where,
                h=h,
                spacing=np.spacing(x[idx]),
                fix=fix,
            )
        )
    if x.dtype.itemsize < 8 and x.size:
        units = h / float(np.max(np.spacing(np.abs(x))))
        warnings.warn(
            _(
                "x is {dtype}: a step of h={h:g} is then only about {units:.0f} units in the last place of x, so the "
                "gradient has a relative error near {error:.0e}; convert x to float64 to check gradients",
                dtype=x.dtype,
                h=h,
                units=units,
                error=1 / units,
            ),
            RuntimeWarning,
            stacklevel=3,
        )


def _gradient_by(f, x, h, method):
    """Each partial derivative by nnlearn.derivative, through a function of that element alone."""
    if x.dtype != np.float64:
        raise InputTypeError(
            _(
                "method={method!r} chooses its steps for float64, got x of {dtype}; pass x.astype(np.float64)",
                method=method,
                dtype=x.dtype,
            )
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        grad[idx] = derivative(_along(f, x, idx), float(x[idx]), method=method, h=h)
    return grad


def _along(f, x, idx):
    """``t -> f(x with x[idx] = t)``: a real t in place (restored also when f raises), a complex t in a
    complex copy (a float array cannot hold it)."""

    def g(t):
        if np.iscomplexobj(t):
            return f(complex_copy(x, idx, t))
        old = x[idx]
        try:
            x[idx] = t
            return f(x)
        finally:
            x[idx] = old

    return g


def _scalar(value, f, idx) -> float:
    check_real_result(value, f, f"x with x[{', '.join(map(str, idx))}] stepped")
    arr = np.asarray(value)
    if arr.size != 1:
        raise InputError(_("f must return a scalar, got an array of shape {shape}", shape=arr.shape))
    return float(arr.reshape(()))


def gradient_descent(f, init_x, lr=0.01, step_num=100, return_path=False):
    """Minimise ``f`` by gradient descent: ``x <- x - lr * grad f(x)``, ``step_num`` times.

    Returns the final ``x`` (``init_x`` is not modified); with ``return_path=True`` also the start and
    every step, ``(step_num + 1,) + x.shape``. An ``x`` that becomes inf or NaN raises
    :class:`DivergenceError` (the learning rate is too large).

    Examples
    --------
    >>> def function_2(x):
    ...     return x[0]**2 + x[1]**2
    >>> init_x = np.array([-3.0, 4.0])
    >>> gradient_descent(function_2, init_x, lr=0.1, step_num=100)
    array([-6.11110793e-10,  8.14814391e-10])

    A learning rate too large diverges, one too small barely moves:

    >>> gradient_descent(function_2, init_x, lr=10.0, step_num=100)
    array([-2.58983747e+13, -1.29524862e+12])
    >>> gradient_descent(function_2, init_x, lr=1e-10, step_num=100)
    array([-2.99999994,  3.99999992])
    """
    lr = check("lr", lr)
    step_num = COUNT.check(step_num, "step_num")
    return_path = FLAG.check(return_path, "return_path")
    check_real_point(init_x, "init_x")
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()] if return_path else None
    check_callable(f, _("a function of the array x"))
    for step in range(1, step_num + 1):
        # The book's loop on a float64 copy, kept finite below; no refusal of x's size: the book's
        # lr=10 example runs on to 1e13, where 1e-4 is below the spacing of x, as in the book.
        grad = central_differences(f, x, 1e-4)
        x -= lr * grad
        if not np.all(np.isfinite(x)):
            raise DivergenceError(
                _(
                    "gradient descent diverged to inf/NaN at step {step} of {n} with lr={lr:g}; lower "
                    "the learning rate",
                    step=step,
                    n=step_num,
                    lr=lr,
                )
            )
        if path is not None:
            path.append(x.copy())
    if return_path:
        return x, np.array(path)
    return x
