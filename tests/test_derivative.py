"""nnlearn.common.derivatives (the function ``nnlearn.derivative``): every method against analytic
derivatives, the choices of ``auto``, the error estimates, arrays of points, domain edges, and the
methods of ``numerical_gradient``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import nnlearn
from nnlearn import numerical_diff, numerical_gradient
from nnlearn.common import derivatives
from nnlearn.common.derivatives import DerivativeResult, derivative, estimate, probe
from nnlearn.common.derivatives.expr import parse_expression


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rel(d, true):
    return abs(d - true) / abs(true)


# (name, numpy f that accepts complex, math f that does not, x, f'(x))
ANALYTIC = [
    ("book 0.01x^2+0.1x", function_1, None, 5.0, 0.2),
    ("cubic", lambda x: 2 * x**3 - x + 1, None, -1.5, 6 * 2.25 - 1),
    ("quintic tiny x", lambda x: x**5 + 3 * x, None, 1e-9, 3.0),
    ("exp", np.exp, math.exp, 1.0, math.e),
    ("exp large", np.exp, math.exp, 600.0, math.exp(600.0)),
    ("log near zero", np.log, math.log, 1e-3, 1e3),
    ("log very near zero", np.log, math.log, 1e-9, 1e9),
    ("sin large x", np.sin, math.sin, 1e5, math.cos(1e5)),
    ("sin larger x", np.sin, math.sin, 1e8, math.cos(1e8)),
    ("sigmoid", _sigmoid, lambda x: 1 / (1 + math.exp(-x)), 0.7, math.exp(-0.7) / (1 + math.exp(-0.7)) ** 2),
    (
        "exp(sin x)",
        lambda x: np.exp(np.sin(x)),
        lambda x: math.exp(math.sin(x)),
        2.0,
        math.cos(2.0) * math.exp(math.sin(2.0)),
    ),
    (
        "log(1+exp(x))",
        lambda x: np.log(1 + np.exp(x)),
        lambda x: math.log(1 + math.exp(x)),
        3.0,
        1 / (1 + math.exp(-3.0)),
    ),
    (
        "sqrt(sigmoid)",
        lambda x: np.sqrt(_sigmoid(x)),
        lambda x: math.sqrt(1 / (1 + math.exp(-x))),
        -2.0,
        0.5 * math.sqrt(1 / (1 + math.exp(2.0))) * (1 - 1 / (1 + math.exp(2.0))),
    ),
    ("tanh(x^2)", lambda x: np.tanh(x**2), lambda x: math.tanh(x * x), 0.8, 1.6 / math.cosh(0.64) ** 2),
]
IDS = [case[0] for case in ANALYTIC]


# ---------------------------------------------------------------------------------------------
# The chapter's numbers do not change.


def test_book_numbers_unchanged():
    assert repr(numerical_diff(function_1, 5)) == "0.1999999999990898"
    assert repr(numerical_diff(function_1, 10)) == "0.2999999999986347"
    assert numerical_gradient(function_2, np.array([3.0, 4.0])).tolist() == [6.00000000000378, 7.999999999999119]
    assert repr(numerical_gradient(function_2, np.array([0.0, 2.0]))) == "array([0., 4.])"
    assert repr(numerical_gradient(function_2, np.array([3.0, 0.0]))) == "array([6., 0.])"


def test_central_with_the_books_step_is_the_books_difference():
    assert repr(derivative(function_1, 5, method="central", h=1e-4)) == "0.1999999999990898"
    assert repr(derivative(function_1, 10, method="central", h=1e-4)) == "0.2999999999986347"
    assert derivative(function_1, 5, method="forward", h=1e-4) == numerical_diff(function_1, 5, method="forward")
    assert derivative(function_1, 5, method="backward", h=1e-4) == numerical_diff(function_1, 5, method="backward")


def test_seed_example_step_is_refused_not_silently_zero():
    # The book's forward difference with h=1e-50 returns 0.0; derivative says why instead.
    with pytest.raises(ValueError, match="below the spacing of floating-point numbers"):
        derivative(function_1, 5, method="forward", h=1e-50)


# ---------------------------------------------------------------------------------------------
# Complex step and Richardson against analytic derivatives.


@pytest.mark.parametrize("name, f, f_math, x, true", ANALYTIC, ids=IDS)
def test_complex_step_to_machine_precision(name, f, f_math, x, true):
    assert rel(derivative(f, x, method="complex"), true) <= 1e-15


@pytest.mark.parametrize("name, f, f_math, x, true", ANALYTIC, ids=IDS)
def test_richardson_against_analytic(name, f, f_math, x, true):
    for g in (f, f_math) if f_math else (f,):
        r = derivative(g, x, method="richardson", full_output=True)
        assert r.method == "richardson"
        assert rel(r.df, true) <= 1e-11, (r.df, true)
        assert abs(r.df - true) <= r.error  # the estimate is an honest bound here


@pytest.mark.parametrize("name, f, f_math, x, true", ANALYTIC, ids=IDS)
def test_auto_uses_complex_step_when_f_accepts_complex(name, f, f_math, x, true):
    r = derivative(f, x, full_output=True)
    assert r.method == "complex"
    assert rel(r.df, true) <= 1e-15
    assert r.nfev <= 10  # f(x), f(x+ih), then real central differences that confirm the slope
    if f_math is not None:
        r = derivative(f_math, x, full_output=True)
        assert r.method == "richardson"
        assert rel(r.df, true) <= 1e-11


def test_fixed_step_methods_orders():
    # Forward error ~ h f''/2 = 0.01 h; central exact for a quadratic up to rounding.
    h = 1e-3
    assert derivative(function_1, 5.0, method="forward", h=h) - 0.2 == pytest.approx(0.01 * h, rel=1e-6)
    assert derivative(function_1, 5.0, method="backward", h=h) - 0.2 == pytest.approx(-0.01 * h, rel=1e-6)
    assert abs(derivative(function_1, 5.0, method="central", h=h) - 0.2) < 1e-12


def test_default_steps_scale_with_x():
    for x in (1e-6, 1.0, 1e6):
        r = derivative(np.sin, x, method="central", full_output=True)
        assert r.h == pytest.approx(np.finfo(float).eps ** (1 / 3) * x)
        r = derivative(np.sin, x, method="complex", full_output=True)
        assert r.h == pytest.approx(1e-20 * x)
    assert derivative(np.exp, 0.0, method="forward", full_output=True).h == pytest.approx(2**-26)


# ---------------------------------------------------------------------------------------------
# Non-analytic code: auto must not trust the complex step.


@pytest.mark.parametrize(
    "f, x, true",
    [
        (np.abs, -2.0, -1.0),  # np.abs(complex) is the real modulus
        (abs, 3.0, 1.0),  # so is Python's abs
        (lambda x: x * np.abs(x), 2.0, 4.0),
        (lambda x: x + np.abs(x), 3.0, 2.0),  # complex result, but the abs part has Im 0: caught by the cross-check
        (nnlearn.sigmoid, 2.0, float(nnlearn.sigmoid_grad(2.0))),  # built on exp(-|x|)
        (lambda x: max(0.0, x), 2.0, 1.0),  # ReLU, Python max: refuses complex
        (lambda x: max(0.0, x), -2.0, 0.0),
        (parse_expression("relu(x)"), 2.0, 1.0),  # the formula language's relu refuses complex
        (parse_expression("relu(x)"), -0.5, 0.0),
        (parse_expression("abs(x)*x"), -3.0, 6.0),
    ],
)
def test_auto_avoids_complex_step_for_non_analytic_code(f, x, true):
    r = derivative(f, x, full_output=True)
    assert r.method == "richardson"
    assert abs(r.df - true) <= 1e-12 * max(1.0, abs(true))
    # Forcing the complex step is refused, or wrong: that is what auto protects against.
    try:
        d = derivative(f, x, method="complex")
    except ValueError as exc:
        assert "needs f to accept a complex number" in str(exc)
    else:
        assert abs(d - true) > 0.1


def _np_relu(x):
    return np.maximum(0, x)


def _where_relu(x):
    return np.where(x > 0, x, 0)


NUMPY_NON_ANALYTIC = [("nnlearn.relu", nnlearn.relu), ("np.maximum(0, x)", _np_relu),
                      ("np.where(x > 0, x, 0)", _where_relu), ("np.abs", np.abs), ("abs", abs)]  # fmt: skip


@pytest.mark.parametrize("name, f", NUMPY_NON_ANALYTIC, ids=[c[0] for c in NUMPY_NON_ANALYTIC])
@pytest.mark.parametrize("x", [2.0, -3.0, 0.25, -1e-6, 1e5])
def test_auto_sees_non_analytic_numpy_code_and_uses_richardson(name, f, x):
    # NumPy orders complex numbers by their real part, so np.maximum(0, x + ih) is x + ih or 0: a
    # complex step through ReLU happens to give the right slope, but auto must not rely on luck.
    relu = name != "np.abs" and name != "abs"
    true = (1.0 if x > 0 else 0.0) if relu else math.copysign(1.0, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # away from the kink: no "not differentiable" warning
        r = derivative(f, x, full_output=True)
    assert r.method == "richardson"
    assert abs(r.df - true) <= 1e-12
    # f is linear near x: Richardson's first rows already agree (<= 16); with full_output 6 more
    # evaluations measure f's rounding noise, so that the error estimate is honest.
    assert r.nfev <= 22


def test_auto_sees_non_analytic_operations_inside_compositions():
    cases = [
        (lambda x: np.sin(x) + 2 * np.maximum(0, x), 1.0, math.cos(1.0) + 2),  # analytic ops around it
        (lambda x: np.exp(np.where(np.sin(x) > 0, x, -x)), 1.0, math.e),  # a comparison of a derived value
        (lambda x: np.clip(x, -5, 5) ** 2, 3.0, 6.0),
        (lambda x: x.clip(0, 5) * x, 3.0, 6.0),
        (lambda x: np.max(np.stack([x, 0 * x])) ** 3, 2.0, 12.0),  # through an array function and a reduction
        (lambda x: np.atleast_1d(x)[0] * np.abs(x), 2.0, 4.0),  # through indexing
        (lambda x: max(0.0, x) ** 2, 3.0, 6.0),  # Python's max compares with NumPy's greater
        (lambda x: x * np.conj(x), 2.0, 4.0),  # |x|^2: conj is not analytic
        (lambda x: np.sign(x) * x**2, -2.0, 4.0),
        (lambda x: np.fmax(x, 0) + np.fmin(x, 0) * 2, -1.5, 2.0),
        (lambda x: np.round(x) + x, 2.2, 1.0),
        (lambda x: np.floor(x) + x, 2.5, 1.0),  # floor refuses complex input, but it was applied
        (lambda x: x.real**2, 1.5, 3.0),
    ]
    for f, x, true in cases:
        r = derivative(f, x, full_output=True)
        assert r.method == "richardson" and abs(r.df - true) <= 1e-12 * abs(true), (x, true, r)


def test_probe_notes_operations_on_derived_values():
    notes = set()
    p = probe.Probe(2 + 1e-20j, notes)
    y = np.sin(p) * 3
    assert isinstance(y, probe.Probe) and complex(y) == 3 * np.sin(2 + 1e-20j)
    assert notes == {"sin", "multiply"}
    z = np.where(y > 0, y, 0)
    assert isinstance(z, probe.Probe) and notes >= {"greater", "where"}
    assert sorted(notes & derivatives.NON_ANALYTIC) == ["greater"]
    # numerical_gradient's complex copy of an array carries the probe's notes.
    copy = probe.complex_copy(np.array([1.0, 5.0]), (1,), p)
    assert isinstance(copy, probe.Probe) and copy.tolist() == [1, 2 + 1e-20j]
    np.maximum(copy, 0)
    assert "maximum" in notes
    plain = probe.complex_copy(np.array([1.0, 5.0]), (1,), 2 + 1e-20j)
    assert type(plain) is np.ndarray and plain.dtype == np.complex128


def test_non_analytic_ufunc_names_are_numpy_ufuncs():
    ufuncs = ["absolute", "fabs", "sign", "conjugate", "maximum", "minimum", "fmax", "fmin", "greater",
              "greater_equal", "less", "less_equal", "equal", "not_equal", "floor", "ceil", "trunc", "rint",
              "heaviside", "fmod", "remainder", "floor_divide", "divmod", "modf", "copysign"]  # fmt: skip
    for name in ufuncs:
        assert isinstance(getattr(np, name), np.ufunc) and name in derivatives.NON_ANALYTIC
    for name in ("clip", "round", "sort", "median", "real", "imag"):  # array functions (clip is also a ufunc)
        assert getattr(np, name).__name__ == name and name in derivatives.NON_ANALYTIC
    analytic = ["sin", "cos", "tan", "exp", "expm1", "log", "log1p", "sqrt", "tanh", "arctan", "add", "multiply",
                "divide", "power", "square", "negative", "matmul"]  # fmt: skip
    assert not derivatives.NON_ANALYTIC & set(analytic)


@pytest.mark.parametrize(
    "f, x, true",
    [
        (np.sqrt, 2.0, 0.5 / math.sqrt(2.0)),
        (np.tanh, -0.3, 1 / math.cosh(0.3) ** 2),
        (np.polynomial.Polynomial([1.0, -2.0, 0.5]), 3.0, 1.0),
        (lambda x: np.log(1 + x**2) * np.exp(-x), 0.5, (1 / 1.25 - math.log(1.25)) * math.exp(-0.5)),
        (lambda x: np.sum(np.sin(np.stack([x, 2 * x]))), 1.0, math.cos(1.0) + 2 * math.cos(2.0)),
    ],
)
def test_analytic_numpy_code_still_gets_the_complex_step(f, x, true):
    r = derivative(f, x, full_output=True)
    assert r.method == "complex"
    assert rel(r.df, true) <= 4e-16
    assert r.nfev == 4  # f(x), the probe (whose value is the complex step), a real difference to confirm it


def test_code_that_cannot_be_probed_behaves_as_before():
    import functools

    # An array is unhashable: the memoised f refuses the probe, then takes a plain complex number.
    cached = functools.lru_cache(lambda t: np.sin(t))
    r = derivative(cached, 1.0, full_output=True)
    assert (r.method, r.df, r.nfev) == ("complex", math.cos(1.0), 5)
    # np.asarray strips the probe, so its maximum goes unseen: the complex step, right by luck.
    r = derivative(lambda x: np.maximum(0, np.asarray(x)), 2.0, full_output=True)
    assert (r.method, r.df) == ("complex", 1.0)
    # f converts to float: no complex step at all.
    assert derivative(lambda x: float(x) ** 2, 3.0, full_output=True).method == "richardson"


@pytest.mark.parametrize("x", [-5.0, -2.0, -0.7, 0.0, 0.3, 2.0, 5.0])
def test_nnlearn_sigmoid_by_richardson_stays_accurate(x):
    # nnlearn.sigmoid uses exp(-|x|) and np.where(x >= 0, ...), so auto extrapolates.
    true = math.exp(-abs(x)) / (1 + math.exp(-abs(x))) ** 2
    r = derivative(nnlearn.sigmoid, x, full_output=True)
    assert r.method == "richardson"
    assert rel(r.df, true) <= 1e-11
    assert abs(r.df - true) <= r.error


def test_gradient_auto_sees_relu_through_the_complex_copy(monkeypatch):
    chosen = []
    real_auto = estimate._auto

    def spy(*args):
        result = real_auto(*args)
        chosen.append(result[3])
        return result

    monkeypatch.setattr(estimate, "_auto", spy)
    x = np.array([1.5, -2.0, 0.5])
    g = numerical_gradient(lambda v: np.sum(nnlearn.relu(v) ** 2) + np.sum(np.sin(v)), x, method="auto")
    np.testing.assert_allclose(g, [3.0 + math.cos(1.5), math.cos(-2.0), 1.0 + math.cos(0.5)], rtol=1e-13)
    assert chosen == ["richardson"] * 3
    chosen.clear()
    numerical_gradient(lambda v: np.sum(np.sin(v) ** 2), x, method="auto")
    assert chosen == ["complex"] * 3


def test_kink_is_reported_not_hidden():
    with pytest.warns(RuntimeWarning, match="does not look differentiable at x=0"):
        r = derivative(np.abs, 0.0, full_output=True)
    assert r.df == 0.0  # the average of the one-sided slopes -1 and 1
    assert r.error >= 0.5
    with pytest.warns(RuntimeWarning, match="does not look differentiable"):
        r = derivative(nnlearn.relu, 0.0, full_output=True)
    assert r.method == "richardson" and r.error >= 0.25
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        derivative(lambda x: np.abs(x) ** 3, 0.0)  # differentiable (twice): no warning


# ---------------------------------------------------------------------------------------------
# Domain edges: Richardson stays where f is finite.


class Recorder:
    def __init__(self, f):
        self.f = f
        self.points = []

    def __call__(self, t):
        self.points.append(t)
        return self.f(t)


@pytest.mark.parametrize("x", [1e-3, 1e-8])
def test_richardson_never_steps_across_zero_for_log(x):
    f = Recorder(math.log)
    d = derivative(f, x, method="richardson")
    assert min(f.points) > 0
    assert rel(d, 1 / x) <= 1e-11


def test_log_at_the_smallest_normal_scale():
    # Here Richardson also probes a unit-scale step, which leaves the domain: refused, not returned.
    assert rel(derivative(math.log, 1e-300), 1e300) <= 1e-11
    assert rel(derivative(np.log, 1e-300), 1e300) <= 1e-15


def test_richardson_shrinks_the_first_step_until_f_is_finite():
    # sqrt(1 - x^2) is finite only on [-1, 1]; at 0.999 the first step 0.25 leaves it.
    f = Recorder(lambda x: math.sqrt(1 - x * x))
    x = 0.999
    r = derivative(f, x, method="richardson", full_output=True)
    assert rel(r.df, -x / math.sqrt(1 - x * x)) <= 1e-9
    assert r.h < 1 - x


def test_pole_is_not_jumped():
    # 1/x^2 is finite on both sides of its pole; a wide step across it would give slope ~0.
    assert rel(derivative(lambda x: x**-2.0, 1e-5, method="richardson"), -2e15) <= 1e-11


def test_not_finite_at_the_point_gives_nan():
    with pytest.warns(RuntimeWarning, match="f returned NaN at x=-1"):
        assert math.isnan(derivative(np.log, -1.0))
    with pytest.warns(RuntimeWarning, match="f returned -inf at x=0"):
        assert math.isnan(derivative(lambda x: np.log(x), 0.0))


def test_auto_is_never_nan_on_the_benchmark_battery_edges():
    for f, x in [(np.log, 1e-12), (np.sqrt, 1e-8), (lambda x: x**1.5, 1e-6), (np.log1p, -0.5), (math.log, 1e-3)]:
        assert math.isfinite(derivative(f, x))


def test_sin_at_large_x_by_richardson_alone():
    # Steps scaled with |x| = 1e5 would sample sin far too coarsely; Richardson tries a unit scale too.
    assert rel(derivative(math.sin, 1e5), math.cos(1e5)) <= 1e-12
    assert rel(derivative(math.exp, 1e-8), math.exp(1e-8)) <= 1e-12


# ---------------------------------------------------------------------------------------------
# Arrays, full output, error estimates, evaluation counts.


def test_arrays_of_points():
    x = np.array([[0.0, 0.5], [np.pi, 10.0]])
    d = derivative(np.sin, x)
    assert d.shape == (2, 2)
    np.testing.assert_allclose(d, np.cos(x), rtol=0, atol=2e-16)
    r = derivative(math.sin, x, full_output=True)
    assert isinstance(r, DerivativeResult)
    assert r.method.shape == (2, 2) and set(r.method.ravel()) == {"richardson"}
    assert r.error.shape == (2, 2) and np.all(np.abs(r.df - np.cos(x)) <= r.error)
    np.testing.assert_allclose(derivative(np.exp, [1.0, 2.0]), [math.exp(1.0), math.exp(2.0)], rtol=3e-16)
    assert derivative(np.exp, 1).__class__ is float


def test_full_output_counts_evaluations():
    calls = Recorder(function_1)
    r = derivative(calls, 5.0, full_output=True)
    assert (r.df, r.method, r.nfev) == (0.2, "complex", len(calls.points))
    calls = Recorder(function_1)
    assert derivative(calls, 5.0, method="central", h=1e-4) and len(calls.points) == 2  # as the book


def test_error_estimates_bound_the_actual_error():
    for name, f, f_math, x, true in ANALYTIC:
        for method in ("auto", "richardson", "complex"):
            r = derivative(f, x, method=method, full_output=True)
            assert abs(r.df - true) <= r.error, (name, method, r)
        if abs(x) >= 1e5:
            continue  # the fixed default step 6e-6 |x| is far too coarse for sin at 1e8; the estimate cannot know
        for method in ("central", "forward", "backward"):
            r = derivative(f, x, method=method, full_output=True)
            assert abs(r.df - true) <= r.error, (name, method, r)


# Magnitudes below 1e-6 would only test float64 underflow (f'(x) * 1e-20 |x| below 1e-308).
_moderate = st.floats(-10, 10, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-6)


@settings(max_examples=60, deadline=None)
@given(coeffs=st.lists(_moderate, min_size=1, max_size=6), x=_moderate.map(lambda v: v / 2))
@example(
    coeffs=[0.0, 1.0, 0.0, 0.0, 1.0, 0.5], x=0.0
)  # f(0) = 0: Re f(ih) = h**4 is no reason to leave the complex step
def test_random_polynomials_property(coeffs, x):
    poly = np.polynomial.Polynomial(coeffs)
    true = poly.deriv()(x)
    # The size of the terms: a difference of f values cannot resolve the slope better than that.
    scale = sum(abs(c) * max(abs(x), 1.0) ** k for k, c in enumerate(coeffs)) + 1e-300
    assert abs(derivative(poly, x) - true) <= 1e-14 * scale  # complex step
    assert abs(derivative(lambda t: float(poly(t)), x) - true) <= 1e-10 * scale  # Richardson


# ---------------------------------------------------------------------------------------------
# Bad input.


def test_bad_input_errors():
    with pytest.raises(ValueError, match="unknown method 'bogus'"):
        derivative(np.sin, 1.0, method="bogus")
    with pytest.raises(ValueError, match="h must be a number > 0"):
        derivative(np.sin, 1.0, h=0)
    with pytest.raises(ValueError, match="h must be a number > 0"):
        derivative(np.sin, 1.0, h=float("nan"))
    with pytest.raises(ValueError, match="x contains (NaN|inf); a derivative needs finite points"):
        derivative(np.sin, [1.0, np.nan])
    with pytest.raises(ValueError, match="must return one number"):
        derivative(lambda t: np.array([t, t]), 1.0)
    with pytest.raises(ValueError, match="numeric"):
        derivative(np.sin, "one")
    with pytest.raises(TypeError, match="callable"):
        derivative(3.0, 1.0)
    with pytest.raises(ValueError, match="method='complex' needs f to accept a complex number"):
        derivative(math.exp, 1.0, method="complex")


def test_exception_at_the_point_itself_propagates():
    def f(t):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        derivative(f, 1.0)


# ---------------------------------------------------------------------------------------------
# numerical_gradient(method=...).


def _g(x):
    return np.sum(np.sin(x) * np.exp(x)) + x.ravel()[0] * x.ravel()[-1]


def _g_grad(x):
    grad = (np.cos(x) + np.sin(x)) * np.exp(x)
    flat = grad.ravel()
    flat[0] += x.ravel()[-1]
    flat[-1] += x.ravel()[0]
    return grad


@pytest.mark.parametrize("method, tol", [("complex", 1e-15), ("auto", 1e-15), ("richardson", 1e-12), ("central", 1e-7)])
def test_gradient_methods_against_analytic(method, tol):
    x = np.array([[0.3, -1.2, 2.0], [1e-3, 4.0, -0.5]])
    before = x.copy()
    g = numerical_gradient(_g, x, method=method)
    np.testing.assert_allclose(g, _g_grad(before), rtol=tol, atol=tol)
    assert np.array_equal(x, before)


def test_gradient_auto_with_f_that_ignores_its_argument():
    # The book's style: f = lambda W: net.loss(x, t) reads W from elsewhere; x is perturbed in place.
    W = np.array([1.5, -2.0])

    def loss(_):
        return float(W[0] ** 3 + np.sin(W[1]))

    g = numerical_gradient(loss, W, method="auto")
    np.testing.assert_allclose(g, [3 * 1.5**2, math.cos(-2.0)], rtol=1e-12)
    assert W.tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="complex"):
        numerical_gradient(loss, W, method="complex")


def test_gradient_methods_restore_x_when_f_raises():
    # f fails on its n-th call, whichever evaluation that is: at a step (taken as "undefined there")
    # or at the point itself (propagated). Either way x comes back bit for bit.
    x = np.array([1.0, 2.0, 3.0])
    propagated = warned = 0
    for method in ("auto", "richardson", "forward"):
        for n in range(1, 25):
            calls = []

            def f(v, n=n, calls=calls):
                calls.append(1)
                if len(calls) == n:
                    raise RuntimeError("no")
                return np.sum(v**2)

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    numerical_gradient(f, x, method=method)
                except RuntimeError:
                    propagated += 1
            # Where it did not propagate, the element whose step failed is NaN, and the warning says why.
            messages = {str(w.message).split(" at the steps")[0] for w in caught}
            warned += bool(messages)
            assert messages <= {"the derivative is NaN: f is not finite (NaN, inf, complex or an error)"}
            assert x.tolist() == [1.0, 2.0, 3.0]
    assert propagated >= 3 and warned >= 3


def test_gradient_method_errors():
    with pytest.raises(ValueError, match="unknown method"):
        numerical_gradient(function_2, np.array([3.0, 4.0]), method="nope")
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(function_2, np.array([3.0, 4.0], dtype=np.float32), method="auto")
    with pytest.raises(TypeError, match="x is an integer array"):
        numerical_gradient(function_2, np.array([3, 4]), method="auto")
    with pytest.raises(ValueError, match="h must be a number > 0"):
        numerical_gradient(function_2, np.array([3.0, 4.0]), h=-1.0, method="richardson")


def test_gradient_default_step_is_the_books():
    assert numerical_gradient(function_2, np.array([3.0, 4.0]), h=1e-4).tolist() == [
        6.00000000000378,
        7.999999999999119,
    ]
    assert numerical_gradient(function_2, np.array([3.0, 4.0]), method="auto").tolist() == [6.0, 8.0]


def test_the_module_is_not_shadowed_by_the_function():
    import importlib

    module = importlib.import_module("nnlearn.common.derivatives")
    assert module is derivatives and type(module).__name__ == "module"
    assert nnlearn.derivative is module.derivative and callable(nnlearn.derivative)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("nnlearn.derivative")


def test_module_constants_are_consistent():
    assert derivatives.METHODS == ("auto", "forward", "backward", "central", "complex", "richardson")
