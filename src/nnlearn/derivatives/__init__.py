"""Derivatives to machine precision, with an honest error estimate.

The book's central difference ``(f(x+h) - f(x-h)) / 2h`` with ``h = 1e-4`` fights two errors:
truncation (the secant is not the tangent) and rounding (``f(x+h) - f(x-h)`` cancels digits).
:func:`derivative` offers the book's differences and two ways past that compromise:

* the **complex step** ``Im f(x + ih) / h``: no subtraction, so no cancellation, and ``h`` can be
  1e-20 times ``|x|``; exact to the last digit or two, but only for functions that are analytic
  and accept complex input;
* **Richardson extrapolation** of central differences at a shrinking sequence of steps
  (Ridders' tableau), which also estimates its own error and works for any smooth real function.

``method="auto"`` uses the complex step when ``f`` accepts complex numbers, applies no
non-analytic operation to them, *and* the result agrees with a real-valued difference; Richardson
otherwise. To see the operations, ``auto`` hands ``f`` the point ``x + ih`` as a recording NumPy
array (:class:`_Probe`): ``np.maximum(0, x)`` (``nnlearn.relu``), ``np.where(x > 0, x, 0)``, ``abs``,
rounding and comparisons give a right-looking complex step by accident -- NumPy compares complex
numbers by their real part -- but no derivative one can trust, so they go to Richardson. Code that
leaves NumPy on the way (``float(x)``, ``math.exp``, ``np.asarray``) cannot be watched; for it the
checks on the value decide, as for any other ``f``. Everything is computed in float64.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from nnlearn._validation import as_float_array, callable_name, check_positive_number
from nnlearn.errors import InputError, InputTypeError

METHODS = ("auto", "forward", "backward", "central", "complex", "richardson")

_EPS = float(np.finfo(np.float64).eps)
#: Step of the complex step, relative to |x|: small enough that the h**2 truncation error
#: vanishes (there is no cancellation to fear), and never below 1e-310, where it would underflow.
_COMPLEX_REL_STEP = 1e-20
_COMPLEX_MIN_STEP = 1e-310
#: Optimal relative steps balancing truncation against rounding: eps**(1/2) for one-sided
#: differences (error ~ h), eps**(1/3) for the central difference (error ~ h**2).
_FORWARD_REL_STEP = _EPS**0.5
_CENTRAL_REL_STEP = _EPS ** (1 / 3)
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


#: Operations that are not complex-analytic. On x + ih they drop, compare or round the imaginary
#: part (NumPy orders complex numbers by their real part), so Im f(x+ih)/h is no derivative even
#: where the real function is smooth. NumPy ufuncs, then array functions and attributes.
NON_ANALYTIC = frozenset(
    {
        "absolute", "fabs", "sign", "conjugate", "copysign",
        "maximum", "minimum", "fmax", "fmin", "clip",
        "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
        "logical_and", "logical_or", "logical_xor", "logical_not",
        "floor", "ceil", "trunc", "rint", "heaviside", "fmod", "remainder", "floor_divide", "divmod", "modf",
        "real", "imag", "angle", "round", "sort", "partition", "argsort", "argpartition", "argmax", "argmin",
        "median", "percentile", "quantile", "select", "piecewise", "interp", "searchsorted", "digitize",
    }
)  # fmt: skip


@dataclass(frozen=True)
class DerivativeResult:
    """What :func:`derivative` returns with ``full_output=True``.

    Attributes
    ----------
    df : float or ndarray
        The derivative (an array of the shape of ``x`` for an array of points).
    error : float or ndarray
        Estimated absolute error of ``df``. ``inf`` where no estimate could be made, NaN where
        ``df`` is NaN.
    method : str or ndarray of str
        The method actually used at each point (``auto`` resolves to ``complex`` or
        ``richardson``, or to ``none`` where ``f`` is not finite at the point).
    nfev : int
        Number of calls of ``f`` in total.
    h : float or ndarray
        The step finally used (for Richardson: the smallest step of the best tableau).
    """

    df: float | np.ndarray
    error: float | np.ndarray
    method: str | np.ndarray
    nfev: int
    h: float | np.ndarray


class _Probe(np.ndarray):
    """A complex point ``x + ih`` as a NumPy array that notes the operations applied to it.

    Every NumPy result computed from a probe (by a ufunc, an array function, indexing) is again a
    probe sharing the same notes, so ``np.where(x > 0, x, 0)`` is seen through its comparison and
    ``np.maximum(0, x) * 2`` through the maximum. What leaves NumPy (``float(x)``, ``math.exp``) or
    strips the subclass (``np.asarray``) is not seen.
    """

    _notes: set | None = None

    def __new__(cls, value, notes: set):
        probe = np.asarray(value, dtype=np.complex128).view(cls)
        probe._notes = notes
        return probe

    def __array_finalize__(self, obj):
        self._notes = getattr(obj, "_notes", None)

    def _note(self, name: str) -> None:
        if self._notes is not None:
            self._notes.add(name)

    def _wrap(self, result):
        """``result`` as probes sharing these notes (arrays, NumPy scalars, plain tuples/lists of them)."""
        if isinstance(result, (np.ndarray, np.generic)):
            probe = np.asarray(result).view(_Probe)
            probe._notes = self._notes
            return probe
        if type(result) in (tuple, list):
            return type(result)(self._wrap(r) for r in result)
        return result

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # Noted before the call: np.floor and friends refuse complex input, but they were applied.
        self._note(ufunc.__name__)
        inputs = tuple(_plain(v) for v in inputs)
        kwargs = {k: tuple(_plain(o) for o in v) if k == "out" else _plain(v) for k, v in kwargs.items()}
        return self._wrap(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        self._note(func.__name__)
        return self._wrap(super().__array_function__(func, types, args, kwargs))

    def __getitem__(self, key):
        return self._wrap(super().__getitem__(key))

    def __round__(self, ndigits=None):
        self._note("round")
        return round(complex(self), ndigits)  # refused, as for a Python complex

    @property
    def real(self):
        self._note("real")
        return np.ndarray.real.__get__(self)

    @real.setter
    def real(self, value):
        np.ndarray.real.__set__(self, value)

    @property
    def imag(self):
        self._note("imag")
        return np.ndarray.imag.__get__(self)

    @imag.setter
    def imag(self, value):
        np.ndarray.imag.__set__(self, value)


def _plain(value):
    """A probe as a plain ndarray (so the operation itself does not recurse), anything else as is."""
    return value.view(np.ndarray) if isinstance(value, _Probe) else value


def complex_copy(x: np.ndarray, idx, t) -> np.ndarray:
    """``x`` as complex128 with ``x[idx] = t``; a probe ``t`` makes the copy a probe too."""
    xc = x.astype(np.complex128)
    xc[idx] = t
    return t._wrap(xc) if isinstance(t, _Probe) else xc


class _Evaluator:
    """Calls ``f`` on one point, counting calls and turning failures into NaN / None."""

    def __init__(self, f):
        if not callable(f):
            raise InputTypeError(f"f must be a callable of one variable, got {type(f).__name__}")
        self.f = f
        self.nfev = 0
        self._cache: dict[float, float] = {}
        self.kinks: list[tuple[float, float]] = []

    def forget(self) -> None:
        """Drop remembered values (they belong to the previous point)."""
        self._cache.clear()

    def _call(self, t):
        self.nfev += 1
        with np.errstate(all="ignore"):
            out = self.f(t)
        arr = np.asarray(out)
        if arr.dtype.kind not in "biufc":
            raise InputTypeError(f"{callable_name(self.f)} returned {out!r} at x={t}; it must return a number")
        if arr.size != 1:
            raise InputError(
                f"f must return one number for one point, got an array of shape {arr.shape}; "
                "for a function of several variables use numerical_gradient"
            )
        return arr.reshape(())[()]

    def why_undefined(self, x: float) -> str:
        """Why no derivative came out at x: what ``f`` did there (one more call of ``f``)."""
        try:
            value = self._call(np.float64(x))
        except Exception as e:  # noqa: BLE001 - the reason is the message; the user's error is named
            return f"f raised {type(e).__name__} at x={x:g}"
        if np.iscomplexobj(value) and np.imag(value) != 0:
            return (
                f"f returned the complex number {complex(value):g} at x={x:g}, so it has no real derivative "
                "there (x is outside f's real domain)"
            )
        value = float(np.real(value))
        if math.isnan(value):
            return f"f returned NaN at x={x:g} (is x outside f's domain?)"
        if math.isinf(value):
            return f"f returned {value} at x={x:g}"
        return f"f is not finite (NaN, inf, complex or an error) at the steps around x={x:g}"

    def at(self, x: float) -> float:
        """f(x); exceptions raised by ``f`` at the point itself are the user's and propagate."""
        value = _as_real(self._call(np.float64(x)))
        self._cache[x] = value if math.isfinite(value) else math.nan
        return value

    def real(self, t: float) -> float:
        """f(t) at a step away from x; NaN where ``f`` is undefined (raises or is not finite)."""
        if t in self._cache:
            return self._cache[t]
        self._cache[t] = value = self._real(t)
        return value

    def _real(self, t: float) -> float:
        try:
            value = _as_real(self._call(np.float64(t)))
        except Exception:  # noqa: BLE001 - f worked at x itself: failing a step away means "undefined here"
            return math.nan
        return value if math.isfinite(value) else math.nan

    def complex(self, z: complex) -> complex | None:
        """f(z) for complex z, or None when ``f`` refuses complex input or drops the imaginary part."""
        try:
            with warnings.catch_warnings():
                # math.exp(np.complex128) and float arrays silently drop Im: that is a refusal.
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = self._call(complex(z))
        except (TypeError, ValueError, ArithmeticError, np.exceptions.ComplexWarning):
            return None
        if not np.iscomplexobj(value):
            return None
        value = complex(value)
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            return None
        return value

    def probe(self, z: complex) -> tuple[complex | None, list[str]]:
        """f(z) with z passed as a :class:`_Probe`: (the value as :meth:`complex` gives it, the
        non-analytic operations ``f`` applied to z). Where the probe told nothing and ``f`` did not
        take it (it wants a Python number, or broke on the array), ``f`` gets a plain complex."""
        notes: set[str] = set()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = self._call(_Probe(z, notes))
        except Exception:  # noqa: BLE001 - any trouble with the array means "not probed"; plain complex next
            value = None
        non_analytic = sorted(notes & NON_ANALYTIC)
        if non_analytic:
            return None, non_analytic
        if value is None or not np.iscomplexobj(value):
            return self.complex(z), []
        value = complex(value)
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            return None, []
        return value, []


