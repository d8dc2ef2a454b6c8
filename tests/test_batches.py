"""Mini-batches: the book's sampling with replacement, epochs without, and the train/validation split."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlearn.base.constraints import MUST_BE, ShareOrCount
from nnlearn.base.errors import InputError
from nnlearn.base.i18n import _
from nnlearn.datasets import (
    iterate_minibatches,
    sample_batch,
    sample_batch_indices,
    train_validation_split,
    validation_count,
)


def test_sampling_is_generator_choice_with_replacement_and_reproducible():
    a = sample_batch_indices(60000, 100, seed=42)
    np.testing.assert_array_equal(a, sample_batch_indices(60000, 100, seed=42))
    np.testing.assert_array_equal(a, np.random.default_rng(42).choice(60000, 100, replace=True))
    assert not np.array_equal(a, sample_batch_indices(60000, 100, seed=43))
    assert a.shape == (100,) and a.min() >= 0 and a.max() < 60000
    # With replacement: drawing 50 of 10 must repeat indices, and may ask for more than there are.
    small = sample_batch_indices(10, 50, seed=0)
    assert len(np.unique(small)) <= 10 and small.shape == (50,)


def test_sampling_is_uniform():
    counts = np.bincount(sample_batch_indices(10, 100000, seed=7), minlength=10)
    # 100000 draws over 10 classes: each count is 10000 +- 4 standard deviations (~95).
    assert np.all(np.abs(counts - 10000) < 380), counts


def test_one_generator_gives_successive_different_batches():
    rng = np.random.default_rng(3)
    x = np.arange(1000).reshape(500, 2)
    t = np.arange(500)
    (x1, t1), (x2, t2) = sample_batch(x, t, 10, seed=rng), sample_batch(x, t, 10, seed=rng)
    assert not np.array_equal(t1, t2)
    np.testing.assert_array_equal(x1[:, 0], 2 * t1)  # rows stay paired
    np.testing.assert_array_equal(x2[:, 0], 2 * t2)
    again = np.random.default_rng(3)
    np.testing.assert_array_equal(sample_batch(x, t, 10, seed=again)[1], t1)


def test_epoch_visits_every_sample_once_keeping_or_dropping_the_last_batch():
    x = np.arange(10) * 3
    t = np.arange(10)
    kept = list(iterate_minibatches(x, t, 4, seed=1))
    assert [len(tb) for _, tb in kept] == [4, 4, 2]
    order = np.concatenate([tb for _, tb in kept])
    assert sorted(order.tolist()) == list(range(10)) and order.tolist() != list(range(10))
    for xb, tb in kept:
        np.testing.assert_array_equal(xb, 3 * tb)
    dropped = list(iterate_minibatches(x, t, 4, drop_last=True, seed=1))
    assert [len(tb) for _, tb in dropped] == [4, 4]
    np.testing.assert_array_equal(np.concatenate([tb for _, tb in dropped]), order[:8])
    in_order = [tb.tolist() for _, tb in iterate_minibatches(x, t, 5, shuffle=False)]
    assert in_order == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert list(iterate_minibatches(x, t, 20, drop_last=True)) == []


@settings(max_examples=50, deadline=None, database=None)  # database=None: nothing written into the checkout
@given(st.integers(1, 60), st.integers(1, 70), st.booleans(), st.integers(0, 2**32 - 1))
def test_epoch_property(n, batch_size, drop_last, seed):
    t = np.arange(n)
    batches = [tb for _, tb in iterate_minibatches(t, t, batch_size, drop_last=drop_last, seed=seed)]
    seen = np.concatenate(batches) if batches else np.array([], dtype=int)
    assert len(np.unique(seen)) == len(seen)
    assert len(seen) == (n - n % batch_size if drop_last else n)
    assert all(len(b) == batch_size for b in batches[:-1])


def test_split_is_disjoint_complete_and_paired():
    x = np.arange(100) * 2
    t = np.arange(100)
    (xa, ta), (xv, tv) = train_validation_split(x, t, 0.2, seed=0)
    assert len(ta) == 80 and len(tv) == 20
    assert sorted(np.concatenate([ta, tv]).tolist()) == list(range(100))
    np.testing.assert_array_equal(xa, 2 * ta)
    np.testing.assert_array_equal(xv, 2 * tv)
    assert tv.tolist() != list(range(80, 100))  # shuffled
    (_, ta2), (_, tv2) = train_validation_split(x, t, 0.2, seed=0)
    np.testing.assert_array_equal(tv, tv2)
    (_, ta3), (_, tv3) = train_validation_split(x, t, 7, shuffle=False)
    assert tv3.tolist() == list(range(93, 100)) and len(ta3) == 93


def test_validation_count_is_the_one_rule_share_or_count():
    assert validation_count(0.1, 60000) == 6000
    assert validation_count(1 / 6, 60000) == 10000
    assert validation_count(np.float32(0.25), 8) == 2
    assert validation_count(10000, 60000) == 10000 and validation_count(np.int64(3), 4) == 3
    assert validation_count(0.5, 5) == 2  # round(2.5): Python's round, half to even
    assert validation_count(0.7, 5) == 4  # round(3.5)
    assert validation_count(1, 2) == 1


@pytest.mark.parametrize(
    "bad, what",
    [
        (100, "holds back 100 of the 100 samples, leaving none for training"),
        (101, "holds back 101 of the 100 samples, leaving none for training"),
        (0.001, "holds back 0 of the 100 samples, leaving none for validation"),
        (0.999, "holds back 100 of the 100 samples, leaving none for training"),
    ],
)
def test_split_refuses_a_validation_size_leaving_a_part_empty(bad, what):
    message = (
        f"validation={bad!r} {what}; give a share in (0, 1), such as 0.1, or a whole number of samples from 1 to 99"
    )
    with pytest.raises(InputError) as info:
        validation_count(bad, 100)
    assert str(info.value) == message
    with pytest.raises(InputError) as info:
        train_validation_split(np.arange(100), np.arange(100), bad)
    assert str(info.value) == message


@pytest.mark.parametrize("bad", [0, -3, 1.0, 0.0, -0.1, float("nan"), True, "0.1", None])
def test_split_refuses_what_is_not_a_share_or_a_count_in_the_settings_words(bad):
    # The rule of the training setting `validation` (constraints.ShareOrCount), said the same way.
    for call in (
        lambda: validation_count(bad, 100),
        lambda: train_validation_split(np.arange(100), np.arange(100), bad),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value) == _(MUST_BE, name="validation", what=ShareOrCount().what_said(), value=bad)


def test_too_few_samples_to_split_says_so():
    with pytest.raises(
        InputError,
        match=r"^validation=1 holds back 1 of the 1 samples, leaving none for training; 1 sample cannot be split; "
        r"use more data or no validation part$",
    ):
        validation_count(1, 1)


def test_clear_errors_for_bad_arguments():
    x, t = np.zeros((5, 2)), np.zeros(4)
    with pytest.raises(InputError, match="x has 5 samples but t has 4"):
        sample_batch(x, t, 2)
    with pytest.raises(InputError, match="x has 5 samples but t has 4"):
        next(iterate_minibatches(x, t, 2))
    with pytest.raises(InputError, match="x and t must be arrays with one row per sample, got a scalar"):
        train_validation_split(3.0, 4.0)
    with pytest.raises(
        InputError,
        match=r"batch_size must be a whole number from 1 to 1,000,000, got 0; the book "
        r"uses 100",
    ):
        sample_batch_indices(10, 0)
    with pytest.raises(InputError, match=r"batch_size must be a whole number from 1 to 1,000,000, got 2.5"):
        next(iterate_minibatches(np.zeros(5), np.zeros(5), 2.5))
    with pytest.raises(InputError, match="train_size must be a whole number >= 1"):
        sample_batch_indices(0, 3)
    with pytest.raises(InputError, match=r"seed must be a whole number >= 0 \(or None for a fresh one\), got 1.5"):
        sample_batch_indices(10, 3, seed=1.5)
