"""Calling the user's ``f`` for :func:`~nnlearn.common.derivatives.derivative`: counted, remembered, and failures read as "undefined here"."""

from __future__ import annotations

import math
import warnings

import numpy as np

from nnlearn.base.constraints import callable_name, check_callable
from nnlearn.base.errors import InputError, InputTypeError
from nnlearn.base.i18n import _
from nnlearn.common.derivatives.probe import NON_ANALYTIC, Probe


class Evaluator:
    """Calls ``f`` on one point, counting calls and turning failures into NaN / None."""

    def __init__(self, f):
        check_callable(f, _("a callable of one variable"))
        self.f = f
        self.nfev = 0
        self._cache: dict[float, float] = {}
        self.kinks: list[tuple[float, float]] = []
        self.jumps: list[tuple[float, float]] = []

    def forget(self) -> None:
        """Drop remembered values (they belong to the previous point)."""
        self._cache.clear()

    def _call(self, t):
        self.nfev += 1
        with np.errstate(all="ignore"):
            out = self.f(t)
        arr = np.asarray(out)
        if arr.dtype.kind not in "biufc":
            raise InputTypeError(
                _("{f} returned {out!r} at x={x}; it must return a number", f=callable_name(self.f), out=out, x=t)
            )
        if arr.size != 1:
            raise InputError(
                _(
                    "f must return one number for one point, got an array of shape {shape}; for a function of several "
                    "variables use numerical_gradient",
                    shape=arr.shape,
                )
            )
        return arr.reshape(())[()]

    def why_undefined(self, x: float) -> str:
        """Why no derivative came out at x: what ``f`` did there (one more call of ``f``)."""
        try:
            value = self._call(np.float64(x))
        except Exception as e:  # noqa: BLE001 - the reason is the message; the user's error is named
            return _("f raised {error} at x={x}", error=type(e).__name__, x=format(x, "g"))
        if np.iscomplexobj(value) and np.imag(value) != 0:
            return _(
                "f returned the complex number {value} at x={x}, so it has no real derivative there (x is outside "
                "f's real domain)",
                value=format(complex(value), "g"),
                x=format(x, "g"),
            )
        value = float(np.real(value))
        if math.isnan(value):
            return _("f returned NaN at x={x} (is x outside f's domain?)", x=format(x, "g"))
        if math.isinf(value):
            return _("f returned {value} at x={x}", value=value, x=format(x, "g"))
        return _("f is not finite (NaN, inf, complex or an error) at the steps around x={x}", x=format(x, "g"))

    def at(self, x: float) -> float:
        """f(x); exceptions raised by ``f`` at the point itself are the user's and propagate."""
        value = as_real(self._call(np.float64(x)))
        self._cache[x] = value if math.isfinite(value) else math.nan
        return value

    def real(self, t: float) -> float:
        """f(t) at a step away from x; NaN where ``f`` is undefined (raises or is not finite)."""
        if t not in self._cache:
            try:
                value = as_real(self._call(np.float64(t)))
            except Exception:  # noqa: BLE001 - f worked at x itself: failing a step away means "undefined here"
                value = math.nan
            self._cache[t] = value if math.isfinite(value) else math.nan
        return self._cache[t]

    def complex(self, z: complex) -> complex | None:
        """f(z) for complex z, or None when ``f`` refuses complex input or drops the imaginary part."""
        try:
            with warnings.catch_warnings():
                # math.exp(np.complex128) and float arrays silently drop Im: that is a refusal.
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = self._call(complex(z))
        except (TypeError, ValueError, ArithmeticError, np.exceptions.ComplexWarning):
            return None
        return finite_complex(value)

    def probe(self, z: complex) -> tuple[complex | None, list[str]]:
        """f(z) with z passed as a :class:`Probe`: (the value as :meth:`complex` gives it, the
        non-analytic operations ``f`` applied to z). Where the probe told nothing and ``f`` did not
        take it (it wants a Python number, or broke on the array), ``f`` gets a plain complex."""
        notes: set[str] = set()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                value = self._call(Probe(z, notes))
        except Exception:  # noqa: BLE001 - any trouble with the array means "not probed"; plain complex next
            value = None
        non_analytic = sorted(notes & NON_ANALYTIC)
        if non_analytic:
            return None, non_analytic
        if value is None or not np.iscomplexobj(value):
            return self.complex(z), []
        return finite_complex(value), []


def finite_complex(value) -> complex | None:
    """``value`` as a finite complex number; None where ``f`` dropped the imaginary part or overflowed."""
    if not np.iscomplexobj(value):
        return None
    value = complex(value)
    return value if math.isfinite(value.real) and math.isfinite(value.imag) else None


def as_real(value) -> float:
    """A real number, or NaN where a real function returned a complex value (sqrt of a negative)."""
    if np.iscomplexobj(value):
        return float(np.real(value)) if np.imag(value) == 0 else math.nan
    return float(value)
