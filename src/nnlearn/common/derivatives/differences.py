"""The difference quotients of :func:`~nnlearn.common.derivatives.derivative`, one point and one method each.

The book's forward, backward and central differences with their truncation estimates; the complex
step ``Im f(x + ih) / h``; Richardson extrapolation of central differences (Ridders' tableau), with
its noise and kink checks. Each method returns ``(df, error, h_used)``; ``ev`` is an
:class:`~nnlearn.common.derivatives.evaluator.Evaluator`.
"""

from __future__ import annotations

import math

import numpy as np

from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _

_EPS = float(np.finfo(np.float64).eps)
#: Step of the complex step, relative to |x|: small enough that the h**2 truncation error
#: vanishes (there is no cancellation to fear), and never below 1e-310, where it would underflow.
_COMPLEX_REL_STEP = 1e-20
_COMPLEX_MIN_STEP = 1e-310
#: Optimal relative steps balancing truncation against rounding: eps**(1/2) for one-sided
#: differences (error ~ h), eps**(1/3) for the central difference (error ~ h**2).
_FORWARD_REL_STEP = _EPS**0.5
CENTRAL_REL_STEP = _EPS ** (1 / 3)
#: Ridders' tableau: the step shrinks by _RATIO per row, at most _LEVELS rows; a row whose
#: diagonal moved by more than _SAFE times the best error so far ends the run (rounding won).
_RATIO = 2.0
_LEVELS = 12
_SAFE = 2.0
#: Relative error estimate at which Richardson stops trying other starting steps.
_GOOD_ENOUGH = 1e-11
#: Richardson's reported error adds _NOISE_FACTOR * (noise of f) / h. The tableau amplifies the
#: rounding of its central differences by at most prod (4**j + 1) / (4**j - 1) < 2, a central
#: difference turns noise n in f into at most n / h, and the noise measured on 7 points may be
#: half of the worst among the dozens the tableau used: 2 * 2 = 4.
_NOISE_FACTOR = 4.0
#: The noise of f is measured on 7 points h / _NOISE_SPACING apart (see _noise).
_NOISE_SPACING = 64
_GOLDEN = (math.sqrt(5) - 1) / 2
#: A Richardson result whose error estimate exceeds this share of its value is checked for a jump in f.
_SUSPECT = 1e-3
#: f(x+h) - f(x-h) must keep its size while h shrinks by this factor for f to jump at x.
JUMP_SHRINK = 4096


def scale(x: float) -> float:
    """The scale of steps around x: |x|, or 1 at x = 0."""
    return abs(x) if x != 0.0 else 1.0


def _exact_step(x: float, h: float) -> float:
    """The step that x + h really takes in floating point, so the division uses the true spacing."""
    return (x + h) - x


# --------------------------------------------------------------------------------------------
# One point, one method. Each returns (df, error, h_used).


def _tiny_step_error(x, h):
    raise InputError(
        _(
            "the step h={h} is below the spacing of floating-point numbers at x={x}, so x + h == x; use a larger h or "
            "leave h=None",
            h=format(h, "g"),
            x=format(x, "g"),
        )
    )


def one_sided(ev, x, h, sign, full):
    """The book's forward (sign +1) or backward (sign -1) difference, formula as written."""
    h = h if h is not None else _FORWARD_REL_STEP * scale(x)
    if x + sign * h == x:
        _tiny_step_error(x, h)
    fx, f1 = ev.at(x), ev.real(x + sign * h)
    d1 = sign * (f1 - fx) / h
    if not full:
        return d1, math.nan, h
    # The one-sided difference errs by about (h/2) f'', so the difference at 2h errs twice as much;
    # the factor 2 covers steps too coarse for that asymptotic rule.
    f2 = ev.real(x + sign * 2 * h)
    d2 = sign * (f2 - fx) / (2 * h)
    return d1, 2 * abs(d2 - d1) + 2 * _EPS * (abs(fx) + abs(f1)) / h, h


def central_value(ev, x, h):
    """Central difference with the step x + h really takes, so the division uses the true spacing."""
    step = _exact_step(x, h)
    if step == 0:
        return math.nan, 0.0, 0.0
    fp, fm = ev.real(x + step), ev.real(x - step)
    return (fp - fm) / (2 * step), step, _EPS * (abs(fp) + abs(fm)) / (2 * step)