def _as_real(value) -> float:
    """A real number, or NaN where a real function returned a complex value (sqrt of a negative)."""
    if np.iscomplexobj(value):
        return float(np.real(value)) if np.imag(value) == 0 else math.nan
    return float(value)


def _scale(x: float) -> float:
    """The scale of steps around x: |x|, or 1 at x = 0."""
    return abs(x) if x != 0.0 else 1.0


def _exact_step(x: float, h: float) -> float:
    """The step that x + h really takes in floating point, so the division uses the true spacing."""
    return (x + h) - x


def _check_step(h) -> float | None:
    if h is None:
        return None
    return check_positive_number(h, "the step h", "leave h=None for an automatic step")


# --------------------------------------------------------------------------------------------
# One point, one method. Each returns (df, error, h_used).


def _tiny_step_error(x, h):
    raise InputError(
        f"the step h={h:g} is below the spacing of floating-point numbers at x={x:g}, so x + h == x; "
        "use a larger h or leave h=None"
    )


def _one_sided(ev, x, h, sign, full):
    """The book's forward (sign +1) or backward (sign -1) difference, formula as written."""
    h = h if h is not None else _FORWARD_REL_STEP * _scale(x)
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


def _central_value(ev, x, h):
    """Central difference with the step x + h really takes, so the division uses the true spacing."""
    step = _exact_step(x, h)
    if step == 0:
        return math.nan, 0.0, 0.0
    fp, fm = ev.real(x + step), ev.real(x - step)
    return (fp - fm) / (2 * step), step, _EPS * (abs(fp) + abs(fm)) / (2 * step)


