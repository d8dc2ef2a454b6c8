"""derivative() says why it returns NaN, and its error estimate bounds the true error."""

import math

import numpy as np
import pytest

from nnlearn.common.derivatives import derivative

EULER_GAMMA = 0.5772156649015329


def test_nan_from_a_real_function_outside_its_domain_is_explained():
    with pytest.warns(RuntimeWarning) as caught:
        assert math.isnan(derivative(np.sqrt, -2.0))
    assert [str(w.message) for w in caught] == [
        "the derivative is NaN: f returned NaN at x=-2 (is x outside f's domain?)"
    ]


def test_a_complex_value_at_a_real_point_is_named():
    with pytest.warns(RuntimeWarning) as caught:
        assert math.isnan(derivative(lambda x: (x + 0j) ** 0.5, -4.0))
    (message,) = [str(w.message) for w in caught]
    assert message.startswith("the derivative is NaN: f returned the complex number ")
    assert message.endswith("2j at x=-4, so it has no real derivative there (x is outside f's real domain)")


def test_nan_at_some_points_of_an_array_says_how_many():
    with pytest.warns(RuntimeWarning, match=r"^the derivative is NaN at 2 points: f returned NaN at x=-1 "):
        d = derivative(np.log, [-1.0, 2.0, -3.0])
    assert math.isnan(d[0]) and d[1] == 0.5 and math.isnan(d[2])


# Held out from the development battery: math functions that refuse complex input (so Richardson).
# lgamma' is the digamma function: psi(n) = -gamma + H(n-1), psi(n + 1/2) = -gamma - 2 log 2 + sum 2/(2k-1).
HELD_OUT = [
    ("lgamma 2.5", math.lgamma, 2.5, -EULER_GAMMA - 2 * math.log(2) + 2 + 2 / 3),
    ("lgamma 3", math.lgamma, 3.0, -EULER_GAMMA + 1.5),
    ("erf 1", math.erf, 1.0, 2 / math.sqrt(math.pi) * math.exp(-1.0)),
    ("atan -2", math.atan, -2.0, 0.2),
    ("log1p 3", math.log1p, 3.0, 0.25),
    ("log(1+x^2) 1e-4", lambda x: np.log(1 + x * x), 1e-4, 2e-4 / (1 + 1e-8)),
]


@pytest.mark.parametrize("name, f, x, true", HELD_OUT, ids=[c[0] for c in HELD_OUT])
def test_richardson_error_estimate_bounds_the_true_error(name, f, x, true):
    # Old estimates: lgamma at 2.5 reported 6.5e-15 for a true error of 1.5e-14, and log(1 + x**2)
    # at 1e-4 reported 3.6e-19 for 1.2e-12 (its 1 + x**2 rounds to 2e-16).
    r = derivative(f, x, method="richardson", full_output=True)
    assert r.method == "richardson"
    assert abs(r.df - true) <= r.error
    assert r.error <= 1e-6 * abs(true)  # honest, yet still an estimate one can use


def test_f_returning_none_is_a_one_line_error_naming_f():
    from nnlearn.base.errors import InputTypeError

    def broken(x):
        return None

    with pytest.raises(InputTypeError) as e:
        derivative(broken, 1.0)
    assert str(e.value) == "f (broken) returned None at x=1.0; it must return a number"


@pytest.mark.parametrize(
    "f, x, gap",
    [
        (np.sign, 0.0, "2"),  # was 9.333333333333334, silently
        (lambda t: np.where(t > 1, 1.0, 0.0), 1.0, "1"),  # was 4.67 with a warning about a kink
        (lambda t: float(t > 0), 0.0, "1"),  # not probed: Richardson from the start
        (lambda t: np.sign(t) + t, 0.0, "2"),  # a jump on a slope
        (lambda t: np.sign(t - 1e8), 1e8, "2"),  # far from 0
    ],
)
def test_a_jump_is_nan_with_a_warning_that_names_it(f, x, gap):
    with pytest.warns(RuntimeWarning) as caught:
        r = derivative(f, x, full_output=True)
    assert math.isnan(r.df) and math.isnan(r.error)
    assert [str(w.message) for w in caught] == [
        f"f jumps at x={x:g}: f(x+h) - f(x-h) stays near {gap} while h shrinks 4096-fold; f is not continuous "
        "there, so it has no derivative and the value returned is NaN"
    ]


def test_continuous_functions_are_not_jumps():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert derivative(np.sign, [1.0, -2.0]).tolist() == [0.0, 0.0]  # flat on either side of nothing
        assert derivative(lambda t: t + 1e-9 * t**3, 0.0) == 1.0
        assert derivative(np.floor, 2.5) == 0.0
    # A kink is not a jump: the average of the one-sided slopes, with its own warning.
    with pytest.warns(RuntimeWarning, match="slopes on either side differ by about 2"):
        assert derivative(np.abs, 0.0) == 0.0
    # A vertical tangent (x**0.1 at 0) is continuous: not called a jump.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        derivative(lambda t: math.copysign(abs(t) ** 0.1, t), 0.0)
    assert not [w for w in caught if "jumps" in str(w.message)]


def test_a_jump_among_points_and_an_undefined_point_each_get_their_warning():
    with pytest.warns(RuntimeWarning) as caught:
        d = derivative(lambda t: np.sign(t) + np.sqrt(t + 1), [0.0, -2.0, 3.0])
    assert math.isnan(d[0]) and math.isnan(d[1]) and d[2] == pytest.approx(0.25, rel=1e-12)
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith("f jumps at x=0: ")
    assert messages[1] == "the derivative is NaN: f returned NaN at x=-2 (is x outside f's domain?)"