def central(ev, x, h, full):
    """The book's central difference, formula as written (so h=1e-4 gives the book's numbers)."""
    h = h if h is not None else CENTRAL_REL_STEP * scale(x)
    if x + h == x or x - h == x:
        _tiny_step_error(x, h)
    fp, fm = ev.real(x + h), ev.real(x - h)
    d1 = (fp - fm) / (2 * h)
    if not full:
        return d1, math.nan, h
    # The central difference errs by about (h**2/6) f''', so at 2h it errs four times as much:
    # |d2 - d1| is three times the error where that rule holds, a margin where it does not.
    d2 = (ev.real(x + 2 * h) - ev.real(x - 2 * h)) / (4 * h)
    return d1, abs(d2 - d1) + 4 * _EPS * (abs(fp) + abs(fm)) / (2 * h), h


def complex_step_default(x):
    return max(_COMPLEX_REL_STEP * scale(x), _COMPLEX_MIN_STEP)


def complex_step_error(fz, x, step):
    """Rounding error of Im f(x+ih)/h: a few units in the last place of f' and of f/|x|."""
    return 4 * _EPS * (abs(fz.imag / step) + abs(fz.real) / scale(x))


def complex_step(ev, x, h, full):
    h = h if h is not None else complex_step_default(x)
    fz = ev.complex(complex(x, h))
    if fz is None:
        raise InputError(
            _(
                "method='complex' needs f to accept a complex number and return a finite complex value (f refused or "
                "dropped the imaginary part at x={x!r}); use method='auto' or 'richardson'",
                x=x,
            )
        )
    d1 = fz.imag / h
    if not full:
        return d1, math.nan, h
    # Im f(x+ih)/h errs by about (h**2/6) f'''; negligible for the default step, not for a large one.
    fz2 = ev.complex(complex(x, 2 * h))
    trunc = abs(fz2.imag / (2 * h) - d1) if fz2 is not None else math.inf
    return d1, trunc + complex_step_error(fz, x, h), h


def _ridders(ev, x, h0):
    """Ridders' extrapolation of central differences from the step h0 down; (df, err, h_last)."""
    best, err, h_last, floor = math.nan, math.inf, h0, 0.0
    previous: list[float] = []
    h = h0
    for level in range(_LEVELS):
        d, step, rounding = central_value(ev, x, h)
        if not math.isfinite(d):
            break
        row = [d]
        factor = _RATIO**2
        for j in range(1, level + 1):
            # Eliminate the h**(2j) term using the same column one row up (step _RATIO times larger).
            row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1))
            factor *= _RATIO**2
            change = max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1]))
            if change <= err:
                best, err, h_last, floor = row[j], change, step, rounding
        if level == 0:
            best, h_last = d, step
        elif abs(row[level] - previous[level - 1]) >= _SAFE * err:
            break
        previous = row
        h /= _RATIO
    if math.isfinite(best):
        # Rows that agree exactly (tanh far out, where f rounds to 1) prove nothing below the
        # rounding level of the differences they came from.
        err = max(err, floor, 2 * _EPS * abs(best))
    return best, err, h_last


def _finite_start(ev, x, h, shrinks=40):
    """Shrink h by 4 until f is finite at x - h and x + h (Richardson stays where f is defined)."""
    for _attempt in range(shrinks):
        step = _exact_step(x, h)
        if step == 0:
            return None
        if math.isfinite(ev.real(x + step)) and math.isfinite(ev.real(x - step)):
            return step
        h /= 4
    return None


def _richardson_starts(x):
    """Starting steps to try, best guess first: a quarter of |x| (log-like functions singular at 0),
    a quarter (unit-scale functions like exp and sin, at tiny or huge x), then smaller ones."""
    ax = abs(x)
    firsts = [0.25 * ax] if ax != 0 else [0.25]
    if ax != 0 and not 0.25 <= ax <= 4:
        firsts.append(0.25)
    smallest = min(firsts)
    return firsts + [smallest / 64, smallest / 4096]


