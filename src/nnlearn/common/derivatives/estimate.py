"""``derivative``: each point by the method asked for (``auto``: the complex step or Richardson), with warnings that say why."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from nnlearn.base.constraints import FLAG, POSITIVE, Options, as_float_array, check_finite
from nnlearn.base.i18n import N_, _
from nnlearn.common.derivatives.differences import (
    CENTRAL_REL_STEP,
    JUMP_SHRINK,
    central,
    central_value,
    complex_step,
    complex_step_default,
    complex_step_error,
    one_sided,
    richardson,
    scale,
)
from nnlearn.common.derivatives.evaluator import Evaluator

METHODS = ("auto", "forward", "backward", "central", "complex", "richardson")


@dataclass(frozen=True)
class DerivativeResult:
    """What :func:`derivative` returns with ``full_output=True`` (arrays for an array of points): ``error``
    estimates ``df``'s absolute error (inf where none could be made); ``method`` is the one used at each
    point (``auto`` resolves to ``complex``, ``richardson`` or ``none`` where ``f`` is not finite);
    ``nfev`` counts the calls of ``f``; ``h`` is the step finally used."""

    df: float | np.ndarray
    error: float | np.ndarray
    method: str | np.ndarray
    nfev: int
    h: float | np.ndarray


def _cross_check(ev, x, cs):
    """Does the complex-step slope agree with a real central difference? Tries a few steps so that
    steep or oscillating functions are not mistaken for non-analytic ones."""
    s = scale(x)
    steps = [CENTRAL_REL_STEP * s, CENTRAL_REL_STEP * s / 100, CENTRAL_REL_STEP * s / 1e4]
    if s > 1e4:
        steps.append(CENTRAL_REL_STEP)  # sin(x) at x = 1e8 varies on a unit scale, not on |x|
    for h in steps:
        d, step, rounding = central_value(ev, x, h)
        if step == 0 or not math.isfinite(d):
            continue
        if abs(d - cs) <= 1e-6 * abs(cs) + 100 * rounding:
            return True
    return False


def _auto(ev, x, h, full):
    fx = ev.at(x)
    if not math.isfinite(fx):
        return math.nan, math.nan, math.nan, "none"
    hc = complex_step_default(x)
    fz, non_analytic = ev.probe(complex(x, hc))
    cs = None
    # Re f(x + ih) = f(x) - h**2 f''(x) / 2 + ...: where f(x) is 0 that term is all there is, so allow it (up to h)
    if not non_analytic and fz is not None and abs(fz.real - fx) <= 1e-12 * abs(fx) + hc:
        cs = fz.imag / hc
        if _cross_check(ev, x, cs):
            return cs, complex_step_error(fz, x, hc), hc, "complex"
    kinks = len(ev.kinks)
    d, err, h_last = richardson(ev, x, h, full)
    smooth = len(ev.kinks) == kinks
    if cs is not None and smooth and math.isfinite(d) and abs(cs - d) <= max(3 * err, 1e-6 * abs(d)):
        # The real differences were only too coarse to confirm the complex step; it is the better value.
        return cs, complex_step_error(fz, x, hc), hc, "complex"
    return d, err, h_last, "richardson"


_BY_METHOD = {
    "forward": lambda ev, x, h, full: one_sided(ev, x, h, +1, full),
    "backward": lambda ev, x, h, full: one_sided(ev, x, h, -1, full),
    "central": central,
    "complex": complex_step,
    "richardson": richardson,
}


def _one_point(ev, x, method, h, full):
    if method == "auto":
        return _auto(ev, x, h, full)
    return (*_BY_METHOD[method](ev, x, h, full), method)


def derivative(f, x, method="auto", h=None, full_output=False):
    """Derivative of a function of one real variable, at one point or at an array of points.

    ``f(t)`` returns one number for a float ``t`` (a complex one for a complex ``t``). ``method``:
    ``forward`` and ``backward`` (error ~ h), the book's ``central`` (error ~ h**2), ``complex``
    (``Im f(x+ih) / h``), ``richardson`` (central differences at steps shrinking by 2, extrapolated to
    h = 0) or ``auto`` (see the package). ``h`` is the (first) step; by default it scales with ``|x|``
    (1 at x = 0): sqrt(eps)|x| one-sided, eps**(1/3)|x| central, 1e-20|x| complex. ``full_output=True``
    returns a :class:`DerivativeResult` instead of the value. The result is float64, NaN (with a
    warning saying why) where ``f`` is not finite near ``x`` or jumps there (``np.sign`` at 0).

    Examples
    --------
    The chapter's function at x = 5, whose slope is 0.2:

    >>> def function_1(x):
    ...     return 0.01 * x**2 + 0.1 * x
    >>> derivative(function_1, 5)
    0.2
    >>> r = derivative(function_1, 5, full_output=True)
    >>> r.method, r.nfev, r.error < 1e-15
    ('complex', 4, True)

    ``math.log`` refuses complex numbers, so ``auto`` extrapolates; the steps stay above 0:

    >>> import math
    >>> r = derivative(math.log, 1e-3, full_output=True)
    >>> r.method, abs(r.df - 1000) < 1e-9, r.error < 1e-8
    ('richardson', True, True)

    ReLU away from its kink: ``np.maximum`` orders complex numbers by their real part, so a complex
    step through it only happens to look right; ``auto`` sees the ``maximum`` and extrapolates:

    >>> def relu(x):
    ...     return np.maximum(0, x)
    >>> r = derivative(relu, 2.0, full_output=True)
    >>> r.df, r.method, r.nfev
    (1.0, 'richardson', 13)

    Arrays of points:

    >>> derivative(np.sin, [0.0, np.pi])
    array([ 1., -1.])
    """
    Options(METHODS).check(method, "method")
    full_output = FLAG.check(full_output, "full_output")
    h = None if h is None else POSITIVE.check(h, "h")
    xs = as_float_array(x, "x")
    if xs.dtype != np.float64:
        xs = xs.astype(np.float64)
    check_finite(xs, "x", _("a derivative needs finite points"))
    ev = Evaluator(f)
    df = np.empty(xs.shape)
    err = np.empty(xs.shape)
    steps = np.empty(xs.shape)
    used = np.empty(xs.shape, dtype="<U10")
    for idx in np.ndindex(xs.shape):
        ev.forget()
        df[idx], err[idx], steps[idx], used[idx] = _one_point(ev, float(xs[idx]), method, h, full_output)
    for found, message in (
        (
            ev.kinks,
            N_(
                "f does not look differentiable at x={x:g} (the slopes on either side differ by about {jump:.3g}{more}); "
                "the value returned is the average of the one-sided slopes"
            ),
        ),
        (
            ev.jumps,
            N_(
                "f jumps at x={x:g}: f(x+h) - f(x-h) stays near {gap:.3g} while h shrinks {shrink}-fold{more}; f is not "
                "continuous there, so it has no derivative and the value returned is NaN"
            ),
        ),
    ):
        if found:
            x0, size = found[0]
            more = _(", and at {n} more points", n=len(found) - 1) if len(found) > 1 else ""
            text = _(message, x=x0, jump=size, gap=size, shrink=JUMP_SHRINK, more=more)
            warnings.warn(text, RuntimeWarning, stacklevel=2)
    jumped = {x0 for x0, _value in ev.jumps}
    undefined = [i for i in np.flatnonzero(np.isnan(df.reshape(-1))) if float(xs.reshape(-1)[i]) not in jumped]
    if undefined:
        reason = ev.why_undefined(float(xs.reshape(-1)[undefined[0]]))
        warnings.warn(
            _("the derivative is NaN at {n} points: {reason}", n=len(undefined), reason=reason)
            if len(undefined) > 1
            else _("the derivative is NaN: {reason}", reason=reason),
            RuntimeWarning,
            stacklevel=2,
        )
    if xs.ndim == 0:
        df, err, steps, used = float(df), float(err), float(steps), str(used)
    if not full_output:
        return df
    return DerivativeResult(df=df, error=err, method=used, nfev=ev.nfev, h=steps)