def _central(ev, x, h, full):
    """The book's central difference, formula as written (so h=1e-4 gives the book's numbers)."""
    h = h if h is not None else _CENTRAL_REL_STEP * _scale(x)
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


def _complex_step_default(x):
    return max(_COMPLEX_REL_STEP * _scale(x), _COMPLEX_MIN_STEP)


def _complex_step_error(fz, x, step):
    """Rounding error of Im f(x+ih)/h: a few units in the last place of f' and of f/|x|."""
    return 4 * _EPS * (abs(fz.imag / step) + abs(fz.real) / _scale(x))


def _complex(ev, x, h, full):
    h = h if h is not None else _complex_step_default(x)
    fz = ev.complex(complex(x, h))
    if fz is None:
        raise InputError(
            "method='complex' needs f to accept a complex number and return a finite complex value "
            f"(f refused or dropped the imaginary part at x={x!r}); use method='auto' or 'richardson'"
        )
    d1 = fz.imag / h
    if not full:
        return d1, math.nan, h
    # Im f(x+ih)/h errs by about (h**2/6) f'''; negligible for the default step, not for a large one.
    fz2 = ev.complex(complex(x, 2 * h))
    trunc = abs(fz2.imag / (2 * h) - d1) if fz2 is not None else math.inf
    return d1, trunc + _complex_step_error(fz, x, h), h


