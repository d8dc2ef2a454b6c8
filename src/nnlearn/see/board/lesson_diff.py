"""The lesson of section 4.3 in the board: numerical differentiation, the secant and the tangent, and
the step h between truncation and rounding. The values come from :func:`nnlearn.numerical_diff` and
:func:`nnlearn.derivative`, the errors against h in float64 and float32 from
:func:`nnlearn.common.derivatives.rounding.rounding_errors`; the page only draws the answer.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from nnlearn.base.errors import InputError
from nnlearn.base.i18n import N_, _
from nnlearn.common.derivatives import derivative
from nnlearn.common.derivatives.expr import parse_expression
from nnlearn.common.derivatives.rounding import BOOK_H, SEED_H, rounding_errors
from nnlearn.common.gradient import numerical_diff
from nnlearn.common.plots import function_1

#: The steps the errors are drawn at: 8 per decade over the h slider's range, 1e-20 to 1 (the
#: bounds of a request, :data:`nnlearn.see.board.lessons.BOUNDS`).
CURVE_STEPS = np.logspace(-20, 0, 161)
METHODS = ("forward", "central", "complex")
#: Points of f drawn around x.
CURVE_POINTS = 201

#: ``warnings.catch_warnings`` changes process-wide state (Python < 3.14): one lesson at a time records.
_WARNINGS = threading.Lock()


@dataclass(frozen=True)
class OneVariable:
    """A function of one variable as the lesson uses it: in float64, in float32, and its exact slope."""

    name: str
    text: str
    f64: object
    f32: object
    slope: object  # x -> (slope, how it is known)


#: The chapter's function and two whose slopes everyone knows; each computes in its argument's precision.
PRESETS = {
    "function_1": OneVariable(
        "function_1",
        N_("0.01x² + 0.1x (the chapter's function_1)"),
        function_1,
        function_1,
        lambda x: (0.02 * x + 0.1, _("exact: {slope}", slope="0.02x + 0.1")),
    ),
    "exp": OneVariable(
        "exp", "exp(x)", np.exp, np.exp, lambda x: (float(np.exp(x)), _("exact: {slope}", slope="exp(x)"))
    ),
    "sin": OneVariable(
        "sin", "sin(x)", np.sin, np.sin, lambda x: (float(np.cos(x)), _("exact: {slope}", slope="cos(x)"))
    ),
}


def one_variable(name: str, formula: str = "") -> OneVariable:
    """A preset by name, or ``name == "formula"``: ``formula`` read by ``nnlearn diff``'s parser (in x).

    Raises ``ExpressionError`` (one line) for a formula the parser refuses.

    Examples
    --------
    >>> float(one_variable("formula", "x**3").f64(2.0))
    8.0
    >>> one_variable("formula", "y**2")
    Traceback (most recent call last):
    ...
    nnlearn.common.derivatives.expr.ExpressionError: unknown name 'y' (the variables are: x) at position 1 in 'y**2'
    """
    if name != "formula":
        return PRESETS[name]
    expr = parse_expression(formula, variables=("x",))

    def slope(x):
        value, said = _recorded(derivative, expr, x, method="auto")
        if said:  # a kink, a jump, the edge of the domain: no slope to measure the errors against
            raise InputError(
                _("no derivative of f at x = {x} to compare with: {why}; choose another x", x=repr(x), why=said[0])
            )
        return value, _("derivative(f, x, method='auto'): the complex step or Richardson extrapolation")

    return OneVariable("formula", formula.strip(), expr, functools.partial(expr, dtype=np.float32), slope)


def _recorded(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and the messages of the warnings it gave (a value of NaN on an error)."""
    with _WARNINGS, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(fn(*args, **kwargs))
        except InputError as exc:
            return math.nan, [str(exc).splitlines()[0]]
    return value, [str(w.message) for w in caught]


