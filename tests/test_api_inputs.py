"""Mistakes at the Python API end in one-line errors that are also NnlearnError, never in a wrong number."""

import math

import numpy as np
import pytest

from nnlearn import cross_entropy_error, gradient_descent, mean_squared_error, numerical_diff, numerical_gradient
from nnlearn.base.errors import InputError, InputTypeError, NnlearnError

Y2 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])


def test_the_two_error_classes_are_value_and_type_errors_of_nnlearn():
    assert issubclass(InputError, NnlearnError) and issubclass(InputError, ValueError)
    assert issubclass(InputTypeError, NnlearnError) and issubclass(InputTypeError, TypeError)


def test_scores_are_not_probabilities():
    # Old code: -log(3 + 1e-7) = -1.0986..., a negative loss.
    with pytest.raises(InputError) as e:
        cross_entropy_error([3, 5, 7], 0)
    assert str(e.value) == "y holds 7, outside [0, 1]; y must be probabilities -- apply softmax first"


def test_rows_must_sum_to_one_within_a_hundredth():
    with pytest.raises(InputError) as e:
        cross_entropy_error(np.array([[0.2, 0.3], [0.5, 0.4]]), [0, 1])
    assert str(e.value) == "row 0 of y sums to 0.5, not 1; y must be probabilities -- apply softmax first"
    # Two-decimal probabilities and float32 softmax outputs pass.
    assert cross_entropy_error([0.33, 0.33, 0.33], 0) == pytest.approx(-math.log(0.33 + 1e-7), rel=1e-15)
    y32 = np.full((3, 7), 1 / 7, dtype=np.float32)
    assert cross_entropy_error(y32, [0, 1, 2]) == pytest.approx(math.log(7), rel=1e-6)


@pytest.mark.parametrize("loss", [mean_squared_error, cross_entropy_error])
@pytest.mark.parametrize("t", [True, np.array([True, False]), [False, True]])
def test_booleans_are_not_class_labels(loss, t):
    y = np.array([[0.5, 0.5], [0.25, 0.75]]) if np.ndim(t) else np.array([0.5, 0.5])
    with pytest.raises(InputTypeError, match=r"^t holds booleans \(True/False\), which would be read as classes 1/0;"):
        loss(y, t)


@pytest.mark.parametrize(
    "step_num, error, message",
    [
        (-1, InputError, "step_num must be a whole number >= 0, got -1"),
        (2.5, InputError, "step_num must be a whole number >= 0, got 2.5"),
        (True, InputError, "step_num must be a whole number >= 0, got True"),
    ],
)
def test_gradient_descent_refuses_a_step_count_that_does_nothing(step_num, error, message):
    with pytest.raises(error) as e:
        gradient_descent(lambda x: x @ x, np.array([-3.0, 4.0]), lr=0.1, step_num=step_num)
    assert str(e.value) == message


def test_gradient_descent_zero_steps_and_bad_learning_rate():
    x = gradient_descent(lambda x: x @ x, [-3.0, 4.0], lr=0.1, step_num=0)
    assert x.tolist() == [-3.0, 4.0]
    with pytest.raises(ValueError, match=r"^lr must be a number > 0, got nan; the book uses 0.1 with SGD$"):
        gradient_descent(lambda x: x @ x, [-3.0, 4.0], lr=float("nan"))


def test_numerical_diff_refuses_a_string_point():
    with pytest.raises(InputTypeError) as e:
        numerical_diff(lambda x: x * x, "5")
    assert str(e.value) == "x must be a real number or an array of real numbers, got str '5'"
    with pytest.raises(InputError, match=r"^x must be finite, got nan$"):
        numerical_diff(lambda x: x * x, math.nan)
    with pytest.raises(InputTypeError, match=r"^f must be a function of one variable, got str 'x\*\*2'$"):
        numerical_diff("x**2", 5.0)


def none_f(x):
    return None


def test_f_returning_none_or_complex_is_named():
    with pytest.raises(InputTypeError) as e:
        numerical_diff(none_f, 5.0)
    assert str(e.value) == "f (none_f) returned None at x=5.0001; it must return a real number"
    with pytest.raises(InputTypeError, match=r"^f \(<lambda>\) returned the complex number \(1\+0j\) at x=4\.9999"):
        numerical_diff(lambda x: 1 + 0j if x < 5 else 1.0, 5.0, method="backward")
    with pytest.raises(InputTypeError) as e:
        numerical_gradient(lambda x: complex(x[0], 1), np.array([1.0, 2.0]))
    assert str(e.value).startswith(
        "f (<lambda>) returned the complex number (1.0001+1j) at x='x with x[0] stepped'; it must return a real number"
    )
    with pytest.raises(InputTypeError, match=r"^f \(none_f\) returned None at x='x with x\[0\] stepped'"):
        gradient_descent(none_f, np.array([1.0]))


def test_a_list_of_points_works_for_a_vectorised_f():
    assert numerical_diff(lambda x: x**2, [1.0, 2.0]).tolist() == pytest.approx([2.0, 4.0], rel=1e-8)