def _ridders(ev, x, h0):
    """Ridders' extrapolation of central differences from the step h0 down; (df, err, h_last)."""
    best, err, h_last, floor = math.nan, math.inf, h0, 0.0
    previous: list[float] = []
    h = h0
    for level in range(_LEVELS):
        d, step, rounding = _central_value(ev, x, h)
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
    for _ in range(shrinks):
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


def _richardson(ev, x, h, full):
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


def _cross_check(ev, x, cs):
    """Does the complex-step slope agree with a real central difference? Tries a few steps so that
    steep or oscillating functions are not mistaken for non-analytic ones."""
    s = _scale(x)
    steps = [_CENTRAL_REL_STEP * s, _CENTRAL_REL_STEP * s / 100, _CENTRAL_REL_STEP * s / 1e4]
    if s > 1e4:
        steps.append(_CENTRAL_REL_STEP)  # sin(x) at x = 1e8 varies on a unit scale, not on |x|
    for h in steps:
        d, step, rounding = _central_value(ev, x, h)
        if step == 0 or not math.isfinite(d):
            continue
        if abs(d - cs) <= 1e-6 * abs(cs) + 100 * rounding:
            return True
    return False


def _auto(ev, x, h, full):
    fx = ev.at(x)
    if not math.isfinite(fx):
        return math.nan, math.nan, math.nan, "none"
    hc = _complex_step_default(x)
    fz, non_analytic = ev.probe(complex(x, hc))
    cs = None
    if not non_analytic and fz is not None and abs(fz.real - fx) <= 1e-12 * abs(fx) + 1e-300:
        cs = fz.imag / hc
        if _cross_check(ev, x, cs):
            return cs, _complex_step_error(fz, x, hc), hc, "complex"
    kinks = len(ev.kinks)
    d, err, h_last = _richardson(ev, x, h, full)
    smooth = len(ev.kinks) == kinks
    if cs is not None and smooth and math.isfinite(d) and abs(cs - d) <= max(3 * err, 1e-6 * abs(d)):
        # The real differences were only too coarse to confirm the complex step; it is the better value.
        return cs, _complex_step_error(fz, x, hc), hc, "complex"
    return d, err, h_last, "richardson"


