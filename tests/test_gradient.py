import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlearn import DivergenceError, gradient_descent, numerical_diff, numerical_gradient


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def test_chapter_numbers_exact():
    assert repr(numerical_diff(function_1, 5)) == "0.1999999999990898"
    assert repr(numerical_diff(function_1, 10)) == "0.2999999999986347"
    assert repr(numerical_diff(lambda x0: x0 * x0 + 4.0**2.0, 3.0)) == "6.00000000000378"
    assert repr(numerical_diff(lambda x1: 3.0**2.0 + x1 * x1, 4.0)) == "7.999999999999119"
    assert numerical_gradient(function_2, np.array([3.0, 4.0])).tolist() == [6.00000000000378, 7.999999999999119]


def test_bad_forward_difference_is_zero_and_warns():
    with pytest.warns(RuntimeWarning, match="x \\+ h == x"):
        assert numerical_diff(function_1, 5, h=10e-50, method="forward") == 0.0
    assert np.float32(1e-50) == 0.0


def test_one_sided_differences():
    assert numerical_diff(function_1, 5, method="forward") == pytest.approx(0.200001, rel=1e-9)
    assert numerical_diff(function_1, 5, method="backward") == pytest.approx(0.199999, rel=1e-9)


@pytest.mark.parametrize("point, expected", [((3.0, 4.0), [6, 8]), ((0.0, 2.0), [0, 4]), ((3.0, 0.0), [6, 0])])
def test_gradient_of_function_2(point, expected):
    np.testing.assert_allclose(numerical_gradient(function_2, np.array(point)), expected, atol=1e-10)


def test_gradient_descent_chapter_values():
    init = np.array([-3.0, 4.0])
    np.testing.assert_allclose(gradient_descent(function_2, init, lr=0.1), [-6.11110793e-10, 8.14814391e-10], rtol=1e-8)
    np.testing.assert_allclose(gradient_descent(function_2, init, lr=10.0), [-2.58983747e13, -1.29524862e12], rtol=1e-8)
    np.testing.assert_allclose(gradient_descent(function_2, init, lr=1e-10), [-2.99999994, 3.99999992], rtol=1e-8)
    assert init.tolist() == [-3.0, 4.0]  # not modified


def test_gradient_descent_path():
    x, path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=20, return_path=True)
    assert path.shape == (21, 2)
    assert path[0].tolist() == [-3.0, 4.0]
    assert np.array_equal(path[-1], x)
    # each step of lr=0.1 on x^2 multiplies x by 0.8 (up to the numerical gradient's error)
    np.testing.assert_allclose(path[1], [-2.4, 3.2], rtol=1e-10)


def test_divergence_to_inf_is_reported():
    with pytest.raises(DivergenceError, match="lower the learning rate"), np.errstate(over="ignore"):
        gradient_descent(lambda x: np.sum(np.exp(x**2)), np.array([3.0, 4.0]), lr=1.0, step_num=50)


def test_x_is_restored_exactly_even_when_f_raises():
    x = np.array([[0.1, 0.2], [0.3, 1 / 3]])
    before = x.copy()
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert np.array_equal(x, before) and x.tobytes() == before.tobytes()
    # it was really perturbed in place while f ran
    assert calls[0][0, 0] == 0.1 + 1e-4


def test_in_place_semantics_like_the_book():
    w = np.array([1.0, 2.0, 3.0])
    # f ignores its argument and reads w, as the book's lambda W: net.loss(x, t) does
    grad = numerical_gradient(lambda _: float(np.sum(w**3)), w)
    np.testing.assert_allclose(grad, 3 * w**2, rtol=1e-7)


def test_integer_arrays_refused_and_float32_warns():
    from nnlearn.base.errors import InputTypeError

    # The book's own numerical_gradient gives [5000, 15000] here (its repository's issue #51).
    with pytest.raises(InputTypeError, match=r"^x .*\(int64\).*issue #51.*x\.astype\(np\.float64\)"):
        numerical_gradient(function_2, np.array([1, 2]))
    with pytest.raises(InputTypeError, match="NumPy float array, got list"):
        numerical_gradient(function_2, [3.0, 4.0])
    with pytest.warns(RuntimeWarning, match=r"^x is float32.*h=0\.0001.*210 units"):
        g = numerical_gradient(function_2, np.array([3.0, 4.0], dtype=np.float32))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [6, 8], rtol=1e-2)


def test_a_step_lost_to_rounding_is_refused_not_zero():
    from nnlearn.base.errors import InputError

    # float16 numbers are 0.002 apart at 3: 3 + 1e-4 is 3 again, and the gradient was [0, 0].
    x = np.array([3.0, 4.0], dtype=np.float16)
    with pytest.raises(InputError) as e:
        numerical_gradient(function_2, x)
    # the dtype, the element and its value, the step, the spacing there, and the fix
    said = str(e.value)
    assert all(token in said for token in ("float16", "x[0] = 3", "h=0.0001", "0.002", "x.astype(np.float64)")), said
    assert x.tolist() == [3.0, 4.0]
    with pytest.raises(InputError, match=r"x\[1\] = 1e\+13 .* use a step h above 0.002$"):
        numerical_gradient(function_2, np.array([1.0, 1e13]))
    # Where the step survives, float16 works, with its error named.
    with pytest.warns(RuntimeWarning, match="only about 7 units in the last place of x"):
        g = numerical_gradient(function_2, np.array([0.01, 0.02], dtype=np.float16))
    np.testing.assert_allclose(g, [0.02, 0.04], rtol=0.1)


