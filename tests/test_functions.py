import warnings

import numpy as np
import pytest

from nnlearn import identity_function, relu, sigmoid, sigmoid_grad, softmax, step_function

LARGE = np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4])


@pytest.mark.parametrize("fn", [sigmoid, relu, step_function, softmax, identity_function, sigmoid_grad])
def test_no_overflow_warning_for_large_inputs(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(LARGE)
    assert np.all(np.isfinite(out))


def test_sigmoid_matches_the_textbook_formula_where_that_is_stable():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15, atol=0)


def test_sigmoid_keeps_relative_precision_in_the_far_tail():
    # 1 / (1 + exp(40)) is 4.248e-18; computing it as 1 - something would give 0.
    assert sigmoid(-40.0) == pytest.approx(4.248354255291589e-18, rel=1e-14)
    assert sigmoid(-1e4) == 0.0 and sigmoid(1e4) == 1.0


def test_sigmoid_grad_is_the_derivative():
    x = np.linspace(-5, 5, 11)
    h = 1e-6
    np.testing.assert_allclose(sigmoid_grad(x), (sigmoid(x + h) - sigmoid(x - h)) / (2 * h), rtol=1e-8)


def test_step_and_relu_values():
    x = np.array([-2.0, 0.0, 0.5])
    assert step_function(x).tolist() == [0, 0, 1]
    assert relu(x).tolist() == [0.0, 0.0, 0.5]
    assert identity_function(x) is x


def test_softmax_one_sample_and_batch_agree():
    a = np.array([0.3, 2.9, 4.0])
    batch = np.stack([a, a + 1000.0, -a])
    out = softmax(batch)
    np.testing.assert_allclose(out[0], softmax(a), rtol=1e-15)
    np.testing.assert_allclose(out[1], softmax(a), rtol=1e-12)  # shift invariance
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-15)
    # the book's numbers for a = [0.3, 2.9, 4.0]
    np.testing.assert_allclose(softmax(a), [0.01821127, 0.24519181, 0.73659691], atol=5e-9)


def test_softmax_extreme_inputs():
    out = softmax(np.array([[1e4, -1e4, 0.0]]))
    assert out.tolist() == [[1.0, 0.0, 0.0]]


def test_activations_refuse_what_is_not_numbers_and_softmax_an_empty_axis():
    from nnlearn.base.errors import InputError, InputTypeError

    for f in (step_function, sigmoid, sigmoid_grad, relu, softmax):
        with pytest.raises(InputTypeError, match=r"^x .*numbers.*got NoneType None$"):
            f(None)
        with pytest.raises(InputTypeError, match=r"got ndarray array\(\['a', 'b'\]"):
            f(np.array(["a", "b"]))
    for x, shape in ((3.0, "()"), (np.empty((2, 0)), r"\(2, 0\)")):
        with pytest.raises(
            InputError, match=rf"^softmax needs at least one value along the last axis, got shape {shape}"
        ):
            softmax(x)
    # Booleans are numbers: NumPy would refuse to negate them.
    assert float(sigmoid(True)) == float(sigmoid(1.0)) and softmax(np.array([True, True])).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("fn", [step_function, sigmoid, sigmoid_grad, relu, softmax])
@pytest.mark.parametrize("x", [1j, np.array([1j]), np.array([1.0, 2.0 + 0j]), np.array([[0.5 + 1e-3j]])])
def test_activations_refuse_complex_numbers(fn, x):
    # sigmoid computes from |x| and x >= 0: sigmoid(1j) was 0.731, where the complex logistic function
    # is 0.5+0.273j; relu(1j) was 1j and step_function(1j) 1 (NumPy orders complex numbers by real part)
    from nnlearn.base.errors import InputTypeError

    name = "sigmoid" if fn is sigmoid_grad else fn.__name__
    with pytest.raises(InputTypeError, match=rf"^{name} takes real numbers, got complex128 .*np\.real\(x\)"):
        fn(x)
    assert identity_function(x) is x  # the identity takes anything and gives it back


@pytest.mark.parametrize(
    "x, rows",
    [
        (np.array([np.inf, 1.0]), None),
        (np.array([np.nan, 1.0]), None),
        (np.array([np.inf, np.inf]), None),
        (np.array([[np.inf, 1.0], [1.0, 2.0], [1.0, np.nan]]), 2),
    ],
)
def test_softmax_of_inf_or_nan_warns_and_gives_nan(x, rows):
    # softmax([inf, 1]) was [nan, nan] with NumPy's "invalid value encountered in subtract" at most
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = softmax(x)
    bad = "NaN" if np.isnan(x).any() else "inf"
    said = (
        f"softmax: x holds {bad}, so the result is NaN"
        if rows is None
        else f"softmax: {rows} of its 3 rows hold {bad}, so their results are NaN"
    )
    assert [str(w.message).split(" (inf - inf")[0] for w in caught] == [said]
    assert caught[0].category is RuntimeWarning and caught[0].filename == __file__  # the reader's line
    assert "lower the learning rate or check the input" in str(caught[0].message)
    finite = np.isfinite(x).all(axis=-1)
    assert np.isnan(out[~finite]).all() and np.isfinite(out[finite]).all()
    if rows:
        np.testing.assert_allclose(out[1], softmax(np.array([1.0, 2.0])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # -inf is a score of probability 0: no warning
        assert softmax(np.array([-np.inf, 1.0])).tolist() == [0.0, 1.0]