def values_at(fn: OneVariable, x: float, h: float, slope: float) -> dict:
    """The slope of ``fn`` at ``x`` with the step ``h`` by each method, as numbers and as ``repr``,
    with the errors at ``h`` in float64 and float32 (those of the curves, at this one step)."""
    notes: list[str] = []
    values = {}
    for method in ("forward", "central"):
        values[method], said = _recorded(numerical_diff, fn.f64, x, h, method=method)
        notes += said
    values["complex"], said = _recorded(derivative, fn.f64, x, method="complex", h=h)
    notes += said
    errors = {
        dt.__name__: rounding_errors([h], dt, x, f=f, slope=slope)
        for dt, f in ((np.float64, fn.f64), (np.float32, fn.f32))
    }
    return {
        "h": h,
        "h_repr": repr(h),
        "methods": {
            m: {
                "value": values[m],
                "repr": repr(values[m]),
                "error": {dt: float(err[m][0]) for dt, err in errors.items()},
            }
            for m in METHODS
        },
        "notes": list(dict.fromkeys(notes)),
    }


def error_curves(fn: OneVariable, x: float, slope: float) -> dict:
    """The absolute error of each method against h (:data:`CURVE_STEPS`), in float64 and float32."""
    out = {"h": CURVE_STEPS.tolist()}
    for dt, f in ((np.float64, fn.f64), (np.float32, fn.f32)):
        errors = rounding_errors(CURVE_STEPS, dt, x, f=f, slope=slope)
        out[dt.__name__] = {m: errors[m].tolist() for m in METHODS}
    return out


def lines(fn: OneVariable, x: float, h: float, slope: float, at_h: dict) -> dict:
    """f around x, the tangent there, and the secants of the forward and central differences."""
    half = max(1.0, 2 * h, min(abs(x) / 2, 10.0))
    lo, hi = x - half, x + half
    xs = np.linspace(lo, hi, CURVE_POINTS)
    with np.errstate(all="ignore"):
        ys = np.broadcast_to(np.asarray(fn.f64(xs), dtype=np.float64), xs.shape)
        fx, fp, fm = (float(fn.f64(t)) for t in (x, x + h, x - h))

    def line(x0, y0, m):
        return [[lo, y0 + m * (lo - x0)], [hi, y0 + m * (hi - x0)]]

    forward, central = at_h["methods"]["forward"]["value"], at_h["methods"]["central"]["value"]
    return {
        "f": [[float(a), float(b)] for a, b in zip(xs, ys)],
        "point": [x, fx],
        "tangent": line(x, fx, slope),
        "forward": {"line": line(x, fx, forward), "points": [[x, fx], [x + h, fp]]},
        "central": {"line": line(x - h, fm, central), "points": [[x - h, fm], [x + h, fp]]},
    }


def diff_lesson(name: str, formula: str, x: float, h: float) -> dict:
    """Everything the page of section 4.3 draws, for the function ``name`` (or ``formula``) at ``x``, step ``h``."""
    fn = one_variable(name, formula)
    with np.errstate(all="ignore"):
        fx = float(fn.f64(x))
    if not math.isfinite(fx):
        raise InputError(
            _(
                "f is {value} at x = {x}: the point is outside the formula's domain; choose another x",
                value=fx,
                x=repr(x),
            )
        )
    slope, how = fn.slope(x)
    if not math.isfinite(slope):
        raise InputError(_("f has no derivative at x = {x} (it is not smooth there); choose another x", x=repr(x)))
    at_h = values_at(fn, x, h, slope)
    return {
        "function": _(fn.text) if name != "formula" else fn.text,
        "x": x,
        "x_repr": repr(x),
        "slope": slope,
        "slope_repr": repr(slope),
        "slope_how": how,
        "book_h": BOOK_H,
        "at_h": at_h,
        "book_bad_step": values_at(fn, x, SEED_H, slope),
        "curves": error_curves(fn, x, slope),
        "plot": lines(fn, x, h, slope, at_h),
    }