def _one_point(ev, x, method, h, full):
    if method == "auto":
        return _auto(ev, x, h, full)
    if method == "forward":
        return (*_one_sided(ev, x, h, +1, full), method)
    if method == "backward":
        return (*_one_sided(ev, x, h, -1, full), method)
    if method == "central":
        return (*_central(ev, x, h, full), method)
    if method == "complex":
        return (*_complex(ev, x, h, full), method)
    return (*_richardson(ev, x, h, full), method)


def derivative(f, x, method="auto", h=None, full_output=False):
    """Derivative of a function of one real variable, at one point or at an array of points.

    Parameters
    ----------
    f : callable
        ``f(t)`` for a float ``t`` returns one number. For the complex step it must also accept a
        complex ``t`` and return a complex number; ``auto`` tries that and falls back when it fails.
    x : float or array_like of float
        The point(s). ``f`` is called once per point and step (it need not be vectorised).
    method : {"auto", "forward", "backward", "central", "complex", "richardson"}
        ``forward``/``backward``: ``(f(x+h) - f(x)) / h``, error ~ h.
        ``central``: the book's ``(f(x+h) - f(x-h)) / 2h``, error ~ h**2.
        ``complex``: ``Im f(x+ih) / h``; no subtraction, so ``h`` can be tiny; f must be analytic.
        ``richardson``: central differences at steps shrinking by 2, extrapolated to h = 0
        (Ridders' tableau); starts where ``f`` is finite and stops when rounding takes over.
        ``auto`` (default): the complex step when ``f`` accepts complex input, applies no
        non-analytic NumPy operation to it (``abs``, ``maximum`` as in ReLU, comparisons, rounding;
        see ``NON_ANALYTIC``), keeps the real part, and its slope agrees with a real difference;
        Richardson otherwise.
    h : float, optional
        The step (the starting step for Richardson). By default it scales with ``|x|`` (with 1
        at x = 0): sqrt(eps)|x| forward/backward, eps**(1/3)|x| central, 1e-20|x| complex.
    full_output : bool
        Return a :class:`DerivativeResult` (value, error estimate, method used, evaluations, step)
        instead of the value. For the fixed-step methods the truncation estimate costs one or two
        more evaluations of ``f``.

    Returns
    -------
    float, ndarray or DerivativeResult
        float64. NaN where ``f`` is not finite at ``x`` or nowhere near it.

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
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    h = _check_step(h)
    xs = as_float_array(x, "x")
    if xs.dtype != np.float64:
        xs = xs.astype(np.float64)
    if not np.isfinite(xs).all():
        raise InputError("x contains NaN or inf; a derivative needs finite points")
    ev = _Evaluator(f)
    df = np.empty(xs.shape)
    err = np.empty(xs.shape)
    steps = np.empty(xs.shape)
    used = np.empty(xs.shape, dtype="<U10")
    for idx in np.ndindex(xs.shape):
        ev.forget()
        df[idx], err[idx], steps[idx], used[idx] = _one_point(ev, float(xs[idx]), method, h, full_output)
    if ev.kinks:
        x0, jump = ev.kinks[0]
        warnings.warn(
            f"f does not look differentiable at x={x0:g} (the slopes on either side differ by about {jump:.3g}"
            f"{f', and at {len(ev.kinks) - 1} more points' if len(ev.kinks) > 1 else ''}); "
            "the value returned is the average of the one-sided slopes",
            RuntimeWarning,
            stacklevel=2,
        )
    undefined = np.flatnonzero(np.isnan(df.reshape(-1)))
    if undefined.size:
        reason = ev.why_undefined(float(xs.reshape(-1)[undefined[0]]))
        more = f" at {undefined.size} points" if undefined.size > 1 else ""
        warnings.warn(f"the derivative is NaN{more}: {reason}", RuntimeWarning, stacklevel=2)
    if xs.ndim == 0:
        df, err, steps, used = float(df), float(err), float(steps), str(used)
    if not full_output:
        return df
    return DerivativeResult(df=df, error=err, method=used, nfev=ev.nfev, h=steps)