def richardson(ev, x, h, full):
    if not math.isfinite(ev.at(x)):
        return math.nan, math.nan, math.nan
    starts = [h] if h is not None else _richardson_starts(x)
    best_d, best_err, best_h = math.nan, math.inf, math.nan
    for h0 in starts:
        step = _finite_start(ev, x, h0)
        if step is None:
            continue
        d, err, h_last = _ridders(ev, x, step)
        if not math.isfinite(d):
            continue
        if math.isnan(best_d):
            better = True
        elif abs(d - best_d) <= best_err + err:
            better = err < best_err
        else:
            # The runs disagree. A wide step may jump over a pole where f is finite on both sides
            # (1/x**2 near 0), a first step far too wide for sin(x) at x = 1e5 gives noise: trust
            # the other run only when its relative error estimate is far smaller.
            better = err / abs(d) < 1e-3 * best_err / abs(best_d) if d != 0 and best_d != 0 else False
        if better:
            best_d, best_err, best_h = d, err, h_last
        if best_err <= _GOOD_ENOUGH * abs(best_d):
            break
    if math.isfinite(best_d) and full:
        # The tableau's own estimate is the smallest change between neighbouring entries; where
        # f's rounding dominates, two entries can agree by accident (log(1 + x**2) at x = 1e-4
        # rounds 1 + x**2 to 1e-16, a relative noise of 1e-8 that no eps * |f| floor shows).
        best_err += _NOISE_FACTOR * _noise(ev, x, best_h) / best_h
    if math.isfinite(best_d) and not best_err <= _SUSPECT * abs(best_d):
        gap = _value_jump(ev, x, best_h)
        if gap:
            # No number is the derivative of a function that jumps; the extrapolated one grows as 1/h.
            ev.jumps.append((x, gap))
            return math.nan, math.nan, best_h
    if math.isfinite(best_d):
        jump = _slope_jump(ev, x, best_h)
        if jump:
            ev.kinks.append((x, jump))
            best_err = max(best_err, jump / 2)
    return best_d, best_err, best_h


def _noise(ev, x, h):
    """The rounding noise of f near x at the scale of the step h, and at least eps * |f(x)|.

    The sixth difference of f on 7 points 0.618 h / 64 apart: a smooth f contributes f^(6) (h/100)**6,
    nothing next to rounding, while rounding noise of size n adds up to 64 n (typically 30 n,
    the square root of 924 = 1 + 36 + 225 + 400 + 225 + 36 + 1) -- so |sixth difference| / 20.
    It sees what eps * |f(x)| cannot: log(1 + x**2) at x = 1e-4 rounds 1 + x**2 to 2e-16, a
    relative noise of 1e-8 in f.
    """
    f0 = abs(ev.real(x))
    # Not a power-of-2 fraction of h: dyadic points can round in step with each other and hide the noise.
    s = _exact_step(x, h * _GOLDEN / _NOISE_SPACING)
    if s == 0:
        return _EPS * f0
    fs = [ev.real(x + k * s) for k in (-3, -2, -1, 0, 1, 2, 3)]
    sixth = abs(fs[0] - 6 * fs[1] + 15 * fs[2] - 20 * fs[3] + 15 * fs[4] - 6 * fs[5] + fs[6])
    return max(sixth / 20, _EPS * f0) if math.isfinite(sixth) else _EPS * f0


def _slope_jump(ev, x, h):
    """How much the slope jumps at x (abs at 0), or 0 where f looks differentiable.

    At a kink the second difference (f(x+h) - 2f(x) + f(x-h)) / h**2 is the jump divided by h, so
    it doubles when h halves; for a smooth f it tends to f''(x) and stays put.
    """
    if h * h == 0:
        return 0.0
    f0 = ev.real(x)
    fp, fm, fp2, fm2 = ev.real(x + h), ev.real(x - h), ev.real(x + 2 * h), ev.real(x - 2 * h)
    s1 = (fp - 2 * f0 + fm) / h**2
    s2 = (fp2 - 2 * f0 + fm2) / (2 * h) ** 2
    noise = 4 * _EPS * (abs(f0) + abs(fp) + abs(fm)) / h**2
    if math.isfinite(s1) and math.isfinite(s2) and abs(s1) > 1.5 * abs(s2) and abs(s1 - s2) > 100 * noise:
        return abs(s1) * h
    return 0.0


def _value_jump(ev, x, h):
    """How much f itself jumps at x (``sign`` at 0), or 0 where f looks continuous there.

    Across a jump f(x+h) - f(x-h) keeps its size as h shrinks; where f is continuous it shrinks
    with h (by the same factor where f is differentiable, by 4096**a for x**a). Seen at h / 4096
    and h / 4096**2: a jump keeps 99 % of the gap.
    """
    gaps = []
    for k in (1, 2):
        s = _exact_step(x, h / JUMP_SHRINK**k)
        if s == 0:
            return 0.0
        fp, fm = ev.real(x + s), ev.real(x - s)
        gap = abs(fp - fm)
        if not math.isfinite(gap) or gap <= 100 * _EPS * (abs(fp) + abs(fm)):
            return 0.0
        gaps.append(gap)
    return gaps[1] if gaps[1] >= 0.99 * gaps[0] else 0.0
