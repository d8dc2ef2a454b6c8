import re
import warnings

import numpy as np
import pytest

from nnlearn import cross_entropy_error, mean_squared_error

T2 = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
Y2 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y7 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])


def test_book_values_exact():
    assert repr(mean_squared_error(Y2, T2)) == "0.09750000000000003"
    assert repr(cross_entropy_error(Y2, T2)) == "0.510825457099338"
    assert repr(mean_squared_error(Y7, T2)) == "0.5975"
    assert repr(cross_entropy_error(Y7, T2)) == "2.302584092994546"


def test_swapped_arguments_reproduce_the_write_up_and_warn():
    y = np.eye(7)[2]
    t = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0])
    with pytest.warns(UserWarning, match="look swapped"):
        assert repr(mean_squared_error(y, t)) == "0.09250000000000003"
    with pytest.warns(UserWarning, match="look swapped"):
        assert repr(cross_entropy_error(y, t)) == "4.835428635287499"


def test_no_swap_warning_for_correct_order_or_one_hot_both():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cross_entropy_error(Y2, T2)
        mean_squared_error(np.eye(3)[1], np.eye(3)[1])


def test_labels_soft_targets_and_batches():
    batch = np.stack([Y2, Y7])
    labels = np.array([2, 2])
    one_hot = np.stack([T2, T2])
    expected = (0.510825457099338 + 2.302584092994546) / 2
    assert cross_entropy_error(batch, labels) == pytest.approx(expected, rel=1e-15)
    assert cross_entropy_error(batch, one_hot) == pytest.approx(expected, rel=1e-15)
    assert cross_entropy_error(Y2, 2) == cross_entropy_error(Y2, T2)
    assert mean_squared_error(batch, labels) == pytest.approx((0.0975 + 0.5975) / 2, rel=1e-14)
    soft = np.full(10, 0.1)
    assert cross_entropy_error(Y2, soft) == pytest.approx(-np.sum(0.1 * np.log(Y2 + 1e-7)), rel=1e-15)


def test_batch_is_the_average_of_single_losses():
    rng = np.random.default_rng(0)
    y = rng.dirichlet(np.ones(5), size=8)
    t = rng.integers(0, 5, size=8)
    singles = [cross_entropy_error(y[i], t[i]) for i in range(8)]
    assert cross_entropy_error(y, t) == pytest.approx(np.mean(singles), rel=1e-14)
    singles = [mean_squared_error(y[i], t[i]) for i in range(8)]
    assert mean_squared_error(y, t) == pytest.approx(np.mean(singles), rel=1e-14)


@pytest.mark.parametrize("loss", [mean_squared_error, cross_entropy_error])
@pytest.mark.parametrize(
    "y, t, message",
    [
        (Y2, np.zeros(9), "shape mismatch"),
        (np.stack([Y2, Y2]), np.array([2, 10]), "out of range"),
        (np.stack([Y2, Y2]), np.array([2, -1]), "out of range"),
        (np.stack([Y2, Y2]), np.array([2.0, 1.5]), "non-integer"),
        (np.array([0.5, np.nan]), np.array([1, 0]), "NaN"),
        (np.array([0.5, np.inf]), np.array([1, 0]), "inf"),
        (np.array([0.5, 0.5]), np.array([1, np.nan]), "NaN"),
        (np.zeros((0, 10)), np.zeros(0, dtype=int), "empty"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2)), "1-D"),
        (np.array(["a", "b"]), np.array([1, 0]), "numeric"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(loss, y, t, message):
    with pytest.raises(ValueError, match=message):
        loss(y, t)


@pytest.mark.parametrize(
    "y, t, message",
    [
        # A NaN output is what a diverging training produces, so its fix names the learning rate too ...
        (np.array([0.5, np.nan]), 1, "y contains NaN; check the data or lower the learning rate"),
        # ... a NaN in the labels or targets is only ever the data's.
        (np.array([0.5, 0.5]), np.array([1, np.nan]), "t contains NaN; check the data"),
    ],
)
def test_a_nan_names_the_fix_that_fits_where_it_is(y, t, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        cross_entropy_error(y, t)


def test_simple_net_refuses_weights_that_are_not_finite():
    from nnlearn import SimpleNet

    with pytest.raises(ValueError, match="^W contains inf; pass finite weights$"):
        SimpleNet(W=np.full((2, 3), np.inf))


def test_cross_entropy_refuses_negative_probabilities():
    with pytest.raises(ValueError, match="softmax"):
        cross_entropy_error(np.array([-0.5, 1.5]), 1)


@pytest.mark.parametrize(
    "t, message",
    [
        # was 23.0: ten ones are no distribution over ten classes
        (
            np.ones(10),
            "t sums to 10, not 1; t must be probabilities -- give one-hot targets, distributions over the "
            "classes, or class labels",
        ),
        (np.full(10, 0.2), "t sums to 2, not 1; "),
        (-np.eye(10)[2], "t holds -1, outside [0, 1]; "),
    ],
)
def test_cross_entropy_refuses_a_target_that_is_no_distribution(t, message):
    from nnlearn import softmax
    from nnlearn.base.errors import InputError

    with pytest.raises(InputError) as e:
        cross_entropy_error(softmax(np.arange(10.0)), t)
    assert str(e.value).startswith(message)


def test_mean_squared_error_keeps_any_real_target():
    # Regression targets are no distributions; only the cross-entropy needs one.
    assert mean_squared_error(np.array([0.5, 1.5]), np.ones(2)) == 0.25