def test_nan_and_read_only_points_are_refused():
    from nnlearn.base.errors import InputError

    with pytest.raises(InputError, match="^x contains NaN"):
        numerical_gradient(function_2, np.array([np.nan, 4.0]))
    with pytest.raises(InputError, match="^x contains inf"):
        numerical_gradient(function_2, np.array([3.0, -np.inf]), method="auto")
    x = np.array([3.0, 4.0])
    x.flags.writeable = False
    with pytest.raises(InputError, match=r"^x is read-only.* x\.copy\(\)"):
        numerical_gradient(function_2, x)


def test_other_methods_need_float64_with_an_nnlearn_error():
    from nnlearn.base.errors import InputTypeError

    with pytest.raises(InputTypeError, match=r"method='auto'.*float64.*float32"):
        numerical_gradient(function_2, np.array([3.0, 4.0], dtype=np.float32), method="auto")


@pytest.mark.parametrize("h", [0, -1e-4, np.nan, np.inf])
def test_bad_step(h):
    with pytest.raises(ValueError, match="h must be a number > 0"):
        numerical_diff(function_1, 5.0, h=h)
    with pytest.raises(ValueError, match="h must be a number > 0"):
        numerical_gradient(function_2, np.array([1.0, 2.0]), h=h)


def test_bad_method_and_non_scalar_f():
    with pytest.raises(ValueError, match="unknown method"):
        numerical_diff(function_1, 5.0, method="centre")
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.array([1.0, 2.0]))


finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.sampled_from([(1,), (3,), (2, 3), (2, 1, 2)]),
    data=st.data(),
)
def test_random_quadratics_against_analytic_gradient(shape, data):
    n = int(np.prod(shape))
    a = data.draw(arrays(np.float64, (n, n), elements=finite))
    b = data.draw(arrays(np.float64, n, elements=finite))
    x = data.draw(arrays(np.float64, shape, elements=finite))
    q = a @ a.T  # symmetric, so the gradient is 2 Q x + b

    def f(v):
        v = v.ravel()
        return v @ q @ v + b @ v

    expected = (2 * q @ x.ravel() + b).reshape(shape)
    # a quadratic's central difference has no truncation error: only rounding, about eps * |f| / h
    scale = 1 + np.abs(q).sum() * (1 + np.abs(x).max()) ** 2
    np.testing.assert_allclose(numerical_gradient(f, x.copy()), expected, rtol=0, atol=1e-10 * scale)


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, 3, elements=st.floats(-2, 2)))
def test_sin_exp_compositions_against_analytic_gradient(x):
    def f(v):
        return np.sin(v[0] * v[1]) + np.exp(np.sin(v[2])) * v[0]

    x0, x1, x2 = x
    expected = [
        np.cos(x0 * x1) * x1 + np.exp(np.sin(x2)),
        np.cos(x0 * x1) * x0,
        np.exp(np.sin(x2)) * np.cos(x2) * x0,
    ]
    np.testing.assert_allclose(numerical_gradient(f, x.copy()), expected, rtol=1e-6, atol=1e-7)


def test_no_warnings_on_the_book_path():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numerical_diff(function_1, 5)
        numerical_gradient(function_2, np.array([3.0, 4.0]))


def test_a_gradient_that_is_nan_is_said_where():
    # f returning NaN gave [nan nan] in silence (the other methods of derivative warn)
    x = np.array([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning) as caught:
        g = numerical_gradient(lambda v: float("nan"), x)
    assert np.isnan(g).all() and x.tolist() == [1.0, 2.0, 3.0]
    assert [str(w.message) for w in caught] == [
        "the gradient is nan at x[0] (and 2 more): f (<lambda>) is not finite (NaN or inf) within h=0.0001 of "
        "that point; x lies outside f's domain there, or f overflows"
    ]
    assert caught[0].filename == __file__  # the reader's line, not nnlearn's

    def log_sum(v):
        with np.errstate(invalid="ignore"):
            return np.sum(np.log(v))

    with pytest.warns(RuntimeWarning, match=r"nan at x\[1, 0\].*\(log_sum\)"):
        g = numerical_gradient(log_sum, np.array([[1.0, 2.0], [5e-5, 4.0]]))  # 5e-5 - 1e-4 < 0
    np.testing.assert_allclose(g[[0, 0, 1], [0, 1, 1]], [1.0, 0.5, 0.25], rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finite gradient: no warning
        numerical_gradient(log_sum, np.array([1.0, 2.0]))
